//! One function per rule for the options a DHCPv6 client uses outside the IAs: each takes the
//! option's data (its framing already checked) and returns the typed value or why it is left
//! out. Addresses and prefixes are judged here too, for the IAs ([`super::ia`]) to use.

use crate::addr::dns_name;
use crate::text::Quoted;
use crate::v6::{Status, StatusCode};
use std::net::Ipv6Addr;
use tracing::debug;

use super::tlv::{addr_at, u16_at, u32_at};

/// RFC 8415 21.23: the least Information Refresh Time a client takes.
pub const IRT_MINIMUM: u32 = 600;

/// RFC 8415 11.1: a DUID is a 2-byte type and 1 to 128 bytes more.
pub const DUID_MIN: usize = 3;
pub const DUID_MAX: usize = 130;

/// Address ranges nothing from a server may fall into (as an address) or overlap (as a
/// prefix): `::/96` (unspecified, loopback and the deprecated IPv4-compatible addresses),
/// IPv4-mapped addresses (another family), link-local unicast and multicast.
const SPECIAL: [(Ipv6Addr, u8, &str); 4] = [
    (
        Ipv6Addr::UNSPECIFIED,
        96,
        "unspecified, loopback or IPv4-compatible",
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
        96,
        "IPv4-mapped",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

/// The first `len` bits (0 to 128) set.
fn mask(len: u8) -> u128 {
    match len {
        0 => 0,
        n => u128::MAX << (128 - u32::from(n.min(128))),
    }
}

/// Whether `a`/`alen` and `b`/`blen` share an address: their first min(alen, blen) bits agree.
fn overlaps(a: Ipv6Addr, alen: u8, b: Ipv6Addr, blen: u8) -> bool {
    (u128::from(a) ^ u128::from(b)) & mask(alen.min(blen)) == 0
}

/// Which special range `p`/`len` overlaps, if any.
fn special(p: Ipv6Addr, len: u8) -> Option<&'static str> {
    SPECIAL
        .iter()
        .find(|(s, slen, _)| overlaps(p, len, *s, *slen))
        .map(|(_, _, what)| *what)
}

/// True for an address that may be put on the link or used as a server: global or unique
/// local unicast, not unspecified, loopback, IPv4-compatible or -mapped, link-local or
/// multicast.
pub fn is_usable_unicast6(a: Ipv6Addr) -> bool {
    special(a, 128).is_none()
}

/// Why `a` may not be put on the link or used as a server, if it may not.
pub fn unicast6(a: Ipv6Addr) -> Result<Ipv6Addr, String> {
    match special(a, 128) {
        None => Ok(a),
        Some(what) => Err(format!("{a} is {what}")),
    }
}

/// A delegated prefix (RFC 8415 21.22): 1 to 128 bits long, no bit set past its length (the
/// route for it would be refused, and it would not say which prefix is meant), and not
/// overlapping a range that is never delegated (a prefix covering link-local or multicast
/// space would take it from the link).
pub fn prefix(p: Ipv6Addr, len: u8) -> Result<(), String> {
    if !(1..=128).contains(&len) {
        return Err(format!("prefix length {len} is not 1 to 128"));
    }
    if u128::from(p) & !mask(len) != 0 {
        return Err(format!("{p}/{len} has bits set past its length"));
    }
    match special(p, len) {
        None => Ok(()),
        Some(what) => Err(format!("{p}/{len} overlaps {what} space")),
    }
}

/// RFC 8415 21.6 and 21.22: the client discards an address or prefix whose preferred
/// lifetime is greater than its valid lifetime. 0 (withdrawn) and 0xffffffff (for ever) are
/// lifetimes like any other.
pub fn lifetimes(preferred: u32, valid: u32) -> Result<(), String> {
    if preferred > valid {
        Err(format!(
            "preferred lifetime {preferred} is over valid lifetime {valid} (RFC 8415 21.6)"
        ))
    } else {
        Ok(())
    }
}

/// The length `data` must have.
fn length(data: &[u8], want: usize) -> Result<(), String> {
    if data.len() == want {
        Ok(())
    } else {
        Err(format!("length {}, should be {want}", data.len()))
    }
}

/// Options 1 and 2: a DUID, 3 to 130 bytes (RFC 8415 11.1). A server identifier outside
/// these bounds could not be echoed to the server in a valid message.
pub fn duid(data: &[u8]) -> Result<Vec<u8>, String> {
    if (DUID_MIN..=DUID_MAX).contains(&data.len()) {
        Ok(data.to_vec())
    } else {
        Err(format!(
            "DUID of {} bytes, should be {DUID_MIN} to {DUID_MAX} (RFC 8415 11.1)",
            data.len()
        ))
    }
}

/// Option 7 (RFC 8415 21.8): one byte.
pub fn preference(data: &[u8]) -> Result<u8, String> {
    length(data, 1)?;
    Ok(data[0])
}

/// Option 14 (RFC 8415 21.14): empty.
pub fn rapid_commit(data: &[u8]) -> Result<(), String> {
    length(data, 0)
}

/// Option 12 (RFC 8415 21.12): the server's address for unicast, a usable unicast address.
pub fn server_unicast(data: &[u8]) -> Result<Ipv6Addr, String> {
    length(data, 16)?;
    unicast6(addr_at(data, 0).ok_or("cut short")?)
}

/// Option 32 (RFC 8415 21.23): four bytes, raised to the 600 s minimum.
pub fn info_refresh(data: &[u8]) -> Result<u32, String> {
    length(data, 4)?;
    let t = u32_at(data, 0).ok_or("cut short")?;
    if t < IRT_MINIMUM {
        debug!("option 32: {t} s raised to the minimum of {IRT_MINIMUM} s");
    }
    Ok(t.max(IRT_MINIMUM))
}

/// The code of RFC 8415 21.13 (and 7.5) as the client names it.
pub fn status_code(n: u16) -> StatusCode {
    match n {
        0 => StatusCode::Success,
        1 => StatusCode::UnspecFail,
        2 => StatusCode::NoAddrsAvail,
        3 => StatusCode::NoBinding,
        4 => StatusCode::NotOnLink,
        5 => StatusCode::UseMulticast,
        6 => StatusCode::NoPrefixAvail,
        n => StatusCode::Other(n),
    }
}

/// Option 13 (RFC 8415 21.13): a 2-byte code and a message in UTF-8, read leniently (bytes
/// that are not UTF-8 replaced, control characters dropped: it is only ever shown).
pub fn status(data: &[u8]) -> Result<Status, String> {
    let code =
        u16_at(data, 0).ok_or_else(|| format!("length {}, should be 2 or more", data.len()))?;
    let message = String::from_utf8_lossy(&data[2..])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    Ok(Status {
        code: status_code(code),
        message,
    })
}

/// Options 23 (RFC 3646) and 31 (RFC 4075): a non-empty list of addresses, 16 bytes each.
/// Addresses that are not usable unicast are skipped one by one, repeats too; a list with
/// none left is left out.
pub fn address_list(data: &[u8]) -> Result<Vec<Ipv6Addr>, String> {
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(format!("length {}, should be a multiple of 16", data.len()));
    }
    let mut out: Vec<Ipv6Addr> = Vec::new();
    for a in data.chunks_exact(16).filter_map(|c| addr_at(c, 0)) {
        match unicast6(a) {
            Err(why) => debug!("server list: {why}, skipped"),
            Ok(a) if !out.contains(&a) => out.push(a),
            Ok(_) => {}
        }
    }
    if out.is_empty() {
        return Err("holds no usable unicast address".into());
    }
    Ok(out)
}

/// Reads the names of `data`, uncompressed (RFC 8415 10, RFC 1035 3.1): each a run of
/// labels ending with an empty one. A name cut short, or a label with the top bits of its
/// length set (a compression pointer, which DHCPv6 forbids), makes the whole list unreadable.
/// Each name is then plausible (as [`dns_name`], and no label holding a dot) or an error on
/// its own.
///
/// By hand, not with hickory's `Name::read` that dhcproto uses: that follows compression
/// pointers, which here would point into the option's own bytes.
fn names(data: &[u8]) -> Result<Vec<Result<String, String>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let mut labels: Vec<&[u8]> = Vec::new();
        loop {
            let len = *data.get(at).ok_or("a name is not terminated")?;
            at += 1;
            if len == 0 {
                break;
            }
            if len & 0xc0 != 0 {
                return Err("a label is compressed or of an extended type".into());
            }
            let label = data
                .get(at..at + usize::from(len))
                .ok_or("a label runs past the end")?;
            labels.push(label);
            at += usize::from(len);
        }
        out.push(name(&labels));
    }
    Ok(out)
}

/// One name's labels as text, if it is a plausible DNS name.
fn name(labels: &[&[u8]]) -> Result<String, String> {
    let bad = |l: &&&[u8]| {
        l.iter()
            .any(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
    };
    if let Some(l) = labels.iter().find(bad) {
        let text = String::from_utf8_lossy(l);
        return Err(format!("label {} is not a DNS label", Quoted(&text)));
    }
    let text = labels
        .iter()
        .map(|l| String::from_utf8_lossy(l))
        .collect::<Vec<_>>()
        .join(".");
    dns_name(&text).ok_or_else(|| format!("{} is not a valid DNS name", Quoted(&text)))
}

/// Option 24 (RFC 3646): the domain search list: plausible names only, each once; names that
/// are not are skipped, a list with none is left out.
pub fn search_list(data: &[u8]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in names(data)? {
        match n {
            Ok(n) if !out.contains(&n) => out.push(n),
            Ok(_) => {}
            Err(why) => debug!("option 24: {why}, skipped"),
        }
    }
    if out.is_empty() {
        return Err("holds no usable domain name".into());
    }
    Ok(out)
}

/// One suboption of option 56 (RFC 5908 4): 1, a server's unicast address; 2, a multicast
/// address; 3, a server's name, exactly one. Ok(None) for a suboption RFC 5908 does not name.
fn ntp_suboption(code: u16, data: &[u8]) -> Result<Option<String>, String> {
    let addr = || {
        length(data, 16)?;
        addr_at(data, 0).ok_or_else(|| "cut short".to_string())
    };
    match code {
        1 => Ok(Some(unicast6(addr()?)?.to_string())),
        2 => {
            let a = addr()?;
            if a.is_multicast() {
                Ok(Some(a.to_string()))
            } else {
                Err(format!("{a} is not a multicast address"))
            }
        }
        3 => match names(data)?.as_slice() {
            [one] => one.clone().map(Some),
            _ => Err("should hold exactly one name".into()),
        },
        _ => Ok(None),
    }
}

/// Option 56 (RFC 5908): NTP servers as text (addresses and names), each once. A suboption
/// that fails its rule is skipped; suboptions that do not frame, or none usable, leave the
/// option out.
pub fn ntp(data: &[u8]) -> Result<Vec<String>, String> {
    let subs = super::tlv::options(data).map_err(|e| format!("suboptions: {e}"))?;
    let mut out: Vec<String> = Vec::new();
    for (code, d) in subs {
        match ntp_suboption(code, d) {
            Ok(Some(s)) if !out.contains(&s) => out.push(s),
            Ok(_) => {}
            Err(why) => debug!("option 56, suboption {code}: {why}, skipped"),
        }
    }
    if out.is_empty() {
        return Err("holds no usable server".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn usable_unicast_is_global_or_unique_local() {
        for s in [
            "2001:db8::1",
            "fd00::1",
            "2002::1",
            "64:ff9b::1",
            "fec0::1",
            "::1:0:0:0",
        ] {
            assert!(is_usable_unicast6(a(s)), "{s}");
        }
        let bad = [
            "::",
            "::1",
            "::7",
            "::c633:6407",
            "::ffff:c633:6407",
            "fe80::1",
            "ff02::1:2",
        ];
        for s in bad {
            assert!(!is_usable_unicast6(a(s)), "{s}");
        }
    }

    #[test]
    fn prefix_bounds_and_host_bits() {
        assert_eq!(prefix(a("2001:db8::1"), 128), Ok(()));
        assert_eq!(prefix(a("2001:db8::"), 32), Ok(()));
        assert!(prefix(a("2001:db8::1"), 127).is_err());
        assert!(prefix(a("2000::"), 3).is_ok());
        assert!(prefix(a("fe00::"), 7).unwrap_err().contains("link-local"));
        assert!(prefix(a("::"), 1).unwrap_err().contains("unspecified"));
    }

    #[test]
    fn masks_of_every_length() {
        assert_eq!(mask(0), 0);
        assert_eq!(mask(1), 1 << 127);
        assert_eq!(mask(128), u128::MAX);
        assert_eq!(mask(200), u128::MAX);
    }
}
