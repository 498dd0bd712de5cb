//! Addresses, prefixes, routes and names: the vocabulary that the typed reply
//! ([`crate::reply`]) and the lease ([`crate::lease`]) share. It sits below both and imports
//! neither, so that `reply` reads options into these types and `lease` judges them, with no
//! import going the other way.
//!
//! Each function is one rule about an address or a name, pure and total.

use std::fmt;
use std::net::Ipv4Addr;

/// A route of option 121 (or 249) or the default route of option 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub dest: Ipv4Addr,
    pub prefix_len: u8,
    /// The router; 0.0.0.0 means the destination is on the link (RFC 3442).
    pub gateway: Ipv4Addr,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.prefix_len == 0
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.dest, self.prefix_len)?;
        if self.gateway.is_unspecified() {
            write!(f, " on-link")
        } else {
            write!(f, " via {}", self.gateway)
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
pub fn classful_prefix(a: Ipv4Addr) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

/// The host bits of a prefix of `prefix_len` bits (all of them for 0, none for 32 and over).
pub fn host_mask(prefix_len: u8) -> u32 {
    u32::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0)
}

/// The network address of `address`/`prefix_len`.
pub fn network_of(address: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address) & !host_mask(prefix_len))
}

/// The broadcast address of `address`/`prefix_len`.
pub fn broadcast_of(address: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address) | host_mask(prefix_len))
}

/// A DNS name as resolv.conf and hooks may take it, or None: labels of letters, digits, '-'
/// and '_' (RFC 1123 2.1 host names, and the '_' real networks use), none beginning or ending
/// with '-' (which could also read as a command-line option), at most 63 bytes each and 253
/// in all; trailing NULs and dot are dropped.
pub fn dns_name(s: &str) -> Option<String> {
    let s = s.trim_end_matches('\0').trim_end_matches('.');
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then(|| s.to_string())
}
