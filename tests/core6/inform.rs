//! Stateless (INFORMATION-REQUEST, RFC 8415 18.2.6) and its refresh time (option 32, 21.23).

use super::*;
use dhcpc::v6::core::{Mode6, Timer6};
use dhcpc::v6::INFINITY;

fn stateless() -> Client6 {
    Client6::new(Config6::new(DUID.to_vec(), Mode6::Stateless), 9)
}

/// The first INFORMATION-REQUEST, answered with `refresh` (option 32 as parsed) at +0.1 s.
fn informed(refresh: Option<u32>) -> (Client6, Instant, Vec<Action6>) {
    let mut c = stateless();
    let a = c.handle(t(0.0), Event6::Start);
    let (at, inf) = match sends(&a).into_iter().next() {
        Some(m) => (t(0.0), m),
        None => {
            let (at, m, _) = next_send(&mut c, t(1.0));
            (at, m)
        }
    };
    assert_eq!(inf.kind, Kind6::InformationRequest);
    assert!(inf.ias.is_empty() && inf.server_id.is_none());
    for code in [23, 24, 32, 82, 83] {
        assert!(inf.oro.contains(&code), "{:?}", inf.oro);
    }
    let mut r = reply(inf.xid, vec![]);
    r.info_refresh = refresh;
    let now = at + s(0.1);
    let a = c.handle(now, rx(&r));
    (c, now, a)
}

#[test]
fn the_reply_configures_dns_inform6() {
    let (c, _, a) = informed(None);
    let (info, previous, tr) = configured(&a).unwrap();
    assert_eq!((previous, tr), (None, Transition6::Inform6));
    assert!(info.ias.is_empty());
    assert_eq!(info.search, vec!["lab.test".to_string()]);
    assert_eq!(info.info_refresh, Some(86_400));
    assert_eq!(c.state(), StateName6::Informed);
}

#[test]
fn the_refresh_time_asks_again_default_86400_s() {
    let (mut c, now, _) = informed(None);
    assert_eq!(c.poll_at(), Some(now + s(86_400.0)));
    let a = c.handle(now + s(86_400.0), Event6::Tick);
    assert_eq!(sent(&a).kind, Kind6::InformationRequest);
}

#[test]
fn the_servers_refresh_time_is_taken_never_under_600_s() {
    let (c, now, _) = informed(Some(3600));
    assert_eq!(c.timers().get(Timer6::Refresh), Some(now + s(3600.0)));
    let (c, now, _) = informed(Some(60));
    assert_eq!(c.timers().get(Timer6::Refresh), Some(now + s(600.0)));
    let (c, _, _) = informed(Some(INFINITY));
    assert_eq!(c.poll_at(), None);
}

#[test]
fn a_refreshed_configuration_replaces_the_old() {
    let (mut c, now, a) = informed(Some(600));
    let (first, _, _) = configured(&a).unwrap();
    let inf = sent(&c.handle(now + s(600.0), Event6::Tick));
    let mut r = reply(inf.xid, vec![]);
    r.search = vec!["other.test".into()];
    let a = c.handle(now + s(600.5), rx(&r));
    let (second, previous, tr) = configured(&a).unwrap();
    assert_eq!((previous, tr), (Some(first), Transition6::Inform6));
    assert_eq!(second.search, vec!["other.test".to_string()]);
}

#[test]
fn a_failure_status_is_retransmitted_past() {
    let mut c = stateless();
    let (_, inf, _) = {
        let a = c.handle(t(0.0), Event6::Start);
        match sends(&a).into_iter().next() {
            Some(m) => (t(0.0), m, a),
            None => next_send(&mut c, t(1.0)),
        }
    };
    let mut r = reply(inf.xid, vec![]);
    r.status = status(StatusCode::UnspecFail);
    assert!(c.handle(t(1.0), rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Informing);
}

#[test]
fn release_of_stateless_configuration_takes_it_off() {
    let (mut c, now, _) = informed(None);
    let a = c.handle(now + s(1.0), Event6::Release);
    assert_eq!(deconfigured(&a).unwrap().2, Transition6::Release6);
    assert!(sends(&a).is_empty(), "no RELEASE: nothing was leased");
    assert!(a.contains(&Action6::Done));
}
