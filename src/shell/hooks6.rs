//! The runs of the hook script for one DHCPv6 transition, as dhclient -6 makes them: one run
//! per address and per delegated prefix ([`crate::v6::hookenv::bound_sides`] and
//! [`crate::v6::hookenv::unconfigure_sides`]), each with the environment
//! [`crate::v6::hookenv`] builds. The transition is the core's word, spelt as
//! dhclient-script's reason by [`crate::v6::hookenv`] (INFORM6 as RENEW6, as dhclient says).

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
    let reason = Reason6::from(transition);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v6::{Ia, IaAddr, StatusCode};
    use std::net::Ipv6Addr;

    fn lease(addrs: &[u16]) -> Lease6 {
        let a = addrs
            .iter()
            .map(|&n| IaAddr {
                addr: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, n),
                preferred: 300,
                valid: 600,
            })
            .collect();
        Lease6 {
            server_id: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1],
            server_addr: None,
            ias: vec![Ia {
                iaid: 1,
                t1: 0,
                t2: 0,
                status: StatusCode::Success,
                holdings: Holdings::Addresses(a),
            }],
            dns: Vec::new(),
            search: Vec::new(),
            ntp: Vec::new(),
            sntp: Vec::new(),
            info_refresh: None,
            options: Vec::new(),
            start: clock::now(),
        }
    }

    fn told() -> Told {
        Told {
            interface: "vc".into(),
            dad_wait_time: 0,
            address_prefix_len: 128,
            client_duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 0x61],
            requested: vec![23, 24],
        }
    }

    /// Each run's reason and the addresses it names as `new_` and `old_`.
    fn said(runs: &[Run]) -> Vec<(&'static str, Option<String>, Option<String>)> {
        runs.iter()
            .map(|r| {
                let Run::Ready { reason, env } = r else {
                    panic!("a DHCPv6 run is made ready")
                };
                let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                (*reason, get("new_ip6_address"), get("old_ip6_address"))
            })
            .collect()
    }

    /// dhclient runs the script once per address: BOUND6 for each; an EXPIRE6 while others
    /// stay only for those that went (old_); RELEASE6 for each held; a stateless reply is
    /// RENEW6.
    #[test]
    fn one_run_per_address_as_dhclient_makes_them() {
        let (both, one) = (lease(&[0x100, 0x101]), lease(&[0x101]));
        let a = |n: &str| Some(format!("2001:db8:1::{n}"));
        assert_eq!(
            said(&runs(&told(), Transition6::Bound6, Some(&both), None)),
            [("BOUND6", a("100"), None), ("BOUND6", a("101"), None)]
        );
        assert_eq!(
            said(&runs(
                &told(),
                Transition6::Expire6,
                Some(&one),
                Some(&both)
            )),
            [("EXPIRE6", None, a("100"))]
        );
        assert_eq!(
            said(&runs(&told(), Transition6::Release6, None, Some(&both))),
            [("RELEASE6", None, a("100")), ("RELEASE6", None, a("101"))]
        );
        let mut options = lease(&[]);
        options.ias.clear();
        assert_eq!(
            said(&runs(&told(), Transition6::Inform6, Some(&options), None)),
            [("RENEW6", None, None)]
        );
    }
}
