//! DHCPv6 option framing (RFC 8415 21.1): a stream of (code, length, data) with 2-byte code and
//! length, and no padding, at the top of a message and inside IA_NA, IA_PD, IAADDR and IAPREFIX.
//!
//! Written by hand rather than taken from dhcproto 0.15, whose v6 decoder is not safe on
//! untrusted bytes: it stops reading options at the first it cannot decode and says nothing
//! (an option running past the end is not an error), it sorts the options by code (the order
//! sent is lost), it reads fixed-size options (7, 8, 12, 19) without looking at their length,
//! so that the rest of the stream is read out of step, and it computes `len - 2` (13), `len - 4`
//! (16, 17) and `len - 11` (11) without a check, which panics in a debug build (and in the fuzz
//! targets) on a shorter option. Here the framing is checked first and each option's data is
//! handed, whole and alone, to the rule that reads it.

use std::fmt;

/// Why a stream of options could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer than the 4 bytes of an option header left at `at`.
    CutHeader { at: usize, left: usize },
    /// The option at `at` says it holds `len` bytes, but only `left` follow its header.
    Overrun {
        code: u16,
        at: usize,
        len: usize,
        left: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::CutHeader { at, left } => {
                write!(
                    f,
                    "an option header cut short at byte {at} ({left} of 4 bytes)"
                )
            }
            FrameError::Overrun {
                code,
                at,
                len,
                left,
            } => write!(
                f,
                "option {code} at byte {at} holds {len} bytes but only {left} follow"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// Splits `bytes` into its options, in the order sent. Every byte must belong to an option:
/// a header cut short or an option longer than what is left is an error. Never panics.
pub fn options(bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, FrameError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let (Some(code), Some(len)) = (u16_at(rest, 0), u16_at(rest, 2)) else {
            return Err(FrameError::CutHeader {
                at,
                left: rest.len(),
            });
        };
        let len = usize::from(len);
        let Some(data) = rest.get(4..4 + len) else {
            return Err(FrameError::Overrun {
                code,
                at,
                len,
                left: rest.len() - 4,
            });
        };
        out.push((code, data));
        at += 4 + len;
    }
    Ok(out)
}

/// The big-endian u16 at `at`, if the bytes are there.
pub fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// The big-endian u32 at `at`, if the bytes are there.
pub fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The IPv6 address at `at`, if the 16 bytes are there.
pub fn addr_at(d: &[u8], at: usize) -> Option<std::net::Ipv6Addr> {
    let b: [u8; 16] = d.get(at..at.checked_add(16)?)?.try_into().ok()?;
    Some(b.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_split_in_the_order_sent() {
        let bytes = [0, 2, 0, 1, 9, 0, 1, 0, 0, 0, 14, 0, 0];
        let opts = options(&bytes).unwrap();
        assert_eq!(opts, vec![(2, &[9][..]), (1, &[][..]), (14, &[][..])]);
    }

    #[test]
    fn a_header_cut_short_is_an_error() {
        for n in 1..4 {
            let bytes = [0u8, 14, 0, 0, 0, 1, 0][..4 + n].to_vec();
            assert_eq!(
                options(&bytes),
                Err(FrameError::CutHeader { at: 4, left: n })
            );
        }
    }

    #[test]
    fn an_option_longer_than_what_is_left_is_an_error() {
        let bytes = [0, 23, 0, 16, 1, 2, 3];
        let e = options(&bytes).unwrap_err();
        assert_eq!(
            e,
            FrameError::Overrun {
                code: 23,
                at: 0,
                len: 16,
                left: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "option 23 at byte 0 holds 16 bytes but only 3 follow"
        );
    }

    #[test]
    fn nothing_is_no_option() {
        assert_eq!(options(&[]), Ok(vec![]));
    }

    #[test]
    fn fixed_fields_past_the_end_are_none() {
        assert_eq!(u32_at(&[1, 2, 3], 0), None);
        assert_eq!(u16_at(&[1, 2], usize::MAX), None);
        assert_eq!(addr_at(&[0; 15], 0), None);
        assert_eq!(u32_at(&[0, 0, 1, 2], 0), Some(258));
    }
}
