//! The saved lease file: round trip, re-basing on a new boot's clock, expiry, bad files.

use dhcpc::lease::Lease;
use dhcpc::leasefile::{acquired_unix, parse, render, render_with_peer};
use dhcpc::time::Instant;
use std::net::Ipv4Addr;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

fn lease(start: Instant, secs: u32) -> Lease {
    Lease {
        address: Ipv4Addr::new(198, 51, 100, 77),
        prefix_len: 24,
        broadcast: Ipv4Addr::new(198, 51, 100, 255),
        server_id: Ipv4Addr::new(198, 51, 100, 1),
        next_server: None,
        routers: vec![Ipv4Addr::new(198, 51, 100, 1)],
        dns: vec![
            Ipv4Addr::new(198, 51, 100, 1),
            Ipv4Addr::new(198, 51, 100, 2),
        ],
        domain: Some("lab.test".into()),
        mtu: Some(1400),
        classless_routes: vec![],
        search: vec![],
        ntp: vec![],
        options: Default::default(),
        lease_secs: secs,
        t1_secs: secs / 2,
        t2_secs: secs / 8 * 7,
        start,
    }
}

#[test]
fn round_trip_on_the_same_clock() {
    let l = lease(Instant::from_secs(100), 3600);
    // Saved at boot-time 100 s, wall-clock 1_000_000; read back at the same moment.
    let text = render(
        "eth0",
        &MAC,
        &l,
        acquired_unix(l.start, Instant::from_secs(100), 1_000_000),
    );
    let saved = parse(&text, Instant::from_secs(100), 1_000_000).unwrap();
    assert_eq!(saved.iface, "eth0");
    assert_eq!(saved.hwaddr, Some(MAC));
    assert_eq!(saved.lease, Some(l));
}

#[test]
fn the_servers_mac_is_kept_for_unicast_and_optional() {
    let l = lease(Instant::from_secs(100), 3600);
    let peer = [0x02, 0, 0, 0, 0, 0xfe];
    let text = render_with_peer("eth0", &MAC, &l, 1_000_000, Some(peer));
    assert!(text.contains("server_mac=02:00:00:00:00:fe\n"), "{text}");
    let saved = parse(&text, Instant::from_secs(100), 1_000_000).unwrap();
    assert_eq!(saved.server_mac, Some(peer));
    // Files written before the field (or with no ACK source known) have none.
    let saved = parse(
        &render("eth0", &MAC, &l, 1_000_000),
        Instant::from_secs(100),
        1_000_000,
    )
    .unwrap();
    assert_eq!(saved.server_mac, None);
    // A garbled one makes the file unreadable, as every other field does.
    let bad = text.replace("server_mac=02:00:00:00:00:fe", "server_mac=02:zz");
    assert!(parse(&bad, Instant::from_secs(100), 1_000_000).is_err());
}

#[test]
fn a_lease_read_after_a_reboot_counts_the_time_already_spent() {
    let l = lease(Instant::from_secs(5000), 3600);
    // Saved 600 s into the lease, read after a reboot (boot clock back near zero) 1000 s after
    // the lease started.
    let text = render(
        "eth0",
        &MAC,
        &l,
        acquired_unix(l.start, Instant::from_secs(5600), 2_000_600),
    );
    let saved = parse(&text, Instant::from_secs(20), 2_001_000).unwrap();
    let back = saved.lease.expect("not expired yet");
    assert_eq!(back.start, Instant::from_secs(20));
    assert_eq!(back.lease_secs, 2600);
    assert_eq!(back.t1_secs, 800);
    assert_eq!(back.t2_secs, 3150 - 1000);
    assert_eq!(back.expires_at(), Some(Instant::from_secs(20 + 2600)));
}

/// Found by the `leasefile` fuzz target: a lease read back after its T1 (or T2) had passed
/// came back with T1 = 0 (and T2 = 0), failing the lease check every lease passes, so that
/// the lease read could not even be written and read again.
#[test]
fn a_lease_read_after_t1_and_t2_passed_still_passes_the_lease_check() {
    let l = lease(Instant::from_secs(0), 600);
    let text = render("eth0", &MAC, &l, 1_000_000);
    for (spent, t1, t2) in [
        (299, 1, 226),
        (300, 1, 225),
        (400, 1, 125),
        (524, 1, 2),
        (596, 1, 2),
    ] {
        let back = parse(&text, Instant::from_secs(7), 1_000_000 + spent)
            .unwrap()
            .lease
            .expect("time left");
        assert_eq!((back.t1_secs, back.t2_secs), (t1, t2), "after {spent} s");
        assert_eq!(u64::from(back.lease_secs), 600 - spent);
        back.check().unwrap();
        // What was read can be saved and read again, unchanged.
        let again = render(
            "eth0",
            &MAC,
            &back,
            acquired_unix(back.start, back.start, 5),
        );
        assert_eq!(parse(&again, back.start, 5).unwrap().lease, Some(back));
    }
}

#[test]
fn an_expired_lease_comes_back_as_none_and_infinite_never_expires() {
    let l = lease(Instant::from_secs(0), 60);
    let text = render("eth0", &MAC, &l, 1_000_000);
    assert_eq!(
        parse(&text, Instant::from_secs(1), 1_000_060)
            .unwrap()
            .lease,
        None
    );
    let forever = lease(Instant::from_secs(0), u32::MAX);
    let text = render("eth0", &MAC, &forever, 1_000_000);
    let back = parse(&text, Instant::from_secs(1), 9_000_000)
        .unwrap()
        .lease
        .unwrap();
    assert!(back.is_infinite());
}

#[test]
fn bad_files_are_errors_not_panics() {
    let good = render("eth0", &MAC, &lease(Instant::ZERO, 3600), 1_000);
    for bad in [
        String::new(),
        "garbage".to_string(),
        good.replace("address=198.51.100.77", "address=300.1.1.1"),
        good.replace("address=198.51.100.77", "address=224.0.0.1"),
        good.replace("prefix=24", "prefix=40"),
        good.replace("hwaddr=02:00:00:00:00:01", "hwaddr=zz"),
        good.replace("lease=3600\n", ""),
    ] {
        assert!(parse(&bad, Instant::ZERO, 1_000).is_err(), "{bad:?}");
    }
    // Every truncation of a good file is an error or a lease, never a panic.
    for n in 0..good.len() {
        let _ = parse(&good[..n], Instant::ZERO, 1_000);
    }
}

#[test]
fn a_saved_lease_passes_the_same_check_as_a_reply() {
    let good = render("eth0", &MAC, &lease(Instant::ZERO, 3600), 1_000);
    assert!(parse(&good, Instant::ZERO, 1_000).is_ok());
    for (from, to) in [
        ("lease=3600", "lease=1"),
        ("prefix=24", "prefix=0"),
        ("address=198.51.100.77", "address=198.51.100.255"),
        ("address=198.51.100.77", "address=198.51.100.0"),
        ("broadcast=198.51.100.255", "broadcast=198.51.100.127"),
        ("server=198.51.100.1", "server=255.255.255.255"),
        ("routers=198.51.100.1", "routers=224.0.0.1"),
        ("domain=lab.test", "domain=lab.test;reboot"),
        ("domain=lab.test", "domain=$(reboot)"),
        ("mtu=1400", "mtu=10"),
        ("t1=1800", "t1=0"),
        ("t1=1800", "t1=3200"),
    ] {
        let bad = good.replace(from, to);
        assert_ne!(bad, good, "{from}");
        assert!(
            parse(&bad, Instant::ZERO, 1_000).is_err(),
            "{to} was accepted"
        );
    }
}

#[test]
fn whether_a_saved_lease_may_be_asked_for_again() {
    use dhcpc::leasefile::Unusable;
    let l = lease(Instant::from_secs(100), 3600);
    let text = render("eth0", &MAC, &l, 1_000_000);
    let read = |now_unix| parse(&text, Instant::from_secs(100), now_unix).unwrap();
    assert_eq!(read(1_000_000).usable_for("eth0", &MAC), Ok(l.clone()));
    assert_eq!(
        read(1_000_000).usable_for("eth1", &MAC),
        Err(Unusable::OtherInterface("eth0".into()))
    );
    assert_eq!(
        read(1_000_000).usable_for("eth0", &[2, 0, 0, 0, 0, 2]),
        Err(Unusable::OtherHardware)
    );
    assert_eq!(
        read(1_003_600).usable_for("eth0", &MAC),
        Err(Unusable::Expired)
    );
    // Only a lease leased to another hardware address is left on the interface to take off.
    let other = [2, 0, 0, 0, 0, 2];
    assert_eq!(read(1_000_000).leftover_for("eth0", &other), Some(&l));
    assert_eq!(read(1_000_000).leftover_for("eth0", &MAC), None);
    assert_eq!(read(1_000_000).leftover_for("eth1", &other), None);
    assert_eq!(read(1_003_600).leftover_for("eth0", &other), None);
    // A file from before the hwaddr field is taken on any NIC.
    let old = text.replace("hwaddr=02:00:00:00:00:01\n", "");
    let saved = parse(&old, Instant::from_secs(100), 1_000_000).unwrap();
    assert!(saved.usable_for("eth0", &[2, 0, 0, 0, 0, 2]).is_ok());
}

#[test]
fn a_saved_lease_with_under_four_seconds_left_counts_as_expired() {
    let l = lease(Instant::from_secs(0), 3600);
    let text = render("eth0", &MAC, &l, 1_000_000);
    let left = |secs: u64| {
        parse(&text, Instant::from_secs(1), 1_000_000 + 3600 - secs)
            .unwrap()
            .lease
            .map(|l| l.lease_secs)
    };
    assert_eq!(left(4), Some(4));
    assert_eq!(left(3), None);
    assert_eq!(left(0), None);
}

#[test]
fn routes_search_and_ntp_round_trip() {
    let mut l = lease(Instant::from_secs(100), 3600);
    l.classless_routes = vec![
        dhcpc::lease::Route {
            dest: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            gateway: Ipv4Addr::new(198, 51, 100, 254),
        },
        dhcpc::lease::Route {
            dest: Ipv4Addr::new(203, 0, 113, 0),
            prefix_len: 24,
            gateway: Ipv4Addr::UNSPECIFIED,
        },
    ];
    l.search = vec!["a.test".into(), "b.test".into()];
    l.ntp = vec![Ipv4Addr::new(198, 51, 100, 5)];
    let text = render("eth0", &MAC, &l, 1_000_000);
    assert!(
        text.contains("classless_routes=0.0.0.0/0 via 198.51.100.254,203.0.113.0/24 via 0.0.0.0\n")
    );
    let back = parse(&text, Instant::from_secs(100), 1_000_000).unwrap();
    assert_eq!(back.lease, Some(l));
    let bad = text.replace("203.0.113.0/24", "203.0.113.1/24");
    assert!(parse(&bad, Instant::from_secs(100), 1_000_000).is_err());
}
