//! What a lease is, and how it is read (and checked) from a server's ACK.

use crate::time::Instant;
use dhcproto::v4::{DhcpOption, Message, OptionCode};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Lease time that means "forever" (RFC 2131 section 3.3).
pub const INFINITE: u32 = u32::MAX;

/// A lease as granted by a server and as it is applied to the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub broadcast: Ipv4Addr,
    pub server_id: Ipv4Addr,
    /// Routers from option 3, in preference order (only unicast ones are kept).
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers from option 6 (only unicast ones are kept).
    pub dns: Vec<Ipv4Addr>,
    /// Domain name from option 15.
    pub domain: Option<String>,
    /// Interface MTU from option 26.
    pub mtu: Option<u16>,
    /// Lease time in seconds; [`INFINITE`] means no expiry.
    pub lease_secs: u32,
    /// Renewal time (T1) in seconds, already clamped below T2.
    pub t1_secs: u32,
    /// Rebinding time (T2) in seconds, already clamped below the lease time.
    pub t2_secs: u32,
    /// When the lease started: the time the REQUEST that earned it was sent (RFC 2131 4.4.1).
    pub start: Instant,
}

/// Why an ACK (or OFFER) could not become a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseError {
    NotUnicast(Ipv4Addr),
    NoServerId,
    NoLeaseTime,
    BadSubnetMask(Ipv4Addr),
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseError::NotUnicast(a) => write!(f, "offered address {a} is not a unicast address"),
            LeaseError::NoServerId => write!(f, "no server identifier (option 54)"),
            LeaseError::NoLeaseTime => write!(f, "no lease time (option 51)"),
            LeaseError::BadSubnetMask(m) => write!(f, "subnet mask {m} is not contiguous"),
        }
    }
}

/// True for an address that may be put on an interface or used as a router or DNS server:
/// not 0.0.0.0/8, loopback, link-local broadcast, multicast, or class E.
pub fn is_usable_unicast(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(o[0] == 0 || a.is_loopback() || a.is_multicast() || a.is_broadcast() || o[0] >= 240)
}

/// Prefix length of a contiguous netmask, None for a mask like 255.0.255.0.
pub fn mask_to_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    if m.checked_shl(ones).unwrap_or(0) == 0 {
        Some(ones as u8)
    } else {
        None
    }
}

/// The classful prefix (RFC 791) when a server sends no subnet mask, as dhclient does.
fn classful_prefix(a: Ipv4Addr) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

pub fn broadcast_of(address: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    let host_mask = u32::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0);
    Ipv4Addr::from(u32::from(address) | host_mask)
}

/// T1 and T2 (seconds) for a lease, from options 58/59 when they make sense, else 50 % and
/// 87.5 % (RFC 2131 4.4.5); always T1 < T2 < lease for a finite lease.
pub fn renewal_times(lease: u32, t1: Option<u32>, t2: Option<u32>) -> (u32, u32) {
    if lease == INFINITE {
        return (INFINITE, INFINITE);
    }
    let default_t2 = (u64::from(lease) * 7 / 8) as u32;
    // A T2 of 0 would leave no room for T1 below it.
    let t2 = t2.filter(|&t| t > 0 && t < lease).unwrap_or(default_t2);
    let default_t1 = lease / 2;
    let t1 = t1
        .filter(|&t| t < t2)
        .unwrap_or(if default_t1 < t2 { default_t1 } else { t2 / 2 });
    (t1, t2)
}

fn ipv4_list(msg: &Message, code: OptionCode) -> Vec<Ipv4Addr> {
    let list = match msg.opts().get(code) {
        Some(DhcpOption::Router(v)) | Some(DhcpOption::DomainNameServer(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut out: Vec<Ipv4Addr> = Vec::with_capacity(list.len());
    for a in list {
        if is_usable_unicast(a) && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

fn u32_opt(msg: &Message, code: OptionCode) -> Option<u32> {
    match msg.opts().get(code)? {
        DhcpOption::AddressLeaseTime(t) | DhcpOption::Renewal(t) | DhcpOption::Rebinding(t) => {
            Some(*t)
        }
        _ => None,
    }
}

/// A domain name from a server, kept only if it is a plausible DNS name (no spaces, control
/// characters or shell metacharacters end up in resolv.conf or log lines).
fn clean_domain(s: &str) -> Option<String> {
    let s = s.trim_end_matches('\0').trim_end_matches('.');
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then(|| s.to_string())
}

impl Lease {
    /// Reads a lease from an ACK (or an OFFER, to know what is offered).
    /// `start` is when the REQUEST was sent.
    pub fn from_reply(msg: &Message, start: Instant) -> Result<Lease, LeaseError> {
        let address = msg.yiaddr();
        if !is_usable_unicast(address) {
            return Err(LeaseError::NotUnicast(address));
        }
        let server_id = crate::wire::server_id(msg).ok_or(LeaseError::NoServerId)?;
        let lease_secs =
            u32_opt(msg, OptionCode::AddressLeaseTime).ok_or(LeaseError::NoLeaseTime)?;
        let prefix_len = match msg.opts().get(OptionCode::SubnetMask) {
            Some(DhcpOption::SubnetMask(m)) => {
                mask_to_prefix(*m).ok_or(LeaseError::BadSubnetMask(*m))?
            }
            _ => classful_prefix(address),
        };
        let broadcast = match msg.opts().get(OptionCode::BroadcastAddr) {
            Some(DhcpOption::BroadcastAddr(b)) if u32::from(*b) != 0 && !b.is_multicast() => *b,
            _ => broadcast_of(address, prefix_len),
        };
        let (t1_secs, t2_secs) = renewal_times(
            lease_secs,
            u32_opt(msg, OptionCode::Renewal),
            u32_opt(msg, OptionCode::Rebinding),
        );
        let domain = match msg.opts().get(OptionCode::DomainName) {
            Some(DhcpOption::DomainName(d)) => clean_domain(d),
            _ => None,
        };
        // RFC 2132 9.1: the MTU option's minimum is 68.
        let mtu = match msg.opts().get(OptionCode::InterfaceMtu) {
            Some(DhcpOption::InterfaceMtu(m)) if *m >= 68 => Some(*m),
            _ => None,
        };
        Ok(Lease {
            address,
            prefix_len,
            broadcast,
            server_id,
            routers: ipv4_list(msg, OptionCode::Router),
            dns: ipv4_list(msg, OptionCode::DomainNameServer),
            domain,
            mtu,
            lease_secs,
            t1_secs,
            t2_secs,
            start,
        })
    }

    pub fn is_infinite(&self) -> bool {
        self.lease_secs == INFINITE
    }

    fn at(&self, secs: u32) -> Option<Instant> {
        (!self.is_infinite()).then(|| self.start + Duration::from_secs(u64::from(secs)))
    }

    /// When to start renewing (T1); None for an infinite lease.
    pub fn renew_at(&self) -> Option<Instant> {
        self.at(self.t1_secs)
    }

    /// When to start rebinding (T2); None for an infinite lease.
    pub fn rebind_at(&self) -> Option<Instant> {
        self.at(self.t2_secs)
    }

    /// When the lease expires; None for an infinite lease.
    pub fn expires_at(&self) -> Option<Instant> {
        self.at(self.lease_secs)
    }

    /// Seconds of lease left at `now` (u32::MAX for infinite), for address lifetimes.
    pub fn remaining_secs(&self, now: Instant) -> u32 {
        match self.expires_at() {
            None => INFINITE,
            Some(end) => end
                .saturating_since(now)
                .as_secs()
                .min(u64::from(INFINITE - 1)) as u32,
        }
    }
}

/// Human form of a number of seconds: "3600s (1h)".
pub fn human_secs(secs: u32) -> String {
    if secs == INFINITE {
        return "infinite".to_string();
    }
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)?;
        write!(f, " brd {}", self.broadcast)?;
        match self.routers.first() {
            Some(r) => write!(f, ", router {r}")?,
            None => write!(f, ", no router")?,
        }
        if self.dns.is_empty() {
            write!(f, ", no dns")?;
        } else {
            let dns: Vec<String> = self.dns.iter().map(|a| a.to_string()).collect();
            write!(f, ", dns {}", dns.join(","))?;
        }
        if let Some(d) = &self.domain {
            write!(f, ", domain {d}")?;
        }
        write!(
            f,
            ", lease {}, server {}",
            human_secs(self.lease_secs),
            self.server_id
        )
    }
}
