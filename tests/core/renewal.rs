//! Keeping a lease: RENEWING at T1, REBINDING at T2, expiry, and the fuzz of T1 and T2.

use super::*;

#[test]
fn renew_at_t1_unicast_then_rebind_at_t2_then_expire() {
    // T1 and T2 unfuzzed, so that the whole schedule is exact (the fuzz has tests of its own).
    let mut cfg = config();
    cfg.retry.timer_fuzz_percent = 0;
    let (mut c, _, lease) = bound_with(cfg, 3600);
    let start = lease.start;
    let t1 = start + Duration::from_secs(1800);
    let t2 = start + Duration::from_secs(3150);
    let end = start + Duration::from_secs(3600);
    assert_eq!(c.poll_at(), Some(t1));

    // T1: REQUEST unicast to the server, ciaddr set, no options 50/54.
    let (r, dest) = sent(&c.handle(t1, Event::Tick));
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(kind(&r), MessageType::Request);
    assert_eq!(r.ciaddr(), ADDR);
    assert!(opt(&r, OptionCode::RequestedIpAddress).is_none());
    assert!(opt(&r, OptionCode::ServerIdentifier).is_none());
    assert!(!r.flags().broadcast());
    assert_eq!(c.state(), StateName::Renewing);

    // Retransmit at half the time left to T2, never under 60 s: 1350 s left → 675 s, …
    let mut now = t1;
    let mut waits = Vec::new();
    while c.state() == StateName::Renewing {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now).as_secs());
        let a = c.handle(at, Event::Tick);
        let (m, dest) = sent(&a);
        now = at;
        if c.state() == StateName::Renewing {
            assert_eq!(dest, Dest::Unicast(SERVER));
            assert_eq!(m.ciaddr(), ADDR);
        } else {
            // T2 reached: REBINDING broadcasts.
            assert_eq!(now, t2);
            assert_eq!(dest, Dest::Broadcast);
            assert_eq!(m.ciaddr(), ADDR);
            assert!(opt(&m, OptionCode::ServerIdentifier).is_none());
        }
    }
    assert_eq!(waits, vec![675, 337, 168, 84, 60, 24]);
    assert_eq!(c.state(), StateName::Rebinding);

    // Rebinding: half the time left to expiry, not under 60 s, then expiry.
    let mut waits = Vec::new();
    loop {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now).as_secs());
        let a = c.handle(at, Event::Tick);
        now = at;
        if let Some((gone, reason)) = deconfigured(&a) {
            assert_eq!(now, end);
            assert_eq!(gone.address, ADDR);
            assert_eq!(reason, Reason::Expired);
            let (d, _) = sent(&a);
            assert_eq!(kind(&d), MessageType::Discover);
            break;
        }
        let (m, dest) = sent(&a);
        assert_eq!(dest, Dest::Broadcast);
        assert_eq!(kind(&m), MessageType::Request);
    }
    assert_eq!(waits, vec![225, 112, 60, 52]);
    assert_eq!(c.state(), StateName::Selecting);
    assert!(c.lease().is_none());
}

#[test]
fn ack_while_renewing_updates_the_lease_and_timers() {
    let (mut c, _, lease) = bound(3600);
    let t1 = lease.renew_at().unwrap();
    let (r, _) = sent(&c.handle(t1, Event::Tick));
    let a = c.handle(
        t1 + Duration::from_millis(5),
        Event::Reply(&rx(&ack(r.xid(), 7200))),
    );
    let (new, previous) = configured(&a).unwrap();
    assert_eq!(previous, Some(lease));
    assert_eq!(new.lease_secs, 7200);
    assert_eq!(new.start, t1);
    assert_eq!(c.state(), StateName::Bound);
    // The new T1: half of the new lease, within the fuzz.
    assert!(within(new.t1_secs, 3600, 5), "T1 {}", new.t1_secs);
    let new_t1 = Duration::from_secs(u64::from(new.t1_secs));
    assert_eq!(c.poll_at(), Some(t1 + new_t1));
}

#[test]
fn renewing_only_takes_answers_from_the_leasing_server() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let later = lease.renew_at().unwrap() + Duration::from_secs(1);
    assert!(c
        .handle(
            later,
            Event::Reply(&rx(&ack_from(r.xid(), OTHER_SERVER, 3600)))
        )
        .is_empty());
    assert!(c
        .handle(later, Event::Reply(&rx(&nak(r.xid(), OTHER_SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn rebinding_accepts_any_server() {
    let (mut c, _, lease) = bound(3600);
    sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let t2 = lease.rebind_at().unwrap();
    let mut now = lease.renew_at().unwrap();
    while now < t2 {
        now = c.poll_at().unwrap();
        c.handle(now, Event::Tick);
    }
    assert_eq!(c.state(), StateName::Rebinding);
    let xid = {
        let at = c.poll_at().unwrap();
        sent(&c.handle(at, Event::Tick)).0.xid()
    };
    let a = c.handle(
        now + Duration::from_secs(300),
        Event::Reply(&rx(&ack_from(xid, OTHER_SERVER, 3600))),
    );
    let (new, _) = configured(&a).unwrap();
    assert_eq!(new.server_id, OTHER_SERVER);
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn nak_while_renewing_drops_the_address_and_restarts() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let a = c.handle(
        lease.renew_at().unwrap() + Duration::from_secs(1),
        Event::Reply(&rx(&nak(r.xid(), SERVER))),
    );
    let (gone, reason) = deconfigured(&a).unwrap();
    assert_eq!((gone.address, reason), (ADDR, Reason::Nak));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn infinite_lease_has_no_timers() {
    let (c, _, lease) = bound(u32::MAX);
    assert!(lease.is_infinite());
    assert_eq!(c.poll_at(), None);
    assert_eq!(lease.expires_at(), None);
}

#[test]
fn renew_event_renews_now() {
    let (mut c, _, _) = bound(3600);
    let (r, dest) = sent(&c.handle(t(10.0), Event::Renew));
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(r.ciaddr(), ADDR);
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn hours_of_lease_life_run_in_virtual_time() {
    // Ten full renewals of a one-hour lease, each answered at once: 10 hours in no time.
    let (mut c, _, mut lease) = bound(3600);
    for _ in 0..10 {
        let t1 = lease.renew_at().unwrap();
        assert_eq!(c.poll_at(), Some(t1));
        let (r, _) = sent(&c.handle(t1, Event::Tick));
        let a = c.handle(t1, Event::Reply(&rx(&ack(r.xid(), 3600))));
        lease = configured(&a).unwrap().0;
    }
    // Each T1 half the hour, within the 5 % fuzz.
    assert!(lease.start >= t(10.0 * 1800.0 * 0.95));
}

#[test]
fn renewal_times_are_clamped() {
    use dhcpc::lease::renewal_times;
    assert_eq!(renewal_times(3600, None, None), (1800, 3150));
    assert_eq!(renewal_times(3600, Some(600), Some(1200)), (600, 1200));
    // T2 at or past the lease: default T2; T1 at or past T2: default T1.
    assert_eq!(renewal_times(3600, Some(100), Some(3600)), (100, 3150));
    assert_eq!(renewal_times(3600, Some(3200), Some(3000)), (1800, 3000));
    // A T2 below the default T1 pulls T1 under it.
    assert_eq!(renewal_times(3600, None, Some(1000)), (500, 1000));
    assert_eq!(
        renewal_times(u32::MAX, Some(5), Some(6)),
        (u32::MAX, u32::MAX)
    );
    for lease in [1u32, 2, 3, 7, 60, 86400, u32::MAX - 1] {
        let (t1, t2) = renewal_times(lease, None, None);
        assert!(t1 <= t2 && t2 <= lease, "{lease}: {t1} {t2}");
    }
}

#[test]
fn nak_while_rebinding_drops_the_address_and_restarts() {
    let (mut c, _, lease) = bound(3600);
    sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let t2 = lease.rebind_at().unwrap();
    while c.state() != StateName::Rebinding {
        let at = c.poll_at().unwrap();
        c.handle(at, Event::Tick);
    }
    let at = c.poll_at().unwrap();
    let (r, _) = sent(&c.handle(at, Event::Tick));
    // In REBINDING any server may answer, and a NAK from any of them ends the lease.
    let a = c.handle(
        t2 + Duration::from_secs(1),
        Event::Reply(&rx(&nak(r.xid(), OTHER_SERVER))),
    );
    assert_eq!(deconfigured(&a).unwrap(), (lease, Reason::Nak));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn an_unanswered_renewal_of_an_infinite_lease_keeps_it() {
    let (mut c, _, lease) = bound(u32::MAX);
    sent(&c.handle(t(10.0), Event::Renew));
    let mut tries = 1;
    while c.state() == StateName::Renewing {
        let at = c.poll_at().expect("a retry is due");
        let a = c.handle(at, Event::Tick);
        assert!(deconfigured(&a).is_none(), "an infinite lease never goes");
        tries += sends(&a);
    }
    assert_eq!(tries, 4);
    assert_eq!((c.state(), c.lease()), (StateName::Bound, Some(&lease)));
    assert_eq!(c.poll_at(), None);
}

/// T1 and T2 of the lease bound by a client of seed `seed` from an ACK of `lease_secs` with
/// options 58 and 59 when given.
fn fuzzed(seed: u64, lease_secs: u32, t1t2: Option<(u32, u32)>, percent: u8) -> (u32, u32) {
    let mut cfg = config();
    cfg.retry.timer_fuzz_percent = percent;
    let mut c = Client::new(cfg, seed);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    let mut a = ack(d.xid(), lease_secs);
    if let Some((t1, t2)) = t1t2 {
        a.opts_mut().insert(DhcpOption::Renewal(t1));
        a.opts_mut().insert(DhcpOption::Rebinding(t2));
    }
    let acts = c.handle(t(0.02), Event::Reply(&rx(&a)));
    let (lease, _) = configured(&acts).expect("bound");
    assert!(lease.check().is_ok(), "{lease:?}");
    // The timers are the lease's own, fuzzed, times.
    assert_eq!(c.timers().get(Timer::Renew), lease.renew_at());
    assert_eq!(c.timers().get(Timer::Rebind), lease.rebind_at());
    (lease.t1_secs, lease.t2_secs)
}

#[test]
fn t1_and_t2_are_fuzzed_within_five_percent_the_same_for_the_same_seed() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let (t1, t2) = fuzzed(seed, 3600, None, 5);
        assert!(within(t1, 1800, 5) && within(t2, 3150, 5), "{t1} {t2}");
        assert!(1 <= t1 && t1 < t2 && t2 < 3600);
        // Deterministic: the same seed, the same times.
        assert_eq!(fuzzed(seed, 3600, None, 5), (t1, t2), "seed {seed}");
        seen.insert((t1, t2));
    }
    // Fuzz indeed: clients booted together spread their renewals.
    assert!(seen.len() > 32, "{seen:?}");
    assert!(seen.iter().any(|&(t1, _)| t1 < 1800) && seen.iter().any(|&(t1, _)| t1 > 1800));
}

#[test]
fn the_servers_own_t1_and_t2_are_fuzzed_too() {
    for seed in 0..16 {
        let (t1, t2) = fuzzed(seed, 86400, Some((40000, 70000)), 5);
        assert!(within(t1, 40000, 5) && within(t2, 70000, 5), "{t1} {t2}");
    }
}

#[test]
fn times_too_short_to_move_by_a_second_and_a_fuzz_of_zero_stay_exact() {
    for seed in 0..16 {
        // T1 10 s and T2 17 s: 5 % of each is under a second.
        assert_eq!(fuzzed(seed, 20, None, 5), (10, 17));
        assert_eq!(fuzzed(seed, 3600, None, 0), (1800, 3150));
    }
}

#[test]
fn the_fuzz_keeps_t1_below_t2_below_the_lease() {
    use dhcpc::core::fuzz_times;
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..2000 {
        // Times crowded against each other and against the end of the lease.
        let lease = rng.u32(4..200_000);
        let t2 = rng.u32(2..lease);
        let t1 = rng.u32(1..t2);
        let percent = rng.u8(0..=100);
        let (f1, f2) = fuzz_times(t1, t2, lease, percent, &mut rng);
        assert!(
            1 <= f1 && f1 < f2 && f2 < lease,
            "{t1} {t2} {lease}: {f1} {f2}"
        );
        let spread = |t: u32| i64::from(t) * i64::from(percent) / 100;
        assert!((i64::from(f2) - i64::from(t2)).abs() <= spread(t2));
        assert!((i64::from(f1) - i64::from(t1)).abs() <= spread(t1) + 1);
    }
    // An infinite lease, and times out of order, are left as they are.
    let inf = dhcpc::lease::INFINITE;
    assert_eq!(fuzz_times(inf, inf, inf, 5, &mut rng), (inf, inf));
    assert_eq!(fuzz_times(3000, 2000, 3600, 5, &mut rng), (3000, 2000));
}
