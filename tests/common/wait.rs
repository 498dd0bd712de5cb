//! Waiting on a condition (never on a fixed sleep).

use std::thread;
use std::time::{Duration, Instant};

/// Waits until `cond` holds, at most `limit`; returns whether it did.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `cond` holds at every look throughout `window` (a look every 20 ms, the last at its
/// end): what must stay true for a while, checked all along rather than once after a sleep.
pub fn holds_for(window: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if !cond() {
            return false;
        }
        if start.elapsed() > window {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
}
