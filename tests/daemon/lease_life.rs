//! A lease's life against Kea: renewal at T1, rebinding and expiry when the server stops, a
//! NAK after it comes back with another pool, INIT-REBOOT after SIGKILL, release.

use super::common::*;
use super::kea::*;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

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
