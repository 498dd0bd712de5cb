//! Keeping a lease: RENEWING at T1, REBINDING at T2, expiry.

use super::*;

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
        let step = renew_retry(now, lease.rebind_at()).map(|at| (Timer::Retransmit, at));
        self.goto(State::Renewing { x, lease }, step);
    }

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
        let step = renew_retry(now, lease.expires_at()).map(|at| (Timer::Retransmit, at));
        self.goto(State::Rebinding { x, lease }, step);
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
}

/// RFC 2131 4.4.5: retry at half the time left to `deadline`, never sooner than 60 s; None when
/// that would be at or past the deadline (its own timer takes over). With no deadline (an
/// infinite lease) every 60 s.
pub(super) fn renew_retry(now: Instant, deadline: Option<Instant>) -> Option<Instant> {
    let Some(deadline) = deadline else {
        return Some(now + MIN_RENEW_RETRY);
    };
    let half = deadline.saturating_since(now) / 2;
    let at = now + half.max(MIN_RENEW_RETRY);
    (at < deadline).then_some(at)
}
