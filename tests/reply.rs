//! The typed reply: framing errors drop the message, each option is judged by its own rule
//! (one test per rule), and an option that fails is left out without costing the reply.

mod common;

use dhcpc::addr::Route;
use dhcpc::reply::{self, Reply};
use dhcpc::wire::v4::{MessageType, Opcode};
use dhcpc::wire::WireError;
use std::net::Ipv4Addr;

const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const YIADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 134);
/// Message type ACK, server id, lease time 3600.
const BASICS: &[u8] = &[53, 1, 5, 54, 4, 198, 51, 100, 1, 51, 4, 0, 0, 14, 16];

/// A BOOTREPLY with the given raw option bytes (after the cookie), then END.
fn raw_reply(options: &[u8]) -> Vec<u8> {
    common::raw_reply(0x1234_5678, YIADDR, MAC, &[options, &[255]].concat())
}

/// The reply for BASICS followed by `extra` options.
fn parse(extra: &[u8]) -> Reply {
    Reply::parse(&raw_reply(&[BASICS, extra].concat()), SERVER).expect("framing is good")
}

fn left_out(r: &Reply) -> Vec<u8> {
    r.left_out.iter().map(|l| l.code).collect()
}

#[test]
fn the_header_and_the_basics_are_typed() {
    let r = parse(&[]);
    assert_eq!(r.from, SERVER);
    assert_eq!(r.op, Opcode::BootReply);
    assert_eq!(r.xid, 0x1234_5678);
    assert_eq!(r.chaddr, MAC);
    assert_eq!(r.yiaddr, YIADDR);
    assert_eq!(r.kind, Some(MessageType::Ack));
    assert_eq!(r.server_id, Some(SERVER));
    assert_eq!(r.lease_secs, Some(3600));
    assert!(r.left_out.is_empty() && r.other.is_empty());
}

#[test]
fn framing_errors_still_drop_the_message() {
    let good = raw_reply(BASICS);
    assert_eq!(
        Reply::parse(&good[..200], SERVER),
        Err(WireError::Truncated { len: 200 })
    );
    let mut b = good.clone();
    b[236] = 0;
    assert!(matches!(
        Reply::parse(&b, SERVER),
        Err(WireError::BadMagicCookie(_))
    ));
    let mut b = raw_reply(BASICS);
    b.pop();
    b.extend_from_slice(&[3, 8, 198, 51]);
    assert_eq!(
        Reply::parse(&b, SERVER),
        Err(WireError::OptionOverrun { code: 3 })
    );
}

#[test]
fn a_garbled_fqdn_or_a_host_name_that_is_not_utf8_costs_only_itself() {
    // Option 81 with flags and rcodes, then a label running past its end; option 12 with a
    // byte that is not UTF-8. Neither is used for the lease: the reply stays whole.
    let r = parse(&[81, 6, 0, 0, 0, 9, b'a', b'b', 12, 3, b'a', 0xff, b'b']);
    assert_eq!(r.kind, Some(MessageType::Ack));
    assert_eq!(r.server_id, Some(SERVER));
    assert_eq!(r.hostname, None);
    assert_eq!(left_out(&r), [12]);
    // 81 is not an option the client uses: kept raw for hooks, as received.
    assert_eq!(r.other, [(81, vec![0, 0, 0, 9, b'a', b'b'])]);
}

#[test]
fn a_malformed_option_is_left_out_with_why() {
    let r = parse(&[
        1, 3, 255, 255, 255, 3, 5, 1, 2, 3, 4, 5, 26, 4, 0, 0, 5, 220,
    ]);
    assert_eq!(left_out(&r), [1, 3, 26]);
    assert_eq!(r.subnet_mask, None);
    assert!(r.routers.is_empty());
    assert_eq!(r.mtu, None);
    assert_eq!(
        r.left_out(26).unwrap().to_string(),
        "option 26 malformed: length 4, should be 2"
    );
}

#[test]
fn rule_message_type_must_be_known() {
    assert_eq!(reply::message_type(MessageType::Nak), Ok(MessageType::Nak));
    assert!(reply::message_type(MessageType::Unknown(99)).is_err());
    let r = Reply::parse(&raw_reply(&[53, 1, 99]), SERVER).unwrap();
    assert_eq!((r.kind, left_out(&r)), (None, vec![53]));
}

#[test]
fn rule_server_id_is_unicast() {
    assert_eq!(reply::server_id(SERVER), Ok(SERVER));
    for bad in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 1),
    ] {
        assert!(reply::server_id(bad).is_err(), "{bad}");
    }
    let r = Reply::parse(&raw_reply(&[53, 1, 5, 54, 4, 255, 255, 255, 255]), SERVER).unwrap();
    assert_eq!((r.server_id, left_out(&r)), (None, vec![54]));
}

#[test]
fn rule_renewal_and_rebinding_times_are_not_zero() {
    assert_eq!(reply::renewal_time(1), Ok(1));
    assert!(reply::renewal_time(0).is_err());
    let r = parse(&[58, 4, 0, 0, 0, 0, 59, 4, 0, 0, 0, 0]);
    assert_eq!((r.renewal_secs, r.rebinding_secs), (None, None));
    assert_eq!(left_out(&r), [58, 59]);
}

#[test]
fn rule_routers_and_dns_are_unicast_each_once() {
    let list = [
        Ipv4Addr::UNSPECIFIED,
        SERVER,
        Ipv4Addr::BROADCAST,
        SERVER,
        Ipv4Addr::new(198, 51, 100, 254),
    ];
    assert_eq!(
        reply::unicast_list(3, &list),
        Ok(vec![SERVER, Ipv4Addr::new(198, 51, 100, 254)])
    );
    assert!(reply::unicast_list(6, &[Ipv4Addr::new(239, 1, 1, 1)]).is_err());
    assert_eq!(reply::unicast_list(6, &[]), Ok(vec![]));
    let r = parse(&[6, 4, 239, 1, 1, 1]);
    assert!(r.dns.is_empty());
    assert_eq!(left_out(&r), [6]);
}

#[test]
fn rule_host_name_is_a_plausible_name() {
    assert_eq!(reply::host_name("box-1.lab"), Ok("box-1.lab".to_string()));
    for bad in ["box 1", "$(reboot)", "a..b", "", "x;y"] {
        assert!(reply::host_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn rule_domain_name_is_a_plausible_name() {
    // (More cases, through the lease, in tests/lease.rs.)
    assert_eq!(
        reply::domain_name("lab.test.\0"),
        Ok("lab.test".to_string())
    );
    assert!(reply::domain_name("lab.test; rm -rf /").is_err());
    // RFC 1123 2.1: no label begins or ends with '-' (one that does could also read as a
    // command-line option); '_' is kept, as real networks use it.
    for bad in [
        "-rf.test",
        "lab.-x",
        "lab-.test",
        "lab.test-",
        "-",
        "a.\0b",
        "a\nb.test",
    ] {
        assert!(reply::domain_name(bad).is_err(), "{bad:?}");
        assert!(reply::host_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        reply::domain_name("a-b.c_d.test"),
        Ok("a-b.c_d.test".into())
    );
    let r = parse(&[15, 8, b'-', b'r', b'f', b'.', b't', b'e', b's', b't']);
    assert_eq!((r.domain.clone(), left_out(&r)), (None, vec![15]));
    let label = "a".repeat(63);
    let ok = [&label[..], &label, &label, &"b".repeat(61)].join(".");
    assert_eq!(ok.len(), 253);
    assert!(reply::domain_name(&ok).is_ok());
    assert!(reply::domain_name(&format!("{ok}b")).is_err(), "254 bytes");
    // Not UTF-8: dhcproto cannot read it; left out, the reply kept.
    let r = parse(&[15, 3, b'a', 0xff, b'b']);
    assert_eq!((r.domain.clone(), left_out(&r)), (None, vec![15]));
}

#[test]
fn rule_mtu_is_at_least_68() {
    assert_eq!(reply::interface_mtu(68), Ok(68));
    assert!(reply::interface_mtu(67).is_err());
    assert_eq!(parse(&[26, 2, 5, 220]).mtu, Some(1500));
    let r = parse(&[26, 2, 0, 67]);
    assert_eq!((r.mtu, left_out(&r)), (None, vec![26]));
}

#[test]
fn rule_broadcast_is_neither_zero_nor_multicast() {
    assert!(reply::broadcast(Ipv4Addr::new(198, 51, 100, 255)).is_ok());
    assert!(reply::broadcast(Ipv4Addr::UNSPECIFIED).is_err());
    assert!(reply::broadcast(Ipv4Addr::new(224, 0, 0, 1)).is_err());
    let r = parse(&[28, 4, 224, 0, 0, 1]);
    assert_eq!((r.broadcast, left_out(&r)), (None, vec![28]));
    assert_eq!(
        parse(&[28, 4, 198, 51, 100, 255]).broadcast,
        Some(Ipv4Addr::new(198, 51, 100, 255))
    );
}

#[test]
fn rule_server_message_is_kept_printable_whatever_its_bytes() {
    assert_eq!(reply::server_message(b"no\x1b[2J\n!\0").unwrap(), "no[2J!");
    // Not UTF-8: still shown (so a NAK carrying it is not lost with it).
    let r = Reply::parse(
        &raw_reply(&[
            53, 1, 6, 54, 4, 198, 51, 100, 1, 56, 4, b'n', 0xff, b'o', 0xfe,
        ]),
        SERVER,
    )
    .unwrap();
    assert_eq!(r.kind, Some(MessageType::Nak));
    assert_eq!(r.message.as_deref(), Some("n\u{fffd}o\u{fffd}"));
    assert!(r.left_out.is_empty());
}

#[test]
fn options_the_client_does_not_use_are_kept_raw_in_order() {
    let r = parse(&[
        224, 2, 1, 2, 44, 4, 198, 51, 100, 7, 37, 1, 64, 42, 4, 198, 51, 100, 8,
    ]);
    assert_eq!(
        r.other,
        [
            (224, vec![1, 2]),
            (44, vec![198, 51, 100, 7]),
            (37, vec![64])
        ]
    );
    // And every option, typed or not, as received.
    let codes: Vec<u8> = r.options.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [53, 54, 51, 224, 44, 37, 42]);
    assert_eq!(r.ntp, [Ipv4Addr::new(198, 51, 100, 8)]);
}

#[test]
fn fuzzed_replies_never_panic() {
    let base = raw_reply(
        &[
            BASICS,
            &[
                1, 4, 255, 255, 255, 0, 3, 4, 198, 51, 100, 1, 12, 3, b'b', b'o', b'x',
            ],
            &[
                15, 8, b'l', b'a', b'b', b'.', b't', b'e', b's', b't', 56, 2, b'h', b'i',
            ],
        ]
        .concat(),
    );
    let mut rng = fastrand::Rng::with_seed(8);
    for _ in 0..50_000 {
        let mut b = base.clone();
        for _ in 0..rng.usize(1..6) {
            // Mostly the options, sometimes the header (op, hlen, chaddr, cookie).
            let from = if rng.u8(0..4) == 0 { 0 } else { 236 };
            let at = rng.usize(from..b.len());
            b[at] = rng.u8(..);
        }
        if let Ok(r) = Reply::parse(&b, SERVER) {
            let _ = dhcpc::lease::Lease::from_reply(&r, dhcpc::time::Instant::ZERO);
            let _ = dhcpc::lease::Lease::check_offer(&r);
        }
    }
}

fn route(dest: [u8; 4], prefix_len: u8, gateway: [u8; 4]) -> Route {
    Route {
        dest: Ipv4Addr::from(dest),
        prefix_len,
        gateway: Ipv4Addr::from(gateway),
    }
}

#[test]
fn rule_classless_routes_are_read_whole_or_not_at_all() {
    // 0.0.0.0/0 via .254, 10.0.0.0/8 via .253, 203.0.113.0/24 on-link, a host route /32.
    let data = [
        0, 198, 51, 100, 254, //
        8, 10, 198, 51, 100, 253, //
        24, 203, 0, 113, 0, 0, 0, 0, //
        32, 203, 0, 113, 9, 198, 51, 100, 252,
    ];
    assert_eq!(
        reply::classless_routes(&data),
        Ok(vec![
            route([0, 0, 0, 0], 0, [198, 51, 100, 254]),
            route([10, 0, 0, 0], 8, [198, 51, 100, 253]),
            route([203, 0, 113, 0], 24, [0, 0, 0, 0]),
            route([203, 0, 113, 9], 32, [198, 51, 100, 252]),
        ])
    );
    // Bits past the width are cleared: 10.1.2.3/8 is 10.0.0.0/8.
    assert_eq!(
        reply::classless_routes(&[16, 10, 1, 198, 51, 100, 1]),
        Ok(vec![route([10, 1, 0, 0], 16, [198, 51, 100, 1])])
    );
    assert_eq!(
        reply::classless_routes(&[12, 10, 255, 198, 51, 100, 1]),
        Ok(vec![route([10, 240, 0, 0], 12, [198, 51, 100, 1])])
    );
    // A router that is not unicast: that route only is skipped.
    assert_eq!(
        reply::classless_routes(&[8, 10, 224, 0, 0, 1, 0, 198, 51, 100, 1]),
        Ok(vec![route([0, 0, 0, 0], 0, [198, 51, 100, 1])])
    );
    // Malformed: the whole option goes.
    for bad in [
        &[33, 10, 0, 0, 0, 0, 198, 51, 100, 1][..],
        &[24, 10, 0, 0, 198, 51, 100][..],
        &[0, 198, 51, 100, 1, 8][..],
        &[][..],
    ] {
        assert!(reply::classless_routes(bad).is_err(), "{bad:?}");
    }
    let r = parse(&[121, 4, 33, 1, 2, 3, 249, 5, 0, 198, 51, 100, 9]);
    assert_eq!(
        (r.classless_routes.clone(), left_out(&r)),
        (None, vec![121])
    );
    assert_eq!(
        r.ms_classless_routes,
        Some(vec![route([0, 0, 0, 0], 0, [198, 51, 100, 9])])
    );
}

#[test]
fn rule_search_list_is_read_with_name_compression() {
    // RFC 3397's own example: eng.apple.com, marketing.apple.com (a pointer to "apple.com").
    let mut data = vec![3];
    data.extend_from_slice(b"eng");
    data.push(5);
    data.extend_from_slice(b"apple");
    data.push(3);
    data.extend_from_slice(b"com");
    data.push(0);
    data.push(9);
    data.extend_from_slice(b"marketing");
    data.extend_from_slice(&[0xc0, 0x04]);
    let r = parse(&[&[119, data.len() as u8][..], &data].concat());
    assert_eq!(r.search, ["eng.apple.com", "marketing.apple.com"]);
    // Long lists come in several parts (RFC 3396): joined before they are read.
    let long: Vec<String> = (0..30).map(|i| format!("s{i:02}.lab.test")).collect();
    let mut wire = Vec::new();
    for name in &long {
        for label in name.split('.') {
            wire.push(label.len() as u8);
            wire.extend_from_slice(label.as_bytes());
        }
        wire.push(0);
    }
    assert!(wire.len() > 255);
    let mut opts = Vec::new();
    for chunk in wire.chunks(255) {
        opts.extend_from_slice(&[119, chunk.len() as u8]);
        opts.extend_from_slice(chunk);
    }
    assert_eq!(parse(&opts).search, long);
    // A name that is not plausible is skipped; none at all leaves the option out.
    let bad = [5, b'a', b' ', b'b', b';', b'c', 0];
    let r = parse(&[&[119, bad.len() as u8][..], &bad].concat());
    assert_eq!((r.search.len(), left_out(&r)), (0, vec![119]));
}

#[test]
fn rule_ntp_servers_are_unicast() {
    let r = parse(&[42, 8, 198, 51, 100, 5, 224, 0, 1, 1]);
    assert_eq!(r.ntp, [Ipv4Addr::new(198, 51, 100, 5)]);
}

#[test]
fn rapid_commit_is_seen_and_must_be_empty() {
    assert!(parse(&[80, 0]).rapid_commit);
    assert!(!parse(&[]).rapid_commit);
    let r = parse(&[80, 1, 1]);
    assert!(!r.rapid_commit);
    assert_eq!(left_out(&r), [80]);
}

#[test]
fn text_a_server_sends_never_reaches_a_reason_or_a_name_with_a_control_character() {
    // Every option the client types, holding text meant to forge a log line, alone and
    // behind bytes that make it read further; what is kept and every reason for leaving an
    // option out must be free of control characters (log lines are built from them).
    let evil: &[u8] = b"x\nWARN vc: forged\0\r\x1b[2J";
    let codes = [
        1, 3, 6, 12, 15, 26, 28, 42, 51, 53, 54, 56, 58, 59, 80, 119, 121, 249,
    ];
    for code in codes {
        for prefix in [
            &[][..],
            &[1][..],
            &[4, b'a', b'b', b'c', b'd'][..],
            &[0; 4][..],
        ] {
            let data = [prefix, evil].concat();
            let r = parse(&[&[code, data.len() as u8][..], &data].concat());
            let mut texts: Vec<String> = r.left_out.iter().map(|l| l.to_string()).collect();
            texts.extend(r.hostname.clone());
            texts.extend(r.domain.clone());
            texts.extend(r.message.clone());
            texts.extend(r.search.clone());
            for t in texts {
                assert!(
                    !t.chars().any(char::is_control),
                    "option {code} {prefix:?}: {t:?}"
                );
            }
        }
    }
}
