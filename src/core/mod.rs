//! The sans-IO DHCPv4 client state machine (RFC 2131 section 4.4).
//!
//! `Client::handle(now, event)` returns the actions the shell must carry out, and
//! `Client::poll_at()` says when the shell must call back with [`Event::Tick`]. The core never
//! reads a clock, sleeps, opens a socket or touches the interface; its randomness (xid, backoff
//! jitter) comes from a seed, so every test is deterministic.
//!
//! The core holds the only record of what the interface holds ([`Client::applied`]). Every
//! change is one whole transition it emits: [`Action::Configure`] (this lease, replacing that
//! one) or [`Action::Deconfigure`] (this lease, for this reason). The shell applies them and
//! keeps no copy.
//!
//! Where each rule lives:
//! - states, transitions and which replies each state takes: this file;
//! - what each message we send carries (options 50, 54, 55, 57, 61…): [`request`];
//! - every deadline, in one named table: [`timer`];
//! - why no lease was taken, when the acquire timeout passes: [`report`];
//! - what a reply says, option by option: [`crate::reply`]; whether it is a usable lease:
//!   [`crate::lease`]; whether a saved lease may be asked for again: [`crate::leasefile`].

pub mod linklocal;
pub mod report;
pub mod request;
pub mod timer;

pub use report::NoLease;
pub use request::{max_message_size, ClientId, REQUESTED_OPTIONS};
pub use timer::{Timer, TimerTable};

pub use crate::frame::ArpSeen;
use crate::lease::Lease;
use crate::reply::{kind_name, Reply};
use crate::time::Instant;
use dhcproto::v4::{Message, MessageType, Opcode};
use linklocal::LinkLocal;
use report::{Tally, What};
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn};

/// REQUESTs sent in REQUESTING before going back to INIT (4 + 8 + 16 + 32 s, about a minute).
/// Also how many unanswered renewals of an infinite lease are tried before it is kept as is.
const MAX_REQUESTS: u32 = 4;
/// How long INIT-REBOOT waits for an answer before giving the saved address up: two REQUESTs,
/// at 0 and at half of it. A server that does not know the lease stays silent (RFC 2131
/// 4.3.2), so this wait is paid at every boot on such networks; 5 s is dhcpcd's default too.
pub const REBOOT_WAIT: Duration = Duration::from_secs(5);
/// RFC 2131 4.4.5: in RENEWING and REBINDING never retransmit sooner than this.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);

/// The default probe window: a host that holds the address answers an ARP probe on a LAN in
/// well under a millisecond, and within a few tens of milliseconds over slow bridges and
/// Wi-Fi; 200 ms covers that with margin while keeping time to lease far under a second.
/// RFC 5227's full timings (up to 9 s) are there for who wants them (`--arp-probe rfc5227`).
pub const DEFAULT_PROBE_WINDOW: Duration = Duration::from_millis(200);
/// When carrier comes back, how long the router has to answer RFC 4436's unicast ARP (or a
/// server the INIT-REBOOT) before the link is taken to be another network. A router on the
/// same segment answers ARP in well under a millisecond; a second covers slow bridges.
pub const DNA_WAIT: Duration = Duration::from_secs(1);
/// RFC 5227 ANNOUNCE_NUM and ANNOUNCE_INTERVAL.
const ANNOUNCE_NUM: u8 = 2;
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
/// RFC 5227 DEFEND_INTERVAL: a second conflict over a bound address within this long gives
/// the address up.
pub const DEFEND_INTERVAL: Duration = Duration::from_secs(10);
/// RFC 2131 3.1 step 5: after a DECLINE, wait this long before starting over.
pub const DECLINE_WAIT: Duration = Duration::from_secs(10);

/// Per-interface settings the core needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The interface's Ethernet address (chaddr).
    pub hwaddr: [u8; 6],
    /// Option 61 (see [`request::client_id`]); None sends none. Default: hardware type 1
    /// followed by the MAC (RFC 2132 9.14).
    pub client_id: Option<Vec<u8>>,
    /// Option 12, sent when set.
    pub hostname: Option<String>,
    /// Option 81 (RFC 4702), sent when set (instead of option 12): the name the server may
    /// put in DNS.
    pub fqdn: Option<String>,
    /// Options asked for (option 55) beyond [`REQUESTED_OPTIONS`].
    pub extra_requests: Vec<u8>,
    /// Ask for rapid commit (RFC 4039): a server may answer the DISCOVER with an ACK.
    pub rapid_commit: bool,
    /// Option 60, sent when set.
    pub vendor_class: Option<Vec<u8>>,
    /// Ask servers to broadcast their replies (`--broadcast`); off by default since the raw
    /// socket receives unicast replies too.
    pub broadcast_flag: bool,
    /// Option 57 (see [`max_message_size`]).
    pub max_message_size: u16,
    /// Address conflict detection before using an offered address (RFC 5227).
    pub probe: ProbeMode,
    /// How long to wait for the first lease before [`Action::NoLease`] says why there is none
    /// (`--timeout`); the client goes on trying. None waits silently.
    pub acquire_timeout: Option<Duration>,
    /// Fall back to an IPv4 link-local address (RFC 3927) when no lease comes within this
    /// long (`--ipv4ll`); None never does.
    pub ipv4ll: Option<Duration>,
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

impl Config {
    pub fn new(hwaddr: [u8; 6]) -> Config {
        Config {
            hwaddr,
            client_id: request::client_id(&ClientId::Mac, hwaddr, &[]),
            hostname: None,
            fqdn: None,
            extra_requests: Vec::new(),
            rapid_commit: true,
            vendor_class: None,
            broadcast_flag: false,
            max_message_size: max_message_size(None),
            probe: ProbeMode::Quick(DEFAULT_PROBE_WINDOW),
            acquire_timeout: None,
            ipv4ll: None,
        }
    }
}

/// What happened, as the shell tells the core.
#[derive(Debug)]
pub enum Event<'a> {
    /// Begin acquiring a lease (from a saved lease when one was given, else from INIT).
    Start,
    /// A DHCP message arrived on the interface, parsed into a typed reply.
    Reply(&'a Reply),
    /// A DHCP message arrived that could not be read at all (a framing error); it only counts
    /// toward the report of why no lease was taken.
    Unreadable { from: Ipv4Addr, why: String },
    /// `poll_at()` was reached. Calling it early is harmless.
    Tick,
    /// The user asked to renew now.
    Renew,
    /// Give the lease back (DHCPRELEASE) and stop.
    Release,
    /// Stop, keeping the lease (a link-local address, which nobody would defend, goes).
    Stop,
    /// An ARP packet seen on the interface while probing.
    Arp(ArpSeen),
    /// The shell could not apply [`Action::Configure`] of this lease (the kernel refused it);
    /// the text says why.
    ConfigureFailed { lease: &'a Lease, why: String },
    /// The link can carry traffic (`true`: up, with carrier) or no longer can. Told on every
    /// change; telling the same state again is harmless.
    Link { carrier: bool },
    /// The interface was removed: what it held went with it. The client is done.
    Gone,
    /// The hook script that configures the interface (`--script-configures`) refused this
    /// lease, which it was given to apply: decline it.
    ScriptRefused { lease: &'a Lease },
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
// A batch of actions lives for one event; boxing the leases would cost an allocation each
// for no saving worth having.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send {
        msg: Box<Message>,
        dest: Dest,
    },
    /// Make the interface hold `lease` (address, routes, DNS). `previous` is what it holds now
    /// (as the core last told it): whatever of it `lease` does not keep goes.
    Configure {
        lease: Lease,
        previous: Option<Lease>,
        /// A renewal (an ACK in RENEWING or REBINDING for the address held), not a new
        /// binding: for the log line.
        renewal: bool,
    },
    /// Remove everything `lease` put on the interface; it then holds nothing of ours.
    Deconfigure {
        lease: Lease,
        reason: Reason,
    },
    /// Save this lease (IFACE.lease), so that a restart asks for it again.
    SaveLease(Lease),
    /// Delete the saved lease.
    ForgetLease,
    /// Listen for ARP about exactly these addresses on the interface (the one being probed,
    /// the link-local one being claimed or defended); none: no ARP at all.
    ArpWatch(Vec<Ipv4Addr>),
    /// Listen also for ARP whose sender claims this address: the leased address in use,
    /// defended (RFC 5227 2.4); None: not.
    ArpDefend(Option<Ipv4Addr>),
    /// Send an ARP probe for this address (sender IP 0.0.0.0, RFC 5227 2.1.1).
    ArpProbe {
        target: Ipv4Addr,
    },
    /// Send an ARP announcement for this address (sender = target = address, RFC 5227 2.3).
    ArpAnnounce {
        addr: Ipv4Addr,
    },
    /// No lease within the acquire timeout, and why. The client goes on trying.
    NoLease(NoLease),
    /// Put this IPv4 link-local address (RFC 3927) on the interface: 169.254.0.0/16, scope
    /// link, no lifetime.
    ConfigureLinkLocal {
        addr: Ipv4Addr,
    },
    /// Take the link-local address off the interface.
    DeconfigureLinkLocal {
        addr: Ipv4Addr,
    },
    /// Send an ARP request for `target` with `sender` as the sender protocol address,
    /// broadcast, or to the MAC `to` alone (RFC 4436's reachability test of the router).
    ArpRequest {
        sender: Ipv4Addr,
        target: Ipv4Addr,
        to: Option<[u8; 6]>,
    },
    /// Put back on the interface whatever of `lease` (which it is meant to hold already) the
    /// kernel dropped while the link was down: the address, its routes, its MTU. The record
    /// does not change.
    Reapply {
        lease: Lease,
    },
}

/// Why a lease is taken off the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Expired,
    Nak,
    Released,
    /// A saved lease that no server confirmed at start (INIT-REBOOT unanswered).
    Unconfirmed,
    /// The server moved the lease to another address, and another host holds that one.
    Declined,
    /// The system refused to configure it.
    NotApplied,
    /// Carrier came back on another network: the router or a server said so, or nothing
    /// there answered (RFC 4436).
    Moved,
    /// The interface was removed (the kernel took the address and routes with it).
    Gone,
    /// Another host kept claiming the address in use (RFC 5227 2.4).
    Conflict,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Expired => "lease expired",
            Reason::Nak => "server sent NAK",
            Reason::Released => "released",
            Reason::Unconfirmed => "saved lease not confirmed",
            Reason::Declined => "the new address offered is in use",
            Reason::NotApplied => "could not be configured",
            Reason::Moved => "the link is on another network now",
            Reason::Gone => "the interface was removed",
            Reason::Conflict => "another host uses the address",
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

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateName::Init => "INIT",
            StateName::Selecting => "SELECTING",
            StateName::Requesting => "REQUESTING",
            StateName::Rebooting => "REBOOTING",
            StateName::Probing => "PROBING",
            StateName::Bound => "BOUND",
            StateName::Renewing => "RENEWING",
            StateName::Rebinding => "REBINDING",
            StateName::Released => "RELEASED",
        })
    }
}

/// One request/reply exchange: its xid and retransmission bookkeeping. When the next
/// retransmission is due is [`Timer::Retransmit`].
#[derive(Debug, Clone)]
struct Exchange {
    xid: u32,
    /// When the first message of the exchange went out (for `secs`).
    started: Instant,
    /// When the latest message went out.
    sent: Instant,
    /// Messages sent so far.
    attempts: u32,
}

#[derive(Debug, Clone)]
enum State {
    /// Waiting for [`Timer::Restart`] to send the first DISCOVER.
    Init,
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
    /// Asking for a lease again with INIT-REBOOT: a saved one at start (the interface may
    /// hold it, an earlier process left it), or the one in force when carrier came back.
    Rebooting {
        x: Exchange,
        lease: Arc<Lease>,
        why: Reboot,
    },
    /// ACKed, checking the address with ARP before using it.
    Probing {
        lease: Arc<Lease>,
        probes_left: u8,
    },
    Bound {
        lease: Arc<Lease>,
    },
    Renewing {
        x: Exchange,
        lease: Arc<Lease>,
    },
    Rebinding {
        x: Exchange,
        lease: Arc<Lease>,
    },
    Released,
}

/// Why an INIT-REBOOT is under way.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reboot {
    /// A saved lease, at start.
    Saved,
    /// Carrier came back while a lease was in force. With the router's address and MAC
    /// known, RFC 4436's unicast ARP went to it at the same time as the REQUEST: the same
    /// router answering from the same MAC shows the lease still good here.
    Carrier { dna: Option<Router> },
}

/// The router of the lease in force, as ARP showed it (for RFC 4436).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Router {
    ip: Ipv4Addr,
    mac: [u8; 6],
}

impl State {
    fn exchange(&self) -> Option<&Exchange> {
        match self {
            State::Selecting { x }
            | State::Requesting { x, .. }
            | State::Rebooting { x, .. }
            | State::Renewing { x, .. }
            | State::Rebinding { x, .. } => Some(x),
            _ => None,
        }
    }

    fn name(&self) -> StateName {
        match self {
            State::Init => StateName::Init,
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
}

/// The per-interface DHCP client state machine.
pub struct Client {
    config: Config,
    state: State,
    rng: fastrand::Rng,
    /// A saved lease to ask for again at start (INIT-REBOOT).
    saved: Option<Box<Lease>>,
    /// What the interface holds of ours: the one record. Changed only where a Configure or
    /// Deconfigure is emitted ([`Client::configure`], [`Client::deconfigure`]), and where a
    /// lease an earlier process applied is adopted (INIT-REBOOT, [`Client::into_bound`]).
    held: Option<Arc<Lease>>,
    timers: TimerTable,
    /// NAKs in a row, to back off from a server that refuses everything.
    naks: u32,
    /// Failures to configure in a row, to back off from a system that refuses the address.
    failures: u32,
    /// ARP announcements still to send after binding (the next is [`Timer::Announce`]).
    announcements: u8,
    /// What stood in the way of a lease, until there is one.
    tally: Tally,
    /// The acquire timeout's deadline, until the first lease is known to have stuck (it
    /// reached T1) or the timeout has been reported: a first lease the system refuses to
    /// configure sets the timer again.
    acquiring: Option<Instant>,
    /// When the latest lease was bound: T1 at that same moment (a lease that spent its T1
    /// being probed) does not yet show that the system took it.
    bound_at: Instant,
    /// The link-local fallback, when configured.
    link_local: Option<LinkLocal>,
    /// The addresses the shell was last told to watch ARP for.
    watching: Vec<Ipv4Addr>,
    /// Stopped ([`Event::Stop`]): nothing more happens.
    stopped: bool,
    /// The link can carry traffic. While it cannot, nothing is sent: the exchanges keep
    /// their schedule, and start afresh once carrier is back.
    carrier: bool,
    /// The router of the lease in force and its MAC, when the lease came through it (the
    /// router served or relayed the ACK: the source of its frame).
    router: Option<Router>,
    /// The address the shell was last told to defend.
    defending: Option<Ipv4Addr>,
    /// When the address in use was last defended (RFC 5227 2.4).
    last_defence: Option<Instant>,
    /// FORCERENEW messages ignored so far (the first is logged at info, the rest at debug).
    forcerenews: u32,
}

/// Backoff before retransmission number `attempt` (1-based): 4, 8, 16, 32, 64, 64… seconds.
pub fn backoff_base(attempt: u32) -> Duration {
    Duration::from_secs(4u64 << attempt.saturating_sub(1).min(4))
}

impl Client {
    pub fn new(config: Config, seed: u64) -> Client {
        Client {
            config: config.clone(),
            state: State::Init,
            rng: fastrand::Rng::with_seed(seed),
            saved: None,
            held: None,
            timers: TimerTable::default(),
            naks: 0,
            failures: 0,
            announcements: 0,
            tally: Tally::default(),
            acquiring: None,
            bound_at: Instant::ZERO,
            link_local: config.ipv4ll.map(|_| LinkLocal::new(config.hwaddr)),
            watching: Vec::new(),
            stopped: false,
            carrier: true,
            router: None,
            defending: None,
            last_defence: None,
            forcerenews: 0,
        }
    }

    /// A client whose link has no carrier yet: it waits for [`Event::Link`] before it sends.
    pub fn without_carrier(mut self) -> Client {
        self.carrier = false;
        self
    }

    /// A client that holds `lease` already (as applied by an earlier process), so that it can
    /// renew or release it.
    pub fn into_bound(mut self, lease: Lease) -> Client {
        self.set_lease_timers(Some(&lease));
        let lease = Arc::new(lease);
        self.held = Some(lease.clone());
        self.state = State::Bound { lease };
        self
    }

    /// Gives the client a saved lease to try first (INIT-REBOOT) on [`Event::Start`].
    pub fn with_saved_lease(mut self, lease: Lease) -> Client {
        self.saved = Some(Box::new(lease));
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> StateName {
        self.state.name()
    }

    /// The lease in force (BOUND, RENEWING, REBINDING), if any.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease),
            _ => None,
        }
    }

    /// What the interface holds of ours, as the core last told the shell (or, at INIT-REBOOT,
    /// may hold from an earlier process).
    pub fn applied(&self) -> Option<&Lease> {
        self.held.as_deref()
    }

    /// The link-local address the interface holds (RFC 3927), if any.
    pub fn link_local(&self) -> Option<Ipv4Addr> {
        self.link_local.as_ref().and_then(LinkLocal::held)
    }

    /// Every deadline of the client.
    pub fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// When the shell must next call `handle(now, Event::Tick)`; None when nothing is pending.
    pub fn poll_at(&self) -> Option<Instant> {
        self.timers.next().map(|(_, at)| at)
    }

    /// Feeds one event to the state machine and returns what the shell must do.
    pub fn handle(&mut self, now: Instant, event: Event<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.start(now, &mut out),
            Event::Tick => self.tick(now, &mut out),
            Event::Reply(r) => self.receive(now, r, &mut out),
            Event::Unreadable { from, why } => {
                debug!("dropping an unreadable message from {from}: {why}");
                self.tally.add(What::Unreadable, from, why);
            }
            Event::Renew => {
                if let State::Bound { lease } = &self.state {
                    let lease = lease.clone();
                    self.enter_renewing(now, lease, true, &mut out);
                }
            }
            Event::Release => self.release(&mut out),
            Event::Stop => {
                if let Some(ll) = &mut self.link_local {
                    ll.stop(&mut out);
                }
                // Done: the lease stays as it is, and nothing more is due.
                self.stopped = true;
                self.timers = TimerTable::default();
            }
            Event::Arp(arp) => self.arp(now, arp, &mut out),
            Event::ConfigureFailed { lease, why } => {
                self.configure_failed(now, lease, why, &mut out)
            }
            Event::Link { carrier } => self.link(now, carrier, &mut out),
            Event::Gone => self.gone(&mut out),
            Event::ScriptRefused { lease } => self.script_refused(now, lease, &mut out),
        }
        self.arm_link_local(now);
        self.watch_arp(&mut out);
        if !self.carrier {
            // Nothing reaches the wire without carrier (the kernel would refuse it with
            // ENETDOWN); what is due again goes out once the link is back.
            out.retain(|a| {
                !matches!(
                    a,
                    Action::Send { .. }
                        | Action::ArpProbe { .. }
                        | Action::ArpAnnounce { .. }
                        | Action::ArpRequest { .. }
                )
            });
        }
        out
    }

    /// With no lease (none yet, or lost) and no link-local address or attempt, the fallback
    /// waits its time (RFC 3927 1.9: a host without a configured address may use one).
    fn arm_link_local(&mut self, now: Instant) {
        let (Some(ll), Some(wait)) = (&self.link_local, self.config.ipv4ll) else {
            return;
        };
        let without_lease = self.held.is_none()
            && matches!(
                self.state,
                State::Init | State::Selecting { .. } | State::Requesting { .. }
            );
        if without_lease
            && !self.stopped
            && ll.is_idle()
            && self.timers.get(Timer::LinkLocal).is_none()
        {
            self.timers.set(Timer::LinkLocal, now + wait);
        }
    }

    /// Tells the shell which addresses' ARP traffic to let through, when that changed: the
    /// address being probed (RFC 5227) and the link-local one being claimed or defended.
    fn watch_arp(&mut self, out: &mut Vec<Action>) {
        let mut watch = Vec::new();
        if let State::Probing { lease, .. } = &self.state {
            watch.push(lease.address);
        }
        if let Some(addr) = self.link_local.as_ref().and_then(LinkLocal::watched) {
            watch.push(addr);
        }
        let dna = match &self.state {
            State::Rebooting {
                why: Reboot::Carrier { dna: Some(r) },
                ..
            } => Some(r.ip),
            _ => None,
        };
        if let Some(router) = dna {
            if !watch.contains(&router) {
                watch.push(router);
            }
        }
        let defend = match &self.state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease.address),
            _ => None,
        };
        if defend != self.defending {
            self.defending = defend;
            out.insert(0, Action::ArpDefend(defend));
        }
        if watch != self.watching {
            self.watching = watch.clone();
            // First, so that the filter lets the answers in before anything that asks goes
            // out.
            out.insert(0, Action::ArpWatch(watch));
        }
    }

    // --- The record of what the interface holds -----------------------------------------

    /// The interface is to hold `lease`, replacing what it holds: the one place a Configure is
    /// emitted. The lease is saved with it.
    fn configure(&mut self, lease: &Lease, renewal: bool, out: &mut Vec<Action>) {
        let shared = self.share(lease);
        out.push(Action::Configure {
            lease: lease.clone(),
            previous: self.held.replace(shared).map(Arc::unwrap_or_clone),
            renewal,
        });
        out.push(Action::SaveLease(lease.clone()));
    }

    /// `lease` as one shared copy: the record's or the state's when it is that lease.
    fn share(&self, lease: &Lease) -> Arc<Lease> {
        let state = match &self.state {
            State::Rebooting { lease, .. }
            | State::Probing { lease, .. }
            | State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease),
            _ => None,
        };
        match [self.held.as_ref(), state]
            .into_iter()
            .flatten()
            .find(|l| ***l == *lease)
        {
            Some(l) => l.clone(),
            None => Arc::new(lease.clone()),
        }
    }

    /// The interface is to hold nothing of ours: the one place a Deconfigure is emitted. The
    /// saved lease goes with it, and so do the lease's timers.
    fn deconfigure(&mut self, reason: Reason, out: &mut Vec<Action>) {
        if let Some(lease) = self.held.take() {
            out.push(Action::Deconfigure {
                lease: Arc::unwrap_or_clone(lease),
                reason,
            });
            out.push(Action::ForgetLease);
        }
        self.set_lease_timers(None);
        self.timers.stop(Timer::Announce);
    }

    // --- Timers ---------------------------------------------------------------------------

    /// Enters `state`, whose own step (the next retransmission, restart or probe) is `step`.
    fn goto(&mut self, mut state: State, step: Option<(Timer, Instant)>) {
        // The state's lease and the record of what is applied are most often the same lease:
        // then they share one copy (a thousand interfaces hold one each).
        if let (
            State::Rebooting { lease, .. }
            | State::Probing { lease, .. }
            | State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. },
            Some(held),
        ) = (&mut state, &self.held)
        {
            if !Arc::ptr_eq(lease, held) && **lease == **held {
                *lease = held.clone();
            }
        }
        for t in [Timer::Retransmit, Timer::Restart, Timer::Probe] {
            self.timers.stop(t);
        }
        if let Some((timer, at)) = step {
            self.timers.set(timer, at);
        }
        self.state = state;
    }

    /// T1, T2 and expiry of the lease in force (or none).
    fn set_lease_timers(&mut self, lease: Option<&Lease>) {
        self.timers
            .set_or_stop(Timer::Renew, lease.and_then(Lease::renew_at));
        self.timers
            .set_or_stop(Timer::Rebind, lease.and_then(Lease::rebind_at));
        self.timers
            .set_or_stop(Timer::Expire, lease.and_then(Lease::expires_at));
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Expire => self.expire(now, out),
                Timer::Rebind => match &self.state {
                    State::Bound { lease } | State::Renewing { lease, .. } => {
                        let lease = lease.clone();
                        self.enter_rebinding(now, lease, out);
                    }
                    _ => {}
                },
                Timer::Renew => {
                    if let State::Bound { lease } = &self.state {
                        let lease = lease.clone();
                        self.enter_renewing(now, lease, false, out);
                    }
                }
                Timer::AcquireTimeout => {
                    self.acquiring = None;
                    out.push(Action::NoLease(self.no_lease()));
                }
                Timer::Restart => {
                    if matches!(self.state, State::Init) {
                        self.discover(now, out);
                    }
                }
                Timer::Retransmit => self.retransmit(now, out),
                Timer::Probe => self.probe_step(now, out),
                Timer::Announce => self.announce(now, out),
                Timer::LinkLocal => {
                    if let Some(ll) = &mut self.link_local {
                        let next = ll.step(now, out);
                        self.timers.set_or_stop(Timer::LinkLocal, next);
                    }
                }
            }
        }
    }

    // --- Getting a lease ------------------------------------------------------------------

    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(wait) = self.config.acquire_timeout {
            self.acquiring = Some(now + wait);
            self.timers.set(Timer::AcquireTimeout, now + wait);
        }
        match self.saved.take().map(|b| *b) {
            Some(lease) if lease.expires_at().is_none_or(|end| end > now) => {
                info!(
                    "asking again for saved lease {} (INIT-REBOOT)",
                    lease.address
                );
                // An earlier process may have left it on the interface: it counts as held,
                // so that a NAK or silence removes it.
                let lease = Arc::new(lease);
                self.held = Some(lease.clone());
                self.reboot(now, lease, Reboot::Saved, REBOOT_WAIT / 2, out);
            }
            _ => self.discover(now, out),
        }
    }

    /// Asks for `lease` again with INIT-REBOOT (a broadcast REQUEST for its address, with no
    /// server identifier); the next step after `wait`.
    fn reboot(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        why: Reboot,
        wait: Duration,
        out: &mut Vec<Action>,
    ) {
        let x = self.new_exchange(now);
        let msg = request::request_reboot(&self.config, x.xid, 0, lease.address);
        out.push(send(msg, Dest::Broadcast));
        self.goto(
            State::Rebooting { x, lease, why },
            Some((Timer::Retransmit, now + wait)),
        );
    }

    fn new_exchange(&mut self, now: Instant) -> Exchange {
        Exchange {
            xid: self.rng.u32(..),
            started: now,
            sent: now,
            attempts: 1,
        }
    }

    /// A backoff randomised by ±1 s (RFC 2131 4.1).
    fn jittered(&mut self, base: Duration) -> Duration {
        let jitter = self.rng.i64(-1000..=1000);
        let ms = base.as_millis() as i64 + jitter;
        Duration::from_millis(ms.max(0) as u64)
    }

    fn discover(&mut self, now: Instant, out: &mut Vec<Action>) {
        let x = self.new_exchange(now);
        out.push(send(
            request::discover(&self.config, x.xid, 0),
            Dest::Broadcast,
        ));
        let at = now + self.jittered(backoff_base(1));
        self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
    }

    /// [`Timer::Retransmit`]: the exchange in progress sends again, or gives up.
    fn retransmit(&mut self, now: Instant, out: &mut Vec<Action>) {
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Selecting { mut x } => {
                x.attempts += 1;
                x.sent = now;
                let msg = request::discover(&self.config, x.xid, secs_since(x.started, now));
                out.push(send(msg, Dest::Broadcast));
                debug!("no offer yet; DISCOVER #{}", x.attempts);
                let at = now + self.jittered(backoff_base(x.attempts));
                self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
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
                    self.tally.add(What::Unanswered, server, "");
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let msg = request::request_selecting(&self.config, x.xid, secs, offered, server);
                out.push(send(msg, Dest::Broadcast));
                let at = now + self.jittered(backoff_base(x.attempts));
                let state = State::Requesting {
                    x,
                    offered,
                    server,
                    secs,
                };
                self.goto(state, Some((Timer::Retransmit, at)));
            }
            State::Rebooting {
                x,
                lease,
                why: Reboot::Carrier { dna: Some(r) },
            } if now >= x.started + DNA_WAIT => {
                info!(
                    "no answer from router {} nor from a server within {} s of carrier: \
                     another network; starting over",
                    r.ip,
                    DNA_WAIT.as_secs()
                );
                let _ = (x, lease);
                self.deconfigure(Reason::Moved, out);
                self.discover(now, out);
            }
            State::Rebooting { mut x, lease, why } => {
                if now >= x.started + REBOOT_WAIT {
                    info!("no answer for saved lease {}; starting over", lease.address);
                    self.deconfigure(Reason::Unconfirmed, out);
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_reboot(&self.config, x.xid, secs, lease.address);
                out.push(send(msg, Dest::Broadcast));
                let at = match why {
                    Reboot::Carrier { dna: Some(_) } => x.started + DNA_WAIT,
                    _ => x.started + REBOOT_WAIT,
                };
                self.goto(
                    State::Rebooting { x, lease, why },
                    Some((Timer::Retransmit, at)),
                );
            }
            State::Renewing { mut x, lease } => {
                if lease.is_infinite() && x.attempts >= MAX_REQUESTS {
                    info!(
                        "no answer to the renewal of {}; the infinite lease stays",
                        lease.address
                    );
                    self.goto(State::Bound { lease }, None);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_bound(&self.config, x.xid, secs, &lease);
                out.push(send(msg, Dest::Unicast(lease.server_id)));
                let step = renew_retry(now, lease.rebind_at()).map(|at| (Timer::Retransmit, at));
                self.goto(State::Renewing { x, lease }, step);
            }
            State::Rebinding { mut x, lease } => {
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_bound(&self.config, x.xid, secs, &lease);
                out.push(send(msg, Dest::Broadcast));
                let step = renew_retry(now, lease.expires_at()).map(|at| (Timer::Retransmit, at));
                self.goto(State::Rebinding { x, lease }, step);
            }
            other => self.state = other,
        }
    }

    /// Validation shared by every reply: op, xid, chaddr. Replies that fail it are for another
    /// client (or not replies at all): dropped with a debug line, not counted.
    fn is_ours(&self, r: &Reply, xid: u32) -> bool {
        if r.op != Opcode::BootReply {
            debug!("dropping a BOOTREQUEST seen on the wire");
            return false;
        }
        if r.xid != xid {
            debug!(
                "dropping a reply with xid {:#010x}, expected {:#010x}",
                r.xid, xid
            );
            return false;
        }
        if r.chaddr.get(..6) != Some(&self.config.hwaddr[..]) {
            debug!("dropping a reply for another chaddr");
            return false;
        }
        true
    }

    /// A reply to us refused: logged, and counted for the report of why no lease was taken.
    fn refuse(&mut self, r: &Reply, why: impl fmt::Display) {
        let kind = r.kind.map(kind_name).unwrap_or_else(|| "reply".into());
        debug!("dropping {kind} from {}: {why}", r.from);
        self.tally.add(What::Refused, r.from, why);
    }

    fn receive(&mut self, now: Instant, r: &Reply, out: &mut Vec<Action>) {
        if r.kind == Some(MessageType::ForceRenew) {
            // RFC 3203 without RFC 6704's authentication lets anyone on the segment make the
            // client renew at will; dhcpc does not implement the nonce exchange, so it ignores
            // every FORCERENEW (and renews at T1 as ever).
            self.forcerenews = self.forcerenews.saturating_add(1);
            let text = format!(
                "ignoring FORCERENEW from {}: unauthenticated (RFC 6704 is not supported)",
                r.from
            );
            if self.forcerenews == 1 {
                info!("{text}");
            } else {
                debug!("{text}");
            }
            return;
        }
        let Some(x) = self.state.exchange() else {
            debug!(
                "dropping a reply from {}: not expecting one in {}",
                r.from,
                self.state.name()
            );
            return;
        };
        if !self.is_ours(r, x.xid) {
            return;
        }
        let Some(kind) = r.kind else {
            let why = match r.left_out(53) {
                Some(l) => format!("no message type ({})", l.why),
                None => "no message type".to_string(),
            };
            self.refuse(r, why);
            return;
        };
        match &self.state {
            State::Selecting { .. } if kind == MessageType::Ack && r.rapid_commit => {
                // RFC 4039: the server committed the lease to the DISCOVER.
                if !self.config.rapid_commit {
                    debug!("dropping a rapid-commit ACK: rapid commit is off");
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Selecting { x } => {
                if kind != MessageType::Offer {
                    debug!("dropping {} while selecting", kind_name(kind));
                    return;
                }
                let server = match Lease::check_offer(r).map(|_| r.server_id) {
                    Ok(Some(server)) => server,
                    Ok(None) => return,
                    Err(e) => return self.refuse(r, e),
                };
                info!("offered {} by {server}", r.yiaddr);
                let secs = secs_since(x.started, x.sent);
                let x = Exchange {
                    attempts: 1,
                    sent: now,
                    ..x.clone()
                };
                let msg = request::request_selecting(&self.config, x.xid, secs, r.yiaddr, server);
                out.push(send(msg, Dest::Broadcast));
                let at = now + self.jittered(backoff_base(1));
                let state = State::Requesting {
                    x,
                    offered: r.yiaddr,
                    server,
                    secs,
                };
                self.goto(state, Some((Timer::Retransmit, at)));
            }
            State::Requesting { server, .. } => {
                if let (None, Some(bad)) = (r.server_id, r.left_out(54)) {
                    let why = format!("no server identifier ({})", bad.why);
                    return self.refuse(r, why);
                }
                if r.server_id != Some(*server) {
                    debug!(
                        "dropping {} from {} ({}): we chose server {server}",
                        kind_name(kind),
                        r.from,
                        server_of(r)
                    );
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Renewing { lease, .. } => {
                if r.server_id.is_some_and(|s| s != lease.server_id) {
                    debug!(
                        "dropping {} from {} ({}): renewing with server {}",
                        kind_name(kind),
                        r.from,
                        server_of(r),
                        lease.server_id
                    );
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Rebooting { .. } | State::Rebinding { .. } => self.answer(now, kind, r, out),
            _ => {}
        }
    }

    /// An ACK or NAK to one of our REQUESTs.
    fn answer(&mut self, now: Instant, kind: MessageType, r: &Reply, out: &mut Vec<Action>) {
        match kind {
            MessageType::Ack => {
                let sent = self.state.exchange().map_or(now, |x| x.sent);
                let lease = match Lease::from_reply(r, sent) {
                    Ok(lease) => lease,
                    Err(e) => return self.refuse(r, e),
                };
                self.learn_router(r, &lease);
                // A renewal of the address in use needs no probe; a new address does.
                let same = match &self.state {
                    State::Renewing { lease: cur, .. }
                    | State::Rebinding { lease: cur, .. }
                    | State::Rebooting {
                        lease: cur,
                        why: Reboot::Carrier { .. },
                        ..
                    } => cur.address == lease.address,
                    _ => false,
                };
                if same {
                    self.bind(now, lease.into(), false, out);
                } else {
                    self.probe_or_bind(now, lease.into(), out);
                }
            }
            MessageType::Nak => {
                self.naks += 1;
                let text = r.message.clone().unwrap_or_default();
                info!("NAK from {}: {text}; starting over", r.from);
                self.tally.add(What::Nak, r.from, &text);
                self.deconfigure(Reason::Nak, out);
                // The first NAK restarts at once; a server that keeps refusing is asked again
                // only after a growing pause, so a NAK storm cannot make us flood the link.
                if self.naks <= 1 {
                    self.discover(now, out);
                } else {
                    let at = now + backoff_base(self.naks - 1);
                    self.goto(State::Init, Some((Timer::Restart, at)));
                }
            }
            other => debug!("dropping {}: expecting ACK or NAK", kind_name(other)),
        }
    }

    /// The router of `lease` at the MAC the ACK came from, when the router itself sent it (it
    /// served or relayed the lease: home routers, relay agents on the gateway), for RFC 4436
    /// once carrier comes back. Learned this way it costs no packet; a lease that came some
    /// other way is confirmed with INIT-REBOOT alone.
    fn learn_router(&mut self, r: &Reply, lease: &Lease) {
        let router = default_router(lease);
        self.router = match (router, r.from_mac) {
            (Some(ip), Some(mac)) if ip == r.from => Some(Router { ip, mac }),
            // A renewal answered by a server that is not the router leaves what was learned.
            _ => self.router.filter(|known| router == Some(known.ip)),
        };
    }

    /// Starts probing `lease` (RFC 5227), or binds at once when probing is off.
    fn probe_or_bind(&mut self, now: Instant, lease: Arc<Lease>, out: &mut Vec<Action>) {
        let (probes, first) = match self.config.probe {
            ProbeMode::Off => return self.bind(now, lease, false, out),
            ProbeMode::Quick(_) => (2, Duration::ZERO),
            ProbeMode::Rfc5227 => (3, Duration::from_millis(self.rng.u64(0..=1000))),
        };
        debug!("probing {} for conflicts", lease.address);
        let state = State::Probing {
            lease,
            probes_left: probes,
        };
        self.goto(state, Some((Timer::Probe, now + first)));
    }

    /// [`Timer::Probe`]: the next probe, or the address is ours once the last has gone
    /// unanswered.
    fn probe_step(&mut self, now: Instant, out: &mut Vec<Action>) {
        let State::Probing { lease, probes_left } = &self.state else {
            return;
        };
        let (lease, mut probes_left) = (lease.clone(), *probes_left);
        if !self.carrier {
            // A probe that cannot go out proves nothing: the check waits for the link, and
            // starts over when it is back.
            probes_left += 1;
        }
        if probes_left == 0 {
            // A short lease with a long probe (RFC 5227's take up to 9 s) may have run out
            // meanwhile: the kernel would refuse an address with no lifetime left.
            if lease.remaining_secs(now) == 0 {
                info!(
                    "the lease of {} ran out while it was checked; starting over",
                    lease.address
                );
                self.deconfigure(Reason::Expired, out);
                return self.discover(now, out);
            }
            return self.bind(now, lease, true, out);
        }
        out.push(Action::ArpProbe {
            target: lease.address,
        });
        let wait = match self.config.probe {
            _ if !self.carrier => DNA_WAIT,
            ProbeMode::Quick(window) => window / 2,
            // PROBE_MIN..PROBE_MAX between probes, ANNOUNCE_WAIT after the last.
            _ if probes_left > 1 => Duration::from_millis(self.rng.u64(1000..=2000)),
            _ => Duration::from_secs(2),
        };
        let state = State::Probing {
            lease,
            probes_left: probes_left - 1,
        };
        self.goto(state, Some((Timer::Probe, now + wait)));
    }

    /// The address is ours to use: configure it, start its timers, and announce it when it
    /// was probed (RFC 5227 2.3: every probed address is announced).
    fn bind(&mut self, now: Instant, lease: Arc<Lease>, probed: bool, out: &mut Vec<Action>) {
        self.naks = 0;
        self.bound_at = now;
        self.tally.clear();
        self.timers.stop(Timer::AcquireTimeout);
        let new_address = self
            .held
            .as_ref()
            .is_none_or(|h| h.address != lease.address);
        // A renewal: the address held, ACKed again in RENEWING or REBINDING, or when carrier
        // came back.
        let renewal = !new_address
            && matches!(
                self.state,
                State::Renewing { .. }
                    | State::Rebinding { .. }
                    | State::Rebooting {
                        why: Reboot::Carrier { .. },
                        ..
                    }
            );
        self.configure(&lease, renewal, out);
        self.set_lease_timers(Some(&lease));
        // A routable address: the link-local one is no longer needed (RFC 3927 1.9).
        if let Some(ll) = &mut self.link_local {
            ll.stop(out);
        }
        self.timers.stop(Timer::LinkLocal);
        if probed {
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
            self.announcements = ANNOUNCE_NUM - 1;
            self.timers.set(Timer::Announce, now + ANNOUNCE_INTERVAL);
        }
        self.goto(State::Bound { lease }, None);
    }

    fn arp(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) {
        if let Some(ll) = &mut self.link_local {
            if let Some(next) = ll.arp(now, arp, out) {
                self.timers.set(Timer::LinkLocal, next);
            }
        }
        let ours = arp.sender_mac == self.config.hwaddr;
        if !ours && self.defending == Some(arp.sender_ip) && self.lease().is_some() {
            return self.defend(now, arp, out);
        }
        if let State::Rebooting {
            lease,
            why: Reboot::Carrier { dna: Some(r) },
            ..
        } = &self.state
        {
            if !ours && arp.sender_ip == r.ip {
                let (lease, r) = (lease.clone(), *r);
                return self.dna_answer(now, lease, r, arp.sender_mac, out);
            }
        }
        let State::Probing { lease, .. } = &self.state else {
            return;
        };
        let addr = lease.address;
        // RFC 5227 2.1.1: any ARP packet whose sender is the address, or a probe by another
        // host for it, is a conflict.
        let conflict = !ours
            && (arp.sender_ip == addr || (arp.sender_ip.is_unspecified() && arp.target_ip == addr));
        if !conflict {
            return;
        }
        let lease = lease.clone();
        let mac = mac_text(arp.sender_mac);
        warn!("{addr} is in use by {mac}: declining it");
        self.tally.add(What::InUse, addr, format!("by {mac}"));
        self.decline(now, &lease, out);
    }

    /// DHCPDECLINE of `lease`, what the interface holds removed, and a new start after
    /// [`DECLINE_WAIT`] (RFC 2131 3.1 step 5).
    fn decline(&mut self, now: Instant, lease: &Lease, out: &mut Vec<Action>) {
        let xid = self.rng.u32(..);
        out.push(send(
            request::decline(&self.config, xid, lease),
            Dest::Broadcast,
        ));
        // When the server moved a lease to this address, the old one (which the interface may
        // still hold) is no longer ours either.
        self.deconfigure(Reason::Declined, out);
        self.goto(State::Init, Some((Timer::Restart, now + DECLINE_WAIT)));
    }

    /// The hook script that configures the interface refused `lease` (as dhclient-script
    /// may, after BOUND or REBOOT): declined, as dhclient does. Ignored when the record has
    /// moved on.
    fn script_refused(&mut self, now: Instant, lease: &Lease, out: &mut Vec<Action>) {
        if self.held.as_deref() != Some(lease) {
            return;
        }
        warn!("the hook script refused {}: declining it", lease.address);
        self.tally.add(
            What::NotApplied,
            lease.address,
            "refused by the hook script",
        );
        let lease = lease.clone();
        self.decline(now, &lease, out);
    }

    // --- Keeping it -------------------------------------------------------------------------

    /// T1 has come, or (`asked`) a renewal was asked for.
    fn enter_renewing(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        asked: bool,
        out: &mut Vec<Action>,
    ) {
        // The lease got this far on the interface: the system took it.
        if now > self.bound_at {
            self.failures = 0;
            self.acquiring = None;
        }
        let x = self.new_exchange(now);
        info!(
            "renewing {} with {}{}",
            lease.address,
            lease.server_id,
            if asked { ", as asked" } else { "" }
        );
        let msg = request::request_bound(&self.config, x.xid, 0, &lease);
        out.push(send(msg, Dest::Unicast(lease.server_id)));
        let step = renew_retry(now, lease.rebind_at()).map(|at| (Timer::Retransmit, at));
        self.goto(State::Renewing { x, lease }, step);
    }

    fn enter_rebinding(&mut self, now: Instant, lease: Arc<Lease>, out: &mut Vec<Action>) {
        let x = self.new_exchange(now);
        info!(
            "rebinding {}: no answer from {}",
            lease.address, lease.server_id
        );
        let msg = request::request_bound(&self.config, x.xid, 0, &lease);
        out.push(send(msg, Dest::Broadcast));
        let step = renew_retry(now, lease.expires_at()).map(|at| (Timer::Retransmit, at));
        self.goto(State::Rebinding { x, lease }, step);
    }

    /// [`Timer::Expire`]: the lease held has run out.
    fn expire(&mut self, now: Instant, out: &mut Vec<Action>) {
        let Some(held) = &self.held else {
            return;
        };
        info!("lease {} expired", held.address);
        self.deconfigure(Reason::Expired, out);
        // While probing a new address, only the old lease has gone; the probe goes on.
        if self.lease().is_some() {
            self.discover(now, out);
        }
    }

    /// [`Timer::Announce`]: the next ARP announcement of the address held.
    fn announce(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(lease) = &self.held {
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
        }
        self.announcements = self.announcements.saturating_sub(1);
        if self.announcements > 0 {
            self.timers.set(Timer::Announce, now + ANNOUNCE_INTERVAL);
        }
    }

    /// Gives back whatever lease the server thinks is ours, and removes what the interface
    /// holds. The client is done.
    fn release(&mut self, out: &mut Vec<Action>) {
        let state = std::mem::replace(&mut self.state, State::Released);
        let granted = match &state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. }
            | State::Rebooting { lease, .. }
            | State::Probing { lease, .. } => Some(lease),
            _ => None,
        };
        if let Some(lease) = granted {
            // Unicast from the address when the interface holds it (RFC 2131 4.4.6); one being
            // probed, or a saved one that may be gone, has no address to send from: broadcast.
            let holds_it = matches!(
                state,
                State::Bound { .. } | State::Renewing { .. } | State::Rebinding { .. }
            );
            let dest = if holds_it {
                Dest::Unicast(lease.server_id)
            } else {
                Dest::Broadcast
            };
            let xid = self.rng.u32(..);
            out.push(send(request::release(&self.config, xid, lease), dest));
        }
        if let Some(ll) = &mut self.link_local {
            ll.stop(out);
        }
        let held = self.held.is_some();
        self.deconfigure(Reason::Released, out);
        if !held {
            out.push(Action::ForgetLease);
        }
        self.timers = TimerTable::default();
    }

    /// RFC 5227 2.4 (b) and (c): another host claims the address in use. The first time, one
    /// announcement says it is ours; a second claim within [`DEFEND_INTERVAL`] gives it up:
    /// RELEASE (a DECLINE is only for an address not yet used), deconfigure, start over.
    fn defend(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) {
        let Some(lease) = self.lease().cloned() else {
            return;
        };
        let mac = mac_text(arp.sender_mac);
        let recent = self
            .last_defence
            .is_some_and(|at| now.saturating_since(at) < DEFEND_INTERVAL);
        if !recent {
            warn!(
                "{} is claimed by {mac}: defending it (RFC 5227)",
                lease.address
            );
            self.last_defence = Some(now);
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
            return;
        }
        warn!(
            "{} is claimed by {mac} again within {} s: giving it up",
            lease.address,
            DEFEND_INTERVAL.as_secs()
        );
        self.last_defence = None;
        self.tally
            .add(What::InUse, lease.address, format!("by {mac}"));
        let xid = self.rng.u32(..);
        out.push(send(
            request::release(&self.config, xid, &lease),
            Dest::Unicast(lease.server_id),
        ));
        self.deconfigure(Reason::Conflict, out);
        self.discover(now, out);
    }

    // --- The link ---------------------------------------------------------------------------

    /// Carrier went or came back. Gone: the lease stays (nothing is sent meanwhile). Back:
    /// whatever the kernel dropped is put back at once, and the lease in force is confirmed
    /// at once, by RFC 4436's unicast ARP to its router and an INIT-REBOOT REQUEST together;
    /// an exchange that was under way starts afresh.
    fn link(&mut self, now: Instant, carrier: bool, out: &mut Vec<Action>) {
        if carrier == self.carrier || self.stopped {
            self.carrier = carrier;
            return;
        }
        self.carrier = carrier;
        if !carrier {
            match self.lease().or(self.held.as_deref()) {
                Some(l) => info!("carrier lost; keeping {} meanwhile", l.address),
                None => info!("carrier lost"),
            }
            return;
        }
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. }
            | State::Rebooting {
                lease,
                why: Reboot::Carrier { .. },
                ..
            } => {
                out.push(Action::Reapply {
                    lease: Lease::clone(&lease),
                });
                let dna = self.router.filter(|r| default_router(&lease) == Some(r.ip));
                match dna {
                    Some(r) => {
                        info!(
                            "carrier up: confirming {} (ARP to router {}, and INIT-REBOOT)",
                            lease.address, r.ip
                        );
                        out.push(Action::ArpRequest {
                            sender: lease.address,
                            target: r.ip,
                            to: Some(r.mac),
                        });
                    }
                    None => info!("carrier up: confirming {} (INIT-REBOOT)", lease.address),
                }
                let wait = if dna.is_some() {
                    DNA_WAIT
                } else {
                    REBOOT_WAIT / 2
                };
                self.reboot(now, lease, Reboot::Carrier { dna }, wait, out);
            }
            State::Rebooting { lease, .. } => {
                info!("carrier up: asking again for saved lease {}", lease.address);
                self.reboot(now, lease, Reboot::Saved, REBOOT_WAIT / 2, out);
            }
            State::Probing { lease, .. } => {
                info!("carrier up: checking {} for conflicts again", lease.address);
                self.state = State::Init;
                self.probe_or_bind(now, lease, out);
            }
            State::Selecting { .. } | State::Requesting { .. } => {
                info!("carrier up: asking for a lease");
                self.discover(now, out);
            }
            other @ (State::Init | State::Released) => {
                info!("carrier up");
                self.state = other;
            }
        }
    }

    /// RFC 4436: the router of the lease answered ARP after carrier came back. The same MAC:
    /// the same network, and the lease goes on where it was (a renewal or rebinding that
    /// fell due meanwhile goes out now). Another MAC: another network.
    fn dna_answer(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        r: Router,
        mac: [u8; 6],
        out: &mut Vec<Action>,
    ) {
        if mac != r.mac {
            info!(
                "router {} answers from {}, not {}: another network; starting over",
                r.ip,
                mac_text(mac),
                mac_text(r.mac)
            );
            self.router = None;
            self.deconfigure(Reason::Moved, out);
            return self.discover(now, out);
        }
        info!(
            "carrier back on the same network (router {} at {}): {} stays",
            r.ip,
            mac_text(mac),
            lease.address
        );
        let (renew, rebind) = (lease.renew_at(), lease.rebind_at());
        self.goto(
            State::Bound {
                lease: lease.clone(),
            },
            None,
        );
        if rebind.is_some_and(|at| at <= now) {
            self.enter_rebinding(now, lease, out);
        } else if renew.is_some_and(|at| at <= now) {
            self.enter_renewing(now, lease, false, out);
        }
    }

    /// The interface was removed, and what it held with it: the record is cleared (the saved
    /// lease is kept, to be asked for again should the interface come back).
    fn gone(&mut self, out: &mut Vec<Action>) {
        if let Some(lease) = self.held.take() {
            out.push(Action::Deconfigure {
                lease: Arc::unwrap_or_clone(lease),
                reason: Reason::Gone,
            });
        }
        if let Some(ll) = &mut self.link_local {
            ll.forget();
        }
        self.router = None;
        self.timers = TimerTable::default();
        self.state = State::Released;
        self.stopped = true;
    }

    /// Why no lease yet: the tally, and what the state is waiting for.
    fn no_lease(&self) -> NoLease {
        let mut why = self.tally.report();
        let waiting = match &self.state {
            State::Requesting {
                offered, server, ..
            } => Some(format!("{offered} offered by {server}, no ACK yet")),
            State::Probing { lease, .. } => {
                Some(format!("still checking {} for conflicts", lease.address))
            }
            _ => None,
        };
        if let Some(w) = waiting {
            why.causes.push(w);
        }
        why
    }

    /// The shell could not apply the Configure of `lease`: the interface holds nothing of it
    /// that stays; start over after a growing pause. Ignored when the record has moved on.
    fn configure_failed(
        &mut self,
        now: Instant,
        lease: &Lease,
        why: String,
        out: &mut Vec<Action>,
    ) {
        if self.held.as_deref() != Some(lease) {
            return;
        }
        let lease = lease.clone();
        self.failures += 1;
        let wait = backoff_base(self.failures);
        warn!(
            "could not configure {}: {why}; starting over in {} s",
            lease.address,
            wait.as_secs()
        );
        self.tally.add(What::NotApplied, lease.address, why);
        // A first lease that never got onto the interface: the acquire timeout still holds.
        if let Some(deadline) = self.acquiring {
            self.timers.set(Timer::AcquireTimeout, deadline.max(now));
        }
        self.deconfigure(Reason::NotApplied, out);
        self.goto(State::Init, Some((Timer::Restart, now + wait)));
    }
}

fn send(msg: Message, dest: Dest) -> Action {
    Action::Send {
        msg: Box::new(msg),
        dest,
    }
}

/// The router the lease's default route goes through, if there is one.
fn default_router(lease: &Lease) -> Option<Ipv4Addr> {
    lease
        .routes()
        .iter()
        .find(|r| r.is_default())
        .map(|r| r.gateway)
        .filter(|g| !g.is_unspecified())
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn secs_since(start: Instant, now: Instant) -> u16 {
    now.saturating_since(start)
        .as_secs()
        .min(u64::from(u16::MAX)) as u16
}

/// RFC 2131 4.4.5: retry at half the time left to `deadline`, never sooner than 60 s; None when
/// that would be at or past the deadline (its own timer takes over). With no deadline (an
/// infinite lease) every 60 s.
fn renew_retry(now: Instant, deadline: Option<Instant>) -> Option<Instant> {
    let Some(deadline) = deadline else {
        return Some(now + MIN_RENEW_RETRY);
    };
    let half = deadline.saturating_since(now) / 2;
    let at = now + half.max(MIN_RENEW_RETRY);
    (at < deadline).then_some(at)
}

/// The server a reply names (option 54), for a log line: its source may be a relay agent.
fn server_of(r: &Reply) -> String {
    match r.server_id {
        Some(s) => format!("server {s}"),
        None => "no server identifier".to_string(),
    }
}
