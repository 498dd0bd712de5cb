//! DHCP wire format: the framing of untrusted bytes, one option at a time, and the encoding of
//! our requests.
//!
//! The message and option types come from the `dhcproto` crate, which also reads each option's
//! contents. Two things are added here by hand, because dhcproto does not do them:
//! - strict framing: dhcproto neither checks the magic cookie nor reports an option that runs past
//!   the end of the buffer (it silently stops reading options), and it drops the rest of the
//!   options after one it cannot parse. We walk the option stream ourselves first: a framing
//!   error ([`parts`]) drops the message, while each option is then read on its own
//!   ([`option`]), so that one bad option costs only itself.
//! - RFC 3396 / RFC 2131 option overload: dhcproto joins split options only when the parts are
//!   adjacent and never reads options carried in the `file`/`sname` fields (option 52). Our walk
//!   gathers every part of an option, in RFC 3396 order (options field, then file, then sname).

use dhcproto::v4::{DhcpOption, Message, OptionCode, UnknownOption};
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

/// The length an option's data must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Exactly(usize),
    AtLeast(usize),
    Even,
}

impl Len {
    fn fits(self, n: usize) -> bool {
        match self {
            Len::Exactly(m) => n == m,
            Len::AtLeast(m) => n >= m,
            Len::Even => n % 2 == 0,
        }
    }
}

impl fmt::Display for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Len::Exactly(m) => write!(f, "{m}"),
            Len::AtLeast(m) => write!(f, "{m} or more"),
            Len::Even => write!(f, "even"),
        }
    }
}

/// The length an option must have, for the options where dhcproto does not check it itself: it
/// reads a fixed-size value and ignores the rest, or it only `debug_assert!`s the length, which
/// panics in debug builds (80, 81, 94, 152-155).
fn length_rule(code: u8) -> Option<Len> {
    Some(match code {
        19 | 20 | 23 | 27 | 29 | 30 | 31 | 34 | 36 | 39 | 46 | 52 | 53 | 116 | 156 | 157 => {
            Len::Exactly(1)
        }
        13 | 22 | 26 | 57 | 93 => Len::Exactly(2),
        2 | 24 | 35 | 38 | 51 | 58 | 59 | 91 | 106 | 152..=155 => Len::Exactly(4),
        25 => Len::Even,
        80 => Len::Exactly(0),
        81 => Len::AtLeast(3),
        94 => Len::Exactly(3),
        _ => return None,
    })
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
    /// An option whose contents do not fit its definition (for example a 3-byte address); only
    /// [`decode`] reports it, [`option`] says why.
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

/// Why one option could not be read (the message around it may still be good).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionError {
    /// Its length does not fit its definition.
    Length { len: usize, want: Len },
    /// dhcproto could not read its contents (for example text that is not UTF-8).
    Contents(String),
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::Length { len, want } => write!(f, "length {len}, should be {want}"),
            OptionError::Contents(e) => write!(f, "unreadable ({e})"),
        }
    }
}

/// A message split at its framing: the header (a dhcproto message without options) and every
/// option's data, parts joined (RFC 3396), in order of first appearance.
#[derive(Debug, Clone)]
pub struct Parts {
    pub header: Message,
    pub options: Vec<(u8, Vec<u8>)>,
}

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

/// Splits a DHCP message (the UDP payload) from untrusted bytes into header and options.
/// Framing errors (truncated header, bad cookie, an option running past the end) are errors;
/// the options' contents are not looked at.
///
/// Never panics and never reads out of bounds.
pub fn parts(bytes: &[u8]) -> Result<Parts, WireError> {
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

    // The header alone, through dhcproto. A field that held options holds no name: do not hand
    // it to dhcproto as one.
    let mut head = Vec::with_capacity(HEADER_LEN + MAGIC_COOKIE.len() + 1);
    head.extend_from_slice(&bytes[..HEADER_LEN]);
    if in_file {
        head[FILE].fill(0);
    }
    if in_sname {
        head[SNAME].fill(0);
    }
    head.extend_from_slice(&MAGIC_COOKIE);
    head.push(OPT_END);
    let header =
        Message::decode(&mut Decoder::new(&head)).map_err(|e| WireError::Header(e.to_string()))?;
    let options = order
        .into_iter()
        .map(|code| {
            let data = parts.remove(&code).unwrap_or_default();
            (code, data)
        })
        .collect();
    Ok(Parts { header, options })
}

/// Reads one option (its parts already joined) through dhcproto, after the length check
/// dhcproto lacks. Unknown options, and those dhcproto would misread, come back as
/// [`DhcpOption::Unknown`] with their bytes.
pub fn option(code: u8, data: &[u8]) -> Result<DhcpOption, OptionError> {
    if let Some(want) = length_rule(code) {
        if !want.fits(data.len()) {
            return Err(OptionError::Length {
                len: data.len(),
                want,
            });
        }
    }
    if KEEP_RAW.contains(&code) {
        let raw = UnknownOption::new(OptionCode::from(code), data.to_vec());
        return Ok(DhcpOption::Unknown(raw));
    }
    // dhcproto reads an option from its wire form: 255-byte parts, then END (RFC 3396).
    let mut tlv = Vec::with_capacity(data.len() + 2 * (data.len() / 255 + 1) + 1);
    push_option(&mut tlv, code, data);
    tlv.push(OPT_END);
    DhcpOption::decode(&mut Decoder::new(&tlv)).map_err(|e| OptionError::Contents(e.to_string()))
}

/// Appends `code`'s data as one or more TLVs of at most 255 bytes (RFC 3396).
fn push_option(out: &mut Vec<u8>, code: u8, data: &[u8]) {
    if data.is_empty() {
        out.extend_from_slice(&[code, 0]);
    }
    for chunk in data.chunks(255) {
        out.push(code);
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// Decodes a whole DHCP message strictly: any framing error, or any option that cannot be
/// read, is an error. For messages that must be exact (tests, tools); the client itself reads
/// replies leniently, option by option ([`crate::reply::Reply::parse`]).
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let Parts {
        header: mut msg,
        options,
    } = parts(bytes)?;
    for (code, data) in options {
        let opt = option(code, &data).map_err(|_| WireError::MalformedOption { code })?;
        msg.opts_mut().insert(opt);
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
