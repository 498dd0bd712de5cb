//! Every deadline of one DHCPv6 client in one named table, as the DHCPv4 core keeps its own
//! ([`crate::core::TimerTable`]): what is due next is [`TimerTable6::next`], which is all
//! `Client6::poll_at` reports.

use crate::time::Instant;

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

impl Timer6 {
    pub const ALL: [Timer6; 7] = [
        Timer6::Expire,
        Timer6::Depref,
        Timer6::Rebind,
        Timer6::Renew,
        Timer6::Refresh,
        Timer6::AcquireTimeout,
        Timer6::Retransmit,
    ];
}

/// When each [`Timer6`] is due, if it is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerTable6 {
    at: [Option<Instant>; Timer6::ALL.len()],
}

impl TimerTable6 {
    pub fn set(&mut self, timer: Timer6, at: Instant) {
        self.at[timer as usize] = Some(at);
    }

    /// Sets `timer` to `at`, or stops it (None).
    pub fn set_or_stop(&mut self, timer: Timer6, at: Option<Instant>) {
        self.at[timer as usize] = at;
    }

    pub fn stop(&mut self, timer: Timer6) {
        self.at[timer as usize] = None;
    }

    pub fn get(&self, timer: Timer6) -> Option<Instant> {
        self.at[timer as usize]
    }

    /// The earliest deadline, and which timer it is (the first in [`Timer6`] order on a tie).
    pub fn next(&self) -> Option<(Timer6, Instant)> {
        Timer6::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
            .min_by_key(|&(t, at)| (at, t))
    }

    /// The timer due at `now` that comes first, stopped as it is returned.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer6> {
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
