//! The `core6` fuzz target: a DHCPv6 client (`dhcpc::v6::core`) set up from fuzz bytes (IA_NA,
//! IA_PD with or without a hint, both, or stateless; rapid commit; acquire timeout; a saved
//! lease, or one held already; carrier) is fed an arbitrary sequence of events (server
//! messages synthesised from fuzzed fields, mostly to our xid and DUID so that bindings
//! happen, or parsed from raw bytes; ticks at fuzzed monotonic times; carrier changes, a
//! duplicate address, renew, release, stop, a refused configure, the interface gone), and
//! after every step the rules of [`rules::check`] hold:
//!
//! - nothing due in the past after a tick (the tick ran what was due);
//! - nothing configured that must never be on a link (multicast, loopback, link-local,
//!   unspecified, IPv4-mapped or -compatible; a prefix of a length outside 1..=128 or
//!   overlapping those ranges), and preferred <= valid for all that is configured;
//! - Configure's `previous` is what the interface holds, Deconfigure only of what it holds,
//!   and `lease()` is what those actions left;
//! - every message sent is one a client sends, encodes with our DUID and an Elapsed Time,
//!   and names a server exactly when RFC 8415 18.2 says it must;
//! - after Done (a stop, a release answered or given up, the interface gone) nothing more is
//!   sent, and nothing is due;
//! - at most [`MAX_ACTIONS`] actions per event and [`MAX_TIMED_SENDS`] messages sent on
//!   timers within any one second.
//!
//! Shared like `checks.rs`: `tests/fuzz_regressions.rs` includes this file by path.

#[path = "core6_model/rules.rs"]
mod rules;

use arbitrary::{Arbitrary, Unstructured};
use dhcpc::time::Instant;
use dhcpc::v6::core::{lease, Action6, Client6, Config6, Event6, Mode6, PdAsk, StateName6};
use dhcpc::v6::{Holdings, Ia, IaAddr, IaPrefix, Kind6, Lease6, Reply6, Status, StatusCode};
use std::fmt;
use std::net::Ipv6Addr;
use std::time::Duration;

/// At most this many actions for one event.
pub const MAX_ACTIONS: usize = 16;
/// At most this many messages sent on timers within any one second.
pub const MAX_TIMED_SENDS: usize = 8;
/// Events per run, at most.
pub const MAX_STEPS: usize = 400;

const DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const SERVER_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfe];
const OTHER_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfd];
const SERVER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x77);
const ADDR2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x78);
const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0);
const IAID: u32 = 1;

/// Addresses that must never be configured, for templates to offer.
const SPECIAL: [Ipv6Addr; 6] = [
    Ipv6Addr::UNSPECIFIED,
    Ipv6Addr::LOCALHOST,
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77),
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2),
    Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc633, 0x644d),
    Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0xc633, 0x644d),
];

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Mode {
    Na,
    /// IA_PD, with this prefix length hint.
    Pd(Option<u8>),
    Both,
    Stateless,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Setup {
    pub seed: u64,
    pub mode: Mode,
    pub rapid_commit: bool,
    pub acquire_timeout: Option<u8>,
    /// A lease granted by this template (as a REPLY to us), begun this many seconds before
    /// the start; given as a saved lease to confirm, or (`bound`) as one held already.
    pub saved: Option<(Template, u16, bool)>,
    pub no_carrier: bool,
}

/// An address or prefix as a template names it.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Addr {
    Ours,
    Second,
    Prefix,
    /// The first address or prefix the interface holds (or ours).
    Held,
    Special(u8),
    Raw(u128),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Secs {
    Zero,
    Short(u8),
    Hour,
    Infinite,
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Code {
    Success,
    NoAddrsAvail,
    NoBinding,
    NotOnLink,
    UseMulticast,
    NoPrefixAvail,
    Raw(u16),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Duid {
    Ours,
    Server,
    Other,
    Missing,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Item {
    pub addr: Addr,
    /// A prefix's length (`None`: 56).
    pub len: Option<u8>,
    pub preferred: Secs,
    pub valid: Secs,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct IaT {
    pub pd: bool,
    /// None: ours.
    pub iaid: Option<u32>,
    pub t1: Secs,
    pub t2: Secs,
    pub status: Code,
    pub items: Vec<Item>,
}

/// A server's message, its fields fuzzed, as the parser hands it over.
#[derive(Arbitrary, Debug, Clone)]
pub struct Template {
    /// 0..=5 REPLY (the most useful), 6..=8 ADVERTISE, else RECONFIGURE.
    pub kind: u8,
    /// None: the xid of the latest message sent.
    pub xid: Option<u32>,
    pub client_id: Duid,
    pub server_id: Duid,
    pub preference: u8,
    pub rapid_commit: bool,
    pub status: Code,
    pub ias: Vec<IaT>,
    pub dns: bool,
    pub info_refresh: Option<u32>,
    /// SOL_MAX_RT and INF_MAX_RT (options 82, 83).
    pub max_rt: Option<(bool, u32)>,
    pub from_other: bool,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    Reply(Template),
    /// Raw bytes through `v6::reply::parse`; with `fix`, the kind, xid, client and server ids
    /// are made ours first, so that the rest reaches the core.
    Raw {
        fix: bool,
        bytes: Vec<u8>,
    },
    Unreadable,
    /// A tick at the next deadline (or now, when none).
    TickDue,
    TickMillis(u16),
    TickSecs(u16),
    TickHours(u8),
    Link(bool),
    DadFailed(Addr),
    Renew,
    Release,
    Stop,
    Gone,
    /// The shell could not apply the latest Configure.
    ConfigureFailed,
}

impl Addr {
    fn resolve(self, held: Option<&Lease6>) -> Ipv6Addr {
        match self {
            Addr::Ours => ADDR,
            Addr::Second => ADDR2,
            Addr::Prefix => PREFIX,
            Addr::Held => held
                .and_then(|l| l.ias.iter().find_map(first_of))
                .unwrap_or(ADDR),
            Addr::Special(n) => SPECIAL[usize::from(n) % SPECIAL.len()],
            Addr::Raw(n) => Ipv6Addr::from(n),
        }
    }
}

fn first_of(ia: &Ia) -> Option<Ipv6Addr> {
    match &ia.holdings {
        Holdings::Addresses(v) => v.first().map(|a| a.addr),
        Holdings::Prefixes(v) => v.first().map(|p| p.prefix),
    }
}

impl Secs {
    fn value(self) -> u32 {
        match self {
            Secs::Zero => 0,
            Secs::Short(n) => u32::from(n % 64),
            Secs::Hour => 3600,
            Secs::Infinite => u32::MAX,
            Secs::Raw(n) => n,
        }
    }
}

impl Code {
    fn code(self) -> StatusCode {
        match self {
            Code::Success => StatusCode::Success,
            Code::NoAddrsAvail => StatusCode::NoAddrsAvail,
            Code::NoBinding => StatusCode::NoBinding,
            Code::NotOnLink => StatusCode::NotOnLink,
            Code::UseMulticast => StatusCode::UseMulticast,
            Code::NoPrefixAvail => StatusCode::NoPrefixAvail,
            Code::Raw(n) => dhcpc::v6::reply::rules::status_code(n),
        }
    }
}

impl Duid {
    fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Duid::Ours => Some(DUID.to_vec()),
            Duid::Server => Some(SERVER_DUID.to_vec()),
            Duid::Other => Some(OTHER_DUID.to_vec()),
            Duid::Missing => None,
        }
    }
}

impl IaT {
    fn ia(&self, held: Option<&Lease6>) -> Ia {
        let items = self.items.iter().take(4);
        let holdings = if self.pd {
            Holdings::Prefixes(
                items
                    .map(|i| IaPrefix {
                        prefix: i.addr.resolve(held),
                        len: i.len.unwrap_or(56),
                        preferred: i.preferred.value(),
                        valid: i.valid.value(),
                    })
                    .collect(),
            )
        } else {
            Holdings::Addresses(
                items
                    .map(|i| IaAddr {
                        addr: i.addr.resolve(held),
                        preferred: i.preferred.value(),
                        valid: i.valid.value(),
                    })
                    .collect(),
            )
        };
        Ia {
            iaid: self.iaid.unwrap_or(IAID),
            t1: self.t1.value(),
            t2: self.t2.value(),
            status: self.status.code(),
            holdings,
        }
    }
}

impl Template {
    /// The message, to `last_xid` unless the template names another.
    fn reply(&self, last_xid: u32, held: Option<&Lease6>) -> Reply6 {
        let kind = match self.kind {
            0..=5 => Kind6::Reply,
            6..=8 => Kind6::Advertise,
            _ => Kind6::Reconfigure,
        };
        let mut options = Vec::new();
        if let Some((inf, rt)) = self.max_rt {
            options.push((if inf { 83 } else { 82 }, rt.to_be_bytes().to_vec()));
        }
        Reply6 {
            kind,
            xid: self.xid.unwrap_or(last_xid) & 0xff_ffff,
            server_id: match self.server_id {
                Duid::Ours => Some(SERVER_DUID.to_vec()),
                d => d.bytes(),
            },
            client_id: self.client_id.bytes(),
            preference: self.preference,
            rapid_commit: self.rapid_commit,
            status: Status {
                code: self.status.code(),
                message: String::new(),
            },
            ias: self.ias.iter().take(4).map(|x| x.ia(held)).collect(),
            dns: if self.dns {
                vec![Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53)]
            } else {
                Vec::new()
            },
            search: Vec::new(),
            ntp: Vec::new(),
            sntp: Vec::new(),
            info_refresh: self.info_refresh.map(|t| t.max(600)),
            unicast: None,
            options,
            dropped: Vec::new(),
        }
    }
}

/// Raw bytes as a server's message; with `fix`, made a REPLY or ADVERTISE to `xid` for us
/// from our server.
fn raw_reply(fix: bool, bytes: &[u8], xid: u32) -> Option<Reply6> {
    let mut b = bytes.to_vec();
    if fix {
        if b.len() < 4 {
            b.resize(4, 0);
        }
        b[0] = if b[0] & 1 == 0 { 7 } else { 2 };
        b[1..4].copy_from_slice(&xid.to_be_bytes()[1..]);
        for (code, id) in [(1u16, DUID), (2, SERVER_DUID)] {
            b.extend(code.to_be_bytes());
            b.extend((id.len() as u16).to_be_bytes());
            b.extend(id);
        }
    }
    dhcpc::v6::reply::parse(&b, SERVER).ok()
}

fn config(setup: &Setup) -> Config6 {
    let pd = |hint| PdAsk { iaid: IAID, hint };
    let mode = match setup.mode {
        Mode::Na => Mode6::Stateful {
            na: vec![IAID],
            pd: vec![],
        },
        Mode::Pd(hint) => Mode6::Stateful {
            na: vec![],
            pd: vec![pd(hint)],
        },
        Mode::Both => Mode6::Stateful {
            na: vec![IAID],
            pd: vec![pd(None)],
        },
        Mode::Stateless => Mode6::Stateless,
    };
    let mut cfg = Config6::new(DUID.to_vec(), mode);
    cfg.rapid_commit = setup.rapid_commit;
    cfg.acquire_timeout = setup
        .acquire_timeout
        .map(|s| Duration::from_secs(u64::from(s)));
    cfg
}

/// One fuzz input: a setup and the events that follow.
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

/// Where a walk is, for the message of a broken rule (formatted only then).
struct Ctx<'a> {
    i: usize,
    step: &'a Step,
    state: StateName6,
}

impl fmt::Display for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({:?}) in {:?}", self.i, self.step, self.state)
    }
}

/// The client `setup` describes at `now`, and the model of what its interface holds.
fn set_up(setup: &Setup, now: Instant) -> (Client6, rules::Model) {
    let cfg = config(setup);
    let mut c = Client6::new(cfg.clone(), setup.seed);
    let mut m = rules::Model {
        carrier: !setup.no_carrier,
        ..rules::Model::default()
    };
    if setup.no_carrier {
        c = c.without_carrier();
    }
    if let Some((t, ago, bound)) = &setup.saved {
        let start = now - Duration::from_secs(u64::from(*ago));
        let r = t.reply(0, None);
        let judged = lease::judge(&cfg, &r);
        let l = lease::from_reply(&r, SERVER, judged, start);
        if !cfg.is_stateless() && lease::grants(&l.ias) {
            if *bound {
                c = c.into_bound(l.clone());
                m.holds = Some(l);
            } else {
                c = c.with_saved_lease(l);
            }
        }
    }
    (c, m)
}

pub fn run_input(input: &Input) {
    let mut now = Instant::from_secs(100_000);
    let (mut c, mut m) = set_up(&input.setup, now);
    let actions = c.handle(now, Event6::Start);
    if input.setup.saved.is_some() && m.holds.is_none() {
        // A saved lease is adopted at start as what the interface may hold (an earlier run
        // may have left it there): what is left of it, or all of it to be taken off.
        m.holds = actions
            .iter()
            .find_map(|a| match a {
                Action6::Deconfigure { lease, .. } => Some(lease.clone()),
                _ => None,
            })
            .or_else(|| c.lease().cloned());
    }
    rules::check(&c, &actions, &mut m, now, false, &"start");
    for (i, step) in input.steps.iter().enumerate() {
        let ctx = Ctx {
            i,
            step,
            state: c.state(),
        };
        let xid = m.last_xid;
        let held = m.holds.clone();
        let (reply, lease_failed);
        let event = match step {
            Step::Reply(t) => {
                reply = t.reply(xid, held.as_ref());
                let from = if t.from_other {
                    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2)
                } else {
                    SERVER
                };
                Event6::Reply {
                    reply: &reply,
                    from,
                }
            }
            Step::Raw { fix, bytes } => {
                let Some(r) = raw_reply(*fix, bytes, xid) else {
                    continue;
                };
                reply = r;
                Event6::Reply {
                    reply: &reply,
                    from: SERVER,
                }
            }
            Step::Unreadable => Event6::Unreadable {
                from: SERVER,
                why: "too short".into(),
            },
            Step::TickDue => {
                now = c.poll_at().map_or(now, |at| at.max(now));
                Event6::Tick
            }
            Step::TickMillis(n) => {
                now = now + Duration::from_millis(u64::from(*n));
                Event6::Tick
            }
            Step::TickSecs(n) => {
                now = now + Duration::from_secs(u64::from(*n));
                Event6::Tick
            }
            Step::TickHours(n) => {
                now = now + Duration::from_secs(3600 * u64::from(*n));
                Event6::Tick
            }
            Step::Link(carrier) => Event6::Link { carrier: *carrier },
            Step::DadFailed(a) => Event6::DadFailed(a.resolve(held.as_ref())),
            Step::Renew => Event6::Renew,
            Step::Release => Event6::Release,
            Step::Stop => Event6::Stop,
            Step::Gone => Event6::Gone,
            Step::ConfigureFailed => {
                let Some(l) = held else { continue };
                lease_failed = l;
                Event6::ConfigureFailed {
                    lease: &lease_failed,
                    why: "refused".into(),
                }
            }
        };
        let tick = matches!(event, Event6::Tick);
        if let Event6::Link { carrier } = event {
            m.carrier = carrier;
        }
        let actions = c.handle(now, event);
        rules::check(&c, &actions, &mut m, now, tick, &ctx);
    }
}
