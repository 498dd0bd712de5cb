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
