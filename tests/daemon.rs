//! The daemon against a live Kea server in namespace labs: renewal at T1, rebinding and expiry
//! when the server goes away, NAK after a server restart with another pool, INIT-REBOOT after
//! SIGKILL, release, ARP conflict detection, two interfaces in one daemon, `--status --json`.
//!
//! Kea accepts lifetimes of a few seconds, so hours of lease life fit in seconds here.

mod common;

use common::*;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POOL_A: (&str, &str) = ("198.51.100.50", "198.51.100.59");
const POOL_B: (&str, &str) = ("198.51.100.70", "198.51.100.79");

fn kea_bin() -> PathBuf {
    require_program(
        "kea-dhcp4",
        "install kea-dhcp4-server (sudo scripts/test does, without starting its service)",
    )
}

/// One subnet Kea serves on one of the server namespace's interfaces.
struct Subnet {
    iface: &'static str,
    subnet: &'static str,
    pool: (&'static str, &'static str),
    router: &'static str,
}

fn subnet_a(iface: &'static str) -> Subnet {
    Subnet {
        iface,
        subnet: "198.51.100.0/24",
        pool: POOL_A,
        router: "198.51.100.1",
    }
}

/// A Kea process in the lab's server namespace; killed on drop.
struct Kea {
    child: Child,
    log: PathBuf,
}

impl Kea {
    /// Starts Kea with these subnets and lifetimes (seconds) and waits until it serves.
    fn start(lab: &Lab, name: &str, subnets: &[Subnet], valid: u32, t1: u32, t2: u32) -> Kea {
        let ifaces: Vec<&str> = subnets.iter().map(|s| s.iface).collect();
        let subnet4: Vec<serde_json::Value> = subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({
                    "id": i + 1,
                    "subnet": s.subnet,
                    "interface": s.iface,
                    "pools": [ { "pool": format!("{} - {}", s.pool.0, s.pool.1) } ],
                    "option-data": [
                        { "name": "routers", "data": s.router },
                        { "name": "domain-name-servers", "data": s.router },
                        { "name": "domain-name", "data": "kea.test" }
                    ]
                })
            })
            .collect();
        let config = serde_json::json!({
            "Dhcp4": {
                "interfaces-config": { "interfaces": ifaces, "dhcp-socket-type": "raw" },
                "lease-database": { "type": "memfile", "persist": false, "lfc-interval": 0 },
                "valid-lifetime": valid,
                "renew-timer": t1,
                "rebind-timer": t2,
                // A server that owns the subnet NAKs requests for addresses it cannot give.
                "authoritative": true,
                "subnet4": subnet4,
                "loggers": [ {
                    "name": "kea-dhcp4",
                    "output_options": [ { "output": "stdout" } ],
                    "severity": "DEBUG",
                    "debuglevel": 55
                } ]
            }
        });
        let cfg = lab.dir.join(format!("{name}.json"));
        let log = lab.dir.join(format!("{name}.log"));
        let mut config = config;
        // Straight to a file, flushed at every line (Kea buffers stdout when it is a file).
        config["Dhcp4"]["loggers"][0]["output_options"] =
            serde_json::json!([ { "output": log.display().to_string(), "flush": true } ]);
        fs::write(&cfg, config.to_string()).expect("writing the Kea config");
        let out = fs::File::create(lab.dir.join(format!("{name}.out"))).expect("Kea output");
        let err = out.try_clone().expect("Kea output");
        let child = lab
            .server_command(kea_bin())
            .arg("-c")
            .arg(&cfg)
            // Pid and lock files in the lab, so parallel labs do not see each other's Kea.
            .env("KEA_PIDFILE_DIR", &lab.dir)
            .env("KEA_LOCKFILE_DIR", &lab.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting kea-dhcp4");
        let mut kea = Kea { child, log };
        let ready = wait_for(Duration::from_secs(10), || {
            kea.log_text().contains("DHCP4_STARTED") || matches!(kea.child.try_wait(), Ok(Some(_)))
        });
        assert!(
            ready && kea.log_text().contains("DHCP4_STARTED"),
            "Kea did not start\n{}",
            kea.log_text()
        );
        kea
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of Kea's log that contain `needle`.
    fn count(&self, needle: &str) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- Kea log ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        self.stop();
    }
}

#[test]
fn renews_at_t1_rebinds_and_expires_when_the_server_stops() {
    let lab = Lab::new();
    let mut kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 8, 3, 6);
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    let bound_at = Instant::now();
    let s = wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert_eq!(s["address"], addr.to_string());
    assert_eq!(s["lease_secs"], 8);
    assert!(s["renew_in"].as_u64().unwrap() <= 3, "{s}");
    let acquired = wait_saved(&lab, CLIENT_IF, Duration::from_secs(5));

    // T1 = 3 s: a REQUEST unicast from the leased address to the server, answered by ACK.
    let renew = format!("DHCPREQUEST (type 3) received from {addr} to 198.51.100.1");
    assert!(
        wait_for(Duration::from_secs(8), || kea.count(&renew) >= 1),
        "no unicast renewal reached Kea"
    );
    assert!(
        bound_at.elapsed() >= Duration::from_secs(2),
        "renewed long before T1"
    );
    // Answered, and taken: the lease saved again, BOUND.
    wait_renewed(&lab, CLIENT_IF, acquired, Duration::from_secs(5));
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);

    // The server goes away: RENEWING, then REBINDING at T2, then the lease expires and the
    // address, route and DNS settings go.
    kea.stop();
    wait_state(&lab, CLIENT_IF, "REBINDING", Duration::from_secs(10));
    assert!(
        wait_for(Duration::from_secs(12), || addresses(&lab, CLIENT_IF)
            .is_empty()),
        "the address outlived the lease: {:?}",
        addresses(&lab, CLIENT_IF)
    );
    // Expired: back to DISCOVER.
    wait_state(&lab, CLIENT_IF, "SELECTING", Duration::from_secs(2));
    assert!(!lab.client_routes().iter().any(|r| r.is_default()));
    // Files are written by the daemon's writer thread, a moment after the change.
    assert!(
        wait_for(Duration::from_secs(2), || !lab
            .dir
            .join("resolv.conf")
            .exists()),
        "resolv.conf not restored"
    );
    let s = status_of(&lab, CLIENT_IF);
    assert_eq!(
        s["state"], "SELECTING",
        "back to DISCOVER after expiry: {s}"
    );
    lab.assert_netns_resolv_untouched();
}

#[test]
fn nak_after_a_server_restart_with_another_pool_gives_a_new_address() {
    let lab = Lab::new();
    let mut kea = Kea::start(&lab, "kea-a", &[subnet_a(SERVER_IF)], 600, 300, 500);
    let mut first = Daemon::start(&lab, "dhcpc-1", &["--arp-probe", "0"], &[CLIENT_IF]);
    let old = wait_address(&lab, CLIENT_IF, POOL_A);
    // Stop without releasing: the address and the saved lease stay.
    let out = dhcpc_run(&lab, &["-x", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || matches!(
        first.child.try_wait(),
        Ok(Some(_))
    )));
    first.kill();
    assert_eq!(addresses(&lab, CLIENT_IF), vec![old]);

    // The server comes back with another pool and no memory of the lease.
    kea.stop();
    let mut other = subnet_a(SERVER_IF);
    other.pool = POOL_B;
    let kea_b = Kea::start(&lab, "kea-b", &[other], 600, 300, 500);
    let _second = Daemon::start(&lab, "dhcpc-2", &["--arp-probe", "0"], &[CLIENT_IF]);
    // INIT-REBOOT asks for the old address; the server refuses; dhcpc starts over.
    assert!(
        wait_for(Duration::from_secs(10), || kea_b.count("DHCPNAK") >= 1),
        "Kea sent no NAK"
    );
    let asked = format!("INIT-REBOOT state and requests address {old}");
    assert!(kea_b.count(&asked) >= 1, "no INIT-REBOOT for {old}");
    let new = wait_address(&lab, CLIENT_IF, POOL_B);
    assert!(
        wait_for(Duration::from_secs(5), || addresses(&lab, CLIENT_IF)
            == vec![new]),
        "the old address stayed: {:?}",
        addresses(&lab, CLIENT_IF)
    );
    assert_eq!(status_of(&lab, CLIENT_IF)["address"], new.to_string());
}

#[test]
fn sigkill_and_restart_keeps_the_address_through_init_reboot() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 600, 300, 500);
    let mut first = Daemon::start(&lab, "dhcpc-1", &[], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    wait_saved(&lab, CLIENT_IF, Duration::from_secs(5));
    first.kill(); // SIGKILL: no chance to clean anything up
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);

    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    let (discovers, requests) = (kea.count("DHCPDISCOVER"), kea.count("DHCPREQUEST"));
    let _second = Daemon::start(&lab, "dhcpc-2", &[], &[CLIENT_IF]);
    // INIT-REBOOT: a REQUEST for the saved address, answered, and no DISCOVER.
    assert!(
        wait_for(Duration::from_secs(10), || kea.count("DHCPREQUEST")
            > requests),
        "no REQUEST reached Kea"
    );
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(10));
    let asked = format!("INIT-REBOOT state and requests address {addr}");
    assert!(kea.count(&asked) >= 1, "no INIT-REBOOT for {addr}");
    // The same address, never removed in between (no gap), and no DISCOVER was needed.
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the address was removed"
    );
    assert_eq!(
        kea.count("DHCPDISCOVER"),
        discovers,
        "went through DISCOVER"
    );
    assert!(kea.count("DHCPREQUEST") >= 2);
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn release_removes_the_address_and_frees_the_servers_lease() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 600, 300, 500);
    let resolv = lab.dir.join("resolv.conf");
    fs::write(
        &resolv,
        "# the file before dhcpc\nnameserver 203.0.113.53\n",
    )
    .unwrap();

    // Without -d: waits for the lease, prints it, detaches and returns 0.
    let out = dhcpc_run(&lab, &[CLIENT_IF]);
    assert_exit(&out, 0);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    assert!(
        stdout(&out).starts_with(&format!("vc: {addr}/24")),
        "{}",
        describe(&out)
    );
    let pid: u32 = fs::read_to_string(lab.dir.join("run/vc.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .unwrap();
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "daemon not running"
    );
    assert!(fs::read_to_string(&resolv)
        .unwrap()
        .starts_with("# Generated by dhcpc"));
    assert!(lab.client_routes().iter().any(|r| r.is_default()));

    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(addresses(&lab, CLIENT_IF).is_empty(), "address still there");
    assert!(!lab.client_routes().iter().any(|r| r.is_default()));
    assert_eq!(
        fs::read_to_string(&resolv).unwrap(),
        "# the file before dhcpc\nnameserver 203.0.113.53\n",
        "resolv.conf not restored"
    );
    assert!(!lab.dir.join("lease/vc.lease").exists(), "saved lease kept");
    assert!(
        wait_for(Duration::from_secs(5), || !Path::new(&format!(
            "/proc/{pid}"
        ))
        .exists()),
        "the daemon did not exit with no interface left"
    );
    assert!(
        wait_for(Duration::from_secs(5), || kea.count("DHCP4_RELEASE ") >= 1),
        "Kea saw no release"
    );
    assert!(kea
        .log_text()
        .contains(&format!("address {addr} was released")));

    // With no daemon, -r releases from the saved lease.
    let out = dhcpc_run(&lab, &["-1", "--arp-probe", "0", CLIENT_IF]);
    assert_exit(&out, 0);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    assert!(fs::read_to_string(&resolv)
        .unwrap()
        .starts_with("# Generated by dhcpc"));
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(addresses(&lab, CLIENT_IF).is_empty());
    assert_eq!(
        fs::read_to_string(&resolv).unwrap(),
        "# the file before dhcpc\nnameserver 203.0.113.53\n",
        "resolv.conf not restored by a release from the saved lease"
    );
    assert!(
        wait_for(Duration::from_secs(5), || kea
            .log_text()
            .contains(&format!("address {addr} was released"))),
        "Kea saw no release of the saved lease"
    );
    // Nothing left to release now: a clear message and status 1.
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 1);
    assert_stderr_contains(&out, "nothing to release");
}

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
        assert!(
            t1 <= 300 && t1 < t2 && t2 <= 500 && t2 < end && end <= 600,
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
        &format!("vc is already served by dhcpc (pid {}", pid("vc").trim()),
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

fn sigterm(daemon: &mut Daemon) {
    sh("kill", &["-TERM", &daemon.child.id().to_string()]);
    let stopped = wait_for(Duration::from_secs(5), || {
        matches!(daemon.child.try_wait(), Ok(Some(_)))
    });
    assert!(
        stopped,
        "dhcpc did not stop on SIGTERM\n{}",
        daemon.log_text()
    );
    let status = daemon.child.wait().unwrap();
    assert!(status.success(), "SIGTERM exit status {status}");
}

#[test]
fn sigterm_keeps_the_lease_unless_release_on_exit() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 600, 300, 500);
    let mut daemon = Daemon::start(&lab, "dhcpc-1", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    sigterm(&mut daemon);
    assert_eq!(
        addresses(&lab, CLIENT_IF),
        vec![addr],
        "SIGTERM removed the address"
    );
    assert!(
        lab.dir.join("lease/vc.lease").exists(),
        "SIGTERM dropped the saved lease"
    );
    assert!(
        !lab.dir.join("run/vc.sock").exists(),
        "control socket left behind"
    );
    assert_eq!(kea.count("DHCP4_RELEASE "), 0);

    let mut daemon = Daemon::start(
        &lab,
        "dhcpc-2",
        &["--arp-probe", "0", "--release-on-exit"],
        &[CLIENT_IF],
    );
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(10));
    sigterm(&mut daemon);
    assert!(
        addresses(&lab, CLIENT_IF).is_empty(),
        "--release-on-exit kept the address"
    );
    assert!(!lab.dir.join("lease/vc.lease").exists());
    assert!(
        wait_for(Duration::from_secs(5), || kea.count("DHCP4_RELEASE ") >= 1),
        "Kea saw no release"
    );
}

/// The default route dhcpc installed, if the client namespace has one.
fn has_default_route(lab: &Lab) -> bool {
    lab.client_routes().iter().any(|r| r.is_default())
}

#[test]
fn a_link_flap_while_bound_does_not_stop_the_daemon() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 8, 3, 6);
    let mut daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert!(has_default_route(&lab));
    sh(
        "ip",
        &["-n", &lab.client_ns, "link", "set", CLIENT_IF, "down"],
    );
    wait_status(
        &lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "without carrier",
        |s| s["carrier"] == false,
    );
    let acquired = lease_acquired(&lab, CLIENT_IF).expect("a saved lease");
    sh(
        "ip",
        &["-n", &lab.client_ns, "link", "set", CLIENT_IF, "up"],
    );
    // Two renewals after the flap (T1 = 3 s), each answered at once (no REBINDING, a
    // broadcast from the leased address: the reply that arrived with the link's error was not
    // lost with the socket).
    let rebinds = format!("DHCPREQUEST (type 3) received from {addr} to 255.255.255.255");
    let first = wait_renewed(&lab, CLIENT_IF, acquired, Duration::from_secs(10));
    wait_renewed(&lab, CLIENT_IF, first, Duration::from_secs(10));
    assert!(
        matches!(daemon.child.try_wait(), Ok(None)),
        "the daemon ended\n{}",
        daemon.log_text()
    );
    assert_eq!(kea.count(&rebinds), 0, "a renewal went unanswered");
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    // The kernel dropped the default route with the link; the renewal put it back.
    assert!(has_default_route(&lab), "{:?}", lab.client_routes());
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn a_flap_over_t1_renews_as_soon_as_carrier_is_back() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 12, 3, 9);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let acquired = wait_saved(&lab, CLIENT_IF, Duration::from_secs(5));
    // Carrier goes (the far end down) before T1 and comes back after it: the renewal due
    // meanwhile could not go out.
    sh(
        "ip",
        &["-n", &lab.server_ns, "link", "set", SERVER_IF, "down"],
    );
    wait_status(
        &lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "without carrier",
        |s| s["carrier"] == false,
    );
    // T1 passes without carrier: RENEWING, with nothing sent.
    wait_state(&lab, CLIENT_IF, "RENEWING", Duration::from_secs(5));
    let requests = kea.count("DHCP4_PACKET_RECEIVED");
    sh(
        "ip",
        &["-n", &lab.server_ns, "link", "set", SERVER_IF, "up"],
    );
    // Confirmed at once (the router's ARP or Kea's ACK), and renewed at once: no waiting for
    // T2 (9 s), nor for the next retransmission.
    wait_renewed(&lab, CLIENT_IF, acquired, Duration::from_secs(3));
    assert!(
        kea.count("DHCP4_PACKET_RECEIVED") > requests,
        "no renewal right after carrier came back\n{}",
        daemon.log_text()
    );
    let rebinds = format!("DHCPREQUEST (type 3) received from {addr} to 255.255.255.255");
    assert_eq!(kea.count(&rebinds), 0, "rebound instead of renewing");
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert!(has_default_route(&lab), "{:?}", lab.client_routes());
}

#[test]
fn a_system_that_refuses_the_address_does_not_stop_the_daemon() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 600, 300, 500);
    let setpriv = require_program(
        "setpriv",
        "run the tests with `sudo scripts/test`, which installs it (package util-linux)",
    );
    let setpriv = setpriv.to_str().expect("UTF-8 path");
    // Without CAP_NET_ADMIN the kernel refuses the address (EPERM); DHCP itself still works.
    let no_admin = [setpriv, "--bounding-set", "-net_admin"];
    let mut daemon = Daemon::start_as(
        &lab,
        "dhcpc",
        &no_admin,
        &["--arp-probe", "0"],
        &[CLIENT_IF],
    );
    // Refused, and tried again after a pause (a second lease acknowledged, and refused
    // again: back to INIT): the daemon keeps going, and says why each time.
    let acks = "trying to send packet DHCPACK";
    wait_status(
        &lab,
        CLIENT_IF,
        Duration::from_secs(20),
        "refused twice",
        |s| s["state"] == "INIT" && kea.count(acks) >= 2,
    );
    assert!(
        matches!(daemon.child.try_wait(), Ok(None)),
        "the daemon ended\n{}",
        daemon.log_text()
    );
    assert!(
        daemon.log_text().matches("could not configure").count() >= 2,
        "{}",
        daemon.log_text()
    );
    assert!(daemon.log_text().contains("Operation not permitted"));
    assert!(addresses(&lab, CLIENT_IF).is_empty());
    daemon.kill();

    // Started in the background, it still tells the shell that started it (status 1, and
    // why) instead of keeping it waiting; the daemon goes on in the background.
    let mut cmd = lab.client_command(setpriv);
    cmd.args(&no_admin[1..])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["--arp-probe", "0", "-t", "3", CLIENT_IF])
        .env_remove("DHCPC_LOG");
    let out = run_with_deadline(cmd, DHCPC_DEADLINE);
    assert_no_panic(&out);
    assert_exit(&out, 1);
    assert_stderr_contains(&out, "no lease after 3 s: could not configure");
    assert_exit(&dhcpc_run(&lab, &["-x", CLIENT_IF]), 0);

    // A one-shot run has nothing to keep alive: it says what is missing, status 3.
    let mut cmd = lab.client_command(setpriv);
    cmd.args(&no_admin[1..])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-1", "--arp-probe", "0", "-t", "10", CLIENT_IF])
        .env_remove("DHCPC_LOG");
    let out = run_with_deadline(cmd, DHCPC_DEADLINE);
    assert_no_panic(&out);
    assert_exit(&out, 3);
    assert_stderr_contains(&out, "needs CAP_NET_RAW and CAP_NET_ADMIN");
    assert!(addresses(&lab, CLIENT_IF).is_empty());
}

/// The socket inodes of process `pid` that are IPv4 sockets (UDP, TCP or raw IP) in its
/// network namespace.
fn inet_sockets(pid: u32) -> Vec<String> {
    let mine: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| fs::read_link(e.path()).ok())
                .filter_map(|t| {
                    let t = t.to_string_lossy().into_owned();
                    t.strip_prefix("socket:[")
                        .and_then(|r| r.strip_suffix(']'))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut inet = Vec::new();
    for table in ["udp", "tcp", "raw"] {
        let text = fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            if let Some(inode) = line.split_whitespace().nth(9) {
                if mine.iter().any(|m| m == inode) {
                    inet.push(format!("{table} {line}"));
                }
            }
        }
    }
    inet
}

#[test]
fn as_an_unprivileged_user_with_two_capabilities_it_binds_renews_and_releases() {
    // What the systemd unit grants: a user of its own, CAP_NET_RAW and CAP_NET_ADMIN as
    // ambient capabilities, and no AF_INET socket (RestrictAddressFamilies): renewals and the
    // release go out through the packet socket.
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 8, 2, 6);
    sh(
        "chown",
        &["-R", "65534:65534", &lab.dir.display().to_string()],
    );
    let setpriv = require_program("setpriv", "sudo scripts/test installs util-linux");
    let setpriv = setpriv.display().to_string();
    let daemon = Daemon::start_as(
        &lab,
        "dhcpc",
        &[
            &setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all,+net_raw,+net_admin",
            "--ambient-caps=-all,+net_raw,+net_admin",
            "--bounding-set=-all,+net_raw,+net_admin",
        ],
        &["--arp-probe", "0"],
        &[CLIENT_IF],
    );
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let acquired = wait_saved(&lab, CLIENT_IF, Duration::from_secs(5));
    let status = fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains("65534")),
        "{status}"
    );
    // A renewal at T1 (2 s), unicast to Kea, answered (not a rebinding, broadcast).
    wait_renewed(&lab, CLIENT_IF, acquired, Duration::from_secs(6));
    let unicast = format!("DHCPREQUEST (type 3) received from {addr} to 198.51.100.1");
    let rebinds = format!("DHCPREQUEST (type 3) received from {addr} to 255.255.255.255");
    assert!(kea.count(&unicast) >= 1, "no unicast renewal reached Kea");
    assert_eq!(
        kea.count(&rebinds),
        0,
        "the unicast renewal went unanswered\n{}",
        daemon.log_text()
    );
    assert_eq!(
        inet_sockets(daemon.child.id()),
        Vec::<String>::new(),
        "the daemon holds AF_INET sockets"
    );
    // The lease file says where unicast goes on the link, for a later release.
    let saved = fs::read_to_string(lab.dir.join("lease/vc.lease")).unwrap();
    assert!(saved.contains("server_mac="), "{saved}");
    let releases = kea.count("DHCP4_RELEASE ");
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        wait_for(Duration::from_secs(5), || kea.count("DHCP4_RELEASE ")
            > releases),
        "Kea saw no release\n{}",
        kea.log_text()
    );
    assert!(!addresses(&lab, CLIENT_IF).contains(&addr));
}
