//! Reading a lease out of a server's reply: the captured dnsmasq ACK, and what is refused or
//! cleaned up.

use dhcpc::addr;
use dhcpc::frame;
use dhcpc::lease::{self, Lease, LeaseError, INFINITE};
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire::{
    self,
    v4::{DhcpOption, Message, OptionCode},
};
use std::net::Ipv4Addr;
use std::time::Duration;

const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const YIADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 134);

fn captured(name: &str) -> Message {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let f = std::fs::read(&path).unwrap();
    wire::decode(frame::parse(&f, false).unwrap().payload).unwrap()
}

/// The lease in a server's message, read as the client reads it: parsed at the boundary, then
/// checked.
fn from_reply(m: &Message, start: Instant) -> Result<Lease, LeaseError> {
    let r = Reply::parse(&wire::encode(m).unwrap(), SERVER).unwrap();
    Lease::from_reply(&r, start)
}

fn ack() -> Message {
    captured("dnsmasq-4-ack.eth")
}

fn with(mut m: Message, opt: DhcpOption) -> Message {
    m.opts_mut().insert(opt);
    m
}

fn without(mut m: Message, code: OptionCode) -> Message {
    m.opts_mut().remove(code);
    m
}

#[test]
fn lease_from_captured_ack() {
    let start = Instant::from_secs(1000);
    let l = from_reply(&ack(), start).unwrap();
    assert_eq!(
        l,
        Lease {
            address: YIADDR,
            prefix_len: 24,
            broadcast: Ipv4Addr::new(198, 51, 100, 255),
            server_id: SERVER,
            // dnsmasq names itself as the next server (siaddr).
            next_server: Some(SERVER),
            routers: vec![SERVER],
            dns: vec![SERVER, Ipv4Addr::new(198, 51, 100, 2)],
            domain: Some("lab.test".into()),
            mtu: None,
            classless_routes: vec![],
            search: vec![],
            ntp: vec![],
            // Compared below, code by code.
            options: l.options.clone(),
            lease_secs: 3600,
            t1_secs: 1800,
            t2_secs: 3150,
            start,
        }
    );
    let codes: Vec<u8> = l.options.iter().map(|(c, _)| c).collect();
    assert_eq!(codes, [1, 3, 6, 15, 28, 51, 53, 54, 58, 59]);
    assert!(!l.is_infinite());
    assert_eq!(l.renew_at(), Some(Instant::from_secs(2800)));
    assert_eq!(l.rebind_at(), Some(Instant::from_secs(4150)));
    assert_eq!(l.expires_at(), Some(Instant::from_secs(4600)));
    assert_eq!(l.remaining_secs(Instant::from_secs(1600)), 3000);
    assert_eq!(l.remaining_secs(Instant::from_secs(9999)), 0);
    assert_eq!(
        l.to_string(),
        "198.51.100.134/24 brd 198.51.100.255, router 198.51.100.1, \
         dns 198.51.100.1,198.51.100.2, domain lab.test, lease 1h, server 198.51.100.1"
    );
}

#[test]
fn offer_gives_the_same_lease() {
    let start = Instant::from_secs(5);
    // The same but for the message type among the options received.
    let without_options = |l: Lease| Lease {
        options: Default::default(),
        ..l
    };
    assert_eq!(
        from_reply(&captured("dnsmasq-2-offer.eth"), start).map(without_options),
        from_reply(&ack(), start).map(without_options)
    );
}

#[test]
fn refused_replies() {
    for bad in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(0, 1, 2, 3),
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(240, 0, 0, 1),
        Ipv4Addr::BROADCAST,
    ] {
        let mut m = ack();
        m.set_yiaddr(bad);
        assert_eq!(
            from_reply(&m, Instant::ZERO),
            Err(LeaseError::NotUnicast(bad))
        );
    }
    assert_eq!(
        from_reply(&without(ack(), OptionCode::ServerIdentifier), Instant::ZERO),
        Err(LeaseError::NoServerId(None))
    );
    assert_eq!(
        from_reply(&without(ack(), OptionCode::AddressLeaseTime), Instant::ZERO),
        Err(LeaseError::NoLeaseTime(None))
    );
    let mask = Ipv4Addr::new(255, 0, 255, 0);
    assert_eq!(
        from_reply(&with(ack(), DhcpOption::SubnetMask(mask)), Instant::ZERO),
        Err(LeaseError::BadSubnetMask(mask))
    );
}

/// Found by the `core` fuzz target: an ACK of a 169.254.0.0/16 address was taken (and, when
/// it was the link-local fallback's own address, configured and then removed at once as the
/// fallback stood down). RFC 3927 1.6: DHCP does not hand out link-local addresses.
#[test]
fn a_link_local_address_is_refused_from_an_ack_and_from_a_saved_lease() {
    for a in [
        Ipv4Addr::new(169, 254, 0, 1),
        Ipv4Addr::new(169, 254, 5, 5),
        Ipv4Addr::new(169, 254, 255, 254),
    ] {
        let mut m = ack();
        m.set_yiaddr(a);
        assert_eq!(from_reply(&m, Instant::ZERO), Err(LeaseError::LinkLocal(a)));
        assert!(LeaseError::LinkLocal(a).to_string().contains("RFC 3927"));
        let mut saved = from_reply(&ack(), Instant::ZERO).unwrap();
        saved.address = a;
        saved.broadcast = dhcpc::addr::broadcast_of(a, saved.prefix_len);
        assert_eq!(saved.check(), Err(LeaseError::LinkLocal(a)));
    }
    // Its neighbours are ordinary addresses.
    let mut m = ack();
    m.set_yiaddr(Ipv4Addr::new(169, 253, 0, 1));
    m.opts_mut()
        .insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 0, 0)));
    assert!(from_reply(&m, Instant::ZERO).is_ok());
}

#[test]
fn defaults_when_options_are_missing() {
    let mut m = ack();
    for code in [
        OptionCode::SubnetMask,
        OptionCode::BroadcastAddr,
        OptionCode::Renewal,
        OptionCode::Rebinding,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
    ] {
        m = without(m, code);
    }
    let l = from_reply(&m, Instant::ZERO).unwrap();
    // 198.x is class C.
    assert_eq!(l.prefix_len, 24);
    assert_eq!(l.broadcast, Ipv4Addr::new(198, 51, 100, 255));
    assert_eq!((l.t1_secs, l.t2_secs), (1800, 3150));
    assert!(l.routers.is_empty() && l.dns.is_empty());
    assert_eq!(l.domain, None);
    assert!(l.to_string().contains("no router, no dns"));

    m.set_yiaddr(Ipv4Addr::new(10, 1, 2, 3));
    let l = from_reply(&m, Instant::ZERO).unwrap();
    assert_eq!(
        (l.prefix_len, l.broadcast),
        (8, Ipv4Addr::new(10, 255, 255, 255))
    );
}

#[test]
fn unusable_routers_and_dns_are_dropped() {
    let m = with(
        ack(),
        DhcpOption::Router(vec![
            Ipv4Addr::UNSPECIFIED,
            SERVER,
            Ipv4Addr::BROADCAST,
            SERVER,
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(198, 51, 100, 254),
        ]),
    );
    let m = with(
        m,
        DhcpOption::DomainNameServer(vec![Ipv4Addr::new(239, 1, 1, 1), SERVER]),
    );
    let l = from_reply(&m, Instant::ZERO).unwrap();
    assert_eq!(l.routers, [SERVER, Ipv4Addr::new(198, 51, 100, 254)]);
    assert_eq!(l.dns, [SERVER]);
}

#[test]
fn routers_that_cannot_be_a_next_hop_are_dropped() {
    // The leased address itself, its subnet's network and broadcast addresses.
    let m = with(
        ack(),
        DhcpOption::Router(vec![
            YIADDR,
            Ipv4Addr::new(198, 51, 100, 0),
            Ipv4Addr::new(198, 51, 100, 255),
            Ipv4Addr::new(198, 51, 100, 254),
        ]),
    );
    let l = from_reply(&m, Instant::ZERO).unwrap();
    assert_eq!(l.routers, [Ipv4Addr::new(198, 51, 100, 254)]);
    // Outside the subnet is fine (reached on-link); on a /31 both addresses are hosts.
    let outside = Ipv4Addr::new(203, 0, 113, 1);
    assert_eq!(lease::usable_routers(&[outside], YIADDR, 24), [outside]);
    let a = Ipv4Addr::new(198, 51, 100, 134);
    let peer = Ipv4Addr::new(198, 51, 100, 135);
    assert_eq!(lease::usable_routers(&[a, peer], a, 31), [peer]);
    // The same for the routers of classless routes (on-link, 0.0.0.0, is fine).
    let l = ack_plus(&[
        121, 17, 0, 198, 51, 100, 134, 8, 10, 198, 51, 100, 255, 8, 172, 0, 0, 0, 0,
    ]);
    assert_eq!(l.classless_routes, [route([172, 0, 0, 0], 8, [0, 0, 0, 0])]);
    let none: [Ipv4Addr; 0] = [];
    assert_eq!(
        lease::usable_routers(&[Ipv4Addr::new(198, 51, 100, 128)], a, 25),
        none
    );
}

#[test]
fn domain_names_are_cleaned() {
    for (sent, kept) in [
        ("lab.test.", Some("lab.test")),
        ("lab.test\0", Some("lab.test")),
        ("a_b-c.example", Some("a_b-c.example")),
        ("lab.test; rm -rf /", None),
        ("lab test", None),
        ("lab..test", None),
        ("", None),
        ("$(reboot)", None),
        ("x\nnameserver 203.0.113.66", None),
    ] {
        let l = from_reply(
            &with(ack(), DhcpOption::DomainName(sent.into())),
            Instant::ZERO,
        )
        .unwrap();
        assert_eq!(l.domain.as_deref(), kept, "{sent:?}");
    }
    let long = format!("{}.test", "a".repeat(64));
    let l = from_reply(&with(ack(), DhcpOption::DomainName(long)), Instant::ZERO).unwrap();
    assert_eq!(l.domain, None);
}

#[test]
fn mtu_below_68_is_ignored() {
    let l = from_reply(&with(ack(), DhcpOption::InterfaceMtu(1400)), Instant::ZERO);
    assert_eq!(l.unwrap().mtu, Some(1400));
    let l = from_reply(&with(ack(), DhcpOption::InterfaceMtu(67)), Instant::ZERO);
    assert_eq!(l.unwrap().mtu, None);
}

#[test]
fn broadcast_option_sanity() {
    let l = from_reply(
        &with(
            ack(),
            DhcpOption::BroadcastAddr(Ipv4Addr::new(224, 0, 0, 1)),
        ),
        Instant::ZERO,
    )
    .unwrap();
    assert_eq!(l.broadcast, Ipv4Addr::new(198, 51, 100, 255));
}

#[test]
fn renewal_times() {
    use lease::renewal_times as rt;
    assert_eq!(rt(3600, None, None), (1800, 3150));
    assert_eq!(rt(3600, Some(1800), Some(3150)), (1800, 3150));
    assert_eq!(rt(3600, Some(100), Some(200)), (100, 200));
    // T2 at or past the lease: default; T1 at or past T2: default.
    assert_eq!(rt(3600, None, Some(3600)), (1800, 3150));
    assert_eq!(rt(3600, Some(3200), None), (1800, 3150));
    // T2 below the default T1: T1 falls back to half of T2.
    assert_eq!(rt(3600, None, Some(1000)), (500, 1000));
    // T2 of 0 is no T2 at all (T1 could not be below it).
    assert_eq!(rt(3600, None, Some(0)), (1800, 3150));
    // A T1 of 0 or a T2 of 1 would leave the client renewing the moment it binds: defaults.
    assert_eq!(rt(3600, Some(0), Some(1)), (1800, 3150));
    assert_eq!(rt(3600, Some(0), Some(2)), (1, 2));
    assert_eq!(rt(INFINITE, Some(1), Some(2)), (INFINITE, INFINITE));
    assert_eq!(rt(INFINITE - 1, None, None), (2_147_483_647, 3_758_096_382));
    for lease in [0u32, 1, 2, 7, 8, 60, 86_400, u32::MAX - 1] {
        for t1 in [None, Some(0), Some(lease / 3), Some(lease)] {
            for t2 in [None, Some(0), Some(lease / 2), Some(lease)] {
                let (a, b) = rt(lease, t1, t2);
                assert!(a <= b && b <= lease, "{lease} {t1:?} {t2:?} -> {a} {b}");
                if lease >= 2 {
                    assert!(a < b && b < lease, "{lease} {t1:?} {t2:?} -> {a} {b}");
                }
                if lease >= lease::MIN_LEASE_SECS {
                    assert!(a >= 1, "{lease} {t1:?} {t2:?} -> {a} {b}");
                }
            }
        }
    }
}

#[test]
fn infinite_lease_has_no_deadlines() {
    let l = from_reply(
        &with(ack(), DhcpOption::AddressLeaseTime(INFINITE)),
        Instant::from_secs(10),
    )
    .unwrap();
    assert!(l.is_infinite());
    assert_eq!(
        (l.renew_at(), l.rebind_at(), l.expires_at()),
        (None, None, None)
    );
    assert_eq!(l.remaining_secs(Instant::from_secs(1 << 40)), INFINITE);
    assert!(l.to_string().contains("lease infinite"));
    let l = from_reply(
        &with(ack(), DhcpOption::AddressLeaseTime(INFINITE - 1)),
        Instant::from_secs(10),
    )
    .unwrap();
    assert_eq!(
        l.expires_at(),
        Some(Instant::from_secs(10) + Duration::from_secs(u64::from(INFINITE - 1)))
    );
}

#[test]
fn masks_and_broadcasts() {
    assert_eq!(
        addr::mask_to_prefix(Ipv4Addr::new(255, 255, 255, 0)),
        Some(24)
    );
    assert_eq!(
        addr::mask_to_prefix(Ipv4Addr::new(255, 255, 255, 255)),
        Some(32)
    );
    assert_eq!(addr::mask_to_prefix(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
    assert_eq!(
        addr::mask_to_prefix(Ipv4Addr::new(255, 255, 254, 0)),
        Some(23)
    );
    assert_eq!(addr::mask_to_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
    assert_eq!(addr::mask_to_prefix(Ipv4Addr::new(0, 0, 0, 255)), None);
    assert_eq!(
        addr::broadcast_of(YIADDR, 24),
        Ipv4Addr::new(198, 51, 100, 255)
    );
    assert_eq!(addr::broadcast_of(YIADDR, 32), YIADDR);
    assert_eq!(addr::broadcast_of(YIADDR, 0), Ipv4Addr::BROADCAST);
    assert_eq!(
        addr::broadcast_of(YIADDR, 30),
        Ipv4Addr::new(198, 51, 100, 135)
    );
}

#[test]
fn human_secs() {
    assert_eq!(lease::human_secs(0), "0s");
    assert_eq!(lease::human_secs(3600), "1h");
    assert_eq!(lease::human_secs(3150), "52m30s");
    assert_eq!(lease::human_secs(90_061), "1d1h1m1s");
    assert_eq!(lease::human_secs(INFINITE), "infinite");
}

// ---------------------------------------------------------------------------------------------
// The lease check, one rule at a time (issue 8).

#[test]
fn rule_a_lease_lasts_at_least_four_seconds() {
    for secs in [0u32, 1, 3] {
        assert_eq!(
            from_reply(
                &with(ack(), DhcpOption::AddressLeaseTime(secs)),
                Instant::ZERO
            ),
            Err(LeaseError::TooShort(secs))
        );
        assert_eq!(
            lease::check_lease_time(secs),
            Err(LeaseError::TooShort(secs))
        );
    }
    let l = from_reply(&with(ack(), DhcpOption::AddressLeaseTime(4)), Instant::ZERO).unwrap();
    assert_eq!((l.lease_secs, l.t1_secs, l.t2_secs), (4, 2, 3));
    assert_eq!(
        LeaseError::TooShort(0).to_string(),
        "lease time 0 s is under the minimum of 4 s"
    );
}

#[test]
fn rule_a_zero_mask_is_refused() {
    let m = with(ack(), DhcpOption::SubnetMask(Ipv4Addr::UNSPECIFIED));
    assert_eq!(from_reply(&m, Instant::ZERO), Err(LeaseError::BadPrefix(0)));
    assert!(lease::check_prefix(33).is_err());
    assert!(lease::check_prefix(1).is_ok() && lease::check_prefix(32).is_ok());
}

#[test]
fn rule_a_non_contiguous_mask_is_refused() {
    for mask in [Ipv4Addr::new(255, 0, 255, 0), Ipv4Addr::new(0, 0, 0, 255)] {
        let m = with(ack(), DhcpOption::SubnetMask(mask));
        assert_eq!(
            from_reply(&m, Instant::ZERO),
            Err(LeaseError::BadSubnetMask(mask))
        );
    }
}

#[test]
fn rule_the_address_is_not_its_subnets_network_or_broadcast_address() {
    let at = |addr: Ipv4Addr, mask: Ipv4Addr| {
        let mut m = with(ack(), DhcpOption::SubnetMask(mask));
        m.opts_mut().remove(OptionCode::BroadcastAddr);
        m.set_yiaddr(addr);
        from_reply(&m, Instant::ZERO)
    };
    let m24 = Ipv4Addr::new(255, 255, 255, 0);
    let net = Ipv4Addr::new(198, 51, 100, 0);
    let brd = Ipv4Addr::new(198, 51, 100, 255);
    assert_eq!(at(net, m24), Err(LeaseError::NetworkAddress(net, 24)));
    assert_eq!(at(brd, m24), Err(LeaseError::BroadcastAddress(brd, 24)));
    // RFC 3021 /31 and /32 have no network or broadcast address.
    assert!(at(net, Ipv4Addr::new(255, 255, 255, 254)).is_ok());
    assert!(at(brd, Ipv4Addr::new(255, 255, 255, 255)).is_ok());
    let a30 = Ipv4Addr::new(198, 51, 100, 132);
    assert!(at(a30, Ipv4Addr::new(255, 255, 255, 252)).is_err());
}

#[test]
fn rule_option_28_counts_only_as_the_subnets_broadcast() {
    let elsewhere = Ipv4Addr::new(198, 51, 100, 127);
    let l = from_reply(
        &with(ack(), DhcpOption::BroadcastAddr(elsewhere)),
        Instant::ZERO,
    )
    .unwrap();
    assert_eq!(l.broadcast, Ipv4Addr::new(198, 51, 100, 255));
    assert_eq!(
        lease::check_broadcast(YIADDR, 24, elsewhere),
        Err(LeaseError::BadBroadcast(elsewhere))
    );
}

#[test]
fn rule_a_server_id_that_cannot_be_read_says_why() {
    let mut b = wire::encode(&without(ack(), OptionCode::ServerIdentifier)).unwrap();
    // Option 54 of three bytes, in the padding after END: put it before END.
    let end = b.iter().rposition(|&x| x == 255).unwrap();
    b.splice(end..end, [54, 3, 198, 51, 100]);
    let r = Reply::parse(&b, SERVER).unwrap();
    let e = Lease::from_reply(&r, Instant::ZERO).unwrap_err();
    assert!(matches!(e, LeaseError::NoServerId(Some(_))), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("no server identifier (option 54) (malformed"),
        "{e}"
    );
    assert!(lease::check_server_id(Ipv4Addr::BROADCAST).is_err());
}

#[test]
fn rule_times_are_in_order() {
    assert!(lease::check_times(1, 2, 4).is_ok());
    assert!(lease::check_times(0, 2, 4).is_err());
    assert!(lease::check_times(2, 2, 4).is_err());
    assert!(lease::check_times(1, 4, 4).is_err());
    assert!(lease::check_times(0, 0, INFINITE).is_ok());
}

#[test]
fn rules_for_what_a_saved_lease_may_hold() {
    assert!(lease::check_server(Ipv4Addr::new(224, 0, 0, 1)).is_err());
    assert!(lease::check_domain("lab.test").is_ok());
    assert!(lease::check_domain("lab.test; reboot").is_err());
    assert!(
        lease::check_domain("lab.test.").is_err(),
        "stored without the dot"
    );
    assert!(lease::check_mtu(67).is_err() && lease::check_mtu(68).is_ok());
    assert!(lease::check_address(Ipv4Addr::new(127, 0, 0, 1)).is_err());
}

// ---------------------------------------------------------------------------------------------
// Options of real networks (issue 9).

fn route(dest: [u8; 4], prefix_len: u8, gateway: [u8; 4]) -> addr::Route {
    addr::Route {
        dest: Ipv4Addr::from(dest),
        prefix_len,
        gateway: Ipv4Addr::from(gateway),
    }
}

/// The captured ACK with raw options (code, data) added.
fn ack_plus(extra: &[u8]) -> Lease {
    let mut b = wire::encode(&ack()).unwrap();
    let end = b.iter().rposition(|&x| x == 255).unwrap();
    b.splice(end..end, extra.iter().copied());
    Lease::from_reply(&Reply::parse(&b, SERVER).unwrap(), Instant::ZERO).unwrap()
}

#[test]
fn rfc3442_classless_routes_replace_option_3() {
    // Option 3 says 198.51.100.1; option 121 a default via .254 and 10/8 via .253.
    let l = ack_plus(&[121, 11, 0, 198, 51, 100, 254, 8, 10, 198, 51, 100, 253]);
    assert_eq!(l.routers, [SERVER], "option 3 is kept, for what it says");
    assert_eq!(
        l.routes(),
        [
            route([0, 0, 0, 0], 0, [198, 51, 100, 254]),
            route([10, 0, 0, 0], 8, [198, 51, 100, 253])
        ]
    );
    // Without 121: the default route via option 3's first router.
    assert_eq!(
        ack_plus(&[]).routes(),
        [route([0, 0, 0, 0], 0, [198, 51, 100, 1])]
    );
    // 249 when there is no 121; 121 when there are both.
    let l = ack_plus(&[249, 5, 0, 198, 51, 100, 9]);
    assert_eq!(l.routes(), [route([0, 0, 0, 0], 0, [198, 51, 100, 9])]);
    let l = ack_plus(&[249, 5, 0, 198, 51, 100, 9, 121, 5, 0, 198, 51, 100, 8]);
    assert_eq!(l.routes(), [route([0, 0, 0, 0], 0, [198, 51, 100, 8])]);
    // A malformed 121 is ignored as a whole: option 3 again.
    let l = ack_plus(&[121, 5, 40, 198, 51, 100, 8]);
    assert_eq!(l.routes(), [route([0, 0, 0, 0], 0, [198, 51, 100, 1])]);
    // 121 with no default route: none (option 3 still ignored).
    let l = ack_plus(&[121, 6, 8, 10, 198, 51, 100, 253]);
    assert!(l.routes().iter().all(|r| !r.is_default()));
    assert!(l.to_string().contains("no router, 1 more route"), "{l}");
}

#[test]
fn search_domains_put_option_15_first_then_119() {
    let mut names = Vec::new();
    for n in ["a.test", "lab.test", "b.test"] {
        for label in n.split('.') {
            names.push(label.len() as u8);
            names.extend_from_slice(label.as_bytes());
        }
        names.push(0);
    }
    let l = ack_plus(&[&[119, names.len() as u8][..], &names].concat());
    assert_eq!(l.search, ["a.test", "lab.test", "b.test"]);
    assert_eq!(l.search_domains(), ["lab.test", "a.test", "b.test"]);
}

#[test]
fn rule_routes_of_a_saved_lease_are_sane() {
    assert!(lease::check_route(&route([10, 0, 0, 0], 8, [198, 51, 100, 1])).is_ok());
    assert!(lease::check_route(&route([10, 0, 0, 0], 8, [0, 0, 0, 0])).is_ok());
    assert!(lease::check_route(&route([10, 0, 0, 1], 8, [198, 51, 100, 1])).is_err());
    assert!(lease::check_route(&route([10, 0, 0, 0], 8, [255, 255, 255, 255])).is_err());
    assert!(lease::check_route(&route([10, 0, 0, 0], 33, [198, 51, 100, 1])).is_err());
}

#[test]
fn an_on_link_route_to_the_leases_own_subnet_is_left_to_the_kernel() {
    // 121: the leased 198.51.100.0/24 on-link (the kernel's own prefix route), and a default.
    let l = ack_plus(&[121, 13, 24, 198, 51, 100, 0, 0, 0, 0, 0, 198, 51, 100, 1]);
    assert_eq!(l.classless_routes.len(), 2);
    assert_eq!(l.routes(), [route([0, 0, 0, 0], 0, [198, 51, 100, 1])]);
}

#[test]
fn options_keep_every_option_in_order_in_one_allocation() {
    use dhcpc::lease::Options;
    let long = vec![7u8; 300]; // joined from several option 119 parts (RFC 3396)
    let o: Options = vec![
        (1, vec![255, 255, 255, 0]),
        (119, long.clone()),
        (12, vec![]),
    ]
    .into();
    let got: Vec<(u8, Vec<u8>)> = o.iter().map(|(c, d)| (c, d.to_vec())).collect();
    assert_eq!(
        got,
        [(1, vec![255, 255, 255, 0]), (119, long), (12, vec![])]
    );
    assert_eq!(o.len(), 3);
    assert_eq!(o.get(12), Some(&[][..]));
    assert_eq!(o.get(3), None);
    assert!(Options::default().is_empty());
    assert_eq!(Options::default().iter().count(), 0);
}
