//! The shell's CLOCK_BOOTTIME timer: deadlines fire at their time, not before, a deadline
//! already past returns at once, and every deadline of the process waits on one timerfd.
//! (That it counts suspended time is the kernel's CLOCK_BOOTTIME contract; a test cannot
//! suspend the machine.)

use dhcpc::shell::clock::{now, sleep_until};
use std::time::Duration;

/// How many timerfds this process holds.
fn timerfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().contains("timerfd"))
        })
        .count()
}

#[tokio::test]
async fn deadlines_fire_at_their_time() {
    for ms in [1u64, 30, 80] {
        let deadline = now() + Duration::from_millis(ms);
        sleep_until(deadline).await.unwrap();
        assert!(now() >= deadline, "woke before the {ms} ms deadline");
    }
    // A past deadline returns at once.
    let past = now();
    let start = std::time::Instant::now();
    sleep_until(past).await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(50));
}

#[tokio::test]
async fn a_thousand_deadlines_share_one_timerfd() {
    let start = now();
    // Out of order, some equal, some cancelled: each wakes at its own time.
    let waits = (0..1000u64).map(|i| {
        let deadline = start + Duration::from_millis(20 + (i * 7919) % 200);
        tokio::spawn(async move {
            if i % 10 == 0 {
                // Cancelled before its deadline: its place on the timer goes too.
                let _ = tokio::time::timeout(Duration::from_millis(5), sleep_until(deadline)).await;
                return None;
            }
            sleep_until(deadline).await.unwrap();
            Some((deadline, now()))
        })
    });
    let handles: Vec<_> = waits.collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        timerfds(),
        1,
        "one timerfd for every deadline of the process"
    );
    let mut woke = 0;
    for h in handles {
        if let Some((deadline, at)) = h.await.unwrap() {
            assert!(at >= deadline, "woke before its deadline");
            assert!(
                at.saturating_since(deadline) < Duration::from_millis(500),
                "woke {:?} late",
                at.saturating_since(deadline)
            );
            woke += 1;
        }
    }
    assert_eq!(woke, 900);
    // An earlier deadline after later ones re-arms the timer for it.
    let later = tokio::spawn(sleep_until(now() + Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let t = std::time::Instant::now();
    sleep_until(now() + Duration::from_millis(20))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_millis(500));
    later.abort();
}
