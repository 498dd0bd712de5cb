//! What the client sends: each message kind encoded, then read back with dhcproto (and by
//! hand where the bytes are the point).

use crate::build::*;
use dhcpc::v6::encode::{encode, kind_code, oro};
use dhcpc::v6::{Holdings, Ia, IaAddr, IaPrefix, Kind6, Outgoing6, StatusCode};
use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder};

fn out(kind: Kind6) -> Outgoing6 {
    Outgoing6 {
        kind,
        xid: XID,
        elapsed: 0,
        server_id: None,
        ias: Vec::new(),
        rapid_commit: false,
        oro: Vec::new(),
    }
}

fn na(iaid: u32, list: &[&str]) -> Ia {
    let addrs = list
        .iter()
        .map(|s| IaAddr {
            addr: a(s),
            preferred: 3000,
            valid: 3600,
        })
        .collect();
    Ia {
        iaid,
        t1: 1800,
        t2: 2880,
        status: StatusCode::Success,
        holdings: Holdings::Addresses(addrs),
    }
}

fn pd(iaid: u32, prefix: &str, len: u8) -> Ia {
    let p = IaPrefix {
        prefix: a(prefix),
        len,
        preferred: 3000,
        valid: 3600,
    };
    Ia {
        iaid,
        t1: 1800,
        t2: 2880,
        status: StatusCode::Success,
        holdings: Holdings::Prefixes(vec![p]),
    }
}

fn decode(msg: &Outgoing6) -> Message {
    let bytes = encode(msg, CLIENT_DUID);
    Message::decode(&mut Decoder::new(&bytes)).expect("dhcproto reads what we send")
}

fn codes(m: &Message) -> Vec<u16> {
    m.opts()
        .iter()
        .map(|o| u16::from(OptionCode::from(o)))
        .collect()
}

fn oro_of(m: &Message) -> Option<Vec<u16>> {
    match m.opts().get(OptionCode::ORO)? {
        DhcpOption::ORO(o) => Some(o.opts.iter().map(|c| u16::from(*c)).collect()),
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_solicit_reads_back_with_every_field() {
    let mut s = out(Kind6::Solicit);
    s.elapsed = 150;
    s.rapid_commit = true;
    s.oro = vec![24, 17];
    s.ias = vec![na(1, &[]), pd(2, "::", 56)];
    let m = decode(&s);
    assert_eq!(m.msg_type(), MessageType::Solicit);
    assert_eq!(m.xid_num(), XID);
    assert_eq!(codes(&m), [1, 3, 6, 8, 14, 25]);
    assert_eq!(
        m.opts().get(OptionCode::ClientId),
        Some(&DhcpOption::ClientId(CLIENT_DUID.to_vec()))
    );
    assert_eq!(
        m.opts().get(OptionCode::ElapsedTime),
        Some(&DhcpOption::ElapsedTime(150))
    );
    assert_eq!(oro_of(&m).unwrap(), [82, 23, 24, 31, 56, 17]);
    let Some(DhcpOption::IANA(ia)) = m.opts().get(OptionCode::IANA) else {
        panic!()
    };
    assert_eq!((ia.id, ia.t1, ia.t2), (1, 0, 0));
    assert_eq!(ia.opts.iter().count(), 0);
    let Some(DhcpOption::IAPD(ia)) = m.opts().get(OptionCode::IAPD) else {
        panic!()
    };
    assert_eq!((ia.id, ia.t1, ia.t2), (2, 0, 0));
    let Some(DhcpOption::IAPrefix(p)) = ia.opts.get(OptionCode::IAPrefix) else {
        panic!()
    };
    assert_eq!((p.prefix_ip, p.prefix_len), (a("::"), 56));
    assert_eq!((p.preferred_lifetime, p.valid_lifetime), (0, 0));
}

#[test]
fn a_request_carries_the_server_id_and_lifetimes_of_0() {
    let mut r = out(Kind6::Request);
    r.server_id = Some(SERVER_DUID.to_vec());
    r.ias = vec![
        na(7, &["2001:db8::1", "2001:db8::2"]),
        pd(8, "2001:db8:100::", 56),
    ];
    let m = decode(&r);
    assert_eq!(codes(&m), [1, 2, 3, 6, 8, 25]);
    assert_eq!(
        m.opts().get(OptionCode::ServerId),
        Some(&DhcpOption::ServerId(SERVER_DUID.to_vec()))
    );
    let Some(DhcpOption::IANA(ia)) = m.opts().get(OptionCode::IANA) else {
        panic!()
    };
    assert_eq!((ia.id, ia.t1, ia.t2), (7, 0, 0));
    let got: Vec<_> = ia
        .opts
        .iter()
        .map(|o| match o {
            DhcpOption::IAAddr(x) => (x.addr, x.preferred_life, x.valid_life),
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [(a("2001:db8::1"), 0, 0), (a("2001:db8::2"), 0, 0)],
        "in the core's order"
    );
    let Some(DhcpOption::IAPD(ia)) = m.opts().get(OptionCode::IAPD) else {
        panic!()
    };
    let Some(DhcpOption::IAPrefix(p)) = ia.opts.get(OptionCode::IAPrefix) else {
        panic!()
    };
    assert_eq!(
        (p.prefix_ip, p.prefix_len, p.valid_lifetime),
        (a("2001:db8:100::"), 56, 0)
    );
}

#[test]
fn several_ias_are_sent_in_the_cores_order() {
    let mut r = out(Kind6::Renew);
    r.ias = vec![na(3, &["2001:db8::3"]), na(1, &["2001:db8::1"]), na(2, &[])];
    let m = decode(&r);
    let ids: Vec<u32> = m
        .opts()
        .get_all(OptionCode::IANA)
        .unwrap()
        .iter()
        .map(|o| match o {
            DhcpOption::IANA(ia) => ia.id,
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(ids, [3, 1, 2]);
}

#[test]
fn every_kind_has_its_type_and_its_oro() {
    let cases = [
        (Kind6::Solicit, 1, Some(82)),
        (Kind6::Request, 3, Some(82)),
        (Kind6::Confirm, 4, None),
        (Kind6::Renew, 5, Some(82)),
        (Kind6::Rebind, 6, Some(82)),
        (Kind6::Release, 8, None),
        (Kind6::Decline, 9, None),
        (Kind6::InformationRequest, 11, Some(83)),
    ];
    for (kind, code, first) in cases {
        let mut o = out(kind);
        o.oro = vec![23, 99];
        let bytes = encode(&o, CLIENT_DUID);
        assert_eq!(bytes[0], code, "{kind:?}");
        assert_eq!(kind_code(kind), code);
        let m = decode(&o);
        assert!(
            m.opts().get(OptionCode::ElapsedTime).is_some(),
            "{kind:?}: elapsed time"
        );
        assert_eq!(oro_of(&m).map(|v| v[0]), first, "{kind:?}");
        if let Some(v) = oro_of(&m) {
            assert_eq!(v.iter().filter(|c| **c == 23).count(), 1, "each code once");
            assert!(v.contains(&99) && v.contains(&24) && v.contains(&56) && v.contains(&31));
        }
        assert!(m.opts().get(OptionCode::ServerId).is_none());
        assert!(m.opts().get(OptionCode::RapidCommit).is_none());
    }
}

#[test]
fn an_information_request_asks_for_the_refresh_time() {
    assert_eq!(
        oro(Kind6::InformationRequest, &[]).unwrap(),
        [83, 32, 23, 24, 31, 56]
    );
    assert!(!oro(Kind6::Solicit, &[]).unwrap().contains(&32));
    assert_eq!(oro(Kind6::Release, &[23]), None);
}

#[test]
fn a_release_and_a_decline_carry_server_id_and_addresses() {
    for kind in [Kind6::Release, Kind6::Decline] {
        let mut o = out(kind);
        o.server_id = Some(SERVER_DUID.to_vec());
        o.ias = vec![na(1, &["2001:db8::1"])];
        o.elapsed = 0xffff;
        let m = decode(&o);
        assert_eq!(codes(&m), [1, 2, 3, 8], "{kind:?}");
        assert_eq!(
            m.opts().get(OptionCode::ElapsedTime),
            Some(&DhcpOption::ElapsedTime(0xffff))
        );
    }
}

#[test]
fn a_solicit_is_these_bytes() {
    let mut s = out(Kind6::Solicit);
    s.elapsed = 0x0102;
    s.ias = vec![na(0x0a0b_0c0d, &[])];
    s.rapid_commit = true;
    let duid = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
    let mut want = vec![1, 0xab, 0xcd, 0xef];
    want.extend(opt(1, &duid));
    want.extend(opt(3, &[0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0]));
    want.extend(opt(6, &[0, 82, 0, 23, 0, 24, 0, 31, 0, 56]));
    want.extend(opt(8, &[1, 2]));
    want.extend(opt(14, &[]));
    assert_eq!(encode(&s, &duid), want);
}

#[test]
fn only_24_bits_of_the_xid_are_sent() {
    let mut s = out(Kind6::Solicit);
    s.xid = 0xff12_3456;
    assert_eq!(&encode(&s, CLIENT_DUID)[..4], &[1, 0x12, 0x34, 0x56]);
}
