//! Getting a lease: the start (PREINIT, a leftover lease taken off, INIT-REBOOT of a saved
//! one), INIT and SELECTING (DISCOVER), REQUESTING and REBOOTING, and the retransmission
//! schedule of every exchange: [`Timer::Retransmit`] hands each state to its own step here
//! (RENEWING and REBINDING: [`super::renewal`]).

use super::state::{Exchange, Reboot, State};
use super::{
    request, secs_since, send, Action, Client, Dest, NoLease, Reason, Timer, Transition, What,
    DNA_WAIT,
};
use crate::lease::Lease;
use crate::time::Instant;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info};

impl Client {
    /// [`super::Event::Start`]: PREINIT, then whatever an earlier run left on the interface
    /// is taken off or asked for again, or a first DISCOVER goes out.
    pub(super) fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Notify {
            transition: Transition::Preinit,
            lease: None,
        });
        if let Some(wait) = self.config.acquire_timeout {
            self.acquiring = Some(now + wait);
            self.timers.set(Timer::AcquireTimeout, now + wait);
        }
        if let Some(lease) = self.leftover.take() {
            self.take_off_leftover(now, *lease, out);
        }
        match self.saved.take().map(|b| *b) {
            Some(lease) if !has_run_out(&lease, now) => {
                info!(
                    "asking again for saved lease {} (INIT-REBOOT)",
                    lease.address
                );
                // An earlier process may have left it on the interface: it counts as held,
                // so that a NAK or silence removes it.
                let lease = Arc::new(lease);
                self.held = Some(lease.clone());
                if self.config.last_lease {
                    self.fallback = Some(lease.clone());
                }
                let wait = self.config.retry.reboot_wait / 2;
                self.reboot(now, lease, Reboot::Saved, wait, out);
            }
            Some(lease) => {
                // Run out by now: not asked for, but it may be on the interface still.
                self.take_off_leftover(now, lease, out);
                self.discover(now, out);
            }
            None => self.discover(now, out),
        }
    }

    /// A lease an earlier run may have left on the interface, not to be asked for again: it
    /// is taken off as any lease that ends (EXPIRE), and its file goes.
    fn take_off_leftover(&mut self, now: Instant, lease: Lease, out: &mut Vec<Action>) {
        let reason = if has_run_out(&lease, now) {
            Reason::Expired
        } else {
            Reason::Stale
        };
        info!("taking {} off the interface ({reason})", lease.address);
        self.held = Some(Arc::new(lease));
        self.deconfigure(reason, out);
    }

    /// Asks for `lease` again with INIT-REBOOT (a broadcast REQUEST for its address, with no
    /// server identifier); the next step after `wait`.
    pub(super) fn reboot(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        why: Reboot,
        wait: Duration,
        out: &mut Vec<Action>,
    ) {
        let x = self.new_exchange(now);
        let msg = request::request_reboot(&self.config, x.xid, 0, lease.address);
        out.push(send(msg, Dest::Broadcast));
        self.goto(
            State::Rebooting { x, lease, why },
            Some((Timer::Retransmit, now + wait)),
        );
    }

    pub(super) fn new_exchange(&mut self, now: Instant) -> Exchange {
        Exchange {
            xid: self.rng.u32(..),
            started: now,
            sent: now,
            attempts: 1,
        }
    }

    /// The wait before retransmission number `attempt`, randomised by the policy's jitter
    /// (RFC 2131 4.1: ±1 s).
    pub(super) fn backoff(&mut self, attempt: u32) -> Duration {
        let base = self.config.retry.backoff(attempt);
        let j = self.config.retry.jitter.as_millis().min(i64::MAX as u128) as i64;
        let jitter = self.rng.i64(-j..=j);
        let ms = (base.as_millis().min(i64::MAX as u128) as i64).saturating_add(jitter);
        Duration::from_millis(ms.max(0) as u64)
    }

    pub(super) fn discover(&mut self, now: Instant, out: &mut Vec<Action>) {
        // Looking for a lease again with none (after one ended, a NAK, another network): the
        // acquire timeout holds again, so that a FAIL says when none came (as dhclient's).
        if let (Some(wait), None, None) = (
            self.config.acquire_timeout,
            &self.held,
            self.timers.get(Timer::AcquireTimeout),
        ) {
            self.timers.set(Timer::AcquireTimeout, now + wait);
        }
        let x = self.new_exchange(now);
        out.push(send(
            request::discover(&self.config, x.xid, 0),
            Dest::Broadcast,
        ));
        let at = now + self.backoff(1);
        self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
    }

    /// [`Timer::Retransmit`]: the exchange in progress sends again, or gives up; each state
    /// has its own step.
    pub(super) fn retransmit(&mut self, now: Instant, out: &mut Vec<Action>) {
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Selecting { x } => self.resend_discover(now, x, out),
            State::Requesting {
                x,
                offered,
                server,
                secs,
            } => self.resend_request(now, x, (offered, server, secs), out),
            State::Rebooting { x, lease, why } => self.resend_reboot(now, x, lease, why, out),
            State::Renewing { x, lease } => self.resend_renewing(now, x, lease, out),
            State::Rebinding { x, lease } => self.resend_rebinding(now, x, lease, out),
            State::Informing { x } => self.resend_inform(now, x, out),
            other => self.state = other,
        }
    }

    /// SELECTING: no offer yet; DISCOVER again, for ever, with a growing wait.
    fn resend_discover(&mut self, now: Instant, mut x: Exchange, out: &mut Vec<Action>) {
        x.attempts += 1;
        x.sent = now;
        let msg = request::discover(&self.config, x.xid, secs_since(x.started, now));
        out.push(send(msg, Dest::Broadcast));
        debug!("no offer yet; DISCOVER #{}", x.attempts);
        let at = now + self.backoff(x.attempts);
        self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
    }

    /// REQUESTING: REQUEST the offer again, or start over once the policy's REQUESTs have
    /// gone unanswered.
    fn resend_request(
        &mut self,
        now: Instant,
        mut x: Exchange,
        (offered, server, secs): (Ipv4Addr, Ipv4Addr, u16),
        out: &mut Vec<Action>,
    ) {
        if x.attempts >= self.config.retry.requests {
            info!(
                "no answer from {server} to {} REQUESTs; starting over",
                x.attempts
            );
            self.tally.add(What::Unanswered, server, "");
            return self.discover(now, out);
        }
        x.attempts += 1;
        x.sent = now;
        let msg = request::request_selecting(&self.config, x.xid, secs, offered, server);
        out.push(send(msg, Dest::Broadcast));
        let at = now + self.backoff(x.attempts);
        let state = State::Requesting {
            x,
            offered,
            server,
            secs,
        };
        self.goto(state, Some((Timer::Retransmit, at)));
    }

    /// REBOOTING: the second REQUEST, or the lease given up. After carrier came back with the
    /// router known, silence from the router and every server for [`DNA_WAIT`] means another
    /// network; otherwise the policy's reboot wait.
    fn resend_reboot(
        &mut self,
        now: Instant,
        mut x: Exchange,
        lease: Arc<Lease>,
        why: Reboot,
        out: &mut Vec<Action>,
    ) {
        if let Reboot::Carrier { dna: Some(r) } = why {
            if now >= x.started + DNA_WAIT {
                info!(
                    "no answer from router {} nor from a server within {} s of carrier: \
                     another network; starting over",
                    r.ip,
                    DNA_WAIT.as_secs()
                );
                self.deconfigure(Reason::Moved, out);
                return self.discover(now, out);
            }
        }
        let reboot_wait = self.config.retry.reboot_wait;
        if now >= x.started + reboot_wait {
            if self.fallback.as_ref() == Some(&lease) {
                // dhclient's way: the lease stays (as the interface may hold it) to fall back
                // on at the acquire timeout, unless a server answers first or it runs out.
                info!(
                    "no answer for saved lease {}; looking for a server, with the saved \
                     lease to fall back on",
                    lease.address
                );
                self.timers.set_or_stop(Timer::Expire, lease.expires_at());
                return self.discover(now, out);
            }
            info!("no answer for saved lease {}; starting over", lease.address);
            self.deconfigure(Reason::Unconfirmed, out);
            return self.discover(now, out);
        }
        x.attempts += 1;
        x.sent = now;
        let secs = secs_since(x.started, now);
        let msg = request::request_reboot(&self.config, x.xid, secs, lease.address);
        out.push(send(msg, Dest::Broadcast));
        let at = match why {
            Reboot::Carrier { dna: Some(_) } => x.started + DNA_WAIT,
            _ => x.started + reboot_wait,
        };
        self.goto(
            State::Rebooting { x, lease, why },
            Some((Timer::Retransmit, at)),
        );
    }

    /// [`Timer::AcquireTimeout`]: no lease in time. With a saved lease to fall back on that
    /// lasts, and no offer in hand, it is used (TIMEOUT); otherwise the timeout is told
    /// (FAIL) and the client goes on trying.
    pub(super) fn acquire_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.acquiring = None;
        let looking = matches!(
            self.state,
            State::Init | State::Selecting { .. } | State::Rebooting { .. }
        );
        match self.fallback.take() {
            Some(lease) if looking && !has_run_out(&lease, now) => self.fall_back(now, lease, out),
            _ => {
                out.push(Action::NoLease(self.no_lease()));
                out.push(Action::Notify {
                    transition: Transition::Fail,
                    lease: None,
                });
            }
        }
    }

    /// Uses the saved `lease` no server confirmed (dhclient's TIMEOUT): configured as it is,
    /// with its own T1, T2 and end; past T1 it is renewed at once (the caller's tick takes the
    /// timers that are due).
    fn fall_back(&mut self, now: Instant, lease: Arc<Lease>, out: &mut Vec<Action>) {
        info!(
            "no server answered in time: using saved lease {} until it is renewed or ends",
            lease.address
        );
        self.on_fallback = true;
        self.bound_at = now;
        // The interface may hold it still (an earlier run left it): configured afresh all
        // the same, as dhclient's TIMEOUT tells of the new lease only.
        self.held = None;
        self.configure(&lease, false, Transition::Timeout, out);
        self.set_lease_timers(Some(&lease));
        self.goto(State::Bound { lease }, None);
    }

    /// Why no lease yet: the tally, and what the state is waiting for.
    pub(super) fn no_lease(&self) -> NoLease {
        let mut why = self.tally.report();
        let waiting = match &self.state {
            State::Requesting {
                offered, server, ..
            } => Some(format!("{offered} offered by {server}, no ACK yet")),
            State::Probing { lease, .. } => {
                Some(format!("still checking {} for conflicts", lease.address))
            }
            _ => None,
        };
        if let Some(w) = waiting {
            why.causes.push(w);
        }
        why
    }
}

/// The lease has run out at `now` (an infinite one never does).
fn has_run_out(lease: &Lease, now: Instant) -> bool {
    lease.expires_at().is_some_and(|end| end <= now)
}
