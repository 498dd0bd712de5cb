//! Many interfaces in one process: 1000 veth interfaces (four segments of 250, each a bridge
//! with its own dnsmasq and a reservation per MAC, all handing out 198.51.100.0/24) bind in
//! one dhcpc under `ulimit -n 1024`, with about one descriptor per interface, and then sit
//! with zero wake-ups. And past the limit of open files, each interface that cannot start is
//! named, and the others run.

mod common;

use common::*;
use std::fs;
use std::time::{Duration, Instant};

const SEGMENTS: usize = 4;
const PER_SEGMENT: usize = 250;

fn mac(segment: usize, i: usize) -> String {
    format!("02:5c:{segment:02x}:00:{:02x}:{:02x}", i >> 8, i & 0xff)
}

/// The client interfaces of `segments` segments of `per` interfaces each: a bridge (br0,
/// 198.51.100.1/24) in a server namespace of its own per segment, with dnsmasq reserving
/// 198.51.100.(2 + i) for the i-th MAC. Returns the client interface names.
fn segments(lab: &mut Lab, segments: usize, per: usize) -> Vec<String> {
    let cli = lab.client_ns.clone();
    // No IPv6 (its link events would wake the daemon), and ARP answered only for an address of
    // the interface asked: every segment hands out the same addresses into one namespace.
    sh(
        "ip",
        &[
            "netns",
            "exec",
            &cli,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
            "net.ipv4.conf.all.arp_ignore=1",
            "net.ipv4.conf.default.arp_ignore=1",
        ],
    );
    let dnsmasq = require_program("dnsmasq", "run the tests with `sudo scripts/test`");
    let mut names = Vec::new();
    for seg in 0..segments {
        let srv = lab.add_namespace(&"abcdefghij"[seg..seg + 1].repeat(2));
        let mut add = String::new();
        let mut up_srv = String::from("link add br0 type bridge forward_delay 0 stp_state 0\n");
        let mut up_cli = String::new();
        let mut hosts = String::new();
        for i in 0..per {
            let name = format!("s{seg}n{i}");
            add.push_str(&format!(
                "link add {name} address {} netns {cli} type veth peer name p{i} netns {srv}\n",
                mac(seg, i)
            ));
            up_srv.push_str(&format!("link set p{i} master br0\nlink set p{i} up\n"));
            up_cli.push_str(&format!("link set {name} up\n"));
            hosts.push_str(&format!("{},198.51.100.{}\n", mac(seg, i), 2 + i));
            names.push(name);
        }
        up_srv.push_str("link set br0 up\naddr add 198.51.100.1/24 dev br0\n");
        let batch = |what: &str, text: &str| {
            let path = lab.dir.join(format!("{what}{seg}.batch"));
            fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        sh("ip", &["-batch", &batch("add", &add)]);
        sh("ip", &["-n", &srv, "-batch", &batch("srv", &up_srv)]);
        sh("ip", &["-n", &cli, "-batch", &batch("cli", &up_cli)]);
        let d = |f: &str| lab.dir.join(format!("{f}{seg}")).display().to_string();
        fs::write(d("hosts"), hosts).unwrap();
        let args: Vec<String> = vec![
            "--no-daemon".into(),
            "--conf-file=/dev/null".into(),
            "--port=0".into(),
            "--bind-interfaces".into(),
            "--interface=br0".into(),
            "--log-facility=-".into(),
            "--no-ping".into(),
            "--quiet-dhcp".into(),
            "--dhcp-range=198.51.100.2,198.51.100.254,255.255.255.0,1h".into(),
            "--dhcp-option=option:router,198.51.100.1".into(),
            "--dhcp-lease-max=1000".into(),
            format!("--dhcp-hostsfile={}", d("hosts")),
            format!("--dhcp-leasefile={}", d("leases")),
            format!("--pid-file={}", d("pid")),
        ];
        lab.start_server_in(
            &srv,
            &format!("dnsmasq{seg}"),
            &dnsmasq,
            &args,
            "sockets bound",
        );
    }
    names
}

/// How many of `names` hold an address from 198.51.100.0/24.
fn bound(lab: &Lab, names: &[String]) -> usize {
    let text = sh("ip", &["-n", &lab.client_ns, "-4", "-o", "addr", "show"]);
    let with: std::collections::HashSet<&str> = text
        .lines()
        .filter(|l| l.contains("inet 198.51.100."))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    names.iter().filter(|n| with.contains(n.as_str())).count()
}

/// Context switches of every thread of process `pid` so far.
fn wakeups(pid: u32) -> u64 {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = fs::read_to_string(task.path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

fn descriptors(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// `ulimit -n LIMIT` (soft and hard) before dhcpc starts.
fn under_ulimit(limit: usize) -> String {
    format!("ulimit -n {limit}; exec \"$0\" \"$@\"")
}

#[test]
fn a_thousand_interfaces_bind_in_one_process_under_ulimit_1024_and_sit_idle() {
    let mut lab = Lab::new();
    let names = segments(&mut lab, SEGMENTS, PER_SEGMENT);
    let n = names.len();
    let ifaces: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let script = under_ulimit(1024);
    let start = Instant::now();
    let daemon = Daemon::start_as(
        &lab,
        "dhcpc",
        &["sh", "-c", &script],
        &["--arp-probe", "0"],
        &ifaces,
    );
    let pid = daemon.child.id();
    let all = wait_for(Duration::from_secs(60), || bound(&lab, &names) == n);
    let took = start.elapsed();
    assert!(
        all,
        "{} of {n} interfaces bound within 60 s\n{}",
        bound(&lab, &names),
        daemon
            .log_text()
            .lines()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{n} interfaces bound in {took:?}");
    let fds = descriptors(pid);
    assert!(
        fds <= n + 24,
        "{fds} descriptors for {n} interfaces: more than one each"
    );
    // Once past the announcements (2 s apart), the trim 2 s after the last lease event, and
    // the late replies of a server that answered retransmissions, it sits idle: 3 s without a
    // wake-up, within 30 s of the last bind.
    let mut woken = Vec::new();
    let settled = wait_for(Duration::from_secs(30), || {
        let before = wakeups(pid);
        let idle = holds_for(Duration::from_secs(3), || wakeups(pid) == before);
        woken.push(wakeups(pid) - before);
        idle
    });
    assert!(
        settled,
        "{n} bound interfaces kept waking the daemon: {woken:?} times in the windows watched"
    );
    assert!(
        !daemon.log_text().contains("limit of open files"),
        "{}",
        daemon.log_text()
    );
    // The one control socket answers for any of its interfaces.
    for iface in [ifaces[0], ifaces[n / 2], ifaces[n - 1]] {
        let v = status_of(&lab, iface);
        assert_eq!(v["state"], "BOUND", "{v}");
        assert_eq!(v["interface"], iface, "{v}");
    }
}

#[test]
fn interfaces_past_the_limit_of_open_files_are_each_named() {
    let mut lab = Lab::new();
    let names = segments(&mut lab, 1, 24);
    let ifaces: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    // Enough for the process and some of the interfaces, not all of them.
    let script = under_ulimit(24);
    let mut daemon = Daemon::start_as(
        &lab,
        "dhcpc",
        &["sh", "-c", &script],
        &["--arp-probe", "0"],
        &ifaces,
    );
    let refused = |log: &str| -> Vec<String> {
        names
            .iter()
            .filter(|n| {
                log.lines().any(|l| {
                    l.contains(&format!("{n}: "))
                        && l.contains("; not run: the process is at its limit of open files (24)")
                })
            })
            .cloned()
            .collect()
    };
    assert!(
        wait_for(Duration::from_secs(20), || {
            let r = refused(&daemon.log_text()).len();
            r > 0 && bound(&lab, &names) + r == names.len()
        }),
        "every interface is either bound or named as not run (bound {}, refused {:?})\n{}",
        bound(&lab, &names),
        refused(&daemon.log_text()),
        daemon.log_text()
    );
    assert!(bound(&lab, &names) > 0, "{}", daemon.log_text());
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon went on"
    );
}
