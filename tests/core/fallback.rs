//! dhclient's TIMEOUT (`Config::last_lease`): when no server answers within the acquire
//! timeout, the saved lease, while it lasts, is used; the hook script may refuse it (then FAIL,
//! and the search goes on). And the acquire timeout holds again once a lease is lost, so that a
//! FAIL says when no new one came (dhclient's FAIL after EXPIRE).

use super::*;

const TIMEOUT: u64 = 60;

fn fallback_config() -> Config {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(TIMEOUT));
    cfg.last_lease = true;
    cfg
}

/// Ticks `c` (no server answering) until an action matches `done`; the actions and when.
fn until(c: &mut Client, done: impl Fn(&Action) -> bool) -> (Vec<Action>, Instant) {
    for _ in 0..1000 {
        let now = c.poll_at().expect("a timer is pending");
        let a = c.handle(now, Event::Tick);
        if a.iter().any(&done) {
            return (a, now);
        }
    }
    panic!("never came");
}

fn is_configure(a: &Action) -> bool {
    matches!(a, Action::Configure { .. })
}

fn is_no_lease(a: &Action) -> bool {
    matches!(a, Action::NoLease(_))
}

fn transition_of(actions: &[Action]) -> Vec<Transition> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Configure { transition, .. }
            | Action::Deconfigure { transition, .. }
            | Action::Notify { transition, .. } => Some(*transition),
            _ => None,
        })
        .collect()
}

#[test]
fn no_server_in_time_the_saved_lease_is_used_as_timeout() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(fallback_config(), 7).with_saved_lease(saved.clone());
    c.handle(t(1.0), Event::Start);
    // INIT-REBOOT unanswered: the saved lease is kept (no FAIL, nothing taken off), and
    // DISCOVER goes out.
    let (before, now) = until(&mut c, is_configure);
    assert_eq!(now, t(1.0 + TIMEOUT as f64));
    assert_eq!(transition_of(&before), [Transition::Timeout], "{before:?}");
    assert!(no_lease(&before).is_none(), "{before:?}");
    let (lease, previous) = configured(&before).unwrap();
    assert_eq!(lease, saved);
    // The hook is told of the new lease only, as dhclient's TIMEOUT.
    assert_eq!(previous, None);
    assert_eq!(c.state(), StateName::Bound);
    assert_eq!(c.timers().get(Timer::Renew), saved.renew_at());
    assert_eq!(c.timers().get(Timer::AcquireTimeout), None);
}

#[test]
fn nothing_is_taken_off_while_the_saved_lease_waits_to_be_fallen_back_on() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(fallback_config(), 7).with_saved_lease(saved);
    c.handle(t(1.0), Event::Start);
    let mut seen = Vec::new();
    while c.state() != StateName::Bound {
        let now = c.poll_at().unwrap();
        seen.extend(c.handle(now, Event::Tick));
    }
    assert!(deconfigured(&seen).is_none(), "{seen:?}");
    assert!(sends(&seen) >= 2, "INIT-REBOOT, then DISCOVERs: {seen:?}");
}

#[test]
fn past_t1_the_fallen_back_lease_is_renewed_at_once() {
    let saved = saved_lease(t(0.0), 3600);
    let t1 = saved.renew_at().unwrap();
    let mut c = Client::new(fallback_config(), 7).with_saved_lease(saved);
    c.handle(t1, Event::Start);
    let (a, _) = until(&mut c, is_configure);
    assert_eq!(transition_of(&a), [Transition::Timeout]);
    let (msg, dest) = sent(&a);
    assert_eq!(kind(&msg), MessageType::Request);
    assert!(matches!(dest, Dest::Unicast { .. }), "{dest:?}");
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn the_script_refusing_the_saved_lease_is_fail_without_a_decline() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(fallback_config(), 7).with_saved_lease(saved.clone());
    c.handle(t(1.0), Event::Start);
    let (_, now) = until(&mut c, is_configure);
    let a = c.handle(now, Event::ScriptRefused { lease: &saved });
    assert_eq!(
        deconfigured(&a),
        Some((saved, Reason::NotConfirmed)),
        "{a:?}"
    );
    assert_eq!(transition_of(&a), [Transition::Fail]);
    assert!(no_lease(&a).is_some(), "the waiting caller is told: {a:?}");
    let (msg, _) = sent(&a);
    assert_eq!(kind(&msg), MessageType::Discover, "no DECLINE: {a:?}");
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn a_saved_lease_that_runs_out_while_searching_is_expire_then_fail() {
    let saved = saved_lease(t(0.0), 120);
    let mut cfg = fallback_config();
    cfg.acquire_timeout = Some(Duration::from_secs(300));
    let mut c = Client::new(cfg, 7).with_saved_lease(saved.clone());
    c.handle(t(1.0), Event::Start);
    let (a, now) = until(&mut c, |a| matches!(a, Action::Deconfigure { .. }));
    assert_eq!(Some(now), saved.expires_at());
    assert_eq!(transition_of(&a), [Transition::Expire]);
    let (a, now) = until(&mut c, is_no_lease);
    assert_eq!(now, t(301.0));
    assert_eq!(transition_of(&a), [Transition::Fail]);
}

#[test]
fn a_nak_leaves_nothing_to_fall_back_on() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(fallback_config(), 7).with_saved_lease(saved);
    let (req, _) = sent(&c.handle(t(1.0), Event::Start));
    let a = c.handle(t(1.1), Event::Reply(&rx(&nak(req.xid(), SERVER))));
    assert_eq!(transition_of(&a), [Transition::Nak]);
    let (a, _) = until(&mut c, is_no_lease);
    assert_eq!(transition_of(&a), [Transition::Fail]);
}

#[test]
fn without_last_lease_an_unconfirmed_saved_lease_is_still_given_up() {
    let saved = saved_lease(t(0.0), 3600);
    let mut cfg = fallback_config();
    cfg.last_lease = false;
    let mut c = Client::new(cfg, 7).with_saved_lease(saved.clone());
    c.handle(t(1.0), Event::Start);
    let (a, _) = until(&mut c, |a| matches!(a, Action::Deconfigure { .. }));
    assert_eq!(deconfigured(&a), Some((saved, Reason::Unconfirmed)));
    let (a, now) = until(&mut c, is_no_lease);
    assert_eq!(now, t(1.0 + TIMEOUT as f64));
    assert_eq!(transition_of(&a), [Transition::Fail]);
}

#[test]
fn after_a_lease_expires_the_timeout_holds_again_and_fail_is_told() {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(TIMEOUT));
    let (mut c, _, lease) = bound_with(cfg, 3600);
    let end = lease.expires_at().unwrap();
    let (a, now) = until(&mut c, |a| matches!(a, Action::Deconfigure { .. }));
    assert_eq!(now, end);
    assert_eq!(transition_of(&a), [Transition::Expire]);
    let (a, now) = until(&mut c, is_no_lease);
    assert_eq!(now, end + Duration::from_secs(TIMEOUT));
    assert_eq!(transition_of(&a), [Transition::Fail]);
}
