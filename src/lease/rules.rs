//! The rules every lease passes before it can reach the interface, one function each
//! ([`super::Lease::check`] applies them all), and why a lease fails them ([`LeaseError`]).

use super::{INFINITE, MIN_LEASE_SECS};
use crate::addr::{broadcast_of, dns_name, host_mask, is_usable_unicast, Route};
use crate::text::Quoted;
use std::fmt;
use std::net::Ipv4Addr;

/// Why a reply (or a saved lease) is not a lease dhcpc will use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseError {
    /// The address is not a unicast address.
    NotUnicast(Ipv4Addr),
    /// The address is an IPv4 link-local one (169.254.0.0/16), which DHCP does not hand out
    /// (RFC 3927 1.6).
    LinkLocal(Ipv4Addr),
    /// No usable server identifier (option 54); the text says why, when the option was there.
    NoServerId(Option<String>),
    /// No lease time (option 51); the text says why, when the option was there.
    NoLeaseTime(Option<String>),
    /// A lease time under [`MIN_LEASE_SECS`].
    TooShort(u32),
    /// A subnet mask that is not a run of ones then zeros.
    BadSubnetMask(Ipv4Addr),
    /// A prefix of 0 (mask 0.0.0.0) or over 32.
    BadPrefix(u8),
    /// The address is its subnet's network address.
    NetworkAddress(Ipv4Addr, u8),
    /// The address is its subnet's broadcast address.
    BroadcastAddress(Ipv4Addr, u8),
    /// A broadcast address that is not the subnet's (saved leases only: a reply's option 28
    /// that is not is ignored instead).
    BadBroadcast(Ipv4Addr),
    /// A router or DNS server that is not a unicast address (saved leases only: a reply's
    /// lists are filtered).
    NotUnicastServer(Ipv4Addr),
    /// A domain name that is not a plausible DNS name (saved leases only).
    BadDomain(String),
    /// An MTU under 68 (saved leases only).
    BadMtu(u16),
    /// T1, T2 and the lease time out of order (saved leases only).
    BadTimes { t1: u32, t2: u32, lease: u32 },
    /// A route with host bits in its destination or a router that is not unicast (saved
    /// leases only: a reply's routes are checked as they are read).
    BadRoute(Route),
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let because = |why: &Option<String>| match why {
            Some(w) => format!(" ({w})"),
            None => String::new(),
        };
        match self {
            LeaseError::NotUnicast(a) => write!(f, "address {a} is not a unicast address"),
            LeaseError::LinkLocal(a) => write!(
                f,
                "address {a} is an IPv4 link-local address, not one for DHCP (RFC 3927 1.6)"
            ),
            LeaseError::NoServerId(why) => {
                write!(f, "no server identifier (option 54){}", because(why))
            }
            LeaseError::NoLeaseTime(why) => write!(f, "no lease time (option 51){}", because(why)),
            LeaseError::TooShort(s) => write!(
                f,
                "lease time {s} s is under the minimum of {MIN_LEASE_SECS} s"
            ),
            LeaseError::BadSubnetMask(m) => write!(f, "subnet mask {m} is not contiguous"),
            LeaseError::BadPrefix(p) => write!(f, "prefix length /{p} is not usable"),
            LeaseError::NetworkAddress(a, p) => {
                write!(f, "address {a} is the network address of its /{p}")
            }
            LeaseError::BroadcastAddress(a, p) => {
                write!(f, "address {a} is the broadcast address of its /{p}")
            }
            LeaseError::BadBroadcast(b) => {
                write!(f, "broadcast address {b} is not the subnet's")
            }
            LeaseError::NotUnicastServer(a) => {
                write!(f, "router or DNS server {a} is not a unicast address")
            }
            LeaseError::BadDomain(d) => {
                write!(f, "domain {} is not a valid domain name", Quoted(d))
            }
            LeaseError::BadMtu(m) => write!(f, "MTU {m} is under the minimum of 68"),
            LeaseError::BadTimes { t1, t2, lease } => {
                write!(
                    f,
                    "T1 {t1} s, T2 {t2} s and lease {lease} s are out of order"
                )
            }
            LeaseError::BadRoute(r) => write!(f, "route {r} is not usable"),
        }
    }
}

impl std::error::Error for LeaseError {}

/// Rule: the address is one an interface may hold (RFC 1122 3.2.1.3), and not an IPv4
/// link-local one: RFC 3927 1.6 says DHCP servers should not hand those out, since they come
/// with their own rules of conflict detection, and the client's own link-local fallback
/// (`--ipv4ll`) would take such an address off again as soon as the lease is bound. (Found by
/// fuzzing: an ACK of the very address the fallback held was configured, then removed as the
/// link-local address, leaving the record saying the interface holds it.)
pub fn check_address(a: Ipv4Addr) -> Result<(), LeaseError> {
    if !is_usable_unicast(a) {
        Err(LeaseError::NotUnicast(a))
    } else if a.is_link_local() {
        Err(LeaseError::LinkLocal(a))
    } else {
        Ok(())
    }
}

/// Rule: the server identifier is a unicast address (renewals and releases go to it).
pub fn check_server_id(a: Ipv4Addr) -> Result<(), LeaseError> {
    if is_usable_unicast(a) {
        Ok(())
    } else {
        Err(LeaseError::NoServerId(Some(format!(
            "{a} is not a unicast address"
        ))))
    }
}

/// Rule: the lease lasts at least [`MIN_LEASE_SECS`].
pub fn check_lease_time(secs: u32) -> Result<(), LeaseError> {
    if secs >= MIN_LEASE_SECS {
        Ok(())
    } else {
        Err(LeaseError::TooShort(secs))
    }
}

/// Rule: a prefix of 1 to 32 bits. /0 (mask 0.0.0.0) would make every address on-link.
pub fn check_prefix(prefix_len: u8) -> Result<(), LeaseError> {
    if (1..=32).contains(&prefix_len) {
        Ok(())
    } else {
        Err(LeaseError::BadPrefix(prefix_len))
    }
}

/// Rule: the address is neither the network nor the broadcast address of its own subnet
/// (RFC 1122 3.2.1.3), except on /31 (RFC 3021) and /32, which have no such addresses.
pub fn check_host_part(a: Ipv4Addr, prefix_len: u8) -> Result<(), LeaseError> {
    if prefix_len >= 31 {
        return Ok(());
    }
    let host = u32::from(a) & host_mask(prefix_len);
    if host == 0 {
        Err(LeaseError::NetworkAddress(a, prefix_len))
    } else if host == host_mask(prefix_len) {
        Err(LeaseError::BroadcastAddress(a, prefix_len))
    } else {
        Ok(())
    }
}

/// Rule: the broadcast address is the subnet's.
pub fn check_broadcast(a: Ipv4Addr, prefix_len: u8, broadcast: Ipv4Addr) -> Result<(), LeaseError> {
    if broadcast == broadcast_of(a, prefix_len) {
        Ok(())
    } else {
        Err(LeaseError::BadBroadcast(broadcast))
    }
}

/// Rule: 1 <= T1 < T2 < lease (an infinite lease has no timers, whatever T1 and T2 say).
pub fn check_times(t1: u32, t2: u32, lease: u32) -> Result<(), LeaseError> {
    let ok = lease == INFINITE || (1 <= t1 && t1 < t2 && t2 < lease);
    if ok {
        Ok(())
    } else {
        Err(LeaseError::BadTimes { t1, t2, lease })
    }
}

/// Rule: routers and DNS servers are unicast addresses.
pub fn check_server(a: Ipv4Addr) -> Result<(), LeaseError> {
    if is_usable_unicast(a) {
        Ok(())
    } else {
        Err(LeaseError::NotUnicastServer(a))
    }
}

/// Rule: a route's destination has no bits past its prefix, and its router is unicast (or
/// 0.0.0.0, on-link).
pub fn check_route(r: &Route) -> Result<(), LeaseError> {
    let host = u32::from(r.dest) & host_mask(r.prefix_len.min(32));
    let gateway_ok = r.gateway.is_unspecified() || is_usable_unicast(r.gateway);
    if r.prefix_len <= 32 && host == 0 && gateway_ok {
        Ok(())
    } else {
        Err(LeaseError::BadRoute(*r))
    }
}

/// Rule: the domain is a plausible DNS name (nothing else reaches resolv.conf).
pub fn check_domain(d: &str) -> Result<(), LeaseError> {
    if dns_name(d).as_deref() == Some(d) {
        Ok(())
    } else {
        Err(LeaseError::BadDomain(d.to_string()))
    }
}

/// Rule: the MTU is at least 68 (RFC 2132 5.1).
pub fn check_mtu(m: u16) -> Result<(), LeaseError> {
    if m >= 68 {
        Ok(())
    } else {
        Err(LeaseError::BadMtu(m))
    }
}
