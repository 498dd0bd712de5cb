//! Which messages are taken: our xid, our DUID echoed, a server id; from the server asked
//! where it matters; RECONFIGURE ignored.

use super::*;

fn requesting() -> (Client6, Instant, Outgoing6) {
    let mut c = client();
    let (at, sol) = first_solicit(&mut c);
    let req = sent(&c.handle(at, rx(&advertise(sol.xid, 255, vec![the_na()]))));
    (c, at, req)
}

#[test]
fn a_reply_with_another_xid_is_dropped() {
    let (mut c, at, req) = requesting();
    let r = reply(req.xid ^ 1, vec![the_na()]);
    assert!(c.handle(at, rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Requesting);
}

#[test]
fn a_reply_without_our_client_id_is_dropped() {
    let (mut c, at, req) = requesting();
    let mut other = reply(req.xid, vec![the_na()]);
    other.client_id = Some(OTHER_DUID.to_vec());
    assert!(c.handle(at, rx(&other)).is_empty());
    let mut none = reply(req.xid, vec![the_na()]);
    none.client_id = None;
    assert!(c.handle(at, rx(&none)).is_empty());
    assert_eq!(c.state(), StateName6::Requesting);
}

#[test]
fn a_reply_without_a_server_id_is_dropped() {
    let (mut c, at, req) = requesting();
    let mut r = reply(req.xid, vec![the_na()]);
    r.server_id = None;
    assert!(c.handle(at, rx(&r)).is_empty());
    let mut c2 = client();
    let (at2, sol) = first_solicit(&mut c2);
    let mut adv = advertise(sol.xid, 255, vec![the_na()]);
    adv.server_id = None;
    assert!(c2.handle(at2, rx(&adv)).is_empty());
}

#[test]
fn a_request_is_answered_only_by_its_server() {
    let (mut c, at, req) = requesting();
    let mut r = reply(req.xid, vec![the_na()]);
    r.server_id = Some(OTHER_DUID.to_vec());
    assert!(c.handle(at, rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Requesting);
}

#[test]
fn a_renew_is_answered_only_by_the_server_of_the_lease_a_rebind_by_any() {
    let (mut c, _, start) = bound();
    let (at, ren, _) = next_send(&mut c, start + s(1000.0));
    let mut r = reply(ren.xid, vec![the_na()]);
    r.server_id = Some(OTHER_DUID.to_vec());
    assert!(c.handle(at, rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Renewing);
    let t2 = start + s(2000.0);
    let mut rebind = None;
    while rebind.is_none() {
        let (_, m, _) = next_send(&mut c, t2);
        rebind = (m.kind == Kind6::Rebind).then_some(m);
    }
    let mut r = reply(rebind.unwrap().xid, vec![the_na()]);
    r.server_id = Some(OTHER_DUID.to_vec());
    let a = c.handle(t2 + s(1.0), rx(&r));
    let (lease, _, transition) = configured(&a).unwrap();
    assert_eq!(transition, Transition6::Rebind6);
    assert_eq!(
        lease.server_id, OTHER_DUID,
        "the lease is the new server's now"
    );
}

#[test]
fn reconfigure_is_ignored() {
    let (mut c, _, start) = bound();
    let mut r = msg(Kind6::Reconfigure, 0, vec![]);
    r.options.push((19, vec![5]));
    let before = c.poll_at();
    assert!(c.handle(start + s(5.0), rx(&r)).is_empty());
    assert_eq!(c.state(), StateName6::Bound);
    assert_eq!(c.poll_at(), before);
}

#[test]
fn an_advertise_outside_solicit_and_a_clients_message_are_dropped() {
    let (mut c, at, req) = requesting();
    assert!(c
        .handle(at, rx(&advertise(req.xid, 255, vec![the_na()])))
        .is_empty());
    assert!(c
        .handle(at, rx(&msg(Kind6::Request, req.xid, vec![the_na()])))
        .is_empty());
    assert_eq!(c.state(), StateName6::Requesting);
}

#[test]
fn nothing_is_taken_before_start_or_after_stop() {
    let mut c = client();
    assert!(c.handle(t(0.0), rx(&reply(0, vec![the_na()]))).is_empty());
    let (mut c, _, start) = bound();
    c.handle(start + s(1.0), Event6::Stop);
    assert!(c.handle(start + s(2.0), Event6::Tick).is_empty());
    assert!(c.handle(start + s(2.0), Event6::Start).is_empty());
}
