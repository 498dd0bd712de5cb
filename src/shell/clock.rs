//! The shell's clock: CLOCK_BOOTTIME, so that time spent suspended counts toward lease timers.

use crate::time::Instant;
use nix::time::{clock_gettime, ClockId};
use std::time::Duration;

/// Now, on CLOCK_BOOTTIME.
pub fn now() -> Instant {
    match clock_gettime(ClockId::CLOCK_BOOTTIME) {
        Ok(ts) => Instant::from_duration(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32)),
        // CLOCK_BOOTTIME exists on every kernel since 2.6.39; fall back rather than panic.
        Err(_) => match clock_gettime(ClockId::CLOCK_MONOTONIC) {
            Ok(ts) => {
                Instant::from_duration(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32))
            }
            Err(_) => Instant::ZERO,
        },
    }
}

/// Sleeps until `deadline` on CLOCK_BOOTTIME. Tokio's timers run on the monotonic clock, which
/// stops during suspend, so the wait is cut into slices of at most a minute and re-measured
/// against CLOCK_BOOTTIME each time: after a resume the deadline is noticed within a minute.
pub async fn sleep_until(deadline: Instant) {
    const SLICE: Duration = Duration::from_secs(60);
    loop {
        let left = deadline.saturating_since(now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(SLICE)).await;
    }
}
