//! Hostile servers flooding replies no client may take, each with the line dhcpc logs as it
//! drops it.

use super::common::*;
use super::ordeal::*;
use super::server::*;
use dhcpc::wire::v4::{self, Message, MessageType, Opcode};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Replies of `kind` to `req` that no client may take, each with the reason dhcpc gives when it
/// refuses it (as in "dropping OFFER from 198.51.100.1: REASON").
fn unusable(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let mask24 = opt(1, &[255, 255, 255, 0]);
    let lease = |secs: u32| opt(51, &secs.to_be_bytes());
    let with = |yiaddr: Ipv4Addr, extra: &[u8]| bytes_with(&bare(req, kind, yiaddr), extra);
    let mut out = Vec::new();
    // yiaddr in every class an interface may not hold.
    for a in [
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.254",
        "255.255.255.255",
    ] {
        let a: Ipv4Addr = a.parse().unwrap();
        out.push((
            with(a, &[&mask24[..], &lease(3600)].concat()),
            format!("address {a} is not a unicast address"),
        ));
    }
    // The subnet's own network and broadcast addresses (no mask: the classful /24).
    for (a, mask, prefix, what) in [
        ("198.51.100.0", Some([255, 255, 255, 0]), 24, "network"),
        ("198.51.100.255", Some([255, 255, 255, 0]), 24, "broadcast"),
        ("198.51.100.255", None, 24, "broadcast"),
        (
            "198.51.100.127",
            Some([255, 255, 255, 128]),
            25,
            "broadcast",
        ),
        ("198.51.100.128", Some([255, 255, 255, 128]), 25, "network"),
    ] {
        let a: Ipv4Addr = a.parse().unwrap();
        let mask = mask.map(|m| opt(1, &m)).unwrap_or_default();
        out.push((
            with(a, &[&mask[..], &lease(3600)].concat()),
            format!("address {a} is the {what} address of its /{prefix}"),
        ));
    }
    // Masks that are not masks, and the mask of everything.
    for m in [[255, 0, 255, 0], [255, 255, 255, 1], [0, 255, 255, 255]] {
        out.push((
            with(GOOD, &[&opt(1, &m)[..], &lease(3600)].concat()),
            format!("subnet mask {} is not contiguous", Ipv4Addr::from(m)),
        ));
    }
    out.push((
        with(GOOD, &[&opt(1, &[0, 0, 0, 0])[..], &lease(3600)].concat()),
        "prefix length /0 is not usable".into(),
    ));
    // Leases too short to keep.
    for secs in [0, 1, 2, 3] {
        out.push((
            with(GOOD, &[&mask24[..], &lease(secs)].concat()),
            format!("lease time {secs} s is under the minimum of 4 s"),
        ));
    }
    // A server identifier that cannot be one. (An offer is refused by the lease check, which
    // names the option; an ACK before it, when it is not from the server chosen.)
    let option54 = if kind == MessageType::Offer {
        " (option 54)"
    } else {
        ""
    };
    for sid in [
        [0, 0, 0, 0],
        [224, 0, 0, 1],
        [255, 255, 255, 255],
        [127, 0, 0, 1],
    ] {
        let mut m = bare(req, kind, GOOD);
        m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
        out.push((
            bytes_with(&m, &[&opt(54, &sid)[..], &mask24, &lease(3600)].concat()),
            format!(
                "no server identifier{} (server identifier {} is not a unicast address)",
                option54,
                Ipv4Addr::from(sid)
            ),
        ));
    }
    let mut m = bare(req, kind, GOOD);
    m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
    out.push((
        bytes_with(&m, &[&opt(54, &[])[..], &mask24, &lease(3600)].concat()),
        format!("no server identifier{option54} (malformed"),
    ));
    // A message type of no bytes, of two, and of a number that is none.
    for (data, why) in [
        (&[][..], "malformed: length 0, should be 1"),
        (&[2, 5][..], "malformed: length 2, should be 1"),
        (&[99][..], "unknown message type 99"),
    ] {
        let mut m = bare(req, kind, GOOD);
        m.opts_mut().remove(v4::OptionCode::MessageType);
        out.push((
            bytes_with(&m, &[&opt(53, data)[..], &mask24, &lease(3600)].concat()),
            format!("no message type ({why})"),
        ));
    }
    out
}

/// Messages whose framing is broken, with the reason dhcpc gives (as in "dropping an unreadable
/// message from 198.51.100.1: REASON"): options running past the end of their field, among
/// them those that option 52 (overload) says the sname and file fields hold.
fn unreadable(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let good = reply(req, kind, GOOD, SERVER, 3600);
    let mut out = Vec::new();
    // The options field: a length past the end, with no END after it.
    let mut b = bytes(&good);
    let end = b.iter().rposition(|&x| x == 255).unwrap();
    b.truncate(end);
    b.extend_from_slice(&[3, 200, 198, 51]);
    out.push((b, "option 3 runs past the end".to_string()));
    // Overload 1: the file field is garbage (an option 200 of 250 bytes in 128).
    let mut b = bytes_with(&good, &opt(52, &[1]));
    b[108..236].fill(0xc8);
    b[109] = 250;
    out.push((b, "option 200 runs past the end".into()));
    // Overload 3: file empty (PAD) and the sname field holding text, not options.
    let mut b = bytes_with(&good, &opt(52, &[3]));
    b[108..236].fill(0);
    b[44..108].fill(b'x');
    b[44..44 + 15].copy_from_slice(b"evil$(reboot)\n;");
    out.push((b, "option 101 runs past the end".into()));
    out
}

/// Replies for another client or from another server, and ACKs without a usable lease time,
/// each with the line dhcpc logs when it drops it.
fn misdirected(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let name = dhcpc::reply::kind_name(kind);
    let good = reply(req, kind, GOOD, SERVER, 3600);
    let mut out = Vec::new();
    let mut m = good.clone();
    m.set_xid(req.xid() ^ 0x8000_0000);
    out.push((bytes(&m), "dropping a reply with xid".to_string()));
    let mut m = good.clone();
    m.set_chaddr(&[2, 9, 9, 9, 9, 9]);
    out.push((bytes(&m), "dropping a reply for another chaddr".into()));
    let mut m = good.clone();
    m.set_opcode(Opcode::BootRequest);
    out.push((bytes(&m), "dropping a BOOTREQUEST seen on the wire".into()));
    if kind != MessageType::Ack {
        return out;
    }
    // An ACK and NAKs from servers not chosen.
    let other = Ipv4Addr::new(198, 51, 100, 9);
    let chose = format!("from 198.51.100.1 (server {other}): we chose server {SERVER}");
    out.push((
        bytes(&reply(req, MessageType::Ack, GOOD, other, 3600)),
        format!("dropping ACK {chose}"),
    ));
    out.push((
        bytes(&reply(req, MessageType::Nak, GOOD, other, 0)),
        format!("dropping NAK {chose}"),
    ));
    let mut m = bare(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED);
    m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
    out.push((bytes(&m), format!("dropping NAK {chose}")));
    // No lease time, or one of no bytes or of eight.
    let mask = opt(1, &[255, 255, 255, 0]);
    for (lease, why) in [
        (&[][..], ""),
        (&[51, 0][..], " (malformed: length 0, should be 4)"),
        (
            &[51, 8, 0, 0, 14, 16, 0, 0, 14, 16][..],
            " (malformed: length 8, should be 4)",
        ),
    ] {
        out.push((
            bytes_with(&bare(req, kind, GOOD), &[&mask[..], lease].concat()),
            format!("dropping {name} from 198.51.100.1: no lease time (option 51){why}"),
        ));
    }
    out
}

/// A server that floods replies no client may take, answering OFFER or ACK as `answer` (and
/// never with anything good); and the lines dhcpc must log as it drops them.
fn hostile(lab: &Lab, answer: MessageType) -> (FakeServer, Vec<String>) {
    let all = |req: &Message, kind: MessageType| {
        let name = dhcpc::reply::kind_name(kind);
        let refused = unusable(req, kind).into_iter().map(move |(b, w)| {
            let what = if w.starts_with("no message type") {
                "reply".to_string()
            } else {
                name.clone()
            };
            (b, format!("dropping {what} from 198.51.100.1: {w}"))
        });
        let unread = unreadable(req, kind).into_iter().map(|(b, w)| {
            let line = format!("dropping an unreadable message from 198.51.100.1: {w}");
            (b, line)
        });
        let all: Vec<(Vec<u8>, String)> = refused
            .chain(unread)
            .chain(misdirected(req, kind))
            .collect();
        all
    };
    // The lines are the same for every request: learn them from a stand-in.
    let mut probe = Message::default();
    probe.set_xid(1).set_chaddr(&[2, 0, 0, 0, 0, 1]);
    let why = all(&probe, answer).into_iter().map(|(_, w)| w).collect();
    let server = FakeServer::flooding(
        lab,
        FLOOD,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) if answer == MessageType::Offer => MessageType::Offer,
                Some(MessageType::Discover) => {
                    return vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 3600))]
                }
                Some(MessageType::Request) if answer == MessageType::Ack => MessageType::Ack,
                _ => return Vec::new(),
            };
            all(req, kind).into_iter().map(|(b, _)| b).collect()
        }),
    );
    (server, why)
}

#[test]
fn a_flood_of_offers_no_client_may_take_is_refused_one_by_one() {
    let lab = Lab::new();
    let (server, why) = hostile(&lab, MessageType::Offer);
    let o = ordeal(
        &lab,
        Start::Logged("dropping OFFER"),
        Duration::from_secs(4),
    );
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?} reached the interface", o.addrs);
    assert_eq!(server.count(MessageType::Request), 0, "an offer was taken");
    o.assert_logged(&why);
    assert!(server.sent.load(Ordering::Relaxed) > 500, "not a flood");
    // Nothing sent for each reply: DISCOVER at 0 s and 4 s (RFC 2131 backoff), no more.
    assert!(
        server.count(MessageType::Discover) <= 3,
        "{:?}",
        server.seen()
    );
}

#[test]
fn a_flood_of_acks_no_client_may_take_is_refused_one_by_one() {
    let lab = Lab::new();
    let (server, why) = hostile(&lab, MessageType::Ack);
    let o = ordeal(&lab, Start::Logged("dropping ACK"), Duration::from_secs(4));
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?} reached the interface", o.addrs);
    // The REQUEST was answered, and sent again after 4 s, not for each reply.
    let requests = server.count(MessageType::Request);
    assert!((1..=3).contains(&requests), "{:?}", server.seen());
    o.assert_logged(&why);
}
