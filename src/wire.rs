//! DHCP wire format: strict decoding of untrusted bytes and encoding of our requests.
//!
//! The message and option types come from the `dhcproto` crate. Two things are added here by
//! hand, because dhcproto does not do them:
//! - strict framing: dhcproto neither checks the magic cookie nor reports an option that runs past
//!   the end of the buffer (it silently stops reading options), and it drops the rest of the
//!   options after one it cannot parse. We walk the option stream ourselves first and turn every
//!   such case into an error.
//! - RFC 3396 / RFC 2131 option overload: dhcproto joins split options only when the parts are
//!   adjacent and never reads options carried in the `file`/`sname` fields (option 52). Our walk
//!   gathers every part of an option, in RFC 3396 order (options field, then file, then sname),
//!   and hands dhcproto one canonical option stream.

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};
use std::collections::BTreeMap;
use std::fmt;

pub use dhcproto::v4;

/// The DHCP magic cookie (RFC 2131 section 3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Size of the fixed BOOTP header, up to and without the magic cookie.
pub const HEADER_LEN: usize = 236;
/// RFC 1542: a BOOTP message should be at least 300 bytes; some relays drop shorter ones.
pub const MIN_MESSAGE_LEN: usize = 300;

const SNAME: std::ops::Range<usize> = 44..108;
const FILE: std::ops::Range<usize> = 108..236;
const OPT_PAD: u8 = 0;
const OPT_END: u8 = 255;
const OPT_OVERLOAD: u8 = 52;

/// Options dhcproto 0.15 decodes under another code (it reads 37, default TCP TTL, as
/// `DefaultIpTtl`, code 23): kept as opaque options instead, like unknown ones.
const KEEP_RAW: &[u8] = &[37];

/// Whether an option's total length fits its definition, for the options where dhcproto does
/// not check it itself: it reads a fixed-size value and ignores the rest, or it only
/// `debug_assert!`s the length, which panics in debug builds (80, 81, 94, 152-155).
fn length_ok(code: u8, len: usize) -> bool {
    match code {
        19 | 20 | 23 | 27 | 29 | 30 | 31 | 34 | 36 | 39 | 46 | 52 | 53 | 116 | 156 | 157 => {
            len == 1
        }
        13 | 22 | 26 | 57 | 93 => len == 2,
        2 | 24 | 35 | 38 | 51 | 58 | 59 | 91 | 106 | 152..=155 => len == 4,
        25 => len % 2 == 0,
        80 => len == 0,
        81 => len >= 3,
        94 => len == 3,
        _ => true,
    }
}

/// Why a buffer is not an acceptable DHCP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than the fixed header plus the magic cookie.
    Truncated { len: usize },
    /// The four bytes after the header are not the DHCP magic cookie.
    BadMagicCookie([u8; 4]),
    /// An option's length runs past the end of the field that holds it.
    OptionOverrun { code: u8 },
    /// An option whose contents do not fit its definition (for example a 3-byte address).
    MalformedOption { code: u8 },
    /// The hardware address length does not fit the 16-byte chaddr field.
    BadHlen(u8),
    /// The BOOTP header itself could not be read.
    Header(String),
    /// Our own message could not be encoded (a bug, reported rather than panicking).
    Encode(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { len } => {
                write!(f, "truncated message: {len} bytes, need at least 240")
            }
            WireError::BadMagicCookie(c) => write!(f, "bad magic cookie {c:02x?}"),
            WireError::OptionOverrun { code } => write!(f, "option {code} runs past the end"),
            WireError::MalformedOption { code } => write!(f, "option {code} is malformed"),
            WireError::BadHlen(n) => write!(f, "hardware address length {n} exceeds 16"),
            WireError::Header(e) => write!(f, "bad header: {e}"),
            WireError::Encode(e) => write!(f, "cannot encode: {e}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Walks one option field (TLV stream), appending each option's data to `parts`, keyed by code
/// in order of first appearance. Stops at END; an option running past the end is an error.
fn walk_options(
    field: &[u8],
    parts: &mut BTreeMap<u8, Vec<u8>>,
    order: &mut Vec<u8>,
) -> Result<(), WireError> {
    let mut i = 0;
    while i < field.len() {
        let code = field[i];
        match code {
            OPT_PAD => i += 1,
            OPT_END => return Ok(()),
            _ => {
                let len = *field.get(i + 1).ok_or(WireError::OptionOverrun { code })? as usize;
                let data = field
                    .get(i + 2..i + 2 + len)
                    .ok_or(WireError::OptionOverrun { code })?;
                if !parts.contains_key(&code) {
                    order.push(code);
                }
                parts.entry(code).or_default().extend_from_slice(data);
                i += 2 + len;
            }
        }
    }
    Ok(())
}

/// Decodes a DHCP message (the UDP payload) from untrusted bytes.
///
/// Never panics and never reads out of bounds; anything malformed is an error.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() < HEADER_LEN + MAGIC_COOKIE.len() {
        return Err(WireError::Truncated { len: bytes.len() });
    }
    let cookie: [u8; 4] = [bytes[236], bytes[237], bytes[238], bytes[239]];
    if cookie != MAGIC_COOKIE {
        return Err(WireError::BadMagicCookie(cookie));
    }
    let hlen = bytes[2];
    if hlen > 16 {
        return Err(WireError::BadHlen(hlen));
    }

    let mut parts = BTreeMap::new();
    let mut order = Vec::new();
    walk_options(&bytes[240..], &mut parts, &mut order)?;
    // RFC 2131 section 4.1 / RFC 3396: option 52 says file (1), sname (2) or both (3) carry
    // options too; they are read after the options field, file before sname.
    let overload = parts.get(&OPT_OVERLOAD).and_then(|v| v.first().copied());
    let (in_file, in_sname) = match overload {
        Some(ov) => (ov & 1 != 0, ov & 2 != 0),
        None => (false, false),
    };
    if in_file {
        walk_options(&bytes[FILE], &mut parts, &mut order)?;
    }
    if in_sname {
        walk_options(&bytes[SNAME], &mut parts, &mut order)?;
    }
    for code in &order {
        if !length_ok(*code, parts[code].len()) {
            return Err(WireError::MalformedOption { code: *code });
        }
    }

    // Re-emit one canonical stream: every option once, split into 255-byte parts (RFC 3396).
    let mut canon = Vec::with_capacity(bytes.len());
    canon.extend_from_slice(&bytes[..HEADER_LEN]);
    // A field that held options holds no name: do not hand it to dhcproto as one.
    if in_file {
        canon[FILE].fill(0);
    }
    if in_sname {
        canon[SNAME].fill(0);
    }
    canon.extend_from_slice(&MAGIC_COOKIE);
    for code in &order {
        if KEEP_RAW.contains(code) {
            continue;
        }
        let data = &parts[code];
        if data.is_empty() {
            canon.extend_from_slice(&[*code, 0]);
        }
        for chunk in data.chunks(255) {
            canon.push(*code);
            canon.push(chunk.len() as u8);
            canon.extend_from_slice(chunk);
        }
    }
    canon.push(OPT_END);

    let mut msg =
        Message::decode(&mut Decoder::new(&canon)).map_err(|e| WireError::Header(e.to_string()))?;
    for code in order.iter().filter(|c| KEEP_RAW.contains(c)) {
        let raw = UnknownOption::new(OptionCode::from(*code), parts[code].clone());
        msg.opts_mut().insert(DhcpOption::Unknown(raw));
    }
    // dhcproto stops at the first option it cannot parse: anything we saw that it did not keep
    // was malformed.
    for code in &order {
        if msg.opts().get(OptionCode::from(*code)).is_none() {
            return Err(WireError::MalformedOption { code: *code });
        }
    }
    Ok(msg)
}

/// Encodes a message we send, padded to the BOOTP minimum length.
pub fn encode(msg: &Message) -> Result<Vec<u8>, WireError> {
    let mut buf = Vec::with_capacity(MIN_MESSAGE_LEN);
    msg.encode(&mut Encoder::new(&mut buf))
        .map_err(|e| WireError::Encode(e.to_string()))?;
    if buf.len() < MIN_MESSAGE_LEN {
        buf.resize(MIN_MESSAGE_LEN, OPT_PAD);
    }
    Ok(buf)
}

/// The DHCP message type (option 53), if present.
pub fn message_type(msg: &Message) -> Option<MessageType> {
    msg.opts().msg_type()
}

/// Option 54, the server identifier.
pub fn server_id(msg: &Message) -> Option<std::net::Ipv4Addr> {
    match msg.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
        _ => None,
    }
}

/// Option 56, the server's message text, if any (for log lines).
pub fn server_message(msg: &Message) -> Option<String> {
    match msg.opts().get(OptionCode::Message) {
        Some(DhcpOption::Message(s)) => Some(s.chars().filter(|c| !c.is_control()).collect()),
        _ => None,
    }
}
