//! Binding: the address is ours to use; and what happens when the system or the hook script
//! will not take it.

use super::*;

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
        self.tally.clear();
        self.timers.stop(Timer::AcquireTimeout);
        let new_address = self
            .held
            .as_ref()
            .is_none_or(|h| h.address != lease.address);
        // A renewal: the address held, ACKed again in RENEWING or REBINDING, or when carrier
        // came back.
        let renewal = !new_address
            && matches!(
                self.state,
                State::Renewing { .. }
                    | State::Rebinding { .. }
                    | State::Rebooting {
                        why: Reboot::Carrier { .. },
                        ..
                    }
            );
        self.configure(&lease, renewal, out);
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
        let wait = backoff_base(self.failures);
        warn!(
            "could not configure {}: {why}; starting over in {} s",
            lease.address,
            wait.as_secs()
        );
        self.tally.add(What::NotApplied, lease.address, why);
        // A first lease that never got onto the interface: the acquire timeout still holds.
        if let Some(deadline) = self.acquiring {
            self.timers.set(Timer::AcquireTimeout, deadline.max(now));
        }
        self.deconfigure(Reason::NotApplied, out);
        self.goto(State::Init, Some((Timer::Restart, now + wait)));
    }
}
