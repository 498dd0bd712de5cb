//! The `core` fuzz target: a client set up from fuzz bytes (probe mode, rapid commit,
//! link-local fallback, acquire timeout, a saved lease, carrier) is fed an arbitrary sequence
//! of events (replies from templates with fuzzed fields or from raw bytes, ticks at fuzzed
//! monotonic times, renew, release, stop, ARP, carrier changes, removal, a refused configure),
//! and after every step the rules of tests/core.rs `the_record_always_matches_what_the_
//! interface_holds` and `check_timers_and_arp` are checked, and more:
//!
//! - Configure's `previous` is what the interface holds; Deconfigure only of what it holds;
//!   `applied()` is exactly what those actions left; the lease in force is the one held;
//! - every transition named as the core's rules say: Configure BOUND for a new address,
//!   RENEW, REBIND (renewals) or REBOOT for the one held; Deconfigure as its reason says;
//!   Reapply REBOOT; PREINIT once, first of all; STOP only at a stop, with what is held; FAIL
//!   only right after NoLease;
//! - an address is held only in a state that holds a lease or is confirming one (BOUND,
//!   RENEWING, REBINDING, REBOOTING, PROBING) and it passes the lease check (unicast, …);
//! - lease timers only while a lease is held, and they are its T1, T2 and expiry, in that
//!   order; the lease in force has its expiry set; each state's own step only in that state;
//!   nothing due after a tick;
//! - ARP watched while probing, only link-local or the router otherwise, a watch set never
//!   told twice, every probed address announced once bound, the lease in force defended
//!   (RFC 5227 2.4) and nothing else;
//! - nothing sent without carrier; every message sent encodes; unicast only to a unicast
//!   server; the link-local address configured and removed as a model of it says;
//! - at most [`MAX_ACTIONS`] actions per event and at most [`MAX_TIMED_SENDS`] packets sent by
//!   timers in any one second (no send storms whatever the server does).
//!
//! The `inform` target walks the same inputs with options only (`--inform`, DHCPINFORM from
//! an address set by hand, a refresh from the seed): then nothing of a lease may happen at
//! all (no Configure, Deconfigure, saved lease, ARP probe or announcement), ConfigureOptions'
//! `previous` is what the interface holds of the options and `informed()` what those actions
//! left, every option set passes its check and names the address set by hand, DHCPINFORM goes
//! from that address, the refresh is set only in INFORMED, and the rest above holds as well.
//!
//! Shared like `checks.rs`: `tests/fuzz_regressions.rs` includes this file by path.

// The rules checked after every step, in a file of their own (a path both crates that
// include this file resolve alike).
#[path = "core_model/rules.rs"]
mod rules;

use arbitrary::{Arbitrary, Unstructured};
use dhcpc::core::{ArpSeen, Client, Config, Event, Inform, ProbeMode, StateName};
use dhcpc::lease::{Informed, Lease};
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire;
use rules::check;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// At most this many actions for one event.
pub const MAX_ACTIONS: usize = 16;
/// At most this many packets (DHCP and ARP) sent on timers within any one second.
pub const MAX_TIMED_SENDS: usize = 8;
/// Events per run, at most.
pub const MAX_STEPS: usize = 400;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];
const STRANGER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x09];
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 77);
const NEW_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 78);
const FAR_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Probe {
    Off,
    /// A quick probe window of this many milliseconds.
    Quick(u16),
    Rfc5227,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Setup {
    pub seed: u64,
    pub probe: Probe,
    pub rapid_commit: bool,
    /// `--ipv4ll` after this many seconds (0 is taken as 1, as the CLI allows no less).
    pub ipv4ll: Option<u8>,
    /// `--timeout` of this many seconds.
    pub acquire_timeout: Option<u8>,
    /// A saved lease to ask for again (INIT-REBOOT), read from this template as from an ACK,
    /// started this many seconds before the client starts. With the seed's lowest bit set it
    /// is given as a leftover instead (a lease file refused at load, its lease maybe still on
    /// the interface): taken off at start.
    pub saved: Option<(Template, u16)>,
    pub no_carrier: bool,
}

/// An address as a template names it: the ones that matter to the client, or any.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Addr {
    Ours,
    New,
    Far,
    Server,
    OtherServer,
    /// The address the interface holds (or ours).
    Held,
    /// The link-local address the interface holds, or a candidate.
    LinkLocal,
    Zero,
    Broadcast,
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Kind {
    Offer,
    Ack,
    Nak,
    /// No option 53 at all.
    Missing,
    Raw(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Secs {
    Hour,
    Minute,
    Short(u8),
    Infinite,
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Mask {
    Prefix(u8),
    Raw(u32),
}

/// A server's message, each field fuzzed; encoded by hand (so that any value can be sent) and
/// parsed at the boundary, as the shell does.
#[derive(Arbitrary, Debug, Clone)]
pub struct Template {
    pub kind: Kind,
    /// None: the xid of the latest message sent; Some: this one.
    pub xid: Option<u32>,
    pub other_chaddr: bool,
    pub bootrequest: bool,
    pub yiaddr: Addr,
    pub server_id: Option<Addr>,
    /// The datagram's source.
    pub from: Addr,
    /// The frame's source: the router's MAC (RFC 4436 learns it) or another.
    pub from_router: bool,
    pub lease: Option<Secs>,
    pub t1: Option<Secs>,
    pub t2: Option<Secs>,
    pub mask: Option<Mask>,
    pub routers: Vec<Addr>,
    pub dns: Vec<Addr>,
    pub rapid_commit: bool,
    /// Any other options, raw (length taken modulo 256).
    pub extra: Vec<(u8, Vec<u8>)>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    Reply(Template),
    /// Raw bytes as a DHCP payload; with `fix` its op, xid, hlen, chaddr and cookie are made
    /// right first, so that the options reach the core.
    Raw {
        fix: bool,
        bytes: Vec<u8>,
    },
    Unreadable,
    /// A tick at the next deadline (or now, when none).
    TickDue,
    /// A tick this many milliseconds later.
    TickMillis(u16),
    /// A tick this many minutes later.
    TickMinutes(u16),
    Renew,
    Release,
    Stop,
    Arp {
        sender_mac: u8,
        sender_ip: Addr,
        target_ip: Addr,
    },
    Link(bool),
    Gone,
    /// The shell could not apply the latest Configure.
    ConfigureFailed,
}

/// The interface and the link as the shell would leave them after carrying out the core's
/// actions, and what the walk has seen.
#[derive(Default)]
struct Model {
    holds: Option<Lease>,
    link_local: Option<Ipv4Addr>,
    watching: Vec<Ipv4Addr>,
    /// The addresses ARP-probed since the last Configure (RFC 5227 2.1): one of them bound
    /// must be announced. (Watching ARP alone is no probe: RFC 4436 watches the router's.)
    probed: Vec<Ipv4Addr>,
    carrier: bool,
    last_xid: u32,
    last_configured: Option<Lease>,
    /// When packets went out on timers, for the rate check.
    timed_sends: Vec<Instant>,
    /// The link-local fallback is on: ARP for 169.254/16 addresses may be watched.
    ipv4ll: bool,
    /// The address defended (RFC 5227 2.4), as the shell was last told.
    defending: Option<Ipv4Addr>,
    /// PREINIT was told.
    preinit: bool,
    /// Options only: the address set by hand DHCPINFORM goes from.
    inform: Option<Ipv4Addr>,
    /// Options only: what the interface holds of the options of an ACK to DHCPINFORM.
    options: Option<Informed>,
}

impl Addr {
    fn resolve(self, c: &Client) -> Ipv4Addr {
        match self {
            Addr::Ours => ADDR,
            Addr::New => NEW_ADDR,
            Addr::Far => FAR_ADDR,
            Addr::Server => SERVER,
            Addr::OtherServer => OTHER_SERVER,
            Addr::Held => c.applied().map_or(ADDR, |l| l.address),
            Addr::LinkLocal => c
                .link_local()
                .unwrap_or_else(|| dhcpc::core::linklocal::candidate(MAC, 0)),
            Addr::Zero => Ipv4Addr::UNSPECIFIED,
            Addr::Broadcast => Ipv4Addr::BROADCAST,
            Addr::Raw(n) => Ipv4Addr::from(n),
        }
    }
}

impl Secs {
    fn value(self) -> u32 {
        match self {
            Secs::Hour => 3600,
            Secs::Minute => 60,
            Secs::Short(n) => u32::from(n % 8),
            Secs::Infinite => u32::MAX,
            Secs::Raw(n) => n,
        }
    }
}

fn push_opt(out: &mut Vec<u8>, code: u8, data: &[u8]) {
    let data = &data[..data.len().min(255)];
    out.push(code);
    out.push(data.len() as u8);
    out.extend_from_slice(data);
}

impl Template {
    /// The message as bytes on the wire, and the reply the shell would parse from them.
    fn reply(&self, c: &Client, last_xid: u32) -> Option<Reply> {
        let mut b = vec![0u8; wire::HEADER_LEN];
        b[0] = if self.bootrequest { 1 } else { 2 };
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&self.xid.unwrap_or(last_xid).to_be_bytes());
        b[16..20].copy_from_slice(&self.yiaddr.resolve(c).octets());
        let chaddr = if self.other_chaddr { STRANGER_MAC } else { MAC };
        b[28..34].copy_from_slice(&chaddr);
        b.extend_from_slice(&wire::MAGIC_COOKIE);
        let kind = match self.kind {
            Kind::Offer => Some(2),
            Kind::Ack => Some(5),
            Kind::Nak => Some(6),
            Kind::Missing => None,
            Kind::Raw(n) => Some(n),
        };
        if let Some(k) = kind {
            push_opt(&mut b, 53, &[k]);
        }
        if let Some(s) = self.server_id {
            push_opt(&mut b, 54, &s.resolve(c).octets());
        }
        for (code, t) in [(51, self.lease), (58, self.t1), (59, self.t2)] {
            if let Some(t) = t {
                push_opt(&mut b, code, &t.value().to_be_bytes());
            }
        }
        if let Some(m) = self.mask {
            let m = match m {
                Mask::Prefix(p) => u32::MAX.checked_shl(32 - u32::from(p.min(32))).unwrap_or(0),
                Mask::Raw(n) => n,
            };
            push_opt(&mut b, 1, &m.to_be_bytes());
        }
        for (code, list) in [(3, &self.routers), (6, &self.dns)] {
            if !list.is_empty() {
                let data: Vec<u8> = list
                    .iter()
                    .take(8)
                    .flat_map(|a| a.resolve(c).octets())
                    .collect();
                push_opt(&mut b, code, &data);
            }
        }
        if self.rapid_commit {
            push_opt(&mut b, 80, &[]);
        }
        for (code, data) in self.extra.iter().take(8) {
            if *code != 0 && *code != 255 {
                push_opt(&mut b, *code, data);
            }
        }
        b.push(255);
        let mut r = Reply::parse(&b, self.from.resolve(c)).ok()?;
        r.from_mac = Some(if self.from_router {
            ROUTER_MAC
        } else {
            STRANGER_MAC
        });
        Some(r)
    }
}

/// Options only, for the `inform` target: from ADDR/24, asked again after a refresh the
/// seed says (never, or 10 s to a little over an hour).
fn inform_config(setup: &Setup) -> Inform {
    let refresh = (setup.seed & 2 == 0).then(|| Duration::from_secs(10 + (setup.seed >> 8) % 4000));
    Inform {
        address: ADDR,
        prefix_len: 24,
        refresh,
    }
}

fn config(setup: &Setup) -> Config {
    let mut cfg = Config::new(MAC);
    cfg.probe = match setup.probe {
        Probe::Off => ProbeMode::Off,
        Probe::Quick(ms) => ProbeMode::Quick(Duration::from_millis(u64::from(ms))),
        Probe::Rfc5227 => ProbeMode::Rfc5227,
    };
    cfg.rapid_commit = setup.rapid_commit;
    // The CLI takes 1 to 3600 s.
    cfg.ipv4ll = setup
        .ipv4ll
        .map(|s| Duration::from_secs(u64::from(s.max(1))));
    cfg.acquire_timeout = setup
        .acquire_timeout
        .map(|s| Duration::from_secs(u64::from(s)));
    cfg
}

/// The instant the client starts at: late enough that a saved lease can have started before.
fn start_time() -> Instant {
    Instant::from_secs(100_000)
}

/// One fuzz input: a setup and the events that follow (`cargo fuzz fmt core FILE` prints it).
#[derive(Debug, Clone)]
pub struct Input {
    pub setup: Setup,
    pub steps: Vec<Step>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Input> {
        let setup = Setup::arbitrary(u)?;
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < MAX_STEPS {
            match Step::arbitrary(u) {
                Ok(s) => steps.push(s),
                Err(_) => break,
            }
        }
        Ok(Input { setup, steps })
    }

    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> arbitrary::Result<Input> {
        Input::arbitrary(&mut u)
    }
}

/// Runs one fuzz input. Inputs too short for a setup do nothing.
pub fn run(data: &[u8]) {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        run_input(&input);
    }
}

pub fn run_input(input: &Input) {
    run_steps(&input.setup, &input.steps, false);
}

/// [`run`] with options only (the `inform` target).
pub fn run_inform(data: &[u8]) {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        run_inform_input(&input);
    }
}

pub fn run_inform_input(input: &Input) {
    run_steps(&input.setup, &input.steps, true);
}

/// Where a walk is, for the message of a broken rule (formatted only then: it is costly).
struct Ctx<'a> {
    i: usize,
    step: &'a Step,
    state: StateName,
}

impl fmt::Display for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({:?}) in {}", self.i, self.step, self.state)
    }
}

/// Runs `steps` on a client set up by `setup` (with options only when `inform`), checking
/// every rule after every step.
pub fn run_steps(setup: &Setup, steps: &[Step], inform: bool) {
    let mut now = start_time();
    let (mut c, mut m) = set_up(setup, now, inform);
    let actions = c.handle(now, Event::Start);
    check(&c, &actions, &mut m, (now, false, false), &"start");
    assert!(m.preinit, "start: no PREINIT");
    let mut held = Held::default();
    for (i, step) in steps.iter().enumerate() {
        let ctx = Ctx {
            i,
            step,
            state: c.state(),
        };
        let Some((at, (event, tick))) = event_for(step, &c, &m, now, &mut held) else {
            continue;
        };
        now = at;
        match &event {
            Event::Link { carrier } => m.carrier = *carrier,
            // The kernel took the link-local address with the interface (the core forgets it
            // without an action; the DHCP lease gets a Deconfigure for the record).
            Event::Gone => m.link_local = None,
            _ => {}
        }
        let actions = c.handle(now, event);
        let stopped = matches!(step, Step::Stop);
        check(&c, &actions, &mut m, (now, tick, stopped), &ctx);
        // The shell ends the client after these.
        if matches!(step, Step::Release | Step::Stop | Step::Gone) {
            // Done: nothing more is due.
            assert_eq!(c.poll_at(), None, "{ctx}: timers left after the end");
            return;
        }
    }
}

/// The client `setup` describes, and the model of its interface, at `now`.
fn set_up(setup: &Setup, now: Instant, inform: bool) -> (Client, Model) {
    let mut cfg = config(setup);
    if inform {
        // As the command line has it: no link-local fallback with --inform.
        cfg.ipv4ll = None;
        cfg.inform = Some(inform_config(setup));
    }
    let mut c = Client::new(cfg, setup.seed);
    let mut m = Model {
        carrier: !setup.no_carrier,
        ipv4ll: setup.ipv4ll.is_some() && !inform,
        inform: inform.then_some(ADDR),
        ..Model::default()
    };
    if setup.no_carrier {
        c = c.without_carrier();
    }
    if let Some((t, ago)) = &setup.saved {
        let started = now - Duration::from_secs(u64::from(*ago));
        // A saved lease passed the lease check when it was read (leasefile::parse).
        if let Some(lease) = t
            .reply(&c, 0)
            .and_then(|r| Lease::from_reply(&r, started).ok())
        {
            // An earlier process may have left it on the interface: the core counts it as
            // held (and takes it off when it has run out, or is a leftover); with options
            // only, it is not looked at.
            if !inform {
                m.holds = Some(lease.clone());
            }
            c = if setup.seed & 1 == 1 {
                c.with_leftover(lease)
            } else {
                c.with_saved_lease(lease)
            };
        }
    }
    (c, m)
}

/// What an event borrows: the reply or the lease it carries.
#[derive(Default)]
struct Held {
    reply: Option<Reply>,
    lease: Option<Lease>,
}

/// The event `step` is for the client `c` at `now`: when it happens (a tick moves time on),
/// the event, and whether it is a tick; None when the step makes no event (a template that
/// does not encode, no lease to refuse).
fn event_for<'a>(
    step: &Step,
    c: &Client,
    m: &Model,
    now: Instant,
    held: &'a mut Held,
) -> Option<(Instant, (Event<'a>, bool))> {
    let tick = |to: Instant| Some((to, (Event::Tick, true)));
    let event = match step {
        Step::Reply(t) => Event::Reply(held.reply.insert(t.reply(c, m.last_xid)?)),
        Step::Raw { fix, bytes } => match Reply::parse(&fixed(*fix, bytes, m.last_xid), SERVER) {
            Ok(r) => Event::Reply(held.reply.insert(r)),
            Err(e) => Event::Unreadable {
                from: SERVER,
                why: e.to_string(),
            },
        },
        Step::Unreadable => Event::Unreadable {
            from: OTHER_SERVER,
            why: "fuzz".into(),
        },
        Step::TickDue => return tick(c.poll_at().unwrap_or(now).max(now)),
        Step::TickMillis(ms) => return tick(now + Duration::from_millis(u64::from(*ms))),
        Step::TickMinutes(min) => return tick(now + Duration::from_secs(60 * u64::from(*min))),
        Step::Renew => Event::Renew,
        Step::Release => Event::Release,
        Step::Stop => Event::Stop,
        Step::Arp {
            sender_mac,
            sender_ip,
            target_ip,
        } => Event::Arp(ArpSeen {
            sender_mac: match sender_mac % 3 {
                0 => MAC,
                1 => ROUTER_MAC,
                _ => STRANGER_MAC,
            },
            sender_ip: sender_ip.resolve(c),
            target_ip: target_ip.resolve(c),
        }),
        Step::Link(carrier) => Event::Link { carrier: *carrier },
        Step::Gone => Event::Gone,
        Step::ConfigureFailed => Event::ConfigureFailed {
            lease: held.lease.insert(m.last_configured.clone()?),
            why: "fuzz: refused".into(),
        },
    };
    Some((now, (event, false)))
}

/// Raw bytes as a DHCP payload; with `fix`, its op, htype, hlen, xid (`xid`), chaddr and
/// cookie made right, so that the options reach the core.
fn fixed(fix: bool, bytes: &[u8], xid: u32) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if fix && b.len() >= 240 {
        b[0] = 2;
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&xid.to_be_bytes());
        b[28..34].copy_from_slice(&MAC);
        b[236..240].copy_from_slice(&wire::MAGIC_COOKIE);
    }
    b
}
