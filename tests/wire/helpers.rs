//! What the codec tests share: the captured frames, messages to start from, option readers.

use super::common;
use dhcpc::frame;
use dhcpc::wire::v4::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};
use dhcpc::wire::{self, MAGIC_COOKIE, MIN_MESSAGE_LEN};
use std::net::Ipv4Addr;

pub const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
pub const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const YIADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 134);
pub const CAPTURED_XID: u32 = 0x41a3_3a56;

pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The DHCP payload of a captured frame (all captured checksums are valid). The DISCOVER and
/// REQUEST go to port 67, which `frame::parse` (a client's parser) refuses, so their ports
/// are swapped first; swapping two 16-bit words leaves the ones'-complement sum unchanged.
pub fn captured(name: &str) -> Vec<u8> {
    let mut f = data(name);
    if f[36..38] == [0, 67] {
        f.swap(34, 36);
        f.swap(35, 37);
    }
    frame::parse(&f, false)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .payload
        .to_vec()
}

pub fn decode_captured(name: &str) -> Message {
    wire::decode(&captured(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A BOOTREPLY with the given raw option bytes (after the cookie), no padding.
pub fn raw_reply(options: &[u8]) -> Vec<u8> {
    common::raw_reply(0x1234_5678, YIADDR, MAC, options)
}

pub fn request(mt: MessageType) -> Message {
    let mut m = Message::new_with_id(
        0xcafe_f00d,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.opts_mut().insert(DhcpOption::MessageType(mt));
    m
}

pub fn round_trip(m: &Message) -> Message {
    let bytes = wire::encode(m).expect("encode");
    assert!(bytes.len() >= MIN_MESSAGE_LEN, "{} bytes", bytes.len());
    assert_eq!(bytes[236..240], MAGIC_COOKIE);
    let back = wire::decode(&bytes).unwrap_or_else(|e| panic!("decode {m:?}: {e}"));
    assert_eq!(&back, m);
    back
}

/// The (code, data) options of an option field, up to END.
pub fn tlvs(mut field: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some((&code, rest)) = field.split_first() {
        match code {
            0 => field = rest,
            255 => break,
            _ => {
                let len = usize::from(rest[0]);
                out.push((code, rest[1..1 + len].to_vec()));
                field = &rest[1 + len..];
            }
        }
    }
    out
}

pub fn message_type(m: &Message) -> Option<MessageType> {
    m.opts().msg_type()
}

pub fn server_id(m: &Message) -> Option<Ipv4Addr> {
    match m.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(a)) => Some(*a),
        _ => None,
    }
}

pub fn server_message(m: &Message) -> Option<String> {
    match m.opts().get(OptionCode::Message) {
        Some(DhcpOption::Message(s)) => Some(s.clone()),
        _ => None,
    }
}

pub fn unknown(code: u8, data: &[u8]) -> DhcpOption {
    DhcpOption::Unknown(UnknownOption::new(OptionCode::from(code), data.to_vec()))
}

pub fn unknown_data(m: &Message, code: u8) -> Option<Vec<u8>> {
    match m.opts().get(OptionCode::from(code))? {
        DhcpOption::Unknown(u) => Some(u.data().to_vec()),
        other => panic!("option {code} decoded as {other:?}"),
    }
}

pub fn ips(m: &Message, code: OptionCode) -> Vec<Ipv4Addr> {
    match m.opts().get(code) {
        Some(DhcpOption::Router(v)) | Some(DhcpOption::DomainNameServer(v)) => v.clone(),
        other => panic!("{code:?}: {other:?}"),
    }
}
