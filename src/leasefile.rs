//! The saved lease (/var/lib/dhcpc/IFACE.lease): a small `key=value` text file, read at start
//! for INIT-REBOOT and by `dhcpc -r` when no daemon runs, and the pure decision whether what
//! it holds may be used ([`Saved::usable_for`]).
//!
//! Lease times in the core count on CLOCK_BOOTTIME, which restarts at every boot, so the file
//! records the wall-clock time the lease started and loading re-bases the lease on "now".
//! A file is trusted no more than a server: the lease it holds passes the same check
//! ([`Lease::check`]) as one read from an ACK.

use crate::lease::{Lease, Route, INFINITE, MIN_LEASE_SECS};
use crate::text::Quoted;
use crate::time::Instant;
use std::fmt;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::time::Duration;

/// A lease file as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The interface it was saved for.
    pub iface: String,
    /// The hardware address it was leased to (a lease is not asked for on another NIC).
    pub hwaddr: Option<[u8; 6]>,
    /// The lease, re-based on now; None once it has expired.
    pub lease: Option<Lease>,
    /// Where unicast messages to the server go on the link (the Ethernet source of its
    /// DHCPACK: the server, or the relay agent), when it was known.
    pub server_mac: Option<[u8; 6]>,
}

/// Why a saved lease is not asked for again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// It was saved for another interface.
    OtherInterface(String),
    /// It was leased to another hardware address.
    OtherHardware,
    /// It has run out.
    Expired,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::OtherInterface(i) => write!(f, "it is for {i}"),
            Unusable::OtherHardware => write!(f, "it was leased to another hardware address"),
            Unusable::Expired => write!(f, "it has expired"),
        }
    }
}

impl Saved {
    /// The lease, if it may be asked for again on interface `iface` with hardware address
    /// `mac`: saved for that interface, leased to that address (a file without one predates
    /// the field and is taken), and not expired.
    pub fn usable_for(self, iface: &str, mac: &[u8; 6]) -> Result<Lease, Unusable> {
        if self.iface != iface {
            return Err(Unusable::OtherInterface(self.iface));
        }
        if self.hwaddr.is_some_and(|h| &h != mac) {
            return Err(Unusable::OtherHardware);
        }
        self.lease.ok_or(Unusable::Expired)
    }

    /// The lease that may still be on interface `iface` with hardware address `mac` though it
    /// is not to be asked for again there, and is to be taken off: one leased to another
    /// hardware address (a daemon stopped with `-x` leaves its address behind). An expired
    /// one the kernel took off itself (its address carried the lease's lifetimes); one saved
    /// for another interface is not this interface's.
    pub fn leftover_for(&self, iface: &str, mac: &[u8; 6]) -> Option<&Lease> {
        let other_hardware = self.iface == iface && self.hwaddr.is_some_and(|h| &h != mac);
        self.lease.as_ref().filter(|_| other_hardware)
    }
}

fn mac_text(mac: &[u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let mut out = [0u8; 6];
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("bad hwaddr: {}", Quoted(s)));
    }
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).map_err(|_| format!("bad hwaddr: {}", Quoted(s)))?;
    }
    Ok(out)
}

/// Renders `lease` for interface `iface` with hardware address `hwaddr`; `acquired_unix` is
/// the wall-clock time (seconds since the Unix epoch) at which the lease started.
pub fn render(iface: &str, hwaddr: &[u8; 6], lease: &Lease, acquired_unix: u64) -> String {
    render_with_peer(iface, hwaddr, lease, acquired_unix, None)
}

/// [`render`], with the MAC address unicast messages to the server go to
/// ([`Saved::server_mac`]).
pub fn render_with_peer(
    iface: &str,
    hwaddr: &[u8; 6],
    lease: &Lease,
    acquired_unix: u64,
    server_mac: Option<[u8; 6]>,
) -> String {
    let list = |v: &[Ipv4Addr]| {
        v.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# dhcpc lease; read at start to ask for the same address again"
    );
    let _ = writeln!(s, "interface={iface}");
    let _ = writeln!(s, "hwaddr={}", mac_text(hwaddr));
    let _ = writeln!(s, "address={}", lease.address);
    let _ = writeln!(s, "prefix={}", lease.prefix_len);
    let _ = writeln!(s, "broadcast={}", lease.broadcast);
    let _ = writeln!(s, "server={}", lease.server_id);
    if let Some(n) = lease.next_server {
        let _ = writeln!(s, "next_server={n}");
    }
    if let Some(mac) = server_mac {
        let _ = writeln!(s, "server_mac={}", mac_text(&mac));
    }
    let _ = writeln!(s, "routers={}", list(&lease.routers));
    let _ = writeln!(s, "dns={}", list(&lease.dns));
    if let Some(d) = &lease.domain {
        let _ = writeln!(s, "domain={d}");
    }
    if let Some(m) = lease.mtu {
        let _ = writeln!(s, "mtu={m}");
    }
    if !lease.classless_routes.is_empty() {
        let routes: Vec<String> = lease
            .classless_routes
            .iter()
            .map(|r| format!("{}/{} via {}", r.dest, r.prefix_len, r.gateway))
            .collect();
        let _ = writeln!(s, "classless_routes={}", routes.join(","));
    }
    if !lease.search.is_empty() {
        let _ = writeln!(s, "search={}", lease.search.join(","));
    }
    if !lease.ntp.is_empty() {
        let _ = writeln!(s, "ntp={}", list(&lease.ntp));
    }
    let _ = writeln!(s, "lease={}", lease.lease_secs);
    let _ = writeln!(s, "t1={}", lease.t1_secs);
    let _ = writeln!(s, "t2={}", lease.t2_secs);
    let _ = writeln!(s, "acquired={acquired_unix}");
    s
}

fn field<T: FromStr>(key: &str, value: Option<&str>) -> Result<T, String> {
    let v = value.ok_or_else(|| format!("missing {key}"))?;
    v.parse().map_err(|_| format!("bad {key}: {}", Quoted(v)))
}

fn route_list(value: Option<&str>) -> Result<Vec<Route>, String> {
    let bad = |r: &str| format!("bad classless_routes: {}", Quoted(r));
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(Vec::new());
    };
    v.split(',')
        .map(|r| {
            let (net, gateway) = r.split_once(" via ").ok_or_else(|| bad(r))?;
            let (dest, len) = net.split_once('/').ok_or_else(|| bad(r))?;
            Ok(Route {
                dest: dest.parse().map_err(|_| bad(r))?,
                prefix_len: len.parse().map_err(|_| bad(r))?,
                gateway: gateway.parse().map_err(|_| bad(r))?,
            })
        })
        .collect()
}

fn addr_list(key: &str, value: Option<&str>) -> Result<Vec<Ipv4Addr>, String> {
    match value {
        None | Some("") => Ok(Vec::new()),
        Some(v) => v.split(',').map(|a| field(key, Some(a))).collect(),
    }
}

/// Reads a saved lease. `now` is the current CLOCK_BOOTTIME instant and `now_unix` the
/// current wall-clock time: the lease comes back re-based so that its timers count from `now`
/// with the time already spent taken off. A lease that fails [`Lease::check`] is an error.
pub fn parse(text: &str, now: Instant, now_unix: u64) -> Result<Saved, String> {
    let mut map = std::collections::HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("not key=value: {}", Quoted(line)))?;
        map.insert(k, v);
    }
    let get = |k: &str| map.get(k).copied();
    let iface: String = field("interface", get("interface"))?;
    let hwaddr = get("hwaddr").map(parse_mac).transpose()?;
    let server_mac = get("server_mac").map(parse_mac).transpose()?;
    let saved = |lease| Saved {
        iface: iface.clone(),
        hwaddr,
        lease,
        server_mac,
    };
    let lease_secs: u32 = field("lease", get("lease"))?;
    let acquired: u64 = field("acquired", get("acquired"))?;
    let mut lease = Lease {
        address: field("address", get("address"))?,
        prefix_len: field("prefix", get("prefix"))?,
        broadcast: field("broadcast", get("broadcast"))?,
        server_id: field("server", get("server"))?,
        next_server: get("next_server")
            .map(|n| field("next_server", Some(n)))
            .transpose()?,
        routers: addr_list("routers", get("routers"))?,
        dns: addr_list("dns", get("dns"))?,
        domain: get("domain").map(str::to_string),
        mtu: get("mtu").map(|m| field("mtu", Some(m))).transpose()?,
        classless_routes: route_list(get("classless_routes"))?,
        search: get("search")
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        ntp: addr_list("ntp", get("ntp"))?,
        options: Default::default(),
        lease_secs,
        t1_secs: field("t1", get("t1"))?,
        t2_secs: field("t2", get("t2"))?,
        start: now,
    };
    lease.check().map_err(|e| e.to_string())?;
    if lease_secs == INFINITE {
        return Ok(saved(Some(lease)));
    }
    // A clock that went backwards counts as no time spent. A lease with less than the
    // shortest one dhcpc takes left is as good as expired.
    let spent = now_unix.saturating_sub(acquired);
    if spent + u64::from(MIN_LEASE_SECS) > u64::from(lease_secs) {
        return Ok(saved(None));
    }
    let spent = spent as u32;
    lease.lease_secs -= spent;
    // A T1 or T2 that passed while the machine was off is due at once, but no sooner than
    // 1 s and 2 s from now: the lease then still has 1 <= T1 < T2 < lease (it has at least
    // MIN_LEASE_SECS left) and passes the same check as one read from an ACK. (Found by
    // fuzzing: T1 and T2 came back as 0.)
    lease.t1_secs = lease.t1_secs.saturating_sub(spent).max(1);
    lease.t2_secs = lease.t2_secs.saturating_sub(spent).max(2);
    debug_assert!(lease.check().is_ok());
    Ok(saved(Some(lease)))
}

/// Wall-clock seconds at which a lease that started at `start` began, given the current
/// CLOCK_BOOTTIME instant and wall-clock time.
pub fn acquired_unix(start: Instant, now: Instant, now_unix: u64) -> u64 {
    let ago: Duration = now.saturating_since(start);
    now_unix.saturating_sub(ago.as_secs())
}
