//! The record of what the interface holds and the timer table, walked over many seeds; and
//! the release that ends it all.

use super::*;

#[test]
fn every_deadline_is_in_the_named_table() {
    let (c, _, lease) = bound(3600);
    let timers = c.timers();
    assert_eq!(timers.get(Timer::Renew), lease.renew_at());
    assert_eq!(timers.get(Timer::Rebind), lease.rebind_at());
    assert_eq!(timers.get(Timer::Expire), lease.expires_at());
    assert_eq!(timers.get(Timer::Retransmit), None);
    assert_eq!(c.poll_at(), timers.next().map(|(_, at)| at));
    assert_eq!(timers.next().unwrap().0, Timer::Renew);
}

/// The interface as the shell would leave it after carrying out the core's actions.
#[derive(Default)]
struct Iface {
    holds: Option<Lease>,
}

impl Iface {
    fn apply(&mut self, actions: &[Action], ctx: &str) {
        for a in actions {
            match a {
                Action::Configure {
                    lease, previous, ..
                } => {
                    assert_eq!(
                        previous, &self.holds,
                        "{ctx}: Configure replaces something else than the interface holds"
                    );
                    self.holds = Some(lease.clone());
                }
                Action::Deconfigure { lease, .. } => {
                    assert_eq!(
                        Some(lease),
                        self.holds.as_ref(),
                        "{ctx}: Deconfigure of something the interface does not hold"
                    );
                    self.holds = None;
                }
                _ => {}
            }
        }
    }
}

/// What a walk has seen of ARP: the watch set last told, the addresses ARP-probed since the
/// last Configure, and whether the link has carrier.
struct ArpSeenSoFar {
    watching: Vec<Ipv4Addr>,
    probed: Vec<Ipv4Addr>,
    carrier: bool,
}

/// The rules of the timer table and of conflict detection, after one step of a walk: lease
/// timers only while a lease is held, each state's own step only in that state, ARP watched
/// for exactly the address being probed (and told only when that changes), and every address
/// ARP-probed announced once bound (with carrier). An address merely watched (RFC 4436
/// watches the router's) is not probed: a server may hand it out, and INIT-REBOOT binds it
/// without a probe.
fn check_timers_and_arp(c: &Client, actions: &[Action], arp: &mut ArpSeenSoFar, ctx: &str) {
    let timers = c.timers();
    let state = c.state();
    for t in [Timer::Renew, Timer::Rebind, Timer::Expire] {
        if timers.get(t).is_some() {
            assert!(c.applied().is_some(), "{ctx}: {t:?} set with nothing held");
        }
    }
    use StateName::*;
    if timers.get(Timer::Retransmit).is_some() {
        assert!(
            matches!(
                state,
                Selecting | Requesting | Rebooting | Renewing | Rebinding
            ),
            "{ctx}: a retransmission with no exchange"
        );
    }
    assert_eq!(timers.get(Timer::Restart).is_some(), state == Init, "{ctx}");
    assert_eq!(
        timers.get(Timer::Probe).is_some(),
        state == Probing,
        "{ctx}"
    );
    if state == Released {
        assert_eq!(timers.next(), None, "{ctx}: timers left after release");
    }
    let watching = &mut arp.watching;
    for a in actions {
        match a {
            Action::ArpWatch(addrs) => {
                assert_ne!(addrs, watching, "{ctx}: the same watch set told twice");
                *watching = addrs.clone();
            }
            Action::ArpProbe { target } if !arp.probed.contains(target) => arp.probed.push(*target),
            Action::Configure { lease, .. } => {
                if arp.probed.contains(&lease.address) && arp.carrier {
                    assert!(
                        actions.contains(&Action::ArpAnnounce {
                            addr: lease.address
                        }),
                        "{ctx}: a probed address bound without an announcement"
                    );
                }
                arp.probed.clear();
            }
            _ => {}
        }
    }
    // ARP is let through while an address is probed, and while the router is asked whether
    // carrier came back on the same network (RFC 4436): never while merely bound.
    if state == Probing {
        assert!(!watching.is_empty(), "{ctx}: probing without watching ARP");
    } else if state != Rebooting {
        assert!(watching.is_empty(), "{ctx}: watching ARP for {watching:?}");
    }
    if state != Probing && !watching.is_empty() {
        assert_eq!(watching, &[Ipv4Addr::new(198, 51, 100, 1)], "{ctx}");
    }
}

/// Drives clients through random paths (offers, ACKs of the same or another address, refused
/// leases, NAKs, silence, conflicts, renewals asked for, failed configures, releases, expiry)
/// and checks after every step that the core's record is exactly what its Configure and
/// Deconfigure actions left on the interface.
#[test]
fn the_record_always_matches_what_the_interface_holds() {
    // What the walks went through, so that the test shows it covered every path.
    let mut reasons = std::collections::BTreeSet::new();
    let mut moved = 0;
    for seed in 0..400u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut cfg = Config::new(MAC);
        cfg.probe = match rng.u8(0..3) {
            0 => ProbeMode::Off,
            1 => ProbeMode::Quick(Duration::from_millis(200)),
            _ => ProbeMode::Rfc5227,
        };
        cfg.acquire_timeout = Some(Duration::from_secs(30));
        let mut iface = Iface::default();
        let mut c = Client::new(cfg, seed);
        if rng.bool() {
            let saved = saved_lease(t(0.0), 3600);
            iface.holds = Some(saved.clone());
            c = c.with_saved_lease(saved);
        }
        let mut now = t(1.0);
        let mut last: Option<Message> = None;
        let mut arp = ArpSeenSoFar {
            watching: Vec::new(),
            probed: Vec::new(),
            carrier: true,
        };
        let mut actions = c.handle(now, Event::Start);
        for step in 0..200 {
            let ctx = format!("seed {seed} step {step} in {}", c.state());
            for a in &actions {
                match a {
                    Action::Deconfigure { reason, .. } => {
                        reasons.insert(format!("{reason:?}"));
                    }
                    Action::Configure {
                        lease,
                        previous,
                        renewal,
                        ..
                    } => {
                        let same = previous.as_ref().map(|p| p.address) == Some(lease.address);
                        assert!(!renewal || same, "{ctx}: a renewal of another address");
                        if previous.is_some() && !same {
                            moved += 1;
                        }
                    }
                    _ => {}
                }
            }
            iface.apply(&actions, &ctx);
            assert_eq!(c.applied(), iface.holds.as_ref(), "{ctx}");
            if let Some(l) = c.lease() {
                assert_eq!(Some(l), c.applied(), "{ctx}: the lease in force is held");
            }
            check_timers_and_arp(&c, &actions, &mut arp, &ctx);
            if c.state() == StateName::Released {
                break;
            }
            if let Some(m) = actions.iter().rev().find_map(|a| match a {
                Action::Send { msg, .. } => Some((**msg).clone()),
                _ => None,
            }) {
                last = Some(m);
            }
            let addr = if rng.bool() { ADDR } else { NEW_ADDR };
            actions = match rng.u8(0..20) {
                0..=7 => {
                    now = c
                        .poll_at()
                        .unwrap_or(now + Duration::from_secs(60))
                        .max(now);
                    c.handle(now, Event::Tick)
                }
                8..=12 => match &last {
                    Some(m) if kind(m) == MessageType::Discover => {
                        let mut o = offer(m.xid());
                        o.set_yiaddr(addr);
                        c.handle(now, Event::Reply(&rx(&o)))
                    }
                    Some(m) if kind(m) == MessageType::Request => {
                        let lease = [3600, 60, 1, u32::MAX][rng.usize(0..4)];
                        let mut a = ack(m.xid(), lease);
                        a.set_yiaddr(addr);
                        // Sometimes from the router itself, for RFC 4436 at carrier up.
                        let r = if rng.bool() {
                            rx_from(&a, ROUTER_MAC)
                        } else {
                            rx(&a)
                        };
                        c.handle(now, Event::Reply(&r))
                    }
                    _ => Vec::new(),
                },
                13 => match &last {
                    Some(m) => c.handle(now, Event::Reply(&rx(&nak(m.xid(), SERVER)))),
                    None => Vec::new(),
                },
                14 => c.handle(
                    now,
                    Event::Arp(ArpSeen {
                        sender_mac: [2, 0, 0, 0, 0, 9],
                        sender_ip: addr,
                        target_ip: addr,
                    }),
                ),
                15 => c.handle(now, Event::Renew),
                16 => match configured(&actions) {
                    Some((lease, _)) => c.handle(now, refused(&lease)),
                    None => Vec::new(),
                },
                17 if rng.u8(0..4) == 0 => c.handle(now, Event::Release),
                18 if rng.bool() => {
                    arp.carrier = rng.bool();
                    c.handle(
                        now,
                        Event::Link {
                            carrier: arp.carrier,
                        },
                    )
                }
                18 => c.handle(
                    now,
                    Event::Arp(ArpSeen {
                        sender_mac: if rng.bool() {
                            ROUTER_MAC
                        } else {
                            [2, 0, 0, 0, 0, 8]
                        },
                        sender_ip: SERVER,
                        target_ip: addr,
                    }),
                ),
                _ => {
                    now = now + Duration::from_secs(rng.u64(1..4000));
                    c.handle(now, Event::Tick)
                }
            };
        }
    }
    assert_eq!(
        reasons.into_iter().collect::<Vec<_>>(),
        [
            "Conflict",
            "Declined",
            "Expired",
            "Moved",
            "Nak",
            "NotApplied",
            "Released",
            "Unconfirmed"
        ]
    );
    assert!(moved > 0, "no lease ever moved to another address");
}

#[test]
fn release_sends_release_and_deconfigures() {
    let (mut c, _, _) = bound(3600);
    let a = c.handle(t(10.0), Event::Release);
    let (m, dest) = sent(&a);
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(kind(&m), MessageType::Release);
    assert_eq!(m.ciaddr(), ADDR);
    assert_eq!(
        opt(&m, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(deconfigured(&a).unwrap().1, Reason::Released);
    assert_eq!(c.state(), StateName::Released);
    assert_eq!(c.poll_at(), None);
}
