//! Floods of replies good but for some options: garbled options, names with shell
//! metacharacters, a NAK flood whose text tries to forge a line, a link-local lease, routers
//! that are the lease's own addresses, a lease a second short of infinite.

use super::common::*;
use super::ordeal::*;
use super::server::*;
use dhcpc::wire::v4::{DhcpOption, MessageType};
use std::net::Ipv4Addr;
use std::time::Duration;

/// A server answering OFFER and ACK for GOOD with `extra` raw options, flooding; its ACK comes
/// with a NAK behind it (for the same xid), which a bound client must ignore.
fn flooding_server(lab: &Lab, extra: Vec<u8>) -> FakeServer {
    FakeServer::flooding(
        lab,
        FLOOD,
        Box::new(move |req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes_with(&bare(req, MessageType::Offer, GOOD), &extra)]
            }
            Some(MessageType::Request) => vec![
                bytes_with(&bare(req, MessageType::Ack, GOOD), &extra),
                bytes(&reply(req, MessageType::Nak, GOOD, SERVER, 0)),
            ],
            _ => Vec::new(),
        }),
    )
}

#[test]
fn a_reply_good_but_for_its_garbled_options_is_taken_without_them() {
    let lab = Lab::new();
    let mut extra = [
        // A mask of no bytes: left out, and the classful /24 used.
        opt(1, &[]),
        // Routers: two that cannot be, then one outside the subnet (reached on-link).
        opt(3, &[224, 0, 0, 1, 127, 0, 0, 1, 203, 0, 113, 1]),
        // DNS servers in 5 bytes; an MTU in 4; a broadcast address not the subnet's.
        opt(6, &[203, 0, 113, 53, 9]),
        opt(26, &[0, 0, 5, 220]),
        opt(28, &[198, 51, 100, 127]),
        // T1 > T2 > lease.
        opt(51, &60u32.to_be_bytes()),
        opt(58, &100u32.to_be_bytes()),
        opt(59, &80u32.to_be_bytes()),
        // A classless route cut short: the whole option ignored, option 3 used.
        opt(121, &[24, 10, 0, 0, 198, 51, 100]),
        // An unknown option of no bytes, and one of 765 in three parts (RFC 3396).
        opt(224, &[]),
    ]
    .concat();
    for _ in 0..3 {
        extra.extend(opt(250, &[0xab; 255]));
    }
    let server = flooding_server(&lab, extra);
    let (o, status) = ordeal_then(&lab, Start::Bound, Duration::from_secs(3), || {
        status_of(&lab, CLIENT_IF)
    });
    o.assert_calm();
    o.assert_logged(&[
        "option 1 from 198.51.100.1 left out: malformed",
        "option 3: 224.0.0.1 is not a unicast address, skipped",
        "option 3: 127.0.0.1 is not a unicast address, skipped",
        "option 6 from 198.51.100.1 left out: malformed",
        "option 26 from 198.51.100.1 left out: malformed: length 4, should be 2",
        "option 28 198.51.100.127 is not the broadcast address of 198.51.100.66/24: ignored",
        "T1 100 s and T2 80 s (options 58, 59) do not fit 1 s <= T1 < T2 < lease 60 s: \
         T1 30 s and T2 52 s used instead",
        "option 121 from 198.51.100.1 left out: a route is cut short",
        // The NAK behind the ACK, and the flood of both, find the client bound.
        "dropping a reply from 198.51.100.1: not expecting one in BOUND",
    ]);
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    assert!(!o.log.contains("NAK from"), "{}", tail(&o.log));
    // Routing and MTU options left out are warned of once per sender, not per reply: the
    // flood's repeats are at debug level.
    for code in [26, 121] {
        let text = format!("option {code} from 198.51.100.1 left out");
        let at = |level: &str| {
            o.log
                .lines()
                .filter(|l| l.starts_with(&format!("dhcpc: {level}: ")) && l.contains(&text))
                .count()
        };
        assert_eq!(at("warning"), 1, "{text}\n{}", tail(&o.log));
        assert!(at("debug") >= 10, "{text}: the repeats\n{}", tail(&o.log));
    }
    let addr = &lab.client_addrs()[0];
    assert_eq!(
        (addr.prefixlen, addr.broadcast),
        (24, Some(Ipv4Addr::new(198, 51, 100, 255)))
    );
    let routes = dhcp_routes(&lab);
    assert_eq!(routes.len(), 1, "{routes:#?}");
    assert!(routes[0].is_default(), "{routes:#?}");
    assert_eq!(routes[0].gateway, Some(Ipv4Addr::new(203, 0, 113, 1)));
    assert!(
        routes[0].raw["flags"].to_string().contains("onlink"),
        "{routes:#?}"
    );
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    let resolv = std::fs::read_to_string(lab.dir.join("resolv.conf")).unwrap_or_default();
    assert!(!resolv.contains("nameserver"), "{resolv}");
    // The times used; the unknown options kept as sent.
    let secs = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {status}"))
    };
    // T1 30 s and T2 52.5 s of the 60 s lease, each within RFC 2131 4.4.5's fuzz (5 %), and
    // up to 5 s spent since.
    assert!((23..=32).contains(&secs("renew_in")), "{status}");
    assert!((44..=56).contains(&secs("rebind_in")), "{status}");
    assert!((55..=60).contains(&secs("expires_in")), "{status}");
    assert_eq!(status["options"]["224"], "");
    assert_eq!(status["options"]["250"], "ab".repeat(765));
    assert_eq!(server.count(MessageType::Request), 1, "{:?}", server.seen());
}

/// Labels as DNS writes them (RFC 1035 3.1), for option 119.
fn dns_names(names: &[&[&[u8]]]) -> Vec<u8> {
    let mut out = Vec::new();
    for labels in names {
        for l in labels.iter() {
            out.push(l.len() as u8);
            out.extend_from_slice(l);
        }
        out.push(0);
    }
    out
}

/// A name resolv.conf may hold: RFC 1123 2.1 labels (and '_').
fn is_rfc1123(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[test]
fn names_with_shell_metacharacters_newlines_and_nul_reach_neither_resolv_conf_nor_the_log() {
    let lab = Lab::new();
    let search = dns_names(&[
        &[b"good", b"test"],
        &[b"a$(reboot)", b"test"],
        &[b"`id`", b"test"],
        &[b"x;y|z&w", b"test"],
        &[b"x\nWARN vc: forged", b"test"],
        &[b"nul\0byte", b"test"],
        &[b"-rf", b"test"],
        &[b"ok", b"lab", b"test"],
    ]);
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &3600u32.to_be_bytes()),
        opt(6, &[203, 0, 113, 53]),
        opt(12, b"box$(reboot)`id`;|&\nWARN vc: forged\0x"),
        opt(15, b"lab.test;rm -rf /\nnameserver 192.0.2.66\0"),
        opt(119, &search),
    ]
    .concat();
    let _server = flooding_server(&lab, extra);
    let o = ordeal(&lab, Start::Bound, Duration::from_secs(3));
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    o.assert_logged(&[
        "option 12 from 198.51.100.1 left out: is not a valid host name",
        "option 15 from 198.51.100.1 left out: is not a valid domain name",
    ]);
    let skipped = o
        .log
        .lines()
        .filter(|l| l.contains("option 119: ") && l.contains("is not a plausible domain name"))
        .count();
    assert!(
        skipped >= 6,
        "six names skipped, each said\n{}",
        tail(&o.log)
    );
    o.assert_lines_unforged("WARN vc: forged");
    let resolv = std::fs::read_to_string(lab.dir.join("resolv.conf")).unwrap();
    let lines: Vec<&str> = resolv.lines().skip(1).collect();
    assert_eq!(
        lines,
        ["search good.test ok.lab.test", "nameserver 203.0.113.53"],
        "{resolv}"
    );
    for name in lines[0].split(' ').skip(1) {
        assert!(is_rfc1123(name), "{name:?}");
    }
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_nak_flood_is_met_with_backoff_and_its_text_cannot_forge_a_line() {
    let lab = Lab::new();
    let server = FakeServer::flooding(
        &lab,
        FLOOD,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 3600))]
            }
            Some(MessageType::Request) => {
                let nak = bytes_with(
                    &reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0),
                    &opt(56, b"go away\nWARN vc: forged\0\r"),
                );
                vec![nak; 20]
            }
            _ => Vec::new(),
        }),
    );
    let o = ordeal(&lab, Start::Logged("NAK from"), Duration::from_secs(5));
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?}", o.addrs);
    o.assert_logged(&[
        "NAK from 198.51.100.1: go awayWARN vc: forged; starting over",
        "not expecting one in",
    ]);
    o.assert_lines_unforged("WARN vc: forged");
    // One NAK restarts at once, the next after 4 s: not a DISCOVER for each NAK.
    let discovers = server.count(MessageType::Discover);
    assert!((2..=4).contains(&discovers), "{:?}", server.seen());
}

#[test]
fn a_link_local_address_from_a_server_is_refused() {
    // RFC 3927 1.6: 169.254/16 is the host's own to pick (and dhcpc's link-local fallback
    // may hold one); a server that hands one out is not taken.
    let lab = Lab::new();
    let ll = Ipv4Addr::new(169, 254, 7, 9);
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            let mut m = reply(req, kind, ll, SERVER, 3600);
            m.opts_mut()
                .insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 0, 0)));
            vec![bytes(&m)]
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "3"]);
    assert_exit(&out, 1);
    assert!(lab.client_addrs().is_empty(), "{}", describe(&out));
    assert!(stderr(&out).contains("169.254.7.9"), "{}", describe(&out));
}

#[test]
fn routers_that_are_the_lease_s_own_network_or_broadcast_address_are_skipped() {
    let lab = Lab::new();
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &3600u32.to_be_bytes()),
        // The leased address itself, the subnet's network and broadcast addresses, then the
        // router.
        opt(
            3,
            &[
                198, 51, 100, 66, 198, 51, 100, 0, 198, 51, 100, 255, 198, 51, 100, 1,
            ],
        ),
    ]
    .concat();
    let _server = flooding_server(&lab, extra);
    let o = ordeal(&lab, Start::Bound, Duration::from_secs(2));
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    let routes = dhcp_routes(&lab);
    let default: Vec<_> = routes.iter().filter(|r| r.is_default()).collect();
    assert_eq!(default.len(), 1, "{routes:#?}\n{}", tail(&o.log));
    assert_eq!(default[0].gateway, Some(SERVER), "{routes:#?}");
    assert!(!o.log.contains("adding route"), "{}", tail(&o.log));
    o.assert_logged(&[
        "option 3: 198.51.100.66 is the lease's own address, skipped",
        "option 3: 198.51.100.0 is the network address of 198.51.100.66/24, skipped",
        "option 3: 198.51.100.255 is the broadcast address of 198.51.100.66/24, skipped",
    ]);
}

#[test]
fn a_lease_a_second_short_of_infinite_with_t1_and_t2_past_it_is_kept_quietly() {
    let lab = Lab::new();
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &(u32::MAX - 1).to_be_bytes()),
        opt(58, &u32::MAX.to_be_bytes()),
        opt(59, &u32::MAX.to_be_bytes()),
    ]
    .concat();
    let server = flooding_server(&lab, extra);
    let (o, status) = ordeal_then(&lab, Start::Bound, Duration::from_secs(2), || {
        status_of(&lab, CLIENT_IF)
    });
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    o.assert_logged(&[
        "T1 4294967295 s and T2 4294967295 s (options 58, 59) do not fit 1 s <= T1 < T2 < \
         lease 4294967294 s",
    ]);
    // 50 % and 87.5 % of 4294967294 s; nothing renewed meanwhile.
    let secs = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {status}"))
    };
    // Each within RFC 2131 4.4.5's fuzz (5 %).
    assert!(secs("renew_in") > 2_147_483_000 / 100 * 95, "{status}");
    assert!(secs("rebind_in") > 3_758_096_000 / 100 * 95, "{status}");
    assert!(secs("expires_in") > 4_294_967_000, "{status}");
    assert_eq!(server.count(MessageType::Request), 1, "{:?}", server.seen());
    assert!(lab.client_addrs()[0].valid_lft > 4_294_967_000);
}
