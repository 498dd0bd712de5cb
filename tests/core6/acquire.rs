//! SOLICIT, ADVERTISE, REQUEST, REPLY (RFC 8415 18.2.1, 18.2.2, 18.2.9, 18.2.10.1), and Rapid
//! Commit.

use super::*;

#[test]
fn solicit_asks_for_each_ia_empty_with_the_oro_and_a_prefix_hint() {
    let mut cfg = pd_config();
    if let dhcpc::v6::core::Mode6::Stateful { na, .. } = &mut cfg.mode {
        na.push(5);
    }
    let mut c = Client6::new(cfg, 1);
    let (_, sol) = first_solicit(&mut c);
    assert_eq!(sol.kind, Kind6::Solicit);
    assert_eq!(sol.server_id, None);
    assert!(!sol.rapid_commit);
    for code in [23, 24, 82] {
        assert!(sol.oro.contains(&code), "{:?}", sol.oro);
    }
    assert_eq!(sol.ias.len(), 2);
    assert_eq!(sol.ias[0], na(5, 0, 0, &[]));
    assert_eq!(
        sol.ias[1],
        pd(IAID, 0, 0, &[(Ipv6Addr::UNSPECIFIED, 56, 0, 0)])
    );
}

#[test]
fn preference_255_is_requested_at_once() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let a = c.handle(at + s(0.05), rx(&advertise(sol.xid, 255, vec![the_na()])));
    let req = sent(&a);
    assert_eq!(req.kind, Kind6::Request);
    assert_eq!(req.server_id.as_deref(), Some(SERVER_DUID));
    // What was advertised, asked for, lifetimes and times 0 (RFC 8415 21.4, 21.6).
    assert_eq!(req.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    assert_ne!(req.xid, sol.xid);
    assert_eq!(c.state(), StateName6::Requesting);
}

#[test]
fn advertisements_are_collected_for_the_first_rt_and_the_most_preferred_taken() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut low = advertise(sol.xid, 10, vec![na(IAID, 0, 0, &[(ADDR2, 100, 200)])]);
    low.server_id = Some(OTHER_DUID.to_vec());
    let high = advertise(sol.xid, 20, vec![the_na()]);
    assert!(c.handle(at + s(0.1), rx(&low)).is_empty());
    assert!(c.handle(at + s(0.2), rx(&high)).is_empty());
    // The first RT ends: the REQUEST goes to the most preferred, not a second SOLICIT.
    let (when, req, _) = next_send(&mut c, at + s(1.2));
    assert!(when > at + s(1.0));
    assert_eq!(req.kind, Kind6::Request);
    assert_eq!(req.server_id.as_deref(), Some(SERVER_DUID));
}

#[test]
fn equal_preferences_go_to_the_first() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut first = advertise(sol.xid, 0, vec![the_na()]);
    first.server_id = Some(OTHER_DUID.to_vec());
    c.handle(at + s(0.1), rx(&first));
    c.handle(at + s(0.2), rx(&advertise(sol.xid, 0, vec![the_na()])));
    let (_, req, _) = next_send(&mut c, at + s(1.2));
    assert_eq!(req.server_id.as_deref(), Some(OTHER_DUID));
}

#[test]
fn an_advertise_with_nothing_in_it_is_ignored() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let empty = advertise(
        sol.xid,
        255,
        vec![refused_ia(StatusCode::NoAddrsAvail, false)],
    );
    assert!(c.handle(at + s(0.1), rx(&empty)).is_empty());
    let mut top = advertise(sol.xid, 255, vec![]);
    top.status = status(StatusCode::NoAddrsAvail);
    assert!(c.handle(at + s(0.2), rx(&top)).is_empty());
    // The first RT ends with nothing collected: SOLICIT again.
    let (_, again, _) = next_send(&mut c, at + s(1.2));
    assert_eq!(again.kind, Kind6::Solicit);
    assert_eq!(again.xid, sol.xid);
}

#[test]
fn after_the_first_rt_the_first_advertise_is_taken_at_once() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let (when, again, _) = next_send(&mut c, at + s(1.2));
    assert_eq!(again.kind, Kind6::Solicit);
    let a = c.handle(when + s(0.5), rx(&advertise(sol.xid, 0, vec![the_na()])));
    assert_eq!(sent(&a).kind, Kind6::Request);
}

#[test]
fn a_reply_binds_the_lease_with_its_configuration() {
    let (c, lease, start) = bound();
    assert_eq!(lease.start, start);
    assert_eq!(lease.server_id, SERVER_DUID);
    assert_eq!(lease.server_addr, Some(SERVER));
    assert_eq!(lease.ias, vec![the_na()]);
    assert_eq!(lease.search, vec!["lab.test".to_string()]);
    assert_eq!(c.lease(), Some(&lease));
}

#[test]
fn a_reply_that_grants_nothing_tries_the_next_server_then_solicits_later() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut other = advertise(sol.xid, 5, vec![the_na()]);
    other.server_id = Some(OTHER_DUID.to_vec());
    c.handle(at + s(0.1), rx(&advertise(sol.xid, 9, vec![the_na()])));
    c.handle(at + s(0.2), rx(&other));
    let (when, req, _) = next_send(&mut c, at + s(1.2));
    assert_eq!(req.server_id.as_deref(), Some(SERVER_DUID));
    let refusal = reply(req.xid, vec![refused_ia(StatusCode::NoAddrsAvail, false)]);
    let a = c.handle(when + s(0.1), rx(&refusal));
    assert!(configured(&a).is_none());
    let next = sent(&a);
    assert_eq!(
        (next.kind, next.server_id.as_deref()),
        (Kind6::Request, Some(OTHER_DUID))
    );
    let mut refusal = reply(next.xid, vec![]);
    refusal.server_id = Some(OTHER_DUID.to_vec());
    refusal.status = status(StatusCode::NoAddrsAvail);
    let a = c.handle(when + s(0.2), rx(&refusal));
    assert!(sends(&a).is_empty());
    // No server left: SOLICIT after the refusal wait (10 s), not at once.
    let (later, sol2, _) = next_send(&mut c, when + s(20.0));
    assert_eq!(sol2.kind, Kind6::Solicit);
    assert!(later >= when + s(10.2), "{later:?}");
}

#[test]
fn unspec_fail_and_use_multicast_wait_for_the_retransmission() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let req = sent(&c.handle(at, rx(&advertise(sol.xid, 255, vec![the_na()]))));
    for code in [StatusCode::UnspecFail, StatusCode::UseMulticast] {
        let mut r = reply(req.xid, vec![the_na()]);
        r.status = status(code);
        assert!(c.handle(at + s(0.1), rx(&r)).is_empty(), "{code:?}");
        assert_eq!(c.state(), StateName6::Requesting);
    }
    let (_, again, _) = next_send(&mut c, at + s(2.0));
    assert_eq!((again.kind, again.xid), (Kind6::Request, req.xid));
    let a = c.handle(at + s(1.5), rx(&reply(req.xid, vec![the_na()])));
    assert!(configured(&a).is_some());
}

#[test]
fn not_on_link_to_a_request_starts_over() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let req = sent(&c.handle(at, rx(&advertise(sol.xid, 255, vec![the_na()]))));
    let mut r = reply(req.xid, vec![]);
    r.status = status(StatusCode::NotOnLink);
    c.handle(at + s(0.1), rx(&r));
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn rapid_commit_binds_from_the_solicit_when_asked_for() {
    let mut cfg = config();
    cfg.rapid_commit = true;
    let mut c = Client6::new(cfg, 2);
    let (at, sol) = first_solicit(&mut c);
    assert!(sol.rapid_commit);
    // A REPLY without option 14 is no commit.
    assert!(c.handle(at, rx(&reply(sol.xid, vec![the_na()]))).is_empty());
    let mut r = reply(sol.xid, vec![the_na()]);
    r.rapid_commit = true;
    let a = c.handle(at + s(0.01), rx(&r));
    let (lease, previous, transition) = configured(&a).unwrap();
    assert_eq!((previous, transition), (None, Transition6::Bound6));
    assert_eq!(lease.start, at);
    assert!(sends(&a).is_empty(), "no REQUEST after a commit");
    assert_eq!(c.state(), StateName6::Bound);
}

#[test]
fn a_rapid_commit_reply_is_not_taken_when_not_asked_for() {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let mut r = reply(sol.xid, vec![the_na()]);
    r.rapid_commit = true;
    assert!(c.handle(at, rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn address_and_prefix_together_bind_in_one_lease() {
    let mut cfg = config();
    cfg.mode = dhcpc::v6::core::Mode6::Stateful {
        na: vec![IAID],
        pd: vec![PdAsk {
            iaid: IAID,
            hint: None,
        }],
    };
    let prefix = pd(IAID, 1000, 2000, &[(PREFIX, 56, 3000, 4000)]);
    let (_, lease, _) = bound_with(cfg, vec![the_na(), prefix.clone()]);
    assert_eq!(lease.ias, vec![the_na(), prefix]);
}

#[test]
fn only_what_was_granted_is_bound() {
    let mut cfg = config();
    cfg.mode = dhcpc::v6::core::Mode6::Stateful {
        na: vec![IAID],
        pd: vec![PdAsk {
            iaid: IAID,
            hint: None,
        }],
    };
    let ias = vec![the_na(), refused_ia(StatusCode::NoPrefixAvail, true)];
    let (_, lease, _) = bound_with(cfg, ias);
    assert_eq!(lease.ias, vec![the_na()]);
}

#[test]
fn the_acquire_timeout_says_why_there_is_no_lease() {
    let mut cfg = config();
    cfg.acquire_timeout = Some(s(30.0));
    let mut c = Client6::new(cfg, 4);
    let (at, sol) = first_solicit(&mut c);
    let mut bad = advertise(sol.xid, 0, vec![the_na()]);
    bad.client_id = Some(OTHER_DUID.to_vec());
    c.handle(at, rx(&bad));
    let mut no_report = true;
    while let Some(when) = c.poll_at().filter(|w| *w <= t(31.0)) {
        for a in c.handle(when, Event6::Tick) {
            if let Action6::NoLease(why) = a {
                assert_eq!(when, t(30.0));
                assert!(why.to_string().contains("client id"), "{why}");
                no_report = false;
            }
        }
    }
    assert!(!no_report, "no NoLease at the acquire timeout");
    assert_eq!(c.state(), StateName6::Soliciting, "it goes on trying");
}
