//! What a client's parser refuses, and ARP probes and announcements.

use super::helpers::*;
use dhcpc::frame::{self, FrameError};
use std::net::Ipv4Addr;

#[test]
fn rejects_non_ipv4() {
    let arp = frame::arp_probe(MAC, YIADDR);
    assert_eq!(frame::parse(&arp, false), Err(FrameError::NotIpv4));
    for ethertype in [0x86dd_u16, 0x0806, 0x8100, 0x88cc, 0x0000] {
        let mut f = ack();
        set_u16(&mut f, 12, ethertype);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::NotIpv4),
            "{ethertype:#06x}"
        );
    }
    // An IPv6 packet under the IPv4 ethertype is not taken for IPv4.
    let mut f = ack();
    f[14] = 0x65;
    fix_ip_checksum(&mut f);
    assert_eq!(frame::parse(&f, false), Err(FrameError::BadLength));
}

#[test]
fn rejects_non_udp() {
    for proto in [6u8, 1, 0, 58, 136] {
        let mut f = ack();
        f[23] = proto;
        fix_ip_checksum(&mut f);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::NotUdp),
            "proto {proto}"
        );
    }
}

#[test]
fn rejects_fragments() {
    // flags+offset word: 0x2000 more fragments, low 13 bits the offset in 8-byte units.
    for word in [0x2000u16, 0x0001, 0x00b9, 0x1fff, 0x2001, 0x6000] {
        let mut f = ack();
        set_u16(&mut f, 20, word);
        fix_ip_checksum(&mut f);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::Fragment),
            "{word:#06x}"
        );
    }
    // Don't-fragment is not a fragment.
    let mut f = ack();
    set_u16(&mut f, 20, 0x4000);
    fix_ip_checksum(&mut f);
    assert!(frame::parse(&f, false).is_ok());
}

#[test]
fn rejects_other_ports() {
    for port in [67u16, 69, 0, 546, 6800, 0x4400] {
        let mut f = ack();
        set_u16(&mut f, 36, port);
        fix_udp_checksum(&mut f);
        assert_eq!(frame::parse(&f, false), Err(FrameError::NotForUs(port)));
    }
}

#[test]
fn rejects_bad_ip_checksum() {
    let mut f = ack();
    f[25] ^= 0x01;
    assert_eq!(frame::parse(&f, false), Err(FrameError::BadIpChecksum));
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
    let mut f = ack();
    f[22] -= 1; // TTL changed, checksum not updated
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
    let mut f = ack();
    f[29] ^= 0x80; // source address
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
}

#[test]
fn rejects_bad_udp_checksum_unless_not_ready() {
    for at in [40usize, 41, 42, 100, 42 + 240, 347] {
        let mut f = ack();
        f[at] ^= 0x10;
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::BadUdpChecksum),
            "byte {at}"
        );
        assert!(frame::parse(&f, true).is_ok(), "byte {at}");
    }
    // A zero checksum means the sender computed none (RFC 768).
    let mut f = ack();
    f[100] ^= 0x10;
    set_u16(&mut f, 40, 0);
    assert!(frame::parse(&f, false).is_ok());
}

#[test]
fn rejects_inconsistent_lengths() {
    let base = ack();
    let total = u16_at(&base, 16);
    let udp_len = u16_at(&base, 38);
    type Mutation = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "IP total past the frame",
            Box::new(move |f| set_u16(f, 16, total + 1)),
        ),
        ("IP total 65535", Box::new(|f| set_u16(f, 16, 0xffff))),
        (
            "IP total below the header",
            Box::new(|f| set_u16(f, 16, 19)),
        ),
        ("IP total 0", Box::new(|f| set_u16(f, 16, 0))),
        ("ihl 4", Box::new(|f| f[14] = 0x44)),
        ("ihl 0", Box::new(|f| f[14] = 0x40)),
        (
            "ihl 15, total 24",
            Box::new(|f| {
                f[14] = 0x4f;
                set_u16(f, 16, 24);
            }),
        ),
        (
            "UDP length past the IP packet",
            Box::new(move |f| set_u16(f, 38, udp_len + 1)),
        ),
        ("UDP length 7", Box::new(|f| set_u16(f, 38, 7))),
        ("UDP length 0", Box::new(|f| set_u16(f, 38, 0))),
        (
            "IP packet cut below UDP length",
            Box::new(move |f| {
                set_u16(f, 16, total - 10);
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut f = base.clone();
        mutate(&mut f);
        fix_ip_checksum_lenient(&mut f);
        let r = frame::parse(&f, true);
        assert!(
            matches!(r, Err(FrameError::BadLength) | Err(FrameError::Short(_))),
            "{what}: {r:?}"
        );
    }
    // UDP header cut short by the IP total length: 20 + 4.
    let mut f = base.clone();
    set_u16(&mut f, 16, 24);
    fix_ip_checksum(&mut f);
    assert_eq!(frame::parse(&f, true), Err(FrameError::Short("UDP")));
}

#[test]
fn trailing_bytes_are_not_payload() {
    // Ethernet padding after the IP packet.
    let mut f = ack();
    f.extend_from_slice(&[0xaa; 20]);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..]);

    // Bytes inside the IP packet after a shorter UDP datagram.
    let mut f = ack();
    set_u16(&mut f, 38, 8 + 200);
    fix_udp_checksum(&mut f);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..242]);
}

#[test]
fn truncation_at_every_length() {
    for name in ["dnsmasq-4-ack.eth", "dnsmasq-ack-partial-csum.eth"] {
        let f = data(name);
        for len in 0..f.len() {
            let r = frame::parse(&f[..len], true);
            let want = match len {
                0..14 => Err(FrameError::Short("Ethernet")),
                14..34 => Err(FrameError::Short("IPv4")),
                _ => Err(FrameError::BadLength),
            };
            assert_eq!(r, want, "{name} cut to {len}");
        }
        assert!(frame::parse(&f, true).is_ok());
    }
}

#[test]
fn accepts_ip_options() {
    let f = ack_with_ip_options();
    assert_eq!(ihl(&f), 24);
    // The pseudo-header does not cover IP options, so the UDP checksum is still right.
    assert!(udp_checksum_ok(&f));
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..]);
    assert_eq!((d.src_ip, d.dst_ip), (SERVER, YIADDR));
}

// ---------------------------------------------------------------------------------------------
// ARP

#[test]
fn arp_probe_and_announce() {
    let p = frame::arp_probe(MAC, YIADDR);
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[0xff; 6][..], &MAC, &[0x08, 0x06],  // Ethernet: broadcast, from us, ARP
        &[0, 1, 0x08, 0x00, 6, 4, 0, 1],      // Ethernet/IPv4, request
        &MAC, &[0, 0, 0, 0],                  // sender: us, 0.0.0.0 (probe)
        &[0; 6], &YIADDR.octets(),            // target
    ]
    .concat();
    assert_eq!(p, want);
    let seen = frame::parse_arp(&p).unwrap();
    assert_eq!(seen.sender_mac, MAC);
    assert_eq!(seen.sender_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!(seen.target_ip, YIADDR);

    let a = frame::arp_announce(MAC, YIADDR);
    assert_eq!(a[28..32], YIADDR.octets());
    assert_eq!(a[38..42], YIADDR.octets());
    let seen = frame::parse_arp(&a).unwrap();
    assert_eq!((seen.sender_ip, seen.target_ip), (YIADDR, YIADDR));

    assert!(frame::parse_arp(&ack()).is_none());
    for len in 0..p.len() {
        assert!(frame::parse_arp(&p[..len]).is_none(), "cut to {len}");
    }
    let mut bad = p.clone();
    bad[18] = 8; // hardware address length
    assert!(frame::parse_arp(&bad).is_none());
}
