//! One client per interface, and a parent that is told to stop stops its child (issue 18,
//! items 10 and 11), in namespace labs with dnsmasq.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;

/// dhcpc's options with the lab's files ([`Lab::dhcpc_dir_args`]), but the run directory
/// `run` in the lab's dir.
fn args_with_run_dir(lab: &Lab, run: &str) -> Vec<String> {
    let mut args = lab.dhcpc_dir_args();
    let at = args.iter().position(|a| a == "--run-dir").unwrap() + 1;
    args[at] = lab.dir.join(run).display().to_string();
    args
}

fn client_addresses(lab: &Lab) -> Vec<String> {
    lab.client_addrs()
        .into_iter()
        .map(|a| a.local.to_string())
        .collect()
}

#[test]
fn a_second_client_with_another_run_dir_is_refused() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(&["--dhcp-range=198.51.100.50,198.51.100.59,255.255.255.0,1h"]);
    let mut first = lab.client_command(dhcpc_bin());
    first
        .args(args_with_run_dir(&lab, "run-a"))
        .args(["-d", CLIENT_IF])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut first = first.spawn().expect("starting the first dhcpc");
    let bound = wait_for(Duration::from_secs(20), || {
        client_addresses(&lab).len() == 1
    });
    let second = {
        let mut cmd = lab.client_command(dhcpc_bin());
        cmd.args(args_with_run_dir(&lab, "run-b"))
            .args(["-1", "-t", "5", CLIENT_IF]);
        run_with_deadline(cmd, Duration::from_secs(30))
    };
    let addrs = client_addresses(&lab);
    let _ = first.kill();
    let _ = first.wait();
    assert!(bound, "the first dhcpc did not bind");
    assert_exit(&second, 1);
    // Named with the other daemon's run directory, so that the commands it gives reach it.
    let run_a = lab.dir.join("run-a");
    assert_stderr_contains(
        &second,
        &format!(
            "{CLIENT_IF}: already served by dhcpc (pid {}, {}/{CLIENT_IF}.sock); use `dhcpc \
             --run-dir {} -n {CLIENT_IF}` to renew",
            first.id(),
            run_a.display(),
            run_a.display()
        ),
    );
    assert_eq!(stderr(&second).lines().count(), 1, "{}", describe(&second));
    assert_eq!(addrs.len(), 1, "two clients on one interface: {addrs:?}");
}

#[test]
fn labs_side_by_side_each_claim_their_own_interface() {
    // The claim is per network namespace: two labs' clients on interfaces of the same name
    // and index do not see each other's.
    let mut a = Lab::new();
    let mut b = Lab::new();
    for lab in [&mut a, &mut b] {
        lab.start_dnsmasq(&["--dhcp-range=198.51.100.50,198.51.100.59,255.255.255.0,1h"]);
    }
    let run = |lab: &Lab| {
        let mut cmd = lab.client_command(dhcpc_bin());
        cmd.args(lab.dhcpc_dir_args())
            .args(["-1", "--arp-probe", "0", "-t", "20", CLIENT_IF]);
        run_with_deadline(cmd, Duration::from_secs(40))
    };
    let (out_a, out_b) = std::thread::scope(|s| {
        let ta = s.spawn(|| run(&a));
        let tb = s.spawn(|| run(&b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_exit(&out_a, 0);
    assert_exit(&out_b, 0);
}

/// Starts `dhcpc IFACE` (no -d: the parent waits for the daemon's first lease) in a lab with
/// no server, waits until the daemon runs, then sends `signal` to the parent: the parent
/// stops the daemon, says so and exits with 128 + the signal's number.
fn parent_told_to_stop(signal: &str, status: i32) {
    let lab = Lab::new();
    let mut cmd = lab.client_command(dhcpc_bin());
    cmd.args(lab.dhcpc_dir_args())
        .args(["-t", "60", CLIENT_IF])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let parent = cmd.spawn().expect("starting dhcpc");
    let pid_file = lab.dir.join("run").join(format!("{CLIENT_IF}.pid"));
    let daemon_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
    };
    let started = wait_for(Duration::from_secs(10), || daemon_pid().is_some());
    let child = daemon_pid();
    sh("kill", &[&format!("-{signal}"), &parent.id().to_string()]);
    let out = parent.wait_with_output().expect("waiting for dhcpc");
    assert!(started, "the daemon never wrote its pid file");
    let child = child.unwrap();
    assert_eq!(out.status.code(), Some(status), "{}", describe(&out));
    assert_stderr_contains(
        &out,
        &format!("stopping the daemon (pid {child}) before it has every lease"),
    );
    let alive = std::path::Path::new(&format!("/proc/{child}")).exists();
    assert!(
        !alive,
        "the daemon (pid {child}) goes on after its parent stopped"
    );
}

#[test]
fn sigterm_to_the_waiting_parent_stops_the_daemon() {
    parent_told_to_stop("TERM", 143);
}

#[test]
fn ctrl_c_on_the_waiting_parent_stops_the_daemon() {
    parent_told_to_stop("INT", 130);
}
