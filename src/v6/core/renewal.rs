//! Keeping a lease: RENEW at T1 to its server (RFC 8415 18.2.4), REBIND at T2 to any
//! (18.2.5), the REPLY that extends it (18.2.10.1); DEPREF6 as preferred lifetimes pass, and
//! expiry as valid ones do, each address and prefix on its own: what runs out goes (EXPIRE6,
//! the rest staying), and when nothing is left the lease is over and a SOLICIT starts.

use super::lease::{self, judge, schedule};
use super::retrans::{self, Exchange};
use super::state::State6;
use super::{message, Action6, Client6, Reason6, Timer6, Transition6};
use crate::time::Instant;
use crate::v6::{Reply6, StatusCode};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::{debug, info};

impl Client6 {
    /// T1 (or a renewal asked for): RENEW to the lease's server until T2 (its MRD).
    pub(super) fn enter_renewing(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let xid = self.xid();
        let Some(lease) = &self.held else {
            return;
        };
        let s = schedule(lease);
        let msg = message::renew(&self.config, xid, lease, false);
        info!("renewing with the server of the lease");
        let x = Exchange::new(msg, retrans::RENEW, s.rebind.or(s.end));
        self.begin(now, State6::Renewing { x }, Duration::ZERO, out);
    }

    /// T2: REBIND to any server until the last valid lifetime ends (its MRD).
    pub(super) fn enter_rebinding(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let xid = self.xid();
        let Some(lease) = &self.held else {
            return;
        };
        let end = schedule(lease).end;
        let msg = message::renew(&self.config, xid, lease, true);
        info!("rebinding: the server of the lease did not answer");
        let x = Exchange::new(msg, retrans::REBIND, end);
        self.begin(now, State6::Rebinding { x }, Duration::ZERO, out);
    }

    /// A REPLY to our RENEW or REBIND.
    pub(super) fn renewed(
        &mut self,
        now: Instant,
        r: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        out: &mut Vec<Action6>,
    ) {
        let transition = match self.state {
            State6::Rebinding { .. } => Transition6::Rebind6,
            _ => Transition6::Renew6,
        };
        self.extended(now, r, from, started, transition, out);
    }

    /// A REPLY that extends the lease (to a RENEW, a REBIND, or a REBIND that checks the
    /// link), named `transition` when it does (RFC 8415 18.2.10, 18.2.10.1): NotOnLink
    /// starts over; UnspecFail, UseMulticast or a REPLY that renews nothing is let be (the
    /// exchange retransmits); an IA NoBinding is asked for with a REQUEST; otherwise what it
    /// renewed is merged into the lease.
    pub(super) fn extended(
        &mut self,
        now: Instant,
        r: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        transition: Transition6,
        out: &mut Vec<Action6>,
    ) {
        let Some(held) = &self.held else {
            return;
        };
        match r.status.code {
            StatusCode::Success => {}
            StatusCode::NotOnLink => {
                info!("{from} says the lease is not for this link: starting over");
                self.deconfigure(now, Reason6::NotOnLink, out);
                return self.solicit(now, Duration::ZERO, out);
            }
            _ => return debug!("REPLY from {from}: {:?}; retransmitting", r.status),
        }
        let judged = judge(&self.config, r);
        let renews = lease::renews(r, &judged);
        let merged = lease::merge(held, r, from, &judged, started);
        if merged.no_binding {
            info!("{from} has no binding for an IA: requesting it");
            if !merged.lease.ias.is_empty() {
                self.configure(now, merged.lease, transition, out);
            }
            return self.request_binding(now, out);
        }
        if !renews {
            return debug!("REPLY from {from} renews nothing; retransmitting");
        }
        if !self.configure(now, merged.lease, transition, out) {
            info!("nothing is left of the lease: {from} withdrew it, or it ran out");
            self.deconfigure(now, Reason6::Expired, out);
            return self.solicit(now, Duration::ZERO, out);
        }
        self.settle(now, true, out);
    }

    /// [`Timer6::Expire`]: what ran out goes. Nothing left: the lease is over, and unless an
    /// exchange of its own is under way (SOLICIT, REQUEST, DECLINE) a SOLICIT starts.
    pub(super) fn expire(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let Some(held) = &self.held else {
            return;
        };
        let (rest, gone) = lease::unexpired(held, now);
        if !gone {
            return self.set_lease_timers(now);
        }
        match rest {
            Some(rest) => {
                info!("part of the lease expired; the rest stays");
                self.configure(now, rest, Transition6::Expire6, out);
                self.set_lease_timers(now);
            }
            None => {
                info!("lease expired");
                self.deconfigure(now, Reason6::Expired, out);
                let own = matches!(
                    self.state,
                    State6::Soliciting { .. }
                        | State6::Requesting { .. }
                        | State6::Declining { .. }
                        | State6::Releasing { .. }
                );
                if !own {
                    self.solicit(now, Duration::ZERO, out);
                }
            }
        }
    }

    /// [`Timer6::Depref`]: DEPREF6 for what reached the end of its preferred lifetime.
    pub(super) fn depref(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let Some(held) = &self.held else {
            return;
        };
        let part = lease::depreferred(held, self.depref_mark, now);
        self.depref_mark = Some(now);
        let next = lease::next_depref(held, self.depref_mark);
        self.timers.set_or_stop(Timer6::Depref, next);
        if let Some(part) = part {
            info!("preferred lifetime passed: deprecated");
            out.push(Action6::Notify {
                transition: Transition6::Depref6,
                lease: Some(part),
            });
        }
    }
}
