//! The record of what the interface holds, and the one place each whole transition is
//! emitted; entering a state and setting the lease's timers.

use super::state::State;
use super::{Action, Client, Reason, Timer, Transition};
use crate::lease::Lease;
use crate::time::Instant;
use std::sync::Arc;

impl Client {
    /// The interface is to hold `lease`, replacing what it holds: the one place a Configure is
    /// emitted. The lease is saved with it.
    pub(super) fn configure(
        &mut self,
        lease: &Lease,
        renewal: bool,
        transition: Transition,
        out: &mut Vec<Action>,
    ) {
        let shared = self.share(lease);
        out.push(Action::Configure {
            lease: lease.clone(),
            previous: self.held.replace(shared).map(Arc::unwrap_or_clone),
            renewal,
            transition,
        });
        out.push(Action::SaveLease(lease.clone()));
    }

    /// `lease` as one shared copy: the record's or the state's when it is that lease.
    pub(super) fn share(&self, lease: &Lease) -> Arc<Lease> {
        let state = match &self.state {
            State::Rebooting { lease, .. }
            | State::Probing { lease, .. }
            | State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease),
            _ => None,
        };
        match [self.held.as_ref(), state]
            .into_iter()
            .flatten()
            .find(|l| ***l == *lease)
        {
            Some(l) => l.clone(),
            None => Arc::new(lease.clone()),
        }
    }

    /// The interface is to hold nothing of ours: the one place a Deconfigure is emitted. The
    /// saved lease goes with it (but when the interface was removed: should it come back, the
    /// lease is asked for again), and so do the lease's timers.
    pub(super) fn deconfigure(&mut self, reason: Reason, out: &mut Vec<Action>) {
        // Whatever takes a lease off says the saved one is no longer one to fall back on.
        self.fallback = None;
        self.on_fallback = false;
        if let Some(lease) = self.held.take() {
            out.push(Action::Deconfigure {
                lease: Arc::unwrap_or_clone(lease),
                reason,
                transition: reason.transition(),
            });
            if reason != Reason::Gone {
                out.push(Action::ForgetLease);
            }
        }
        self.set_lease_timers(None);
        self.timers.stop(Timer::Announce);
    }

    /// Enters `state`, whose own step (the next retransmission, restart or probe) is `step`.
    pub(super) fn goto(&mut self, mut state: State, step: Option<(Timer, Instant)>) {
        // The state's lease and the record of what is applied are most often the same lease:
        // then they share one copy (a thousand interfaces hold one each).
        if let (
            State::Rebooting { lease, .. }
            | State::Probing { lease, .. }
            | State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. },
            Some(held),
        ) = (&mut state, &self.held)
        {
            if !Arc::ptr_eq(lease, held) && **lease == **held {
                *lease = held.clone();
            }
        }
        for t in [Timer::Retransmit, Timer::Restart, Timer::Probe] {
            self.timers.stop(t);
        }
        if let Some((timer, at)) = step {
            self.timers.set(timer, at);
        }
        self.state = state;
    }

    /// T1, T2 and expiry of the lease in force (or none).
    pub(super) fn set_lease_timers(&mut self, lease: Option<&Lease>) {
        self.timers
            .set_or_stop(Timer::Renew, lease.and_then(Lease::renew_at));
        self.timers
            .set_or_stop(Timer::Rebind, lease.and_then(Lease::rebind_at));
        self.timers
            .set_or_stop(Timer::Expire, lease.and_then(Lease::expires_at));
    }
}
