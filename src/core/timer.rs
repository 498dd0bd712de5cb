//! The DHCPv4 client's timers, in the protocol-neutral table of [`crate::timers`]: what is due
//! next is [`TimerTable::next`], which is all `Client::poll_at` reports.

use crate::timers::{Table, TimerName};

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

impl TimerName for Timer {
    const ALL: &'static [Timer] = &[
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

    fn index(self) -> usize {
        self as usize
    }
}

/// When each [`Timer`] is due, if it is set.
pub type TimerTable = Table<Timer, 10>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    #[test]
    fn every_timer_has_its_slot_in_order() {
        for (i, t) in Timer::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        assert_eq!(TimerTable::default().next(), None);
        // The table has a slot for each.
        let mut table = TimerTable::default();
        for &t in Timer::ALL {
            table.set(t, Instant::ZERO);
        }
    }

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
