//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;

/// What ISC dhclient 4.4.3 -6 -N -P wrote, then `-r` (src/v6/testdata/record.sh).
const RECORDED: &str = include_str!("../v6/testdata/dhclient6.leases");
const STARTS: u64 = 1_796_312_388;
const CLIENT_DUID: [u8; 14] = [
    0, 1, 0, 1, 0x32, 0xa4, 0x49, 0xc2, 2, 0, 0, 0xaa, 0xbb, 0xcc,
];

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn ia(iaid: u32, t1: u32, t2: u32, holdings: Holdings) -> Ia {
    Ia {
        iaid,
        t1,
        t2,
        status: StatusCode::Success,
        holdings,
    }
}

fn addr(s: &str, preferred: u32, valid: u32) -> IaAddr {
    IaAddr {
        addr: a(s),
        preferred,
        valid,
    }
}

fn prefix(s: &str, len: u8, preferred: u32, valid: u32) -> IaPrefix {
    IaPrefix {
        prefix: a(s),
        len,
        preferred,
        valid,
    }
}

/// The lease of the recorded file, as dhcpc holds it.
fn recorded_lease() -> Lease6 {
    let addrs = |v: &[&str]| -> Vec<u8> { v.iter().flat_map(|s| a(s).octets()).collect() };
    let server = vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
    Lease6 {
        server_id: server.clone(),
        server_addr: None,
        ias: vec![
            ia(
                0x00aa_bbcc,
                0,
                0,
                Holdings::Addresses(vec![addr("2001:db8:1::1f3", 300, 600)]),
            ),
            ia(
                0x00aa_bbcc,
                0,
                0,
                Holdings::Prefixes(vec![prefix("2001:db8:1ff::", 56, 300, 600)]),
            ),
        ],
        dns: vec![a("2001:db8:1::53"), a("2001:db8:1::54")],
        search: vec!["example.com".into(), "lab.example.org".into()],
        ntp: vec![],
        sntp: vec![a("2001:db8:1::123")],
        info_refresh: None,
        options: vec![
            (1, CLIENT_DUID.to_vec()),
            (2, server),
            (23, addrs(&["2001:db8:1::53", "2001:db8:1::54"])),
            (
                24,
                b"\x07example\x03com\x00\x03lab\x07example\x03org\x00".to_vec(),
            ),
            (31, addrs(&["2001:db8:1::123"])),
        ],
        start: Instant::from_secs(5),
    }
}

/// The recorded file's blocks, as text.
fn recorded_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    for line in RECORDED.lines() {
        if line == "lease6 {" {
            blocks.push(String::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    blocks
}

#[test]
fn renders_byte_for_byte_as_dhclient_wrote() {
    let blocks = recorded_blocks();
    assert_eq!(blocks.len(), 2);
    let lease = recorded_lease();
    assert_eq!(render("v6rec-c0", &lease, &[], STARTS, false), blocks[0]);
    assert_eq!(render("v6rec-c0", &lease, &[], STARTS, true), blocks[1]);
    // Without the server's echo, the client's own DUID is written.
    let no_echo = Lease6 {
        options: vec![],
        ..lease.clone()
    };
    assert_eq!(
        render("v6rec-c0", &no_echo, &CLIENT_DUID, STARTS, false),
        blocks[0]
    );
}

#[test]
fn reads_what_dhclient_wrote() {
    let all = parse_all(RECORDED, Instant::from_secs(5)).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].interface.as_deref(), Some("v6rec-c0"));
    assert_eq!((all[0].starts, all[0].released), (STARTS, false));
    assert_eq!(all[0].lease, recorded_lease());
    assert!(all[1].released);
    // The newest block was released: dhclient would not confirm it, nor does dhcpc.
    assert_eq!(
        latest(RECORDED, "v6rec-c0", Instant::ZERO, STARTS),
        Ok(None)
    );
    let first = format!("default-duid 0:1;\n{}", recorded_blocks()[0]);
    let now = Instant::from_secs(1000);
    let l = latest(&first, "v6rec-c0", now, STARTS + 100)
        .unwrap()
        .unwrap();
    assert_eq!(l.start, now);
    assert_eq!(
        l.ias[0].holdings,
        Holdings::Addresses(vec![addr("2001:db8:1::1f3", 200, 500)])
    );
    assert_eq!(latest(&first, "eth1", now, STARTS), Ok(None));
    assert_eq!(latest(&first, "v6rec-c0", now, STARTS + 600), Ok(None));
}

/// A lease with a bit of everything: a printable IAID, T1 and T2, lifetimes for ever, two
/// addresses, options of every printed format.
fn busy_lease() -> Lease6 {
    let ntp = vec!["2001:db8::123".to_string(), "ntp.example.com".to_string()];
    Lease6 {
        server_id: b"server \"one\" 'q' $x".to_vec(),
        server_addr: None,
        ias: vec![
            ia(
                u32::from_be_bytes(*b"eth0"),
                1000,
                1600,
                Holdings::Addresses(vec![
                    addr("2001:db8:1::1", INFINITY, INFINITY),
                    addr("2001:db8:1::2", 0, 7200),
                ]),
            ),
            ia(
                7,
                INFINITY,
                INFINITY,
                Holdings::Prefixes(vec![prefix("2001:db8:100::", 48, 10, 20)]),
            ),
        ],
        dns: vec![a("2001:db8::53")],
        search: vec!["lab.test".into()],
        ntp: ntp.clone(),
        sntp: vec![],
        info_refresh: None,
        options: vec![
            (
                1,
                vec![
                    0, 4, 0xff, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                ],
            ),
            (2, b"server \"one\" 'q' $x".to_vec()),
            (12, a("2001:db8::1").octets().to_vec()),
            (13, b"\x00\x00All \"fine\"".to_vec()),
            (14, vec![]),
            (23, a("2001:db8::53").octets().to_vec()),
            (24, b"\x03lab\x04test\x00".to_vec()),
            (32, vec![0xff; 4]),
            (41, b"EST5EDT".to_vec()),
            (56, names6::encode_ntp(&ntp).unwrap()),
            (61, vec![0, 7, 0, 9]),
            (64, b"\x04aftr\x07example\x00".to_vec()),
            (82, vec![0, 0, 0, 60]),
            (135, vec![2, 35]),
            (4242, vec![0xde, 0xad]),
        ],
        start: Instant::from_secs(9),
    }
}

#[test]
fn round_trips() {
    let lease = busy_lease();
    let text = render("eth0", &lease, &[], 1_800_000_000, false);
    assert!(text.contains("  ia-na \"eth0\" {\n"), "{text}");
    assert!(text.contains("  option dhcp6.rapid-commit;\n"), "{text}");
    assert!(
        text.contains("  option dhcp6.info-refresh-time infinite;\n"),
        "{text}"
    );
    assert!(
        text.contains("  option dhcp6.aftr-name aftr.example.;\n"),
        "{text}"
    );
    assert!(
        text.contains("  option dhcp6.client-arch-type 7,9;\n"),
        "{text}"
    );
    assert!(
        text.contains("  option dhcp6.unknown-4242 de:ad;\n"),
        "{text}"
    );
    let all = parse_all(&text, Instant::from_secs(9)).unwrap();
    assert_eq!(all.len(), 1, "{text}");
    assert_eq!(all[0].lease, lease, "{text}");
    assert_eq!(all[0].starts, 1_800_000_000);
    // Rendered again, the same text.
    assert_eq!(
        render("eth0", &all[0].lease, &[], all[0].starts, false),
        text
    );
}

#[test]
fn ias_begun_at_other_times_count_from_the_first() {
    let text = "lease6 {\n  interface \"eth0\";\n\
        ia-na 0:0:0:1 { starts 100; renew 50; rebind 80;\n\
          iaaddr 2001:db8::1 { starts 110; preferred-life 30; max-life 60; } }\n\
        ia-pd 0:0:0:2 { starts 90; renew 0; rebind 4294967295;\n\
          iaprefix 2001:db8:2::/56 { preferred-life 4294967295; max-life 4294967295; }\n\
          iaprefix 2001:db8:3::/56 { starts 90; preferred-life 70; max-life 60; } }\n\
        option dhcp6.server-id 0:1:2;\n}\n";
    let b = &parse_all(text, Instant::ZERO).unwrap()[0];
    assert_eq!(b.starts, 90);
    assert_eq!((b.lease.ias[0].t1, b.lease.ias[0].t2), (60, 90));
    assert_eq!(
        b.lease.ias[0].holdings,
        Holdings::Addresses(vec![addr("2001:db8::1", 50, 80)])
    );
    assert_eq!((b.lease.ias[1].t1, b.lease.ias[1].t2), (0, INFINITY));
    // Preferred longer than valid is left out, as dhclient leaves it out of a reply.
    assert_eq!(
        b.lease.ias[1].holdings,
        Holdings::Prefixes(vec![prefix("2001:db8:2::", 56, INFINITY, INFINITY)])
    );
    // Re-based 70 s after the first start: the address has 10 s to live, T1 is due.
    let l = latest(text, "eth0", Instant::ZERO, 160).unwrap().unwrap();
    assert_eq!((l.ias[0].t1, l.ias[0].t2), (1, 20));
    assert_eq!(
        l.ias[0].holdings,
        Holdings::Addresses(vec![addr("2001:db8::1", 0, 10)])
    );
    // 10 s later it is gone, and its IA with it.
    let l = latest(text, "eth0", Instant::ZERO, 170).unwrap().unwrap();
    assert_eq!(l.ias.len(), 1);
    assert_eq!(l.ias[0].iaid, 2);
}

#[test]
fn what_is_not_a_lease_is_said() {
    for (bad, why) in [
        (
            "lease6 { interface \"e\"; option dhcp6.server-id 1:2; }",
            "without ia-na",
        ),
        (
            "lease6 { ia-na 1:2:3 { starts 1; } option dhcp6.server-id 1:2; }",
            "IAID",
        ),
        (
            "lease6 { ia-na 1:2:3:4 { starts 1; } }",
            "without dhcp6.server-id",
        ),
        (
            "lease6 { ia-na 1:2:3:4 { } option dhcp6.server-id 1:2; }",
            "without starts",
        ),
        ("lease6 { ia-na 1:2:3:4 { starts x; } }", "not a number"),
        (
            "lease6 { ia-pd 1:2:3:4 { iaprefix 2001:db8::/129 { } } }",
            "iaprefix",
        ),
        ("lease6 { ia-na 1:2:3:4 { iaaddr 10.0.0.1 { } } }", "iaaddr"),
        (
            "lease6 { ia-na 1:2:3:4 { iaaddr ::1 { max-life 1; } } }",
            "preferred-life",
        ),
        ("lease6 { interface eth0; }", "quoted"),
        ("lease6 {", "line 1"),
    ] {
        let e = parse_all(bad, Instant::ZERO).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn options_that_do_not_read_are_passed_over() {
    let text = "lease6 { ia-na 1:2:3:4 { starts 1; }\n\
        option dhcp6.server-id 1:2;\n option dhcp6.name-servers 2001:db8::1, nope;\n\
        option dhcp6.domain-search \"ok.test\", \"bad label.test\";\n\
        option dhcp6.no-such 1;\n option dhcp6.preference 300;\n option foo.bar 1;\n\
        option dhcp6.sntp-servers ff02::1, fe80::1, 2001:db8::7;\n}\n";
    let l = &parse_all(text, Instant::ZERO).unwrap()[0].lease;
    assert_eq!(l.dns, Vec::<Ipv6Addr>::new());
    assert_eq!(l.search, vec!["ok.test".to_string()]);
    assert_eq!(l.sntp, vec![a("2001:db8::7")]);
    let codes: Vec<u16> = l.options.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [2, 24, 31]);
}

#[test]
fn rewrite_keeps_all_but_our_old_blocks() {
    let v4 = "lease {\n  interface \"eth0\";\n  fixed-address 198.51.100.2;\n}\n";
    let other = render("eth1", &recorded_lease(), &[], 1, false);
    let ours = render("eth0", &recorded_lease(), &[], 1, false);
    let tricky = "lease6 { interface \"eth0\"; option dhcp6.unknown-9 \"}{\"; # }\n}\n";
    let old = format!("default-duid \"\\000\\001\";\n{ours}\n{v4}{other}{tricky}{ours}");
    let new = render("eth0", &busy_lease(), &[], 2, false);
    let text = rewrite(Some(&old), "eth0", Some(&new));
    assert_eq!(
        text,
        format!("default-duid \"\\000\\001\";\n{v4}{other}{new}")
    );
    // A torn write at the end is dropped; no block, only drops.
    let torn = format!("{other}{}", &ours[..ours.len() / 2]);
    assert_eq!(rewrite(Some(&torn), "eth0", None), other);
    assert_eq!(rewrite(None, "eth0", Some(&new)), new);
}

#[test]
fn random_bytes_never_panic() {
    let base = format!(
        "default-duid \"\\000\\001\";\n{}{}",
        render("eth0", &busy_lease(), &[], 1_800_000_000, false),
        RECORDED
    )
    .into_bytes();
    let mut rng = fastrand::Rng::with_seed(6);
    for _ in 0..1_500 {
        let mut b = base.clone();
        for _ in 0..rng.usize(1..8) {
            let i = rng.usize(..b.len());
            b[i] = rng.u8(..);
        }
        let t = String::from_utf8_lossy(&b);
        let _ = latest(&t, "eth0", Instant::ZERO, 1_800_000_100);
        let _ = parse_all(&t, Instant::ZERO);
        let _ = rewrite(Some(&t), "eth0", None);
    }
}

/// The lease dhclient is given back (`testdata/dhcpc6.leases`, read by `dhclient -6 -x` in
/// record.sh): the busy lease on the lab's interface, its IA_NA's IAID the lab MAC's.
pub(crate) fn for_dhclient() -> (Lease6, String) {
    let mut l = busy_lease();
    l.ias[0].iaid = 0x00aa_bbcc;
    let duid = "default-duid \"\\000\\001\\000\\0012\\244I\\302\\002\\000\\000\\252\\273\\314\";\n";
    let text = format!(
        "{duid}{}",
        render("v6rec-c0", &l, &[], 1_900_000_000, false)
    );
    (l, text)
}

#[test]
fn what_dhclient_is_given_back_is_the_fixture() {
    let file = include_str!("../v6/testdata/dhcpc6.leases");
    assert_eq!(for_dhclient().1, file);
}
