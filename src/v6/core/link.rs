//! The link: carrier lost and back, and a saved lease at start. A lease held when the link
//! may have changed is checked (RFC 8415 18.2.12): by CONFIRM when it holds addresses only
//! (18.2.3), by REBIND with CONFIRM's timing when it holds prefixes. NotOnLink starts over;
//! any other answer, or none within CNF_MAX_RD, keeps the lease.

use super::lease::{self, is_pd};
use super::retrans::{self, Exchange};
use super::state::{Check, State6};
use super::{message, Action6, Client6, Reason6, Transition6};
use crate::time::Instant;
use crate::v6::{Kind6, Lease6, Reply6, StatusCode};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::info;

impl Client6 {
    /// Carrier went or came back. Gone: the lease stays (nothing is sent meanwhile). Back:
    /// whatever the kernel dropped is put back, the lease is checked, an exchange that was
    /// under way starts afresh.
    pub(super) fn link(&mut self, now: Instant, carrier: bool, out: &mut Vec<Action6>) {
        if carrier == self.carrier {
            return;
        }
        self.carrier = carrier;
        if !carrier {
            return info!("carrier lost; keeping what is held meanwhile");
        }
        let delay = self.delay(self.config.max_delay);
        match &self.state {
            State6::Bound
            | State6::Renewing { .. }
            | State6::Rebinding { .. }
            | State6::Confirming {
                why: Check::Carrier,
                ..
            } => {
                if let Some(lease) = &self.held {
                    out.push(Action6::Reapply {
                        lease: lease.clone(),
                        transition: Transition6::Bound6,
                    });
                }
                info!("carrier up: checking the lease is still good here");
                self.check(now, Check::Carrier, out);
            }
            State6::Confirming { why, .. } => {
                let why = *why;
                self.check(now, why, out)
            }
            State6::Soliciting { .. } | State6::Requesting { .. } => {
                info!("carrier up: soliciting");
                self.solicit(now, delay, out);
            }
            State6::Informing { .. } | State6::Informed => {
                info!("carrier up: asking for the configuration again");
                self.inform(now, delay, out);
            }
            State6::Idle
            | State6::Declining { .. }
            | State6::Releasing { .. }
            | State6::Stopped => {
                info!("carrier up")
            }
        }
    }

    /// Checks the lease held: CONFIRM (addresses only) or REBIND (with prefixes), by
    /// CONFIRM's timing, the first after CNF_MAX_DELAY at most.
    fn check(&mut self, now: Instant, why: Check, out: &mut Vec<Action6>) {
        let xid = self.xid();
        let Some(lease) = &self.held else {
            return self.solicit(now, Duration::ZERO, out);
        };
        let msg = if lease.ias.iter().any(is_pd) {
            message::renew(&self.config, xid, lease, true)
        } else {
            message::confirm(xid, lease)
        };
        let x = Exchange::new(msg, retrans::CONFIRM, None);
        let delay = self.delay(self.config.max_delay);
        self.begin(now, State6::Confirming { x, why }, delay, out);
    }

    /// A saved lease at start: what is left of it is taken as held (an earlier run may have
    /// left it on the interface) and checked; run out, it is taken off and a SOLICIT starts.
    pub(super) fn confirm_saved(&mut self, now: Instant, saved: Lease6, out: &mut Vec<Action6>) {
        let (rest, _) = lease::unexpired(&saved, now);
        match rest.filter(|l| !l.ias.is_empty()) {
            Some(rest) => {
                info!("confirming the saved lease");
                self.held = Some(rest);
                self.set_lease_timers(now);
                self.check(now, Check::Saved, out);
            }
            None => {
                info!("the saved lease has run out");
                self.held = Some(saved);
                self.deconfigure(now, Reason6::Expired, out);
                let delay = self.delay(self.config.max_delay);
                self.solicit(now, delay, out);
            }
        }
    }

    /// A REPLY to our CONFIRM, or to the REBIND that checks the link.
    pub(super) fn confirmed(
        &mut self,
        now: Instant,
        r: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        why: Check,
        out: &mut Vec<Action6>,
    ) {
        let by_rebind =
            matches!(&self.state, State6::Confirming { x, .. } if x.msg.kind == Kind6::Rebind);
        if by_rebind {
            let transition = match why {
                Check::Saved => Transition6::Bound6,
                Check::Carrier => Transition6::Rebind6,
            };
            return self.extended(now, r, from, started, transition, out);
        }
        if r.status.code == StatusCode::NotOnLink {
            info!("{from}: the lease is not for this link; starting over");
            self.deconfigure(now, Reason6::NotOnLink, out);
            return self.solicit(now, Duration::ZERO, out);
        }
        info!("{from} confirms the lease ({:?})", r.status.code);
        self.keep(now, why, out);
    }

    /// No answer to the check within CNF_MAX_RD: the lease is kept (RFC 8415 18.2.3).
    pub(super) fn confirm_unanswered(&mut self, now: Instant, why: Check, out: &mut Vec<Action6>) {
        info!("no answer to the check of the lease: keeping it");
        self.keep(now, why, out);
    }

    /// The lease checked is kept: a saved one is configured (BOUND6, as dhclient does), and
    /// a T1 or T2 that passed meanwhile starts its exchange.
    fn keep(&mut self, now: Instant, why: Check, out: &mut Vec<Action6>) {
        if let (Check::Saved, Some(lease)) = (why, self.held.clone()) {
            if !self.configure(now, lease, Transition6::Bound6, out) {
                self.deconfigure(now, Reason6::Expired, out);
                return self.solicit(now, Duration::ZERO, out);
            }
        }
        self.settle(now, true, out);
    }
}
