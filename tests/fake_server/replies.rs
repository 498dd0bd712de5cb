//! Replies that are malformed, misdirected or garbage, while acquiring and while renewing;
//! NAK storms; a NAK whose text is not UTF-8; leases of 0 s.

use super::common::*;
use super::server::*;
use dhcpc::wire::v4::{Message, MessageType, Opcode};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every kind of bad answer to `req`: none of them may crash the client, and none may put
/// anything but `GOOD` on the interface. (A truncation that cuts only trailing options leaves a
/// well-formed reply for `GOOD` with a `lease`-second lease, which may be taken.)
fn garbage(req: &Message, kind: MessageType, lease: u32) -> Vec<Vec<u8>> {
    let good = reply(req, kind, GOOD, SERVER, lease);
    let raw = bytes(&good);
    let mut out = Vec::new();
    // Truncated at several points, including inside the header.
    for n in [0, 1, 100, 239, 240, 241, raw.len() - 20] {
        out.push(raw[..n].to_vec());
    }
    // Bad magic cookie.
    let mut b = raw.clone();
    b[236] ^= 0xff;
    out.push(b);
    // An option running past the end: the last option's length made huge.
    let mut b = raw[..raw.iter().rposition(|&x| x == 255).unwrap()].to_vec();
    b.extend_from_slice(&[3, 200, 198, 51]);
    out.push(b);
    // Malformed known options (subnet mask of 3 bytes, message type of 0 bytes).
    let mut b = raw[..240].to_vec();
    b.extend_from_slice(&[
        53,
        1,
        kind.into(),
        54,
        4,
        198,
        51,
        100,
        1,
        1,
        3,
        255,
        255,
        255,
        255,
    ]);
    out.push(b);
    let mut b = raw[..240].to_vec();
    b.extend_from_slice(&[53, 0, 255]);
    out.push(b);
    // hlen over 16.
    let mut b = raw.clone();
    b[2] = 200;
    out.push(b);
    // Another xid, another chaddr, a BOOTREQUEST.
    let mut m = good.clone();
    m.set_xid(req.xid().wrapping_add(1));
    out.push(bytes(&m));
    let mut m = good.clone();
    m.set_chaddr(&[2, 9, 9, 9, 9, 9]);
    out.push(bytes(&m));
    let mut m = good.clone();
    m.set_opcode(Opcode::BootRequest);
    out.push(bytes(&m));
    // Addresses that must never reach the interface.
    for bad in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 251),
        Ipv4Addr::new(240, 1, 2, 3),
    ] {
        out.push(bytes(&reply(req, kind, bad, SERVER, 60)));
    }
    // Random bytes (deterministic).
    let mut rng = fastrand::Rng::with_seed(u64::from(req.xid()));
    for len in [10, 300, 576] {
        out.push((0..len).map(|_| rng.u8(..)).collect());
    }
    out
}

#[test]
fn malformed_and_misdirected_replies_are_dropped_and_the_good_one_taken() {
    let lab = Lab::new();
    let _server = FakeServer::start(
        &lab,
        Box::new(|req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            let mut out = garbage(req, kind, 3600);
            if kind == MessageType::Ack {
                // An ACK from a server that was not chosen.
                out.push(bytes(&reply(
                    req,
                    kind,
                    GOOD,
                    Ipv4Addr::new(198, 51, 100, 9),
                    60,
                )));
            }
            out.push(bytes(&reply(req, kind, GOOD, SERVER, 3600)));
            out
        }),
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{}", describe(&out));
    assert!(stderr(&out).contains("dropping"), "drops are logged at -v");
}

#[test]
fn garbage_while_renewing_does_not_lose_the_lease() {
    let lab = Lab::new();
    let renewals = Arc::new(Mutex::new(0u32));
    let r2 = renewals.clone();
    let server = FakeServer::start(
        &lab,
        Box::new(move |req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 6))]
            }
            Some(MessageType::Request) if req.ciaddr().is_unspecified() => {
                vec![bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6))]
            }
            // Renewals (ciaddr set): garbage, a NAK from the wrong server, an ACK of another
            // address from the wrong server, and only every other time a good ACK.
            Some(MessageType::Request) => {
                let mut n = r2.lock().unwrap();
                *n += 1;
                let mut out = garbage(req, MessageType::Ack, 6);
                out.push(bytes(&reply(
                    req,
                    MessageType::Nak,
                    GOOD,
                    Ipv4Addr::new(198, 51, 100, 9),
                    0,
                )));
                out.push(bytes(&reply(
                    req,
                    MessageType::Ack,
                    Ipv4Addr::new(198, 51, 100, 99),
                    Ipv4Addr::new(198, 51, 100, 9),
                    6,
                )));
                if *n % 2 == 0 {
                    out.push(bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6)));
                }
                out
            }
            _ => Vec::new(),
        }),
    );
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // A 6 s lease renewed at 2 s: four renewals, each answered with garbage (every other one
    // with a good ACK too), and nothing but GOOD on the interface all along.
    let mut held = true;
    wait_for(Duration::from_secs(20), || {
        let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
        if addrs.len() > 1 || addrs.iter().any(|a| *a != GOOD) {
            held = false;
        }
        *renewals.lock().unwrap() >= 4
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(held, "another address reached the interface\n{text}");
    assert!(
        *renewals.lock().unwrap() >= 2,
        "no renewals seen: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the lease was lost\n{text}"
    );
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{text}");
}

#[test]
fn a_nak_storm_is_met_with_backoff_not_a_flood() {
    let lab = Lab::new();
    let server = FakeServer::start(
        &lab,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 60))]
            }
            Some(MessageType::Request) => {
                vec![bytes(&reply(req, MessageType::Nak, GOOD, SERVER, 0))]
            }
            _ => Vec::new(),
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "8"]);
    assert_exit(&out, 1);
    // NAK pauses of 0, 4, 8 s: at most four rounds in 8 s, not hundreds.
    let discovers = server.count(MessageType::Discover);
    assert!(
        (2..=5).contains(&discovers),
        "{discovers} DISCOVERs in 8 s: {:?}",
        server.seen()
    );
    assert!(lab.client_addrs().is_empty());
}

#[test]
fn a_garbled_option_the_client_does_not_need_costs_nothing() {
    let lab = Lab::new();
    // An FQDN (81) whose name runs past its end and a host name (12) that is not UTF-8.
    let _server = plain_server(
        &lab,
        3600,
        &[81, 6, 0, 0, 0, 9, b'a', b'b', 12, 3, b'a', 0xff, b'b'],
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{}", describe(&out));
    assert!(
        stderr(&out).contains("option 12 from 198.51.100.1 left out"),
        "the bad option is named at -v\n{}",
        describe(&out)
    );
}

#[test]
fn a_nak_with_text_that_is_not_utf8_still_ends_the_lease() {
    let lab = Lab::new();
    let server = FakeServer::start(
        &lab,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 6))]
            }
            Some(MessageType::Request) if req.ciaddr().is_unspecified() => {
                vec![bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6))]
            }
            // The renewal: revoked, with a message that is not UTF-8.
            Some(MessageType::Request) => vec![bytes_with(
                &reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0),
                &[56, 5, b'g', b'o', 0xff, 0xfe, b'!'],
            )],
            _ => Vec::new(),
        }),
    );
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // Renewal at T1 = 2 s, NAKed: the address goes and the next message is a DISCOVER (a NAK
    // not taken would leave the lease to a rebinding REQUEST at 5 s, and to expiry at 6 s).
    let revoked = wait_for(Duration::from_secs(10), || {
        watch
            .removed()
            .iter()
            .any(|l| l.contains(&format!(" {GOOD}/")))
            && server.seen().len() >= 4
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        revoked,
        "the NAK was not taken: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        server.seen()[..4],
        [
            MessageType::Discover,
            MessageType::Request,
            MessageType::Request,
            MessageType::Discover
        ],
        "the NAK was not taken\n{text}"
    );
}

#[test]
fn a_server_granting_zero_second_leases_cannot_stop_the_daemon() {
    let lab = Lab::new();
    let server = plain_server(&lab, 0, &[]);
    // One-shot: no lease, and the timeout says why.
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "3"]);
    assert_exit(&out, 1);
    assert_stderr_contains(
        &out,
        "from 198.51.100.1 dropped: lease time 0 s is under the minimum of 4 s",
    );
    assert!(lab.client_addrs().is_empty());

    // The daemon: still running long after, still trying (a DISCOVER after its 2 s timeout,
    // the second at 4 s), nothing on the interface.
    let discovers = server.count(MessageType::Discover);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0", "-t", "2"]);
    let started = std::time::Instant::now();
    let trying = wait_for(Duration::from_secs(15), || {
        server.count(MessageType::Discover) >= discovers + 2
    });
    let after = started.elapsed();
    let running = daemon.try_wait().unwrap().is_none();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(running, "the daemon ended:\n{text}");
    assert!(
        trying && after > Duration::from_secs(2),
        "no DISCOVER after the timeout ({after:?}): {:?}\n{text}",
        server.seen()
    );
    assert!(
        text.contains("lease time 0 s is under the minimum"),
        "{text}"
    );
    assert!(lab.client_addrs().is_empty());
}
