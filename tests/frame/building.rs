//! Building frames, and parsing the captured ones.

use super::helpers::*;
use dhcpc::frame::{self, FrameError, CLIENT_PORT, SERVER_PORT};
use dhcpc::wire;
use std::net::Ipv4Addr;

#[test]
fn build_broadcast_layout_and_checksums() {
    let payload = payload_of(300);
    let f = frame::build_broadcast(MAC, &payload);
    assert_eq!(f.len(), frame::HEADERS_LEN + 300);
    assert_eq!(frame::HEADERS_LEN, 42);
    // Ethernet
    assert_eq!(f[0..6], [0xff; 6]);
    assert_eq!(f[6..12], MAC);
    assert_eq!(f[12..14], [0x08, 0x00]);
    // IPv4
    assert_eq!(f[14], 0x45, "version 4, ihl 5");
    assert_eq!(f[15], 0, "dscp/ecn");
    assert_eq!(u16_at(&f, 16), 20 + 8 + 300, "total length");
    assert_eq!(u16_at(&f, 20) & 0x3fff, 0, "no fragment");
    assert_eq!(f[22], 64, "ttl");
    assert_eq!(f[23], 17, "protocol UDP");
    assert_eq!(f[26..30], [0, 0, 0, 0]);
    assert_eq!(f[30..34], [255, 255, 255, 255]);
    assert!(ip_checksum_ok(&f), "IPv4 header checksum");
    // UDP
    assert_eq!(u16_at(&f, 34), CLIENT_PORT);
    assert_eq!(u16_at(&f, 36), SERVER_PORT);
    assert_eq!(u16_at(&f, 38), 8 + 300);
    assert_ne!(u16_at(&f, 40), 0, "UDP checksum filled in");
    assert!(udp_checksum_ok(&f), "UDP checksum");
    assert_eq!(f[42..], payload[..]);

    // A client's parser refuses it (it is for the server's port) ...
    assert_eq!(frame::parse(&f, false), Err(FrameError::NotForUs(67)));
    // ... and reads it back once addressed to 68.
    let mut g = f.clone();
    swap_ports(&mut g);
    let d = frame::parse(&g, false).unwrap();
    assert_eq!(d.src_mac, MAC);
    assert_eq!(d.src_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!(d.dst_ip, Ipv4Addr::BROADCAST);
    assert_eq!(d.payload, &payload[..]);
}

#[test]
fn build_unicast_layout_and_checksums() {
    for len in [0usize, 1, 241, 300, 301, 576, 1400] {
        let payload = payload_of(len);
        let f = frame::build(MAC, SERVER_MAC, YIADDR, SERVER, &payload);
        assert_eq!(f[0..6], SERVER_MAC);
        assert_eq!(f[6..12], MAC);
        assert_eq!(f[26..30], YIADDR.octets());
        assert_eq!(f[30..34], SERVER.octets());
        assert_eq!(usize::from(u16_at(&f, 16)), 28 + len);
        assert_eq!(usize::from(u16_at(&f, 38)), 8 + len);
        assert!(ip_checksum_ok(&f), "len {len}");
        assert!(udp_checksum_ok(&f), "len {len}");
        let mut g = f.clone();
        swap_ports(&mut g);
        let d = frame::parse(&g, false).unwrap();
        assert_eq!((d.src_ip, d.dst_ip), (YIADDR, SERVER));
        assert_eq!(d.payload, &payload[..]);
    }
}

#[test]
fn computed_udp_checksum_of_zero_is_sent_as_all_ones() {
    // With the last payload word equal to the checksum of the frame without it, the sum of
    // everything else is all ones and the computed checksum is 0, which RFC 768 sends as
    // 0xffff (0 would mean "no checksum").
    let mut payload = payload_of(300);
    payload[298] = 0;
    payload[299] = 0;
    let c = u16_at(&frame::build_broadcast(MAC, &payload), 40);
    assert_ne!(c, 0xffff);
    payload[298..300].copy_from_slice(&c.to_be_bytes());
    let f = frame::build_broadcast(MAC, &payload);
    assert_eq!(u16_at(&f, 40), 0xffff);
    assert!(udp_checksum_ok(&f));
    let mut g = f.clone();
    swap_ports(&mut g);
    assert_eq!(frame::parse(&g, false).unwrap().payload, &payload[..]);
}

#[test]
fn built_dhcp_message_survives_framing() {
    let mut m = wire::v4::Message::new_with_id(
        0x0102_0304,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.opts_mut().insert(wire::v4::DhcpOption::MessageType(
        wire::v4::MessageType::Discover,
    ));
    let mut f = frame::build_broadcast(MAC, &wire::encode(&m).unwrap());
    swap_ports(&mut f);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(wire::decode(d.payload).unwrap(), m);
}

#[test]
fn captured_frames_have_valid_checksums() {
    for name in [
        "dnsmasq-1-discover.eth",
        "dnsmasq-2-offer.eth",
        "dnsmasq-3-request.eth",
        "dnsmasq-4-ack.eth",
    ] {
        let f = data(name);
        assert!(ip_checksum_ok(&f), "{name}");
        assert!(udp_checksum_ok(&f), "{name}");
    }
}

#[test]
fn captured_offer_and_ack_parse() {
    for name in ["dnsmasq-2-offer.eth", "dnsmasq-4-ack.eth"] {
        let f = data(name);
        assert_eq!(f.len(), 348);
        for csum_not_ready in [false, true] {
            let d = frame::parse(&f, csum_not_ready).unwrap();
            assert_eq!(d.src_mac, SERVER_MAC);
            assert_eq!(d.src_ip, SERVER);
            assert_eq!(d.dst_ip, YIADDR);
            assert_eq!(d.payload.len(), 348 - 42);
            assert_eq!(d.payload, &f[42..]);
        }
    }
}

#[test]
fn captured_client_frames_are_not_for_a_client() {
    for name in ["dnsmasq-1-discover.eth", "dnsmasq-3-request.eth"] {
        assert_eq!(
            frame::parse(&data(name), false),
            Err(FrameError::NotForUs(67)),
            "{name}"
        );
    }
}

#[test]
fn partial_checksum_frame_needs_csum_not_ready() {
    let f = data("dnsmasq-ack-partial-csum.eth");
    assert_eq!(f.len(), 348);
    assert!(ip_checksum_ok(&f));
    assert!(!udp_checksum_ok(&f));
    // What the sender left in the checksum field: the pseudo-header sum only, folded and not
    // complemented, for the stack to finish.
    let len = u16_at(&f, 38);
    let mut pseudo = f[26..34].to_vec();
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&len.to_be_bytes());
    assert_eq!(u16_at(&f, 40), fold(sum_words(&pseudo)));

    assert_eq!(frame::parse(&f, false), Err(FrameError::BadUdpChecksum));
    let d = frame::parse(&f, true).unwrap();
    assert_eq!((d.src_ip, d.dst_ip), (SERVER, YIADDR));
    assert_eq!(d.src_mac, SERVER_MAC);
    assert_eq!(d.payload, &f[42..]);
    let m = wire::decode(d.payload).unwrap();
    assert_eq!(m.opts().msg_type(), Some(wire::v4::MessageType::Ack));
    // Finishing the checksum makes it an ordinary frame.
    let mut g = f.clone();
    fix_udp_checksum(&mut g);
    assert_eq!(frame::parse(&g, false).unwrap().payload, &f[42..]);
}
