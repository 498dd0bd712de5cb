//! The hook script (`--script`): the environment dhclient-script(8) gets, checked against what
//! ISC dhclient itself exports (names and formats), names that are not names withheld; and in
//! dnsmasq labs: the reasons a notified script sees through a lease's life, and Debian's own
//! /sbin/dhclient-script configuring the interface (`--script-configures`) with its hook
//! directories, side by side with ISC dhclient running the same script.

mod common;

use common::*;
use dhcpc::hookenv::{environment, Event, Reason};
use dhcpc::lease::{Lease, Route};
use dhcpc::time::Instant;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

fn lease() -> Lease {
    Lease {
        address: Ipv4Addr::new(198, 51, 100, 101),
        prefix_len: 24,
        broadcast: Ipv4Addr::new(198, 51, 100, 255),
        server_id: Ipv4Addr::new(198, 51, 100, 1),
        next_server: Some(Ipv4Addr::new(198, 51, 100, 9)),
        routers: vec![Ipv4Addr::new(198, 51, 100, 1)],
        dns: vec![
            Ipv4Addr::new(198, 51, 100, 1),
            Ipv4Addr::new(198, 51, 100, 2),
        ],
        domain: Some("lab.test".into()),
        mtu: Some(1400),
        classless_routes: vec![
            Route {
                dest: Ipv4Addr::new(203, 0, 113, 0),
                prefix_len: 24,
                gateway: Ipv4Addr::new(198, 51, 100, 1),
            },
            Route {
                dest: Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                gateway: Ipv4Addr::new(198, 51, 100, 1),
            },
        ],
        search: vec!["lab.test".into(), "other.test".into()],
        ntp: vec![Ipv4Addr::new(198, 51, 100, 3)],
        options: vec![
            (
                121,
                vec![24, 203, 0, 113, 198, 51, 100, 1, 0, 198, 51, 100, 1],
            ),
            (12, b"vm".to_vec()),
        ]
        .into(),
        lease_secs: 3600,
        t1_secs: 1800,
        t2_secs: 3150,
        start: Instant::ZERO,
    }
}

fn env_of(ev: &Event<'_>) -> BTreeMap<String, String> {
    environment(ev).0.into_iter().collect()
}

#[test]
fn bound_exports_what_dhclient_exports_in_its_formats() {
    let l = lease();
    let env = env_of(&Event {
        reason: Reason::Bound,
        interface: "vc",
        pid: 4242,
        new: Some(&l),
        old: None,
        new_expiry: Some(1_796_137_188),
        old_expiry: None,
        new_options: None,
        old_options: None,
        requested: &[1, 3, 6, 121],
    });
    // What ISC dhclient 4.4.3 exported for the same lease from dnsmasq, variable for variable.
    let dhclient = [
        ("reason", "BOUND"),
        ("interface", "vc"),
        ("pid", "4242"),
        ("new_next_server", "198.51.100.9"),
        ("new_broadcast_address", "198.51.100.255"),
        ("new_dhcp_lease_time", "3600"),
        ("new_dhcp_message_type", "5"),
        ("new_dhcp_rebinding_time", "3150"),
        ("new_dhcp_renewal_time", "1800"),
        ("new_dhcp_server_identifier", "198.51.100.1"),
        ("new_domain_name", "lab.test"),
        ("new_domain_name_servers", "198.51.100.1 198.51.100.2"),
        ("new_domain_search", "lab.test. other.test."),
        ("new_expiry", "1796137188"),
        ("new_host_name", "vm"),
        ("new_interface_mtu", "1400"),
        ("new_ip_address", "198.51.100.101"),
        ("new_network_number", "198.51.100.0"),
        ("new_ntp_servers", "198.51.100.3"),
        (
            "new_rfc3442_classless_static_routes",
            "24 203 0 113 198 51 100 1 0 198 51 100 1",
        ),
        ("new_routers", "198.51.100.1"),
        ("new_subnet_mask", "255.255.255.0"),
        ("requested_subnet_mask", "1"),
        ("requested_routers", "1"),
        ("requested_domain_name_servers", "1"),
        ("requested_rfc3442_classless_static_routes", "1"),
    ];
    for (k, v) in dhclient {
        assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(!env.keys().any(|k| k.starts_with("old_")));
}

#[test]
fn a_change_exports_the_old_lease_too_and_a_release_only_the_old() {
    let old = lease();
    let mut new = lease();
    new.address = Ipv4Addr::new(198, 51, 100, 102);
    let env = env_of(&Event {
        reason: Reason::Renew,
        interface: "vc",
        pid: 4242,
        new: Some(&new),
        old: Some(&old),
        new_expiry: None,
        old_expiry: None,
        new_options: None,
        old_options: None,
        requested: &[],
    });
    assert_eq!(env["new_ip_address"], "198.51.100.102");
    assert_eq!(env["old_ip_address"], "198.51.100.101");
    let env = env_of(&Event {
        reason: Reason::Release,
        interface: "vc",
        pid: 4242,
        new: None,
        old: Some(&old),
        new_expiry: None,
        old_expiry: None,
        new_options: None,
        old_options: None,
        requested: &[],
    });
    assert_eq!(env["reason"], "RELEASE");
    assert_eq!(env["old_ip_address"], "198.51.100.101");
    assert!(!env.keys().any(|k| k.starts_with("new_")));
}

#[test]
fn names_that_are_not_names_are_withheld() {
    let mut l = lease();
    l.domain = Some("lab.test; rm -rf /".into());
    l.search = vec!["$(id).test".into()];
    l.options = vec![
        (12, b"vm`reboot`".to_vec()),
        (47, b"scope\nreason=BOUND".to_vec()),
        (66, b"tftp.lab.test".to_vec()),
    ]
    .into();
    let (env, withheld) = environment(&Event {
        reason: Reason::Bound,
        interface: "vc",
        pid: 4242,
        new: Some(&l),
        old: None,
        new_expiry: None,
        old_expiry: None,
        new_options: None,
        old_options: None,
        requested: &[],
    });
    let env: BTreeMap<_, _> = env.into_iter().collect();
    for k in [
        "new_domain_name",
        "new_domain_search",
        "new_host_name",
        "new_netbios_scope",
    ] {
        assert!(!env.contains_key(k), "{k} passed: {:?}", env.get(k));
        assert!(withheld.iter().any(|w| w.name == k), "{k} not reported");
    }
    // Plain text still goes through, and nothing anywhere holds a control character.
    assert_eq!(env["new_tftp_server_name"], "tftp.lab.test");
    assert!(env
        .iter()
        .all(|(k, v)| !k.contains(['\n', '\0']) && !v.contains(['\n', '\0'])));
}

/// dhcpc's own list followed by `--request 42,1,42` (found by the `hookenv` fuzz target,
/// fuzz/regressions/hookenv/requested-twice): each `requested_*` once.
#[test]
fn an_option_asked_for_twice_is_exported_once() {
    let mut requested: Vec<u8> = dhcpc::core::REQUESTED_OPTIONS
        .iter()
        .map(|&c| u8::from(c))
        .collect();
    requested.extend([42, 1, 42]);
    let (env, _) = environment(&Event {
        reason: Reason::Preinit,
        interface: "vc",
        pid: 4242,
        new: None,
        old: None,
        new_expiry: None,
        old_expiry: None,
        new_options: None,
        old_options: None,
        requested: &requested,
    });
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    let mut once = names.clone();
    once.sort_unstable();
    once.dedup();
    assert_eq!(once.len(), names.len(), "{names:?}");
    for k in ["requested_ntp_servers", "requested_subnet_mask"] {
        assert!(names.contains(&k), "{k} missing: {names:?}");
    }
}

// --- In namespace labs ---------------------------------------------------------------------

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,2m",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1,198.51.100.2",
    "--dhcp-option=option:domain-name,lab.test",
    "--dhcp-option=option:domain-search,lab.test,other.test",
    "--dhcp-option=option:ntp-server,198.51.100.3",
];

/// A script that appends its environment (sorted, one run per block) to `log`.
fn recorder(dir: &Path, log: &Path) -> String {
    let path = dir.join("record.sh");
    fs::write(
        &path,
        format!(
            "#!/bin/sh\n{{ env | LC_ALL=C sort; echo ----; }} >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    sh("chmod", &["755", &path.display().to_string()]);
    path.display().to_string()
}

fn reasons(log: &Path) -> Vec<String> {
    recorded_runs(log)
        .iter()
        .map(|r| r["reason"].clone())
        .collect()
}

#[test]
fn a_notified_script_sees_preinit_bound_renew_and_release_with_dhclients_variables() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let log = lab.dir.join("hook.log");
    let script = recorder(&lab.dir, &log);
    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &[
            "--arp-probe",
            "0",
            "--script",
            &script,
            "--script-env",
            "IF_METRIC=5",
        ],
        &[CLIENT_IF],
    );
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    daemon.wait_log("bound", Duration::from_secs(5));
    assert!(wait_for(Duration::from_secs(5), || reasons(&log)
        == ["PREINIT", "BOUND"]));
    let bound = &recorded_runs(&log)[1];
    assert_eq!(bound["interface"], CLIENT_IF);
    assert_eq!(bound["new_ip_address"], addr.to_string());
    assert_eq!(bound["new_routers"], "198.51.100.1");
    assert_eq!(
        bound["new_domain_name_servers"],
        "198.51.100.1 198.51.100.2"
    );
    assert_eq!(bound["new_domain_search"], "lab.test. other.test.");
    assert_eq!(bound["IF_METRIC"], "5");
    // Only what dhcpc gives it: no variable of the daemon's own environment leaks in.
    assert!(!bound.contains_key("HOME") && !bound.contains_key("DHCPC_LOG"));
    // dhcpc configured the interface itself meanwhile (the script only listens).
    assert!(lab.client_routes().iter().any(|r| r.is_default()));

    let out = dhcpc_run(&lab, &["-n", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || reasons(&log).len() == 3));
    let renew = &recorded_runs(&log)[2];
    assert_eq!(renew["reason"], "RENEW");
    assert_eq!(renew["old_ip_address"], addr.to_string());

    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || reasons(&log).len() == 4));
    let release = &recorded_runs(&log)[3];
    assert_eq!(release["reason"], "RELEASE");
    assert_eq!(release["old_ip_address"], addr.to_string());
    assert!(!release.contains_key("new_ip_address"));
}

/// dhcpc handing its lease to Debian's dhclient-script (`--script-configures`), with the
/// namespace's own hook directories, in a UTS namespace of its own (the script may set the
/// host name). Returns once bound and the exit hook saw BOUND: the daemon, the address, and
/// the exit hook's log.
fn bound_through_dhclient_script(lab: &Lab) -> (Daemon, Ipv4Addr, std::path::PathBuf) {
    assert!(
        Path::new(DHCLIENT_SCRIPT).exists(),
        "{DHCLIENT_SCRIPT} is missing (isc-dhcp-client; sudo scripts/test installs it)"
    );
    let hooks_log = lab.dir.join("exit-hook.log");
    netns_dhcp_dir(lab, &hooks_log);
    let daemon = start_with_dhclient_script(lab, "dhcpc", &[]);
    let addr = wait_address(lab, CLIENT_IF, POOL);
    daemon.wait_log("bound", Duration::from_secs(10));
    assert!(
        wait_for(Duration::from_secs(5), || fs::read_to_string(&hooks_log)
            .unwrap_or_default()
            .contains(&format!("BOUND {addr}"))),
        "the exit hook did not run: {:?}\n{}",
        fs::read_to_string(&hooks_log),
        daemon.log_text()
    );
    (daemon, addr, hooks_log)
}

#[test]
fn debians_dhclient_script_configures_the_interface_as_under_dhclient() {
    let script = DHCLIENT_SCRIPT;
    require_program(
        "dhclient",
        "install isc-dhcp-client (sudo scripts/test does): its /sbin/dhclient-script is run",
    );
    let host_resolv = fs::read("/etc/resolv.conf").unwrap_or_default();
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let ns_resolv = ns_resolv(&lab);
    let (daemon, addr, hooks_log) = bound_through_dhclient_script(&lab);
    assert!(
        fs::read_to_string(&hooks_log)
            .unwrap_or_default()
            .contains(&format!("BOUND {addr} lab.test")),
        "{:?}",
        fs::read_to_string(&hooks_log)
    );
    let under_dhcpc = (
        addresses(&lab, CLIENT_IF),
        default_gateways(&lab),
        fs::read_to_string(&ns_resolv).unwrap(),
    );
    assert_eq!(under_dhcpc.0, vec![addr]);
    assert_eq!(under_dhcpc.1, vec![Ipv4Addr::new(198, 51, 100, 1)]);
    assert!(
        under_dhcpc.2.contains("nameserver 198.51.100.1"),
        "{}",
        under_dhcpc.2
    );
    assert!(
        under_dhcpc.2.contains("search lab.test. other.test."),
        "{}",
        under_dhcpc.2
    );
    // dhcpc wrote no resolv.conf of its own: the script did.
    assert!(!lab.dir.join("resolv.conf").exists());

    // Release: the script takes the address away.
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || addresses(
        &lab, CLIENT_IF
    )
    .is_empty()));
    drop(daemon);

    // The same script under ISC dhclient, in the same lab: the same interface state.
    let leases = lab.dir.join("dhclient.leases");
    let pid = lab.dir.join("dhclient.pid");
    let mut cmd = lab.client_command("unshare");
    cmd.args(["--uts", "dhclient", "-1", "-v", "-sf", script, "-lf"])
        .arg(&leases)
        .arg("-pf")
        .arg(&pid)
        .arg(CLIENT_IF);
    let out = run_with_deadline(cmd, Duration::from_secs(30));
    assert_exit(&out, 0);
    let under_dhclient = (
        addresses(&lab, CLIENT_IF),
        default_gateways(&lab),
        fs::read_to_string(&ns_resolv).unwrap(),
    );
    if let Ok(p) = fs::read_to_string(&pid) {
        let _ = std::process::Command::new("kill").arg(p.trim()).status();
    }
    assert_eq!(under_dhclient.1, under_dhcpc.1);
    assert_eq!(under_dhclient.0.len(), 1);
    // dnsmasq may hand dhclient another address (it sends another client id); the rest of
    // resolv.conf is the same.
    assert_eq!(
        under_dhclient
            .2
            .replace(&under_dhclient.0[0].to_string(), "A"),
        under_dhcpc.2.replace(&addr.to_string(), "A")
    );
    assert_eq!(
        fs::read("/etc/resolv.conf").unwrap_or_default(),
        host_resolv,
        "the host's resolv.conf changed"
    );
}

#[test]
fn a_script_that_refuses_the_lease_makes_dhcpc_decline_it() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(&[DNSMASQ_LAB, &["--log-dhcp"]].concat());
    let path = lab.dir.join("refuse.sh");
    fs::write(
        &path,
        "#!/bin/sh\ncase \"$reason\" in BOUND|REBOOT) exit 1;; esac\nexit 0\n",
    )
    .unwrap();
    sh("chmod", &["755", &path.display().to_string()]);
    let p = path.display().to_string();
    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &["--arp-probe", "0", "--script", &p, "--script-configures"],
        &[CLIENT_IF],
    );
    daemon.wait_log("the hook script refused", Duration::from_secs(10));
    assert!(
        wait_for(Duration::from_secs(5), || lab
            .server_logs()
            .contains("DHCPDECLINE")),
        "{}",
        lab.server_logs()
    );
    // The script was to configure the address; dhcpc did not.
    assert!(addresses(&lab, CLIENT_IF).is_empty());
}

#[test]
fn a_configuring_script_that_hangs_is_killed_after_its_timeout() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let path = lab.dir.join("slow.sh");
    fs::write(
        &path,
        "#!/bin/sh\n[ \"$reason\" = PREINIT ] && exec sleep 1000\nexit 0\n",
    )
    .unwrap();
    sh("chmod", &["755", &path.display().to_string()]);
    let p = path.display().to_string();
    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &[
            "--arp-probe",
            "0",
            "--script",
            &p,
            "--script-configures",
            "--script-timeout",
            "1",
        ],
        &[CLIENT_IF],
    );
    daemon.wait_log(
        "(PREINIT) did not finish within 1 s: killed",
        Duration::from_secs(5),
    );
    daemon.wait_log("bound", Duration::from_secs(5));
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn a_script_that_hangs_is_killed_and_the_daemon_goes_on() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let path = lab.dir.join("hang.sh");
    fs::write(&path, "#!/bin/sh\nexec sleep 1000\n").unwrap();
    sh("chmod", &["755", &path.display().to_string()]);
    let p = path.display().to_string();
    // Notified only: the daemon does not wait for it at all.
    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &["--arp-probe", "0", "--script", &p],
        &[CLIENT_IF],
    );
    wait_address(&lab, CLIENT_IF, POOL);
    daemon.wait_log("bound", Duration::from_secs(5));
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn a_hostile_servers_names_reach_neither_a_shell_nor_resolv_conf() {
    let mut lab = Lab::new();
    let marker = lab.dir.join("pwned");
    let m = marker.display().to_string();
    let evil_domain = format!("lab.test$(touch {m})");
    let evil_search = format!("`touch {m}`.test");
    let domain_opt = format!("--dhcp-option=option:domain-name,{evil_domain}");
    let search_opt = format!("--dhcp-option=option:domain-search,{evil_search},ok.test");
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,2m",
        "--dhcp-option=option:router,198.51.100.1",
        "--dhcp-option=option:dns-server,198.51.100.1",
        &domain_opt,
        &search_opt,
    ]);
    let ns_resolv = ns_resolv(&lab);
    let (daemon, _, _) = bound_through_dhclient_script(&lab);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!marker.exists(), "a server's name ran a command");
    let resolv = fs::read_to_string(&ns_resolv).unwrap();
    assert!(!resolv.contains("touch"), "{resolv}");
    // Refused as names already when the reply was read (and withheld from the script's
    // environment, should one get that far: see names_that_are_not_names_are_withheld).
    let log = daemon.log_text();
    assert!(
        log.contains("option 15 from 198.51.100.1 left out"),
        "{log}"
    );
    assert!(log.contains("is not a plausible domain name"), "{log}");
}
