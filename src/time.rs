//! Time as the core sees it: a point on a clock that the caller supplies.
//!
//! The core never reads a clock. The shell passes `CLOCK_BOOTTIME` readings (so suspended time
//! counts); tests pass virtual time and run hours of lease life in microseconds.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time, as a duration since an arbitrary epoch chosen by the caller.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The epoch of the caller's clock.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    pub fn from_duration(d: Duration) -> Self {
        Instant(d)
    }

    pub fn from_secs(s: u64) -> Self {
        Instant(Duration::from_secs(s))
    }

    pub fn from_millis(ms: u64) -> Self {
        Instant(Duration::from_millis(ms))
    }

    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_sub(rhs))
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:.3}s", self.0.as_secs_f64())
    }
}
