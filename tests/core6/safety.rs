//! Nothing a server sends puts a multicast, loopback, link-local, unspecified or IPv4-mapped
//! address on the link, or a prefix of a length outside 1..=128 (or with bits past it, or
//! overlapping those ranges): the parser drops them, and the core checks again, by the same
//! rules, whatever built the lease.

use super::*;

fn bad_addresses() -> Vec<Ipv6Addr> {
    vec![
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        Ipv6Addr::LOCALHOST,
        Ipv6Addr::UNSPECIFIED,
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77),
        // IPv4-mapped (198.51.100.77): another family.
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc633, 0x644d),
    ]
}

/// Soliciting and requesting against a server granting `ias`: what, if anything, is
/// configured.
fn outcome(cfg: Config6, ias: Vec<Ia>) -> Option<Lease6> {
    let mut c = Client6::new(cfg, 11);
    let (at, sol) = first_solicit(&mut c);
    let a = c.handle(at, rx(&advertise(sol.xid, 255, ias.clone())));
    if let Some(req) = sends(&a).into_iter().next() {
        return configured(&c.handle(at, rx(&reply(req.xid, ias)))).map(|(l, _, _)| l);
    }
    let mut r = reply(sol.xid, ias);
    r.rapid_commit = true;
    configured(&c.handle(at, rx(&r))).map(|(l, _, _)| l)
}

#[test]
fn no_unusable_address_is_ever_configured() {
    for bad in bad_addresses() {
        let ia = na(IAID, 100, 200, &[(bad, 300, 400)]);
        assert_eq!(outcome(config(), vec![ia]), None, "{bad}");
        let mixed = na(IAID, 100, 200, &[(bad, 300, 400), (ADDR, 300, 400)]);
        let lease = outcome(config(), vec![mixed]).unwrap();
        assert_eq!(addrs(&lease), vec![ADDR], "{bad}");
    }
}

#[test]
fn no_unusable_prefix_is_ever_configured() {
    let mut cases: Vec<(Ipv6Addr, u8)> = bad_addresses().into_iter().map(|a| (a, 48)).collect();
    cases.extend([(PREFIX, 0), (PREFIX, 129), (PREFIX, 255)]);
    // Bits set past the length; a prefix covering link-local and multicast space.
    cases.extend([(ADDR, 56), (Ipv6Addr::new(0xfe00, 0, 0, 0, 0, 0, 0, 0), 7)]);
    for (prefix, len) in cases {
        let ia = pd(IAID, 100, 200, &[(prefix, len, 300, 400)]);
        assert_eq!(outcome(pd_config(), vec![ia]), None, "{prefix}/{len}");
    }
}

#[test]
fn preferred_above_valid_and_valid_0_are_discarded() {
    let ia = na(IAID, 100, 200, &[(ADDR, 500, 400), (ADDR2, 0, 0)]);
    assert_eq!(outcome(config(), vec![ia]), None);
}

#[test]
fn an_ia_not_asked_for_is_not_taken() {
    let ia = na(IAID + 1, 100, 200, &[(ADDR, 300, 400)]);
    assert_eq!(outcome(config(), vec![ia]), None);
    // An IA_PD where only an IA_NA of that IAID was asked for.
    let ia = pd(IAID, 100, 200, &[(PREFIX, 56, 300, 400)]);
    assert_eq!(outcome(config(), vec![ia]), None);
}

#[test]
fn a_renewal_cannot_bring_in_an_unusable_address() {
    let (mut c, _, start) = bound();
    let t1 = start + s(1000.0);
    let (_, ren, _) = next_send(&mut c, t1);
    let multicast = Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 2);
    let r = reply(
        ren.xid,
        vec![na(
            IAID,
            1000,
            2000,
            &[(ADDR, 3000, 4000), (multicast, 3000, 4000)],
        )],
    );
    let (lease, _, _) = configured(&c.handle(t1, rx(&r))).unwrap();
    assert_eq!(addrs(&lease), vec![ADDR]);
}

/// A lease the core did not judge itself (held already, as `-r` gives it, or saved) is held
/// to the same rules: carrier back puts back only what may be on a link (found by the core6
/// fuzz target: fuzz/regressions/core6/held-lease-unchecked-reapplied).
#[test]
fn a_lease_from_elsewhere_is_held_to_the_same_rules() {
    let link_local = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77);
    let lease = Lease6 {
        server_id: SERVER_DUID.to_vec(),
        server_addr: Some(SERVER),
        ias: vec![
            na(
                IAID,
                1000,
                2000,
                &[(link_local, 3000, 4000), (ADDR, 3000, 4000)],
            ),
            pd(IAID, 1000, 2000, &[(ADDR, 9, 3000, 4000)]),
        ],
        dns: vec![],
        search: vec![],
        ntp: vec![],
        sntp: vec![],
        info_refresh: None,
        options: vec![],
        start: t(0.0),
    };
    let cfg = Config6::stateful(
        DUID.to_vec(),
        Some(IAID),
        Some(PdAsk {
            iaid: IAID,
            hint: None,
        }),
    );
    for saved in [false, true] {
        let c = Client6::new(cfg.clone(), 7);
        let mut c = if saved {
            c.with_saved_lease(lease.clone())
        } else {
            c.into_bound(lease.clone())
        };
        c.handle(t(1.0), Event6::Start);
        assert_eq!(addrs(c.lease().unwrap()), vec![ADDR], "saved {saved}");
        c.handle(t(2.0), Event6::Link { carrier: false });
        let a = c.handle(t(3.0), Event6::Link { carrier: true });
        let put_back: Vec<_> = a
            .iter()
            .filter_map(|a| match a {
                Action6::Reapply { lease, .. } => Some(addrs(lease)),
                _ => None,
            })
            .collect();
        // A saved lease being confirmed is not on the link yet: nothing to put back.
        let want = if saved { vec![] } else { vec![vec![ADDR]] };
        assert_eq!(put_back, want, "saved {saved}");
    }
}
