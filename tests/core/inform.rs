//! Options only: DHCPINFORM (RFC 2131 3.4) from an address set by hand, on virtual time. What
//! the message carries, its retransmission, the ACK's options taken (and nothing else taken),
//! the refresh schedule, and the ends: release, stop, removal, carrier.

use super::*;
use dhcpc::core::{Inform, DEFAULT_INFORM_REFRESH};
use dhcpc::lease::{Informed, Route};

/// The address set by hand (ADDR/24), from which DHCPINFORM goes.
const HAND: Inform = Inform {
    address: ADDR,
    prefix_len: 24,
    refresh: Some(DEFAULT_INFORM_REFRESH),
};

fn informing(inform: Inform) -> Client {
    let mut cfg = config();
    cfg.inform = Some(inform);
    Client::new(cfg, 42)
}

/// An ACK to DHCPINFORM (`xid`): no address, no lease time; routers, DNS, domain, search
/// list, NTP, MTU and a classless route.
fn inform_ack(xid: u32) -> Message {
    let mut m = reply(xid, MessageType::Ack, Ipv4Addr::UNSPECIFIED, Some(SERVER));
    let o = m.opts_mut();
    o.insert(DhcpOption::Router(vec![SERVER]));
    o.insert(DhcpOption::DomainNameServer(vec![SERVER, OTHER_SERVER]));
    o.insert(DhcpOption::DomainName("lab.test".into()));
    o.insert(DhcpOption::NtpServers(vec![OTHER_SERVER]));
    o.insert(DhcpOption::InterfaceMtu(1400));
    m
}

fn options_configured(actions: &[Action]) -> Option<(Informed, Option<Informed>, Transition)> {
    actions.iter().find_map(|a| match a {
        Action::ConfigureOptions {
            info,
            previous,
            transition,
        } => Some((info.clone(), previous.clone(), *transition)),
        _ => None,
    })
}

/// Started, and the first DHCPINFORM's ACK taken at t=0.01: the client and the options.
fn informed() -> (Client, Informed) {
    let mut c = informing(HAND);
    let (m, _) = sent(&c.handle(t(0.0), Event::Start));
    let a = c.handle(t(0.01), Event::Reply(&rx(&inform_ack(m.xid()))));
    let (info, _, _) = options_configured(&a).expect("options configured");
    (c, info)
}

/// Nothing in `actions` touches an address or a lease.
fn no_lease_business(actions: &[Action]) {
    for a in actions {
        assert!(
            !matches!(
                a,
                Action::Configure { .. }
                    | Action::Deconfigure { .. }
                    | Action::Reapply { .. }
                    | Action::SaveLease(_)
                    | Action::ForgetLease
                    | Action::ArpProbe { .. }
                    | Action::ArpAnnounce { .. }
            ),
            "{a:?} in {actions:?}"
        );
    }
}

#[test]
fn dhcpinform_goes_from_the_address_set_by_hand_with_nothing_of_a_lease() {
    let mut cfg = config();
    cfg.inform = Some(HAND);
    // A lease time asked for elsewhere has no place in DHCPINFORM (RFC 2131 table 5).
    cfg.lease_time = Some(3600);
    let mut c = Client::new(cfg, 42);
    let a = c.handle(t(0.0), Event::Start);
    assert!(matches!(
        a.first(),
        Some(Action::Notify {
            transition: Transition::Preinit,
            lease: None
        })
    ));
    no_lease_business(&a);
    let (m, dest) = sent(&a);
    assert_eq!(kind(&m), MessageType::Inform);
    assert_eq!(dest, Dest::BroadcastFrom(ADDR));
    assert_eq!(m.ciaddr(), ADDR);
    assert_eq!(m.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(!m.flags().broadcast(), "the address can take unicast");
    for code in [
        OptionCode::RequestedIpAddress,
        OptionCode::AddressLeaseTime,
        OptionCode::ServerIdentifier,
        OptionCode::RapidCommit,
    ] {
        assert!(opt(&m, code).is_none(), "{code:?} in {m:?}");
    }
    assert!(opt(&m, OptionCode::ClientIdentifier).is_some());
    let Some(DhcpOption::ParameterRequestList(asked)) = opt(&m, OptionCode::ParameterRequestList)
    else {
        panic!("no option 55 in {m:?}");
    };
    for wanted in [
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
        OptionCode::DomainSearch,
        OptionCode::NtpServers,
        OptionCode::ClasslessStaticRoute,
        OptionCode::InterfaceMtu,
    ] {
        assert!(asked.contains(&wanted), "{wanted:?} not asked for");
    }
    for leased in [
        OptionCode::AddressLeaseTime,
        OptionCode::Renewal,
        OptionCode::Rebinding,
    ] {
        assert!(!asked.contains(&leased), "{leased:?} asked for");
    }
    assert_eq!(c.state(), StateName::Informing);
}

#[test]
fn an_unanswered_dhcpinform_is_sent_again_with_rfc_2131s_backoff_for_ever() {
    let mut c = informing(HAND);
    let (first, _) = sent(&c.handle(t(0.0), Event::Start));
    let mut now = t(0.0);
    for n in 1..=8u32 {
        let at = c.poll_at().expect("a retransmission is due");
        let wait = at.saturating_since(now).as_millis() as u64;
        let base = backoff_base(n).as_millis() as u64;
        assert!(
            (base - 1000..=base + 1000).contains(&wait),
            "wait #{n}: {wait} ms, not {base} ± 1000"
        );
        let (m, dest) = sent(&c.handle(at, Event::Tick));
        assert_eq!(kind(&m), MessageType::Inform);
        assert_eq!(dest, Dest::BroadcastFrom(ADDR));
        assert_eq!(m.xid(), first.xid(), "one exchange, one xid");
        assert_eq!(u64::from(m.secs()), at.saturating_since(t(0.0)).as_secs());
        now = at;
    }
    assert_eq!(c.state(), StateName::Informing);
}

#[test]
fn the_acks_options_are_taken_and_nothing_else() {
    let mut c = informing(HAND);
    let (m, _) = sent(&c.handle(t(0.0), Event::Start));
    let mut ack = inform_ack(m.xid());
    // What RFC 2131 4.3.5 says the ACK must not carry is ignored: nothing is leased.
    ack.set_yiaddr(NEW_ADDR);
    ack.opts_mut().insert(DhcpOption::AddressLeaseTime(600));
    let a = c.handle(t(0.01), Event::Reply(&rx(&ack)));
    no_lease_business(&a);
    assert_eq!(sends(&a), 0, "{a:?}");
    let (info, previous, transition) = options_configured(&a).expect("options configured");
    assert_eq!(transition, Transition::Inform);
    assert_eq!(previous, None);
    assert_eq!((info.address, info.prefix_len), (ADDR, 24));
    assert_eq!(info.server_id, Some(SERVER));
    assert_eq!(info.routers, [SERVER]);
    assert_eq!(info.dns, [SERVER, OTHER_SERVER]);
    assert_eq!(info.domain.as_deref(), Some("lab.test"));
    assert_eq!(info.ntp, [OTHER_SERVER]);
    assert_eq!(info.mtu, Some(1400));
    assert_eq!(
        info.routes(),
        [Route {
            dest: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            gateway: SERVER
        }]
    );
    assert_eq!(c.state(), StateName::Informed);
    assert_eq!(c.informed(), Some(&info));
    assert_eq!(c.lease(), None);
    assert_eq!(c.applied(), None, "no lease is held");
    assert_eq!(c.timers().get(Timer::Retransmit), None);
}

#[test]
fn the_options_are_judged_against_the_address_set_by_hand() {
    let mut c = informing(HAND);
    let (m, _) = sent(&c.handle(t(0.0), Event::Start));
    // RFC 3442 routes and the search list (raw, as a server sends them): a router that is
    // our own address is no next hop, and 121 wins over 3.
    let options = [
        &[53, 1, 5, 54, 4, 198, 51, 100, 1][..],
        &[3, 4, 198, 51, 100, 1],
        // 121: 203.0.113.0/24 via ADDR (ours: dropped), 0/0 via .1.
        &[
            121, 13, 24, 203, 0, 113, 198, 51, 100, 77, 0, 198, 51, 100, 1,
        ],
        // 119: lab.test
        &[119, 10, 3, b'l', b'a', b'b', 4, b't', b'e', b's', b't', 0],
    ]
    .concat();
    let a = c.handle(
        t(0.01),
        Event::Reply(&raw(m.xid(), Ipv4Addr::UNSPECIFIED, &options)),
    );
    let (info, _, _) = options_configured(&a).expect("options configured");
    assert_eq!(info.search, ["lab.test"]);
    assert_eq!(
        info.routes(),
        [Route {
            dest: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            gateway: SERVER
        }],
        "121's route via our own address is dropped, and option 3 is ignored"
    );
}

#[test]
fn nak_offer_and_other_clients_replies_are_ignored_while_informing() {
    let mut c = informing(HAND);
    let (m, _) = sent(&c.handle(t(0.0), Event::Start));
    let due = c.poll_at();
    for r in [
        nak(m.xid(), SERVER),
        offer(m.xid()),
        reply(m.xid(), MessageType::Decline, ADDR, Some(SERVER)),
        inform_ack(m.xid().wrapping_add(1)),
    ] {
        let a = c.handle(t(0.01), Event::Reply(&rx(&r)));
        assert!(a.is_empty(), "{r:?} gave {a:?}");
        assert_eq!(c.state(), StateName::Informing);
        assert_eq!(c.poll_at(), due, "the schedule is not disturbed");
    }
    // The ACK still counts once it comes.
    let a = c.handle(t(0.02), Event::Reply(&rx(&inform_ack(m.xid()))));
    assert!(options_configured(&a).is_some());
}

#[test]
fn the_options_are_asked_for_again_after_the_refresh_from_the_server_that_answered() {
    let (mut c, first) = informed();
    let due = c.timers().get(Timer::Inform).expect("a refresh is due");
    let base = DEFAULT_INFORM_REFRESH.as_secs();
    let wait = due.saturating_since(t(0.01)).as_secs();
    // The retry policy's fuzz: 5 % either way, as T1's.
    assert!(
        (base * 95 / 100..=base * 105 / 100).contains(&wait),
        "{wait} s"
    );
    assert_eq!(c.poll_at(), Some(due));
    let (m, dest) = sent(&c.handle(due, Event::Tick));
    assert_eq!(kind(&m), MessageType::Inform);
    assert_eq!(dest, Dest::Unicast(SERVER), "to the server that answered");
    assert_eq!(m.ciaddr(), ADDR);
    assert_eq!(c.state(), StateName::Informing);
    // Unanswered, it goes to any server.
    let at = c.poll_at().unwrap();
    let (again, dest) = sent(&c.handle(at, Event::Tick));
    assert_eq!(dest, Dest::BroadcastFrom(ADDR));
    assert_eq!(again.xid(), m.xid());
    // The options held stay meanwhile, and the next ACK replaces them.
    assert_eq!(c.informed(), Some(&first));
    let mut changed = inform_ack(m.xid());
    changed
        .opts_mut()
        .insert(DhcpOption::DomainNameServer(vec![OTHER_SERVER]));
    let a = c.handle(at + Duration::from_millis(5), Event::Reply(&rx(&changed)));
    let (info, previous, _) = options_configured(&a).expect("options configured");
    assert_eq!(previous.as_ref(), Some(&first));
    assert_eq!(info.dns, [OTHER_SERVER]);
    assert!(c.timers().get(Timer::Inform).unwrap() > at + Duration::from_secs(base / 2));
}

#[test]
fn a_refresh_of_never_asks_once() {
    let mut c = informing(Inform {
        refresh: None,
        ..HAND
    });
    let (m, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&inform_ack(m.xid()))));
    assert_eq!(c.state(), StateName::Informed);
    assert_eq!(c.poll_at(), None, "nothing more is due");
    // Asked to renew (dhcpc -n), it asks at once all the same.
    let (m, dest) = sent(&c.handle(t(100.0), Event::Renew));
    assert_eq!(
        (kind(&m), dest),
        (MessageType::Inform, Dest::Unicast(SERVER))
    );
}

#[test]
fn no_answer_within_the_timeout_is_said_and_the_client_goes_on() {
    let mut cfg = config();
    cfg.inform = Some(HAND);
    cfg.acquire_timeout = Some(Duration::from_secs(30));
    let mut c = Client::new(cfg, 42);
    c.handle(t(0.0), Event::Start);
    let mut said = None;
    let mut now = t(0.0);
    while now < t(40.0) {
        now = c.poll_at().unwrap();
        let a = c.handle(now, Event::Tick);
        if let Some(why) = no_lease(&a) {
            assert!(a.iter().any(|x| matches!(
                x,
                Action::Notify {
                    transition: Transition::Fail,
                    ..
                }
            )));
            said = Some((now, why));
        }
    }
    let (at, why) = said.expect("the timeout is said");
    assert_eq!(at, t(30.0));
    assert_eq!(why, "no DHCP server answered");
    assert_eq!(c.state(), StateName::Informing, "still asking");
}

#[test]
fn release_takes_the_options_off_and_sends_nothing() {
    let (mut c, info) = informed();
    let a = c.handle(t(5.0), Event::Release);
    assert_eq!(sends(&a), 0, "nothing is leased: no DHCPRELEASE");
    assert!(
        !a.contains(&Action::ForgetLease),
        "no saved lease is touched"
    );
    assert_eq!(
        a,
        [Action::DeconfigureOptions {
            info,
            reason: Reason::Released,
            transition: Transition::Release
        }]
    );
    assert_eq!(c.informed(), None);
    assert_eq!(c.poll_at(), None);
}

#[test]
fn stop_keeps_the_options_and_removal_drops_them() {
    let (mut c, info) = informed();
    let a = c.handle(t(5.0), Event::Stop);
    assert_eq!(
        a,
        [Action::Notify {
            transition: Transition::Stop,
            lease: None
        }]
    );
    assert_eq!(c.informed(), Some(&info));
    let (mut c, info) = informed();
    let a = c.handle(t(5.0), Event::Gone);
    assert_eq!(
        a,
        [Action::DeconfigureOptions {
            info,
            reason: Reason::Gone,
            transition: Transition::Stop
        }]
    );
}

#[test]
fn carrier_back_asks_any_server_at_once_and_nothing_goes_out_without_it() {
    let (mut c, info) = informed();
    assert!(c.handle(t(1.0), Event::Link { carrier: false }).is_empty());
    // The refresh falls due without carrier: nothing reaches the wire.
    let due = c.poll_at().unwrap();
    assert_eq!(sends(&c.handle(due, Event::Tick)), 0);
    let back = due + Duration::from_secs(1);
    let a = c.handle(back, Event::Link { carrier: true });
    let (m, dest) = sent(&a);
    assert_eq!(kind(&m), MessageType::Inform);
    assert_eq!(
        dest,
        Dest::BroadcastFrom(ADDR),
        "the link may be elsewhere now"
    );
    assert_eq!(
        c.informed(),
        Some(&info),
        "the options stay until an answer"
    );
}

#[test]
fn a_saved_lease_is_not_looked_at_and_nothing_is_defended() {
    let saved = saved_lease(t(0.0), 3600);
    let mut cfg = config();
    cfg.inform = Some(HAND);
    let mut c = Client::new(cfg, 42)
        .with_saved_lease(saved.clone())
        .with_leftover(saved);
    let a = c.handle(t(1.0), Event::Start);
    no_lease_business(&a);
    let (m, _) = sent(&a);
    assert_eq!(kind(&m), MessageType::Inform);
    let a = c.handle(t(1.01), Event::Reply(&rx(&inform_ack(m.xid()))));
    assert!(
        !a.iter()
            .any(|x| matches!(x, Action::ArpDefend(Some(_)) | Action::ArpWatch(_))),
        "the address set by hand is not ours to defend: {a:?}"
    );
}
