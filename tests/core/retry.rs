//! The retry policy as a value ([`RetryPolicy`]): its default is RFC 2131's figures, and each
//! of its values changes what the client does, on virtual time.

use super::*;
use dhcpc::core::{RetryPolicy, REBOOT_WAIT};

fn with_policy(retry: RetryPolicy) -> Client {
    let mut cfg = config();
    cfg.retry = retry;
    Client::new(cfg, 42)
}

/// The waits between the DISCOVERs of `c`, after its start, for `n` retransmissions.
fn discover_waits(c: &mut Client, n: usize) -> Vec<Duration> {
    let mut now = t(0.0);
    sent(&c.handle(now, Event::Start));
    let mut waits = Vec::new();
    for _ in 0..n {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now));
        let (d, _) = sent(&c.handle(at, Event::Tick));
        assert_eq!(kind(&d), MessageType::Discover);
        now = at;
    }
    waits
}

#[test]
fn the_default_policy_is_rfc_2131s() {
    let p = RetryPolicy::default();
    assert_eq!(
        (p.backoff_base, p.backoff_cap, p.jitter),
        (
            Duration::from_secs(4),
            Duration::from_secs(64),
            Duration::from_secs(1)
        )
    );
    assert_eq!((p.requests, p.renew_floor), (4, Duration::from_secs(60)));
    assert_eq!((p.reboot_wait, p.decline_wait), (REBOOT_WAIT, DECLINE_WAIT));
    assert_eq!(p.timer_fuzz_percent, 5);
    let secs: Vec<u64> = (1..=7).map(|n| p.backoff(n).as_secs()).collect();
    assert_eq!(secs, [4, 8, 16, 32, 64, 64, 64]);
    assert_eq!(p.backoff(u32::MAX), Duration::from_secs(64));
    assert_eq!(Config::new(MAC).retry, p);
}

#[test]
fn the_policy_sets_the_backoff_and_its_jitter() {
    let mut c = with_policy(RetryPolicy {
        backoff_base: Duration::from_secs(2),
        backoff_cap: Duration::from_secs(8),
        jitter: Duration::ZERO,
        ..RetryPolicy::default()
    });
    let secs: Vec<u64> = discover_waits(&mut c, 5)
        .iter()
        .map(|w| w.as_secs())
        .collect();
    assert_eq!(secs, [2, 4, 8, 8, 8]);

    // A jitter of a quarter second: every wait within it of its base, and not all the same.
    for seed in 0..20 {
        let mut cfg = config();
        cfg.retry.jitter = Duration::from_millis(250);
        let mut c = Client::new(cfg, seed);
        let waits = discover_waits(&mut c, 5);
        for (n, w) in waits.iter().enumerate() {
            let base = RetryPolicy::default().backoff(n as u32 + 1);
            let (lo, hi) = (
                base - Duration::from_millis(250),
                base + Duration::from_millis(250),
            );
            assert!((lo..=hi).contains(w), "seed {seed}: wait {n} is {w:?}");
        }
        assert!(waits.iter().any(|w| w.subsec_millis() != 0), "{waits:?}");
    }
}

#[test]
fn the_policy_sets_how_many_requests_go_unanswered_before_init() {
    let mut c = with_policy(RetryPolicy {
        requests: 2,
        ..RetryPolicy::default()
    });
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.5), Event::Reply(&rx(&offer(d.xid()))));
    let at = c.poll_at().unwrap();
    let (r, _) = sent(&c.handle(at, Event::Tick));
    assert_eq!(kind(&r), MessageType::Request);
    let at = c.poll_at().unwrap();
    let (d, _) = sent(&c.handle(at, Event::Tick));
    assert_eq!(kind(&d), MessageType::Discover, "after two REQUESTs");
    assert_eq!(c.state(), StateName::Selecting);
}

/// The waits between retransmissions in RENEWING, from T1 to T2, of a 400 s lease with
/// unfuzzed times (T1 200 s, T2 350 s), under `floor`.
fn renewal_waits(floor: Duration) -> Vec<Duration> {
    let mut c = with_policy(RetryPolicy {
        renew_floor: floor,
        timer_fuzz_percent: 0,
        ..RetryPolicy::default()
    });
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.0), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.0), Event::Reply(&rx(&ack(d.xid(), 400))));
    let mut now = c.poll_at().unwrap();
    assert_eq!(now, t(200.0));
    c.handle(now, Event::Tick);
    let mut waits = Vec::new();
    while c.state() == StateName::Renewing {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now));
        c.handle(at, Event::Tick);
        now = at;
    }
    assert_eq!(now, t(350.0), "REBINDING at T2");
    waits
}

#[test]
fn the_policy_sets_the_floor_of_renewal_retries() {
    let ms = |v: &[Duration]| v.iter().map(|d| d.as_millis()).collect::<Vec<_>>();
    // Half the time left to T2, never under 60 s: 75, then 60, then T2 itself.
    assert_eq!(
        ms(&renewal_waits(Duration::from_secs(60))),
        [75_000, 60_000, 15_000]
    );
    // Under 10 s: 75, 37.5, 18.75, then 10 (half would be 9.375), then T2.
    assert_eq!(
        ms(&renewal_waits(Duration::from_secs(10))),
        [75_000, 37_500, 18_750, 10_000, 8_750]
    );
}

#[test]
fn the_policy_sets_the_reboot_wait() {
    let mut c = with_policy(RetryPolicy {
        reboot_wait: Duration::from_secs(2),
        ..RetryPolicy::default()
    })
    .with_saved_lease(saved_lease(t(0.0), 3600));
    sent(&c.handle(t(10.0), Event::Start));
    assert_eq!(
        c.poll_at(),
        Some(t(11.0)),
        "the second REQUEST at half of it"
    );
    sent(&c.handle(t(11.0), Event::Tick));
    assert_eq!(c.poll_at(), Some(t(12.0)));
    let a = c.handle(t(12.0), Event::Tick);
    assert_eq!(deconfigured(&a).unwrap().1, Reason::Unconfirmed);
}

#[test]
fn the_policy_sets_the_decline_wait() {
    let mut cfg = Config::new(MAC);
    cfg.retry.decline_wait = Duration::from_secs(3);
    let mut c = Client::new(cfg, 42);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert_eq!(c.state(), StateName::Probing);
    let a = c.handle(
        t(0.25),
        Event::Arp(ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 0x42],
            sender_ip: ADDR,
            target_ip: ADDR,
        }),
    );
    assert_eq!(kind(&sent(&a).0), MessageType::Decline);
    assert_eq!(c.state(), StateName::Init);
    assert_eq!(c.poll_at(), Some(t(3.25)));
}

#[test]
fn the_policy_sets_the_pause_after_naks() {
    let mut c = with_policy(RetryPolicy {
        backoff_base: Duration::from_secs(1),
        ..RetryPolicy::default()
    });
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    // The first NAK restarts at once; the second waits the policy's first backoff.
    let a = c.handle(t(0.2), Event::Reply(&rx(&nak(d.xid(), SERVER))));
    let (d, _) = sent(&a);
    c.handle(t(0.3), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.4), Event::Reply(&rx(&nak(d.xid(), SERVER))));
    assert_eq!(c.state(), StateName::Init);
    assert_eq!(c.poll_at(), Some(t(1.4)));
}
