//! Without the privileges it wants: a kernel that refuses the address, and the unit's
//! confinement (another user, two ambient capabilities, no AF_INET socket).

use super::common::*;
use super::kea::*;
use std::fs;
use std::time::Duration;

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

    // A one-shot run has nothing to keep alive: it says what is missing, status 4 (a restart
    // would not mend it).
    let mut cmd = lab.client_command(setpriv);
    cmd.args(&no_admin[1..])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-1", "--arp-probe", "0", "-t", "10", CLIENT_IF])
        .env_remove("DHCPC_LOG");
    let out = run_with_deadline(cmd, DHCPC_DEADLINE);
    assert_no_panic(&out);
    assert_exit(&out, 4);
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
