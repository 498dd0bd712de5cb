//! Every deadline of one client in one named table (as quinn-proto keeps its timers): what is
//! due next is [`TimerTable::next`], which is all `Client::poll_at` reports.

use crate::time::Instant;

/// The client's deadlines. When several fall due at the same instant they are handled in
/// this order: the lease's own deadlines first (an expiry is never preceded by a renewal
/// sent at the same moment), then the state's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The lease runs out: its address is removed.
    Expire,
    /// T2: rebind (broadcast REQUEST to any server).
    Rebind,
    /// T1: renew (unicast REQUEST to the leasing server).
    Renew,
    /// Options only: ask again with DHCPINFORM (no lease time says when: the configured
    /// refresh does).
    Inform,
    /// No lease within the acquire timeout: report why (once).
    AcquireTimeout,
    /// INIT: send the first DISCOVER (after a DECLINE, a NAK storm or a failure to configure).
    Restart,
    /// The next message of the exchange in progress, or giving it up.
    Retransmit,
    /// The next ARP probe of the address being checked, or the end of the check (RFC 5227).
    Probe,
    /// The next ARP announcement of a newly bound address (RFC 5227 2.3).
    Announce,
    /// The next step of the link-local fallback (RFC 3927): its start, a probe, an
    /// announcement.
    LinkLocal,
}

impl Timer {
    pub const ALL: [Timer; 10] = [
        Timer::Expire,
        Timer::Rebind,
        Timer::Renew,
        Timer::Inform,
        Timer::AcquireTimeout,
        Timer::Restart,
        Timer::Retransmit,
        Timer::Probe,
        Timer::Announce,
        Timer::LinkLocal,
    ];
}

/// When each [`Timer`] is due, if it is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerTable {
    at: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer as usize] = Some(at);
    }

    /// Sets `timer` to `at`, or stops it (None).
    pub fn set_or_stop(&mut self, timer: Timer, at: Option<Instant>) {
        self.at[timer as usize] = at;
    }

    pub fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = None;
    }

    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.at[timer as usize]
    }

    /// The earliest deadline, and which timer it is (the first in [`Timer`] order on a tie).
    pub fn next(&self) -> Option<(Timer, Instant)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
            .min_by_key(|&(t, at)| (at, t))
    }

    /// The timer due at `now` that comes first, stopped as it is returned.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let (timer, at) = self.next()?;
        if at > now {
            return None;
        }
        self.stop(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_and_ties_go_in_timer_order() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Retransmit, Instant::from_secs(5));
        t.set(Timer::Rebind, Instant::from_secs(5));
        t.set(Timer::Announce, Instant::from_secs(2));
        assert_eq!(t.next(), Some((Timer::Announce, Instant::from_secs(2))));
        assert_eq!(t.pop_due(Instant::from_secs(1)), None);
        assert_eq!(t.pop_due(Instant::from_secs(9)), Some(Timer::Announce));
        assert_eq!(t.pop_due(Instant::from_secs(9)), Some(Timer::Rebind));
        assert_eq!(t.pop_due(Instant::from_secs(9)), Some(Timer::Retransmit));
        assert_eq!(t.pop_due(Instant::from_secs(9)), None);
        t.set_or_stop(Timer::Expire, Some(Instant::from_secs(1)));
        t.set_or_stop(Timer::Expire, None);
        assert_eq!(t.next(), None);
    }
}
