//! The typed DHCPv6 reply: framing errors drop the message, each option is judged by its own
//! rule (one test per rule, with what a hostile server sends), and an option that fails is
//! left out without costing the rest.

use crate::build::*;
use dhcpc::v6::reply::{self, ParseError};
use dhcpc::v6::{IaAddr, IaPrefix, Kind6, StatusCode, INFINITY};

#[test]
fn a_full_reply_is_typed() {
    let r = with(&[
        opt(7, &[200]),
        opt(14, &[]),
        opt(12, &a("2001:db8::fe").octets()),
        ia_na(1, 1800, 2880, &[iaaddr("2001:db8::100", 3000, 3600)]),
        ia_pd(2, 1000, 1600, &[iaprefix(3000, 3600, 56, "2001:db8:100::")]),
        addresses(23, &["2001:db8::53", "fd00::53"]),
        opt(24, &names(&["example.com", "lab.example.org."])),
        addresses(31, &["2001:db8::123"]),
        opt(32, &7200u32.to_be_bytes()),
        opt(
            56,
            &[0, 1, 0, 16]
                .iter()
                .copied()
                .chain(a("2001:db8::7b").octets())
                .collect::<Vec<_>>(),
        ),
        status(0, b"all good"),
    ]);
    assert_eq!(r.kind, Kind6::Reply);
    assert_eq!(r.xid, XID);
    assert_eq!(r.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(r.client_id.as_deref(), Some(CLIENT_DUID));
    assert_eq!((r.preference, r.rapid_commit), (200, true));
    assert_eq!(r.unicast, Some(a("2001:db8::fe")));
    assert_eq!(
        (r.status.code, r.status.message.as_str()),
        (StatusCode::Success, "all good")
    );
    assert_eq!(r.ias.len(), 2);
    assert_eq!((r.ias[0].iaid, r.ias[0].t1, r.ias[0].t2), (1, 1800, 2880));
    assert_eq!(r.ias[0].status, StatusCode::Success);
    let na = IaAddr {
        addr: a("2001:db8::100"),
        preferred: 3000,
        valid: 3600,
    };
    assert_eq!(addrs(&r, 0), vec![na]);
    let pd = IaPrefix {
        prefix: a("2001:db8:100::"),
        len: 56,
        preferred: 3000,
        valid: 3600,
    };
    assert_eq!(prefixes(&r, 1), vec![pd]);
    assert_eq!(r.dns, vec![a("2001:db8::53"), a("fd00::53")]);
    assert_eq!(r.search, vec!["example.com", "lab.example.org"]);
    assert_eq!(r.sntp, vec![a("2001:db8::123")]);
    assert_eq!(r.ntp, vec!["2001:db8::7b"]);
    assert_eq!(r.info_refresh, Some(7200));
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    let codes: Vec<u16> = r.options.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [1, 2, 7, 14, 12, 3, 25, 23, 24, 31, 32, 56, 13]);
    assert_eq!(r.options[0].1, CLIENT_DUID);
}

#[test]
fn advertise_and_reconfigure_are_taken_and_client_messages_are_not() {
    assert_eq!(parse(&msg(2, &[])).kind, Kind6::Advertise);
    assert_eq!(parse(&msg(10, &[])).kind, Kind6::Reconfigure);
    for t in [0u8, 1, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 21, 255] {
        assert_eq!(
            reply::parse(&msg(t, &[]), FROM),
            Err(ParseError::NotForClient(t))
        );
    }
}

#[test]
fn fewer_than_four_bytes_is_no_message() {
    for n in 0..4 {
        let e = reply::parse(&[7, 0, 0, 0][..n], FROM).unwrap_err();
        assert_eq!(e, ParseError::Short { len: n });
        assert!(e.to_string().contains("need at least 4"), "{e}");
    }
}

#[test]
fn a_truncated_option_drops_the_message() {
    let mut bytes = reply(&[addresses(23, &["2001:db8::53"])]);
    for cut in 1..20 {
        let e = reply::parse(&bytes[..bytes.len() - cut], FROM).unwrap_err();
        assert!(matches!(e, ParseError::Framing(_)), "cut {cut}: {e}");
    }
    bytes.push(0);
    let e = reply::parse(&bytes, FROM).unwrap_err();
    assert!(e.to_string().contains("cut short"), "{e}");
}

#[test]
fn an_option_longer_than_the_message_drops_it() {
    let mut bytes = reply(&[]);
    bytes.extend([0, 23, 0xff, 0xff]);
    bytes.extend(a("2001:db8::53").octets());
    let e = reply::parse(&bytes, FROM).unwrap_err();
    assert!(
        e.to_string().contains("option 23") && e.to_string().contains("65535"),
        "{e}"
    );
}

#[test]
fn a_missing_server_id_fails_validation() {
    let r = parse(&msg(7, &[client_id(), ia_na(1, 0, 0, &[])]));
    assert_eq!(r.server_id, None);
    let e = reply::validate(&r, CLIENT_DUID).unwrap_err();
    assert!(e.contains("server identifier"), "{e}");
    assert_eq!(reply::validate(&with(&[]), CLIENT_DUID), Ok(()));
}

#[test]
fn a_missing_or_foreign_client_id_fails_validation() {
    let r = parse(&msg(2, &[server_id()]));
    assert!(reply::validate(&r, CLIENT_DUID)
        .unwrap_err()
        .contains("no usable client"));
    let e = reply::validate(&with(&[]), &[0, 3, 0, 1, 9, 9, 9, 9, 9, 9]).unwrap_err();
    assert!(e.contains("another client's"), "{e}");
}

#[test]
fn reconfigure_is_never_valid_without_authentication() {
    let r = parse(&msg(10, &[client_id(), server_id(), opt(19, &[5])]));
    let e = reply::validate(&r, CLIENT_DUID).unwrap_err();
    assert!(e.contains("RECONFIGURE"), "{e}");
}

#[test]
fn a_duid_is_3_to_130_bytes() {
    for n in [0usize, 1, 2, 131, 600] {
        let r = parse(&msg(7, &[opt(2, &vec![7; n]), opt(1, &vec![7; n])]));
        assert_eq!(
            (r.server_id.clone(), r.client_id.clone()),
            (None, None),
            "{n}"
        );
        assert!(
            dropped(&r, "option 2 (server id): DUID of"),
            "{:?}",
            r.dropped
        );
        assert!(dropped(&r, "option 1 (client id)"), "{:?}", r.dropped);
    }
    for n in [3usize, 130] {
        let r = parse(&msg(7, &[opt(2, &vec![7; n])]));
        assert_eq!(r.server_id, Some(vec![7; n]));
    }
}

#[test]
fn a_repeated_option_is_left_out_and_the_first_kept() {
    let r = with(&[opt(2, &[0, 2, 9, 9]), opt(7, &[1]), opt(7, &[9])]);
    assert_eq!(r.server_id.as_deref(), Some(SERVER_DUID));
    assert_eq!(r.preference, 1);
    assert!(
        dropped(&r, "option 2 (server id): repeated"),
        "{:?}",
        r.dropped
    );
    assert!(
        dropped(&r, "option 7 (preference): repeated"),
        "{:?}",
        r.dropped
    );
    assert_eq!(r.options.len(), 5, "every option is kept raw");
}

#[test]
fn lifetimes_of_0_and_infinity_are_kept() {
    let r = with(&[
        ia_na(
            1,
            0,
            0,
            &[
                iaaddr("2001:db8::1", 0, 0),
                iaaddr("2001:db8::2", INFINITY, INFINITY),
            ],
        ),
        ia_pd(2, INFINITY, INFINITY, &[iaprefix(0, 0, 48, "2001:db8:1::")]),
    ]);
    let got: Vec<(u32, u32)> = addrs(&r, 0)
        .iter()
        .map(|x| (x.preferred, x.valid))
        .collect();
    assert_eq!(got, [(0, 0), (INFINITY, INFINITY)]);
    assert_eq!((r.ias[1].t1, r.ias[1].t2), (INFINITY, INFINITY));
    assert_eq!(prefixes(&r, 1)[0].valid, 0);
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
}

#[test]
fn an_address_preferred_longer_than_valid_is_left_out_alone() {
    let r = with(&[ia_na(
        1,
        100,
        200,
        &[
            iaaddr("2001:db8::1", 3601, 3600),
            iaaddr("2001:db8::2", 3600, 3600),
        ],
    )]);
    assert_eq!(
        addrs(&r, 0).iter().map(|x| x.addr).collect::<Vec<_>>(),
        [a("2001:db8::2")]
    );
    assert!(dropped(
        &r,
        "IA_NA 1: address left out: 2001:db8::1: preferred lifetime 3601"
    ));
}

#[test]
fn a_prefix_preferred_longer_than_valid_is_left_out_alone() {
    let r = with(&[ia_pd(
        7,
        0,
        0,
        &[
            iaprefix(INFINITY, 10, 56, "2001:db8:1::"),
            iaprefix(5, 10, 56, "2001:db8:2::"),
        ],
    )]);
    assert_eq!(prefixes(&r, 0).len(), 1);
    assert_eq!(prefixes(&r, 0)[0].prefix, a("2001:db8:2::"));
    assert!(dropped(
        &r,
        "IA_PD 7: prefix left out: 2001:db8:1::/56: preferred"
    ));
}

#[test]
fn an_ia_with_t1_over_t2_is_discarded_and_the_rest_kept() {
    let r = with(&[
        ia_na(1, 3600, 1800, &[iaaddr("2001:db8::1", 10, 20)]),
        ia_pd(2, 3600, 1800, &[iaprefix(10, 20, 56, "2001:db8:1::")]),
        ia_na(3, 10, 20, &[iaaddr("2001:db8::3", 10, 20)]),
        addresses(23, &["2001:db8::53"]),
    ]);
    assert_eq!(r.ias.len(), 1);
    assert_eq!(r.ias[0].iaid, 3);
    assert_eq!(r.dns, [a("2001:db8::53")]);
    assert!(dropped(
        &r,
        "option 3 (IA_NA): T1 3600 is over T2 1800 (RFC 8415 21.4)"
    ));
    assert!(dropped(&r, "option 25 (IA_PD): T1 3600 is over T2 1800"));
}

#[test]
fn t1_over_a_t2_of_0_and_equal_times_are_kept() {
    let r = with(&[
        ia_na(1, 3600, 0, &[]),
        ia_na(2, 0, 5, &[]),
        ia_pd(3, 60, 60, &[]),
    ]);
    let times: Vec<(u32, u32)> = r.ias.iter().map(|i| (i.t1, i.t2)).collect();
    assert_eq!(times, [(3600, 0), (0, 5), (60, 60)]);
}

#[test]
fn status_codes_inside_ias_are_typed() {
    let r = with(&[
        ia_na(1, 0, 0, &[status(2, b"no addresses")]),
        ia_na(2, 0, 0, &[status(3, b"")]),
        ia_pd(3, 0, 0, &[status(6, b"none")]),
        ia_na(4, 0, 0, &[status(5, b""), status(0, b"")]),
        ia_na(5, 0, 0, &[status(4242, b"")]),
    ]);
    let codes: Vec<StatusCode> = r.ias.iter().map(|i| i.status).collect();
    use StatusCode::*;
    assert_eq!(
        codes,
        [
            NoAddrsAvail,
            NoBinding,
            NoPrefixAvail,
            UseMulticast,
            Other(4242)
        ]
    );
}

#[test]
fn an_ia_whose_status_cannot_be_read_is_left_out() {
    let r = with(&[ia_na(1, 0, 0, &[opt(13, &[0])]), ia_na(2, 0, 0, &[])]);
    assert_eq!(r.ias.len(), 1);
    assert!(
        dropped(&r, "its status code: length 1, should be 2 or more"),
        "{:?}",
        r.dropped
    );
}

#[test]
fn status_codes_at_the_top_are_typed_and_cleaned() {
    for (code, want) in [
        (2, StatusCode::NoAddrsAvail),
        (3, StatusCode::NoBinding),
        (5, StatusCode::UseMulticast),
        (1, StatusCode::UnspecFail),
    ] {
        let r = with(&[status(code, b"go\naway\x1b[31m \xff")]);
        assert_eq!(r.status.code, want);
        assert_eq!(r.status.message, "goaway[31m \u{fffd}");
    }
    let r = with(&[opt(13, &[5])]);
    assert_eq!(r.status.code, StatusCode::Success);
    assert!(dropped(&r, "option 13 (status code): length 1"));
}

#[test]
fn addresses_no_host_may_hold_are_left_out_of_an_ia_na() {
    let bad = [
        "ff02::1",
        "ff05::1:3",
        "::1",
        "::",
        "fe80::1",
        "febf::1",
        "::ffff:198.51.100.7",
        "::198.51.100.7",
    ];
    let mut inner: Vec<Vec<u8>> = bad.iter().map(|s| iaaddr(s, 10, 20)).collect();
    inner.push(iaaddr("2001:db8::10", 10, 20));
    inner.push(iaaddr("fd12:3456::10", 10, 20));
    let r = with(&[ia_na(1, 0, 0, &inner)]);
    let kept: Vec<_> = addrs(&r, 0).iter().map(|x| x.addr).collect();
    assert_eq!(kept, [a("2001:db8::10"), a("fd12:3456::10")]);
    for s in bad {
        assert!(
            dropped(&r, &format!("address left out: {}", a(s))),
            "{s}: {:?}",
            r.dropped
        );
    }
}

#[test]
fn a_repeated_address_prefix_or_iaid_is_left_out() {
    let r = with(&[
        ia_na(
            1,
            0,
            0,
            &[iaaddr("2001:db8::1", 1, 2), iaaddr("2001:db8::1", 5, 6)],
        ),
        ia_pd(
            1,
            0,
            0,
            &[
                iaprefix(1, 2, 56, "2001:db8:1::"),
                iaprefix(1, 2, 56, "2001:db8:1::"),
            ],
        ),
        ia_na(1, 0, 0, &[iaaddr("2001:db8::9", 1, 2)]),
    ]);
    assert_eq!(r.ias.len(), 2, "one IA_NA and one IA_PD of IAID 1");
    assert_eq!(addrs(&r, 0).len(), 1);
    assert_eq!(addrs(&r, 0)[0].valid, 2);
    assert_eq!(prefixes(&r, 1).len(), 1);
    assert!(dropped(&r, "IAID 1 repeated"), "{:?}", r.dropped);
}

#[test]
fn prefixes_out_of_bounds_or_of_special_space_are_left_out() {
    let cases: [(u8, &str, &str); 9] = [
        (129, "2001:db8::", "not 1 to 128"),
        (255, "2001:db8::", "not 1 to 128"),
        (0, "::", "not 1 to 128"),
        (48, "2001:db8:1:1::", "bits set past"),
        (64, "fe80::", "link-local"),
        (16, "ff05::", "multicast"),
        (1, "8000::", "overlaps link-local"),
        (96, "::ffff:0:0", "IPv4-mapped"),
        (64, "::", "unspecified"),
    ];
    for (len, p, why) in cases {
        let r = with(&[ia_pd(1, 0, 0, &[iaprefix(10, 20, len, p)])]);
        assert!(prefixes(&r, 0).is_empty(), "{p}/{len}");
        assert!(dropped(&r, why), "{p}/{len}: {:?}", r.dropped);
    }
    let r = with(&[ia_pd(1, 0, 0, &[iaprefix(10, 20, 128, "2001:db8::1")])]);
    assert_eq!(prefixes(&r, 0)[0].len, 128);
}

#[test]
fn an_ia_cut_short_inside_is_left_out_and_the_rest_kept() {
    let mut inner = iaaddr("2001:db8::1", 1, 2);
    inner[3] = 40; // says 40 bytes, holds 24
    let r = with(&[
        ia_na(1, 0, 0, &[inner]),
        ia_na(2, 0, 0, &[]),
        opt(3, &[0; 11]),
    ]);
    assert_eq!(r.ias.len(), 1);
    assert_eq!(r.ias[0].iaid, 2);
    assert!(
        dropped(&r, "its options: option 5 at byte 0 holds 40 bytes"),
        "{:?}",
        r.dropped
    );
    assert!(
        dropped(&r, "length 11, should be 12 or more"),
        "{:?}",
        r.dropped
    );
}

#[test]
fn short_iaaddr_and_iaprefix_options_are_left_out() {
    let r = with(&[
        ia_na(1, 0, 0, &[opt(5, &[0x20; 23])]),
        ia_pd(2, 0, 0, &[opt(26, &[0; 24])]),
    ]);
    assert!(addrs(&r, 0).is_empty() && prefixes(&r, 1).is_empty());
    assert!(
        dropped(&r, "length 23, should be 24 or more"),
        "{:?}",
        r.dropped
    );
    assert!(
        dropped(&r, "length 24, should be 25 or more"),
        "{:?}",
        r.dropped
    );
}

#[test]
fn options_of_the_other_kind_of_ia_are_not_taken() {
    let r = with(&[
        ia_na(1, 0, 0, &[iaprefix(1, 2, 56, "2001:db8:1::")]),
        ia_pd(2, 0, 0, &[iaaddr("2001:db8::1", 1, 2)]),
    ]);
    assert!(addrs(&r, 0).is_empty() && prefixes(&r, 1).is_empty());
    assert!(
        dropped(&r, "IA_NA 1: option 26 does not belong"),
        "{:?}",
        r.dropped
    );
    assert!(
        dropped(&r, "IA_PD 2: option 5 does not belong"),
        "{:?}",
        r.dropped
    );
}
