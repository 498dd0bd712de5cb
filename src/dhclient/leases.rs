//! dhclient's lease file (dhclient.leases(5)), as `-lf FILE` names it: `lease { ... }` blocks
//! that cloud-init and other tools read, and that dhcpc reads back for INIT-REBOOT.
//!
//! ```text
//! lease {
//!   interface "eth0";
//!   fixed-address 198.51.100.23;
//!   option subnet-mask 255.255.255.0;
//!   option routers 198.51.100.1;
//!   option domain-name-servers 198.51.100.1;
//!   option dhcp-lease-time 3600;
//!   option dhcp-message-type 5;
//!   option dhcp-server-identifier 198.51.100.1;
//!   renew 2 2026/12/01 12:30:00;
//!   rebind 2 2026/12/01 12:52:30;
//!   expire 2 2026/12/01 13:00:00;
//! }
//! ```
//! Times are dhclient's default format: weekday (0 = Sunday), date and time, in UTC; `never`
//! for an infinite lease. `epoch N` (dhclient's `db-time-format local`) is read too.
//!
//! dhclient appends a block per lease and now and then rewrites the file; dhcpc rewrites it at
//! every lease (atomically), keeping what it holds for other interfaces and one block, the
//! newest, for its own: the file as dhclient leaves it right after a rewrite. Pure: text in,
//! text out; never panics.

use super::lex::{self, Kind, Statement};
use super::names;
use crate::lease::{self, Lease, Route, INFINITE, MIN_LEASE_SECS};
use crate::time::Instant;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// `W YYYY/MM/DD HH:MM:SS` (UTC) for a Unix time.
pub fn format_time(unix: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix.min(253_402_300_799) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{} {}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.weekday().number_days_from_sunday(),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The Unix time of `W YYYY/MM/DD HH:MM:SS` (UTC; the weekday is not checked, as dhclient
/// does not) or of `epoch N`; `Ok(None)` for `never`.
pub fn parse_time(ks: &[Kind]) -> Result<Option<u64>, String> {
    let words: Vec<&str> = ks
        .iter()
        .map(|k| match k {
            Kind::Word(w) => Ok(w.as_str()),
            _ => Err("a time is words and numbers".to_string()),
        })
        .collect::<Result<_, _>>()?;
    let bad = || format!("not a time: {}", words.join(" "));
    match words.as_slice() {
        ["never"] => Ok(None),
        ["epoch", n] => n.parse().map(Some).map_err(|_| bad()),
        [_weekday, date, clock] => {
            let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
            let d: Vec<&str> = date.split('/').collect();
            let c: Vec<&str> = clock.split(':').collect();
            let ([y, mo, da], [h, mi, s]) = (d.as_slice(), c.as_slice()) else {
                return Err(bad());
            };
            let month = time::Month::try_from(num(mo)? as u8).map_err(|_| bad())?;
            let year = i32::try_from(num(y)?).map_err(|_| bad())?;
            let date =
                time::Date::from_calendar_date(year, month, num(da)? as u8).map_err(|_| bad())?;
            let clock = time::Time::from_hms(num(h)? as u8, num(mi)? as u8, num(s)? as u8)
                .map_err(|_| bad())?;
            let unix = time::PrimitiveDateTime::new(date, clock)
                .assume_utc()
                .unix_timestamp();
            u64::try_from(unix).map(Some).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// A string as dhclient quotes it: `"`, `\` and bytes that are not printable ASCII escaped
/// (octal), so that nothing a server sent can end the string or the line.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:03o}");
            }
        }
    }
    s.push('"');
    s
}

fn addr_list(v: &[Ipv4Addr]) -> String {
    v.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn mask_of(prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - u32::from(prefix_len.min(32)))
            .unwrap_or(0),
    )
}

/// The lease block for `lease` on `iface`, which started at Unix time `acquired`.
pub fn render(iface: &str, lease: &Lease, acquired: u64) -> String {
    let when = |secs: u32| {
        if lease.lease_secs == INFINITE {
            "never".to_string()
        } else {
            format_time(acquired + u64::from(secs))
        }
    };
    let mut s = String::from("lease {\n");
    let _ = writeln!(s, "  interface {};", quote(iface.as_bytes()));
    let _ = writeln!(s, "  fixed-address {};", lease.address);
    for (code, text) in options(lease) {
        let _ = writeln!(s, "  option {} {text};", names::name(code));
    }
    let _ = writeln!(s, "  renew {};", when(lease.t1_secs));
    let _ = writeln!(s, "  rebind {};", when(lease.t2_secs));
    let _ = writeln!(s, "  expire {};", when(lease.lease_secs));
    s.push_str("}\n");
    s
}

/// The block's options, by code, each's value as dhclient writes it: those dhcpc knows, then
/// the rest of what the server sent.
fn options(lease: &Lease) -> Vec<(u8, String)> {
    let mut opts = known_options(lease);
    // The rest of what the server sent, as dhclient writes options it has no type for.
    let typed: Vec<u8> = opts.iter().map(|(c, _)| *c).chain([249]).collect();
    for (code, data) in &lease.options {
        if typed.contains(&code) || opts.iter().any(|(c, _)| *c == code) {
            continue;
        }
        let text = if !data.is_empty() && data.iter().all(|b| (0x20..0x7f).contains(b)) {
            quote(data)
        } else {
            data.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        if !text.is_empty() {
            opts.push((code, text));
        }
    }
    opts.sort_by_key(|(c, _)| *c);
    opts
}

/// The options the lease has fields for.
fn known_options(lease: &Lease) -> Vec<(u8, String)> {
    let mut opts: Vec<(u8, String)> = vec![
        (1, mask_of(lease.prefix_len).to_string()),
        (28, lease.broadcast.to_string()),
        (51, lease.lease_secs.to_string()),
        (53, "5".into()),
        (54, lease.server_id.to_string()),
    ];
    if lease.lease_secs != INFINITE {
        opts.push((58, lease.t1_secs.to_string()));
        opts.push((59, lease.t2_secs.to_string()));
    }
    if !lease.routers.is_empty() {
        opts.push((3, addr_list(&lease.routers)));
    }
    if !lease.dns.is_empty() {
        opts.push((6, addr_list(&lease.dns)));
    }
    if !lease.ntp.is_empty() {
        opts.push((42, addr_list(&lease.ntp)));
    }
    if let Some(d) = &lease.domain {
        opts.push((15, quote(d.as_bytes())));
    }
    if let Some(m) = lease.mtu {
        opts.push((26, m.to_string()));
    }
    if !lease.search.is_empty() {
        let s: Vec<String> = lease.search.iter().map(|d| quote(d.as_bytes())).collect();
        opts.push((119, s.join(", ")));
    }
    if !lease.classless_routes.is_empty() {
        opts.push((121, classless_text(&lease.classless_routes)));
    }
    opts
}

/// Classless static routes as Debian's dhclient.conf declares them: `array of unsigned
/// integer 8`, the RFC 3442 encoding as decimal bytes.
fn classless_text(routes: &[Route]) -> String {
    let mut bytes = Vec::new();
    for r in routes {
        bytes.push(r.prefix_len);
        let octets = r.dest.octets();
        bytes.extend_from_slice(&octets[..usize::from(r.prefix_len.div_ceil(8))]);
        bytes.extend_from_slice(&r.gateway.octets());
    }
    let s: Vec<String> = bytes.iter().map(u8::to_string).collect();
    s.join(",")
}

/// The file after a new lease for `iface`: what `old` holds for other interfaces (and outside
/// any lease, such as `default-duid`) kept as it is, `iface`'s blocks dropped, `block` (from
/// [`render`], or none to only drop them) last.
pub fn rewrite(old: Option<&str>, iface: &str, block: Option<&str>) -> String {
    let mut out = String::new();
    let mut chunk = String::new();
    let mut inside = false;
    for line in old.unwrap_or("").lines() {
        let t = line.trim();
        if !inside && t.starts_with("lease") && t.ends_with('{') {
            inside = true;
            chunk.clear();
        }
        if inside {
            chunk.push_str(line);
            chunk.push('\n');
            if t == "}" {
                inside = false;
                let ours = blocks(&chunk).is_some_and(|b| {
                    b.iter()
                        .any(|s| interface_of(s).is_some_and(|i| i == iface))
                });
                if !ours {
                    out.push_str(&chunk);
                }
            }
        } else if !t.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    // An unfinished block at the end (a torn write) is left out.
    if let Some(b) = block {
        out.push_str(b);
    }
    out
}

fn blocks(text: &str) -> Option<Vec<Statement>> {
    lex::statements(text).ok()
}

fn interface_of(s: &Statement) -> Option<&str> {
    s.block
        .as_ref()?
        .iter()
        .find_map(|st| match st.head.as_slice() {
            [Kind::Word(w), Kind::Str(i)] if w == "interface" => Some(i.as_str()),
            _ => None,
        })
}

/// One `lease { }` block, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub interface: Option<String>,
    pub lease: Lease,
    /// When it started (Unix time): its expiry less its lease time.
    pub acquired: u64,
    pub expire: Option<u64>,
}

fn words_list(ks: &[Kind]) -> Vec<&Kind> {
    ks.iter().filter(|k| **k != Kind::Punct(',')).collect()
}

fn addrs(ks: &[Kind]) -> Result<Vec<Ipv4Addr>, String> {
    words_list(ks)
        .into_iter()
        .map(|k| match k {
            Kind::Word(w) => w.parse().map_err(|_| format!("not an address: {w}")),
            _ => Err("not an address".to_string()),
        })
        .collect()
}

fn one_addr(ks: &[Kind]) -> Result<Ipv4Addr, String> {
    match addrs(ks)?.as_slice() {
        [a] => Ok(*a),
        _ => Err("not one address".into()),
    }
}

fn number<T: std::str::FromStr>(ks: &[Kind]) -> Result<T, String> {
    match ks {
        [Kind::Word(w)] => w.parse().map_err(|_| format!("not a number: {w}")),
        _ => Err("not a number".into()),
    }
}

fn string(ks: &[Kind]) -> Result<String, String> {
    match ks {
        [Kind::Str(s)] => Ok(s.clone()),
        _ => Err("not a quoted string".into()),
    }
}

fn classless(ks: &[Kind]) -> Result<Vec<Route>, String> {
    let bytes: Vec<u8> = words_list(ks)
        .into_iter()
        .map(|k| match k {
            Kind::Word(w) => w.parse::<u8>().map_err(|_| format!("not a byte: {w}")),
            _ => Err("not a byte".into()),
        })
        .collect::<Result<_, _>>()?;
    let mut routes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let len = bytes[i];
        let n = usize::from(len.div_ceil(8));
        if len > 32 || i + 1 + n + 4 > bytes.len() {
            return Err("bad rfc3442-classless-static-routes".into());
        }
        let mut dest = [0u8; 4];
        dest[..n].copy_from_slice(&bytes[i + 1..i + 1 + n]);
        let g = &bytes[i + 1 + n..i + 5 + n];
        routes.push(Route {
            dest: Ipv4Addr::from(dest),
            prefix_len: len,
            gateway: Ipv4Addr::new(g[0], g[1], g[2], g[3]),
        });
        i += 5 + n;
    }
    Ok(routes)
}

/// What a block's statements say, as read, before they are checked to make a lease.
struct Fields {
    iface: Option<String>,
    address: Option<Ipv4Addr>,
    mask: Option<Ipv4Addr>,
    bcast: Option<Ipv4Addr>,
    server: Option<Ipv4Addr>,
    secs: Option<u32>,
    renew: Option<u64>,
    rebind: Option<u64>,
    /// `None` when there is no `expire`; `Some(None)` for `expire never`.
    expire: Option<Option<u64>>,
    /// The lease's other fields, filled as read.
    lease: Lease,
}

/// Reads one block's statements into a lease (`start` is `now`, not yet re-based).
fn block(st: &[Statement], now: Instant) -> Result<Block, String> {
    let mut f = Fields::new(now);
    for s in st {
        let (Some(Kind::Word(key)), rest) = (s.head.first(), s.head.get(1..).unwrap_or(&[])) else {
            continue;
        };
        f.statement(key, rest)
            .map_err(|e| format!("line {}: {e}", s.line))?;
    }
    f.into_block()
}

impl Fields {
    fn new(now: Instant) -> Fields {
        Fields {
            iface: None,
            address: None,
            mask: None,
            bcast: None,
            server: None,
            secs: None,
            renew: None,
            rebind: None,
            expire: None,
            lease: Lease {
                address: Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                broadcast: Ipv4Addr::UNSPECIFIED,
                server_id: Ipv4Addr::UNSPECIFIED,
                next_server: None,
                routers: vec![],
                dns: vec![],
                domain: None,
                mtu: None,
                classless_routes: vec![],
                search: vec![],
                ntp: vec![],
                options: Default::default(),
                lease_secs: 0,
                t1_secs: 0,
                t2_secs: 0,
                start: now,
            },
        }
    }

    /// One statement `key rest;` of the block.
    fn statement(&mut self, key: &str, rest: &[Kind]) -> Result<(), String> {
        match key {
            "interface" => self.iface = Some(string(rest)?),
            "fixed-address" => self.address = Some(one_addr(rest)?),
            "renew" => self.renew = parse_time(rest)?,
            "rebind" => self.rebind = parse_time(rest)?,
            "expire" => self.expire = Some(parse_time(rest)?),
            "option" => {
                let (Some(Kind::Word(name)), v) = (rest.first(), rest.get(1..).unwrap_or(&[]))
                else {
                    return Err("an option without a name".into());
                };
                self.option(name, v)?;
            }
            // filename, server-name, medium, bootp, and what later versions add.
            _ => {}
        }
        Ok(())
    }

    /// `option NAME v;`: the options dhcpc reads back; others are passed over.
    fn option(&mut self, name: &str, v: &[Kind]) -> Result<(), String> {
        let l = &mut self.lease;
        match names::code(name) {
            Some(1) => self.mask = Some(one_addr(v)?),
            Some(28) => self.bcast = Some(one_addr(v)?),
            Some(54) => self.server = Some(one_addr(v)?),
            Some(51) => self.secs = Some(number::<u32>(v)?),
            Some(3) => l.routers = addrs(v)?,
            Some(6) => l.dns = addrs(v)?,
            Some(42) => l.ntp = addrs(v)?,
            Some(15) => l.domain = Some(string(v)?),
            Some(26) => l.mtu = Some(number(v)?),
            Some(119) => {
                l.search = words_list(v)
                    .into_iter()
                    .map(|k| string(std::slice::from_ref(k)))
                    .collect::<Result<_, _>>()?
            }
            Some(121) => l.classless_routes = classless(v)?,
            _ => {}
        }
        Ok(())
    }

    /// The lease the block holds, checked, and when it started.
    fn into_block(self) -> Result<Block, String> {
        let Some(expire) = self.expire else {
            return Err("a lease without an expiry".into());
        };
        let mut l = self.lease;
        l.address = self.address.ok_or("a lease without fixed-address")?;
        l.prefix_len = match self.mask {
            Some(m) => crate::addr::mask_to_prefix(m).ok_or(format!("bad subnet-mask {m}"))?,
            None => return Err("a lease without subnet-mask".into()),
        };
        l.broadcast = self
            .bcast
            .unwrap_or_else(|| crate::addr::broadcast_of(l.address, l.prefix_len));
        l.server_id = self
            .server
            .ok_or("a lease without dhcp-server-identifier")?;
        let (lease_secs, acquired) = match (expire, self.secs) {
            (None, _) => (INFINITE, 0),
            (Some(e), Some(s)) if s != INFINITE => (s, e.saturating_sub(u64::from(s))),
            (Some(_), _) => return Err("a lease with an expiry but no dhcp-lease-time".into()),
        };
        let since = |t: Option<u64>| {
            t.map(|t| u32::try_from(t.saturating_sub(acquired)).unwrap_or(u32::MAX))
        };
        let (t1, t2) = lease::renewal_times(lease_secs, since(self.renew), since(self.rebind));
        l.lease_secs = lease_secs;
        l.t1_secs = t1;
        l.t2_secs = t2;
        l.check().map_err(|e| e.to_string())?;
        Ok(Block {
            interface: self.iface,
            lease: l,
            acquired,
            expire,
        })
    }
}

/// Every `lease { }` block of `text`, read (a block that does not read as a lease is an
/// error naming its line); other statements are passed over.
pub fn parse_all(text: &str, now: Instant) -> Result<Vec<Block>, String> {
    let st = lex::statements(text).map_err(|(line, e)| format!("line {line}: {e}"))?;
    st.iter()
        .filter(|s| s.head == [Kind::Word("lease".into())])
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

/// The newest block for `iface` that has not expired at Unix time `now_unix`, re-based on
/// `now` (its timers count from now with the time already spent taken off). Blocks that do
/// not read as leases are passed over; an error only when the file is not in this format.
pub fn latest(
    text: &str,
    iface: &str,
    now: Instant,
    now_unix: u64,
) -> Result<Option<Lease>, String> {
    let st = lex::statements(text).map_err(|(line, e)| format!("line {line}: {e}"))?;
    let mut found = None;
    for s in st.iter().filter(|s| s.head == [Kind::Word("lease".into())]) {
        let Ok(b) = block(s.block.as_deref().unwrap_or(&[]), now) else {
            continue;
        };
        if b.interface.as_deref().is_some_and(|i| i != iface) {
            continue;
        }
        let mut l = b.lease;
        if l.lease_secs != INFINITE {
            let spent = now_unix.saturating_sub(b.acquired);
            if spent + u64::from(MIN_LEASE_SECS) > u64::from(l.lease_secs) {
                continue;
            }
            let spent = spent as u32;
            l.lease_secs -= spent;
            l.t1_secs = l.t1_secs.saturating_sub(spent);
            l.t2_secs = l.t2_secs.saturating_sub(spent);
        }
        found = Some(l);
    }
    Ok(found)
}

#[cfg(test)]
#[path = "leases_tests.rs"]
mod tests;
