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

/// One random walk of a client: the client, the interface as the shell would leave it, and
/// what the walk needs to answer the client's messages.
struct Walk {
    c: Client,
    iface: Iface,
    rng: fastrand::Rng,
    now: Instant,
    /// The latest message the client sent.
    last: Option<Message>,
    arp: ArpSeenSoFar,
}

/// What the walks went through, so that the test shows it covered every path.
#[derive(Default)]
struct Seen {
    reasons: std::collections::BTreeSet<String>,
    transitions: std::collections::BTreeSet<String>,
    /// Configures of another address than the one held.
    moved: u32,
}

impl Seen {
    /// Notes what `actions` did, checking the transitions they name on the way.
    fn note(&mut self, actions: &[Action], ctx: &str) {
        for a in actions {
            match a {
                Action::Deconfigure {
                    reason, transition, ..
                } => {
                    assert_eq!(*transition, reason.transition(), "{ctx}");
                    self.reasons.insert(format!("{reason:?}"));
                    self.transitions.insert(format!("{transition:?}"));
                }
                Action::Configure {
                    lease,
                    previous,
                    renewal,
                    transition,
                } => {
                    let same = previous.as_ref().map(|p| p.address) == Some(lease.address);
                    assert!(!renewal || same, "{ctx}: a renewal of another address");
                    let bound = *transition == Transition::Bound;
                    assert_eq!(bound, !same, "{ctx}: {transition:?} of {previous:?}");
                    if previous.is_some() && !same {
                        self.moved += 1;
                    }
                    self.transitions.insert(format!("{transition:?}"));
                }
                Action::Reapply { transition, .. } | Action::Notify { transition, .. } => {
                    self.transitions.insert(format!("{transition:?}"));
                }
                _ => {}
            }
        }
    }
}

impl Walk {
    /// A client of seed `seed`: a probe mode, an acquire timeout, and maybe a saved lease to
    /// ask for again, or a leftover one to take off (either may be on the interface).
    fn new(seed: u64) -> Walk {
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
            c = if rng.u8(0..4) == 0 {
                c.with_leftover(saved)
            } else {
                c.with_saved_lease(saved)
            };
        }
        Walk {
            c,
            iface,
            rng,
            now: t(1.0),
            last: None,
            arp: ArpSeenSoFar {
                watching: Vec::new(),
                probed: Vec::new(),
                carrier: true,
            },
        }
    }

    /// The rules after one step that returned `actions`.
    fn check(&mut self, actions: &[Action], ctx: &str) {
        self.iface.apply(actions, ctx);
        let c = &self.c;
        assert_eq!(c.applied(), self.iface.holds.as_ref(), "{ctx}");
        if let Some(l) = c.lease() {
            assert_eq!(Some(l), c.applied(), "{ctx}: the lease in force is held");
        }
        check_timers_and_arp(c, actions, &mut self.arp, ctx);
        if let Some(m) = actions.iter().rev().find_map(|a| match a {
            Action::Send { msg, .. } => Some((**msg).clone()),
            _ => None,
        }) {
            self.last = Some(m);
        }
    }

    /// The next event, chosen at random (after `actions`, the last step's), and what the
    /// client does with it.
    fn step(&mut self, actions: &[Action]) -> Vec<Action> {
        let addr = if self.rng.bool() { ADDR } else { NEW_ADDR };
        let now = self.now;
        match self.rng.u8(0..20) {
            0..=7 => {
                self.now = self
                    .c
                    .poll_at()
                    .unwrap_or(now + Duration::from_secs(60))
                    .max(now);
                self.c.handle(self.now, Event::Tick)
            }
            8..=12 => self.answer(addr),
            13 => match &self.last {
                Some(m) => self.c.handle(now, Event::Reply(&rx(&nak(m.xid(), SERVER)))),
                None => Vec::new(),
            },
            14 => self.c.handle(now, claimed_by(addr, [2, 0, 0, 0, 0, 9])),
            15 => self.c.handle(now, Event::Renew),
            16 => match configured(actions) {
                Some((lease, _)) => self.c.handle(now, refused(&lease)),
                None => Vec::new(),
            },
            17 if self.rng.u8(0..4) == 0 => self.c.handle(now, Event::Release),
            18 if self.rng.bool() => {
                self.arp.carrier = self.rng.bool();
                let carrier = self.arp.carrier;
                self.c.handle(now, Event::Link { carrier })
            }
            18 => {
                let mac = if self.rng.bool() {
                    ROUTER_MAC
                } else {
                    [2, 0, 0, 0, 0, 8]
                };
                let from_router = Event::Arp(ArpSeen {
                    sender_mac: mac,
                    sender_ip: SERVER,
                    target_ip: addr,
                });
                self.c.handle(now, from_router)
            }
            _ => {
                self.now = now + Duration::from_secs(self.rng.u64(1..4000));
                self.c.handle(self.now, Event::Tick)
            }
        }
    }

    /// The server's answer to the latest message: an offer of `addr` to a DISCOVER, an ACK of
    /// it (of a lease of an hour, a minute, a second or for ever; sometimes from the router
    /// itself, for RFC 4436 at carrier up) to a REQUEST.
    fn answer(&mut self, addr: Ipv4Addr) -> Vec<Action> {
        let now = self.now;
        match &self.last {
            Some(m) if kind(m) == MessageType::Discover => {
                let mut o = offer(m.xid());
                o.set_yiaddr(addr);
                self.c.handle(now, Event::Reply(&rx(&o)))
            }
            Some(m) if kind(m) == MessageType::Request => {
                let lease = [3600, 60, 1, u32::MAX][self.rng.usize(0..4)];
                let mut a = ack(m.xid(), lease);
                a.set_yiaddr(addr);
                let r = if self.rng.bool() {
                    rx_from(&a, ROUTER_MAC)
                } else {
                    rx(&a)
                };
                self.c.handle(now, Event::Reply(&r))
            }
            _ => Vec::new(),
        }
    }
}

/// An ARP packet of another host (`mac`) that claims `addr`.
fn claimed_by(addr: Ipv4Addr, mac: [u8; 6]) -> Event<'static> {
    Event::Arp(ArpSeen {
        sender_mac: mac,
        sender_ip: addr,
        target_ip: addr,
    })
}

/// Drives clients through random paths (offers, ACKs of the same or another address, refused
/// leases, NAKs, silence, conflicts, renewals asked for, failed configures, releases, expiry,
/// leftover leases) and checks after every step that the core's record is exactly what its
/// Configure and Deconfigure actions left on the interface, and that each names its
/// transition as the rules say.
#[test]
fn the_record_always_matches_what_the_interface_holds() {
    let mut seen = Seen::default();
    for seed in 0..400u64 {
        let mut w = Walk::new(seed);
        let mut actions = w.c.handle(w.now, Event::Start);
        for step in 0..200 {
            let ctx = format!("seed {seed} step {step} in {}", w.c.state());
            seen.note(&actions, &ctx);
            w.check(&actions, &ctx);
            if w.c.state() == StateName::Released {
                break;
            }
            actions = w.step(&actions);
        }
    }
    assert_eq!(
        seen.reasons.into_iter().collect::<Vec<_>>(),
        [
            "Conflict",
            "Declined",
            "Expired",
            "Moved",
            "Nak",
            "NotApplied",
            "Released",
            "Stale",
            "Unconfirmed"
        ]
    );
    assert_eq!(
        seen.transitions.into_iter().collect::<Vec<_>>(),
        ["Bound", "Expire", "Fail", "Nak", "Preinit", "Rebind", "Reboot", "Release", "Renew"]
    );
    assert!(seen.moved > 0, "no lease ever moved to another address");
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
