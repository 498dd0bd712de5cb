//! One client's deadlines in one named table (as quinn-proto keeps its timers), for both cores:
//! each core names its timers in an enum ([`TimerName`]) whose order is the order in which
//! timers due at the same instant are handled, and what is due next is [`Table::next`], which
//! is all a core's `poll_at` reports.

use crate::time::Instant;
use std::marker::PhantomData;

/// A core's timers: a field-less enum, every variant in [`TimerName::ALL`] in declaration
/// order, and `index` its position there.
pub trait TimerName: Copy + Ord + 'static {
    const ALL: &'static [Self];
    fn index(self) -> usize;
}

/// When each timer `T` is due, if it is set; `N` is `T::ALL.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<T, const N: usize> {
    at: [Option<Instant>; N],
    names: PhantomData<T>,
}

impl<T, const N: usize> Default for Table<T, N> {
    fn default() -> Self {
        Table {
            at: [None; N],
            names: PhantomData,
        }
    }
}

impl<T: TimerName, const N: usize> Table<T, N> {
    pub fn set(&mut self, timer: T, at: Instant) {
        self.at[timer.index()] = Some(at);
    }

    /// Sets `timer` to `at`, or stops it (None).
    pub fn set_or_stop(&mut self, timer: T, at: Option<Instant>) {
        self.at[timer.index()] = at;
    }

    pub fn stop(&mut self, timer: T) {
        self.at[timer.index()] = None;
    }

    pub fn get(&self, timer: T) -> Option<Instant> {
        self.at[timer.index()]
    }

    /// The earliest deadline, and which timer it is (the first in `T`'s order on a tie).
    pub fn next(&self) -> Option<(T, Instant)> {
        T::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
            .min_by_key(|&(t, at)| (at, t))
    }

    /// The timer due at `now` that comes first, stopped as it is returned.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        let (timer, at) = self.next()?;
        if at > now {
            return None;
        }
        self.stop(timer);
        Some(timer)
    }
}
