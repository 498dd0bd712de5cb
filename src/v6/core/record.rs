//! The record of what the interface holds, and the one place each whole transition is
//! emitted; entering a state, running its exchange, and setting the lease's timers.

use super::lease::{self, schedule};
use super::retrans::Step;
use super::state::State6;
use super::{Action6, Client6, Reason6, Timer6, Transition6};
use crate::time::Instant;
use crate::v6::{Kind6, Lease6};
use std::time::Duration;
use tracing::{info, warn};

impl Client6 {
    /// The interface is to hold `lease`, replacing what it holds: the one place a Configure
    /// is emitted. The lease is saved with it. Whatever the rules refuse is taken out first
    /// (nothing should be: the lease was built from judged IAs), and so is what has run out
    /// by `now` (a REPLY that came late); a stateful lease left with nothing is not
    /// configured (false).
    pub(super) fn configure(
        &mut self,
        now: Instant,
        lease: Lease6,
        transition: Transition6,
        out: &mut Vec<Action6>,
    ) -> bool {
        let before = lease.ias.len();
        let lease = lease::cleaned(lease);
        if lease.ias.len() != before {
            warn!("refusing to configure an address or prefix that is not a usable unicast one");
        }
        let Some(lease) = lease::unexpired(&lease, now).0 else {
            info!("what the lease holds has run out already: not configured");
            return false;
        };
        if lease.ias.is_empty() && !self.config.is_stateless() {
            warn!("a lease with no address and no prefix left is not configured");
            return false;
        }
        if self.held.as_ref().map(|h| h.start) != Some(lease.start) {
            self.depref_mark = None;
        }
        out.push(Action6::Configure {
            lease: lease.clone(),
            previous: self.held.replace(lease.clone()),
            transition,
        });
        out.push(Action6::SaveLease(lease));
        self.tally = Default::default();
        self.refusals = 0;
        self.timers.stop(Timer6::AcquireTimeout);
        true
    }

    /// The interface is to hold nothing of ours: the one place a Deconfigure is emitted. The
    /// saved lease goes with it (but when the interface was removed: should it come back,
    /// the lease is confirmed again), and so do the lease's timers. Losing a lease sets the
    /// acquire timeout again.
    pub(super) fn deconfigure(&mut self, now: Instant, reason: Reason6, out: &mut Vec<Action6>) {
        if let Some(lease) = self.held.take() {
            out.push(Action6::Deconfigure {
                lease,
                reason,
                transition: reason.transition(),
            });
            if reason != Reason6::Gone {
                out.push(Action6::ForgetLease);
            }
            let ends = matches!(reason, Reason6::Released | Reason6::Gone);
            if let (Some(wait), false) = (self.config.acquire_timeout, ends) {
                self.timers.set(Timer6::AcquireTimeout, now + wait);
            }
        }
        self.set_lease_timers(now);
    }

    /// Enters `state`, whose own step (the exchange's next message) is due at `step`.
    pub(super) fn goto(&mut self, state: State6, step: Option<Instant>) {
        self.timers.set_or_stop(Timer6::Retransmit, step);
        self.state = state;
    }

    /// Enters `state`, whose exchange has not sent yet: its first message goes out now, or
    /// after `delay` (RFC 8415 18.2.1, 18.2.6: the first on a link waits a random time).
    pub(super) fn begin(
        &mut self,
        now: Instant,
        state: State6,
        delay: Duration,
        out: &mut Vec<Action6>,
    ) {
        self.goto(state, Some(now + delay));
        if delay.is_zero() {
            self.timers.stop(Timer6::Retransmit);
            self.step(now, out);
        }
    }

    /// A random delay up to `max` (uniform, to the millisecond).
    pub(super) fn delay(&mut self, max: Duration) -> Duration {
        let ms = max.as_millis().min(u128::from(u64::MAX)) as u64;
        Duration::from_millis(self.rng.u64(0..=ms))
    }

    /// A new 24-bit transaction id.
    pub(super) fn xid(&mut self) -> u32 {
        self.rng.u32(..) & 0x00ff_ffff
    }

    /// [`Timer6::Retransmit`]: the state's exchange sends (its first message or again), or
    /// has failed; SOLICIT's first RT ending with ADVERTISEs in hand requests the best.
    pub(super) fn step(&mut self, now: Instant, out: &mut Vec<Action6>) {
        if let State6::Soliciting { x, adverts } = &self.state {
            if x.sent > 0 && !adverts.is_empty() {
                return self.request_best(now, out);
            }
        }
        let (sol, inf) = (self.sol_max_rt, self.inf_max_rt);
        let Some(x) = self.state.exchange_mut() else {
            return;
        };
        let mrt = match x.msg.kind {
            Kind6::Solicit => sol,
            Kind6::InformationRequest => inf,
            _ => x.mrt(),
        };
        match x.step(now, mrt, &mut self.rng) {
            Step::Send(msg, next) => {
                out.push(Action6::Send(msg));
                self.timers.set(Timer6::Retransmit, next);
            }
            Step::Failed => self.failed(now, out),
        }
    }

    /// The exchange under way reached its MRC or MRD.
    fn failed(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let state = std::mem::replace(&mut self.state, State6::Idle);
        match state {
            State6::Requesting { x, rest } => self.request_failed(now, &x, rest, out),
            State6::Confirming { why, .. } => self.confirm_unanswered(now, why, out),
            State6::Declining { .. } => self.declined(now, out),
            State6::Releasing { .. } => self.finish(out),
            // RENEW's MRD is T2 and REBIND's the lease's end: their own timers, which come
            // first, have moved on already; should they not have, the lease stays as it is.
            State6::Renewing { .. } | State6::Rebinding { .. } => self.settle(now, false, out),
            other => self.state = other,
        }
    }

    /// Bound with the lease held (its timers set); a T2 or (with `renew`) a T1 that has
    /// passed starts its exchange now.
    pub(super) fn settle(&mut self, now: Instant, renew: bool, out: &mut Vec<Action6>) {
        self.goto(State6::Bound, None);
        self.set_lease_timers(now);
        let Some(lease) = &self.held else {
            return self.solicit(now, Duration::ZERO, out);
        };
        let s = schedule(lease);
        if s.rebind.is_some_and(|t| t <= now) {
            self.enter_rebinding(now, out);
        } else if renew && s.renew.is_some_and(|t| t <= now) {
            self.enter_renewing(now, out);
        }
    }

    /// The timers of the lease held (or none): T1 and T2 when still ahead (one that passed is
    /// the caller's to act on), the next expiry and depreference whenever they are.
    pub(super) fn set_lease_timers(&mut self, now: Instant) {
        let (mut renew, mut rebind, mut expire, mut depref) = (None, None, None, None);
        if let Some(lease) = &self.held {
            let s = schedule(lease);
            renew = s.renew.filter(|t| *t > now);
            rebind = s.rebind.filter(|t| *t > now);
            expire = s.expire;
            depref = lease::next_depref(lease, self.depref_mark);
        }
        self.timers.set_or_stop(Timer6::Renew, renew);
        self.timers.set_or_stop(Timer6::Rebind, rebind);
        self.timers.set_or_stop(Timer6::Expire, expire);
        self.timers.set_or_stop(Timer6::Depref, depref);
    }
}
