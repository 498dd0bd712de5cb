//! The shell's CLOCK_BOOTTIME timer (a timerfd): it fires at the deadline, not before, and a
//! deadline already past returns at once. (That it counts suspended time is the kernel's
//! CLOCK_BOOTTIME contract; a test cannot suspend the machine.)

use dhcpc::shell::clock::{now, BootTimer};
use std::time::Duration;

#[tokio::test]
async fn boot_timer_fires_at_its_deadline() {
    let timer = BootTimer::new().expect("timerfd on CLOCK_BOOTTIME");
    for ms in [1u64, 30, 80] {
        let deadline = now() + Duration::from_millis(ms);
        timer.sleep_until(deadline).await.unwrap();
        assert!(now() >= deadline, "woke before the {ms} ms deadline");
    }
    // Re-armed for an earlier deadline after a later one, and a past one returns at once.
    let past = now();
    let start = std::time::Instant::now();
    timer.sleep_until(past).await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(50));
}
