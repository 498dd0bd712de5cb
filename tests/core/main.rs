//! The RFC 2131 state machine on virtual time: hours of lease life in microseconds. One
//! module for each part of the core (as `src/core/` is laid out); this file holds what they
//! share: the addresses, a client, and a server's replies.

#[path = "../common/mod.rs"]
mod common;

mod accept;
mod acd;
mod acquire;
mod fallback;
mod inform;
mod link;
mod linklocal;
mod record;
mod renewal;
mod report;
mod retry;
mod transitions;

use dhcpc::core::{
    backoff_base, Action, ArpSeen, Client, Config, Dest, Event, ProbeMode, Reason, StateName,
    Timer, Transition, DECLINE_WAIT, DNA_WAIT,
};
use dhcpc::lease::Lease;
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire::{
    self,
    v4::{DhcpOption, Message, MessageType, Opcode, OptionCode},
};
use std::net::Ipv4Addr;
use std::time::Duration;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 77);

fn t(secs: f64) -> Instant {
    Instant::from_millis((secs * 1000.0) as u64)
}

/// A client without conflict detection, so that an ACK binds at once.
fn config() -> Config {
    let mut c = Config::new(MAC);
    c.probe = ProbeMode::Off;
    c
}

fn client() -> Client {
    Client::new(config(), 42)
}

/// The one message sent among `actions`, with where it went.
fn sent(actions: &[Action]) -> (Message, Dest) {
    let sends: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { msg, dest } => Some(((**msg).clone(), *dest)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sends.len(),
        1,
        "expected exactly one message in {actions:?}"
    );
    sends.into_iter().next().unwrap()
}

fn kind(msg: &Message) -> MessageType {
    msg.opts().msg_type().expect("message type")
}

fn opt(msg: &Message, code: OptionCode) -> Option<&DhcpOption> {
    msg.opts().get(code)
}

/// A server's message as the core receives it: encoded, then parsed at the boundary.
fn rx(m: &Message) -> Reply {
    Reply::parse(&wire::encode(m).unwrap(), SERVER).unwrap()
}

fn reply(xid: u32, kind: MessageType, yiaddr: Ipv4Addr, server: Option<Ipv4Addr>) -> Message {
    let mut m = Message::default();
    m.set_opcode(Opcode::BootReply)
        .set_xid(xid)
        .set_yiaddr(yiaddr)
        .set_chaddr(&MAC);
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    if let Some(s) = server {
        m.opts_mut().insert(DhcpOption::ServerIdentifier(s));
    }
    m
}

fn offer(xid: u32) -> Message {
    let mut m = reply(xid, MessageType::Offer, ADDR, Some(SERVER));
    m.opts_mut().insert(DhcpOption::AddressLeaseTime(3600));
    m
}

fn ack_from(xid: u32, server: Ipv4Addr, lease: u32) -> Message {
    let mut m = reply(xid, MessageType::Ack, ADDR, Some(server));
    let o = m.opts_mut();
    o.insert(DhcpOption::AddressLeaseTime(lease));
    o.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
    o.insert(DhcpOption::Router(vec![SERVER]));
    o.insert(DhcpOption::DomainNameServer(vec![SERVER, OTHER_SERVER]));
    o.insert(DhcpOption::DomainName("lab.test".into()));
    m
}

fn ack(xid: u32, lease: u32) -> Message {
    ack_from(xid, SERVER, lease)
}

fn nak(xid: u32, server: Ipv4Addr) -> Message {
    let mut m = reply(xid, MessageType::Nak, Ipv4Addr::UNSPECIFIED, Some(server));
    m.opts_mut()
        .insert(DhcpOption::Message("address not available".into()));
    m
}

fn configured(actions: &[Action]) -> Option<(Lease, Option<Lease>)> {
    actions.iter().find_map(|a| match a {
        Action::Configure {
            lease, previous, ..
        } => Some((lease.clone(), previous.clone())),
        _ => None,
    })
}

fn deconfigured(actions: &[Action]) -> Option<(Lease, Reason)> {
    actions.iter().find_map(|a| match a {
        Action::Deconfigure { lease, reason, .. } => Some((lease.clone(), *reason)),
        _ => None,
    })
}

/// `secs` is within `percent` % of `base` (and the one second T1 may move to stay under T2):
/// the bound of RFC 2131 4.4.5's fuzz of T1 and T2 ([`dhcpc::core::RetryPolicy`]).
fn within(secs: u32, base: u32, percent: u32) -> bool {
    let spread = base * percent / 100 + 1;
    (base - spread..=base + spread).contains(&secs)
}

/// Runs DORA at t=0 (DISCOVER), 0.01 (OFFER), 0.02 (ACK); returns the client and the xid.
fn bound(lease_secs: u32) -> (Client, u32, Lease) {
    bound_with(config(), lease_secs)
}

/// [`bound`] with these settings.
fn bound_with(cfg: Config, lease_secs: u32) -> (Client, u32, Lease) {
    let mut c = Client::new(cfg, 42);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    c.handle(t(0.01), Event::Reply(&rx(&offer(xid))));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(xid, lease_secs))));
    let (lease, _) = configured(&a).expect("configured");
    assert_eq!(c.state(), StateName::Bound);
    (c, xid, lease)
}

fn saved_lease(start: Instant, secs: u32) -> Lease {
    let (_, _, mut lease) = bound(secs);
    lease.start = start;
    lease
}

fn probing_client(mode: ProbeMode) -> (Client, u32) {
    let mut cfg = Config::new(MAC);
    cfg.probe = mode;
    let mut c = Client::new(cfg, 3);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    (c, d.xid())
}

fn arp_probes(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::ArpProbe { target } if *target == ADDR))
        .count()
}

// ---------------------------------------------------------------------------------------------
// Issue 8: replies judged option by option, sane leases, one record of what is applied.

const NEW_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 88);

/// A reply from raw option bytes (after the cookie, END added), as the boundary parses it.
fn raw(xid: u32, yiaddr: Ipv4Addr, options: &[u8]) -> Reply {
    let b = common::raw_reply(xid, yiaddr, MAC, &[options, &[255]].concat());
    Reply::parse(&b, SERVER).expect("framing is good")
}

/// What the shell tells the core when the kernel refuses `lease`.
fn refused(lease: &Lease) -> Event<'_> {
    Event::ConfigureFailed {
        lease,
        why: "Operation not permitted".into(),
    }
}

fn sends(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Send { .. }))
        .count()
}

fn no_lease(actions: &[Action]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::NoLease(why) => Some(why.to_string()),
        _ => None,
    })
}

/// A probing client bound to ADDR, renewing at T1: returns it with the REQUEST's xid.
fn renewing_with_probe() -> (Client, u32, Lease) {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let (_, _, lease) = bound(3600);
    let mut c = Client::new(cfg, 5).into_bound(lease.clone());
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    (c, r.xid(), lease)
}

fn ack_of(xid: u32, addr: Ipv4Addr) -> Message {
    let mut m = ack(xid, 3600);
    m.set_yiaddr(addr);
    m
}

// --- Carrier (RFC 4436) -------------------------------------------------------------------

/// The router's MAC in these tests (the router is SERVER).
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

fn from_router(mac: [u8; 6]) -> Event<'static> {
    Event::Arp(ArpSeen {
        sender_mac: mac,
        sender_ip: SERVER,
        target_ip: ADDR,
    })
}

fn arp_requests(actions: &[Action]) -> Vec<(Ipv4Addr, Ipv4Addr, Option<[u8; 6]>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::ArpRequest { sender, target, to } => Some((*sender, *target, *to)),
            _ => None,
        })
        .collect()
}

/// A reply as it came in a frame from `mac`.
fn rx_from(m: &Message, mac: [u8; 6]) -> Reply {
    let mut r = rx(m);
    r.from_mac = Some(mac);
    r
}

/// Bound at t=0.02 with an ACK the router itself sent (from ROUTER_MAC).
fn bound_knowing_router(lease_secs: u32) -> (Client, Lease) {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx_from(&offer(d.xid()), ROUTER_MAC)));
    let a = c.handle(
        t(0.02),
        Event::Reply(&rx_from(&ack(d.xid(), lease_secs), ROUTER_MAC)),
    );
    let (lease, _) = configured(&a).expect("configured");
    // Learning the router costs nothing: no packet, no timer, no ARP let through.
    assert!(arp_requests(&a).is_empty(), "{a:?}");
    assert_eq!(c.poll_at(), lease.renew_at());
    (c, lease)
}

/// An ACK to a DISCOVER with rapid commit (RFC 4039).
fn rapid_ack(xid: u32) -> Message {
    let mut a = ack(xid, 3600);
    a.opts_mut().insert(DhcpOption::RapidCommit);
    a
}
