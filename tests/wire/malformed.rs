//! Malformed input: truncated headers and options, bad magic cookies, options past the end.

use super::helpers::*;
use dhcpc::reply::Reply;
use dhcpc::wire::v4::{MessageType, Opcode};
use dhcpc::wire::{self, WireError};

#[test]
fn truncated_header_every_length() {
    let full = captured("dnsmasq-4-ack.eth");
    for len in 0..240 {
        assert_eq!(
            wire::decode(&full[..len]),
            Err(WireError::Truncated { len }),
            "length {len}"
        );
    }
    for len in 0..240 {
        assert_eq!(
            wire::decode(&vec![0u8; len]),
            Err(WireError::Truncated { len })
        );
    }
}

#[test]
fn truncated_options_every_length() {
    let full = captured("dnsmasq-4-ack.eth");
    // Cutting inside an option is an overrun; cutting between options (or before END) is a
    // shorter but well-formed option list.
    let between: &[usize] = &[240, 243, 249, 255, 261, 267, 273, 279, 289, 299, 305];
    for len in 240..full.len() {
        let r = wire::decode(&full[..len]);
        if between.contains(&len) {
            assert!(r.is_ok(), "length {len}: {r:?}");
        } else {
            assert!(
                matches!(r, Err(WireError::OptionOverrun { .. })),
                "length {len}: {r:?}"
            );
        }
    }
    assert!(wire::decode(&full).is_ok());
}

#[test]
fn bad_or_missing_magic_cookie() {
    let good = captured("dnsmasq-4-ack.eth");
    for cookie in [
        [0u8; 4],
        [99, 130, 83, 98],
        [0x63, 0x53, 0x82, 0x63],
        [1, 2, 3, 4],
    ] {
        let mut b = good.clone();
        b[236..240].copy_from_slice(&cookie);
        assert_eq!(wire::decode(&b), Err(WireError::BadMagicCookie(cookie)));
    }
    // A plain BOOTP header (no cookie, no options), padded to 300 with zeros.
    let mut b = good[..236].to_vec();
    b.resize(300, 0);
    assert_eq!(wire::decode(&b), Err(WireError::BadMagicCookie([0; 4])));
    // Exactly 236 bytes: no room for the cookie at all.
    assert_eq!(
        wire::decode(&good[..236]),
        Err(WireError::Truncated { len: 236 })
    );
}

#[test]
fn option_running_past_the_end() {
    let cases: &[(&[u8], u8)] = &[
        (&[53, 1, 5, 51, 4, 0, 0], 51),           // 2 of 4 bytes
        (&[53, 1, 5, 51], 51),                    // no length byte
        (&[53, 1, 5, 224, 255], 224),             // unknown option, 255 bytes claimed
        (&[53, 1, 5, 0, 0, 6, 8, 1, 2, 3, 4], 6), // after padding
        (&[53, 2], 53),
    ];
    for (opts, code) in cases {
        assert_eq!(
            wire::decode(&raw_reply(opts)),
            Err(WireError::OptionOverrun { code: *code }),
            "{opts:?}"
        );
    }
    // Bytes after END are not options.
    assert!(wire::decode(&raw_reply(&[53, 1, 5, 255, 51, 200])).is_ok());
}

#[test]
fn malformed_known_options() {
    let cases: &[(&[u8], u8)] = &[
        (&[1, 3, 255, 255, 255], 1),            // subnet mask of 3 bytes
        (&[1, 5, 255, 255, 255, 0, 0], 1),      // subnet mask of 5 bytes
        (&[53, 0], 53),                         // message type with no type
        (&[53, 2, 5, 5], 53),                   // message type of 2 bytes
        (&[54, 0], 54),                         // server id with no address
        (&[3, 5, 1, 2, 3, 4, 5], 3),            // router list not a multiple of 4
        (&[6, 2, 1, 2], 6),                     // DNS list not a multiple of 4
        (&[51, 3, 0, 0, 1], 51),                // lease time of 3 bytes
        (&[51, 8, 0, 0, 1, 0, 0, 0, 0, 0], 51), // lease time of 8 bytes
        (&[58, 2, 1, 0], 58),                   // T1 of 2 bytes
        (&[57, 1, 5], 57),                      // max size of 1 byte
        (&[26, 4, 0, 0, 5, 220], 26),           // MTU of 4 bytes
        (&[52, 0], 52),                         // overload with no value
        (&[15, 3, b'a', 0xff, b'b'], 15),       // domain name not UTF-8
        (&[121, 5, 24, 198, 51, 100, 0], 121),  // classless route missing its gateway
        (&[80, 1, 0], 80),                      // rapid commit with data
        (&[81, 1, 0], 81),                      // client FQDN shorter than 3
        (&[94, 2, 1, 2], 94),                   // client NDI not 3 bytes
        (&[152, 2, 0, 0], 152),                 // BLQ base time not 4 bytes
    ];
    for (opts, code) in cases {
        let head: &[u8] = if opts[0] == 53 { &[] } else { &[53, 1, 5] };
        let b = raw_reply(&[head, opts, &[255]].concat());
        assert_eq!(
            wire::decode(&b),
            Err(WireError::MalformedOption { code: *code }),
            "{opts:?}"
        );
    }
}

#[test]
fn malformed_option_after_good_ones_is_still_caught() {
    // dhcproto stops at the first option it cannot parse and keeps the ones before it.
    let b = raw_reply(&[
        53, 1, 5, 54, 4, 198, 51, 100, 1, 1, 3, 255, 255, 0, 51, 4, 0, 0, 1, 0,
    ]);
    assert_eq!(
        wire::decode(&b),
        Err(WireError::MalformedOption { code: 1 })
    );
}

#[test]
fn hlen_over_16() {
    let good = captured("dnsmasq-4-ack.eth");
    for hlen in [17u8, 32, 255] {
        let mut b = good.clone();
        b[2] = hlen;
        assert_eq!(wire::decode(&b), Err(WireError::BadHlen(hlen)));
    }
    let mut b = good.clone();
    b[2] = 16;
    assert_eq!(wire::decode(&b).unwrap().chaddr().len(), 16);
    b[2] = 0;
    assert!(wire::decode(&b).unwrap().chaddr().is_empty());
}

#[test]
fn unknown_op_and_message_type_are_not_fatal() {
    let mut b = raw_reply(&[53, 1, 99, 255]);
    b[0] = 7;
    let m = wire::decode(&b).unwrap();
    assert_eq!(m.opcode(), Opcode::Unknown(7));
    assert_eq!(message_type(&m), Some(MessageType::Unknown(99)));
}

#[test]
fn server_message_drops_control_characters() {
    let b = raw_reply(&[
        53, 1, 6, 56, 9, b'n', b'o', 0x1b, b'[', b'2', b'J', b'\n', b'!', 0, 255,
    ]);
    let r = Reply::parse(&b, SERVER).unwrap();
    assert_eq!(r.message.as_deref(), Some("no[2J!"));
}

#[test]
fn empty_options_field_decodes() {
    let m = wire::decode(&raw_reply(&[])).unwrap();
    assert!(m.opts().is_empty());
    assert_eq!(message_type(&m), None);
    let m = wire::decode(&raw_reply(&[0, 0, 0, 255])).unwrap();
    assert!(m.opts().is_empty());
}
