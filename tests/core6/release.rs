//! RELEASE, STOP6, the interface gone, and a lease the system refused.

use super::*;

#[test]
fn release_takes_the_lease_off_first_then_sends_release_to_its_server() {
    let (mut c, lease, start) = bound();
    let a = c.handle(start + s(5.0), Event6::Release);
    let off = a
        .iter()
        .position(|x| matches!(x, Action6::Deconfigure { .. }))
        .unwrap();
    let send = a
        .iter()
        .position(|x| matches!(x, Action6::Send(_)))
        .unwrap();
    assert!(off < send, "RFC 8415 18.2.7: stop using it first");
    assert_eq!(
        deconfigured(&a).unwrap(),
        (lease, Reason6::Released, Transition6::Release6)
    );
    assert!(a.contains(&Action6::ForgetLease));
    let rel = sent(&a);
    assert_eq!(rel.kind, Kind6::Release);
    assert_eq!(rel.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(rel.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    let a = c.handle(start + s(5.1), rx(&reply(rel.xid, vec![])));
    assert_eq!(a, vec![Action6::Done]);
    assert_eq!(c.poll_at(), None);
}

#[test]
fn release_with_no_lease_is_done_at_once() {
    let mut c = client();
    first_solicit(&mut c);
    let a = c.handle(t(2.0), Event6::Release);
    assert_eq!(a, vec![Action6::Done]);
}

#[test]
fn stop_keeps_the_lease_and_says_stop6() {
    let (mut c, lease, start) = bound();
    let a = c.handle(start + s(5.0), Event6::Stop);
    assert_eq!(notified(&a), vec![(Transition6::Stop6, Some(lease))]);
    assert!(deconfigured(&a).is_none());
    assert!(a.contains(&Action6::Done));
    assert_eq!(c.poll_at(), None);
}

#[test]
fn the_interface_gone_clears_the_record_and_keeps_the_saved_lease() {
    let (mut c, lease, start) = bound();
    let a = c.handle(start + s(5.0), Event6::Gone);
    assert_eq!(
        deconfigured(&a).unwrap(),
        (lease, Reason6::Gone, Transition6::Stop6)
    );
    assert!(!a.contains(&Action6::ForgetLease));
    assert!(a.contains(&Action6::Done));
}

#[test]
fn a_lease_the_system_refuses_is_taken_off_and_asked_for_later() {
    let (mut c, lease, start) = bound();
    let now = start + s(1.0);
    let a = c.handle(
        now,
        Event6::ConfigureFailed {
            lease: &lease,
            why: "Permission denied".into(),
        },
    );
    assert_eq!(deconfigured(&a).unwrap().1, Reason6::NotApplied);
    assert!(sends(&a).is_empty());
    let (at, sol, _) = next_send(&mut c, now + s(11.0));
    assert_eq!(sol.kind, Kind6::Solicit);
    assert!(at >= now + s(10.0));
    // A failure for a lease no longer held changes nothing.
    let before = c.poll_at();
    let a = c.handle(
        at,
        Event6::ConfigureFailed {
            lease: &lease,
            why: "late".into(),
        },
    );
    assert!(a.is_empty());
    assert_eq!(c.poll_at(), before);
}

#[test]
fn a_lease_from_an_earlier_run_can_be_released() {
    // `dhclient -6 -r`: a client given the lease from the file, bound, told to release.
    let (_, lease, start) = bound();
    let mut c = client().into_bound(lease.clone());
    assert_eq!(c.state(), StateName6::Bound);
    let a = c.handle(start + s(30.0), Event6::Release);
    assert_eq!(deconfigured(&a).unwrap().0, lease);
    assert_eq!(sent(&a).kind, Kind6::Release);
}
