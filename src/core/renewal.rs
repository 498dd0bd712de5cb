//! Keeping a lease: RENEWING at T1 (unicast to the leasing server), REBINDING at T2
//! (broadcast, to any server), their retransmissions (RFC 2131 4.4.5: at half the time left,
//! never sooner than the policy's floor), expiry; and the random fuzz of T1 and T2 that keeps
//! clients bound together from renewing together ([`fuzz_times`]).

use super::state::{Exchange, State};
use super::{request, secs_since, send, Action, Client, Dest, Reason, Timer};
use crate::lease::{Lease, INFINITE};
use crate::time::Instant;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info};

impl Client {
    /// T1 has come, or (`asked`) a renewal was asked for.
    pub(super) fn enter_renewing(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        asked: bool,
        out: &mut Vec<Action>,
    ) {
        // The lease got this far on the interface: the system took it.
        if now > self.bound_at {
            self.failures = 0;
            self.acquiring = None;
        }
        let x = self.new_exchange(now);
        info!(
            "renewing {} with {}{}",
            lease.address,
            lease.server_id,
            if asked { ", as asked" } else { "" }
        );
        let msg = request::request_bound(&self.config, x.xid, 0, &lease);
        out.push(send(msg, Dest::Unicast(lease.server_id)));
        let step = self.renew_retry(now, lease.rebind_at());
        self.goto(State::Renewing { x, lease }, step);
    }

    /// T2 has come: any server may extend the lease.
    pub(super) fn enter_rebinding(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        out: &mut Vec<Action>,
    ) {
        let x = self.new_exchange(now);
        info!(
            "rebinding {}: no answer from {}",
            lease.address, lease.server_id
        );
        let msg = request::request_bound(&self.config, x.xid, 0, &lease);
        out.push(send(msg, Dest::Broadcast));
        let step = self.renew_retry(now, lease.expires_at());
        self.goto(State::Rebinding { x, lease }, step);
    }

    /// RENEWING's retransmission; an infinite lease whose renewals go unanswered the policy's
    /// number of times is kept as it is.
    pub(super) fn resend_renewing(
        &mut self,
        now: Instant,
        mut x: Exchange,
        lease: Arc<Lease>,
        out: &mut Vec<Action>,
    ) {
        if lease.is_infinite() && x.attempts >= self.config.retry.requests {
            info!(
                "no answer to the renewal of {}; the infinite lease stays",
                lease.address
            );
            return self.goto(State::Bound { lease }, None);
        }
        x.attempts += 1;
        x.sent = now;
        let secs = secs_since(x.started, now);
        let msg = request::request_bound(&self.config, x.xid, secs, &lease);
        out.push(send(msg, Dest::Unicast(lease.server_id)));
        let step = self.renew_retry(now, lease.rebind_at());
        self.goto(State::Renewing { x, lease }, step);
    }

    /// REBINDING's retransmission, until the lease expires.
    pub(super) fn resend_rebinding(
        &mut self,
        now: Instant,
        mut x: Exchange,
        lease: Arc<Lease>,
        out: &mut Vec<Action>,
    ) {
        x.attempts += 1;
        x.sent = now;
        let secs = secs_since(x.started, now);
        let msg = request::request_bound(&self.config, x.xid, secs, &lease);
        out.push(send(msg, Dest::Broadcast));
        let step = self.renew_retry(now, lease.expires_at());
        self.goto(State::Rebinding { x, lease }, step);
    }

    /// RFC 2131 4.4.5: the next retransmission at half the time left to `deadline`, never
    /// sooner than the policy's floor (60 s); None when that would be at or past the deadline
    /// (its own timer takes over). With no deadline (an infinite lease), every floor.
    fn renew_retry(&self, now: Instant, deadline: Option<Instant>) -> Option<(Timer, Instant)> {
        renew_retry(now, deadline, self.config.retry.renew_floor).map(|at| (Timer::Retransmit, at))
    }

    /// [`Timer::Expire`]: the lease held has run out.
    pub(super) fn expire(&mut self, now: Instant, out: &mut Vec<Action>) {
        let Some(held) = &self.held else {
            return;
        };
        info!("lease {} expired", held.address);
        self.deconfigure(Reason::Expired, out);
        // While probing a new address, only the old lease has gone; the probe goes on.
        if self.lease().is_some() {
            self.discover(now, out);
        }
    }

    /// The T1 and T2 of a lease just granted, fuzzed by the policy ([`fuzz_times`]).
    pub(super) fn fuzz_renewal(&mut self, lease: &mut Lease) {
        let percent = self.config.retry.timer_fuzz_percent;
        let (t1, t2) = fuzz_times(
            lease.t1_secs,
            lease.t2_secs,
            lease.lease_secs,
            percent,
            &mut self.rng,
        );
        if (t1, t2) != (lease.t1_secs, lease.t2_secs) {
            debug!(
                "T1 {} s and T2 {} s fuzzed to {t1} s and {t2} s (RFC 2131 4.4.5)",
                lease.t1_secs, lease.t2_secs
            );
        }
        lease.t1_secs = t1;
        lease.t2_secs = t2;
    }
}

/// The next retransmission in RENEWING or REBINDING: at half the time left to `deadline`,
/// never sooner than `floor`; None when that would be at or past the deadline. With no
/// deadline, `floor` from now.
fn renew_retry(now: Instant, deadline: Option<Instant>, floor: Duration) -> Option<Instant> {
    let Some(deadline) = deadline else {
        return Some(now + floor);
    };
    let half = deadline.saturating_since(now) / 2;
    let at = now + half.max(floor);
    (at < deadline).then_some(at)
}

/// RFC 2131 4.4.5's fuzz: T1 and T2 (seconds into a lease of `lease` seconds) each moved by a
/// random whole number of seconds of up to `percent` % of itself, either way, then kept in
/// order: 1 <= T1 < T2 < lease (T1 may then move one second more, to stay below T2). A time
/// too short to move by a whole second (under 20 s at 5 %) draws nothing and stays. An
/// infinite lease, times out of order, or a `percent` of 0 are left as they are.
pub fn fuzz_times(
    t1: u32,
    t2: u32,
    lease: u32,
    percent: u8,
    rng: &mut fastrand::Rng,
) -> (u32, u32) {
    if lease == INFINITE || percent == 0 || !(1 <= t1 && t1 < t2 && t2 < lease) {
        return (t1, t2);
    }
    let mut moved = |t: u32| {
        let t = i64::from(t);
        let spread = t * i64::from(percent.min(100)) / 100;
        if spread == 0 {
            t
        } else {
            t + rng.i64(-spread..=spread)
        }
    };
    let t2 = moved(t2).clamp(2, i64::from(lease) - 1);
    let t1 = moved(t1).clamp(1, t2 - 1);
    (t1 as u32, t2 as u32)
}
