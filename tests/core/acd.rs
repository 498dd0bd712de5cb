//! Address conflict detection (RFC 5227): probes before use, announcements, a conflict
//! declined, the address in use defended.

use super::*;

#[test]
fn default_is_a_quick_probe_of_200_ms() {
    assert_eq!(
        Config::new(MAC).probe,
        ProbeMode::Quick(dhcpc::core::DEFAULT_PROBE_WINDOW)
    );
    assert_eq!(
        dhcpc::core::DEFAULT_PROBE_WINDOW,
        Duration::from_millis(200)
    );
}

#[test]
fn ack_is_probed_with_arp_before_it_is_used_then_announced() {
    let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
    assert!(a.contains(&Action::ArpWatch(vec![ADDR])));
    assert!(configured(&a).is_none(), "not used before the probe");
    assert_eq!(c.state(), StateName::Probing);
    assert!(c.lease().is_none());
    // Two probes, 100 ms apart, then the address is used at 200 ms.
    assert_eq!(c.poll_at(), Some(t(0.02)));
    assert_eq!(arp_probes(&c.handle(t(0.02), Event::Tick)), 1);
    assert_eq!(c.poll_at(), Some(t(0.12)));
    assert_eq!(arp_probes(&c.handle(t(0.12), Event::Tick)), 1);
    assert_eq!(c.poll_at(), Some(t(0.22)));
    // Our own probe echoed back is no conflict; neither is ARP about other addresses.
    let own = ArpSeen {
        sender_mac: MAC,
        sender_ip: Ipv4Addr::UNSPECIFIED,
        target_ip: ADDR,
    };
    assert!(c.handle(t(0.15), Event::Arp(own)).is_empty());
    let unrelated = ArpSeen {
        sender_mac: [2, 0, 0, 0, 0, 9],
        sender_ip: OTHER_SERVER,
        target_ip: SERVER,
    };
    assert!(c.handle(t(0.15), Event::Arp(unrelated)).is_empty());
    let a = c.handle(t(0.22), Event::Tick);
    assert!(a.contains(&Action::ArpWatch(vec![])));
    assert_eq!(configured(&a).unwrap().0.address, ADDR);
    assert!(a.contains(&Action::ArpAnnounce { addr: ADDR }));
    assert_eq!(c.state(), StateName::Bound);
    // RFC 5227: a second announcement 2 s later, then only the lease timers.
    assert_eq!(c.poll_at(), Some(t(2.22)));
    assert_eq!(
        c.handle(t(2.22), Event::Tick),
        vec![Action::ArpAnnounce { addr: ADDR }]
    );
    assert_eq!(c.poll_at(), c.lease().unwrap().renew_at());
}

#[test]
fn a_conflict_while_probing_declines_and_waits_ten_seconds() {
    for (sender_ip, target_ip) in [
        // Another host answers for (or announces) the address.
        (ADDR, ADDR),
        (ADDR, Ipv4Addr::new(198, 51, 100, 9)),
        // Another host probes for the same address at the same time.
        (Ipv4Addr::UNSPECIFIED, ADDR),
    ] {
        let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
        c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
        assert_eq!(c.state(), StateName::Probing);
        c.handle(t(0.02), Event::Tick);
        let seen = ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 9],
            sender_ip,
            target_ip,
        };
        let a = c.handle(t(0.05), Event::Arp(seen));
        assert!(configured(&a).is_none());
        assert!(a.contains(&Action::ArpWatch(vec![])));
        let (decline, dest) = sent(&a);
        assert_eq!(dest, Dest::Broadcast);
        assert_eq!(kind(&decline), MessageType::Decline);
        assert_eq!(decline.ciaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            opt(&decline, OptionCode::RequestedIpAddress),
            Some(&DhcpOption::RequestedIpAddress(ADDR))
        );
        assert_eq!(
            opt(&decline, OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(SERVER))
        );
        assert_eq!(c.state(), StateName::Init);
        assert_eq!(c.poll_at(), Some(t(0.05) + DECLINE_WAIT));
        let (d, _) = sent(&c.handle(t(0.05) + DECLINE_WAIT, Event::Tick));
        assert_eq!(kind(&d), MessageType::Discover);
    }
}

#[test]
fn rfc5227_mode_sends_three_probes_with_rfc_spacing() {
    for seed in 0..20 {
        let mut cfg = Config::new(MAC);
        cfg.probe = ProbeMode::Rfc5227;
        let mut c = Client::new(cfg, seed);
        let (d, _) = sent(&c.handle(t(0.0), Event::Start));
        c.handle(t(0.0), Event::Reply(&rx(&offer(d.xid()))));
        c.handle(t(0.0), Event::Reply(&rx(&ack(d.xid(), 3600))));
        assert_eq!(c.state(), StateName::Probing);
        let mut times = Vec::new();
        let mut now = t(0.0);
        loop {
            let at = c.poll_at().unwrap();
            let a = c.handle(at, Event::Tick);
            times.push(at.saturating_since(now));
            now = at;
            if configured(&a).is_some() {
                break;
            }
            assert_eq!(arp_probes(&a), 1);
        }
        // PROBE_WAIT 0-1 s, then PROBE_MIN..PROBE_MAX (1-2 s) twice, then ANNOUNCE_WAIT 2 s.
        assert_eq!(times.len(), 4, "{times:?}");
        assert!(times[0] <= Duration::from_secs(1));
        for gap in &times[1..3] {
            assert!(*gap >= Duration::from_secs(1) && *gap <= Duration::from_secs(2));
        }
        assert_eq!(times[3], Duration::from_secs(2));
    }
}

#[test]
fn a_renewal_of_the_same_address_is_not_probed() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let lease = {
        let (_, _, l) = bound(3600);
        l
    };
    let mut c = Client::new(cfg, 9).into_bound(lease.clone());
    let t1 = lease.renew_at().unwrap();
    let (r, _) = sent(&c.handle(t1, Event::Tick));
    let a = c.handle(t1, Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert!(configured(&a).is_some());
    assert!(!a
        .iter()
        .any(|a| matches!(a, Action::ArpWatch(w) if !w.is_empty())));
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn a_conflict_while_probing_a_changed_address_removes_the_old_one() {
    let (mut c, xid, old) = renewing_with_probe();
    let now = old.renew_at().unwrap();
    let a = c.handle(now, Event::Reply(&rx(&ack_of(xid, NEW_ADDR))));
    assert!(a.contains(&Action::ArpWatch(vec![NEW_ADDR])));
    assert_eq!(c.state(), StateName::Probing);
    assert_eq!(c.applied(), Some(&old), "the old address is still held");
    let conflict = ArpSeen {
        sender_mac: [2, 0, 0, 0, 0, 9],
        sender_ip: NEW_ADDR,
        target_ip: NEW_ADDR,
    };
    let a = c.handle(now, Event::Arp(conflict));
    assert_eq!(kind(&sent(&a).0), MessageType::Decline);
    assert_eq!(deconfigured(&a), Some((old, Reason::Declined)));
    assert!(a.contains(&Action::ForgetLease));
    assert!(c.applied().is_none());
    assert_eq!(c.state(), StateName::Init);
}

#[test]
fn a_release_while_probing_gives_back_what_the_server_granted() {
    // The first lease, still being probed: nothing is held, the server's grant is released.
    let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
    c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
    let a = c.handle(t(0.05), Event::Release);
    // The interface has no address to send from yet: broadcast, with option 54 naming the
    // server.
    let (m, dest) = sent(&a);
    assert_eq!(
        (kind(&m), m.ciaddr(), dest),
        (MessageType::Release, ADDR, Dest::Broadcast)
    );
    assert_eq!(
        opt(&m, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert!(a.contains(&Action::ArpWatch(vec![])) && a.contains(&Action::ForgetLease));
    assert!(deconfigured(&a).is_none());
    assert_eq!((c.state(), c.poll_at()), (StateName::Released, None));

    // A changed address being probed: the new one is released, the old one removed.
    let (mut c, xid, old) = renewing_with_probe();
    let now = old.renew_at().unwrap();
    c.handle(now, Event::Reply(&rx(&ack_of(xid, NEW_ADDR))));
    let a = c.handle(now, Event::Release);
    assert_eq!(sent(&a).0.ciaddr(), NEW_ADDR);
    assert_eq!(sent(&a).1, Dest::Broadcast);
    assert_eq!(deconfigured(&a), Some((old, Reason::Released)));
    assert!(c.applied().is_none());
}

#[test]
fn init_reboot_probes_and_then_announces_the_address() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(cfg, 6).with_saved_lease(saved.clone());
    let (r, _) = sent(&c.handle(t(10.0), Event::Start));
    let a = c.handle(t(10.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert!(a.contains(&Action::ArpWatch(vec![ADDR])));
    let mut bound = Vec::new();
    while c.state() == StateName::Probing {
        let at = c.poll_at().unwrap();
        bound = c.handle(at, Event::Tick);
    }
    let (lease, previous) = configured(&bound).unwrap();
    assert_eq!((lease.address, previous), (ADDR, Some(saved)));
    // RFC 5227 2.3: a probed address is announced, even the one the interface had before.
    assert!(bound.contains(&Action::ArpAnnounce { addr: ADDR }));
}

#[test]
fn a_lease_that_runs_out_while_it_is_probed_is_not_configured() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_secs(10));
    let mut c = Client::new(cfg, 7);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 4))));
    let mut last = Vec::new();
    while c.state() == StateName::Probing {
        let at = c.poll_at().unwrap();
        last = c.handle(at, Event::Tick);
    }
    assert!(configured(&last).is_none(), "{last:?}");
    assert!(last.contains(&Action::ArpWatch(vec![])));
    assert_eq!(kind(&sent(&last).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

// --- Defence of the address in use (RFC 5227 2.4) and FORCERENEW ----------------------------

fn claim(at: f64) -> (Instant, Event<'static>) {
    (
        t(at),
        Event::Arp(ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 0x66],
            sender_ip: ADDR,
            target_ip: ADDR,
        }),
    )
}

#[test]
fn the_bound_address_is_watched_and_defended_once_then_given_up() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    // The filter lets through ARP whose sender claims the address, from binding on.
    assert_eq!(a.first(), Some(&Action::ArpDefend(Some(ADDR))), "{a:?}");
    // Our own announcement is no conflict.
    let a = c.handle(
        t(1.0),
        Event::Arp(ArpSeen {
            sender_mac: MAC,
            sender_ip: ADDR,
            target_ip: ADDR,
        }),
    );
    assert!(a.is_empty(), "{a:?}");
    // A first claim: one announcement, the lease stays.
    let (at, ev) = claim(5.0);
    let a = c.handle(at, ev);
    assert_eq!(a, vec![Action::ArpAnnounce { addr: ADDR }]);
    assert_eq!(c.state(), StateName::Bound);
    // Another one 10 s or more later: defended again.
    let (at, ev) = claim(15.0);
    assert_eq!(c.handle(at, ev), vec![Action::ArpAnnounce { addr: ADDR }]);
    // A second within 10 s: given up, released (never declined), and started over.
    let (at, ev) = claim(20.0);
    let a = c.handle(at, ev);
    let (lease, reason) = deconfigured(&a).expect("deconfigured");
    assert_eq!((lease.address, reason), (ADDR, Reason::Conflict));
    let kinds: Vec<(MessageType, Dest)> = a
        .iter()
        .filter_map(|a| match a {
            Action::Send { msg, dest } => Some((kind(msg), *dest)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (MessageType::Release, Dest::Unicast(SERVER)),
            (MessageType::Discover, Dest::Broadcast)
        ]
    );
    assert!(a.contains(&Action::ArpDefend(None)), "{a:?}");
}
