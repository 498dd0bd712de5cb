//! The link: carrier lost and back (RFC 4436), the interface removed.

use super::*;

#[test]
fn a_lease_not_sent_by_its_router_is_confirmed_by_init_reboot_alone() {
    let (mut c, _, lease) = bound(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    let a = c.handle(t(20.0), Event::Link { carrier: true });
    assert!(a.contains(&Action::Reapply {
        lease: lease.clone(),
        transition: Transition::Reboot,
    }));
    assert!(arp_requests(&a).is_empty(), "{a:?}");
    let (req, _) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    // Nothing to tell another network by but the server: INIT-REBOOT's own wait.
    assert_eq!(c.poll_at(), Some(t(22.5)));
    let a = c.handle(t(20.01), Event::Reply(&rx(&ack(req.xid(), 3600))));
    assert_eq!(c.state(), StateName::Bound, "{a:?}");
}

#[test]
fn carrier_back_on_the_same_network_keeps_the_lease_at_once() {
    let (mut c, lease) = bound_knowing_router(3600);
    let a = c.handle(t(10.0), Event::Link { carrier: false });
    assert!(a.iter().all(|a| !matches!(a, Action::Deconfigure { .. })));
    assert_eq!(
        c.applied(),
        Some(&lease),
        "the address stays while carrier is gone"
    );
    let a = c.handle(t(20.0), Event::Link { carrier: true });
    // What the kernel dropped is put back at once...
    assert!(a.contains(&Action::Reapply {
        lease: lease.clone(),
        transition: Transition::Reboot,
    }));
    // ...and the lease is checked two ways at once: unicast ARP to the router (RFC 4436),
    // and an INIT-REBOOT REQUEST.
    assert_eq!(arp_requests(&a), [(ADDR, SERVER, Some(ROUTER_MAC))]);
    let (req, dest) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(dest, Dest::Broadcast);
    assert!(opt(&req, OptionCode::RequestedIpAddress).is_some());
    assert!(opt(&req, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Rebooting);
    // The router answers from the MAC it had: same network, nothing changes.
    let a = c.handle(t(20.001), from_router(ROUTER_MAC));
    assert_eq!(c.state(), StateName::Bound);
    assert!(
        configured(&a).is_none() && deconfigured(&a).is_none(),
        "{a:?}"
    );
    assert_eq!(c.applied(), Some(&lease));
    assert_eq!(c.timers().get(Timer::Renew), lease.renew_at());
}

#[test]
fn carrier_back_where_the_router_has_another_mac_starts_over() {
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    c.handle(t(20.0), Event::Link { carrier: true });
    let a = c.handle(t(20.001), from_router([2, 0, 0, 0, 0, 0x99]));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Moved)));
    let (d, _) = sent(&a);
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn carrier_back_where_nothing_answers_starts_over_within_a_second() {
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    c.handle(t(20.0), Event::Link { carrier: true });
    assert_eq!(c.poll_at(), Some(t(20.0) + DNA_WAIT));
    let a = c.handle(t(20.0) + DNA_WAIT, Event::Tick);
    assert_eq!(deconfigured(&a), Some((lease, Reason::Moved)));
    let (d, _) = sent(&a);
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn carrier_back_answered_by_a_nak_or_an_ack_from_the_server() {
    // NAK: another network's authoritative server.
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    let (req, _) = sent(&c.handle(t(20.0), Event::Link { carrier: true }));
    let a = c.handle(t(20.01), Event::Reply(&rx(&nak(req.xid(), OTHER_SERVER))));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Nak)));
    // ACK of the address held: bound again at once, with no conflict probe.
    let mut cfg = config();
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let mut c = Client::new(cfg, 7);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    while c.state() != StateName::Bound {
        let at = c.poll_at().unwrap();
        c.handle(at, Event::Tick);
    }
    c.handle(t(10.0), Event::Link { carrier: false });
    let (req, _) = sent(&c.handle(t(20.0), Event::Link { carrier: true }));
    let a = c.handle(t(20.01), Event::Reply(&rx(&ack(req.xid(), 3600))));
    assert_eq!(c.state(), StateName::Bound, "{a:?}");
    let (new, old) = configured(&a).unwrap();
    assert_eq!(old.map(|l| l.address), Some(new.address));
}

#[test]
fn a_flap_over_t1_renews_as_soon_as_the_router_is_back() {
    let (mut c, lease) = bound_knowing_router(100);
    let t1 = lease.renew_at().unwrap();
    c.handle(t1 - Duration::from_secs(1), Event::Link { carrier: false });
    // T1 passes without carrier: the renewal cannot go out, and none is sent.
    let a = c.handle(t1, Event::Tick);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let back = t1 + Duration::from_secs(5);
    c.handle(back, Event::Link { carrier: true });
    let a = c.handle(back, from_router(ROUTER_MAC));
    // Same network: the renewal that fell due meanwhile goes out now, to the server.
    let (req, dest) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn without_carrier_nothing_is_sent_until_it_comes() {
    let mut c = client().without_carrier();
    let a = c.handle(t(0.0), Event::Start);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let at = c.poll_at().unwrap();
    let a = c.handle(at, Event::Tick);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let (d, _) = sent(&c.handle(at + Duration::from_millis(1), Event::Link { carrier: true }));
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn a_probe_without_carrier_does_not_pass() {
    let mut cfg = config();
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let mut c = Client::new(cfg, 9);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert_eq!(c.state(), StateName::Probing);
    c.handle(t(0.03), Event::Link { carrier: false });
    let mut now = t(0.03);
    for _ in 0..20 {
        now = c.poll_at().unwrap();
        let a = c.handle(now, Event::Tick);
        assert!(configured(&a).is_none(), "bound with no probe sent: {a:?}");
    }
    assert_eq!(c.state(), StateName::Probing);
    c.handle(now, Event::Link { carrier: true });
    // The check starts over: its first probe goes out at once.
    assert_eq!(c.poll_at(), Some(now));
    let a = c.handle(now, Event::Tick);
    assert!(a.contains(&Action::ArpProbe { target: ADDR }), "{a:?}");
}

#[test]
fn an_interface_removed_ends_the_client_and_keeps_the_saved_lease() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(5.0), Event::Gone);
    assert_eq!(deconfigured(&a), Some((lease, Reason::Gone)));
    assert!(!a.contains(&Action::ForgetLease), "{a:?}");
    assert_eq!(c.applied(), None);
    assert_eq!(c.poll_at(), None);
}
