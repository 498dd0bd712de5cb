//! The runs of the hook script for one DHCPv6 transition, as dhclient -6 makes them: one run
//! per address and per delegated prefix ([`crate::v6::hookenv::bound_sides`] and
//! [`crate::v6::hookenv::unconfigure_sides`]), each with the environment
//! [`crate::v6::hookenv`] builds. The transition is the core's word; this only spells it as
//! dhclient-script's reason (INFORM6 as RENEW6, which is what dhclient says for a stateless
//! reply and the only word of the two Debian's script acts on).

use crate::leasefile::acquired_unix;
use crate::shell::clock;
use crate::shell::hooks::Run;
use crate::shell::store::unix_now;
use crate::v6::core::Transition6;
use crate::v6::hookenv::{self, Event6Env, Reason6, Side};
use crate::v6::{Holdings, Lease6};
use tracing::warn;

/// What every run of one interface's script is told besides the lease.
#[derive(Debug, Clone)]
pub struct Told {
    pub interface: String,
    pub dad_wait_time: u32,
    pub address_prefix_len: u8,
    pub client_duid: Vec<u8>,
    /// The options asked for (option 6).
    pub requested: Vec<u16>,
}

/// dhclient-script's reason for a transition.
pub fn reason(t: Transition6) -> Reason6 {
    match t {
        Transition6::Preinit6 => Reason6::Preinit6,
        Transition6::Bound6 => Reason6::Bound6,
        Transition6::Renew6 | Transition6::Inform6 => Reason6::Renew6,
        Transition6::Rebind6 => Reason6::Rebind6,
        Transition6::Depref6 => Reason6::Depref6,
        Transition6::Expire6 => Reason6::Expire6,
        Transition6::Release6 => Reason6::Release6,
        Transition6::Stop6 => Reason6::Stop6,
    }
}

/// The Unix time `lease` began.
fn starts(lease: &Lease6) -> u64 {
    acquired_unix(lease.start, clock::now(), unix_now())
}

/// The runs of `transition`, the interface now holding `new` (for DEPREF6: the addresses and
/// prefixes deprecated) after `old`.
pub fn runs(
    told: &Told,
    transition: Transition6,
    new: Option<&Lease6>,
    old: Option<&Lease6>,
) -> Vec<Run> {
    let reason = reason(transition);
    let new_starts = new.map(starts);
    let old_starts = old.map(starts);
    let pairs: Vec<(Option<Side<'_>>, Option<Side<'_>>)> = match (reason, new, old) {
        (Reason6::Preinit6, _, _) => vec![(None, None)],
        (Reason6::Bound6 | Reason6::Renew6 | Reason6::Rebind6 | Reason6::Depref6, Some(n), _) => {
            let o = old.zip(old_starts);
            hookenv::bound_sides(n, new_starts.unwrap_or(0), o)
                .into_iter()
                .map(|(n, o)| (Some(n), o))
                .collect()
        }
        // Some addresses or prefixes ran out, the rest stay: a run for each that went.
        (Reason6::Expire6, Some(n), Some(o)) => {
            hookenv::unconfigure_sides(o, old_starts.unwrap_or(0))
                .into_iter()
                .filter(|s| !still_held(s, n))
                .map(|s| (None, Some(s)))
                .collect()
        }
        (_, _, Some(o)) => hookenv::unconfigure_sides(o, old_starts.unwrap_or(0))
            .into_iter()
            .map(|s| (None, Some(s)))
            .collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .map(|(new, old)| {
            let ev = Event6Env {
                reason,
                interface: &told.interface,
                pid: std::process::id(),
                dad_wait_time: told.dad_wait_time,
                address_prefix_len: told.address_prefix_len,
                client_duid: &told.client_duid,
                requested: &told.requested,
                new,
                old,
            };
            let (env, withheld) = hookenv::environment(&ev);
            for w in withheld {
                warn!(
                    "{}: {} withheld from the script: {}",
                    told.interface, w.name, w.why
                );
            }
            Run::Ready {
                reason: reason.as_str(),
                env,
            }
        })
        .collect()
}

/// Whether the address or prefix of `side` is still in `lease`.
fn still_held(side: &Side<'_>, lease: &Lease6) -> bool {
    let (Some(i), Some(k)) = (side.ia, side.item) else {
        return false;
    };
    let Some(ia) = side.lease.ias.get(i) else {
        return false;
    };
    match &ia.holdings {
        Holdings::Addresses(a) => a
            .get(k)
            .is_some_and(|a| crate::shell::apply6::addresses(lease).any(|n| n.addr == a.addr)),
        Holdings::Prefixes(p) => p.get(k).is_some_and(|p| {
            crate::shell::apply6::prefixes(lease).any(|n| n.prefix == p.prefix && n.len == p.len)
        }),
    }
}
