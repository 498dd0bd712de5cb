//! A duplicate address (the kernel's IFA_F_DADFAILED): it is taken off at once, the rest of
//! the lease staying, and declined to the server that leased it (RFC 8415 18.2.8: DECLINE,
//! retransmitted up to DEC_MAX_RC times). Once the server answered (or not), an IA_NA left
//! with no address is asked for again with a new SOLICIT.

use super::config::Mode6;
use super::lease::is_pd;
use super::retrans::{self, Exchange};
use super::state::State6;
use super::{message, Action6, Client6, Reason6, Transition6};
use crate::time::Instant;
use crate::v6::{Holdings, Ia, IaAddr};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::{debug, info};

/// `ias` with `addr` (of IA_NA `iaid`) added, in its IA.
fn with_declined(mut ias: Vec<Ia>, iaid: u32, addr: IaAddr) -> Vec<Ia> {
    match ias.iter_mut().find(|ia| !is_pd(ia) && ia.iaid == iaid) {
        Some(Ia {
            holdings: Holdings::Addresses(v),
            ..
        }) => {
            if !v.iter().any(|a| a.addr == addr.addr) {
                v.push(addr);
            }
        }
        _ => ias.push(Ia {
            iaid,
            t1: 0,
            t2: 0,
            status: crate::v6::StatusCode::Success,
            holdings: Holdings::Addresses(vec![addr]),
        }),
    }
    ias
}

impl Client6 {
    /// [`super::Event6::DadFailed`]: an address of ours is in use on the link.
    pub(super) fn dad_failed(&mut self, now: Instant, addr: Ipv6Addr, out: &mut Vec<Action6>) {
        if matches!(self.state, State6::Releasing { .. } | State6::Idle) {
            return debug!("DAD failed for {addr}: no lease in use");
        }
        let Some(lease) = &self.held else {
            return debug!("DAD failed for {addr}: not an address of ours");
        };
        let found = lease.ias.iter().find_map(|ia| match &ia.holdings {
            Holdings::Addresses(v) => v.iter().find(|a| a.addr == addr).map(|a| (ia.iaid, *a)),
            Holdings::Prefixes(_) => None,
        });
        let Some((iaid, held_addr)) = found else {
            return debug!("DAD failed for {addr}: not an address of ours");
        };
        info!("{addr} is in use on the link (DAD failed): declining it");
        let server_id = lease.server_id.clone();
        let mut rest = lease.clone();
        for ia in &mut rest.ias {
            if let Holdings::Addresses(v) = &mut ia.holdings {
                v.retain(|a| a.addr != addr);
            }
        }
        rest.ias
            .retain(|ia| !super::lease::lifetimes(ia).is_empty());
        if rest.ias.is_empty() {
            self.deconfigure(now, Reason6::Declined, out);
        } else {
            self.configure(now, rest, Transition6::Expire6, out);
            self.set_lease_timers(now);
        }
        let before = match &self.state {
            State6::Declining { x } if x.msg.server_id.as_deref() == Some(&server_id[..]) => {
                x.msg.ias.clone()
            }
            _ => Vec::new(),
        };
        let ias = with_declined(before, iaid, held_addr);
        let xid = self.xid();
        let msg = message::decline(xid, &server_id, &ias);
        let x = Exchange::new(msg, retrans::DECLINE, None);
        self.begin(now, State6::Declining { x }, Duration::ZERO, out);
    }

    /// The DECLINE was answered, or reached DEC_MAX_RC: an IA_NA asked for that holds no
    /// address now is asked for again (a SOLICIT, after the refusal wait: the server may
    /// offer the same address again); otherwise the lease goes on.
    pub(super) fn declined(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let Mode6::Stateful { na, .. } = &self.config.mode else {
            return;
        };
        let missing = na.iter().any(|iaid| {
            !self
                .held
                .as_ref()
                .is_some_and(|l| l.ias.iter().any(|ia| !is_pd(ia) && ia.iaid == *iaid))
        });
        if missing {
            self.solicit_later(now, out);
        } else {
            self.settle(now, true, out);
        }
    }
}
