//! What the machine does to dhcpc, in dnsmasq labs: saved lease files that are truncated,
//! garbage, huge or a directory (ignored with a warning, a fresh DISCOVER), a read-only or a
//! full lease directory (the lease kept in memory, the error said once, the file written once
//! it can be), resolv.conf that is a directory, a control-socket client that never writes or
//! sends garbage (everyone else is still served), SIGKILL at any moment of a lease's life
//! followed by a restart, and a second daemon started for an interface one already serves
//! (refused, the first left alone; a socket left by a killed one does not count).

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,2m",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1",
];

fn oneshot(lab: &Lab, extra: &[&str]) -> std::process::Output {
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "-v", "-t", "10", "--arp-probe", "0"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(CLIENT_IF.to_string());
    let out = lab.run_dhcpc(&args);
    assert_no_panic(&out);
    out
}

#[test]
fn a_bad_saved_lease_is_ignored_with_a_warning_and_a_new_one_taken() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let lease = lab.dir.join("lease/vc.lease");
    fs::create_dir_all(lab.dir.join("lease")).unwrap();
    // A good lease first, to cut in half.
    let out = oneshot(&lab, &[]);
    assert_exit(&out, 0);
    let good = fs::read_to_string(&lease).unwrap();
    let mut garbage = vec![0u8; 4096];
    let mut rng = fastrand::Rng::with_seed(12);
    rng.fill(&mut garbage);
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "truncated",
            Box::new(|| fs::write(&lease, &good[..good.len() / 2]).unwrap()),
            "missing",
        ),
        (
            "garbage",
            Box::new(|| fs::write(&lease, &garbage).unwrap()),
            "not text",
        ),
        (
            "huge",
            Box::new(|| fs::write(&lease, vec![b'a'; 10 << 20]).unwrap()),
            "larger than 64 KiB",
        ),
        (
            "a directory",
            Box::new(|| {
                fs::remove_file(&lease).unwrap();
                fs::create_dir(&lease).unwrap();
            }),
            "not a regular file",
        ),
    ];
    for (what, make, why) in cases {
        if lease.is_dir() {
            fs::remove_dir(&lease).unwrap();
        }
        make();
        let discovers = dnsmasq_count(&lab, "DHCPDISCOVER");
        let out = oneshot(&lab, &[]);
        assert_exit(&out, 0);
        // The warning, naming why.
        let err = stderr(&out);
        assert!(
            err.contains("ignoring") && err.contains(why) && err.contains("asking for a new lease"),
            "{what}: {}",
            describe(&out)
        );
        assert!(
            wait_for(Duration::from_secs(5), || dnsmasq_count(
                &lab,
                "DHCPDISCOVER"
            ) > discovers),
            "{what}: no fresh DISCOVER\n{err}"
        );
    }
}

#[test]
fn a_read_only_lease_directory_keeps_the_lease_in_memory_and_writes_it_later() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let dir = lab.dir.join("lease");
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    // The lease directory read-only for dhcpc alone: a private mount namespace.
    let script =
        format!("mount --bind {d} {d} && mount -o remount,bind,ro {d} && exec \"$0\" \"$@\"");
    let daemon = start_with_own_mounts(&lab, &script);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    daemon.wait_log("the lease is kept in memory", Duration::from_secs(5));
    assert!(!dir.join("vc.lease").exists());
    // Renewals go on; the failure is said once, not at every write.
    renew_and_wait(&lab);
    assert_eq!(daemon.log_text().matches("kept in memory").count(), 1);
    // The disk comes back: the next change writes the file.
    let pid = daemon.child.id().to_string();
    sh(
        "nsenter",
        &["-t", &pid, "-m", "mount", "-o", "remount,bind,rw", &d],
    );
    let out = dhcpc_run(&lab, &["-n", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        wait_for(Duration::from_secs(5), || fs::read_to_string(
            dir.join("vc.lease")
        )
        .is_ok_and(|t| t.contains(&addr.to_string()))),
        "{}",
        daemon.log_text()
    );
    daemon.wait_log("is written again", Duration::from_secs(5));
}

/// Asks the daemon to renew (`-n`) and waits until dnsmasq has acknowledged it and the daemon
/// is BOUND again: the renewal was answered and taken.
fn renew_and_wait(lab: &Lab) {
    let acks = dnsmasq_count(lab, "DHCPACK");
    let out = dhcpc_run(lab, &["-n", CLIENT_IF]);
    assert_exit(&out, 0);
    wait_status(lab, CLIENT_IF, Duration::from_secs(5), "renewed", |s| {
        s["state"] == "BOUND" && dnsmasq_count(lab, "DHCPACK") > acks
    });
}

/// `dhcpc --arp-probe 0 vc` in a private mount namespace of its own, after `script` (a shell
/// line that ends by exec'ing its arguments) has mounted what the test needs there.
fn start_with_own_mounts(lab: &Lab, script: &str) -> Daemon {
    let wrapper = in_own_mount_ns(script);
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    Daemon::start_as(lab, "dhcpc", &wrapper, &["--arp-probe", "0"], &[CLIENT_IF])
}

/// The names in a directory, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_full_lease_directory_keeps_the_lease_in_memory_and_writes_it_when_space_returns() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let dir = lab.dir.join("lease");
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    // The lease directory a 16 KiB file system, filled up, for dhcpc alone: mounted in a
    // private mount namespace (over the lab's own directory), it goes with the daemon.
    let script = format!(
        "mount -t tmpfs -o size=16k,mode=0755 dhcpc-test-full {d} || exit 1; \
         head -c 1048576 /dev/zero > {d}/filler 2>/dev/null; exec \"$0\" \"$@\""
    );
    let daemon = start_with_own_mounts(&lab, &script);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    daemon.wait_log(
        &format!(
            "saving the lease to {d}/vc.lease: No space left on device; the \
             lease is kept in memory"
        ),
        Duration::from_secs(5),
    );
    // The directory as dhcpc sees it, from outside its mount namespace.
    let inside = PathBuf::from(format!("/proc/{}/root{d}", daemon.child.id()));
    let lease = inside.join("vc.lease");
    // Nothing half written is left beside the filler, and nothing shows outside.
    assert_eq!(names_in(&inside), ["filler"], "{}", daemon.log_text());
    assert!(
        names_in(&dir).is_empty(),
        "the tmpfs shows outside the daemon"
    );
    // Renewals go on; the failure is said once, not at every write.
    renew_and_wait(&lab);
    assert_eq!(daemon.log_text().matches("kept in memory").count(), 1);
    assert!(!lease.exists());
    // Space comes back: the file is written without waiting for the lease's next change.
    fs::remove_file(inside.join("filler")).unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || fs::read_to_string(&lease)
            .is_ok_and(|t| t.contains(&format!("address={addr}")))),
        "{}",
        daemon.log_text()
    );
    daemon.wait_log("is written again", Duration::from_secs(5));
    assert_eq!(names_in(&inside), ["vc.lease"]);
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn a_resolv_conf_that_is_a_directory_costs_only_dns() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let resolv = lab.dir.join("resolv-dir");
    fs::create_dir_all(&resolv).unwrap();
    let r = resolv.display().to_string();
    let mut args = lab.dhcpc_dir_args();
    let at = args.iter().position(|a| a == "--resolv-conf").unwrap();
    args[at + 1] = r.clone();
    args.extend(["-1", "-v", "-t", "10", "--arp-probe", "0", CLIENT_IF].map(String::from));
    let out = lab.run_dhcpc(&args);
    assert_no_panic(&out);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(&format!("writing {r}")),
        "{}",
        describe(&out)
    );
    assert!(resolv.is_dir());
    assert!(in_pool(addresses(&lab, CLIENT_IF)[0], POOL));
}

#[test]
fn control_socket_clients_that_stall_or_babble_do_not_stop_the_daemon() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let sock = lab.dir.join("run/vc.sock");
    // Twenty that connect and never write, one that sends garbage, one a line too long.
    let silent: Vec<UnixStream> = (0..20)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let mut babble = UnixStream::connect(&sock).unwrap();
    babble.write_all(b"\x00\xffrm -rf /\n").unwrap();
    let mut answer = String::new();
    babble.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("error unknown request"), "{answer:?}");
    let mut long = UnixStream::connect(&sock).unwrap();
    long.write_all(&[b'x'; 100_000]).unwrap_or(());
    // Everyone else is still served, at once.
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
    // The silent ones are dropped after a few seconds (5 s): each sees its end.
    let closed = |mut s: &UnixStream| {
        let mut buf = [0u8; 1];
        matches!(s.read(&mut buf), Ok(0))
    };
    for s in &silent {
        s.set_nonblocking(true).unwrap();
    }
    assert!(
        wait_for(Duration::from_secs(8), || silent.iter().all(closed)),
        "a stalled client was kept: {} of {} still open",
        silent.iter().filter(|s| !closed(s)).count(),
        silent.len()
    );
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn sigkill_at_any_moment_and_a_restart_give_a_lease_again() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    // Killed while selecting, requesting, just bound, and bound for a while.
    for (i, after_ms) in [5u64, 30, 150, 1500].into_iter().enumerate() {
        let mut d = Daemon::start(&lab, &format!("dhcpc-{i}"), &[], &[CLIENT_IF]);
        // Not a wait for anything: the moment of the kill is the test's input.
        std::thread::sleep(Duration::from_millis(after_ms));
        d.kill();
        // A stale control socket and pid file may be left: the next start copes.
        let next = Daemon::start(&lab, &format!("dhcpc-{i}-again"), &[], &[CLIENT_IF]);
        let addr = wait_address(&lab, CLIENT_IF, POOL);
        wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(10));
        assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
        assert_eq!(
            addresses(&lab, CLIENT_IF),
            vec![addr],
            "after {after_ms} ms"
        );
        drop(next);
    }
}

/// Lines of dnsmasq's log that contain `needle`.
fn dnsmasq_count(lab: &Lab, needle: &str) -> usize {
    fs::read_to_string(lab.dnsmasq_log())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// The dhcpc processes in the lab's client namespace.
fn dhcpc_pids(lab: &Lab) -> Vec<String> {
    sh("ip", &["netns", "pids", &lab.client_ns])
        .split_whitespace()
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|n| n.trim() == "dhcpc")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn a_second_daemon_for_a_served_interface_is_refused_and_the_first_left_alone() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    // A second link, which no daemon serves (and no server answers).
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, "vs2", &c, "vc2");
    let mut first = Daemon::start(&lab, "dhcpc-1", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let run = lab.dir.join("run");
    let sock = run.join("vc.sock");
    let pid_file = || fs::read_to_string(run.join("vc.pid")).unwrap();
    let pid = first.child.id();
    assert_eq!(pid_file().trim(), pid.to_string());
    let refusal = format!(
        "dhcpc: vc: already served by dhcpc (pid {pid}, {}); use `dhcpc --run-dir {r} -n vc` \
         to renew, `dhcpc --run-dir {r} -x vc` to stop it",
        sock.display(),
        r = run.display()
    );
    let requests = dnsmasq_count(&lab, "DHCPREQUEST");
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    // Backgrounding, in the foreground, oneshot: each refused at once, status 1.
    for mode in [&[][..], &["-d"], &["-1"]] {
        let mut args = mode.to_vec();
        args.push(CLIENT_IF);
        let out = dhcpc_run(&lab, &args);
        assert_exit(&out, 1);
        assert_stderr_contains(&out, &refusal);
    }
    // With an interface no daemon serves: nothing is started, and the message says so.
    let out = dhcpc_run(&lab, &["-d", "vc2", CLIENT_IF]);
    assert_exit(&out, 1);
    assert_stderr_contains(&out, &refusal);
    assert_stderr_contains(
        &out,
        "vc2 not started either: name only the interfaces no dhcpc serves",
    );
    assert!(!run.join("vc2.sock").exists());
    assert_eq!(dhcpc_pids(&lab), [pid.to_string()]);
    // The first daemon is untouched: nothing asked of the server, nothing done, same files.
    // Explicit commands still reach it: a renewal asked for now is, in dnsmasq's log, after
    // anything the refused starts made the daemon send, so it must be the only new REQUEST.
    let acks = dnsmasq_count(&lab, "DHCPACK");
    let out = dhcpc_run(&lab, &["-n", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("asked the daemon to renew"),
        "{}",
        describe(&out)
    );
    wait_status(&lab, CLIENT_IF, Duration::from_secs(5), "renewed", |s| {
        s["state"] == "BOUND" && dnsmasq_count(&lab, "DHCPACK") > acks
    });
    assert_eq!(
        dnsmasq_count(&lab, "DHCPREQUEST"),
        requests + 1,
        "the refused starts reached the daemon"
    );
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the address was removed"
    );
    assert!(
        matches!(first.child.try_wait(), Ok(None)),
        "the daemon stopped"
    );
    assert_eq!(pid_file().trim(), pid.to_string());
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");

    // Killed outright, it leaves its socket: nobody listens there, and a start goes ahead.
    first.kill();
    assert!(sock.exists(), "SIGKILL left no socket to test with");
    let out = dhcpc_run(&lab, &["--status", CLIENT_IF]);
    assert!(stdout(&out).contains("NOT RUNNING"), "{}", describe(&out));
    let second = Daemon::start(&lab, "dhcpc-2", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(10));
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
    assert_eq!(pid_file().trim(), second.child.id().to_string());
    assert!(!second.log_text().contains("already served"));
    let out = dhcpc_run(&lab, &["-x", CLIENT_IF]);
    assert_exit(&out, 0);
}

#[test]
fn of_two_daemons_started_together_for_one_interface_one_serves_it() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let mut a = Daemon::start(&lab, "dhcpc-a", &["--arp-probe", "0"], &[CLIENT_IF]);
    let mut b = Daemon::start(&lab, "dhcpc-b", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_address(&lab, CLIENT_IF, POOL);
    // The one refused, before or after its start (the other took the name first), exits.
    let exited = wait_for(Duration::from_secs(15), || {
        matches!(a.child.try_wait(), Ok(Some(_))) || matches!(b.child.try_wait(), Ok(Some(_)))
    });
    assert!(exited, "both run\n{}\n{}", a.log_text(), b.log_text());
    let (gone, kept) = match a.child.try_wait() {
        Ok(Some(_)) => (&mut a, &mut b),
        _ => (&mut b, &mut a),
    };
    let status = gone.child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{}", gone.log_text());
    let refusal = format!("vc: already served by dhcpc (pid {}, ", kept.child.id());
    assert!(gone.log_text().contains(&refusal), "{}", gone.log_text());
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(10));
    let pid = fs::read_to_string(lab.dir.join("run/vc.pid")).unwrap();
    assert_eq!(pid.trim(), kept.child.id().to_string());
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
    assert_eq!(dhcpc_pids(&lab), [kept.child.id().to_string()]);
}
