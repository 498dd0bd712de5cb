//! Binding: the address is ours to use, and which transition that is (BOUND, RENEW, REBIND,
//! REBOOT); and what happens when the system or the hook script will not take it.

use super::config::{ANNOUNCE_INTERVAL, ANNOUNCE_NUM};
use super::state::{Reboot, State};
use super::{Action, Client, Reason, Timer, Transition, What};
use crate::lease::Lease;
use crate::time::Instant;
use std::sync::Arc;
use tracing::warn;

impl Client {
    /// The address is ours to use: configure it, start its timers, and announce it when it
    /// was probed (RFC 5227 2.3: every probed address is announced).
    pub(super) fn bind(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        probed: bool,
        out: &mut Vec<Action>,
    ) {
        self.naks = 0;
        self.bound_at = now;
        self.fallback = None;
        self.on_fallback = false;
        self.tally.clear();
        self.timers.stop(Timer::AcquireTimeout);
        let (transition, renewal) = self.binding(&lease);
        self.configure(&lease, renewal, transition, out);
        self.set_lease_timers(Some(&lease));
        // A routable address: the link-local one is no longer needed (RFC 3927 1.9).
        if let Some(ll) = &mut self.link_local {
            ll.stop(out);
        }
        self.timers.stop(Timer::LinkLocal);
        if probed {
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
            self.announcements = ANNOUNCE_NUM - 1;
            self.timers.set(Timer::Announce, now + ANNOUNCE_INTERVAL);
        }
        self.goto(State::Bound { lease }, None);
    }

    /// The hook script that configures the interface refused `lease` (as dhclient-script
    /// may, after BOUND or REBOOT): declined, as dhclient does. Ignored when the record has
    /// moved on.
    pub(super) fn script_refused(&mut self, now: Instant, lease: &Lease, out: &mut Vec<Action>) {
        if self.held.as_deref() != Some(lease) {
            return;
        }
        if self.on_fallback {
            // dhclient-script refuses a TIMEOUT lease whose router does not answer: another
            // network, most likely. Nothing is declined; the search goes on.
            warn!(
                "the hook script refused saved lease {}: looking for a server",
                lease.address
            );
            out.push(Action::NoLease(self.no_lease()));
            self.deconfigure(Reason::NotConfirmed, out);
            return self.discover(now, out);
        }
        warn!("the hook script refused {}: declining it", lease.address);
        self.tally.add(
            What::NotApplied,
            lease.address,
            "refused by the hook script",
        );
        let lease = lease.clone();
        self.decline(now, &lease, out);
    }

    /// The shell could not apply the Configure of `lease`: the interface holds nothing of it
    /// that stays; start over after a growing pause. Ignored when the record has moved on.
    pub(super) fn configure_failed(
        &mut self,
        now: Instant,
        lease: &Lease,
        why: String,
        out: &mut Vec<Action>,
    ) {
        if self.held.as_deref() != Some(lease) {
            return;
        }
        let lease = lease.clone();
        self.failures += 1;
        let wait = self.config.retry.backoff(self.failures);
        warn!(
            "could not configure {}: {why}; starting over in {} s",
            lease.address,
            wait.as_secs()
        );
        self.tally.add(What::NotApplied, lease.address, why);
        if self.on_fallback {
            out.push(Action::NoLease(self.no_lease()));
        }
        // A first lease that never got onto the interface: the acquire timeout still holds.
        if let Some(deadline) = self.acquiring {
            self.timers.set(Timer::AcquireTimeout, deadline.max(now));
        }
        self.deconfigure(Reason::NotApplied, out);
        self.goto(State::Init, Some((Timer::Restart, now + wait)));
    }

    /// Which transition binding `lease` is, in the state the client is in, and whether it is
    /// a renewal (for the log line): a new address is BOUND; the address held, ACKed again, is
    /// RENEW in RENEWING, REBIND in REBINDING, and otherwise REBOOT (INIT-REBOOT confirmed a
    /// saved lease, probed or not, or the lease in force when carrier came back; only the
    /// latter is a renewal).
    fn binding(&self, lease: &Lease) -> (Transition, bool) {
        let new_address = self
            .held
            .as_ref()
            .is_none_or(|h| h.address != lease.address);
        if new_address {
            return (Transition::Bound, false);
        }
        match &self.state {
            State::Renewing { .. } => (Transition::Renew, true),
            State::Rebinding { .. } => (Transition::Rebind, true),
            State::Rebooting {
                why: Reboot::Carrier { .. },
                ..
            } => (Transition::Reboot, true),
            _ => (Transition::Reboot, false),
        }
    }
}
