//! Every deadline of one DHCPv6 client in one named table, as the DHCPv4 core keeps its own
//! ([`crate::core::TimerTable`]): what is due next is [`TimerTable6::next`], which is all
//! `Client6::poll_at` reports.

use crate::timers::{Table, TimerName};

/// The client's deadlines. When several fall due at the same instant they are handled in
/// this order: the lease's lifetimes first (an address that runs out is gone before anything
/// is sent about it, and is not deprecated the instant it goes), then T2 before T1, then the
/// state's own step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer6 {
    /// The next valid lifetime of an address or prefix held runs out (EXPIRE6).
    Expire,
    /// The next preferred lifetime of an address or prefix held runs out (DEPREF6).
    Depref,
    /// T2: REBIND (RFC 8415 18.2.5).
    Rebind,
    /// T1: RENEW (RFC 8415 18.2.4).
    Renew,
    /// Stateless: the Information Refresh Time has passed (RFC 8415 18.2.6).
    Refresh,
    /// No lease within the acquire timeout: say why (once).
    AcquireTimeout,
    /// The exchange under way: its first message (after its random delay), the next
    /// retransmission, or the end of its collection of ADVERTISEs, or its failure (MRC, MRD).
    Retransmit,
}

impl TimerName for Timer6 {
    const ALL: &'static [Timer6] = &[
        Timer6::Expire,
        Timer6::Depref,
        Timer6::Rebind,
        Timer6::Renew,
        Timer6::Refresh,
        Timer6::AcquireTimeout,
        Timer6::Retransmit,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// When each [`Timer6`] is due, if it is set.
pub type TimerTable6 = Table<Timer6, 7>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    #[test]
    fn every_timer_has_its_slot_in_order() {
        for (i, t) in Timer6::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        assert_eq!(TimerTable6::default().next(), None);
        // The table has a slot for each.
        let mut table = TimerTable6::default();
        for &t in Timer6::ALL {
            table.set(t, Instant::ZERO);
        }
    }

    #[test]
    fn lifetimes_come_before_the_exchange_on_a_tie() {
        let mut t = TimerTable6::default();
        t.set(Timer6::Retransmit, Instant::from_secs(5));
        t.set(Timer6::Renew, Instant::from_secs(5));
        t.set(Timer6::Expire, Instant::from_secs(5));
        assert_eq!(t.pop_due(Instant::from_secs(4)), None);
        assert_eq!(t.pop_due(Instant::from_secs(5)), Some(Timer6::Expire));
        assert_eq!(t.pop_due(Instant::from_secs(5)), Some(Timer6::Renew));
        assert_eq!(t.pop_due(Instant::from_secs(5)), Some(Timer6::Retransmit));
        assert_eq!(t.next(), None);
    }
}
