//! The `reply6` fuzz target's check: any bytes as a DHCPv6 message from a server, through
//! `v6::reply::parse` and `validate`, and the IAs of what parses back out through
//! `v6::encode::encode` (as a RENEW echoes them). Panics only when a rule below is broken.
//!
//! Shared like `checks.rs`: the fuzz crate compiles it as a module, and the main crate's
//! `tests/fuzz_regressions.rs` and `tests/v6wire` include it by path.

use dhcpc::addr::dns_name;
use dhcpc::v6::encode::encode;
use dhcpc::v6::reply::{self, ia, is_usable_unicast6, rules, tlv, IRT_MINIMUM};
use dhcpc::v6::{Holdings, Ia, Kind6, Outgoing6, Reply6};
use std::net::Ipv6Addr;

const FROM: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1];

/// `reply6` target.
pub fn reply6(data: &[u8]) {
    let r = match reply::parse(data, FROM) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().contains('\n'));
            return;
        }
    };
    check_reply6(&r);
    // Every byte after the header belongs to exactly one kept option, in order.
    let mut again = data[..4].to_vec();
    for (code, d) in &r.options {
        again.extend(code.to_be_bytes());
        again.extend(
            u16::try_from(d.len())
                .expect("an option fits its length")
                .to_be_bytes(),
        );
        again.extend(d);
    }
    assert_eq!(again, data, "the raw options are not the message");
    match reply::validate(&r, DUID) {
        Ok(()) => assert_eq!(r.client_id.as_deref(), Some(DUID)),
        Err(e) => assert!(!e.contains('\n')),
    }
    echo(&r);
}

/// What each typed field of a reply promises (its doc comment in `src/v6/mod.rs`).
pub fn check_reply6(r: &Reply6) {
    assert!(matches!(
        r.kind,
        Kind6::Advertise | Kind6::Reply | Kind6::Reconfigure
    ));
    assert!(r.xid <= 0xff_ffff);
    for id in r.server_id.iter().chain(&r.client_id) {
        assert!((3..=130).contains(&id.len()), "DUID of {} bytes", id.len());
    }
    for (i, x) in r.ias.iter().enumerate() {
        check_ia(x);
        let twin = r.ias[..i]
            .iter()
            .any(|y| y.iaid == x.iaid && ia::kind_of(y) == ia::kind_of(x));
        assert!(!twin, "IAID {} twice", x.iaid);
    }
    for list in [&r.dns, &r.sntp] {
        for (i, a) in list.iter().enumerate() {
            assert!(is_usable_unicast6(*a), "{a} in a server list");
            assert!(!list[..i].contains(a), "{a} twice");
        }
    }
    for (i, n) in r.search.iter().enumerate() {
        assert_eq!(dns_name(n).as_deref(), Some(n.as_str()), "name {n:?}");
        assert!(!r.search[..i].contains(n));
    }
    for (i, n) in r.ntp.iter().enumerate() {
        match n.parse::<Ipv6Addr>() {
            Ok(a) => assert!(is_usable_unicast6(a) || a.is_multicast(), "NTP {a}"),
            Err(_) => assert_eq!(dns_name(n).as_deref(), Some(n.as_str()), "NTP {n:?}"),
        }
        assert!(!r.ntp[..i].contains(n));
    }
    if let Some(t) = r.info_refresh {
        assert!(t >= IRT_MINIMUM, "refresh {t}");
    }
    if let Some(u) = r.unicast {
        assert!(is_usable_unicast6(u));
    }
    assert!(!r.status.message.chars().any(char::is_control));
    for l in &r.dropped {
        assert!(!l.chars().any(char::is_control), "{l:?}");
    }
}

/// An IA as RFC 8415 21.4, 21.6 and 21.22 let a client take it.
pub fn check_ia(x: &Ia) {
    assert!(!(x.t1 > x.t2 && x.t2 > 0), "T1 {} > T2 {}", x.t1, x.t2);
    match &x.holdings {
        Holdings::Addresses(v) => {
            for (i, a) in v.iter().enumerate() {
                assert!(is_usable_unicast6(a.addr), "{} kept", a.addr);
                assert!(!a.addr.is_multicast() && !a.addr.is_loopback());
                assert!(
                    a.addr.segments()[0] & 0xffc0 != 0xfe80,
                    "link-local {}",
                    a.addr
                );
                assert!(a.preferred <= a.valid);
                assert!(!v[..i].iter().any(|b| b.addr == a.addr));
            }
        }
        Holdings::Prefixes(v) => {
            for p in v {
                assert!((1..=128).contains(&p.len));
                rules::prefix(p.prefix, p.len).unwrap_or_else(|e| panic!("{e}"));
                assert!(p.preferred <= p.valid);
            }
        }
    }
}

/// The IAs of a reply, echoed as a RENEW would: the bytes frame, and read back the same IAs
/// with lifetimes and times of 0.
fn echo(r: &Reply6) {
    let msg = Outgoing6 {
        kind: Kind6::Renew,
        xid: r.xid,
        elapsed: 0,
        server_id: r.server_id.clone(),
        ias: r.ias.clone(),
        rapid_commit: false,
        oro: vec![],
    };
    let bytes = encode(&msg, DUID);
    assert_eq!(bytes[0], 5);
    let opts = tlv::options(&bytes[4..]).unwrap_or_else(|e| panic!("our RENEW: {e}"));
    let mut back = Vec::new();
    for (code, d) in opts {
        let kind = match code {
            3 => ia::IaKind::Na,
            25 => ia::IaKind::Pd,
            _ => continue,
        };
        let mut dropped = Vec::new();
        back.push(ia::read(kind, d, &mut dropped).unwrap_or_else(|e| panic!("our IA: {e}")));
        assert!(dropped.is_empty(), "{dropped:?}");
    }
    let zeroed: Vec<Ia> = r.ias.iter().map(zero).collect();
    let mut back_sorted = back;
    // dhcproto writes IA_NAs before IA_PDs; within a kind, in the reply's order.
    back_sorted.sort_by_key(|x| ia::kind_of(x) == ia::IaKind::Pd);
    let mut want = zeroed;
    want.sort_by_key(|x| ia::kind_of(x) == ia::IaKind::Pd);
    assert_eq!(back_sorted, want);
}

/// An IA as the client sends it back: times and lifetimes 0, no status.
fn zero(x: &Ia) -> Ia {
    let mut x = x.clone();
    (x.t1, x.t2, x.status) = (0, 0, dhcpc::v6::StatusCode::Success);
    match &mut x.holdings {
        Holdings::Addresses(v) => v.iter_mut().for_each(|a| (a.preferred, a.valid) = (0, 0)),
        Holdings::Prefixes(v) => v.iter_mut().for_each(|p| (p.preferred, p.valid) = (0, 0)),
    }
    x
}
