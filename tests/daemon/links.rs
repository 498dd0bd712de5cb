//! SIGTERM (the lease kept, unless --release-on-exit) and link flaps while bound.

use super::common::*;
use super::kea::*;
use std::time::Duration;

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
