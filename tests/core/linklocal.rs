//! The IPv4 link-local fallback (RFC 3927).

use super::*;

// ---------------------------------------------------------------------------------------------
// IPv4 link-local fallback (RFC 3927).

fn ll_client(wait_secs: u64) -> Client {
    let mut cfg = config();
    cfg.ipv4ll = Some(Duration::from_secs(wait_secs));
    Client::new(cfg, 21)
}

fn link_local_configured(actions: &[Action]) -> Option<Ipv4Addr> {
    actions.iter().find_map(|a| match a {
        Action::ConfigureLinkLocal { addr } => Some(*addr),
        _ => None,
    })
}

fn probes_for(actions: &[Action], addr: Ipv4Addr) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::ArpProbe { target } if *target == addr))
        .count()
}

/// Runs the client's timers (no DHCP server answers) until `until` holds of a batch; returns
/// every action up to and with it, and the time.
fn run_until(
    c: &mut Client,
    limit: Instant,
    until: impl Fn(&[Action]) -> bool,
) -> (Vec<Action>, Instant) {
    let mut all = Vec::new();
    loop {
        let at = c.poll_at().expect("a timer");
        assert!(at <= limit, "nothing by {limit:?}: {all:?}");
        let a = c.handle(at, Event::Tick);
        let done = until(&a);
        all.extend(a);
        if done {
            return (all, at);
        }
    }
}

#[test]
fn with_no_lease_a_link_local_address_is_probed_announced_and_used() {
    use dhcpc::core::linklocal::candidate;
    let mut c = ll_client(10);
    c.handle(t(0.0), Event::Start);
    assert_eq!(c.timers().get(Timer::LinkLocal), Some(t(10.0)));
    let (all, at) = run_until(&mut c, t(30.0), |a| link_local_configured(a).is_some());
    let addr = link_local_configured(&all).unwrap();
    assert_eq!(addr, candidate(MAC, 0), "the MAC's first pick");
    let o = addr.octets();
    assert!(
        o[0] == 169 && o[1] == 254 && (1..=254).contains(&o[2]),
        "{addr}"
    );
    // PROBE_WAIT up to 1 s, three probes 1-2 s apart, ANNOUNCE_WAIT 2 s.
    assert!(at >= t(14.0) && at <= t(17.0), "used at {at:?}");
    assert_eq!(probes_for(&all, addr), 3);
    assert!(all.contains(&Action::ArpWatch(vec![addr])));
    assert!(all.contains(&Action::ArpAnnounce { addr }));
    // DHCP goes on meanwhile.
    let discovers = all
        .iter()
        .filter(|a| matches!(a, Action::Send { msg, .. } if kind(msg) == MessageType::Discover))
        .count();
    assert!(discovers >= 1, "{all:?}");
    assert_eq!(c.link_local(), Some(addr));
    // The second announcement 2 s later, then no more link-local steps.
    let a = c.handle(at + Duration::from_secs(2), Event::Tick);
    assert!(a.contains(&Action::ArpAnnounce { addr }));
    assert_eq!(c.timers().get(Timer::LinkLocal), None);
}

#[test]
fn a_lease_drops_the_link_local_address_and_losing_it_brings_the_fallback_back() {
    let mut c = ll_client(2);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let (_, at) = run_until(&mut c, t(30.0), |a| link_local_configured(a).is_some());
    let addr = c.link_local().unwrap();
    // A server answers at last (the DISCOVER's retransmission).
    let _ = (d, at);
    let (batch, at) = run_until(&mut c, t(40.0), |a| sends(a) > 0);
    let (d2, _) = sent(&batch);
    c.handle(at, Event::Reply(&rx(&offer(d2.xid()))));
    let a = c.handle(at, Event::Reply(&rx(&ack(d2.xid(), 60))));
    assert!(configured(&a).is_some());
    assert!(a.contains(&Action::DeconfigureLinkLocal { addr }));
    assert!(a.contains(&Action::ArpWatch(vec![])));
    assert_eq!(
        (c.link_local(), c.timers().get(Timer::LinkLocal)),
        (None, None)
    );
    // The lease runs out with no server: the fallback starts again after its wait.
    let (_, gone) = run_until(&mut c, t(200.0), |a| deconfigured(a).is_some());
    assert_eq!(
        c.timers().get(Timer::LinkLocal),
        Some(gone + Duration::from_secs(2))
    );
}

#[test]
fn a_link_local_conflict_while_probing_moves_to_the_next_address() {
    use dhcpc::core::linklocal::candidate;
    let mut c = ll_client(1);
    c.handle(t(0.0), Event::Start);
    let first = candidate(MAC, 0);
    let (_, at) = run_until(&mut c, t(10.0), |a| probes_for(a, first) > 0);
    let a = c.handle(
        at,
        Event::Arp(ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 9],
            sender_ip: first,
            target_ip: first,
        }),
    );
    let second = candidate(MAC, 1);
    assert_ne!(first, second);
    assert!(a.contains(&Action::ArpWatch(vec![second])), "{a:?}");
    let (all, _) = run_until(&mut c, t(30.0), |a| link_local_configured(a).is_some());
    assert_eq!(link_local_configured(&all), Some(second));
}

#[test]
fn a_link_local_address_is_defended_once_then_given_up() {
    let mut c = ll_client(1);
    c.handle(t(0.0), Event::Start);
    let (_, at) = run_until(&mut c, t(30.0), |a| link_local_configured(a).is_some());
    let addr = c.link_local().unwrap();
    let claim = ArpSeen {
        sender_mac: [2, 0, 0, 0, 0, 9],
        sender_ip: addr,
        target_ip: addr,
    };
    // Our own frames are no conflict.
    let own = ArpSeen {
        sender_mac: MAC,
        ..claim
    };
    assert!(c.handle(at, Event::Arp(own)).is_empty());
    // First claim: defended with an announcement.
    let a = c.handle(at + Duration::from_secs(5), Event::Arp(claim));
    assert_eq!(a, vec![Action::ArpAnnounce { addr }]);
    assert_eq!(c.link_local(), Some(addr));
    // Another within DEFEND_INTERVAL (10 s): given up, another address tried.
    let a = c.handle(at + Duration::from_secs(9), Event::Arp(claim));
    assert!(a.contains(&Action::DeconfigureLinkLocal { addr }), "{a:?}");
    assert_eq!(c.link_local(), None);
    assert!(c.timers().get(Timer::LinkLocal).is_some());
}

#[test]
fn after_more_than_ten_link_local_conflicts_the_next_try_waits_a_minute() {
    let mut c = ll_client(1);
    c.handle(t(0.0), Event::Start);
    let mut now = t(0.0);
    for _ in 0..11 {
        let (all, at) = run_until(&mut c, t(1000.0), |a| {
            a.iter()
                .any(|x| matches!(x, Action::ArpProbe { target } if target.octets()[0] == 169))
        });
        let target = all
            .iter()
            .rev()
            .find_map(|x| match x {
                Action::ArpProbe { target } => Some(*target),
                _ => None,
            })
            .unwrap();
        now = at;
        c.handle(
            at,
            Event::Arp(ArpSeen {
                sender_mac: [2, 0, 0, 0, 0, 9],
                sender_ip: target,
                target_ip: target,
            }),
        );
    }
    assert_eq!(
        c.timers().get(Timer::LinkLocal),
        Some(now + Duration::from_secs(60))
    );
}

#[test]
fn release_and_stop_drop_the_link_local_address() {
    for event in [Event::Release, Event::Stop] {
        let mut c = ll_client(1);
        c.handle(t(0.0), Event::Start);
        let (_, at) = run_until(&mut c, t(30.0), |a| link_local_configured(a).is_some());
        let addr = c.link_local().unwrap();
        let a = c.handle(at, event);
        assert!(a.contains(&Action::DeconfigureLinkLocal { addr }), "{a:?}");
        assert_eq!(c.link_local(), None);
        assert_eq!(c.timers().get(Timer::LinkLocal), None);
    }
}

#[test]
fn arp_is_watched_for_a_probe_and_a_link_local_address_at_once() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    cfg.ipv4ll = Some(Duration::from_secs(1));
    let mut c = Client::new(cfg, 21);
    c.handle(t(0.0), Event::Start);
    let (batch, at) = run_until(&mut c, t(40.0), |a| link_local_configured(a).is_some());
    let ll = link_local_configured(&batch).unwrap();
    // DHCP's next DISCOVER is answered; the ACK's address is probed beside the link-local one.
    let (batch, at2) = run_until(&mut c, at + Duration::from_secs(60), |a| sends(a) > 0);
    let (d, _) = sent(&batch);
    c.handle(at2, Event::Reply(&rx(&offer(d.xid()))));
    let a = c.handle(at2, Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert!(a.contains(&Action::ArpWatch(vec![ADDR, ll])), "{a:?}");
    // Bound: the link-local address goes, and with it all ARP.
    let (batch, _) = run_until(&mut c, at2 + Duration::from_secs(1), |a| {
        configured(a).is_some()
    });
    assert!(batch.contains(&Action::DeconfigureLinkLocal { addr: ll }));
    assert!(batch.contains(&Action::ArpWatch(vec![])));
}
