//! dhclient's names and formats of the DHCPv6 options (the `dhcp6` option space of ISC DHCP
//! 4.4.3, common/tables.c), and the pieces of its printer both the hook environment
//! ([`crate::v6::hookenv`]) and the lease file ([`super::leases6`]) write them with: an option
//! `name-servers` is `dhcp6.name-servers` in a lease file and `new_dhcp6_name_servers` in a
//! script's environment; one ISC has no name for is `unknown-N`, printed as bytes. Pure; never
//! panics.

use super::duid::hex_octets;
use super::lex::{self, Kind};
use crate::hookenv::is_host_name;
use crate::v6::Lease6;
use std::net::Ipv6Addr;

/// How ISC prints an option (its format letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `X`: text when every byte is printable ASCII (a trailing NUL aside), else hex bytes.
    Bytes,
    /// `6A` (and `6a`): IPv6 addresses.
    Addrs,
    /// `6`: one IPv6 address.
    Addr,
    /// `D`: DNS names, each with its trailing dot.
    Names,
    /// `d`: one DNS name.
    Name,
    /// `t`: text.
    Text,
    /// `T`: seconds, `infinite` for 0xffffffff.
    Secs,
    /// `L`: an unsigned 32-bit number.
    U32,
    /// `S`: an unsigned 16-bit number.
    U16,
    /// `B`: one byte, as a number.
    U8,
    /// `SA`: 16-bit numbers.
    U16s,
    /// `Nstatus-codes.to`: a status code's name, then its message.
    Status,
    /// `Z`: no data (a flag).
    Flag,
    /// A structure dhcpc does not print (encapsulated spaces, records): not exported.
    Other,
}

use Format::*;

/// (code, name, format) of each option ISC DHCP 4.4.3's Debian build knows in the `dhcp6` space.
pub const OPTIONS: &[(u16, &str, Format)] = &[
    (1, "client-id", Bytes),
    (2, "server-id", Bytes),
    (3, "ia-na", Bytes),
    (4, "ia-ta", Bytes),
    (5, "ia-addr", Bytes),
    (6, "oro", U16s),
    (7, "preference", U8),
    (8, "elapsed-time", U16),
    (9, "relay-msg", Bytes),
    (12, "unicast", Addr),
    (13, "status-code", Status),
    (14, "rapid-commit", Flag),
    (17, "vendor-opts", Other),
    (18, "interface-id", Bytes),
    (19, "reconf-msg", Other),
    (20, "reconf-accept", Flag),
    (21, "sip-servers-names", Names),
    (22, "sip-servers-addresses", Addrs),
    (23, "name-servers", Addrs),
    (24, "domain-search", Names),
    (25, "ia-pd", Bytes),
    (26, "ia-prefix", Bytes),
    (27, "nis-servers", Addrs),
    (28, "nisp-servers", Addrs),
    (29, "nis-domain-name", Names),
    (30, "nisp-domain-name", Names),
    (31, "sntp-servers", Addrs),
    (32, "info-refresh-time", Secs),
    (33, "bcms-server-d", Names),
    (34, "bcms-server-a", Addrs),
    (36, "geoconf-civic", Bytes),
    (37, "remote-id", Bytes),
    (38, "subscriber-id", Bytes),
    (39, "fqdn", Other),
    (40, "pana-agent", Addrs),
    (41, "new-posix-timezone", Text),
    (42, "new-tzdb-timezone", Text),
    (43, "ero", U16s),
    (44, "lq-query", Bytes),
    (45, "client-data", Bytes),
    (46, "clt-time", U32),
    (47, "lq-relay-data", Other),
    (48, "lq-client-link", Addrs),
    (51, "v6-lost", Name),
    (52, "capwap-ac-v6", Addrs),
    (53, "relay-id", Bytes),
    (57, "v6-access-domain", Name),
    (58, "sip-ua-cs-list", Names),
    (59, "bootfile-url", Text),
    (60, "bootfile-param", Bytes),
    (61, "client-arch-type", U16s),
    (62, "nii", Other),
    (64, "aftr-name", Name),
    (65, "erp-local-domain-name", Name),
    (74, "rdnss-selection", Other),
    (79, "client-linklayer-addr", Bytes),
    (80, "link-address", Addr),
    (82, "solmax-rt", U32),
    (83, "inf-max-rt", U32),
    (87, "dhcpv4-msg", Bytes),
    (88, "dhcp4-o-dhcp6-server", Addrs),
    (103, "v6-captive-portal", Text),
    (135, "relay-source-port", S16),
    (143, "ipv6-address-andsf", Addrs),
];

/// `S` under another name, so that the table above reads as ISC's.
const S16: Format = U16;

/// The name and format of option `code`: ISC's, or `unknown-N` printed as bytes.
pub fn lookup(code: u16) -> (String, Format) {
    match OPTIONS.iter().find(|(c, _, _)| *c == code) {
        Some((_, n, f)) => (n.to_string(), *f),
        None => (format!("unknown-{code}"), Bytes),
    }
}

/// The code of option `name` (as in `dhcp6.NAME`, `unknown-N` too).
pub fn code(name: &str) -> Option<u16> {
    if let Some(n) = name.strip_prefix("unknown-") {
        return n.parse().ok();
    }
    OPTIONS
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(c, _, _)| *c)
}

/// RFC 8415 21.13's status codes, by ISC's names (`dhcpv6_status_code_values`).
const STATUS: &[&str] = &[
    "success",
    "UnspecFail",
    "NoAddrsAvail",
    "NoBinding",
    "NotOnLink",
    "UseMulticast",
    "NoPrefixAvail",
    "UnknownQueryType",
    "MalformedQuery",
    "NotConfigured",
    "NotAllowed",
    "QueryTerminated",
];

/// A status code as ISC prints it: its name, or the number for one it does not name.
pub fn status_name(code: u16) -> String {
    STATUS
        .get(usize::from(code))
        .map_or_else(|| code.to_string(), |s| s.to_string())
}

/// The code of a status name (or number), as the lease file has it.
pub fn status_code(word: &str) -> Option<u16> {
    match STATUS.iter().position(|s| *s == word) {
        Some(i) => u16::try_from(i).ok(),
        None => word.parse().ok(),
    }
}

/// Whether ISC prints `X` data as text: every byte printable ASCII, but for a trailing NUL.
pub fn is_text(data: &[u8]) -> bool {
    let body = data.strip_suffix(&[0]).unwrap_or(data);
    !data.is_empty() && body.iter().all(|b| (0x20..0x7f).contains(b))
}

/// Bytes as ISC prints `X` data that is not text: `%x` each, `:` between (`0:1:a:ff`).
pub fn hex(data: &[u8]) -> String {
    data.iter()
        .map(|b| format!("{b:x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Text as ISC's `pretty_escape` leaves it: `"'$\`\\|&` after a backslash, other bytes that
/// are not printable as octal escapes, a trailing NUL dropped.
pub fn escape(data: &[u8]) -> String {
    let body = data.strip_suffix(&[0]).unwrap_or(data);
    let mut s = String::new();
    for &b in body {
        match b {
            b'"' | b'\'' | b'$' | b'`' | b'\\' | b'|' | b'&' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s
}

/// IPv6 addresses, 16 bytes each; `None` unless the data is a whole number of them (ISC
/// prints a partial one as `<error>`, which is not passed on).
pub fn addrs(data: &[u8]) -> Option<Vec<Ipv6Addr>> {
    if data.is_empty() || data.len() % 16 != 0 {
        return None;
    }
    Some(
        data.chunks(16)
            .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).unwrap_or([0; 16])))
            .collect(),
    )
}

/// DNS names in wire format (RFC 1035 3.1, uncompressed as RFC 8415 10 requires), without
/// their trailing dots; `None` when the data is not a list of whole names.
pub fn decode_names(data: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let mut labels = Vec::new();
        loop {
            let len = usize::from(*data.get(i)?);
            i += 1;
            if len == 0 {
                break;
            }
            if len > 63 {
                return None;
            }
            let label = data.get(i..i + len)?;
            labels.push(String::from_utf8_lossy(label).into_owned());
            i += len;
        }
        names.push(labels.join("."));
    }
    Some(names)
}

/// DNS names (with or without their trailing dots) in wire format; `None` for a name with an
/// empty label or a label longer than 63 bytes.
pub fn encode_names<S: AsRef<str>>(names: &[S]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for n in names {
        let n = n.as_ref().strip_suffix('.').unwrap_or(n.as_ref());
        if !n.is_empty() {
            for label in n.split('.') {
                let len = u8::try_from(label.len())
                    .ok()
                    .filter(|l| (1..64).contains(l))?;
                out.push(len);
                out.extend_from_slice(label.as_bytes());
            }
        }
        out.push(0);
    }
    Some(out)
}

/// RFC 5908's NTP server option (56): its server and multicast addresses and server names,
/// as text; `None` when the suboptions do not parse.
pub fn ntp_servers(data: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let kind = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
        let len = usize::from(u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]));
        let body = rest.get(4..4 + len)?;
        match kind {
            1 | 2 => out.push(addrs(body).filter(|a| a.len() == 1)?[0].to_string()),
            3 => out.extend(decode_names(body).filter(|n| n.len() == 1)?),
            _ => {}
        }
        rest = &rest[4 + len..];
    }
    Some(out)
}

/// Option 56's data for `servers` (addresses as server addresses, multicast ones as multicast
/// addresses, anything else as a server name); `None` for a name that does not encode.
pub fn encode_ntp(servers: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for s in servers {
        let (kind, body) = match s.parse::<Ipv6Addr>() {
            Ok(a) if a.is_multicast() => (2u16, a.octets().to_vec()),
            Ok(a) => (1, a.octets().to_vec()),
            Err(_) => (3, encode_names(std::slice::from_ref(s))?),
        };
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&u16::try_from(body.len()).ok()?.to_be_bytes());
        out.extend_from_slice(&body);
    }
    Some(out)
}

/// Options a lease keeps in fields of its own, which [`lease_options`] prints from them.
const TYPED: [u16; 5] = [1, 2, 23, 24, 31];

/// The options dhclient keeps at a lease's top level (and exports and writes), by code: the
/// reply's options but its IAs (3, 4, 25, which hold 5 and 26), its preference (7) and a
/// NoAddrsAvail or NoPrefixAvail status (13). The client's DUID (the server's echo, else
/// `client_duid`), the server's, the DNS servers, search list and SNTP servers come from the
/// lease's fields, which the boundary judged; the NTP servers too when their option was not
/// kept; the rest as received.
pub fn lease_options(lease: &Lease6, client_duid: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let addrs = |v: &[Ipv6Addr]| -> Vec<u8> { v.iter().flat_map(|a| a.octets()).collect() };
    let echoed = lease.options.iter().find(|(c, _)| *c == 1);
    let mut out = vec![
        (
            1,
            echoed.map_or_else(|| client_duid.to_vec(), |(_, d)| d.clone()),
        ),
        (2, lease.server_id.clone()),
        (23, addrs(&lease.dns)),
        (24, encode_names(&lease.search).unwrap_or_default()),
        (31, addrs(&lease.sntp)),
    ];
    if !lease.options.iter().any(|(c, _)| *c == 56) {
        out.push((56, encode_ntp(&lease.ntp).unwrap_or_default()));
    }
    out.retain(|(_, d)| !d.is_empty());
    for (code, data) in &lease.options {
        let no_binding = *code == 13 && matches!(data.get(..2), Some([0, 2] | [0, 6]));
        if !TYPED.contains(code) && ![3, 4, 5, 7, 25, 26].contains(code) && !no_binding {
            out.push((*code, data.clone()));
        }
    }
    out.sort_by_key(|(c, _)| *c);
    out
}

/// `data` as ISC prints `format` in a lease file; `None` for what does not print (malformed,
/// a structure, a name that is not a host name).
pub fn file_value(format: Format, data: &[u8]) -> Option<String> {
    let num = |n: usize| -> Option<u64> {
        let b = data.get(..n)?;
        Some(b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    };
    let quoted = |d: &[u8]| format!("\"{}\"", escape(d));
    let names = || -> Option<Vec<String>> {
        let n = decode_names(data)?;
        (!n.is_empty() && n.iter().all(|x| is_host_name(x))).then_some(n)
    };
    Some(match format {
        Format::Bytes if is_text(data) => quoted(data),
        Format::Bytes => hex(data),
        Format::Addrs => join(addrs(data)?, ","),
        Format::Addr => join(addrs(data).filter(|a| a.len() == 1)?, ","),
        Format::Names => join(names()?.iter().map(|n| format!("\"{n}.\"")), ", "),
        Format::Name => format!("{}.", names().filter(|n| n.len() == 1)?[0]),
        Format::Text => quoted(data),
        Format::Secs if num(4)? == 0xffff_ffff => "infinite".into(),
        Format::Secs | Format::U32 => num(4)?.to_string(),
        Format::U16 => num(2)?.to_string(),
        Format::U8 => num(1)?.to_string(),
        Format::U16s if data.len() >= 2 => join(
            data.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
            ",",
        ),
        Format::Status => match data.get(2..)? {
            [] => status_name(num(2)? as u16),
            text => format!("{} {}", status_name(num(2)? as u16), quoted(text)),
        },
        Format::Flag if data.is_empty() => String::new(),
        Format::U16s | Format::Flag | Format::Other => return None,
    })
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The tokens of a list, without its commas.
fn words_list(ks: &[Kind]) -> Vec<&Kind> {
    ks.iter().filter(|k| **k != Kind::Punct(',')).collect()
}

pub(super) fn word(k: &Kind) -> Option<&str> {
    match k {
        Kind::Word(w) => Some(w),
        _ => None,
    }
}

/// The data of an option whose value in the file is `v`, read as `format`.
pub fn file_bytes(format: Format, v: &[Kind]) -> Option<Vec<u8>> {
    let list = words_list(v);
    let numbers = |size: usize| -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for k in &list {
            let n: u64 = match word(k)? {
                "infinite" if format == Format::Secs => 0xffff_ffff,
                w => w.parse().ok().filter(|n| *n >> (8 * size) == 0)?,
            };
            out.extend_from_slice(&n.to_be_bytes()[8 - size..]);
        }
        (!out.is_empty()).then_some(out)
    };
    match format {
        Format::Bytes => match v {
            [Kind::Str(s)] => Some(lex::bytes(s)),
            [Kind::Word(w)] => hex_octets(w),
            _ => None,
        },
        Format::Addrs | Format::Addr => {
            let addrs: Option<Vec<Ipv6Addr>> = list.iter().map(|k| word(k)?.parse().ok()).collect();
            let addrs = addrs.filter(|a| !a.is_empty())?;
            (format == Format::Addrs || addrs.len() == 1)
                .then(|| addrs.iter().flat_map(|a| a.octets()).collect())
        }
        Format::Names | Format::Name => {
            let names: Option<Vec<String>> = list
                .iter()
                .map(|k| match k {
                    Kind::Str(s) | Kind::Word(s) => Some(s.clone()),
                    Kind::Punct(_) => None,
                })
                .collect();
            let names = names.filter(|n| !n.is_empty())?;
            (format == Format::Names || names.len() == 1).then_some(())?;
            encode_names(&names)
        }
        Format::Text => match v {
            [Kind::Str(s)] => Some(lex::bytes(s)),
            _ => None,
        },
        Format::Secs | Format::U32 => numbers(4).filter(|b| b.len() == 4),
        Format::U16 => numbers(2).filter(|b| b.len() == 2),
        Format::U8 => numbers(1).filter(|b| b.len() == 1),
        Format::U16s => numbers(2),
        Format::Status => {
            let code = status_code(word(v.first()?)?)?;
            let text = match v.get(1..)? {
                [] => vec![],
                [Kind::Str(s)] => lex::bytes(s),
                _ => return None,
            };
            Some([&code.to_be_bytes()[..], &text].concat())
        }
        Format::Flag => v.is_empty().then(Vec::new),
        Format::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes() {
        assert_eq!(lookup(23), ("name-servers".to_string(), Addrs));
        assert_eq!(lookup(56), ("unknown-56".to_string(), Bytes));
        assert_eq!(code("domain-search"), Some(24));
        assert_eq!(code("unknown-56"), Some(56));
        assert_eq!(code("no-such"), None);
        for (c, n, _) in OPTIONS {
            assert_eq!(code(n), Some(*c), "{n}");
        }
        assert_eq!(status_name(2), "NoAddrsAvail");
        assert_eq!(status_name(99), "99");
        assert_eq!(status_code("success"), Some(0));
        assert_eq!(status_code("99"), Some(99));
    }

    #[test]
    fn bytes_print_as_isc_prints_them() {
        // From dhclient 4.4.3's environment: new_dhcp6_server_id=0:3:0:1:2:0:0:0:0:1.
        assert_eq!(hex(&[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]), "0:3:0:1:2:0:0:0:0:1");
        assert!(is_text(b"abc\0") && !is_text(b"a\0c") && !is_text(b""));
        assert_eq!(escape(b"a$b'c\x01\0"), "a\\$b\\'c\\001");
    }

    #[test]
    fn names_go_both_ways() {
        let wire = encode_names(&["example.com.", "lab.example.org"]).unwrap();
        assert_eq!(&wire[..13], b"\x07example\x03com\x00");
        assert_eq!(
            decode_names(&wire).unwrap(),
            vec!["example.com", "lab.example.org"]
        );
        assert_eq!(decode_names(b"\x03abc"), None);
        assert_eq!(decode_names(b"\xc0\x00"), None);
        assert_eq!(encode_names(&["a..b"]), None);
        assert_eq!(encode_names(&["x".repeat(64)]), None);
    }

    #[test]
    fn ntp_suboptions_go_both_ways() {
        let servers = vec![
            "2001:db8::123".to_string(),
            "ff05::101".to_string(),
            "ntp.example.com".to_string(),
        ];
        let data = encode_ntp(&servers).unwrap();
        assert_eq!(data[..4], [0, 1, 0, 16]);
        assert_eq!(ntp_servers(&data), Some(servers));
        assert_eq!(ntp_servers(&[0, 1, 0, 15]), None);
        assert_eq!(ntp_servers(&[0, 9, 0, 0]), Some(vec![]));
        assert_eq!(addrs(&[0; 15]), None);
    }
}
