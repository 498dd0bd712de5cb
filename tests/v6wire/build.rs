//! DHCPv6 messages built byte by byte, so that a test can say exactly what a server sent,
//! including what no encoder would write.

use dhcpc::v6::reply;
use dhcpc::v6::{Holdings, IaAddr, IaPrefix, Reply6};
use std::net::Ipv6Addr;

pub const SERVER_DUID: &[u8] = &[0, 1, 0, 1, 0x2c, 0xa9, 0x3f, 0x79, 2, 0, 0, 0, 0, 0xfe];
pub const CLIENT_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
pub const FROM: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xfe);
pub const XID: u32 = 0x00ab_cdef;

pub fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// One option: code, length, data.
pub fn opt(code: u16, data: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend((data.len() as u16).to_be_bytes());
    v.extend(data);
    v
}

/// A message of type `t` with transaction id XID and these options, in order.
pub fn msg(t: u8, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![t];
    v.extend(&XID.to_be_bytes()[1..]);
    for o in opts {
        v.extend(o);
    }
    v
}

pub fn server_id() -> Vec<u8> {
    opt(2, SERVER_DUID)
}

pub fn client_id() -> Vec<u8> {
    opt(1, CLIENT_DUID)
}

/// A REPLY with both identifiers, then `opts`.
pub fn reply(opts: &[Vec<u8>]) -> Vec<u8> {
    let mut all = vec![client_id(), server_id()];
    all.extend(opts.iter().cloned());
    msg(7, &all)
}

pub fn iaaddr(addr: &str, preferred: u32, valid: u32) -> Vec<u8> {
    let mut d = a(addr).octets().to_vec();
    d.extend(preferred.to_be_bytes());
    d.extend(valid.to_be_bytes());
    opt(5, &d)
}

pub fn iaprefix(preferred: u32, valid: u32, len: u8, prefix: &str) -> Vec<u8> {
    let mut d = preferred.to_be_bytes().to_vec();
    d.extend(valid.to_be_bytes());
    d.push(len);
    d.extend(a(prefix).octets());
    opt(26, &d)
}

fn ia(code: u16, iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
    let mut d = iaid.to_be_bytes().to_vec();
    d.extend(t1.to_be_bytes());
    d.extend(t2.to_be_bytes());
    for o in inner {
        d.extend(o);
    }
    opt(code, &d)
}

pub fn ia_na(iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
    ia(3, iaid, t1, t2, inner)
}

pub fn ia_pd(iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
    ia(25, iaid, t1, t2, inner)
}

pub fn status(code: u16, message: &[u8]) -> Vec<u8> {
    let mut d = code.to_be_bytes().to_vec();
    d.extend(message);
    opt(13, &d)
}

pub fn addresses(code: u16, list: &[&str]) -> Vec<u8> {
    let d: Vec<u8> = list.iter().flat_map(|s| a(s).octets()).collect();
    opt(code, &d)
}

/// Names in DNS wire format, uncompressed (RFC 1035 3.1).
pub fn names(list: &[&str]) -> Vec<u8> {
    let mut d = Vec::new();
    for n in list {
        for label in n.split('.').filter(|l| !l.is_empty()) {
            d.push(label.len() as u8);
            d.extend(label.as_bytes());
        }
        d.push(0);
    }
    d
}

// Reading what the parser made of it.

pub fn parse(bytes: &[u8]) -> Reply6 {
    reply::parse(bytes, FROM).expect("framing is good")
}

/// A REPLY with the identifiers and `opts`, parsed.
pub fn with(opts: &[Vec<u8>]) -> Reply6 {
    parse(&reply(opts))
}

pub fn addrs(r: &Reply6, i: usize) -> Vec<IaAddr> {
    match &r.ias[i].holdings {
        Holdings::Addresses(v) => v.clone(),
        h => panic!("not an IA_NA: {h:?}"),
    }
}

pub fn prefixes(r: &Reply6, i: usize) -> Vec<IaPrefix> {
    match &r.ias[i].holdings {
        Holdings::Prefixes(v) => v.clone(),
        h => panic!("not an IA_PD: {h:?}"),
    }
}

/// Whether a line of `dropped` holds `text`.
pub fn dropped(r: &Reply6, text: &str) -> bool {
    r.dropped.iter().any(|l| l.contains(text))
}
