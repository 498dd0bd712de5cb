//! Other hosts and interfaces: an address another host uses is declined; two interfaces in
//! one daemon, with `--status --json` and one resolv.conf.

use super::common::*;
use super::kea::*;
use std::fs;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A third host on the server's segment: the server's veth and the squatter's join a bridge.
struct Squatter {
    ns: String,
}

impl Squatter {
    fn join(lab: &Lab, address: &str) -> Squatter {
        let ns = format!("{}q", lab.client_ns);
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        sh("ip", &["netns", "add", &ns]);
        let squatter = Squatter { ns: ns.clone() };
        let s = lab.server_ns.as_str();
        sh("ip", &["-n", s, "link", "add", "br0", "type", "bridge"]);
        sh("ip", &["-n", s, "addr", "flush", "dev", SERVER_IF]);
        sh("ip", &["-n", s, "link", "set", SERVER_IF, "master", "br0"]);
        sh(
            "ip",
            &["-n", s, "addr", "add", "198.51.100.1/24", "dev", "br0"],
        );
        sh("ip", &["-n", s, "link", "set", "br0", "up"]);
        sh(
            "ip",
            &[
                "link", "add", "xs", "netns", s, "type", "veth", "peer", "name", "xq", "netns", &ns,
            ],
        );
        sh("ip", &["-n", s, "link", "set", "xs", "master", "br0"]);
        sh("ip", &["-n", s, "link", "set", "xs", "up"]);
        sh("ip", &["-n", &ns, "addr", "add", address, "dev", "xq"]);
        sh("ip", &["-n", &ns, "link", "set", "xq", "up"]);
        sh("ip", &["-n", &ns, "link", "set", "lo", "up"]);
        squatter
    }
}

impl Drop for Squatter {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns])
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn an_address_in_use_is_declined_and_another_one_taken() {
    let lab = Lab::new();
    // Another host already uses the first address of the pool.
    let _squatter = Squatter::join(&lab, "198.51.100.50/24");
    let subnet = Subnet {
        iface: "br0",
        subnet: "198.51.100.0/24",
        pool: ("198.51.100.50", "198.51.100.51"),
        router: "198.51.100.1",
    };
    let kea = Kea::start(&lab, "kea", &[subnet], 600, 300, 500);
    let _daemon = Daemon::start(&lab, "dhcpc", &[], &[CLIENT_IF]);
    // The probe finds the squatter: DECLINE, 10 s wait, then DISCOVER again: the server
    // offers the other address.
    assert!(
        wait_for(Duration::from_secs(10), || kea.count("DHCPDECLINE") >= 1),
        "Kea saw no DECLINE"
    );
    let addr = wait_address(&lab, CLIENT_IF, ("198.51.100.51", "198.51.100.51"));
    assert_eq!(addr, Ipv4Addr::new(198, 51, 100, 51));
    assert!(kea.count("DHCPDECLINE") >= 1, "Kea saw no DECLINE");
    assert_eq!(
        addresses(&lab, CLIENT_IF),
        vec![addr],
        "the taken address was used"
    );
}

#[test]
fn two_interfaces_in_one_daemon_renew_and_status() {
    let lab = Lab::new();
    let (s, c) = (lab.server_ns.as_str(), lab.client_ns.as_str());
    sh(
        "ip",
        &[
            "link", "add", "vs2", "netns", s, "type", "veth", "peer", "name", "vc2", "netns", c,
        ],
    );
    sh(
        "ip",
        &["-n", s, "addr", "add", "203.0.113.1/24", "dev", "vs2"],
    );
    sh("ip", &["-n", s, "link", "set", "vs2", "up"]);
    sh("ip", &["-n", c, "link", "set", "vc2", "up"]);
    let second = Subnet {
        iface: "vs2",
        subnet: "203.0.113.0/24",
        pool: ("203.0.113.50", "203.0.113.59"),
        router: "203.0.113.1",
    };
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF), second], 600, 300, 500);

    let out = dhcpc_run(&lab, &["--metric", "5", CLIENT_IF, "vc2"]);
    assert_exit(&out, 0);
    let a = wait_address(&lab, CLIENT_IF, POOL_A);
    let b = wait_address(&lab, "vc2", ("203.0.113.50", "203.0.113.59"));
    let lines = stdout(&out);
    assert!(lines.contains(&format!("vc: {a}/24")), "{lines}");
    assert!(lines.contains(&format!("vc2: {b}/24")), "{lines}");

    // One process serves both.
    let pid = |i: &str| fs::read_to_string(lab.dir.join(format!("run/{i}.pid"))).unwrap();
    assert_eq!(pid("vc"), pid("vc2"));
    let dhcpcs = sh("ip", &["netns", "pids", c])
        .split_whitespace()
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|n| n.trim() == "dhcpc")
        })
        .count();
    assert_eq!(dhcpcs, 1);

    let all = status_json(&lab);
    assert_eq!(all.len(), 2, "{all:?}");
    for (v, addr, server) in [(&all[0], a, "198.51.100.1"), (&all[1], b, "203.0.113.1")] {
        assert_eq!(v["state"], "BOUND", "{v}");
        assert_eq!(v["address"], addr.to_string());
        assert_eq!(v["server"], server);
        assert_eq!(v["prefix_len"], 24);
        assert_eq!(v["lease_secs"], 600);
        let (t1, t2, end) = (
            v["renew_in"].as_u64().unwrap(),
            v["rebind_in"].as_u64().unwrap(),
            v["expires_in"].as_u64().unwrap(),
        );
        // Kea's T1 300 s and T2 500 s, each within RFC 2131 4.4.5's fuzz (5 %).
        assert!(
            t1 <= 315 && t1 < t2 && t2 <= 525 && t2 < end && end <= 600,
            "{v}"
        );
    }
    // One resolv.conf for both, in command-line order.
    let resolv = || fs::read_to_string(lab.dir.join("resolv.conf")).unwrap();
    let body = |text: String| text.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
    assert!(resolv().starts_with("# Generated by dhcpc"), "{}", resolv());
    assert_eq!(
        body(resolv()),
        [
            "domain kea.test",
            "nameserver 198.51.100.1",
            "nameserver 203.0.113.1"
        ]
    );
    let human = stdout(&dhcpc_run(&lab, &["--status", "vc2"]));
    assert!(
        human.starts_with(&format!("vc2: BOUND {b}/24 from 203.0.113.1")),
        "{human}"
    );

    // -n renews now; a second `dhcpc vc` is refused, naming the daemon that serves it, and
    // neither starts a rival nor touches that daemon.
    let from_a = format!("DHCPREQUEST (type 3) received from {a} to 198.51.100.1");
    let before = kea.count(&from_a);
    assert_exit(&dhcpc_run(&lab, &["-n", CLIENT_IF]), 0);
    assert!(wait_for(Duration::from_secs(5), || kea.count(&from_a) > before));
    let renewed = kea.count(&from_a);
    let out = dhcpc_run(&lab, &[CLIENT_IF]);
    assert_exit(&out, 1);
    assert_stderr_contains(
        &out,
        &format!("vc: already served by dhcpc (pid {}", pid("vc").trim()),
    );
    // Kea logs what reaches it in order: once the renewal asked for now is there, anything
    // the refused start sent would be there too. One more REQUEST, and only one.
    assert_exit(&dhcpc_run(&lab, &["-n", CLIENT_IF]), 0);
    assert!(wait_for(Duration::from_secs(5), || kea.count(&from_a) > renewed));
    assert_eq!(kea.count(&from_a), renewed + 1, "the refused start renewed");
    assert_eq!(pid("vc"), pid("vc2"), "a rival daemon was started");

    // Stopping one interface leaves the other running.
    assert_exit(&dhcpc_run(&lab, &["-x", "vc2"]), 0);
    let all = status_json(&lab);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["interface"], "vc");
    let out = dhcpc_run(&lab, &["--status", "vc2"]);
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("NOT RUNNING"), "{}", describe(&out));
    assert_eq!(addresses(&lab, "vc2"), vec![b], "-x must keep the address");

    // Releasing one lease takes only its DNS server out of resolv.conf.
    assert_exit(&dhcpc_run(&lab, &["-r", CLIENT_IF]), 0);
    assert_eq!(
        body(resolv()),
        ["domain kea.test", "nameserver 203.0.113.1"]
    );
}
