//! RENEW at T1, REBIND at T2 (the server's, or RFC 8415 21.4's 0.5 and 0.8 of the shortest
//! preferred lifetime, INFINITY never), the REPLY merged, DEPREF6, expiry.

use super::*;
use dhcpc::v6::INFINITY;

#[test]
fn renew_goes_to_the_server_of_the_lease_with_what_it_holds() {
    let (mut c, _, start) = bound();
    assert_eq!(c.poll_at(), Some(start + s(1000.0)));
    let (_, ren, _) = next_send(&mut c, start + s(1000.0));
    assert_eq!(ren.kind, Kind6::Renew);
    assert_eq!(ren.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(ren.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    assert!(ren.oro.contains(&82));
    assert_eq!(c.state(), StateName6::Renewing);
}

#[test]
fn a_reply_to_renew_extends_the_lease_from_when_renew_began() {
    let (mut c, lease, start) = bound();
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    let renewed = na(IAID, 1500, 2400, &[(ADDR, 3000, 5000)]);
    let a = c.handle(t1 + s(0.5), rx(&reply(ren.xid, vec![renewed.clone()])));
    let (new, previous, transition) = configured(&a).unwrap();
    assert_eq!(transition, Transition6::Renew6);
    assert_eq!(previous, Some(lease));
    assert_eq!(new.start, t1);
    assert_eq!(new.ias, vec![renewed]);
    assert_eq!(c.state(), StateName6::Bound);
    assert_eq!(c.poll_at(), Some(t1 + s(1500.0)));
}

#[test]
fn rebind_at_t2_goes_to_any_server() {
    let (mut c, _, start) = bound();
    let t2 = start + s(2000.0);
    let mut last = None;
    while c.state() != StateName6::Rebinding {
        let (at, m, _) = next_send(&mut c, t2);
        last = Some((at, m));
    }
    let (at, reb) = last.unwrap();
    assert_eq!(at, t2);
    assert_eq!((reb.kind, reb.server_id), (Kind6::Rebind, None));
    assert_eq!(reb.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
}

#[test]
fn t1_and_t2_of_0_are_half_and_four_fifths_of_the_shortest_preferred_lifetime() {
    let ia = na(IAID, 0, 0, &[(ADDR, 1000, 4000), (ADDR2, 3000, 4000)]);
    let (c, _, start) = bound_with(config(), vec![ia]);
    assert_eq!(
        c.timers().get(dhcpc::v6::core::Timer6::Renew),
        Some(start + s(500.0))
    );
    assert_eq!(
        c.timers().get(dhcpc::v6::core::Timer6::Rebind),
        Some(start + s(800.0))
    );
}

#[test]
fn infinite_times_never_renew_and_infinite_lifetimes_never_expire() {
    let ia = na(IAID, INFINITY, INFINITY, &[(ADDR, INFINITY, INFINITY)]);
    let (c, _, _) = bound_with(config(), vec![ia]);
    assert_eq!(c.poll_at(), None);
    let ia = na(IAID, 0, 0, &[(ADDR, INFINITY, INFINITY)]);
    let (c, _, _) = bound_with(config(), vec![ia]);
    assert_eq!(
        c.poll_at(),
        None,
        "the client's own T1 of INFINITY is never too"
    );
}

#[test]
fn an_ia_with_t1_above_t2_is_discarded() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let bad = na(IAID, 2000, 1000, &[(ADDR, 3000, 4000)]);
    assert!(c
        .handle(at, rx(&advertise(sol.xid, 255, vec![bad])))
        .is_empty());
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn t1_beyond_the_lease_is_never_used_expiry_comes_first() {
    let ia = na(IAID, 5000, 6000, &[(ADDR, 3000, 4000)]);
    let (mut c, _, start) = bound_with(config(), vec![ia]);
    assert_eq!(c.poll_at(), Some(start + s(3000.0)), "DEPREF6 first");
    let a = c.handle(start + s(3000.0), Event6::Tick);
    assert_eq!(notified(&a)[0].0, Transition6::Depref6);
    assert_eq!(c.poll_at(), Some(start + s(4000.0)));
    let a = c.handle(start + s(4000.0), Event6::Tick);
    assert_eq!(deconfigured(&a).unwrap().1, Reason6::Expired);
    assert_eq!(sent(&a).kind, Kind6::Solicit);
}

#[test]
fn depref6_tells_only_what_was_deprecated() {
    let ia = na(IAID, 1000, 2000, &[(ADDR, 1500, 4000), (ADDR2, 3000, 4000)]);
    let (mut c, _, start) = bound_with(config(), vec![ia]);
    // Renewals unanswered; the preferred lifetime of ADDR passes at 1500 s.
    let mut seen = Vec::new();
    while let Some(at) = c.poll_at().filter(|at| *at <= start + s(3000.0)) {
        for (tr, lease) in notified(&c.handle(at, Event6::Tick)) {
            seen.push((at, tr, addrs(&lease.unwrap())));
        }
    }
    assert_eq!(
        seen,
        vec![
            (start + s(1500.0), Transition6::Depref6, vec![ADDR]),
            (start + s(3000.0), Transition6::Depref6, vec![ADDR2]),
        ]
    );
}

#[test]
fn what_runs_out_goes_and_the_rest_stays_expire6() {
    let ia = na(IAID, 1000, 2000, &[(ADDR, 1000, 2500), (ADDR2, 3000, 4000)]);
    let (mut c, lease, start) = bound_with(config(), vec![ia]);
    let mut when = None;
    while let Some(at) = c.poll_at().filter(|at| *at <= start + s(2500.0)) {
        let a = c.handle(at, Event6::Tick);
        if let Some((rest, previous, tr)) = configured(&a) {
            assert_eq!(tr, Transition6::Expire6);
            assert_eq!(previous.as_ref(), Some(&lease));
            assert_eq!(addrs(&rest), vec![ADDR2]);
            assert_eq!(rest.start, lease.start);
            when = Some(at);
        }
    }
    assert_eq!(when, Some(start + s(2500.0)));
    assert_eq!(addrs(c.lease().unwrap()), vec![ADDR2]);
    assert_eq!(c.state(), StateName6::Rebinding);
}

#[test]
fn no_binding_in_a_renew_reply_requests_the_ia() {
    let (mut c, _, start) = bound();
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    let r = reply(ren.xid, vec![refused_ia(StatusCode::NoBinding, false)]);
    let a = c.handle(t1 + s(0.1), rx(&r));
    let req = sent(&a);
    assert_eq!(req.kind, Kind6::Request);
    assert_eq!(req.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(req.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    let a = c.handle(t1 + s(0.2), rx(&reply(req.xid, vec![the_na()])));
    assert_eq!(configured(&a).unwrap().2, Transition6::Bound6);
}

#[test]
fn a_renew_reply_keeps_what_it_leaves_out_and_drops_what_it_withdraws() {
    let ia = na(IAID, 1000, 2000, &[(ADDR, 3000, 4000), (ADDR2, 3000, 4000)]);
    let (mut c, _, start) = bound_with(config(), vec![ia]);
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    // ADDR renewed, ADDR2 not mentioned: kept, its lifetimes counted from T1 now.
    let a = c.handle(t1, rx(&reply(ren.xid, vec![the_na()])));
    let (lease, _, _) = configured(&a).unwrap();
    let kept = na(IAID, 1000, 2000, &[(ADDR, 3000, 4000), (ADDR2, 2000, 3000)]);
    assert_eq!(lease.ias, vec![kept]);
    // At the next T1, ADDR2 withdrawn (valid 0): it goes.
    let t1b = t1 + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1b);
    let r = reply(
        ren.xid,
        vec![na(IAID, 1000, 2000, &[(ADDR, 3000, 4000), (ADDR2, 0, 0)])],
    );
    let (lease, _, _) = configured(&c.handle(t1b, rx(&r))).unwrap();
    assert_eq!(addrs(&lease), vec![ADDR]);
}

#[test]
fn a_renew_reply_that_renews_nothing_is_let_be() {
    let (mut c, _, start) = bound();
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    let r = reply(ren.xid, vec![refused_ia(StatusCode::NoAddrsAvail, false)]);
    assert!(c.handle(t1 + s(0.1), rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Renewing);
}

#[test]
fn a_renew_reply_that_withdraws_everything_ends_the_lease() {
    let (mut c, _, start) = bound();
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    let r = reply(ren.xid, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    let a = c.handle(t1 + s(0.1), rx(&r));
    assert_eq!(deconfigured(&a).unwrap().1, Reason6::Expired);
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn renew_asked_for_goes_out_at_once() {
    let (mut c, _, start) = bound();
    let a = c.handle(start + s(5.0), Event6::Renew);
    assert_eq!(sent(&a).kind, Kind6::Renew);
}

/// A server that answers every RENEW and REBIND at once with `ia`: messages sent in the
/// `secs` after binding.
fn chatter(ia: Ia, secs: f64) -> usize {
    let (mut c, _, start) = bound_with(config(), vec![ia.clone()]);
    let mut count = 0;
    while let Some(at) = c.poll_at().filter(|at| *at <= start + s(secs)) {
        let mut a = c.handle(at, Event6::Tick);
        while let Some(m) = sends(&a).into_iter().next() {
            count += 1;
            assert!(count < 1000, "the client loops");
            a = c.handle(at, rx(&reply(m.xid, vec![ia.clone()])));
        }
    }
    count
}

#[test]
fn a_preferred_lifetime_of_0_with_times_of_0_does_not_make_the_client_loop() {
    // The client's own T1 is never under 10 s: one REBIND each 10 s, not one each instant.
    let n = chatter(na(IAID, 0, 0, &[(ADDR, 0, 100)]), 95.0);
    assert!((8..=10).contains(&n), "{n} messages in 95 s");
    let n = chatter(na(IAID, 0, 0, &[(ADDR, 1, 100)]), 95.0);
    assert!((8..=10).contains(&n), "{n} messages in 95 s");
}

#[test]
fn an_ia_left_out_of_every_renewal_does_not_renew_ever_faster() {
    let mut cfg = config();
    cfg.mode = dhcpc::v6::core::Mode6::Stateful {
        na: vec![IAID],
        pd: vec![PdAsk {
            iaid: IAID,
            hint: None,
        }],
    };
    let prefix = pd(IAID, 0, 0, &[(PREFIX, 56, 400, 500)]);
    let addr = na(IAID, 50, 80, &[(ADDR, 3000, 4000)]);
    let (mut c, _, start) = bound_with(cfg, vec![addr.clone(), prefix]);
    // Every renewal renews the address only; the prefix is carried, shrinking, to its end.
    let mut times = Vec::new();
    while let Some(at) = c.poll_at().filter(|at| *at <= start + s(600.0)) {
        let a = c.handle(at, Event6::Tick);
        if let Some(m) = sends(&a).into_iter().next() {
            times.push(at);
            assert!(times.len() < 100, "renewing ever faster: {times:?}");
            c.handle(at, rx(&reply(m.xid, vec![addr.clone()])));
        }
    }
    for w in times.windows(2) {
        assert!(w[1].saturating_since(w[0]) >= s(10.0), "{times:?}");
    }
    assert_eq!(addrs(c.lease().unwrap()), vec![ADDR], "the prefix ran out");
}
