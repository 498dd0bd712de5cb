//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;

fn lease() -> Lease {
    Lease {
        address: "198.51.100.23".parse().unwrap(),
        prefix_len: 24,
        broadcast: "198.51.100.255".parse().unwrap(),
        server_id: "198.51.100.1".parse().unwrap(),
        next_server: None,
        routers: vec!["198.51.100.1".parse().unwrap()],
        dns: vec![
            "198.51.100.1".parse().unwrap(),
            "203.0.113.53".parse().unwrap(),
        ],
        domain: Some("lab.test".into()),
        mtu: Some(1400),
        classless_routes: vec![Route {
            dest: "203.0.113.0".parse().unwrap(),
            prefix_len: 25,
            gateway: "198.51.100.1".parse().unwrap(),
        }],
        search: vec!["lab.test".into(), "example.org".into()],
        ntp: vec!["198.51.100.123".parse().unwrap()],
        options: vec![
            (12, b"box".to_vec()),
            (224, vec![0, 1, 0x22]),
            (66, b"a\"b".to_vec()),
        ]
        .into(),
        lease_secs: 3600,
        t1_secs: 1800,
        t2_secs: 3150,
        start: Instant::from_secs(100),
    }
}

#[test]
fn times_are_dhclients_utc_format() {
    // 2026-12-01 12:00:00 UTC, a Tuesday.
    assert_eq!(format_time(1_796_126_400), "2 2026/12/01 12:00:00");
    assert_eq!(format_time(0), "4 1970/01/01 00:00:00");
    let k = |s: &str| -> Vec<Kind> { s.split(' ').map(|w| Kind::Word(w.into())).collect() };
    assert_eq!(
        parse_time(&k("2 2026/12/01 12:00:00")),
        Ok(Some(1_796_126_400))
    );
    assert_eq!(parse_time(&k("epoch 1796126400")), Ok(Some(1_796_126_400)));
    assert_eq!(parse_time(&k("never")), Ok(None));
    assert!(parse_time(&k("2 2026/13/01 12:00:00")).is_err());
    assert!(parse_time(&k("2 2026/12/01 25:00:00")).is_err());
}

#[test]
fn renders_as_dhclient_does() {
    let text = render("eth0", &lease(), 1_796_126_400);
    let expect = [
        "lease {",
        "  interface \"eth0\";",
        "  fixed-address 198.51.100.23;",
        "  option subnet-mask 255.255.255.0;",
        "  option routers 198.51.100.1;",
        "  option domain-name-servers 198.51.100.1, 203.0.113.53;",
        "  option host-name \"box\";",
        "  option domain-name \"lab.test\";",
        "  option interface-mtu 1400;",
        "  option broadcast-address 198.51.100.255;",
        "  option ntp-servers 198.51.100.123;",
        "  option dhcp-lease-time 3600;",
        "  option dhcp-message-type 5;",
        "  option dhcp-server-identifier 198.51.100.1;",
        "  option dhcp-renewal-time 1800;",
        "  option dhcp-rebinding-time 3150;",
        "  option tftp-server-name \"a\\\"b\";",
        "  option domain-search \"lab.test\", \"example.org\";",
        "  option rfc3442-classless-static-routes 25,203,0,113,0,198,51,100,1;",
        "  option unknown-224 00:01:22;",
        "  renew 2 2026/12/01 12:30:00;",
        "  rebind 2 2026/12/01 12:52:30;",
        "  expire 2 2026/12/01 13:00:00;",
        "}",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expect);
}

#[test]
fn round_trip() {
    let now = Instant::from_secs(5000);
    let acquired = 1_796_126_400;
    let text = render("eth0", &lease(), acquired);
    let back = latest(&text, "eth0", now, acquired + 600).unwrap().unwrap();
    let mut want = lease();
    want.options = Default::default();
    want.start = now;
    want.lease_secs -= 600;
    want.t1_secs -= 600;
    want.t2_secs -= 600;
    assert_eq!(back, want);
    let all = parse_all(&text, now).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].expire, Some(acquired + 3600));
    assert_eq!(latest(&text, "eth1", now, acquired).unwrap(), None);
    assert_eq!(
        latest(&text, "eth0", now, acquired + 3599).unwrap(),
        None,
        "expired"
    );
    let mut inf = lease();
    inf.lease_secs = INFINITE;
    inf.t1_secs = INFINITE;
    inf.t2_secs = INFINITE;
    let text = render("eth0", &inf, acquired);
    assert!(text.contains("  expire never;"), "{text}");
    let back = latest(&text, "eth0", now, acquired + 1_000_000)
        .unwrap()
        .unwrap();
    assert_eq!(back.lease_secs, INFINITE);
}

#[test]
fn rewrite_keeps_others_and_one_block_of_ours() {
    let a = render("eth0", &lease(), 1_796_126_400);
    let b = render("eth1", &lease(), 1_796_126_400);
    let old = format!("default-duid \"\\000\\001\";\n{a}{b}{a}lease {{\n  interface \"eth0\";\n");
    let mut newer = lease();
    newer.address = "198.51.100.99".parse().unwrap();
    let c = render("eth0", &newer, 1_796_130_000);
    let out = rewrite(Some(&old), "eth0", Some(&c));
    assert_eq!(out, format!("default-duid \"\\000\\001\";\n{b}{c}"));
    let now = Instant::from_secs(1);
    let got = latest(&out, "eth0", now, 1_796_130_010).unwrap().unwrap();
    assert_eq!(got.address, newer.address);
    assert_eq!(
        rewrite(Some(&out), "eth0", None),
        format!("default-duid \"\\000\\001\";\n{b}")
    );
}

#[test]
fn reads_a_real_dhclient_file() {
    let text = r#"default-duid "\000\001\000\001+\256\014\211RT\000\022\064V";
lease {
  interface "ens3";
  fixed-address 10.0.2.15;
  filename "pxelinux.0";
  option subnet-mask 255.255.255.0;
  option routers 10.0.2.2;
  option dhcp-lease-time 86400;
  option dhcp-message-type 5;
  option domain-name-servers 10.0.2.3;
  option dhcp-server-identifier 10.0.2.2;
  option domain-name "example.internal";
  renew 4 2023/06/22 02:11:51;
  rebind 4 2023/06/22 12:04:40;
  expire 4 2023/06/22 15:04:40;
}
"#;
    let all = parse_all(text, Instant::ZERO).unwrap();
    assert_eq!(all[0].interface.as_deref(), Some("ens3"));
    assert_eq!(
        all[0].lease.dns,
        vec!["10.0.2.3".parse::<Ipv4Addr>().unwrap()]
    );
    assert_eq!(all[0].lease.domain.as_deref(), Some("example.internal"));
    let acquired = all[0].acquired;
    let l = latest(text, "ens3", Instant::ZERO, acquired + 10)
        .unwrap()
        .unwrap();
    assert_eq!(l.lease_secs, 86400 - 10);
    assert!(l.t1_secs < l.t2_secs);
}

#[test]
fn random_bytes_never_panic() {
    let base = render("eth0", &lease(), 1_796_126_400).into_bytes();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..5_000 {
        let mut b = base.clone();
        for _ in 0..rng.usize(1..8) {
            let i = rng.usize(..b.len());
            b[i] = rng.u8(..);
        }
        let t = String::from_utf8_lossy(&b);
        let _ = latest(&t, "eth0", Instant::ZERO, 1_796_126_400);
        let _ = rewrite(Some(&t), "eth0", None);
    }
}
