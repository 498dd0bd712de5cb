//! Nothing a server sends puts a multicast, loopback, link-local or unspecified address on
//! the link, or a prefix of a length outside 1..=128: the parser drops them, and the core
//! checks again.

use super::*;

fn bad_addresses() -> Vec<Ipv6Addr> {
    vec![
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        Ipv6Addr::LOCALHOST,
        Ipv6Addr::UNSPECIFIED,
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77),
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
