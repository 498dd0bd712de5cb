//! The sans-IO DHCPv4 client state machine (RFC 2131 section 4.4).
//!
//! `Client::handle(now, event)` returns the actions the shell must carry out, and
//! `Client::poll_at()` says when the shell must call back with [`Event::Tick`]. The core never
//! reads a clock, sleeps, opens a socket or touches the interface; its randomness (xid, backoff
//! jitter) comes from a seed, so every test is deterministic.

use crate::lease::{is_usable_unicast, Lease};
use crate::time::Instant;
use crate::wire;
use dhcproto::v4::{DhcpOption, Flags, HType, Message, MessageType, Opcode, OptionCode};
use std::net::Ipv4Addr;
use std::time::Duration;
use tracing::{debug, info, warn};

/// The options dhcpc asks servers for (option 55), in the order they are asked.
pub const REQUESTED_OPTIONS: &[OptionCode] = &[
    OptionCode::SubnetMask,
    OptionCode::Router,
    OptionCode::DomainNameServer,
    OptionCode::Hostname,
    OptionCode::DomainName,
    OptionCode::InterfaceMtu,
    OptionCode::BroadcastAddr,
    OptionCode::AddressLeaseTime,
    OptionCode::ServerIdentifier,
    OptionCode::Renewal,
    OptionCode::Rebinding,
];

/// REQUESTs sent in REQUESTING before going back to INIT (4 + 8 + 16 + 32 s, about a minute).
const MAX_REQUESTS: u32 = 4;
/// How long INIT-REBOOT waits for an answer before giving the saved address up: two REQUESTs,
/// at 0 and at half of it. A server that does not know the lease stays silent (RFC 2131
/// 4.3.2), so this wait is paid at every boot on such networks; 5 s is dhcpcd's default too.
pub const REBOOT_WAIT: Duration = Duration::from_secs(5);
/// RFC 2131 4.4.5: in RENEWING and REBINDING never retransmit sooner than this.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);

/// Per-interface settings the core needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The interface's Ethernet address (chaddr).
    pub hwaddr: [u8; 6],
    /// Option 61. Default: hardware type 1 followed by the MAC (RFC 2132 9.14).
    pub client_id: Vec<u8>,
    /// Option 12, sent when set.
    pub hostname: Option<String>,
    /// Option 60, sent when set.
    pub vendor_class: Option<Vec<u8>>,
    /// Ask servers to broadcast their replies (`--broadcast`); off by default since the raw
    /// socket receives unicast replies too.
    pub broadcast_flag: bool,
    /// Option 57: the largest DHCP message we accept (interface MTU minus IP and UDP headers).
    pub max_message_size: u16,
    /// Address conflict detection before using an offered address (RFC 5227).
    pub probe: ProbeMode,
}

/// How an offered address is checked for conflicts before it is used (RFC 5227).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeMode {
    /// Use the address at once.
    Off,
    /// Two ARP probes, half the window apart, then the address is used when the window has
    /// passed with no answer. The default window is [`DEFAULT_PROBE_WINDOW`].
    Quick(Duration),
    /// RFC 5227's own timings: wait 0-1 s, three probes 1-2 s apart, then 2 s more.
    Rfc5227,
}

/// The default probe window: a host that holds the address answers an ARP probe on a LAN in
/// well under a millisecond, and within a few tens of milliseconds over slow bridges and
/// Wi-Fi; 200 ms covers that with margin while keeping time to lease far under a second.
/// RFC 5227's full timings (up to 9 s) are there for who wants them (`--arp-probe rfc5227`).
pub const DEFAULT_PROBE_WINDOW: Duration = Duration::from_millis(200);
/// RFC 5227 ANNOUNCE_NUM and ANNOUNCE_INTERVAL.
const ANNOUNCE_NUM: u8 = 2;
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
/// RFC 2131 3.1 step 5: after a DECLINE, wait this long before starting over.
pub const DECLINE_WAIT: Duration = Duration::from_secs(10);

impl Config {
    pub fn new(hwaddr: [u8; 6]) -> Config {
        let mut client_id = vec![1u8];
        client_id.extend_from_slice(&hwaddr);
        Config {
            hwaddr,
            client_id,
            hostname: None,
            vendor_class: None,
            broadcast_flag: false,
            max_message_size: 1500 - 28,
            probe: ProbeMode::Quick(DEFAULT_PROBE_WINDOW),
        }
    }
}

/// What happened, as the shell tells the core.
#[derive(Debug)]
pub enum Event<'a> {
    /// Begin acquiring a lease (from a saved lease when one was given, else from INIT).
    Start,
    /// A decoded DHCP message arrived on the interface.
    Message(&'a Message),
    /// `poll_at()` was reached. Calling it early is harmless.
    Tick,
    /// The user asked to renew now.
    Renew,
    /// Give the lease back (DHCPRELEASE) and stop.
    Release,
    /// An ARP packet seen on the interface while probing.
    Arp(ArpSeen),
}

/// The fields of an ARP packet that conflict detection looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpSeen {
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_ip: Ipv4Addr,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// From 0.0.0.0:68 to 255.255.255.255:67 on the raw socket.
    Broadcast,
    /// From the leased address to this server, port 67, over UDP.
    Unicast(Ipv4Addr),
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send {
        msg: Box<Message>,
        dest: Dest,
    },
    /// Apply this lease. `previous` is the lease it replaces, if one is applied now.
    Configure {
        lease: Lease,
        previous: Option<Lease>,
    },
    /// Remove everything this lease put on the interface.
    Deconfigure {
        lease: Lease,
        reason: Reason,
    },
    /// Start listening for ARP about this address on the interface (conflict detection
    /// begins).
    ArpListen {
        addr: Ipv4Addr,
    },
    /// Send an ARP probe for this address (sender IP 0.0.0.0, RFC 5227 2.1.1).
    ArpProbe {
        target: Ipv4Addr,
    },
    /// Stop listening for ARP.
    ArpStop,
    /// Send an ARP announcement for this address (sender = target = address, RFC 5227 2.3).
    ArpAnnounce {
        addr: Ipv4Addr,
    },
}

/// Why a lease is taken off the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Expired,
    Nak,
    Released,
    /// A new lease with another address takes its place.
    Replaced,
    /// A saved lease that no server confirmed at start (INIT-REBOOT unanswered).
    Unconfirmed,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reason::Expired => "lease expired",
            Reason::Nak => "server sent NAK",
            Reason::Released => "released",
            Reason::Replaced => "replaced by a new address",
            Reason::Unconfirmed => "saved lease not confirmed",
        })
    }
}

/// The RFC 2131 states, as they are reported (for status output and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateName {
    Init,
    Selecting,
    Requesting,
    Rebooting,
    /// Checking the offered address for conflicts (RFC 5227) before using it.
    Probing,
    Bound,
    Renewing,
    Rebinding,
    Released,
}

/// One request/reply exchange: its xid and retransmission bookkeeping.
#[derive(Debug, Clone)]
struct Exchange {
    xid: u32,
    /// When the first message of the exchange went out (for `secs`).
    started: Instant,
    /// When the latest message went out.
    sent: Instant,
    /// Messages sent so far.
    attempts: u32,
    /// When to retransmit (or give up).
    next: Instant,
}

#[derive(Debug, Clone)]
enum State {
    /// Waiting to send the first DISCOVER at `at`.
    Init {
        at: Instant,
    },
    Selecting {
        x: Exchange,
    },
    Requesting {
        x: Exchange,
        offered: Ipv4Addr,
        server: Ipv4Addr,
        /// The `secs` of the DISCOVER the offer answered (RFC 2131 4.4.1: REQUEST repeats it).
        secs: u16,
    },
    Rebooting {
        x: Exchange,
        lease: Lease,
    },
    /// ACKed, checking the address with ARP before using it.
    Probing {
        lease: Lease,
        previous: Option<Lease>,
        probes_left: u8,
        next: Instant,
    },
    Bound {
        lease: Lease,
    },
    Renewing {
        x: Exchange,
        lease: Lease,
    },
    Rebinding {
        x: Exchange,
        lease: Lease,
    },
    Released,
}

/// The per-interface DHCP client state machine.
pub struct Client {
    config: Config,
    state: State,
    rng: fastrand::Rng,
    /// A saved lease to ask for again at start (INIT-REBOOT).
    saved: Option<Lease>,
    /// NAKs in a row, to back off from a server that refuses everything.
    naks: u32,
    /// ARP announcements still to send after binding, and when the next is due.
    announce: Option<(u8, Instant)>,
}

/// Backoff before retransmission number `attempt` (1-based): 4, 8, 16, 32, 64, 64… seconds.
pub fn backoff_base(attempt: u32) -> Duration {
    Duration::from_secs(4u64 << attempt.saturating_sub(1).min(4))
}

impl Client {
    pub fn new(config: Config, seed: u64) -> Client {
        Client {
            config,
            state: State::Init { at: Instant::ZERO },
            rng: fastrand::Rng::with_seed(seed),
            saved: None,
            naks: 0,
            announce: None,
        }
    }

    /// A client that holds `lease` already (as applied by an earlier process), so that it can
    /// renew or release it.
    pub fn into_bound(mut self, lease: Lease) -> Client {
        self.state = State::Bound { lease };
        self
    }

    /// Gives the client a saved lease to try first (INIT-REBOOT) on [`Event::Start`].
    pub fn with_saved_lease(mut self, lease: Lease) -> Client {
        self.saved = Some(lease);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> StateName {
        match self.state {
            State::Init { .. } => StateName::Init,
            State::Selecting { .. } => StateName::Selecting,
            State::Requesting { .. } => StateName::Requesting,
            State::Rebooting { .. } => StateName::Rebooting,
            State::Probing { .. } => StateName::Probing,
            State::Bound { .. } => StateName::Bound,
            State::Renewing { .. } => StateName::Renewing,
            State::Rebinding { .. } => StateName::Rebinding,
            State::Released => StateName::Released,
        }
    }

    /// The lease currently applied to the interface, if any.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease),
            _ => None,
        }
    }

    /// When the shell must next call `handle(now, Event::Tick)`; None when nothing is pending.
    pub fn poll_at(&self) -> Option<Instant> {
        let state = self.state_deadline();
        match (state, self.announce) {
            (Some(a), Some((_, b))) => Some(a.min(b)),
            (a, None) => a,
            (None, Some((_, b))) => Some(b),
        }
    }

    fn state_deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Probing { next, .. } => Some(*next),
            State::Init { at } => Some(*at),
            State::Selecting { x }
            | State::Requesting { x, .. }
            | State::Rebooting { x, .. }
            | State::Renewing { x, .. }
            | State::Rebinding { x, .. } => Some(x.next),
            State::Bound { lease } => lease.renew_at(),
            State::Released => None,
        }
    }

    /// Feeds one event to the state machine and returns what the shell must do.
    pub fn handle(&mut self, now: Instant, event: Event<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.start(now, &mut out),
            Event::Tick => self.tick(now, &mut out),
            Event::Message(msg) => self.receive(now, msg, &mut out),
            Event::Renew => {
                if let State::Bound { lease } = &self.state {
                    let lease = lease.clone();
                    info!("renewing {} now, as asked", lease.address);
                    self.enter_renewing(now, lease, &mut out);
                }
            }
            Event::Release => self.release(&mut out),
            Event::Arp(arp) => self.arp(now, arp, &mut out),
        }
        out
    }

    /// Starts probing `lease` (RFC 5227), or binds at once when probing is off.
    fn probe_or_bind(
        &mut self,
        now: Instant,
        lease: Lease,
        previous: Option<Lease>,
        out: &mut Vec<Action>,
    ) -> State {
        let (probes, first) = match self.config.probe {
            ProbeMode::Off => return self.bind(now, lease, previous, out),
            ProbeMode::Quick(_) => (2, Duration::ZERO),
            ProbeMode::Rfc5227 => (3, Duration::from_millis(self.rng.u64(0..=1000))),
        };
        debug!("probing {} for conflicts", lease.address);
        out.push(Action::ArpListen {
            addr: lease.address,
        });
        State::Probing {
            lease,
            previous,
            probes_left: probes,
            next: now + first,
        }
    }

    /// The address is ours to use: configure it and announce it.
    fn bind(
        &mut self,
        now: Instant,
        lease: Lease,
        previous: Option<Lease>,
        out: &mut Vec<Action>,
    ) -> State {
        self.naks = 0;
        let new_address = previous.as_ref().is_none_or(|p| p.address != lease.address);
        out.push(Action::Configure {
            lease: lease.clone(),
            previous,
        });
        if new_address && self.config.probe != ProbeMode::Off {
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
            self.announce = Some((ANNOUNCE_NUM - 1, now + ANNOUNCE_INTERVAL));
        }
        State::Bound { lease }
    }

    fn arp(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) {
        let State::Probing { lease, .. } = &self.state else {
            return;
        };
        let addr = lease.address;
        let ours = arp.sender_mac == self.config.hwaddr;
        // RFC 5227 2.1.1: any ARP packet whose sender is the address, or a probe by another
        // host for it, is a conflict.
        let conflict = !ours
            && (arp.sender_ip == addr || (arp.sender_ip.is_unspecified() && arp.target_ip == addr));
        if !conflict {
            return;
        }
        let State::Probing { lease, .. } = std::mem::replace(&mut self.state, State::Released)
        else {
            return;
        };
        let mac = arp.sender_mac.map(|b| format!("{b:02x}")).join(":");
        warn!("{addr} is in use by {mac}: declining it");
        let xid = self.rng.u32(..);
        let mut msg = self.base(xid, MessageType::Decline, 0, Ipv4Addr::UNSPECIFIED);
        msg.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
        msg.opts_mut()
            .insert(DhcpOption::ServerIdentifier(lease.server_id));
        out.push(Action::ArpStop);
        out.push(send(msg, Dest::Broadcast));
        self.state = State::Init {
            at: now + DECLINE_WAIT,
        };
    }

    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.saved.take() {
            Some(lease) if lease.expires_at().is_none_or(|end| end > now) => {
                info!(
                    "asking again for saved lease {} (INIT-REBOOT)",
                    lease.address
                );
                let mut x = self.new_exchange(now);
                let msg = self.request_reboot(&x, now, lease.address);
                x.next = now + REBOOT_WAIT / 2;
                out.push(send(msg, Dest::Broadcast));
                self.state = State::Rebooting { x, lease };
            }
            _ => self.discover(now, out),
        }
    }

    fn new_exchange(&mut self, now: Instant) -> Exchange {
        Exchange {
            xid: self.rng.u32(..),
            started: now,
            sent: now,
            attempts: 1,
            next: now,
        }
    }

    /// A backoff randomised by ±1 s (RFC 2131 4.1).
    fn jittered(&mut self, base: Duration) -> Duration {
        let jitter = self.rng.i64(-1000..=1000);
        let ms = base.as_millis() as i64 + jitter;
        Duration::from_millis(ms.max(0) as u64)
    }

    fn discover(&mut self, now: Instant, out: &mut Vec<Action>) {
        let mut x = self.new_exchange(now);
        out.push(send(self.discover_msg(&x, now), Dest::Broadcast));
        x.next = now + self.jittered(backoff_base(1));
        self.state = State::Selecting { x };
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some((left, at)) = self.announce {
            if now >= at {
                if let Some(lease) = self.lease() {
                    out.push(Action::ArpAnnounce {
                        addr: lease.address,
                    });
                }
                self.announce = (left > 1).then(|| (left - 1, now + ANNOUNCE_INTERVAL));
            }
        }
        let Some(at) = self.state_deadline() else {
            return;
        };
        if now < at {
            return;
        }
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Init { .. } => self.discover(now, out),
            State::Selecting { mut x } => {
                x.attempts += 1;
                x.sent = now;
                out.push(send(self.discover_msg(&x, now), Dest::Broadcast));
                x.next = now + self.jittered(backoff_base(x.attempts));
                debug!("no offer yet; DISCOVER #{}", x.attempts);
                self.state = State::Selecting { x };
            }
            State::Requesting {
                mut x,
                offered,
                server,
                secs,
            } => {
                if x.attempts >= MAX_REQUESTS {
                    info!(
                        "no answer from {server} to {} REQUESTs; starting over",
                        x.attempts
                    );
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                out.push(send(
                    self.request_selecting(&x, offered, server, secs),
                    Dest::Broadcast,
                ));
                x.next = now + self.jittered(backoff_base(x.attempts));
                self.state = State::Requesting {
                    x,
                    offered,
                    server,
                    secs,
                };
            }
            State::Rebooting { mut x, lease } => {
                if now >= x.started + REBOOT_WAIT {
                    info!("no answer for saved lease {}; starting over", lease.address);
                    // An earlier process may have left the address on the interface.
                    out.push(Action::Deconfigure {
                        lease,
                        reason: Reason::Unconfirmed,
                    });
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                out.push(send(
                    self.request_reboot(&x, now, lease.address),
                    Dest::Broadcast,
                ));
                x.next = x.started + REBOOT_WAIT;
                self.state = State::Rebooting { x, lease };
            }
            State::Probing {
                lease,
                previous,
                probes_left,
                ..
            } => {
                if probes_left == 0 {
                    out.push(Action::ArpStop);
                    self.state = self.bind(now, lease, previous, out);
                    return;
                }
                out.push(Action::ArpProbe {
                    target: lease.address,
                });
                let wait = match self.config.probe {
                    ProbeMode::Quick(window) => window / 2,
                    // PROBE_MIN..PROBE_MAX between probes, ANNOUNCE_WAIT after the last.
                    _ if probes_left > 1 => Duration::from_millis(self.rng.u64(1000..=2000)),
                    _ => Duration::from_secs(2),
                };
                self.state = State::Probing {
                    lease,
                    previous,
                    probes_left: probes_left - 1,
                    next: now + wait,
                };
            }
            State::Bound { lease } => self.enter_renewing(now, lease, out),
            State::Renewing { mut x, lease } => {
                let t2 = lease.rebind_at().unwrap_or(now);
                if now >= t2 {
                    self.enter_rebinding(now, lease, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                out.push(send(
                    self.request_bound(&x, now, &lease),
                    Dest::Unicast(lease.server_id),
                ));
                x.next = renew_retry(now, t2);
                self.state = State::Renewing { x, lease };
            }
            State::Rebinding { mut x, lease } => {
                let end = lease.expires_at().unwrap_or(now);
                if now >= end {
                    info!("lease {} expired", lease.address);
                    out.push(Action::Deconfigure {
                        lease,
                        reason: Reason::Expired,
                    });
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                out.push(send(self.request_bound(&x, now, &lease), Dest::Broadcast));
                x.next = renew_retry(now, end);
                self.state = State::Rebinding { x, lease };
            }
            State::Released => self.state = State::Released,
        }
    }

    fn enter_renewing(&mut self, now: Instant, lease: Lease, out: &mut Vec<Action>) {
        let mut x = self.new_exchange(now);
        info!("renewing {} with {}", lease.address, lease.server_id);
        out.push(send(
            self.request_bound(&x, now, &lease),
            Dest::Unicast(lease.server_id),
        ));
        x.next = renew_retry(now, lease.rebind_at().unwrap_or(now));
        self.state = State::Renewing { x, lease };
    }

    fn enter_rebinding(&mut self, now: Instant, lease: Lease, out: &mut Vec<Action>) {
        let mut x = self.new_exchange(now);
        info!(
            "rebinding {}: no answer from {}",
            lease.address, lease.server_id
        );
        out.push(send(self.request_bound(&x, now, &lease), Dest::Broadcast));
        x.next = renew_retry(now, lease.expires_at().unwrap_or(now));
        self.state = State::Rebinding { x, lease };
    }

    fn release(&mut self, out: &mut Vec<Action>) {
        let state = std::mem::replace(&mut self.state, State::Released);
        if let State::Bound { lease }
        | State::Renewing { lease, .. }
        | State::Rebinding { lease, .. } = state
        {
            let xid = self.rng.u32(..);
            let mut msg = self.base(xid, MessageType::Release, 0, lease.address);
            msg.opts_mut()
                .insert(DhcpOption::ServerIdentifier(lease.server_id));
            out.push(send(msg, Dest::Unicast(lease.server_id)));
            out.push(Action::Deconfigure {
                lease,
                reason: Reason::Released,
            });
        }
    }

    /// Validation shared by every reply: op, xid, chaddr. Logs and returns false to drop.
    fn is_ours(&self, msg: &Message, xid: u32) -> bool {
        if msg.opcode() != Opcode::BootReply {
            debug!("dropping a BOOTREQUEST seen on the wire");
            return false;
        }
        if msg.xid() != xid {
            debug!(
                "dropping reply with xid {:#010x}, expected {:#010x}",
                msg.xid(),
                xid
            );
            return false;
        }
        if msg.chaddr().get(..6) != Some(&self.config.hwaddr[..]) {
            debug!("dropping reply for another chaddr");
            return false;
        }
        true
    }

    fn receive(&mut self, now: Instant, msg: &Message, out: &mut Vec<Action>) {
        let Some(kind) = wire::message_type(msg) else {
            debug!("dropping reply without a message type");
            return;
        };
        let sid = wire::server_id(msg);
        let state = std::mem::replace(&mut self.state, State::Released);
        self.state = match state {
            State::Selecting { x } if self.is_ours(msg, x.xid) => {
                if kind != MessageType::Offer {
                    debug!("dropping {kind:?} while selecting");
                    State::Selecting { x }
                } else if !is_usable_unicast(msg.yiaddr()) {
                    debug!("dropping offer of non-unicast {}", msg.yiaddr());
                    State::Selecting { x }
                } else if let Some(server) = sid.filter(|s| is_usable_unicast(*s)) {
                    info!("offered {} by {server}", msg.yiaddr());
                    let secs = secs_since(x.started, x.sent);
                    let mut x = Exchange {
                        attempts: 1,
                        sent: now,
                        ..x
                    };
                    let offered = msg.yiaddr();
                    out.push(send(
                        self.request_selecting(&x, offered, server, secs),
                        Dest::Broadcast,
                    ));
                    x.next = now + self.jittered(backoff_base(1));
                    State::Requesting {
                        x,
                        offered,
                        server,
                        secs,
                    }
                } else {
                    debug!("dropping offer without a usable server identifier");
                    State::Selecting { x }
                }
            }
            State::Requesting {
                x,
                offered,
                server,
                secs,
            } if self.is_ours(msg, x.xid) => {
                if sid != Some(server) {
                    debug!("dropping {kind:?} from {sid:?}: we chose {server}");
                    State::Requesting {
                        x,
                        offered,
                        server,
                        secs,
                    }
                } else {
                    match self.on_answer(now, kind, msg, &x, None, out) {
                        Some(s) => s,
                        None => State::Requesting {
                            x,
                            offered,
                            server,
                            secs,
                        },
                    }
                }
            }
            State::Rebooting { x, lease } if self.is_ours(msg, x.xid) => {
                // On NAK the saved lease goes too: an earlier process may have left its address
                // on the interface.
                let saved = (kind == MessageType::Nak).then_some(&lease);
                match self.on_answer(now, kind, msg, &x, saved, out) {
                    Some(s) => s,
                    None => State::Rebooting { x, lease },
                }
            }
            State::Renewing { x, lease } if self.is_ours(msg, x.xid) => {
                if sid.is_some() && sid != Some(lease.server_id) {
                    debug!(
                        "dropping {kind:?} from {sid:?} while renewing with {}",
                        lease.server_id
                    );
                    State::Renewing { x, lease }
                } else {
                    match self.on_answer(now, kind, msg, &x, Some(&lease), out) {
                        Some(s) => s,
                        None => State::Renewing { x, lease },
                    }
                }
            }
            State::Rebinding { x, lease } if self.is_ours(msg, x.xid) => {
                match self.on_answer(now, kind, msg, &x, Some(&lease), out) {
                    Some(s) => s,
                    None => State::Rebinding { x, lease },
                }
            }
            other => {
                debug!(
                    "dropping {kind:?}: not expecting it in {}",
                    state_name(&other)
                );
                other
            }
        };
    }

    /// An ACK or NAK to one of our REQUESTs. Returns the next state, or None to stay.
    fn on_answer(
        &mut self,
        now: Instant,
        kind: MessageType,
        msg: &Message,
        x: &Exchange,
        current: Option<&Lease>,
        out: &mut Vec<Action>,
    ) -> Option<State> {
        match kind {
            MessageType::Ack => match Lease::from_reply(msg, x.sent) {
                // A renewal of the address in use needs no probe; a new address does.
                Ok(lease) => Some(match current {
                    Some(cur) if cur.address == lease.address => {
                        self.bind(now, lease, Some(cur.clone()), out)
                    }
                    _ => self.probe_or_bind(now, lease, current.cloned(), out),
                }),
                Err(e) => {
                    debug!("dropping ACK: {e}");
                    None
                }
            },
            MessageType::Nak => {
                self.naks += 1;
                let text = wire::server_message(msg).unwrap_or_default();
                info!("NAK from {:?}: {text}; starting over", wire::server_id(msg));
                if let Some(lease) = current {
                    out.push(Action::Deconfigure {
                        lease: lease.clone(),
                        reason: Reason::Nak,
                    });
                }
                // The first NAK restarts at once; a server that keeps refusing is asked again
                // only after a growing pause, so a NAK storm cannot make us flood the link.
                if self.naks <= 1 {
                    self.discover(now, out);
                    Some(std::mem::replace(&mut self.state, State::Released))
                } else {
                    Some(State::Init {
                        at: now + backoff_base(self.naks - 1),
                    })
                }
            }
            other => {
                debug!("dropping {other:?}: expecting ACK or NAK");
                None
            }
        }
    }

    /// The header and options every message of ours carries.
    fn base(&self, xid: u32, kind: MessageType, secs: u16, ciaddr: Ipv4Addr) -> Message {
        let mut msg = Message::default();
        msg.set_opcode(Opcode::BootRequest)
            .set_htype(HType::Eth)
            .set_chaddr(&self.config.hwaddr)
            .set_xid(xid)
            .set_secs(secs)
            .set_ciaddr(ciaddr);
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MessageType(kind));
        opts.insert(DhcpOption::ClientIdentifier(self.config.client_id.clone()));
        msg
    }

    /// Options of DISCOVER and REQUEST: what we want, and who we are.
    fn with_wishes(&self, mut msg: Message) -> Message {
        let broadcast = self.config.broadcast_flag && msg.ciaddr().is_unspecified();
        if broadcast {
            msg.set_flags(Flags::default().set_broadcast());
        }
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::ParameterRequestList(REQUESTED_OPTIONS.to_vec()));
        opts.insert(DhcpOption::MaxMessageSize(self.config.max_message_size));
        if let Some(h) = &self.config.hostname {
            opts.insert(DhcpOption::Hostname(h.clone()));
        }
        if let Some(v) = &self.config.vendor_class {
            opts.insert(DhcpOption::ClassIdentifier(v.clone()));
        }
        msg
    }

    fn discover_msg(&self, x: &Exchange, now: Instant) -> Message {
        let msg = self.base(
            x.xid,
            MessageType::Discover,
            secs_since(x.started, now),
            Ipv4Addr::UNSPECIFIED,
        );
        self.with_wishes(msg)
    }

    /// REQUEST in SELECTING: options 50 and 54 of the chosen offer, ciaddr 0, broadcast.
    fn request_selecting(
        &self,
        x: &Exchange,
        offered: Ipv4Addr,
        server: Ipv4Addr,
        secs: u16,
    ) -> Message {
        let mut msg = self.base(x.xid, MessageType::Request, secs, Ipv4Addr::UNSPECIFIED);
        msg.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(offered));
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        self.with_wishes(msg)
    }

    /// REQUEST in INIT-REBOOT: option 50 = saved address, no server id, ciaddr 0.
    fn request_reboot(&self, x: &Exchange, now: Instant, addr: Ipv4Addr) -> Message {
        let mut msg = self.base(
            x.xid,
            MessageType::Request,
            secs_since(x.started, now),
            Ipv4Addr::UNSPECIFIED,
        );
        msg.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
        self.with_wishes(msg)
    }

    /// REQUEST in RENEWING/REBINDING: ciaddr = leased address, no option 50 or 54.
    fn request_bound(&self, x: &Exchange, now: Instant, lease: &Lease) -> Message {
        let msg = self.base(
            x.xid,
            MessageType::Request,
            secs_since(x.started, now),
            lease.address,
        );
        self.with_wishes(msg)
    }
}

fn send(msg: Message, dest: Dest) -> Action {
    Action::Send {
        msg: Box::new(msg),
        dest,
    }
}

fn secs_since(start: Instant, now: Instant) -> u16 {
    now.saturating_since(start)
        .as_secs()
        .min(u64::from(u16::MAX)) as u16
}

/// RFC 2131 4.4.5: retry at half the time left to `deadline`, never sooner than 60 s, and never
/// later than the deadline itself.
fn renew_retry(now: Instant, deadline: Instant) -> Instant {
    let half = deadline.saturating_since(now) / 2;
    (now + half.max(MIN_RENEW_RETRY)).min(deadline)
}

fn state_name(s: &State) -> &'static str {
    match s {
        State::Init { .. } => "INIT",
        State::Selecting { .. } => "SELECTING",
        State::Requesting { .. } => "REQUESTING",
        State::Rebooting { .. } => "REBOOTING",
        State::Probing { .. } => "PROBING",
        State::Bound { .. } => "BOUND",
        State::Renewing { .. } => "RENEWING",
        State::Rebinding { .. } => "REBINDING",
        State::Released => "RELEASED",
    }
}
