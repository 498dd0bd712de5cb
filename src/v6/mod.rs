//! DHCPv6 (RFC 8415), beside the DHCPv4 side and of the same shape: a typed reply judged at the
//! boundary ([`reply`]), what a lease is ([`Lease6`]), and a sans-IO client. This module holds
//! the data every part shares; each part is a module of its own.
//!
//! Lifetimes and times are seconds as on the wire; [`INFINITY`] (0xffffffff) is "for ever"
//! (RFC 8415 7.7). A lease's `start` is when the exchange that earned it began, so that every
//! deadline is `start + seconds`.

pub mod core;
pub mod encode;
pub mod hookenv;
pub mod iaid;
pub mod reply;

use crate::time::Instant;
use std::net::Ipv6Addr;

/// RFC 8415 7.7: a lifetime or time of 0xffffffff never runs out.
pub const INFINITY: u32 = u32::MAX;

/// An identity association's number (RFC 8415 12): one per interface and kind, stable across
/// runs.
pub type Iaid = u32;

/// An RFC 8415 21.13 status code, as a server sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    Success,
    UnspecFail,
    NoAddrsAvail,
    NoBinding,
    NotOnLink,
    UseMulticast,
    NoPrefixAvail,
    /// A code RFC 8415 does not name.
    Other(u16),
}

/// A status code and its message (UTF-8, as sent; shown quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: StatusCode,
    pub message: String,
}

/// One address of an IA_NA (RFC 8415 21.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaAddr {
    pub addr: Ipv6Addr,
    pub preferred: u32,
    pub valid: u32,
}

/// One delegated prefix of an IA_PD (RFC 8415 21.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaPrefix {
    pub prefix: Ipv6Addr,
    pub len: u8,
    pub preferred: u32,
    pub valid: u32,
}

/// What an identity association holds: addresses (IA_NA) or prefixes (IA_PD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holdings {
    Addresses(Vec<IaAddr>),
    Prefixes(Vec<IaPrefix>),
}

/// An IA_NA or IA_PD of a reply or a lease: its IAID, T1 and T2 (0: the client chooses,
/// RFC 8415 21.4), its status (Success when the server sent none) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ia {
    pub iaid: Iaid,
    pub t1: u32,
    pub t2: u32,
    pub status: StatusCode,
    pub holdings: Holdings,
}

/// DHCPv6 message types a client sends or takes (RFC 8415 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind6 {
    Solicit,
    Advertise,
    Request,
    Confirm,
    Renew,
    Rebind,
    Reply,
    Release,
    Decline,
    Reconfigure,
    InformationRequest,
}

impl std::fmt::Display for Kind6 {
    /// The message type's name as RFC 8415 7.3 writes it: `ADVERTISE`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind6::Solicit => "SOLICIT",
            Kind6::Advertise => "ADVERTISE",
            Kind6::Request => "REQUEST",
            Kind6::Confirm => "CONFIRM",
            Kind6::Renew => "RENEW",
            Kind6::Rebind => "REBIND",
            Kind6::Reply => "REPLY",
            Kind6::Release => "RELEASE",
            Kind6::Decline => "DECLINE",
            Kind6::Reconfigure => "RECONFIGURE",
            Kind6::InformationRequest => "INFORMATION-REQUEST",
        })
    }
}

/// A server's message as the boundary read it: every option judged on its own, what fails
/// its rule left out (and said in `dropped`), nothing trusted that was not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply6 {
    pub kind: Kind6,
    /// The 24-bit transaction id.
    pub xid: u32,
    /// Option 2, the server's DUID: a 2-byte type and 1 to 128 bytes (RFC 8415 11.1).
    pub server_id: Option<Vec<u8>>,
    /// Option 1, the client's DUID as the server echoes it.
    pub client_id: Option<Vec<u8>>,
    /// Option 7; 0 when absent (RFC 8415 18.2.1).
    pub preference: u8,
    /// Option 14.
    pub rapid_commit: bool,
    /// The message's own status (option 13 at the top level); Success when absent.
    pub status: Status,
    /// IA_NA and IA_PD options, in the order sent.
    pub ias: Vec<Ia>,
    /// Option 23: unicast global or ULA addresses only.
    pub dns: Vec<Ipv6Addr>,
    /// Option 24: valid DNS names, without a trailing dot.
    pub search: Vec<String>,
    /// Option 56 (server addresses and multicast addresses are kept, FQDNs as names).
    pub ntp: Vec<String>,
    /// Option 31.
    pub sntp: Vec<Ipv6Addr>,
    /// Option 32, seconds, already raised to the 600 s minimum (RFC 8415 21.23).
    pub info_refresh: Option<u32>,
    /// Option 12: the server's unicast address, if it allows unicast.
    pub unicast: Option<Ipv6Addr>,
    /// Every option as received (code, data), for hooks and status.
    pub options: Vec<(u16, Vec<u8>)>,
    /// What was left out, and why: for a debug line.
    pub dropped: Vec<String>,
}

/// A DHCPv6 lease: what one server granted the client (its IA_NA and IA_PD, and the
/// configuration options that came with them), from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6 {
    pub server_id: Vec<u8>,
    /// The server's link-local (or relay) source address, for the log and hooks.
    pub server_addr: Option<Ipv6Addr>,
    pub ias: Vec<Ia>,
    pub dns: Vec<Ipv6Addr>,
    pub search: Vec<String>,
    pub ntp: Vec<String>,
    pub sntp: Vec<Ipv6Addr>,
    /// Stateless (INFORMATION-REQUEST) only: when to ask again (option 32, or 86400 s).
    pub info_refresh: Option<u32>,
    pub options: Vec<(u16, Vec<u8>)>,
    pub start: Instant,
}

impl std::fmt::Display for Lease6 {
    /// One line: `2001:db8:1::1a7/128, prefix 2001:db8:ff00::/56, dns 2001:db8:1::53, search
    /// example.com, valid 600 s`; a stateless lease shows its options only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut valid: Option<u32> = None;
        for ia in &self.ias {
            match &ia.holdings {
                Holdings::Addresses(a) => {
                    for x in a {
                        parts.push(format!("{}/128", x.addr));
                        valid = Some(valid.map_or(x.valid, |v| v.min(x.valid)));
                    }
                }
                Holdings::Prefixes(p) => {
                    for x in p {
                        parts.push(format!("prefix {}/{}", x.prefix, x.len));
                        valid = Some(valid.map_or(x.valid, |v| v.min(x.valid)));
                    }
                }
            }
        }
        if parts.is_empty() {
            parts.push("options only".into());
        }
        if !self.dns.is_empty() {
            let dns: Vec<String> = self.dns.iter().map(|a| a.to_string()).collect();
            parts.push(format!("dns {}", dns.join(" ")));
        }
        if !self.search.is_empty() {
            parts.push(format!("search {}", self.search.join(" ")));
        }
        match valid {
            Some(INFINITY) => parts.push("valid for ever".into()),
            Some(v) => parts.push(format!("valid {}", crate::lease::human_secs(v))),
            None => {}
        }
        f.write_str(&parts.join(", "))
    }
}

/// A message the client sends, as the core decides it; the encoder adds the client's DUID
/// (option 1) and writes the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing6 {
    pub kind: Kind6,
    /// The 24-bit transaction id.
    pub xid: u32,
    /// Option 8, hundredths of a second since the exchange began (RFC 8415 21.9), capped at
    /// 0xffff.
    pub elapsed: u16,
    /// Option 2, for REQUEST, RENEW, RELEASE and DECLINE.
    pub server_id: Option<Vec<u8>>,
    /// The IAs asked for or about: with no holdings in a SOLICIT (or a prefix-length hint as a
    /// prefix of `::`), with the lease's in the rest.
    pub ias: Vec<Ia>,
    /// Option 14 in a SOLICIT.
    pub rapid_commit: bool,
    /// Option 6, the options asked for.
    pub oro: Vec<u16>,
}
