//! The RFC 2131 state machine on virtual time: hours of lease life in microseconds.

mod common;

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

#[test]
fn discover_carries_the_required_options() {
    let mut c = client();
    let (msg, dest) = sent(&c.handle(t(0.0), Event::Start));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&msg), MessageType::Discover);
    assert_eq!(msg.opcode(), Opcode::BootRequest);
    assert_eq!(msg.chaddr(), &MAC);
    assert_eq!(msg.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(msg.secs(), 0);
    assert!(!msg.flags().broadcast(), "broadcast flag only when asked");
    assert_eq!(
        opt(&msg, OptionCode::ClientIdentifier),
        Some(&DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1]))
    );
    assert!(matches!(
        opt(&msg, OptionCode::ParameterRequestList),
        Some(DhcpOption::ParameterRequestList(l)) if l.contains(&OptionCode::Router) && l.contains(&OptionCode::DomainNameServer)
    ));
    assert!(opt(&msg, OptionCode::MaxMessageSize).is_some());
    assert!(opt(&msg, OptionCode::RequestedIpAddress).is_none());
    assert!(opt(&msg, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn broadcast_flag_hostname_and_vendor_class_when_configured() {
    let mut cfg = config();
    cfg.broadcast_flag = true;
    cfg.hostname = Some("box".into());
    cfg.vendor_class = Some(b"dhcpc-test".to_vec());
    let mut c = Client::new(cfg, 1);
    let (msg, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(msg.flags().broadcast());
    assert_eq!(
        opt(&msg, OptionCode::Hostname),
        Some(&DhcpOption::Hostname("box".into()))
    );
    assert_eq!(
        opt(&msg, OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"dhcpc-test".to_vec()))
    );
}

#[test]
fn xid_is_random_per_exchange_and_per_seed() {
    let xid = |seed| {
        let mut c = Client::new(config(), seed);
        sent(&c.handle(t(0.0), Event::Start)).0.xid()
    };
    assert_ne!(xid(1), xid(2));
    assert_eq!(xid(7), xid(7), "deterministic for a seed");
}

#[test]
fn discover_backoff_is_4_8_16_32_64_randomised_by_one_second() {
    for seed in 0..50 {
        let mut c = Client::new(config(), seed);
        let (first, _) = sent(&c.handle(t(0.0), Event::Start));
        let mut now = t(0.0);
        for (i, base) in [4u64, 8, 16, 32, 64, 64, 64].iter().enumerate() {
            let at = c.poll_at().unwrap();
            let delay = at.saturating_since(now);
            assert!(
                delay >= Duration::from_secs(base - 1) && delay <= Duration::from_secs(base + 1),
                "retransmission {} after {delay:?}, want {base}±1 s",
                i + 1
            );
            // Early ticks do nothing.
            assert!(c
                .handle(at - Duration::from_millis(1), Event::Tick)
                .is_empty());
            let (msg, dest) = sent(&c.handle(at, Event::Tick));
            assert_eq!(dest, Dest::Broadcast);
            assert_eq!(kind(&msg), MessageType::Discover);
            assert_eq!(msg.xid(), first.xid(), "same exchange, same xid");
            assert_eq!(u64::from(msg.secs()), at.as_duration().as_secs());
            now = at;
        }
    }
    assert_eq!(backoff_base(1), Duration::from_secs(4));
    assert_eq!(backoff_base(5), Duration::from_secs(64));
    assert_eq!(backoff_base(50), Duration::from_secs(64));
}

#[test]
fn offer_leads_to_request_with_options_50_and_54() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let at = c.poll_at().unwrap();
    let (d2, _) = sent(&c.handle(at, Event::Tick));
    let (req, dest) = sent(&c.handle(
        at + Duration::from_secs(2),
        Event::Reply(&rx(&offer(d.xid()))),
    ));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(req.xid(), d.xid());
    assert_eq!(req.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(req.secs(), d2.secs(), "REQUEST repeats the DISCOVER's secs");
    assert_eq!(
        opt(&req, OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(ADDR))
    );
    assert_eq!(
        opt(&req, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(c.state(), StateName::Requesting);
}

#[test]
fn replies_with_another_xid_or_chaddr_or_op_are_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&offer(d.xid() ^ 1))))
        .is_empty());
    let mut other_mac = offer(d.xid());
    other_mac.set_chaddr(&[2, 0, 0, 0, 0, 2]);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&other_mac))).is_empty());
    let mut request = offer(d.xid());
    request.set_opcode(Opcode::BootRequest);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&request))).is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn bad_offers_are_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    for yiaddr in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(240, 0, 0, 1),
    ] {
        let mut o = offer(xid);
        o.set_yiaddr(yiaddr);
        assert!(
            c.handle(t(0.1), Event::Reply(&rx(&o))).is_empty(),
            "{yiaddr}"
        );
    }
    let no_server = reply(xid, MessageType::Offer, ADDR, None);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&no_server))).is_empty());
    let ack_in_selecting = ack(xid, 3600);
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&ack_in_selecting)))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn ack_from_the_chosen_server_binds() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    c.handle(t(0.5), Event::Reply(&rx(&offer(xid))));
    // An ACK from a server we did not choose is ignored.
    assert!(c
        .handle(
            t(0.6),
            Event::Reply(&rx(&ack_from(xid, OTHER_SERVER, 3600)))
        )
        .is_empty());
    let a = c.handle(t(0.7), Event::Reply(&rx(&ack(xid, 3600))));
    let (lease, previous) = configured(&a).unwrap();
    assert!(previous.is_none());
    assert_eq!(lease.address, ADDR);
    assert_eq!(lease.prefix_len, 24);
    assert_eq!(lease.broadcast, Ipv4Addr::new(198, 51, 100, 255));
    assert_eq!(lease.routers, vec![SERVER]);
    assert_eq!(lease.dns, vec![SERVER, OTHER_SERVER]);
    assert_eq!(lease.domain.as_deref(), Some("lab.test"));
    assert_eq!(lease.server_id, SERVER);
    // T1 and T2: 50 % and 87.5 %, each within the 5 % fuzz (RFC 2131 4.4.5).
    assert_eq!(lease.lease_secs, 3600);
    assert!(within(lease.t1_secs, 1800, 5), "T1 {}", lease.t1_secs);
    assert!(within(lease.t2_secs, 3150, 5), "T2 {}", lease.t2_secs);
    // The lease counts from when the REQUEST went out.
    assert_eq!(lease.start, t(0.5));
    assert_eq!(c.state(), StateName::Bound);
    assert_eq!(c.lease(), Some(&lease));
    let t1 = Duration::from_secs(u64::from(lease.t1_secs));
    assert_eq!(c.poll_at(), Some(t(0.5) + t1));
}

#[test]
fn ack_without_lease_time_is_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let mut a = ack(d.xid(), 60);
    a.opts_mut().remove(OptionCode::AddressLeaseTime);
    assert!(c.handle(t(0.2), Event::Reply(&rx(&a))).is_empty());
    assert_eq!(c.state(), StateName::Requesting);
}

#[test]
fn nak_while_requesting_restarts_from_init_and_nak_storms_back_off() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    // A NAK from another server is not ours to take.
    assert!(c
        .handle(t(0.2), Event::Reply(&rx(&nak(d.xid(), OTHER_SERVER))))
        .is_empty());
    let a = c.handle(t(0.3), Event::Reply(&rx(&nak(d.xid(), SERVER))));
    let (d2, _) = sent(&a);
    assert_eq!(kind(&d2), MessageType::Discover);
    assert_ne!(d2.xid(), d.xid(), "a new exchange gets a new xid");
    assert_eq!(c.state(), StateName::Selecting);

    // The second NAK in a row waits before starting over.
    c.handle(t(0.4), Event::Reply(&rx(&offer(d2.xid()))));
    let a = c.handle(t(0.5), Event::Reply(&rx(&nak(d2.xid(), SERVER))));
    assert!(a.is_empty());
    assert_eq!(c.state(), StateName::Init);
    assert_eq!(c.poll_at(), Some(t(0.5) + backoff_base(1)));
    let (d3, _) = sent(&c.handle(c.poll_at().unwrap(), Event::Tick));
    assert_eq!(kind(&d3), MessageType::Discover);
}

#[test]
fn unanswered_requests_go_back_to_init_after_four() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let mut requests = 1;
    loop {
        let at = c.poll_at().unwrap();
        let (m, _) = sent(&c.handle(at, Event::Tick));
        if kind(&m) == MessageType::Discover {
            break;
        }
        assert_eq!(kind(&m), MessageType::Request);
        requests += 1;
    }
    assert_eq!(requests, 4);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn renew_at_t1_unicast_then_rebind_at_t2_then_expire() {
    // T1 and T2 unfuzzed, so that the whole schedule is exact (the fuzz has tests of its own).
    let mut cfg = config();
    cfg.retry.timer_fuzz_percent = 0;
    let (mut c, _, lease) = bound_with(cfg, 3600);
    let start = lease.start;
    let t1 = start + Duration::from_secs(1800);
    let t2 = start + Duration::from_secs(3150);
    let end = start + Duration::from_secs(3600);
    assert_eq!(c.poll_at(), Some(t1));

    // T1: REQUEST unicast to the server, ciaddr set, no options 50/54.
    let (r, dest) = sent(&c.handle(t1, Event::Tick));
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(kind(&r), MessageType::Request);
    assert_eq!(r.ciaddr(), ADDR);
    assert!(opt(&r, OptionCode::RequestedIpAddress).is_none());
    assert!(opt(&r, OptionCode::ServerIdentifier).is_none());
    assert!(!r.flags().broadcast());
    assert_eq!(c.state(), StateName::Renewing);

    // Retransmit at half the time left to T2, never under 60 s: 1350 s left → 675 s, …
    let mut now = t1;
    let mut waits = Vec::new();
    while c.state() == StateName::Renewing {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now).as_secs());
        let a = c.handle(at, Event::Tick);
        let (m, dest) = sent(&a);
        now = at;
        if c.state() == StateName::Renewing {
            assert_eq!(dest, Dest::Unicast(SERVER));
            assert_eq!(m.ciaddr(), ADDR);
        } else {
            // T2 reached: REBINDING broadcasts.
            assert_eq!(now, t2);
            assert_eq!(dest, Dest::Broadcast);
            assert_eq!(m.ciaddr(), ADDR);
            assert!(opt(&m, OptionCode::ServerIdentifier).is_none());
        }
    }
    assert_eq!(waits, vec![675, 337, 168, 84, 60, 24]);
    assert_eq!(c.state(), StateName::Rebinding);

    // Rebinding: half the time left to expiry, not under 60 s, then expiry.
    let mut waits = Vec::new();
    loop {
        let at = c.poll_at().unwrap();
        waits.push(at.saturating_since(now).as_secs());
        let a = c.handle(at, Event::Tick);
        now = at;
        if let Some((gone, reason)) = deconfigured(&a) {
            assert_eq!(now, end);
            assert_eq!(gone.address, ADDR);
            assert_eq!(reason, Reason::Expired);
            let (d, _) = sent(&a);
            assert_eq!(kind(&d), MessageType::Discover);
            break;
        }
        let (m, dest) = sent(&a);
        assert_eq!(dest, Dest::Broadcast);
        assert_eq!(kind(&m), MessageType::Request);
    }
    assert_eq!(waits, vec![225, 112, 60, 52]);
    assert_eq!(c.state(), StateName::Selecting);
    assert!(c.lease().is_none());
}

#[test]
fn ack_while_renewing_updates_the_lease_and_timers() {
    let (mut c, _, lease) = bound(3600);
    let t1 = lease.renew_at().unwrap();
    let (r, _) = sent(&c.handle(t1, Event::Tick));
    let a = c.handle(
        t1 + Duration::from_millis(5),
        Event::Reply(&rx(&ack(r.xid(), 7200))),
    );
    let (new, previous) = configured(&a).unwrap();
    assert_eq!(previous, Some(lease));
    assert_eq!(new.lease_secs, 7200);
    assert_eq!(new.start, t1);
    assert_eq!(c.state(), StateName::Bound);
    // The new T1: half of the new lease, within the fuzz.
    assert!(within(new.t1_secs, 3600, 5), "T1 {}", new.t1_secs);
    let new_t1 = Duration::from_secs(u64::from(new.t1_secs));
    assert_eq!(c.poll_at(), Some(t1 + new_t1));
}

#[test]
fn renewing_only_takes_answers_from_the_leasing_server() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let later = lease.renew_at().unwrap() + Duration::from_secs(1);
    assert!(c
        .handle(
            later,
            Event::Reply(&rx(&ack_from(r.xid(), OTHER_SERVER, 3600)))
        )
        .is_empty());
    assert!(c
        .handle(later, Event::Reply(&rx(&nak(r.xid(), OTHER_SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn rebinding_accepts_any_server() {
    let (mut c, _, lease) = bound(3600);
    sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let t2 = lease.rebind_at().unwrap();
    let mut now = lease.renew_at().unwrap();
    while now < t2 {
        now = c.poll_at().unwrap();
        c.handle(now, Event::Tick);
    }
    assert_eq!(c.state(), StateName::Rebinding);
    let xid = {
        let at = c.poll_at().unwrap();
        sent(&c.handle(at, Event::Tick)).0.xid()
    };
    let a = c.handle(
        now + Duration::from_secs(300),
        Event::Reply(&rx(&ack_from(xid, OTHER_SERVER, 3600))),
    );
    let (new, _) = configured(&a).unwrap();
    assert_eq!(new.server_id, OTHER_SERVER);
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn nak_while_renewing_drops_the_address_and_restarts() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let a = c.handle(
        lease.renew_at().unwrap() + Duration::from_secs(1),
        Event::Reply(&rx(&nak(r.xid(), SERVER))),
    );
    let (gone, reason) = deconfigured(&a).unwrap();
    assert_eq!((gone.address, reason), (ADDR, Reason::Nak));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn infinite_lease_has_no_timers() {
    let (c, _, lease) = bound(u32::MAX);
    assert!(lease.is_infinite());
    assert_eq!(c.poll_at(), None);
    assert_eq!(lease.expires_at(), None);
}

#[test]
fn renew_event_renews_now() {
    let (mut c, _, _) = bound(3600);
    let (r, dest) = sent(&c.handle(t(10.0), Event::Renew));
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(r.ciaddr(), ADDR);
    assert_eq!(c.state(), StateName::Renewing);
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

fn saved_lease(start: Instant, secs: u32) -> Lease {
    let (_, _, mut lease) = bound(secs);
    lease.start = start;
    lease
}

#[test]
fn init_reboot_asks_for_the_saved_address_and_keeps_it_on_ack() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = client().with_saved_lease(saved);
    let (r, dest) = sent(&c.handle(t(100.0), Event::Start));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&r), MessageType::Request);
    assert_eq!(r.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r, OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(ADDR))
    );
    assert!(opt(&r, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Rebooting);
    let a = c.handle(t(100.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert_eq!(configured(&a).unwrap().0.address, ADDR);
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn init_reboot_falls_back_to_discover_on_nak_or_silence() {
    let mut c = client().with_saved_lease(saved_lease(t(0.0), 3600));
    let (r, _) = sent(&c.handle(t(1.0), Event::Start));
    let a = c.handle(t(1.1), Event::Reply(&rx(&nak(r.xid(), SERVER))));
    // An earlier process may have left the address on the interface: it goes.
    assert_eq!(
        deconfigured(&a),
        Some((saved_lease(t(0.0), 3600), Reason::Nak))
    );
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);

    let mut c = client().with_saved_lease(saved_lease(t(0.0), 3600));
    sent(&c.handle(t(1.0), Event::Start));
    let at = c.poll_at().unwrap();
    assert_eq!(at, t(1.0) + dhcpc::core::REBOOT_WAIT / 2);
    assert_eq!(
        kind(&sent(&c.handle(at, Event::Tick)).0),
        MessageType::Request
    );
    let at = c.poll_at().unwrap();
    assert_eq!(at, t(1.0) + dhcpc::core::REBOOT_WAIT);
    let a = c.handle(at, Event::Tick);
    assert_eq!(deconfigured(&a).unwrap().1, Reason::Unconfirmed);
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn an_expired_saved_lease_is_not_asked_for() {
    let mut c = client().with_saved_lease(saved_lease(t(0.0), 60));
    let (d, _) = sent(&c.handle(t(61.0), Event::Start));
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn hours_of_lease_life_run_in_virtual_time() {
    // Ten full renewals of a one-hour lease, each answered at once: 10 hours in no time.
    let (mut c, _, mut lease) = bound(3600);
    for _ in 0..10 {
        let t1 = lease.renew_at().unwrap();
        assert_eq!(c.poll_at(), Some(t1));
        let (r, _) = sent(&c.handle(t1, Event::Tick));
        let a = c.handle(t1, Event::Reply(&rx(&ack(r.xid(), 3600))));
        lease = configured(&a).unwrap().0;
    }
    // Each T1 half the hour, within the 5 % fuzz.
    assert!(lease.start >= t(10.0 * 1800.0 * 0.95));
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

#[test]
fn default_is_a_quick_probe_of_200_ms() {
    assert_eq!(
        Config::new(MAC).probe,
        ProbeMode::Quick(dhcpc::core::DEFAULT_PROBE_WINDOW)
    );
    assert_eq!(
        dhcpc::core::DEFAULT_PROBE_WINDOW,
        Duration::from_millis(200)
    );
}

#[test]
fn ack_is_probed_with_arp_before_it_is_used_then_announced() {
    let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
    assert!(a.contains(&Action::ArpWatch(vec![ADDR])));
    assert!(configured(&a).is_none(), "not used before the probe");
    assert_eq!(c.state(), StateName::Probing);
    assert!(c.lease().is_none());
    // Two probes, 100 ms apart, then the address is used at 200 ms.
    assert_eq!(c.poll_at(), Some(t(0.02)));
    assert_eq!(arp_probes(&c.handle(t(0.02), Event::Tick)), 1);
    assert_eq!(c.poll_at(), Some(t(0.12)));
    assert_eq!(arp_probes(&c.handle(t(0.12), Event::Tick)), 1);
    assert_eq!(c.poll_at(), Some(t(0.22)));
    // Our own probe echoed back is no conflict; neither is ARP about other addresses.
    let own = ArpSeen {
        sender_mac: MAC,
        sender_ip: Ipv4Addr::UNSPECIFIED,
        target_ip: ADDR,
    };
    assert!(c.handle(t(0.15), Event::Arp(own)).is_empty());
    let unrelated = ArpSeen {
        sender_mac: [2, 0, 0, 0, 0, 9],
        sender_ip: OTHER_SERVER,
        target_ip: SERVER,
    };
    assert!(c.handle(t(0.15), Event::Arp(unrelated)).is_empty());
    let a = c.handle(t(0.22), Event::Tick);
    assert!(a.contains(&Action::ArpWatch(vec![])));
    assert_eq!(configured(&a).unwrap().0.address, ADDR);
    assert!(a.contains(&Action::ArpAnnounce { addr: ADDR }));
    assert_eq!(c.state(), StateName::Bound);
    // RFC 5227: a second announcement 2 s later, then only the lease timers.
    assert_eq!(c.poll_at(), Some(t(2.22)));
    assert_eq!(
        c.handle(t(2.22), Event::Tick),
        vec![Action::ArpAnnounce { addr: ADDR }]
    );
    assert_eq!(c.poll_at(), c.lease().unwrap().renew_at());
}

#[test]
fn a_conflict_while_probing_declines_and_waits_ten_seconds() {
    for (sender_ip, target_ip) in [
        // Another host answers for (or announces) the address.
        (ADDR, ADDR),
        (ADDR, Ipv4Addr::new(198, 51, 100, 9)),
        // Another host probes for the same address at the same time.
        (Ipv4Addr::UNSPECIFIED, ADDR),
    ] {
        let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
        c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
        assert_eq!(c.state(), StateName::Probing);
        c.handle(t(0.02), Event::Tick);
        let seen = ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 9],
            sender_ip,
            target_ip,
        };
        let a = c.handle(t(0.05), Event::Arp(seen));
        assert!(configured(&a).is_none());
        assert!(a.contains(&Action::ArpWatch(vec![])));
        let (decline, dest) = sent(&a);
        assert_eq!(dest, Dest::Broadcast);
        assert_eq!(kind(&decline), MessageType::Decline);
        assert_eq!(decline.ciaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            opt(&decline, OptionCode::RequestedIpAddress),
            Some(&DhcpOption::RequestedIpAddress(ADDR))
        );
        assert_eq!(
            opt(&decline, OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(SERVER))
        );
        assert_eq!(c.state(), StateName::Init);
        assert_eq!(c.poll_at(), Some(t(0.05) + DECLINE_WAIT));
        let (d, _) = sent(&c.handle(t(0.05) + DECLINE_WAIT, Event::Tick));
        assert_eq!(kind(&d), MessageType::Discover);
    }
}

#[test]
fn rfc5227_mode_sends_three_probes_with_rfc_spacing() {
    for seed in 0..20 {
        let mut cfg = Config::new(MAC);
        cfg.probe = ProbeMode::Rfc5227;
        let mut c = Client::new(cfg, seed);
        let (d, _) = sent(&c.handle(t(0.0), Event::Start));
        c.handle(t(0.0), Event::Reply(&rx(&offer(d.xid()))));
        c.handle(t(0.0), Event::Reply(&rx(&ack(d.xid(), 3600))));
        assert_eq!(c.state(), StateName::Probing);
        let mut times = Vec::new();
        let mut now = t(0.0);
        loop {
            let at = c.poll_at().unwrap();
            let a = c.handle(at, Event::Tick);
            times.push(at.saturating_since(now));
            now = at;
            if configured(&a).is_some() {
                break;
            }
            assert_eq!(arp_probes(&a), 1);
        }
        // PROBE_WAIT 0-1 s, then PROBE_MIN..PROBE_MAX (1-2 s) twice, then ANNOUNCE_WAIT 2 s.
        assert_eq!(times.len(), 4, "{times:?}");
        assert!(times[0] <= Duration::from_secs(1));
        for gap in &times[1..3] {
            assert!(*gap >= Duration::from_secs(1) && *gap <= Duration::from_secs(2));
        }
        assert_eq!(times[3], Duration::from_secs(2));
    }
}

#[test]
fn a_renewal_of_the_same_address_is_not_probed() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let lease = {
        let (_, _, l) = bound(3600);
        l
    };
    let mut c = Client::new(cfg, 9).into_bound(lease.clone());
    let t1 = lease.renew_at().unwrap();
    let (r, _) = sent(&c.handle(t1, Event::Tick));
    let a = c.handle(t1, Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert!(configured(&a).is_some());
    assert!(!a
        .iter()
        .any(|a| matches!(a, Action::ArpWatch(w) if !w.is_empty())));
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn renewal_times_are_clamped() {
    use dhcpc::lease::renewal_times;
    assert_eq!(renewal_times(3600, None, None), (1800, 3150));
    assert_eq!(renewal_times(3600, Some(600), Some(1200)), (600, 1200));
    // T2 at or past the lease: default T2; T1 at or past T2: default T1.
    assert_eq!(renewal_times(3600, Some(100), Some(3600)), (100, 3150));
    assert_eq!(renewal_times(3600, Some(3200), Some(3000)), (1800, 3000));
    // A T2 below the default T1 pulls T1 under it.
    assert_eq!(renewal_times(3600, None, Some(1000)), (500, 1000));
    assert_eq!(
        renewal_times(u32::MAX, Some(5), Some(6)),
        (u32::MAX, u32::MAX)
    );
    for lease in [1u32, 2, 3, 7, 60, 86400, u32::MAX - 1] {
        let (t1, t2) = renewal_times(lease, None, None);
        assert!(t1 <= t2 && t2 <= lease, "{lease}: {t1} {t2}");
    }
}

#[test]
fn nak_while_rebinding_drops_the_address_and_restarts() {
    let (mut c, _, lease) = bound(3600);
    sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let t2 = lease.rebind_at().unwrap();
    while c.state() != StateName::Rebinding {
        let at = c.poll_at().unwrap();
        c.handle(at, Event::Tick);
    }
    let at = c.poll_at().unwrap();
    let (r, _) = sent(&c.handle(at, Event::Tick));
    // In REBINDING any server may answer, and a NAK from any of them ends the lease.
    let a = c.handle(
        t2 + Duration::from_secs(1),
        Event::Reply(&rx(&nak(r.xid(), OTHER_SERVER))),
    );
    assert_eq!(deconfigured(&a).unwrap(), (lease, Reason::Nak));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn a_nak_while_selecting_or_bound_is_ignored() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&nak(d.xid(), SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
    let (mut c, xid, _) = bound(3600);
    assert!(c
        .handle(t(5.0), Event::Reply(&rx(&nak(xid, SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Bound);
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

#[test]
fn an_ack_with_a_garbled_option_it_does_not_need_is_taken() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    // 81 (FQDN) whose name runs past its end, 12 (host name) that is not UTF-8.
    let garbage: &[u8] = &[81, 6, 0, 0, 0, 9, b'a', b'b', 12, 3, b'a', 0xff, b'b'];
    let basics = |kind: u8| -> Vec<u8> {
        [
            &[53, 1, kind, 54, 4, 198, 51, 100, 1, 51, 4, 0, 0, 14, 16][..],
            &[1, 4, 255, 255, 255, 0],
            garbage,
        ]
        .concat()
    };
    let a = c.handle(t(0.1), Event::Reply(&raw(xid, ADDR, &basics(2))));
    assert_eq!(kind(&sent(&a).0), MessageType::Request);
    let a = c.handle(t(0.2), Event::Reply(&raw(xid, ADDR, &basics(5))));
    let (lease, _) = configured(&a).expect("the lease is taken");
    assert_eq!((lease.address, lease.prefix_len), (ADDR, 24));
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn a_nak_whose_message_is_not_utf8_still_ends_the_lease() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let nak = raw(
        r.xid(),
        Ipv4Addr::UNSPECIFIED,
        &[
            53, 1, 6, 54, 4, 198, 51, 100, 1, 56, 5, b'g', b'o', 0xff, 0xfe, b'!',
        ],
    );
    let a = c.handle(lease.renew_at().unwrap(), Event::Reply(&nak));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Nak)));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert!(c.applied().is_none());
}

/// A server that answers every DISCOVER with an offer and every REQUEST with an ACK, both
/// for a `lease_secs` lease, for an hour of virtual time. Returns how many messages the
/// client sent and what it reported at its acquire timeout.
fn an_hour_with_a_server_granting(lease_secs: u32, offer_secs: u32) -> (usize, Vec<Action>) {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(30));
    let mut c = Client::new(cfg, 11);
    let mut all = c.handle(t(0.0), Event::Start);
    let mut count = sends(&all);
    while let Some(at) = c.poll_at() {
        if at > t(3600.0) {
            break;
        }
        let mut actions = c.handle(at, Event::Tick);
        let mut i = 0;
        // Answer everything sent, at once (answers may send more: those are answered too).
        while let Some(action) = actions.get(i).cloned() {
            i += 1;
            let Action::Send { msg, .. } = action else {
                continue;
            };
            let answer = match kind(&msg) {
                MessageType::Discover => {
                    let mut o = offer(msg.xid());
                    o.opts_mut()
                        .insert(DhcpOption::AddressLeaseTime(offer_secs));
                    o
                }
                MessageType::Request => ack(msg.xid(), lease_secs),
                _ => continue,
            };
            actions.extend(c.handle(at, Event::Reply(&rx(&answer))));
        }
        count += sends(&actions);
        all.extend(actions);
        assert!(count < 10_000, "a send storm");
    }
    (count, all)
}

#[test]
fn a_lease_under_four_seconds_is_refused_without_a_send_storm() {
    for secs in [0, 1, 3] {
        // Offered for an hour, ACKed for `secs`: every ACK is refused.
        let (count, actions) = an_hour_with_a_server_granting(secs, 3600);
        assert!(configured(&actions).is_none(), "{secs} s lease configured");
        // RFC 2131's own schedule: a DISCOVER, then four REQUESTs 4, 8 and 16 s apart, about
        // once a minute; five messages a minute, where a loop would send thousands a second.
        assert!(
            count < 400,
            "{count} messages in an hour for a {secs} s lease"
        );
        let why = no_lease(&actions).expect("the timeout says why");
        assert!(
            why.contains(&format!(
                "from 198.51.100.1 dropped: lease time {secs} s is under the minimum of 4 s"
            )),
            "{why}"
        );
        // Offered for `secs` too: refused at the offer already.
        let (count, actions) = an_hour_with_a_server_granting(secs, secs);
        assert!(configured(&actions).is_none());
        assert!(count < 100, "{count} DISCOVERs in an hour");
    }
    // Four seconds is taken, and lives its life on a schedule, not in a loop.
    let (count, actions) = an_hour_with_a_server_granting(4, 4);
    assert!(configured(&actions).is_some());
    assert!(
        count < 3 * 3600 / 4 + 10,
        "{count} messages for a 4 s lease"
    );
}

#[test]
fn option_57_is_never_under_576() {
    use dhcpc::core::max_message_size;
    assert_eq!(max_message_size(None), 1472);
    assert_eq!(max_message_size(Some(1500)), 1472);
    assert_eq!(max_message_size(Some(9000)), 8972);
    assert_eq!(max_message_size(Some(604)), 576);
    assert_eq!(max_message_size(Some(576)), 576);
    assert_eq!(max_message_size(Some(68)), 576);
    assert_eq!(max_message_size(Some(1_000_000)), 65535);
}

#[test]
fn the_acquire_timeout_says_why_no_lease_was_taken() {
    // Nobody answers.
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(10));
    let mut c = Client::new(cfg.clone(), 1);
    c.handle(t(0.0), Event::Start);
    let mut report = None;
    while report.is_none() {
        let at = c.poll_at().unwrap();
        assert!(at <= t(10.0));
        report = no_lease(&c.handle(at, Event::Tick));
    }
    assert_eq!(report.unwrap(), "no DHCP server answered");
    assert_eq!(c.state(), StateName::Selecting, "it goes on trying");
    assert!(c.timers().get(Timer::AcquireTimeout).is_none(), "said once");

    // A server whose offers are refused, and an unreadable message.
    let mut c = Client::new(cfg.clone(), 2);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let mut bad = offer(d.xid());
    bad.opts_mut()
        .insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 0, 255, 0)));
    for _ in 0..3 {
        assert!(c.handle(t(1.0), Event::Reply(&rx(&bad))).is_empty());
    }
    c.handle(
        t(1.0),
        Event::Unreadable {
            from: OTHER_SERVER,
            why: "bad magic cookie".into(),
        },
    );
    let a = c.handle(t(10.0), Event::Tick);
    assert_eq!(
        no_lease(&a).unwrap(),
        "3 replies from 198.51.100.1 dropped: subnet mask 255.0.255.0 is not contiguous; \
         1 unreadable message from 198.51.100.2 dropped: bad magic cookie"
    );

    // A lease bound in time: no report.
    let mut c = Client::new(cfg, 3);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert!(c.timers().get(Timer::AcquireTimeout).is_none());
}

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

#[test]
fn a_conflict_while_probing_a_changed_address_removes_the_old_one() {
    let (mut c, xid, old) = renewing_with_probe();
    let now = old.renew_at().unwrap();
    let a = c.handle(now, Event::Reply(&rx(&ack_of(xid, NEW_ADDR))));
    assert!(a.contains(&Action::ArpWatch(vec![NEW_ADDR])));
    assert_eq!(c.state(), StateName::Probing);
    assert_eq!(c.applied(), Some(&old), "the old address is still held");
    let conflict = ArpSeen {
        sender_mac: [2, 0, 0, 0, 0, 9],
        sender_ip: NEW_ADDR,
        target_ip: NEW_ADDR,
    };
    let a = c.handle(now, Event::Arp(conflict));
    assert_eq!(kind(&sent(&a).0), MessageType::Decline);
    assert_eq!(deconfigured(&a), Some((old, Reason::Declined)));
    assert!(a.contains(&Action::ForgetLease));
    assert!(c.applied().is_none());
    assert_eq!(c.state(), StateName::Init);
}

#[test]
fn a_release_while_probing_gives_back_what_the_server_granted() {
    // The first lease, still being probed: nothing is held, the server's grant is released.
    let (mut c, xid) = probing_client(ProbeMode::Quick(Duration::from_millis(200)));
    c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
    let a = c.handle(t(0.05), Event::Release);
    // The interface has no address to send from yet: broadcast, with option 54 naming the
    // server.
    let (m, dest) = sent(&a);
    assert_eq!(
        (kind(&m), m.ciaddr(), dest),
        (MessageType::Release, ADDR, Dest::Broadcast)
    );
    assert_eq!(
        opt(&m, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert!(a.contains(&Action::ArpWatch(vec![])) && a.contains(&Action::ForgetLease));
    assert!(deconfigured(&a).is_none());
    assert_eq!((c.state(), c.poll_at()), (StateName::Released, None));

    // A changed address being probed: the new one is released, the old one removed.
    let (mut c, xid, old) = renewing_with_probe();
    let now = old.renew_at().unwrap();
    c.handle(now, Event::Reply(&rx(&ack_of(xid, NEW_ADDR))));
    let a = c.handle(now, Event::Release);
    assert_eq!(sent(&a).0.ciaddr(), NEW_ADDR);
    assert_eq!(sent(&a).1, Dest::Broadcast);
    assert_eq!(deconfigured(&a), Some((old, Reason::Released)));
    assert!(c.applied().is_none());
}

#[test]
fn a_failed_configure_starts_over_after_a_growing_pause() {
    let (mut c, _, lease) = bound(3600);
    let now = t(1.0);
    let a = c.handle(now, refused(&lease));
    assert_eq!(deconfigured(&a), Some((lease.clone(), Reason::NotApplied)));
    assert_eq!(
        (c.state(), c.poll_at()),
        (StateName::Init, Some(now + backoff_base(1)))
    );
    let at = c.poll_at().unwrap();
    let (d, _) = sent(&c.handle(at, Event::Tick));
    c.handle(at, Event::Reply(&rx(&offer(d.xid()))));
    let (again, _) = configured(&c.handle(at, Event::Reply(&rx(&ack(d.xid(), 3600))))).unwrap();
    c.handle(at, refused(&again));
    assert_eq!(c.poll_at(), Some(at + backoff_base(2)));
    // About a lease the record has moved past: ignored.
    assert!(c.handle(at, refused(&lease)).is_empty());
    assert!(c.handle(at, refused(&again)).is_empty());
}

#[test]
fn an_unanswered_renewal_of_an_infinite_lease_keeps_it() {
    let (mut c, _, lease) = bound(u32::MAX);
    sent(&c.handle(t(10.0), Event::Renew));
    let mut tries = 1;
    while c.state() == StateName::Renewing {
        let at = c.poll_at().expect("a retry is due");
        let a = c.handle(at, Event::Tick);
        assert!(deconfigured(&a).is_none(), "an infinite lease never goes");
        tries += sends(&a);
    }
    assert_eq!(tries, 4);
    assert_eq!((c.state(), c.lease()), (StateName::Bound, Some(&lease)));
    assert_eq!(c.poll_at(), None);
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
fn a_first_lease_the_system_refuses_is_reported_at_the_acquire_timeout() {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(10));
    let mut c = Client::new(cfg, 4);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let (lease, _) = configured(&c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 3600))))).unwrap();
    assert_eq!(c.timers().get(Timer::AcquireTimeout), None);
    c.handle(t(0.3), refused(&lease));
    // Whoever waits for the first lease is still told, at the deadline, and why.
    assert_eq!(c.timers().get(Timer::AcquireTimeout), Some(t(10.0)));
    let mut why = None;
    while why.is_none() {
        let at = c.poll_at().unwrap();
        assert!(at <= t(10.0));
        let a = c.handle(at, Event::Tick);
        why = no_lease(&a);
        for m in a.iter().filter_map(|a| match a {
            Action::Send { msg, .. } => Some(msg),
            _ => None,
        }) {
            // The server keeps offering; the system keeps refusing.
            let answer = match kind(m) {
                MessageType::Discover => offer(m.xid()),
                _ => ack(m.xid(), 3600),
            };
            if let Some((lease, _)) = configured(&c.handle(at, Event::Reply(&rx(&answer)))) {
                c.handle(at, refused(&lease));
            }
        }
    }
    assert!(
        why.as_deref()
            .unwrap()
            .contains("could not configure 198.51.100.77: Operation not permitted"),
        "{why:?}"
    );
    // Said once.
    assert_eq!(c.timers().get(Timer::AcquireTimeout), None);
}

#[test]
fn init_reboot_probes_and_then_announces_the_address() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let saved = saved_lease(t(0.0), 3600);
    let mut c = Client::new(cfg, 6).with_saved_lease(saved.clone());
    let (r, _) = sent(&c.handle(t(10.0), Event::Start));
    let a = c.handle(t(10.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert!(a.contains(&Action::ArpWatch(vec![ADDR])));
    let mut bound = Vec::new();
    while c.state() == StateName::Probing {
        let at = c.poll_at().unwrap();
        bound = c.handle(at, Event::Tick);
    }
    let (lease, previous) = configured(&bound).unwrap();
    assert_eq!((lease.address, previous), (ADDR, Some(saved)));
    // RFC 5227 2.3: a probed address is announced, even the one the interface had before.
    assert!(bound.contains(&Action::ArpAnnounce { addr: ADDR }));
}

#[test]
fn a_lease_that_runs_out_while_it_is_probed_is_not_configured() {
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_secs(10));
    let mut c = Client::new(cfg, 7);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 4))));
    let mut last = Vec::new();
    while c.state() == StateName::Probing {
        let at = c.poll_at().unwrap();
        last = c.handle(at, Event::Tick);
    }
    assert!(configured(&last).is_none(), "{last:?}");
    assert!(last.contains(&Action::ArpWatch(vec![])));
    assert_eq!(kind(&sent(&last).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

// ---------------------------------------------------------------------------------------------
// Issue 9: what the client asks for and says about itself, rapid commit.

fn prl(msg: &Message) -> Vec<u8> {
    match opt(msg, OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(l)) => l.iter().map(|c| u8::from(*c)).collect(),
        other => panic!("no option 55: {other:?}"),
    }
}

#[test]
fn the_request_list_asks_for_routes_search_and_ntp_and_what_is_added() {
    let mut cfg = config();
    cfg.extra_requests = vec![252, 42, 150];
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let list = prl(&d);
    for code in [
        1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121, 249, 252, 150,
    ] {
        assert!(list.contains(&code), "{code} not asked for: {list:?}");
    }
    assert!(
        list.iter().position(|&c| c == 121) < list.iter().position(|&c| c == 3),
        "121 before 3"
    );
    assert_eq!(list.iter().filter(|&&c| c == 42).count(), 1, "asked once");
}

#[test]
fn client_identifier_forms() {
    use dhcpc::core::{request, ClientId};
    assert_eq!(
        request::client_id(&ClientId::Mac, MAC, &[]),
        Some(vec![1, 2, 0, 0, 0, 0, 1])
    );
    // RFC 4361: 255, IAID (last four bytes of the MAC), then the host's DUID.
    let duid = request::new_duid([7; 16]);
    assert_eq!(
        duid,
        [&[0u8, 4][..], &[7; 16]].concat(),
        "RFC 6355 DUID-UUID"
    );
    assert_eq!(
        request::client_id(&ClientId::Duid, MAC, &duid),
        Some([&[255u8, 0, 0, 0, 1][..], &duid].concat())
    );
    // Another interface of the same host: the same DUID, another IAID.
    let other = [2, 0, 0, 0, 0, 2];
    assert_eq!(
        request::client_id(&ClientId::Duid, other, &duid),
        Some([&[255u8, 0, 0, 0, 2][..], &duid].concat())
    );
    assert_eq!(request::client_id(&ClientId::None, MAC, &[]), None);
    assert_eq!(
        request::client_id(&ClientId::Raw(vec![0, 1, 2]), MAC, &[]),
        Some(vec![0, 1, 2])
    );
    let mut cfg = config();
    cfg.client_id = None;
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::ClientIdentifier).is_none(), "none sent");
}

#[test]
fn fqdn_is_sent_in_canonical_wire_form_with_s_and_e() {
    use dhcpc::core::request::fqdn_option;
    // Fully qualified: labels then the root label.
    assert_eq!(
        fqdn_option("Box.Lab.test"),
        [
            &[0x05, 0, 0, 3][..],
            b"box",
            &[3],
            b"lab",
            &[4],
            b"test",
            &[0]
        ]
        .concat()
    );
    // A single label is a partial name: no root label.
    assert_eq!(fqdn_option("box"), [&[0x05, 0, 0, 3][..], b"box"].concat());
    let mut cfg = config();
    cfg.fqdn = Some("box.lab.test".into());
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let bytes = wire::encode(&d).unwrap();
    let want = fqdn_option("box.lab.test");
    let tlv = [&[81, want.len() as u8][..], &want].concat();
    assert!(
        bytes.windows(tlv.len()).any(|w| w == tlv),
        "option 81 as encoded"
    );
}

fn rapid_ack(xid: u32) -> Message {
    let mut a = ack(xid, 3600);
    a.opts_mut().insert(DhcpOption::RapidCommit);
    a
}

#[test]
fn rapid_commit_binds_in_two_messages() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert_eq!(
        opt(&d, OptionCode::RapidCommit),
        Some(&DhcpOption::RapidCommit)
    );
    // An ACK without option 80 is no answer to a DISCOVER.
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&ack(d.xid(), 3600))))
        .is_empty());
    let a = c.handle(t(0.1), Event::Reply(&rx(&rapid_ack(d.xid()))));
    let (lease, _) = configured(&a).expect("bound from the DISCOVER's ACK");
    assert_eq!(lease.start, t(0.0), "the lease counts from the DISCOVER");
    assert_eq!(sends(&a), 0, "no REQUEST");
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn rapid_commit_off_asks_for_none_and_takes_none() {
    let mut cfg = config();
    cfg.rapid_commit = false;
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::RapidCommit).is_none());
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&rapid_ack(d.xid()))))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}

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
fn option_12_is_not_sent_beside_option_81() {
    let mut cfg = config();
    cfg.hostname = Some("box".into());
    let mut c = Client::new(cfg.clone(), 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::Hostname).is_some());
    // RFC 4702 3.1.
    cfg.fqdn = Some("box.lab.test".into());
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::Hostname).is_none());
    assert!(opt(&d, OptionCode::ClientFQDN).is_some());
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

#[test]
fn a_lease_not_sent_by_its_router_is_confirmed_by_init_reboot_alone() {
    let (mut c, _, lease) = bound(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    let a = c.handle(t(20.0), Event::Link { carrier: true });
    assert!(a.contains(&Action::Reapply {
        lease: lease.clone(),
        transition: Transition::Reboot,
    }));
    assert!(arp_requests(&a).is_empty(), "{a:?}");
    let (req, _) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    // Nothing to tell another network by but the server: INIT-REBOOT's own wait.
    assert_eq!(c.poll_at(), Some(t(22.5)));
    let a = c.handle(t(20.01), Event::Reply(&rx(&ack(req.xid(), 3600))));
    assert_eq!(c.state(), StateName::Bound, "{a:?}");
}

#[test]
fn carrier_back_on_the_same_network_keeps_the_lease_at_once() {
    let (mut c, lease) = bound_knowing_router(3600);
    let a = c.handle(t(10.0), Event::Link { carrier: false });
    assert!(a.iter().all(|a| !matches!(a, Action::Deconfigure { .. })));
    assert_eq!(
        c.applied(),
        Some(&lease),
        "the address stays while carrier is gone"
    );
    let a = c.handle(t(20.0), Event::Link { carrier: true });
    // What the kernel dropped is put back at once...
    assert!(a.contains(&Action::Reapply {
        lease: lease.clone(),
        transition: Transition::Reboot,
    }));
    // ...and the lease is checked two ways at once: unicast ARP to the router (RFC 4436),
    // and an INIT-REBOOT REQUEST.
    assert_eq!(arp_requests(&a), [(ADDR, SERVER, Some(ROUTER_MAC))]);
    let (req, dest) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(dest, Dest::Broadcast);
    assert!(opt(&req, OptionCode::RequestedIpAddress).is_some());
    assert!(opt(&req, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Rebooting);
    // The router answers from the MAC it had: same network, nothing changes.
    let a = c.handle(t(20.001), from_router(ROUTER_MAC));
    assert_eq!(c.state(), StateName::Bound);
    assert!(
        configured(&a).is_none() && deconfigured(&a).is_none(),
        "{a:?}"
    );
    assert_eq!(c.applied(), Some(&lease));
    assert_eq!(c.timers().get(Timer::Renew), lease.renew_at());
}

#[test]
fn carrier_back_where_the_router_has_another_mac_starts_over() {
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    c.handle(t(20.0), Event::Link { carrier: true });
    let a = c.handle(t(20.001), from_router([2, 0, 0, 0, 0, 0x99]));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Moved)));
    let (d, _) = sent(&a);
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn carrier_back_where_nothing_answers_starts_over_within_a_second() {
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    c.handle(t(20.0), Event::Link { carrier: true });
    assert_eq!(c.poll_at(), Some(t(20.0) + DNA_WAIT));
    let a = c.handle(t(20.0) + DNA_WAIT, Event::Tick);
    assert_eq!(deconfigured(&a), Some((lease, Reason::Moved)));
    let (d, _) = sent(&a);
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn carrier_back_answered_by_a_nak_or_an_ack_from_the_server() {
    // NAK: another network's authoritative server.
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    let (req, _) = sent(&c.handle(t(20.0), Event::Link { carrier: true }));
    let a = c.handle(t(20.01), Event::Reply(&rx(&nak(req.xid(), OTHER_SERVER))));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Nak)));
    // ACK of the address held: bound again at once, with no conflict probe.
    let mut cfg = config();
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let mut c = Client::new(cfg, 7);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    while c.state() != StateName::Bound {
        let at = c.poll_at().unwrap();
        c.handle(at, Event::Tick);
    }
    c.handle(t(10.0), Event::Link { carrier: false });
    let (req, _) = sent(&c.handle(t(20.0), Event::Link { carrier: true }));
    let a = c.handle(t(20.01), Event::Reply(&rx(&ack(req.xid(), 3600))));
    assert_eq!(c.state(), StateName::Bound, "{a:?}");
    let (new, old) = configured(&a).unwrap();
    assert_eq!(old.map(|l| l.address), Some(new.address));
}

#[test]
fn a_flap_over_t1_renews_as_soon_as_the_router_is_back() {
    let (mut c, lease) = bound_knowing_router(100);
    let t1 = lease.renew_at().unwrap();
    c.handle(t1 - Duration::from_secs(1), Event::Link { carrier: false });
    // T1 passes without carrier: the renewal cannot go out, and none is sent.
    let a = c.handle(t1, Event::Tick);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let back = t1 + Duration::from_secs(5);
    c.handle(back, Event::Link { carrier: true });
    let a = c.handle(back, from_router(ROUTER_MAC));
    // Same network: the renewal that fell due meanwhile goes out now, to the server.
    let (req, dest) = sent(&a);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(dest, Dest::Unicast(SERVER));
    assert_eq!(c.state(), StateName::Renewing);
}

#[test]
fn without_carrier_nothing_is_sent_until_it_comes() {
    let mut c = client().without_carrier();
    let a = c.handle(t(0.0), Event::Start);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let at = c.poll_at().unwrap();
    let a = c.handle(at, Event::Tick);
    assert!(!a.iter().any(|a| matches!(a, Action::Send { .. })), "{a:?}");
    let (d, _) = sent(&c.handle(at + Duration::from_millis(1), Event::Link { carrier: true }));
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn a_probe_without_carrier_does_not_pass() {
    let mut cfg = config();
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let mut c = Client::new(cfg, 9);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert_eq!(c.state(), StateName::Probing);
    c.handle(t(0.03), Event::Link { carrier: false });
    let mut now = t(0.03);
    for _ in 0..20 {
        now = c.poll_at().unwrap();
        let a = c.handle(now, Event::Tick);
        assert!(configured(&a).is_none(), "bound with no probe sent: {a:?}");
    }
    assert_eq!(c.state(), StateName::Probing);
    c.handle(now, Event::Link { carrier: true });
    // The check starts over: its first probe goes out at once.
    assert_eq!(c.poll_at(), Some(now));
    let a = c.handle(now, Event::Tick);
    assert!(a.contains(&Action::ArpProbe { target: ADDR }), "{a:?}");
}

#[test]
fn an_interface_removed_ends_the_client_and_keeps_the_saved_lease() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(5.0), Event::Gone);
    assert_eq!(deconfigured(&a), Some((lease, Reason::Gone)));
    assert!(!a.contains(&Action::ForgetLease), "{a:?}");
    assert_eq!(c.applied(), None);
    assert_eq!(c.poll_at(), None);
}

// --- Defence of the address in use (RFC 5227 2.4) and FORCERENEW ----------------------------

fn claim(at: f64) -> (Instant, Event<'static>) {
    (
        t(at),
        Event::Arp(ArpSeen {
            sender_mac: [2, 0, 0, 0, 0, 0x66],
            sender_ip: ADDR,
            target_ip: ADDR,
        }),
    )
}

#[test]
fn the_bound_address_is_watched_and_defended_once_then_given_up() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    // The filter lets through ARP whose sender claims the address, from binding on.
    assert_eq!(a.first(), Some(&Action::ArpDefend(Some(ADDR))), "{a:?}");
    // Our own announcement is no conflict.
    let a = c.handle(
        t(1.0),
        Event::Arp(ArpSeen {
            sender_mac: MAC,
            sender_ip: ADDR,
            target_ip: ADDR,
        }),
    );
    assert!(a.is_empty(), "{a:?}");
    // A first claim: one announcement, the lease stays.
    let (at, ev) = claim(5.0);
    let a = c.handle(at, ev);
    assert_eq!(a, vec![Action::ArpAnnounce { addr: ADDR }]);
    assert_eq!(c.state(), StateName::Bound);
    // Another one 10 s or more later: defended again.
    let (at, ev) = claim(15.0);
    assert_eq!(c.handle(at, ev), vec![Action::ArpAnnounce { addr: ADDR }]);
    // A second within 10 s: given up, released (never declined), and started over.
    let (at, ev) = claim(20.0);
    let a = c.handle(at, ev);
    let (lease, reason) = deconfigured(&a).expect("deconfigured");
    assert_eq!((lease.address, reason), (ADDR, Reason::Conflict));
    let kinds: Vec<(MessageType, Dest)> = a
        .iter()
        .filter_map(|a| match a {
            Action::Send { msg, dest } => Some((kind(msg), *dest)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (MessageType::Release, Dest::Unicast(SERVER)),
            (MessageType::Discover, Dest::Broadcast)
        ]
    );
    assert!(a.contains(&Action::ArpDefend(None)), "{a:?}");
}

#[test]
fn forcerenew_is_ignored() {
    let (mut c, _, lease) = bound(3600);
    let mut m = reply(
        0x1234,
        MessageType::ForceRenew,
        Ipv4Addr::UNSPECIFIED,
        Some(SERVER),
    );
    m.set_ciaddr(ADDR);
    for _ in 0..3 {
        let a = c.handle(t(10.0), Event::Reply(&rx(&m)));
        assert!(a.is_empty(), "{a:?}");
    }
    assert_eq!(c.state(), StateName::Bound);
    assert_eq!(c.poll_at(), lease.renew_at());
}
