//! RFC 8415 section 15 for each message kind: the first message's delay, RT = IRT + RAND*IRT
//! then 2*RTprev + RAND*RTprev, MRT + RAND*MRT past MRT, MRC and MRD; SOLICIT's first RT
//! strictly above IRT; Elapsed Time in every message.

use super::*;

/// The gap before each of the next `n` messages of the exchange under way, and the
/// messages, from `since` (when the last one went).
fn gaps(c: &mut Client6, since: Instant, n: usize) -> (Vec<f64>, Vec<Outgoing6>) {
    let (mut at, mut out, mut msgs) = (since, Vec::new(), Vec::new());
    for _ in 0..n {
        let (next, m, _) = next_send(c, at + s(1e6));
        out.push(next.saturating_since(at).as_secs_f64());
        msgs.push(m);
        at = next;
    }
    (out, msgs)
}

/// `gap` is `base` moved by RAND in -0.1..=0.1 of `rand_of`.
fn within(gap: f64, base: f64, rand_of: f64) -> bool {
    (base - rand_of * 0.1 - 1e-6..=base + rand_of * 0.1 + 1e-6).contains(&gap)
}

#[test]
fn the_first_solicit_waits_up_to_a_second_and_its_first_rt_is_strictly_above_irt() {
    for seed in 0..200 {
        let mut c = Client6::new(config(), seed);
        let a = c.handle(t(0.0), Event6::Start);
        assert_eq!(notified(&a)[0].0, Transition6::Preinit6);
        let (at, sol, _) = if sends(&a).is_empty() {
            next_send(&mut c, t(1.0))
        } else {
            (t(0.0), sent(&a), a)
        };
        assert!(at <= t(1.0), "SOL_MAX_DELAY: {at:?}");
        assert_eq!(sol.kind, Kind6::Solicit);
        assert_eq!(sol.elapsed, 0);
        assert!(sol.xid <= 0xff_ffff, "24-bit xid");
        let (g, _) = gaps(&mut c, at, 1);
        assert!(g[0] > 1.0 && g[0] <= 1.1 + 1e-6, "first RT {}", g[0]);
    }
}

#[test]
fn solicit_doubles_with_rand_up_to_sol_max_rt_and_elapsed_time_counts_and_caps() {
    let mut c = client();
    let (at, _) = first_solicit(&mut c);
    let (g, msgs) = gaps(&mut c, at, 16);
    let mut rt = g[0];
    for (i, gap) in g.iter().enumerate().skip(1) {
        let doubled = 2.0 * rt;
        if doubled - rt * 0.1 > 3600.0 * 1.1 {
            assert!(within(*gap, 3600.0, 3600.0), "capped RT {gap} at {i}");
        } else if !within(*gap, doubled, rt) {
            // Doubling passed MRT: MRT + RAND*MRT.
            assert!(within(*gap, 3600.0, 3600.0), "RT {gap} after {rt} at {i}");
        }
        rt = *gap;
    }
    assert!(g.iter().skip(13).all(|gap| within(*gap, 3600.0, 3600.0)));
    // Elapsed Time: hundredths of a second since the first SOLICIT, capped at 0xffff.
    let mut total = 0.0;
    for (gap, m) in g.iter().zip(&msgs) {
        total += gap;
        let expect = ((total * 100.0).floor() as u64).min(0xffff) as u16;
        assert!(m.elapsed.abs_diff(expect) <= 1, "{} vs {expect}", m.elapsed);
        assert_eq!(m.xid, msgs[0].xid, "retransmissions keep the xid");
    }
    assert_eq!(msgs.last().unwrap().elapsed, 0xffff);
}

#[test]
fn a_servers_sol_max_rt_caps_solicit_even_from_an_advertise_ignored() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut adv = advertise(
        sol.xid,
        0,
        vec![refused_ia(StatusCode::NoAddrsAvail, false)],
    );
    adv.options.push((82, 100u32.to_be_bytes().to_vec()));
    assert!(c.handle(at + s(0.1), rx(&adv)).is_empty());
    let (g, _) = gaps(&mut c, at, 12);
    assert!(
        g.iter().skip(8).all(|gap| within(*gap, 100.0, 100.0)),
        "{g:?}"
    );
    // Out of 60..=86400 it is not taken.
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut adv = advertise(
        sol.xid,
        0,
        vec![refused_ia(StatusCode::NoAddrsAvail, false)],
    );
    adv.options.push((82, 10u32.to_be_bytes().to_vec()));
    c.handle(at + s(0.1), rx(&adv));
    let (g, _) = gaps(&mut c, at, 8);
    assert!(g[7] > 100.0, "{g:?}");
}

#[test]
fn request_gives_up_after_req_max_rc_and_solicits_again() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let a = c.handle(at, rx(&advertise(sol.xid, 255, vec![the_na()])));
    let req = sent(&a);
    assert_eq!(req.kind, Kind6::Request);
    assert_eq!(req.elapsed, 0, "a new exchange");
    let (g, msgs) = gaps(&mut c, at, 10);
    // 9 retransmissions: 1, 2, 4, 8, 16, then 30 (REQ_MAX_RT), each ±10 %.
    let mut rt = g[0];
    assert!(within(rt, 1.0, 1.0));
    for gap in &g[1..5] {
        assert!(
            within(*gap, 2.0 * rt, rt) || within(*gap, 30.0, 30.0),
            "{g:?}"
        );
        rt = *gap;
    }
    assert!(g[5..9].iter().all(|gap| within(*gap, 30.0, 30.0)), "{g:?}");
    assert!(msgs[..9]
        .iter()
        .all(|m| m.kind == Kind6::Request && m.xid == req.xid));
    // The tenth message is no REQUEST: REQ_MAX_RC (10) were sent; a new SOLICIT.
    assert_eq!(msgs[9].kind, Kind6::Solicit);
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn renew_retransmits_from_ren_timeout_until_t2_then_rebinds_until_the_end() {
    let (mut c, lease, start) = bound();
    let t1 = start + s(1000.0);
    let t2 = start + s(2000.0);
    let end = start + s(4000.0);
    assert_eq!(c.poll_at(), Some(t1));
    let (at, ren, _) = next_send(&mut c, t1);
    assert_eq!((at, ren.kind, ren.elapsed), (t1, Kind6::Renew, 0));
    let mut now = at;
    let mut rt: Option<f64> = None;
    loop {
        let (next, m, _) = next_send(&mut c, end);
        let gap = next.saturating_since(now).as_secs_f64();
        if m.kind == Kind6::Rebind {
            assert_eq!(next, t2, "MRD of RENEW is T2");
            break;
        }
        match rt {
            None => assert!(within(gap, 10.0, 10.0), "REN_TIMEOUT {gap}"),
            Some(prev) if next < t2 => assert!(
                within(gap, 2.0 * prev, prev) || within(gap, 600.0, 600.0),
                "{gap} after {prev}"
            ),
            Some(_) => {}
        }
        rt = Some(gap);
        now = next;
    }
    // REBIND: REB_TIMEOUT, doubling, up to REB_MAX_RT, until the end: then expiry.
    let mut now = t2;
    let mut first = true;
    loop {
        let at = c.poll_at().unwrap();
        assert!(at <= end);
        let a = c.handle(at, Event6::Tick);
        if let Some((gone, reason, tr)) = deconfigured(&a) {
            assert_eq!(
                (at, reason, tr),
                (end, Reason6::Expired, Transition6::Expire6)
            );
            assert_eq!(gone.ias, lease.ias);
            break;
        }
        let Some(m) = sends(&a).into_iter().next() else {
            continue; // DEPREF6 at 3000 s
        };
        assert_eq!(m.kind, Kind6::Rebind);
        if first {
            assert!(within(at.saturating_since(now).as_secs_f64(), 10.0, 10.0));
            first = false;
        }
        assert!(at.saturating_since(now) <= s(660.0));
        now = at;
    }
}

#[test]
fn information_request_waits_up_to_a_second_then_doubles_up_to_inf_max_rt() {
    let mut c = Client6::new(
        Config6::new(DUID.to_vec(), dhcpc::v6::core::Mode6::Stateless),
        3,
    );
    let (at, m, _) = {
        let a = c.handle(t(0.0), Event6::Start);
        if sends(&a).is_empty() {
            next_send(&mut c, t(1.0))
        } else {
            (t(0.0), sent(&a), a)
        }
    };
    assert_eq!(m.kind, Kind6::InformationRequest);
    assert!(at <= t(1.0));
    let (g, _) = gaps(&mut c, at, 16);
    assert!(within(g[0], 1.0, 1.0), "INF_TIMEOUT {}", g[0]);
    assert!(g.iter().all(|gap| *gap <= 3960.0 + 1e-6));
    assert!(
        g.iter().skip(13).all(|gap| within(*gap, 3600.0, 3600.0)),
        "{g:?}"
    );
}

#[test]
fn release_is_sent_rel_max_rc_times_then_the_client_is_done() {
    let (mut c, _, start) = bound();
    let now = start + s(10.0);
    let a = c.handle(now, Event6::Release);
    let rel = sent(&a);
    assert_eq!(rel.kind, Kind6::Release);
    let (g, msgs) = gaps(&mut c, now, 3);
    assert!(msgs
        .iter()
        .all(|m| m.kind == Kind6::Release && m.xid == rel.xid));
    assert!(within(g[0], 1.0, 1.0) && within(g[1], 2.0 * g[0], g[0]));
    // After the fourth, its RT passes: done, nothing more.
    let at = c.poll_at().unwrap();
    let a = c.handle(at, Event6::Tick);
    assert!(sends(&a).is_empty());
    assert!(a.contains(&Action6::Done));
    assert_eq!(c.poll_at(), None);
    assert_eq!(c.state(), StateName6::Stopped);
}

#[test]
fn elapsed_time_starts_at_zero_in_each_exchange() {
    let (mut c, _, start) = bound();
    let (_, ren, _) = next_send(&mut c, start + s(1000.0));
    assert_eq!(ren.elapsed, 0);
    let (at, again, _) = next_send(&mut c, start + s(2000.0));
    let cs = at.saturating_since(start + s(1000.0)).as_millis() / 10;
    assert_eq!(u128::from(again.elapsed), cs);
}

/// `--initial-delay 0` (dhcpc's default; RFC 8415 18.2.1 makes the wait a *should*): the first
/// SOLICIT goes at Start, its first RT still strictly above IRT.
#[test]
fn with_no_initial_delay_the_first_solicit_goes_at_start() {
    for seed in 0..50 {
        let mut cfg = config();
        cfg.max_delay = Duration::ZERO;
        let mut c = Client6::new(cfg, seed);
        let a = c.handle(t(0.0), Event6::Start);
        let sol = sent(&a);
        assert_eq!(sol.kind, Kind6::Solicit);
        let (g, _) = gaps(&mut c, t(0.0), 1);
        assert!(g[0] > 1.0 && g[0] <= 1.1 + 1e-6, "first RT {}", g[0]);
    }
}
