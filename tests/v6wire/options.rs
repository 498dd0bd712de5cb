//! The typed DHCPv6 reply's options outside the IAs, one test per rule, and whole messages:
//! unknown options kept, dhcproto's encoding and the captured dnsmasq messages read back.

use crate::build::*;
use dhcpc::v6::reply;
use dhcpc::v6::{IaAddr, Kind6, StatusCode, INFINITY};

#[test]
fn preference_is_one_byte() {
    assert_eq!(with(&[opt(7, &[255])]).preference, 255);
    assert_eq!(with(&[]).preference, 0);
    for d in [&[][..], &[1, 2]] {
        let r = with(&[opt(7, d)]);
        assert_eq!(r.preference, 0);
        assert!(
            dropped(&r, "option 7 (preference): length"),
            "{:?}",
            r.dropped
        );
    }
}

#[test]
fn rapid_commit_is_empty() {
    assert!(!with(&[]).rapid_commit);
    let r = with(&[opt(14, &[1])]);
    assert!(!r.rapid_commit);
    assert!(dropped(
        &r,
        "option 14 (rapid commit): length 1, should be 0"
    ));
}

#[test]
fn information_refresh_time_is_raised_to_600_seconds() {
    let irt = |t: u32| with(&[opt(32, &t.to_be_bytes())]).info_refresh;
    assert_eq!(irt(0), Some(600));
    assert_eq!(irt(599), Some(600));
    assert_eq!(irt(86400), Some(86400));
    assert_eq!(irt(INFINITY), Some(INFINITY));
    assert_eq!(with(&[]).info_refresh, None);
    let r = with(&[opt(32, &[0, 0, 1])]);
    assert_eq!(r.info_refresh, None);
    assert!(dropped(
        &r,
        "option 32 (information refresh time): length 3"
    ));
}

#[test]
fn dns_servers_are_usable_unicast_addresses_each_once() {
    let r = with(&[addresses(
        23,
        &[
            "ff02::1",
            "2001:db8::53",
            "fe80::53",
            "::1",
            "2001:db8::53",
            "::",
            "fd00::53",
        ],
    )]);
    assert_eq!(r.dns, [a("2001:db8::53"), a("fd00::53")]);
    let r = with(&[addresses(23, &["fe80::53", "ff02::fb"])]);
    assert!(r.dns.is_empty());
    assert!(dropped(
        &r,
        "option 23 (DNS servers): holds no usable unicast address"
    ));
    for d in [vec![], vec![0x20; 15], vec![0x20; 17]] {
        let r = with(&[opt(23, &d)]);
        assert!(dropped(&r, "should be a multiple of 16"), "{:?}", r.dropped);
    }
}

#[test]
fn sntp_servers_follow_the_same_rule() {
    let r = with(&[addresses(31, &["ff05::101", "2001:db8::123"])]);
    assert_eq!(r.sntp, [a("2001:db8::123")]);
    let r = with(&[opt(31, &[1; 8])]);
    assert!(r.sntp.is_empty() && dropped(&r, "option 31 (SNTP servers)"));
}

#[test]
fn the_search_list_holds_valid_names_each_once() {
    let mut d = names(&["example.com", "example.com.", "-bad.example", "a_b.example"]);
    d.extend([3, b'a', b'.', b'b', 0]); // a label holding a dot
    d.extend([3, b'a', b' ', b'b', 0]);
    d.extend([1, b';', 0]);
    d.push(0); // the root
    let r = with(&[opt(24, &d)]);
    assert_eq!(r.search, ["example.com", "a_b.example"]);
    assert!(
        r.dropped.is_empty(),
        "names are skipped one by one: {:?}",
        r.dropped
    );
}

#[test]
fn a_search_list_that_does_not_frame_or_holds_nothing_is_left_out() {
    let compressed = [names(&["example.com"]), vec![0xc0, 0]].concat();
    let cases: [(Vec<u8>, &str); 5] = [
        (compressed, "compressed"),
        (vec![7, b'e', b'x', 0], "runs past the end"),
        (vec![3, b'c', b'o', b'm'], "not terminated"),
        (vec![1, b'*', 0], "no usable domain name"),
        (vec![], "no usable domain name"),
    ];
    for (d, why) in cases {
        let r = with(&[opt(24, &d)]);
        assert!(r.search.is_empty());
        assert!(
            dropped(&r, "option 24 (domain search list): "),
            "{:?}",
            r.dropped
        );
        assert!(dropped(&r, why), "{why}: {:?}", r.dropped);
    }
}

fn sub(code: u16, d: &[u8]) -> Vec<u8> {
    opt(code, d)
}

#[test]
fn ntp_suboptions_are_judged_one_by_one() {
    let d = [
        sub(1, &a("2001:db8::7b").octets()),
        sub(1, &a("fe80::7b").octets()),
        sub(2, &a("ff05::101").octets()),
        sub(2, &a("2001:db8::1").octets()),
        sub(3, &names(&["ntp.example.org"])),
        sub(3, &names(&["a.example", "b.example"])),
        sub(3, &names(&["bad name.example"])),
        sub(1, &[0x20; 4]),
        sub(9, b"unknown"),
        sub(1, &a("2001:db8::7b").octets()),
    ]
    .concat();
    let r = with(&[opt(56, &d)]);
    assert_eq!(r.ntp, ["2001:db8::7b", "ff05::101", "ntp.example.org"]);
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
}

#[test]
fn ntp_suboptions_that_do_not_frame_leave_the_option_out() {
    let r = with(&[opt(56, &[0, 1, 0, 16, 0x20, 1])]);
    assert!(r.ntp.is_empty());
    assert!(
        dropped(&r, "option 56 (NTP server): suboptions: option 1"),
        "{:?}",
        r.dropped
    );
    let r = with(&[opt(56, &sub(1, &a("::1").octets()))]);
    assert!(dropped(&r, "holds no usable server"), "{:?}", r.dropped);
}

#[test]
fn server_unicast_is_a_usable_unicast_address() {
    assert_eq!(
        with(&[opt(12, &a("2001:db8::fe").octets())]).unicast,
        Some(a("2001:db8::fe"))
    );
    for d in [
        a("fe80::1").octets().to_vec(),
        a("ff02::1:2").octets().to_vec(),
        vec![0x20; 4],
    ] {
        let r = with(&[opt(12, &d)]);
        assert_eq!(r.unicast, None);
        assert!(dropped(&r, "option 12 (server unicast)"), "{:?}", r.dropped);
    }
}

#[test]
fn unknown_options_are_kept_raw_in_order() {
    let r = with(&[
        opt(0, &[]),
        opt(82, &[0, 0, 0, 60]),
        opt(65535, &[1; 300]),
        opt(4, &[1, 2]),
    ]);
    let got: Vec<(u16, usize)> = r.options.iter().map(|(c, d)| (*c, d.len())).collect();
    assert_eq!(
        got,
        [
            (1, CLIENT_DUID.len()),
            (2, SERVER_DUID.len()),
            (0, 0),
            (82, 4),
            (65535, 300),
            (4, 2)
        ]
    );
    assert!(r.dropped.is_empty());
}

#[test]
fn no_dropped_line_carries_a_control_character_from_the_server() {
    let r = with(&[
        opt(24, &[4, b'a', b'\n', b'b', 0x1b, 0]),
        status(2, b"x\ny"),
        ia_na(1, 0, 0, &[status(2, b"\n")]),
    ]);
    for l in &r.dropped {
        assert!(!l.chars().any(char::is_control), "{l:?}");
    }
    assert!(!r.status.message.contains('\n'));
}

#[test]
fn a_reply_built_by_dhcproto_reads_the_same() {
    use dhcproto::v6::{DhcpOption, IAAddr, Message, MessageType, IANA};
    use dhcproto::Encodable;
    let mut m = Message::new_with_id(MessageType::Advertise, [0xab, 0xcd, 0xef]);
    let o = m.opts_mut();
    o.insert(DhcpOption::ServerId(SERVER_DUID.to_vec()));
    o.insert(DhcpOption::ClientId(CLIENT_DUID.to_vec()));
    o.insert(DhcpOption::Preference(10));
    let mut inner = dhcproto::v6::DhcpOptions::new();
    inner.insert(DhcpOption::IAAddr(IAAddr {
        addr: a("2001:db8::42"),
        preferred_life: 100,
        valid_life: 200,
        opts: Default::default(),
    }));
    o.insert(DhcpOption::IANA(IANA {
        id: 9,
        t1: 50,
        t2: 80,
        opts: inner,
    }));
    o.insert(DhcpOption::DomainNameServers(vec![a("2001:db8::53")]));
    let r = parse(&m.to_vec().unwrap());
    assert_eq!((r.kind, r.xid, r.preference), (Kind6::Advertise, XID, 10));
    assert_eq!((r.ias[0].iaid, r.ias[0].t1, r.ias[0].t2), (9, 50, 80));
    assert_eq!(
        addrs(&r, 0)[0],
        IaAddr {
            addr: a("2001:db8::42"),
            preferred: 100,
            valid: 200
        }
    );
    assert_eq!(r.dns, [a("2001:db8::53")]);
    assert_eq!(reply::validate(&r, CLIENT_DUID), Ok(()));
}

/// dnsmasq 2.90's ADVERTISE and REPLY, captured in a namespace lab (tests/data/README.md).
#[test]
fn the_captured_dnsmasq_advertise_and_reply_are_typed() {
    let dnsmasq_duid = [
        0, 1, 0, 1, 0x32, 0xa4, 0x4a, 0xe7, 0x76, 0x91, 0x0f, 0x18, 0xa7, 0x79,
    ];
    let lab_from = a("fe80::7491:fff:fe18:a779");
    let adv = reply::parse(include_bytes!("../data/dnsmasq6-advertise.dhcp6"), lab_from).unwrap();
    let rep = reply::parse(include_bytes!("../data/dnsmasq6-reply.dhcp6"), lab_from).unwrap();
    assert_eq!((adv.kind, adv.xid), (Kind6::Advertise, 0x12_3456));
    assert_eq!((rep.kind, rep.xid), (Kind6::Reply, 0x65_4321));
    for r in [&adv, &rep] {
        assert_eq!(r.server_id.as_deref(), Some(&dnsmasq_duid[..]));
        assert_eq!(reply::validate(r, CLIENT_DUID), Ok(()));
        assert_eq!(
            (r.ias.len(), r.ias[0].iaid, r.ias[0].t1, r.ias[0].t2),
            (1, 1, 1800, 3150)
        );
        assert_eq!(r.ias[0].status, StatusCode::Success);
        assert_eq!(r.dns, [a("2001:db8:1::53")]);
        assert_eq!(r.search, ["lab.example", "example.com"]);
        assert_eq!(r.ntp, ["2001:db8:1::7b"]);
        assert_eq!(r.sntp, [a("2001:db8:1::123")]);
        assert_eq!(r.info_refresh, Some(7200));
        assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    }
    let want = IaAddr {
        addr: a("2001:db8:1::184"),
        preferred: 3600,
        valid: 3600,
    };
    assert_eq!(addrs(&rep, 0), [want]);
    assert_eq!(addrs(&adv, 0).len(), 1);
}
