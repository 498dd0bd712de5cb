//! The DHCPv6 client core (RFC 8415) on virtual time: days of lease life in microseconds.
//! One module for each part of the core (as `src/v6/core/` is laid out); this file holds
//! what they share: the identities, the addresses, a client, and a server's messages (built
//! as the parser hands them over, a [`Reply6`]).

mod accept;
mod acquire;
mod decline;
mod hostile;
mod inform;
mod link;
mod props;
mod release;
mod renewal;
mod retrans;
mod safety;

use dhcpc::time::Instant;
use dhcpc::v6::core::{Action6, Client6, Config6, Event6, PdAsk, Reason6, StateName6, Transition6};
use dhcpc::v6::{
    Holdings, Ia, IaAddr, IaPrefix, Kind6, Lease6, Outgoing6, Reply6, Status, StatusCode,
};
use std::net::Ipv6Addr;
use std::time::Duration;

const DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const SERVER_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfe];
const OTHER_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfd];
const SERVER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x77);
const ADDR2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x78);
const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0);
const IAID: u32 = 1;

fn t(secs: f64) -> Instant {
    Instant::from_duration(Duration::from_secs_f64(secs))
}

/// Seconds as a [`Duration`].
fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// Stateful, one IA_NA.
fn config() -> Config6 {
    Config6::stateful(DUID.to_vec(), Some(IAID), None)
}

/// Stateful, one IA_PD with a /56 hint.
fn pd_config() -> Config6 {
    let pd = PdAsk {
        iaid: IAID,
        hint: Some(56),
    };
    Config6::stateful(DUID.to_vec(), None, Some(pd))
}

fn client() -> Client6 {
    Client6::new(config(), 7)
}

fn na(iaid: u32, t1: u32, t2: u32, addrs: &[(Ipv6Addr, u32, u32)]) -> Ia {
    Ia {
        iaid,
        t1,
        t2,
        status: StatusCode::Success,
        holdings: Holdings::Addresses(
            addrs
                .iter()
                .map(|&(addr, preferred, valid)| IaAddr {
                    addr,
                    preferred,
                    valid,
                })
                .collect(),
        ),
    }
}

fn pd(iaid: u32, t1: u32, t2: u32, prefixes: &[(Ipv6Addr, u8, u32, u32)]) -> Ia {
    Ia {
        iaid,
        t1,
        t2,
        status: StatusCode::Success,
        holdings: Holdings::Prefixes(
            prefixes
                .iter()
                .map(|&(prefix, len, preferred, valid)| IaPrefix {
                    prefix,
                    len,
                    preferred,
                    valid,
                })
                .collect(),
        ),
    }
}

/// The usual IA_NA: ADDR, preferred 3000 s, valid 4000 s, T1 1000 s, T2 2000 s.
fn the_na() -> Ia {
    na(IAID, 1000, 2000, &[(ADDR, 3000, 4000)])
}

/// An IA with this status and nothing in it.
fn refused_ia(code: StatusCode, prefixes: bool) -> Ia {
    Ia {
        iaid: IAID,
        t1: 0,
        t2: 0,
        status: code,
        holdings: if prefixes {
            Holdings::Prefixes(vec![])
        } else {
            Holdings::Addresses(vec![])
        },
    }
}

fn status(code: StatusCode) -> Status {
    Status {
        code,
        message: String::new(),
    }
}

/// A server's message of `kind` to our `xid`, with our DUID echoed and its own.
fn msg(kind: Kind6, xid: u32, ias: Vec<Ia>) -> Reply6 {
    Reply6 {
        kind,
        xid,
        server_id: Some(SERVER_DUID.to_vec()),
        client_id: Some(DUID.to_vec()),
        preference: 0,
        rapid_commit: false,
        status: status(StatusCode::Success),
        ias,
        dns: vec![Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53)],
        search: vec!["lab.test".into()],
        ntp: Vec::new(),
        sntp: Vec::new(),
        info_refresh: None,
        unicast: None,
        options: Vec::new(),
        dropped: Vec::new(),
    }
}

fn advertise(xid: u32, preference: u8, ias: Vec<Ia>) -> Reply6 {
    let mut m = msg(Kind6::Advertise, xid, ias);
    m.preference = preference;
    m
}

fn reply(xid: u32, ias: Vec<Ia>) -> Reply6 {
    msg(Kind6::Reply, xid, ias)
}

fn rx<'a>(r: &'a Reply6) -> Event6<'a> {
    Event6::Reply {
        reply: r,
        from: SERVER,
    }
}

/// Every message sent among `actions`.
fn sends(actions: &[Action6]) -> Vec<Outgoing6> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action6::Send(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The one message sent among `actions`.
fn sent(actions: &[Action6]) -> Outgoing6 {
    let m = sends(actions);
    assert_eq!(m.len(), 1, "expected exactly one message in {actions:?}");
    m.into_iter().next().unwrap()
}

fn configured(actions: &[Action6]) -> Option<(Lease6, Option<Lease6>, Transition6)> {
    actions.iter().find_map(|a| match a {
        Action6::Configure {
            lease,
            previous,
            transition,
        } => Some((lease.clone(), previous.clone(), *transition)),
        _ => None,
    })
}

fn deconfigured(actions: &[Action6]) -> Option<(Lease6, Reason6, Transition6)> {
    actions.iter().find_map(|a| match a {
        Action6::Deconfigure {
            lease,
            reason,
            transition,
        } => Some((lease.clone(), *reason, *transition)),
        _ => None,
    })
}

fn notified(actions: &[Action6]) -> Vec<(Transition6, Option<Lease6>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action6::Notify { transition, lease } => Some((*transition, lease.clone())),
            _ => None,
        })
        .collect()
}

/// Ticks at each deadline from `now` until a message goes out; returns when and what (with
/// all the actions of that tick). Panics past `limit`.
fn next_send(c: &mut Client6, limit: Instant) -> (Instant, Outgoing6, Vec<Action6>) {
    loop {
        let at = c.poll_at().expect("something is due");
        assert!(at <= limit, "nothing sent by {limit:?} (next at {at:?})");
        let a = c.handle(at, Event6::Tick);
        if let Some(m) = sends(&a).into_iter().next() {
            return (at, m, a);
        }
    }
}

/// Starts `c` and returns the first SOLICIT and when it went.
fn first_solicit(c: &mut Client6) -> (Instant, Outgoing6) {
    let a = c.handle(t(0.0), Event6::Start);
    if let Some(m) = sends(&a).into_iter().next() {
        return (t(0.0), m);
    }
    let (at, m, _) = next_send(c, t(1.0));
    (at, m)
}

/// A client of `cfg` bound by SOLICIT / ADVERTISE (preference 255) / REQUEST / REPLY with
/// `ias`: returns it, the lease, and when the REQUEST went (the lease's start).
fn bound_with(cfg: Config6, ias: Vec<Ia>) -> (Client6, Lease6, Instant) {
    let mut c = Client6::new(cfg, 7);
    let (at, sol) = first_solicit(&mut c);
    let a = c.handle(at + s(0.01), rx(&advertise(sol.xid, 255, ias.clone())));
    let req = sent(&a);
    assert_eq!(req.kind, Kind6::Request);
    let a = c.handle(at + s(0.02), rx(&reply(req.xid, ias)));
    let (lease, _, transition) = configured(&a).expect("configured");
    assert_eq!(transition, Transition6::Bound6);
    assert_eq!(c.state(), StateName6::Bound);
    (c, lease, at + s(0.01))
}

/// [`bound_with`] the usual IA_NA.
fn bound() -> (Client6, Lease6, Instant) {
    bound_with(config(), vec![the_na()])
}

/// The addresses a lease holds.
fn addrs(lease: &Lease6) -> Vec<Ipv6Addr> {
    lease
        .ias
        .iter()
        .flat_map(|ia| match &ia.holdings {
            Holdings::Addresses(v) => v.iter().map(|a| a.addr).collect::<Vec<_>>(),
            Holdings::Prefixes(v) => v.iter().map(|p| p.prefix).collect(),
        })
        .collect()
}
