//! dhcpc under systemd: the unit file as systemd-analyze and systemd-sysusers judge it, and the
//! daemon's readiness protocol (sd_notify) seen from a socket the test reads, as systemd would,
//! with dnsmasq in a namespace lab. Also: SIGTERM is honoured at once while a lease is still
//! being acquired. What the unit file says, read as text, is tests/systemd_unit.rs.
//!
//! Root tier (`--features root-tests`): needs root, dnsmasq and systemd (`sudo scripts/test`
//! installs what is missing).

mod common;

use common::{
    addresses, exposure_score, in_pool, require_program, unit6_value, unit_value, wait_for, Daemon,
    Lab, CLIENT_IF, UNIT,
};
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1",
];

/// `systemd-analyze security` scores the unit `name` of systemd/ at most 1.5.
fn assert_scores_at_most_1_5(name: &str) {
    let analyze = require_program(
        "systemd-analyze",
        "install systemd (Debian package systemd) to score the unit file",
    );
    let unit = format!("{}/systemd/{name}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(analyze)
        .args(["security", "--offline=yes", "--no-pager", &unit])
        .output()
        .expect("running systemd-analyze security");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let score = exposure_score(&text);
    assert!(score <= 1.5, "{name}: exposure {score} > 1.5:\n{text}");
}

#[test]
fn unit_exposure_is_at_most_1_5() {
    assert_scores_at_most_1_5("dhcpc@.service");
    // What the score rests on.
    assert_eq!(unit_value("User"), ["dhcpc"]);
    assert_eq!(
        unit_value("AmbientCapabilities"),
        ["CAP_NET_RAW CAP_NET_ADMIN"]
    );
    assert_eq!(unit_value("ProtectSystem"), ["strict"]);
    assert!(!unit_value("RestrictAddressFamilies")[0].contains("AF_INET"));
}

/// The DHCPv6 unit: the same score limit, with only what DHCPv6 needs (AF_INET6 and port
/// 546; no packet socket, no CAP_NET_RAW, IP traffic to link-local and multicast only).
#[test]
fn unit6_exposure_is_at_most_1_5() {
    assert_scores_at_most_1_5("dhcpc6@.service");
    assert_eq!(unit6_value("User"), ["dhcpc"]);
    assert_eq!(
        unit6_value("AmbientCapabilities"),
        ["CAP_NET_ADMIN CAP_NET_BIND_SERVICE"]
    );
    let families: Vec<String> = unit6_value("RestrictAddressFamilies")[0]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(families, ["AF_UNIX", "AF_NETLINK", "AF_INET6"]);
    assert_eq!(unit6_value("IPAddressDeny"), ["any"]);
    assert_eq!(unit6_value("IPAddressAllow"), ["link-local multicast"]);
    assert!(unit6_value("ExecStart")[0].contains("/usr/sbin/dhcpc -6 --foreground"));
    // Apart from what DHCPv6 needs, the same unit as DHCPv4's.
    for key in [
        "Type",
        "Restart",
        "RestartPreventExitStatus",
        "ProtectSystem",
        "SystemCallFilter",
        "WantedBy",
        "StartLimitBurst",
    ] {
        assert_eq!(unit6_value(key), unit_value(key), "{key}");
    }
}

#[test]
fn the_units_user_is_made_by_its_sysusers_file() {
    let sysusers = require_program(
        "systemd-sysusers",
        "install systemd (Debian package systemd) to check the sysusers file",
    );
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/dhcpc.sysusers");
    let root = tempdir("sysusers");
    // --dry-run into an empty root: nothing is written, on the host or there.
    let out = Command::new(sysusers)
        .arg("--dry-run")
        .arg(format!("--root={}", root.display()))
        .arg(conf)
        .output()
        .expect("running systemd-sysusers");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Creating user 'dhcpc'"), "{text}");
    let written = std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(written, 0, "sysusers wrote into its root");
}

#[test]
fn unit_passes_systemd_analyze_verify() {
    let analyze = require_program(
        "systemd-analyze",
        "install systemd (Debian package systemd) to check the unit file",
    );
    let dir = tempdir("verify");
    // verify checks that ExecStart exists and that the Documentation= page is there: point
    // them at what this tree has.
    let man = dir.join("man/man8");
    std::fs::create_dir_all(&man).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/man/dhcpc.8"),
        man.join("dhcpc.8"),
    )
    .unwrap();
    let unit = dir.join("dhcpc@.service");
    let unit6 = dir.join("dhcpc6@.service");
    let bin = common::dhcpc_bin();
    for (path, text) in [(&unit, UNIT), (&unit6, common::UNIT6)] {
        std::fs::write(path, text.replace("/usr/sbin/dhcpc", bin.to_str().unwrap())).unwrap();
    }
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&unit)
        .arg(&unit6)
        .env("MANPATH", dir.join("man"))
        .output()
        .expect("running systemd-analyze verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.trim().is_empty(),
        "systemd-analyze verify: {}\n{text}",
        out.status
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dhcpc-systemd-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A socket standing in for systemd's notification socket, in the lab's dir.
struct NotifySocket {
    sock: UnixDatagram,
    path: std::path::PathBuf,
    seen: Vec<String>,
}

impl NotifySocket {
    fn new(lab: &Lab) -> NotifySocket {
        let path = lab.dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).expect("binding the notify socket");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        NotifySocket {
            sock,
            path,
            seen: Vec::new(),
        }
    }

    /// Waits for a message with `field` (such as `READY=1`) and returns it.
    fn wait_for(&mut self, field: &str, limit: Duration) -> String {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < limit {
            if let Ok(n) = self.sock.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(msg.clone());
                if msg.lines().any(|l| l == field) {
                    return msg;
                }
            }
        }
        panic!(
            "no {field} within {limit:?}; the daemon sent {:#?}",
            self.seen
        );
    }
}

fn start_notified(lab: &Lab, sock: &NotifySocket, extra: &[&str]) -> Daemon {
    Daemon::start_env(
        lab,
        "dhcpc",
        &[("NOTIFY_SOCKET", sock.path.to_str().unwrap())],
        extra,
        &[CLIENT_IF],
    )
}

#[test]
fn ready_is_sent_only_once_the_address_is_on_the_interface() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let mut sock = NotifySocket::new(&lab);
    // The default conflict probe keeps the address off the interface for 200 ms after the
    // ACK: a READY=1 sent at the ACK would be seen before the address.
    let mut daemon = start_notified(&lab, &sock, &["-t", "20"]);
    let ready = sock.wait_for("READY=1", Duration::from_secs(20));
    let held: Vec<_> = addresses(&lab, CLIENT_IF)
        .into_iter()
        .filter(|a| in_pool(*a, POOL))
        .collect();
    assert_eq!(
        held.len(),
        1,
        "READY=1 came before the address was on {CLIENT_IF}: {held:?}\n{}",
        daemon.log_text()
    );
    let status = format!("STATUS={CLIENT_IF}: BOUND {}/24", held[0]);
    assert!(
        ready.lines().any(|l| l == status),
        "READY=1 should come with {status:?}: {ready:?}"
    );
    // Each state on the way was told as it changed.
    assert!(
        sock.seen.iter().any(|m| m.contains("SELECTING")),
        "no STATUS= for SELECTING: {:#?}",
        sock.seen
    );
    kill_term(&daemon);
    sock.wait_for("STOPPING=1", Duration::from_secs(5));
    assert!(
        wait_for(Duration::from_secs(5), || matches!(
            daemon.child.try_wait(),
            Ok(Some(_))
        )),
        "dhcpc did not exit after SIGTERM"
    );
    daemon.kill();
}

#[test]
fn ready_at_the_timeout_says_why_there_is_no_lease() {
    let lab = Lab::new(); // no server
    let mut sock = NotifySocket::new(&lab);
    let _daemon = start_notified(&lab, &sock, &["-t", "2"]);
    let ready = sock.wait_for("READY=1", Duration::from_secs(10));
    assert!(
        ready.contains(&format!(
            "STATUS={CLIENT_IF}: no lease after 2 s: no DHCP server answered"
        )) && ready.contains("still trying"),
        "READY=1 at the timeout should say why: {ready:?}"
    );
}

fn kill_term(daemon: &Daemon) {
    let pid = daemon.child.id().to_string();
    common::sh("kill", &["-TERM", &pid]);
}

#[test]
fn sigterm_is_honoured_at_once_while_acquiring() {
    let lab = Lab::new(); // no server: the daemon keeps sending DISCOVERs
    let mut daemon = Daemon::start(&lab, "dhcpc", &["-t", "60"], &[CLIENT_IF]);
    common::wait_state(&lab, CLIENT_IF, "SELECTING", Duration::from_secs(10));
    let sent = Instant::now();
    kill_term(&daemon);
    let mut status = None;
    // Well under the 60 s the daemon would otherwise wait for a lease.
    wait_for(Duration::from_secs(10), || {
        status = daemon.child.try_wait().ok().flatten();
        status.is_some()
    });
    let status = status.unwrap_or_else(|| {
        panic!(
            "dhcpc still runs {:?} after SIGTERM\n{}",
            sent.elapsed(),
            daemon.log_text()
        )
    });
    assert!(status.success(), "SIGTERM should exit 0: {status}");
    assert!(
        daemon.log_text().contains("SIGTERM: stopping"),
        "the log should say why it stopped:\n{}",
        daemon.log_text()
    );
}

#[test]
fn resolv_conf_stays_readable_by_everyone_under_the_units_umask() {
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(unit_value("UMask"), ["0077"]);
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let umask = ["sh", "-c", "umask 077; exec \"$0\" \"$@\""];
    let daemon = Daemon::start_as(&lab, "dhcpc", &umask, &["--arp-probe", "0"], &[CLIENT_IF]);
    common::wait_address(&lab, CLIENT_IF, POOL);
    let resolv = lab.dir.join("resolv.conf");
    assert!(
        wait_for(Duration::from_secs(5), || resolv.exists()),
        "no resolv.conf\n{}",
        daemon.log_text()
    );
    let mode = std::fs::metadata(&resolv).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "resolv.conf must be readable by every user");
}
