//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;

fn dns(servers: &[[u8; 4]], domain: Option<&str>) -> Dns {
    Dns {
        servers: servers.iter().map(|a| Ipv4Addr::from(*a).into()).collect(),
        domains: domain.map(str::to_string).into_iter().collect(),
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dhcpc-resolv-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn one_lease_renders_domain_and_servers() {
    let text = render([&dns(
        &[[198, 51, 100, 1], [198, 51, 100, 2]],
        Some("lab.test"),
    )]);
    assert!(text.starts_with(MARKER));
    assert_eq!(
        lines(&text),
        [
            "domain lab.test",
            "nameserver 198.51.100.1",
            "nameserver 198.51.100.2"
        ]
    );
}

#[test]
fn several_leases_merge_without_repeats_in_order() {
    let a = dns(&[[198, 51, 100, 1]], Some("a.test"));
    let b = dns(&[[203, 0, 113, 1], [198, 51, 100, 1]], Some("b.test"));
    let c = dns(&[[198, 51, 100, 1]], Some("a.test"));
    assert_eq!(
        lines(&render([&a, &b, &c])),
        [
            "search a.test b.test",
            "nameserver 198.51.100.1",
            "nameserver 203.0.113.1"
        ]
    );
}

#[test]
fn a_record_reads_back_and_a_damaged_one_is_refused() {
    let r = Record {
        iface: "eth0".into(),
        target: "/etc/resolv.conf".into(),
        order: Order {
            started: 1_700_000_000_123_456_789,
            rank: 2,
        },
        dns: Dns {
            servers: vec![[198, 51, 100, 1].into(), [203, 0, 113, 1].into()],
            domains: vec!["a.test".into(), "b.test".into()],
        },
    };
    assert_eq!(Record::parse("eth0", &r.text()), Some(r.clone()));
    assert_eq!(Record::parse("eth0", "nameserver 198.51.100.1\n"), None);
    let bad = r.text().replace("198.51.100.1", "198.51.100.256");
    assert_eq!(Record::parse("eth0", &bad), None);
    assert_eq!(Record::parse("eth0", &format!("{}bogus\n", r.text())), None);
}

#[test]
fn settings_follow_command_line_order_whatever_binds_first() {
    let d = tempdir("order");
    let path = d.join("resolv.conf");
    let run = d.join("run");
    let mut m = Merged::new(
        path.clone(),
        run.clone(),
        vec!["eth0".into(), "eth1".into()],
    );
    assert!(m.set("eth1", Some(dns(&[[203, 0, 113, 1]], None))));
    m.write().unwrap();
    assert!(m.set("eth0", Some(dns(&[[198, 51, 100, 1]], None))));
    assert!(m.set("wlan9", Some(dns(&[[203, 0, 113, 9]], None))));
    assert!(
        !m.set("eth0", Some(dns(&[[198, 51, 100, 1]], None))),
        "no change"
    );
    m.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        [
            "nameserver 198.51.100.1",
            "nameserver 203.0.113.1",
            "nameserver 203.0.113.9"
        ]
    );
    assert!(m.set("eth1", None));
    assert!(!m.set("eth1", None));
    m.write().unwrap();
    assert!(!record_path(&run, "eth1").exists());
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        ["nameserver 198.51.100.1", "nameserver 203.0.113.9"]
    );

    let mut other = Merged::new(path.clone(), run.clone(), vec!["wlan0".into()]);
    other.adopt("wlan0", dns(&[[203, 0, 113, 9]], None));
    assert!(!other.dirty(), "adopted settings are taken as written");
    assert!(other.set("wlan0", None) && other.dirty());
    let mut other = Merged::new(path, run, vec!["wlan0".into()]);
    assert!(
        !other.set("wlan0", None) && !other.dirty(),
        "a lease without DNS settings leaves the file alone"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_file_is_saved_merged_and_put_back() {
    let d = tempdir("merge");
    let path = d.join("resolv.conf");
    let run = d.join("run");
    fs::write(&path, "nameserver 192.0.2.53\n").unwrap();
    let mut m = Merged::new(path.clone(), run.clone(), vec!["a".into(), "b".into()]);

    m.set("a", Some(dns(&[[198, 51, 100, 1]], Some("lab.test"))));
    m.write().unwrap();
    assert!(is_ours(&path));
    assert_eq!(
        fs::read_to_string(saved_path(&path, &run)).unwrap(),
        "nameserver 192.0.2.53\n"
    );
    m.set("b", Some(dns(&[[203, 0, 113, 1]], Some("lab.test"))));
    m.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        [
            "domain lab.test",
            "nameserver 198.51.100.1",
            "nameserver 203.0.113.1"
        ]
    );
    m.set("a", None);
    m.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        ["domain lab.test", "nameserver 203.0.113.1"]
    );
    m.set("b", None);
    m.write().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "nameserver 192.0.2.53\n"
    );
    assert!(!saved_path(&path, &run).exists());

    // A file someone else wrote meanwhile is left alone.
    m.set("a", Some(dns(&[[198, 51, 100, 1]], None)));
    m.write().unwrap();
    fs::write(&path, "nameserver 192.0.2.99\n").unwrap();
    m.set("a", None);
    m.write().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "nameserver 192.0.2.99\n"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn two_processes_sharing_the_file_do_not_undo_each_other() {
    let d = tempdir("shared");
    let path = d.join("resolv.conf");
    let run = d.join("run");
    fs::write(&path, "nameserver 192.0.2.53\n").unwrap();
    let mut first = Merged::new(path.clone(), run.clone(), vec!["eth0".into()]);
    let mut second = Merged::new(path.clone(), run.clone(), vec!["eth1".into()]);
    // A third with another file in the same run directory stays apart.
    let elsewhere = d.join("other.conf");
    let mut third = Merged::new(elsewhere.clone(), run.clone(), vec!["eth2".into()]);
    first.set("eth0", Some(dns(&[[198, 51, 100, 1]], Some("a.test"))));
    first.write().unwrap();
    second.set("eth1", Some(dns(&[[203, 0, 113, 1]], Some("b.test"))));
    second.write().unwrap();
    third.set("eth2", Some(dns(&[[203, 0, 113, 2]], None)));
    third.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        [
            "search a.test b.test",
            "nameserver 198.51.100.1",
            "nameserver 203.0.113.1"
        ]
    );
    assert_eq!(
        lines(&fs::read_to_string(&elsewhere).unwrap()),
        ["nameserver 203.0.113.2"]
    );
    first.set("eth0", None);
    first.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        ["domain b.test", "nameserver 203.0.113.1"],
        "the second process's servers stay"
    );
    second.set("eth1", None);
    second.write().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "nameserver 192.0.2.53\n"
    );
    third.set("eth2", None);
    third.write().unwrap();
    assert!(!elsewhere.exists(), "there was no file to put back");
    fs::remove_dir_all(&d).unwrap();
}

/// A release by another process with another --resolv-conf (`dhcpc -r eth0` after the unit,
/// which writes /run/dhcpc/resolv.conf, stopped): the settings leave the file the record names,
/// and the others' stay there; the process's own file is left as it is.
#[test]
fn a_release_takes_the_settings_out_of_the_file_they_went_to() {
    let d = tempdir("release-elsewhere");
    let (unit_file, default) = (d.join("unit-resolv.conf"), d.join("etc-resolv.conf"));
    let run = d.join("run");
    fs::write(&default, "nameserver 192.0.2.53\n").unwrap();
    let mut v4 = Merged::new(unit_file.clone(), run.clone(), vec!["eth0".into()]);
    let mut v6 = Merged::new(unit_file.clone(), run.clone(), vec!["eth0".into()]);
    v4.set("eth0", Some(dns(&[[198, 51, 100, 1]], None)));
    v4.write().unwrap();
    let six = Dns::from_v6(&["2001:db8:1::53".parse().unwrap()], &[]);
    v6.set("eth0:6", Some(six.clone()));
    v6.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&unit_file).unwrap()),
        ["nameserver 198.51.100.1", "nameserver 2001:db8:1::53"]
    );
    // The DHCPv6 daemon stopped; `dhcpc -6 -r eth0` with the default file releases.
    drop(v6);
    let mut release = Merged::new(default.clone(), run.clone(), vec!["eth0".into()]);
    release.adopt("eth0:6", six);
    release.set("eth0:6", None);
    release.write().unwrap();
    assert_eq!(
        lines(&fs::read_to_string(&unit_file).unwrap()),
        ["nameserver 198.51.100.1"]
    );
    assert_eq!(
        fs::read_to_string(&default).unwrap(),
        "nameserver 192.0.2.53\n"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_symlink_is_written_through_or_left_alone() {
    let d = tempdir("symlink");
    let run = d.join("run");
    fs::create_dir_all(d.join("real")).unwrap();
    let target = d.join("real/resolv.conf");
    fs::write(&target, "nameserver 192.0.2.53\n").unwrap();
    let link = d.join("resolv.conf");
    std::os::unix::fs::symlink("real/resolv.conf", &link).unwrap();
    let mut m = Merged::new(link.clone(), run.clone(), vec!["a".into()]);
    m.set("a", Some(dns(&[[198, 51, 100, 1]], None)));
    m.write().unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        lines(&fs::read_to_string(&target).unwrap()),
        ["nameserver 198.51.100.1"]
    );
    m.set("a", None);
    m.write().unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "nameserver 192.0.2.53\n"
    );

    let dangling = d.join("dangling.conf");
    std::os::unix::fs::symlink(d.join("nowhere/resolv.conf"), &dangling).unwrap();
    let mut m = Merged::new(dangling.clone(), run, vec!["a".into()]);
    m.set("a", Some(dns(&[[198, 51, 100, 1]], None)));
    m.write().unwrap();
    assert!(!m.dirty(), "nothing to retry: left alone on purpose");
    assert!(matches!(
        Destination::of(&dangling),
        Destination::LeftAlone { .. }
    ));
    assert!(fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!d.join("nowhere").exists());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failed_write_is_tried_again() {
    let d = tempdir("retry");
    let path = d.join("etc/resolv.conf");
    let mut m = Merged::new(path.clone(), d.join("run"), vec!["a".into()]);
    m.set("a", Some(dns(&[[198, 51, 100, 1]], None)));
    assert!(m.write().is_err(), "no such directory yet");
    assert!(m.dirty());
    assert!(!m.set("a", Some(dns(&[[198, 51, 100, 1]], None))));
    fs::create_dir_all(d.join("etc")).unwrap();
    m.write().unwrap();
    assert!(!m.dirty());
    assert_eq!(
        lines(&fs::read_to_string(&path).unwrap()),
        ["nameserver 198.51.100.1"]
    );
    fs::remove_dir_all(&d).unwrap();
}
