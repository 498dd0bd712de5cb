//! dhclient's TIMEOUT with Debian's own dhclient-script (`--last-lease`, on under dhclient's
//! command line): a daemon stopped with `-x` keeps its lease file; started again with no server
//! answering, it falls back on the saved lease after `--timeout`, and the script checks it by
//! pinging the lease's router. Answered, the lease stays (TIMEOUT); unanswered, the script
//! refuses it, takes the address off, and dhcpc says FAIL and goes on looking.
//!
//! Needs root, dnsmasq, isc-dhcp-client's /sbin/dhclient-script and ping (`sudo scripts/test`
//! installs what is missing).

mod common;

use common::*;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const ROUTER: &str = "198.51.100.1";

fn dnsmasq_lab() -> Lab {
    require_program(
        "ping",
        "install iputils-ping (sudo scripts/test does): dhclient-script pings on TIMEOUT",
    );
    assert!(
        Path::new(DHCLIENT_SCRIPT).exists(),
        "{DHCLIENT_SCRIPT} is missing (isc-dhcp-client; sudo scripts/test installs it)"
    );
    let mut lab = Lab::new();
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
        &format!("--dhcp-option=option:router,{ROUTER}"),
    ]);
    lab
}

/// dhcpc with Debian's dhclient-script configuring, falling back after 2 s.
fn start(lab: &Lab, name: &str) -> Daemon {
    start_with_dhclient_script(lab, name, &["--last-lease", "--timeout", "2"])
}

/// The exit hook's lines (`REASON ADDRESS DOMAIN`), reasons only.
fn reasons(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn wait_reasons(log: &Path, want: &[&str], daemon: &Daemon) {
    let ok = wait_for(Duration::from_secs(30), || {
        let r = reasons(log);
        r.len() >= want.len() && r[r.len() - want.len()..] == *want
    });
    assert!(
        ok,
        "the hooks saw {:?}, not ... {want:?}\n{}",
        reasons(log),
        daemon.log_text()
    );
}

/// Bound by the server, then stopped with `-x` (the lease kept, on the interface and in its
/// file), then the server stopped: the address, and the hook log.
fn bound_then_server_gone(lab: &mut Lab) -> (Ipv4Addr, PathBuf) {
    let log = lab.dir.join("exit-hook.log");
    netns_dhcp_dir(lab, &log);
    let daemon = start(lab, "first");
    let addr = wait_address(lab, CLIENT_IF, POOL);
    wait_reasons(&log, &["PREINIT", "BOUND"], &daemon);
    // -x keeps the lease in its file; dhclient-script takes the address off on STOP.
    assert_exit(&dhcpc_run(lab, &["-x", CLIENT_IF]), 0);
    wait_reasons(&log, &["PREINIT", "BOUND", "STOP"], &daemon);
    drop(daemon);
    lab.stop_servers();
    (addr, log)
}

#[test]
fn with_no_server_the_saved_lease_is_used_when_its_router_answers() {
    let mut lab = dnsmasq_lab();
    let (addr, log) = bound_then_server_gone(&mut lab);
    let daemon = start(&lab, "second");
    wait_reasons(&log, &["PREINIT", "TIMEOUT"], &daemon);
    let line = fs::read_to_string(&log).unwrap();
    assert!(line.contains(&format!("TIMEOUT {addr}")), "{line}");
    assert!(!reasons(&log).contains(&"FAIL".to_string()), "{line}");
    // The lease holds: on the interface, with its default route, and dhcpc bound to it.
    let st = wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert_eq!(st["address"], addr.to_string(), "{st}");
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert_eq!(
        default_gateways(&lab),
        vec![ROUTER.parse::<Ipv4Addr>().unwrap()]
    );
}

#[test]
fn with_no_server_and_no_router_the_script_refuses_the_saved_lease_and_fail_follows() {
    let mut lab = dnsmasq_lab();
    let (_, log) = bound_then_server_gone(&mut lab);
    // The router gone too: the server side's address is the router's.
    let out = lab
        .server_command("ip")
        .args(["addr", "flush", "dev", lab.server_if])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let daemon = start(&lab, "second");
    wait_reasons(&log, &["PREINIT", "TIMEOUT", "FAIL"], &daemon);
    assert!(
        wait_for(Duration::from_secs(5), || addresses(&lab, CLIENT_IF)
            .is_empty()),
        "the refused lease's address stayed"
    );
    // dhcpc goes on looking, with no lease.
    let st = wait_status(
        &lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "looking for a lease",
        |s| s["state"] == "SELECTING",
    );
    assert!(st["address"].is_null(), "{st}");
    daemon.wait_log("refused saved lease", Duration::from_secs(1));
}
