//! dhclient's DHCPv6 lease file (dhclient.leases(5)), as `dhclient -6 -lf FILE` keeps it:
//! `lease6 { }` blocks that dhcpc writes at every lease and reads back at a restart.
//!
//! ```text
//! default-duid "\000\001\000\0012\244I\302\002\000\000\252\273\314";
//! lease6 {
//!   interface "eth0";
//!   ia-na 00:aa:bb:cc {
//!     starts 1796312388;
//!     renew 0;
//!     rebind 0;
//!     iaaddr 2001:db8:1::1f3 {
//!       starts 1796312388;
//!       preferred-life 300;
//!       max-life 600;
//!     }
//!   }
//!   ia-pd 00:aa:bb:cc {
//!     ...
//!     iaprefix 2001:db8:1ff::/56 { ... }
//!   }
//!   option dhcp6.client-id 0:1:0:1:32:a4:49:c2:2:0:0:aa:bb:cc;
//!   option dhcp6.server-id 0:3:0:1:2:0:0:0:0:1;
//!   option dhcp6.name-servers 2001:db8:1::53,2001:db8:1::54;
//!   option dhcp6.domain-search "example.com.", "lab.example.org.";
//! }
//! ```
//! As ISC dhclient 4.4.3 writes it (`write_client6_lease`; recorded in
//! `src/v6/testdata/dhclient6.leases`): `starts` is Unix time, `renew` and `rebind` are T1
//! and T2 as the server sent them, the IAID is `print_hex_1`'s (hex pairs, or quoted text when
//! all four bytes are printable), options are printed as for `dhclient.conf` (lists with
//! commas). After a release dhclient writes the lease again with `released;`, and does not
//! confirm such a lease at the next start. A lease without IAs (stateless) is not kept.
//!
//! dhcpc rewrites the file at every lease (atomically), keeping the `default-duid` line and
//! the blocks of other interfaces (v4 `lease { }` blocks included), with one block, the newest,
//! for its own. Pure: text in, text out; never panics.

use super::duid::hex_octets;
use super::lex::{self, Kind, Statement};
use super::names6::{self, file_bytes, file_value, word};
use crate::hookenv::is_host_name;
use crate::time::Instant;
use crate::v6::{iaid, Holdings, Ia, IaAddr, IaPrefix, Lease6, StatusCode, INFINITY};
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// The `lease6` block for `lease` on `iface`, begun at Unix time `starts`, with the client's
/// DUID `client_duid` (for `dhcp6.client-id` when the lease did not keep the server's echo);
/// `released` after a RELEASE, as dhclient marks it.
pub fn render(
    iface: &str,
    lease: &Lease6,
    client_duid: &[u8],
    starts: u64,
    released: bool,
) -> String {
    let mut s = String::from("lease6 {\n");
    let _ = writeln!(s, "  interface {};", super::leases::quote(iface.as_bytes()));
    for ia in &lease.ias {
        let kind = match ia.holdings {
            Holdings::Addresses(_) => "ia-na",
            Holdings::Prefixes(_) => "ia-pd",
        };
        let _ = writeln!(s, "  {kind} {} {{", iaid::text(ia.iaid));
        let _ = writeln!(s, "    starts {starts};\n    renew {};", ia.t1);
        let _ = writeln!(s, "    rebind {};", ia.t2);
        let lives = |s: &mut String, head: String, preferred: u32, valid: u32| {
            let _ = writeln!(s, "    {head} {{\n      starts {starts};");
            let _ = writeln!(s, "      preferred-life {preferred};");
            let _ = writeln!(s, "      max-life {valid};\n    }}");
        };
        match &ia.holdings {
            Holdings::Addresses(v) => {
                for a in v {
                    lives(&mut s, format!("iaaddr {}", a.addr), a.preferred, a.valid);
                }
            }
            Holdings::Prefixes(v) => {
                for p in v {
                    let head = format!("iaprefix {}/{}", p.prefix, p.len);
                    lives(&mut s, head, p.preferred, p.valid);
                }
            }
        }
        s.push_str("  }\n");
    }
    if released {
        s.push_str("  released;\n");
    }
    for (code, data) in names6::lease_options(lease, client_duid) {
        let (name, format) = names6::lookup(code);
        match file_value(format, &data) {
            Some(v) if v.is_empty() => {
                let _ = writeln!(s, "  option dhcp6.{name};");
            }
            Some(v) => {
                let _ = writeln!(s, "  option dhcp6.{name} {v};");
            }
            None => {}
        }
    }
    s.push_str("}\n");
    s
}

/// One `lease6 { }` block, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block6 {
    pub interface: Option<String>,
    /// The lease, its lifetimes and T1 and T2 counted from `starts` (`start` is the `now`
    /// given to the parser).
    pub lease: Lease6,
    /// The Unix time the lease began: the earliest `starts` in the block.
    pub starts: u64,
    /// Marked `released` (or `abandoned`): not to be asked for again.
    pub released: bool,
}

/// An address or prefix and the Unix time its lifetimes count from.
type Dated<T> = (T, Option<u64>);

/// What one IA's block says.
struct IaRead {
    iaid: u32,
    starts: Option<u64>,
    t1: u32,
    t2: u32,
    addrs: Vec<Dated<IaAddr>>,
    prefixes: Vec<Dated<IaPrefix>>,
}

fn number<T: std::str::FromStr>(ks: &[Kind]) -> Result<T, String> {
    match ks {
        [Kind::Word(w)] => w.parse().map_err(|_| format!("not a number: {w}")),
        _ => Err("not a number".into()),
    }
}

/// An IAID as written: four bytes, as hex octets or a quoted string.
fn read_iaid(k: Option<&Kind>) -> Result<u32, String> {
    let bytes = match k {
        Some(Kind::Word(w)) => hex_octets(w),
        Some(Kind::Str(s)) => Some(lex::bytes(s)),
        _ => None,
    };
    let b: [u8; 4] = bytes
        .and_then(|b| b.try_into().ok())
        .ok_or("an IAID is not 4 bytes")?;
    Ok(u32::from_be_bytes(b))
}

/// `starts`, `preferred-life` and `max-life` of an `iaaddr` or `iaprefix` block.
fn lives(st: &[Statement]) -> Result<(Option<u64>, u32, u32), String> {
    let (mut starts, mut preferred, mut valid) = (None, None, None);
    for s in st {
        match s.head.split_first() {
            Some((Kind::Word(k), rest)) if k == "starts" => starts = Some(number(rest)?),
            Some((Kind::Word(k), rest)) if k == "preferred-life" => preferred = Some(number(rest)?),
            Some((Kind::Word(k), rest)) if k == "max-life" => valid = Some(number(rest)?),
            _ => {}
        }
    }
    let preferred = preferred.ok_or("an address or prefix without preferred-life")?;
    let valid = valid.ok_or("an address or prefix without max-life")?;
    Ok((starts, preferred, valid))
}

/// One `ia-na` or `ia-pd` block.
fn read_ia(s: &Statement) -> Result<IaRead, String> {
    let mut ia = IaRead {
        iaid: read_iaid(s.head.get(1))?,
        starts: None,
        t1: 0,
        t2: 0,
        addrs: vec![],
        prefixes: vec![],
    };
    for st in s.block.as_deref().unwrap_or(&[]) {
        let (Some(Kind::Word(key)), rest) = (st.head.first(), st.head.get(1..).unwrap_or(&[]))
        else {
            continue;
        };
        let inner = st.block.as_deref().unwrap_or(&[]);
        match key.as_str() {
            "starts" => ia.starts = Some(number(rest)?),
            "renew" => ia.t1 = number(rest)?,
            "rebind" => ia.t2 = number(rest)?,
            "iaaddr" => {
                let addr = rest.first().and_then(word).and_then(|w| w.parse().ok());
                let addr = addr.ok_or("iaaddr without an IPv6 address")?;
                let (starts, preferred, valid) = lives(inner)?;
                let a = IaAddr {
                    addr,
                    preferred,
                    valid,
                };
                ia.addrs.push((a, starts));
            }
            "iaprefix" => {
                let p = rest.first().and_then(word).and_then(|w| w.split_once('/'));
                let p = p.and_then(|(a, l)| Some((a.parse().ok()?, l.parse().ok()?)));
                let (prefix, len) = p
                    .filter(|(_, l): &(Ipv6Addr, u8)| *l <= 128)
                    .ok_or("iaprefix without an IPv6 prefix")?;
                let (starts, preferred, valid) = lives(inner)?;
                let p = IaPrefix {
                    prefix,
                    len,
                    preferred,
                    valid,
                };
                ia.prefixes.push((p, starts));
            }
            _ => {}
        }
    }
    Ok(ia)
}

/// `secs` counted from `from` instead of `base` (earlier): longer by the difference, "for
/// ever" staying so, and never reaching it.
fn shifted(secs: u32, from: u64, base: u64) -> u32 {
    if secs == INFINITY {
        return INFINITY;
    }
    let d = from.saturating_sub(base);
    u32::try_from(u64::from(secs) + d)
        .unwrap_or(INFINITY - 1)
        .min(INFINITY - 1)
}

/// The IAs of the block, their times counted from `base`: addresses and prefixes whose
/// preferred lifetime is longer than their valid one are left out, as dhclient leaves them.
fn into_ias(read: Vec<(bool, IaRead)>, base: u64) -> Vec<Ia> {
    let mut ias = Vec::new();
    for (pd, r) in read {
        let ia_starts = r.starts.unwrap_or(base);
        let t = |v: u32| {
            if v == 0 {
                0
            } else {
                shifted(v, ia_starts, base)
            }
        };
        let at = |s: Option<u64>| s.unwrap_or(ia_starts);
        let holdings = if pd {
            Holdings::Prefixes(
                r.prefixes
                    .into_iter()
                    .filter(|(p, _)| p.preferred <= p.valid)
                    .map(|(p, s)| IaPrefix {
                        preferred: shifted(p.preferred, at(s), base),
                        valid: shifted(p.valid, at(s), base),
                        ..p
                    })
                    .collect(),
            )
        } else {
            Holdings::Addresses(
                r.addrs
                    .into_iter()
                    .filter(|(a, _)| a.preferred <= a.valid)
                    .map(|(a, s)| IaAddr {
                        preferred: shifted(a.preferred, at(s), base),
                        valid: shifted(a.valid, at(s), base),
                        ..a
                    })
                    .collect(),
            )
        };
        ias.push(Ia {
            iaid: r.iaid,
            t1: t(r.t1),
            t2: t(r.t2),
            status: StatusCode::Success,
            holdings,
        });
    }
    ias
}

/// A DNS server the boundary would keep: not unspecified, loopback, multicast or link-local.
fn usable_server(a: &Ipv6Addr) -> bool {
    !a.is_unspecified()
        && !a.is_loopback()
        && !a.is_multicast()
        && a.segments()[0] & 0xffc0 != 0xfe80
}

/// The options of a `lease6` block: (code, data) of each `option dhcp6.NAME value;` that
/// reads, by code; others are passed over (a restart asks the server again anyway).
fn read_option(rest: &[Kind]) -> Option<(u16, Vec<u8>)> {
    let (Some(Kind::Word(name)), v) = (rest.first(), rest.get(1..).unwrap_or(&[])) else {
        return None;
    };
    let code = names6::code(name.strip_prefix("dhcp6.")?)?;
    Some((code, file_bytes(names6::lookup(code).1, v)?))
}

/// Reads one `lease6` block's statements (`start` is `now`, not yet re-based).
fn block(st: &[Statement], now: Instant) -> Result<Block6, String> {
    let (mut interface, mut released) = (None, false);
    let (mut ias, mut options) = (Vec::new(), Vec::new());
    for s in st {
        let (Some(Kind::Word(key)), rest) = (s.head.first(), s.head.get(1..).unwrap_or(&[])) else {
            continue;
        };
        let at = |e: String| format!("line {}: {e}", s.line);
        match key.as_str() {
            "interface" => match rest {
                [Kind::Str(i)] => interface = Some(i.clone()),
                _ => return Err(at("interface is not a quoted string".into())),
            },
            "ia-na" | "ia-pd" => ias.push((key == "ia-pd", read_ia(s).map_err(at)?)),
            "released" | "abandoned" => released = true,
            "option" => options.extend(read_option(rest)),
            // ia-ta (dhcpc asks for no temporary addresses), and what later versions add.
            _ => {}
        }
    }
    options.sort_by_key(|(c, _)| *c);
    let lease = lease_of(ias, options, now)?;
    Ok(Block6 {
        interface,
        starts: lease.1,
        lease: lease.0,
        released,
    })
}

/// The lease the IAs and options make, and when it began.
fn lease_of(
    ias: Vec<(bool, IaRead)>,
    options: Vec<(u16, Vec<u8>)>,
    now: Instant,
) -> Result<(Lease6, u64), String> {
    if ias.is_empty() {
        return Err("a lease6 without ia-na or ia-pd".into());
    }
    let every_start = ias.iter().flat_map(|(_, r)| {
        let inner = r.addrs.iter().map(|(_, s)| *s);
        let inner = inner.chain(r.prefixes.iter().map(|(_, s)| *s));
        std::iter::once(r.starts).chain(inner).flatten()
    });
    let base = every_start.min().ok_or("a lease6 without starts")?;
    let get = |code: u16| options.iter().find(|(c, _)| *c == code).map(|(_, d)| d);
    let server_id = get(2).cloned().ok_or("a lease6 without dhcp6.server-id")?;
    let addrs = |code| -> Vec<Ipv6Addr> {
        let list = get(code).and_then(|d| names6::addrs(d)).unwrap_or_default();
        list.into_iter().filter(usable_server).collect()
    };
    let search = get(24).and_then(|d| names6::decode_names(d));
    let lease = Lease6 {
        server_id,
        server_addr: None,
        ias: into_ias(ias, base),
        dns: addrs(23),
        search: search
            .unwrap_or_default()
            .into_iter()
            .filter(|n| is_host_name(n))
            .collect(),
        ntp: get(56)
            .and_then(|d| names6::ntp_servers(d))
            .unwrap_or_default(),
        sntp: addrs(31),
        info_refresh: None,
        options,
        start: now,
    };
    Ok((lease, base))
}

fn is_lease6(s: &Statement) -> bool {
    s.head == [Kind::Word("lease6".into())]
}

/// Every `lease6 { }` block of `text`, read (a block that does not read as a lease is an
/// error naming its line); other statements (`default-duid`, v4 `lease { }`) are passed over.
pub fn parse_all(text: &str, now: Instant) -> Result<Vec<Block6>, String> {
    let st = lex::statements(text).map_err(|(line, e)| format!("line {line}: {e}"))?;
    st.iter()
        .filter(|s| is_lease6(s))
        .map(|s| {
            block(s.block.as_deref().unwrap_or(&[]), now).map_err(|e| {
                if e.starts_with("line ") {
                    e
                } else {
                    format!("line {}: {e}", s.line)
                }
            })
        })
        .collect()
}

/// `secs` less `spent`, "for ever" staying so.
fn less(secs: u32, spent: u32) -> u32 {
    if secs == INFINITY {
        INFINITY
    } else {
        secs.saturating_sub(spent)
    }
}

/// The lease of the newest block for `iface` (or without an interface), re-based on `now`
/// (Unix time `now_unix`): lifetimes, T1 and T2 count from now with the time already spent
/// taken off, addresses and prefixes whose valid lifetime has run out left out. `None` when
/// that block was released or holds nothing valid any more, as dhclient then starts afresh;
/// blocks that do not read as leases are passed over; an error only when the file is not in
/// this format.
pub fn latest(
    text: &str,
    iface: &str,
    now: Instant,
    now_unix: u64,
) -> Result<Option<Lease6>, String> {
    let st = lex::statements(text).map_err(|(line, e)| format!("line {line}: {e}"))?;
    let newest = st
        .iter()
        .filter(|s| is_lease6(s))
        .filter_map(|s| block(s.block.as_deref().unwrap_or(&[]), now).ok())
        .rfind(|b| b.interface.as_deref().is_none_or(|i| i == iface));
    let Some(b) = newest.filter(|b| !b.released) else {
        return Ok(None);
    };
    let spent = u32::try_from(now_unix.saturating_sub(b.starts)).unwrap_or(INFINITY - 1);
    let mut lease = b.lease;
    for ia in &mut lease.ias {
        let renew = |t: u32| match t {
            0 | INFINITY => t,
            t => t.saturating_sub(spent).max(1),
        };
        ia.t1 = renew(ia.t1);
        ia.t2 = renew(ia.t2);
        match &mut ia.holdings {
            Holdings::Addresses(v) => {
                v.retain(|a| a.valid == INFINITY || a.valid > spent);
                for a in v {
                    (a.preferred, a.valid) = (less(a.preferred, spent), less(a.valid, spent));
                }
            }
            Holdings::Prefixes(v) => {
                v.retain(|p| p.valid == INFINITY || p.valid > spent);
                for p in v {
                    (p.preferred, p.valid) = (less(p.preferred, spent), less(p.valid, spent));
                }
            }
        }
    }
    lease.ias.retain(|ia| match &ia.holdings {
        Holdings::Addresses(v) => !v.is_empty(),
        Holdings::Prefixes(v) => !v.is_empty(),
    });
    Ok((!lease.ias.is_empty()).then_some(lease))
}

/// `{` less `}` on a line, outside quoted strings and comments.
fn braces(line: &str) -> i32 {
    let (mut depth, mut quoted, mut escaped) = (0, false, false);
    for c in line.chars() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') | (false, _, '"') => quoted = !quoted,
            (false, _, '#') => break,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Whether `chunk` (one top-level statement) is a `lease6` block for `iface`.
fn ours(chunk: &str, iface: &str) -> bool {
    let Ok(st) = lex::statements(chunk) else {
        return false;
    };
    st.iter().filter(|s| is_lease6(s)).any(|s| {
        s.block.as_deref().unwrap_or(&[]).iter().any(|x| {
            matches!(x.head.as_slice(), [Kind::Word(w), Kind::Str(i)] if w == "interface" && i == iface)
        })
    })
}

/// The file after a new lease for `iface`: what `old` holds outside `iface`'s `lease6` blocks
/// (the `default-duid` line, other interfaces' blocks, v4 blocks) kept as it is, `block` (from
/// [`render`], or none to only drop them) last. An unfinished block at the end (a torn write)
/// is left out.
pub fn rewrite(old: Option<&str>, iface: &str, block: Option<&str>) -> String {
    let mut out = String::new();
    let mut chunk = String::new();
    let mut depth = 0;
    for line in old.unwrap_or("").lines() {
        if chunk.is_empty() && line.trim().is_empty() {
            continue;
        }
        chunk.push_str(line);
        chunk.push('\n');
        depth += braces(line);
        if depth <= 0 {
            if !ours(&chunk, iface) {
                out.push_str(&chunk);
            }
            chunk.clear();
            depth = 0;
        }
    }
    if let Some(b) = block {
        out.push_str(b);
    }
    out
}

#[cfg(test)]
#[path = "leases6_tests.rs"]
mod tests;
