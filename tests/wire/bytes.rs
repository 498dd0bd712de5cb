//! Exact bytes, written out by hand, and the captured dnsmasq <-> udhcpc exchange.

use super::helpers::*;
use dhcpc::frame;
use dhcpc::wire;
use dhcpc::wire::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};
use std::net::Ipv4Addr;

/// A fully specified DISCOVER, written out by hand from RFC 2131 section 2 (header) and
/// RFC 2132 (options). dhcproto emits options in ascending code order, then END; wire::encode
/// pads with zeros to the 300-byte BOOTP minimum (RFC 1542).
#[test]
fn discover_encodes_to_exact_bytes() {
    let mut m = Message::new_with_id(
        0xdead_beef,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.set_secs(3).set_flags(Flags::default().set_broadcast());
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(MessageType::Discover));
    o.insert(DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1]));
    o.insert(DhcpOption::ParameterRequestList(
        [1u8, 3, 6, 12, 15, 28, 51, 54, 58, 59]
            .iter()
            .map(|&c| OptionCode::from(c))
            .collect(),
    ));
    o.insert(DhcpOption::MaxMessageSize(1500));
    o.insert(DhcpOption::Hostname("dhcpc-test".into()));

    #[rustfmt::skip]
    let mut want: Vec<u8> = vec![
        0x01,                   // op: BOOTREQUEST
        0x01,                   // htype: Ethernet (10Mb)
        0x06,                   // hlen
        0x00,                   // hops
        0xde, 0xad, 0xbe, 0xef, // xid
        0x00, 0x03,             // secs
        0x80, 0x00,             // flags: broadcast
        0, 0, 0, 0,             // ciaddr
        0, 0, 0, 0,             // yiaddr
        0, 0, 0, 0,             // siaddr
        0, 0, 0, 0,             // giaddr
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // chaddr (6 bytes) ...
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       // ... padded to 16
    ];
    want.extend([0u8; 64]); // sname
    want.extend([0u8; 128]); // file
    assert_eq!(want.len(), 236);
    #[rustfmt::skip]
    want.extend([
        0x63, 0x82, 0x53, 0x63, // magic cookie
        12, 10, b'd', b'h', b'c', b'p', b'c', b'-', b't', b'e', b's', b't', // host name
        53, 1, 1,               // DHCPDISCOVER
        55, 10, 1, 3, 6, 12, 15, 28, 51, 54, 58, 59, // parameter request list
        57, 2, 0x05, 0xdc,      // maximum message size 1500
        61, 7, 1, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // client id: htype 1 + MAC
        255,                    // END
    ]);
    assert_eq!(want.len(), 281);
    want.resize(300, 0); // padding to the BOOTP minimum

    let got = wire::encode(&m).unwrap();
    assert_eq!(got.len(), 300);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "byte {i}: got {g:#04x}, want {w:#04x}");
    }
    assert_eq!(got, want);
    assert_eq!(wire::decode(&got).unwrap(), m);
}

#[test]
fn long_messages_are_not_padded() {
    let mut m = request(MessageType::Discover);
    m.opts_mut().insert(unknown(224, &[7; 200]));
    let bytes = wire::encode(&m).unwrap();
    // 240 + 3 (type) + 202 (224) + 1 (END), no padding after END.
    assert_eq!(bytes.len(), 240 + 3 + 202 + 1);
    assert_eq!(*bytes.last().unwrap(), 255);
}

// ---------------------------------------------------------------------------------------------
// The captured dnsmasq <-> udhcpc exchange

#[test]
fn captured_discover_and_request() {
    let d = decode_captured("dnsmasq-1-discover.eth");
    assert_eq!(d.xid(), CAPTURED_XID);
    assert_eq!(d.opcode(), Opcode::BootRequest);
    assert_eq!(message_type(&d), Some(MessageType::Discover));
    assert_eq!(d.chaddr(), MAC);
    assert_eq!(
        d.opts().get(OptionCode::MaxMessageSize),
        Some(&DhcpOption::MaxMessageSize(576))
    );
    assert_eq!(
        d.opts().get(OptionCode::ClientIdentifier),
        Some(&DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1]))
    );
    assert_eq!(
        d.opts().get(OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"udhcp 1.35.0".to_vec()))
    );
    let prl: Vec<u8> = match d.opts().get(OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(v)) => v.iter().map(|&c| u8::from(c)).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(prl, [1, 3, 6, 12, 15, 28, 42]);

    let r = decode_captured("dnsmasq-3-request.eth");
    assert_eq!(r.xid(), CAPTURED_XID);
    assert_eq!(message_type(&r), Some(MessageType::Request));
    assert_eq!(
        r.opts().get(OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(YIADDR))
    );
    assert_eq!(server_id(&r), Some(SERVER));
    assert_eq!(r.ciaddr(), Ipv4Addr::UNSPECIFIED);
}

fn check_captured_reply(m: &Message, mt: MessageType) {
    assert_eq!(m.xid(), CAPTURED_XID);
    assert_eq!(m.opcode(), Opcode::BootReply);
    assert_eq!(message_type(m), Some(mt));
    assert_eq!(m.yiaddr(), YIADDR);
    assert_eq!(m.siaddr(), SERVER);
    assert_eq!(m.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.chaddr(), MAC);
    assert!(!m.flags().broadcast());
    assert_eq!(server_id(m), Some(SERVER));
    let o = m.opts();
    assert_eq!(
        o.get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(3600))
    );
    assert_eq!(o.get(OptionCode::Renewal), Some(&DhcpOption::Renewal(1800)));
    assert_eq!(
        o.get(OptionCode::Rebinding),
        Some(&DhcpOption::Rebinding(3150))
    );
    assert_eq!(
        o.get(OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(
        o.get(OptionCode::BroadcastAddr),
        Some(&DhcpOption::BroadcastAddr(Ipv4Addr::new(198, 51, 100, 255)))
    );
    assert_eq!(ips(m, OptionCode::Router), [SERVER]);
    assert_eq!(
        ips(m, OptionCode::DomainNameServer),
        [SERVER, Ipv4Addr::new(198, 51, 100, 2)]
    );
    assert_eq!(
        o.get(OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lab.test".into()))
    );
    // Exactly the ten options the README lists.
    let codes: Vec<u8> = o.iter().map(|(c, _)| u8::from(*c)).collect();
    assert_eq!(codes, [1, 3, 6, 15, 28, 51, 53, 54, 58, 59]);
    assert_eq!(server_message(m), None);
}

#[test]
fn captured_offer_and_ack() {
    check_captured_reply(&decode_captured("dnsmasq-2-offer.eth"), MessageType::Offer);
    check_captured_reply(&decode_captured("dnsmasq-4-ack.eth"), MessageType::Ack);
}

#[test]
fn captured_ack_with_partial_checksum() {
    // Same exchange captured with TX checksum offload on: another xid, the UDP checksum is
    // only the pseudo-header sum. The DHCP payload is fine.
    let f = data("dnsmasq-ack-partial-csum.eth");
    let d = frame::parse(&f, true).unwrap();
    let m = wire::decode(d.payload).unwrap();
    assert_eq!(m.xid(), 0x7dea_1367);
    assert_eq!(message_type(&m), Some(MessageType::Ack));
    assert_eq!(m.yiaddr(), YIADDR);
    assert_eq!(server_id(&m), Some(SERVER));
}

#[test]
fn captured_messages_re_encode_to_the_same_message() {
    for name in [
        "dnsmasq-1-discover.eth",
        "dnsmasq-2-offer.eth",
        "dnsmasq-3-request.eth",
        "dnsmasq-4-ack.eth",
    ] {
        let m = decode_captured(name);
        assert_eq!(
            wire::decode(&wire::encode(&m).unwrap()).unwrap(),
            m,
            "{name}"
        );
    }
}
