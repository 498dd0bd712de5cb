//! IPv4 link-local addresses (RFC 3927), the fallback when no DHCP lease comes: an address in
//! 169.254.0.0/16 picked from a generator seeded with the MAC (so a host comes back to the same
//! one), claimed with ARP probes, announced, used and defended, and given up the moment a DHCP
//! lease is bound. It runs beside the DHCP state machine, which goes on trying meanwhile; the
//! [`super::Client`] owns it, drives it with [`super::Timer::LinkLocal`] and ARP packets, and
//! carries out what it returns.

use super::Action;
use crate::frame::ArpSeen;
use crate::time::Instant;
use std::net::Ipv4Addr;
use std::time::Duration;
use tracing::{info, warn};

/// RFC 3927 section 9's constants.
const PROBE_WAIT: u64 = 1000;
const PROBE_NUM: u8 = 3;
const PROBE_MIN: u64 = 1000;
const PROBE_MAX: u64 = 2000;
const ANNOUNCE_WAIT: Duration = Duration::from_secs(2);
const ANNOUNCE_NUM: u8 = 2;
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
const MAX_CONFLICTS: u32 = 10;
const RATE_LIMIT_INTERVAL: Duration = Duration::from_secs(60);
const DEFEND_INTERVAL: Duration = Duration::from_secs(10);

/// The `n`th address (from 0) the generator of a host with hardware address `mac` picks:
/// 169.254.1.0 to 169.254.254.255 (RFC 3927 2.1: the first and last 256 are reserved).
pub fn candidate(mac: [u8; 6], n: usize) -> Ipv4Addr {
    let mut rng = generator(mac);
    let mut addr = pick(&mut rng);
    for _ in 0..n {
        addr = pick(&mut rng);
    }
    addr
}

/// The address generator of a host with hardware address `mac`: seeded with the MAC (RFC
/// 3927 2.1), so that a host picks the same addresses in the same order every time.
fn generator(mac: [u8; 6]) -> fastrand::Rng {
    let mut seed = [0u8; 8];
    seed[..6].copy_from_slice(&mac);
    fastrand::Rng::with_seed(u64::from_le_bytes(seed) ^ 0x1693_9270_0000_0000)
}

fn pick(rng: &mut fastrand::Rng) -> Ipv4Addr {
    Ipv4Addr::new(169, 254, rng.u8(1..=254), rng.u8(..))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the fallback to begin (or for the rate limit to pass).
    Idle,
    Probing {
        addr: Ipv4Addr,
        probes_left: u8,
    },
    /// In use; `left` announcements still to send.
    Announcing {
        addr: Ipv4Addr,
        left: u8,
    },
    /// In use.
    Bound {
        addr: Ipv4Addr,
    },
}

/// The link-local side of one interface.
#[derive(Debug, Clone)]
pub struct LinkLocal {
    mac: [u8; 6],
    /// Picks addresses, and nothing else (so that the `n`th pick is [`candidate`]`(mac, n)`).
    addrs: fastrand::Rng,
    /// Picks the random waits.
    jitter: fastrand::Rng,
    phase: Phase,
    conflicts: u32,
    last_defence: Option<Instant>,
}

impl LinkLocal {
    pub fn new(mac: [u8; 6]) -> LinkLocal {
        LinkLocal {
            mac,
            addrs: generator(mac),
            jitter: fastrand::Rng::with_seed(u64::from(mac[5]) << 8 | u64::from(mac[4])),
            phase: Phase::Idle,
            conflicts: 0,
            last_defence: None,
        }
    }

    /// The link-local address the interface holds, if any.
    pub fn held(&self) -> Option<Ipv4Addr> {
        match self.phase {
            Phase::Announcing { addr, .. } | Phase::Bound { addr } => Some(addr),
            _ => None,
        }
    }

    /// The address whose ARP traffic matters now (being probed, or held and defended).
    pub fn watched(&self) -> Option<Ipv4Addr> {
        match self.phase {
            Phase::Idle => None,
            Phase::Probing { addr, .. }
            | Phase::Announcing { addr, .. }
            | Phase::Bound { addr } => Some(addr),
        }
    }

    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Idle
    }

    /// Its timer fired: the next step. Returns when it wants to be called again.
    pub fn step(&mut self, now: Instant, out: &mut Vec<Action>) -> Option<Instant> {
        match self.phase {
            Phase::Idle => Some(self.begin(now)),
            Phase::Probing { addr, probes_left } if probes_left > 0 => {
                out.push(Action::ArpProbe { target: addr });
                self.phase = Phase::Probing {
                    addr,
                    probes_left: probes_left - 1,
                };
                Some(if probes_left > 1 {
                    now + Duration::from_millis(self.jitter.u64(PROBE_MIN..=PROBE_MAX))
                } else {
                    now + ANNOUNCE_WAIT
                })
            }
            Phase::Probing { addr, .. } => {
                info!("no DHCP lease: using link-local address {addr}");
                out.push(Action::ConfigureLinkLocal { addr });
                out.push(Action::ArpAnnounce { addr });
                self.conflicts = 0;
                self.phase = Phase::Announcing {
                    addr,
                    left: ANNOUNCE_NUM - 1,
                };
                Some(now + ANNOUNCE_INTERVAL)
            }
            Phase::Announcing { addr, left } => {
                out.push(Action::ArpAnnounce { addr });
                if left > 1 {
                    self.phase = Phase::Announcing {
                        addr,
                        left: left - 1,
                    };
                    Some(now + ANNOUNCE_INTERVAL)
                } else {
                    self.phase = Phase::Bound { addr };
                    None
                }
            }
            Phase::Bound { .. } => None,
        }
    }

    /// Picks the next address and starts probing it: after a random wait of up to PROBE_WAIT,
    /// or, once the conflicts in a row exceed MAX_CONFLICTS, after RATE_LIMIT_INTERVAL.
    fn begin(&mut self, now: Instant) -> Instant {
        let addr = pick(&mut self.addrs);
        self.last_defence = None;
        self.phase = Phase::Probing {
            addr,
            probes_left: PROBE_NUM,
        };
        if self.conflicts > MAX_CONFLICTS {
            now + RATE_LIMIT_INTERVAL
        } else {
            now + Duration::from_millis(self.jitter.u64(0..=PROBE_WAIT))
        }
    }

    /// An ARP packet: a conflict while probing means another address; while the address is in
    /// use, it is defended once (an announcement), and given up if another conflict comes
    /// within DEFEND_INTERVAL (RFC 3927 2.5, choice b). Returns the next step's time when it
    /// changed.
    pub fn arp(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) -> Option<Instant> {
        if arp.sender_mac == self.mac {
            return None;
        }
        match self.phase {
            Phase::Probing { addr, .. } => {
                let conflict = arp.sender_ip == addr
                    || (arp.sender_ip.is_unspecified() && arp.target_ip == addr);
                if !conflict {
                    return None;
                }
                self.conflicts += 1;
                info!("link-local address {addr} is taken: trying another");
                Some(self.begin(now))
            }
            Phase::Announcing { addr, .. } | Phase::Bound { addr } => {
                if arp.sender_ip != addr {
                    return None;
                }
                let recent = self
                    .last_defence
                    .is_some_and(|t| now.saturating_since(t) < DEFEND_INTERVAL);
                if !recent {
                    warn!("link-local address {addr} is claimed by another host: defending it");
                    self.last_defence = Some(now);
                    out.push(Action::ArpAnnounce { addr });
                    return None;
                }
                warn!("link-local address {addr} is claimed again: giving it up");
                out.push(Action::DeconfigureLinkLocal { addr });
                self.conflicts += 1;
                Some(self.begin(now))
            }
            Phase::Idle => None,
        }
    }

    /// Stops: a DHCP lease is bound, or the client is done. The address held, if any, goes.
    pub fn stop(&mut self, out: &mut Vec<Action>) {
        if let Some(addr) = self.held() {
            info!("dropping link-local address {addr}");
            out.push(Action::DeconfigureLinkLocal { addr });
        }
        self.phase = Phase::Idle;
    }

    /// Stops with nothing to take off: the interface is gone, and its address with it.
    pub fn forget(&mut self) {
        self.phase = Phase::Idle;
    }
}
