//! A duplicate address (IFA_F_DADFAILED): taken off, declined (RFC 8415 18.2.8, DEC_MAX_RC
//! 4), then a new SOLICIT for the IA_NA left empty.

use super::*;

#[test]
fn dad_failure_takes_the_address_off_declines_it_and_solicits_again() {
    let (mut c, lease, start) = bound();
    let now = start + s(1.0);
    let a = c.handle(now, Event6::DadFailed(ADDR));
    let (gone, reason, tr) = deconfigured(&a).unwrap();
    assert_eq!(
        (gone, reason, tr),
        (lease, Reason6::Declined, Transition6::Expire6)
    );
    let dec = sent(&a);
    assert_eq!(dec.kind, Kind6::Decline);
    assert_eq!(dec.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(dec.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    assert_eq!(c.state(), StateName6::Declining);
    // The server answers: a new SOLICIT, after the refusal wait.
    let a = c.handle(now + s(0.1), rx(&reply(dec.xid, vec![])));
    assert!(sends(&a).is_empty());
    assert_eq!(c.state(), StateName6::Soliciting);
    let (at, sol, _) = next_send(&mut c, now + s(20.0));
    assert_eq!(sol.kind, Kind6::Solicit);
    assert!(at >= now + s(10.0));
}

#[test]
fn an_unanswered_decline_is_sent_dec_max_rc_times() {
    let (mut c, _, start) = bound();
    let a = c.handle(start + s(1.0), Event6::DadFailed(ADDR));
    let xid = sent(&a).xid;
    let mut declines = 1;
    while c.state() == StateName6::Declining {
        let at = c.poll_at().unwrap();
        for m in sends(&c.handle(at, Event6::Tick)) {
            if m.kind == Kind6::Decline {
                assert_eq!(m.xid, xid);
                declines += 1;
            }
        }
    }
    assert_eq!(declines, 4);
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn one_address_of_two_declined_the_other_stays() {
    let ia = na(IAID, 1000, 2000, &[(ADDR, 3000, 4000), (ADDR2, 3000, 4000)]);
    let (mut c, lease, start) = bound_with(config(), vec![ia]);
    let now = start + s(1.0);
    let a = c.handle(now, Event6::DadFailed(ADDR2));
    let (rest, previous, tr) = configured(&a).unwrap();
    assert_eq!((previous, tr), (Some(lease), Transition6::Expire6));
    assert_eq!(addrs(&rest), vec![ADDR]);
    let dec = sent(&a);
    assert_eq!(dec.ias, vec![na(IAID, 0, 0, &[(ADDR2, 0, 0)])]);
    c.handle(now + s(0.1), rx(&reply(dec.xid, vec![])));
    assert_eq!(
        c.state(),
        StateName6::Bound,
        "the IA_NA still holds an address"
    );
}

#[test]
fn dad_failure_of_an_address_not_ours_is_ignored() {
    let (mut c, _, start) = bound();
    assert!(c
        .handle(start + s(1.0), Event6::DadFailed(ADDR2))
        .is_empty());
    assert_eq!(c.state(), StateName6::Bound);
}
