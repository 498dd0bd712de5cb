//! The typed DHCPv6 reply: every message a server sends becomes one [`Reply6`] at the boundary,
//! parsed once, before the core sees it (as the DHCPv4 [`crate::reply`]).
//!
//! Only framing is an error ([`ParseError`]): fewer than the 4 bytes of the header, a message
//! type a client never takes (only ADVERTISE, REPLY and RECONFIGURE come to a client; a relay
//! strips its RELAY-REPL, RFC 8415 19.2), or an option cut short or running past the end.
//! Past that, each option the client uses is judged by its own rule, one function each
//! ([`rules`], [`ia`]): what fails is left out, said in [`Reply6::dropped`] and a debug line.
//! Options that RFC 8415 21 lets appear once are taken the first time they pass; IA_NA and
//! IA_PD options are taken once per IAID. Every option is also kept raw in
//! [`Reply6::options`], in the order sent, for hooks and status.
//!
//! Whether the message is one the client may act on is decided after: [`validate`] holds the
//! rules of RFC 8415 16 that need the client's DUID; the transaction id and the state are the
//! core's.

pub mod ia;
pub mod rules;
pub mod tlv;

use crate::v6::{Ia, Kind6, Reply6, Status, StatusCode};
use ia::IaKind;
use std::fmt;
use std::net::Ipv6Addr;
use tracing::debug;

pub use rules::{is_usable_unicast6, IRT_MINIMUM};
pub use tlv::FrameError;

/// Why a datagram is not a DHCPv6 message for a client: it is dropped whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer than the 4 bytes of type and transaction id.
    Short { len: usize },
    /// A message type that servers do not send to clients.
    NotForClient(u8),
    /// The options do not frame.
    Framing(FrameError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Short { len } => {
                write!(f, "truncated DHCPv6 message: {len} bytes, need at least 4")
            }
            ParseError::NotForClient(t) => {
                write!(f, "DHCPv6 message type {t} is not one a client takes")
            }
            ParseError::Framing(e) => write!(f, "malformed DHCPv6 message: {e}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The top-level options whose value [`Reply6`] types.
const TYPED: &[u16] = &[1, 2, 3, 7, 12, 13, 14, 23, 24, 25, 31, 32, 56];

/// Parses a DHCPv6 message (a UDP payload) that came from `from`.
pub fn parse(bytes: &[u8], from: Ipv6Addr) -> Result<Reply6, ParseError> {
    let [t, x0, x1, x2, rest @ ..] = bytes else {
        return Err(ParseError::Short { len: bytes.len() });
    };
    let kind = match t {
        2 => Kind6::Advertise,
        7 => Kind6::Reply,
        10 => Kind6::Reconfigure,
        n => return Err(ParseError::NotForClient(*n)),
    };
    let options = tlv::options(rest).map_err(ParseError::Framing)?;
    let mut r = Reply6 {
        kind,
        xid: u32::from_be_bytes([0, *x0, *x1, *x2]),
        server_id: None,
        client_id: None,
        preference: 0,
        rapid_commit: false,
        status: Status {
            code: StatusCode::Success,
            message: String::new(),
        },
        ias: Vec::new(),
        dns: Vec::new(),
        search: Vec::new(),
        ntp: Vec::new(),
        sntp: Vec::new(),
        info_refresh: None,
        unicast: None,
        options: Vec::with_capacity(options.len()),
        dropped: Vec::new(),
    };
    let mut taken: Vec<u16> = Vec::new();
    for (code, data) in options {
        r.options.push((code, data.to_vec()));
        if !TYPED.contains(&code) {
            continue;
        }
        let result = if taken.contains(&code) {
            Err("repeated; the first is kept".to_string())
        } else {
            take(&mut r, code, data)
        };
        match result {
            Ok(()) if code != 3 && code != 25 => taken.push(code),
            Ok(()) => {}
            Err(why) => {
                let line = format!("option {code} ({}): {why}", option_name(code));
                debug!("DHCPv6 from {from}: {line}");
                r.dropped.push(line);
            }
        }
    }
    Ok(r)
}

/// Judges one typed option and keeps it in `r` if it passes.
fn take(r: &mut Reply6, code: u16, data: &[u8]) -> Result<(), String> {
    match code {
        1 => r.client_id = Some(rules::duid(data)?),
        2 => r.server_id = Some(rules::duid(data)?),
        3 => take_ia(r, IaKind::Na, data)?,
        25 => take_ia(r, IaKind::Pd, data)?,
        7 => r.preference = rules::preference(data)?,
        12 => r.unicast = Some(rules::server_unicast(data)?),
        13 => r.status = rules::status(data)?,
        14 => {
            rules::rapid_commit(data)?;
            r.rapid_commit = true;
        }
        23 => r.dns = rules::address_list(data)?,
        24 => r.search = rules::search_list(data)?,
        31 => r.sntp = rules::address_list(data)?,
        32 => r.info_refresh = Some(rules::info_refresh(data)?),
        56 => r.ntp = rules::ntp(data)?,
        _ => {}
    }
    Ok(())
}

/// Reads an IA_NA or IA_PD into `r.ias`, unless one of its kind with its IAID came first.
fn take_ia(r: &mut Reply6, kind: IaKind, data: &[u8]) -> Result<(), String> {
    let mut dropped = Vec::new();
    let read = ia::read(kind, data, &mut dropped);
    for line in dropped {
        debug!("DHCPv6: {line}");
        r.dropped.push(line);
    }
    let got: Ia = read?;
    if r.ias
        .iter()
        .any(|i| i.iaid == got.iaid && ia::kind_of(i) == kind)
    {
        return Err(format!("IAID {} repeated; the first is kept", got.iaid));
    }
    r.ias.push(got);
    Ok(())
}

/// The name RFC 8415 (and RFC 3646, 4075, 5908) gives an option, for log lines.
pub fn option_name(code: u16) -> &'static str {
    match code {
        1 => "client id",
        2 => "server id",
        3 => "IA_NA",
        5 => "IAADDR",
        7 => "preference",
        12 => "server unicast",
        13 => "status code",
        14 => "rapid commit",
        23 => "DNS servers",
        24 => "domain search list",
        25 => "IA_PD",
        26 => "IAPREFIX",
        31 => "SNTP servers",
        32 => "information refresh time",
        56 => "NTP server",
        _ => "unknown",
    }
}

/// The rules of RFC 8415 16 a message passes before a client acts on it, beside the
/// transaction id (the core's): a server identifier (16.3 ADVERTISE, 16.10 REPLY, 16.11
/// RECONFIGURE), the client's own DUID as client identifier, and no RECONFIGURE at all, since
/// dhcpc does not do the authentication that 16.11 requires of one (RFC 8415 20.4).
pub fn validate(r: &Reply6, client_duid: &[u8]) -> Result<(), String> {
    if r.kind == Kind6::Reconfigure {
        return Err("RECONFIGURE without authentication is ignored (RFC 8415 16.11)".into());
    }
    if r.server_id.is_none() {
        return Err("no usable server identifier (RFC 8415 16.3, 16.10)".into());
    }
    match &r.client_id {
        None => Err("no usable client identifier (RFC 8415 16.3, 16.10)".into()),
        Some(id) if id.as_slice() != client_duid => {
            Err("the client identifier is another client's (RFC 8415 16.3, 16.10)".into())
        }
        Some(_) => Ok(()),
    }
}
