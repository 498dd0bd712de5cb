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

/// A timer on CLOCK_BOOTTIME (a timerfd), so a lease deadline fires at the right moment even
/// across a suspend, with one wake-up and no polling.
pub struct BootTimer {
    fd: tokio::io::unix::AsyncFd<TimerFdHolder>,
}

struct TimerFdHolder(nix::sys::timerfd::TimerFd);

impl std::os::fd::AsRawFd for TimerFdHolder {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl BootTimer {
    /// Must be called inside the tokio runtime.
    pub fn new() -> std::io::Result<BootTimer> {
        use nix::sys::timerfd::{ClockId as TfdClock, TimerFd, TimerFlags};
        let tfd = TimerFd::new(
            TfdClock::CLOCK_BOOTTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: the timerfd moves into the AsyncFd and stays open while registered.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                TimerFdHolder(tfd),
                tokio::io::Interest::READABLE,
            )
        }
        .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(BootTimer { fd })
    }

    /// Waits until CLOCK_BOOTTIME reaches `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) -> std::io::Result<()> {
        use nix::sys::time::TimeSpec;
        use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};
        if deadline <= now() {
            return Ok(());
        }
        let d = deadline.as_duration();
        self.fd.get_ref().0.set(
            Expiration::OneShot(TimeSpec::from_duration(d)),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME,
        )?;
        loop {
            let mut guard = self.fd.readable().await?;
            let fired = guard.try_io(|inner| {
                let mut count = [0u8; 8];
                nix::unistd::read(&inner.get_ref().0, &mut count)
                    .map(|_| ())
                    .map_err(std::io::Error::from)
            });
            match fired {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}
