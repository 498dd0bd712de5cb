//! Where the daemon's log goes: natively to the journal (as systemd runs it, and once detached
//! when journald is there), to syslog (facility daemon) when only /dev/log is there, and on to
//! nowhere when neither is (its caller's descriptors all closed); and what `-n`, `-r` and `-x` say they did.
//!
//! journald and a syslog daemon are stood in for by datagram sockets the test binds in the
//! lab's dir and bind-mounts over /run/systemd/journal/socket and /dev/log in a private mount
//! namespace (with a tmpfs of its own on /run and on /dev, so that the host's journal and
//! syslog are hidden and nothing on the host changes).
//!
//! Needs root, dnsmasq and unshare(1) (`sudo scripts/test` installs what is missing).

mod common;

use common::{
    describe, dhcpc_bin, dhcpc_run, in_own_mount_ns, require_program, stdout, wait_address,
    wait_for, Daemon, Lab, CLIENT_IF,
};
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::net::Ipv4Addr;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1",
];

fn lab() -> Lab {
    require_program(
        "unshare",
        "install util-linux (the tests run dhcpc in a private mount namespace)",
    );
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    lab
}

/// `unshare ... sh -c SCRIPT sh`: runs the program after it in a private mount namespace
/// whose /run and /dev are tmpfs of its own (with /dev/null and the random devices bound in):
/// journald's socket is `journal` there if given, /dev/log is `syslog` if given, and there
/// is neither otherwise.
fn private_mounts(journal: Option<&Path>, syslog: Option<&Path>) -> Vec<String> {
    let mut script = String::from(
        "set -e; mount -t tmpfs tmpfs /run; mkdir /run/dev; mount --bind /dev /run/dev; \
         mount -t tmpfs tmpfs /dev; \
         for n in null zero random urandom; do \
         touch /dev/$n; mount --bind /run/dev/$n /dev/$n; done; ",
    );
    if let Some(sock) = journal {
        script.push_str(&format!(
            "mkdir -p /run/systemd/journal; touch /run/systemd/journal/socket; \
             mount --bind '{}' /run/systemd/journal/socket; ",
            sock.display()
        ));
    }
    if let Some(sock) = syslog {
        script.push_str(&format!(
            "touch /dev/log; mount --bind '{}' /dev/log; ",
            sock.display()
        ));
    }
    script.push_str("exec \"$@\"");
    let mut argv = in_own_mount_ns(&script);
    argv.push("sh".to_string());
    argv
}

/// A datagram socket in the lab's dir standing in for journald or a syslog daemon.
struct Listener {
    sock: UnixDatagram,
    path: PathBuf,
    /// Every datagram so far (memfd payloads read out), empty ones left out.
    seen: Vec<Vec<u8>>,
}

impl Listener {
    fn new(lab: &Lab, name: &str) -> Listener {
        let path = lab.dir.join(format!("{name}.sock"));
        let sock = UnixDatagram::bind(&path).expect("binding a log socket");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Listener {
            sock,
            path,
            seen: Vec::new(),
        }
    }

    /// Reads what has arrived, for at most `limit`, until `done` holds for what was seen.
    fn read_until(&mut self, limit: Duration, mut done: impl FnMut(&[Vec<u8>]) -> bool) -> bool {
        let start = Instant::now();
        loop {
            if done(&self.seen) {
                return true;
            }
            if start.elapsed() > limit {
                return false;
            }
            if let Some(d) = self.recv() {
                if !d.is_empty() {
                    self.seen.push(d);
                }
            }
        }
    }

    /// One datagram, or its memfd's content when it carries one (as tracing-journald sends
    /// payloads too large for a datagram, https://systemd.io/JOURNAL_NATIVE_PROTOCOL/).
    fn recv(&self) -> Option<Vec<u8>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
        use std::os::fd::AsRawFd;
        let mut buf = vec![0u8; 256 * 1024];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let (len, fd) = {
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = recvmsg::<UnixAddr>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::empty(),
            )
            .ok()?;
            let fd = msg.cmsgs().ok()?.find_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
                _ => None,
            });
            (msg.bytes, fd)
        };
        if let Some(fd) = fd {
            // SAFETY: the fd was just received and is owned by nothing else.
            let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
            let mut data = Vec::new();
            file.rewind().ok()?;
            file.read_to_end(&mut data).ok()?;
            return Some(data);
        }
        buf.truncate(len);
        Some(buf)
    }
}

/// One journal entry in the native protocol: `KEY=VALUE` lines, or `KEY`, a little-endian
/// 64-bit length and that many bytes of value, and a newline.
fn journal_entry(data: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    let mut rest = data;
    while !rest.is_empty() {
        let nl = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = &rest[..nl];
        if let Some(eq) = line.iter().position(|&b| b == b'=') {
            fields.insert(
                String::from_utf8_lossy(&line[..eq]).into_owned(),
                String::from_utf8_lossy(&line[eq + 1..]).into_owned(),
            );
            rest = &rest[(nl + 1).min(rest.len())..];
        } else {
            let key = String::from_utf8_lossy(line).into_owned();
            let after = &rest[nl + 1..];
            assert!(after.len() >= 8, "truncated journal field {key}: {data:?}");
            let len = u64::from_le_bytes(after[..8].try_into().unwrap()) as usize;
            assert!(after.len() >= 8 + len, "truncated journal field {key}");
            let value = &after[8..8 + len];
            fields.insert(key, String::from_utf8_lossy(value).into_owned());
            assert_eq!(
                after.get(8 + len),
                Some(&b'\n'),
                "no newline after a binary field"
            );
            rest = &after[9 + len..];
        }
    }
    fields
}

fn entries(seen: &[Vec<u8>]) -> Vec<HashMap<String, String>> {
    seen.iter().map(|d| journal_entry(d)).collect()
}

fn message(e: &HashMap<String, String>) -> &str {
    e.get("MESSAGE").map(String::as_str).unwrap_or("")
}

/// Rust's Debug form in a log line (`Some(Discover)`, `Ipv4Addr { .. }`, a quoted string).
fn looks_like_debug(text: &str) -> bool {
    ["Some(", "None", "Ok(", "Err(", " { ", "\\\""]
        .iter()
        .any(|d| text.contains(d))
}

fn assert_clean(lines: &[String]) {
    for l in lines {
        assert!(!looks_like_debug(l), "Debug formatting in a log line: {l}");
        assert!(
            !l.contains(&format!("{CLIENT_IF}: {CLIENT_IF}:")),
            "interface named twice: {l}"
        );
    }
}

/// `dhcpc -v IFACE` (it goes to the background) through `prefix`, stderr to `<dir>/NAME.log`;
/// returns its stdout once the starting process has exited.
fn start_detached(lab: &Lab, name: &str, prefix: &[String]) -> (String, PathBuf) {
    let (out, log) = start_detached_with(lab, name, prefix, &[]);
    assert!(out.contains(CLIENT_IF), "no lease printed: {out:?}");
    (out, log)
}

/// [`start_detached`] with more options; the start may report no lease (status 1).
fn start_detached_with(
    lab: &Lab,
    name: &str,
    prefix: &[String],
    extra: &[&str],
) -> (String, PathBuf) {
    let log = lab.dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).unwrap();
    let mut cmd = lab.client_command(&prefix[0]);
    cmd.args(&prefix[1..])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-v", "--arp-probe", "0"])
        .args(extra)
        .arg(CLIENT_IF)
        .env_remove("DHCPC_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(file);
    let mut child = cmd.spawn().expect("starting dhcpc");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let exited = wait_for(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    assert!(
        exited && matches!(status.code(), Some(0 | 1)),
        "dhcpc did not start in the background ({status})\n--- stdout ---\n{out}--- stderr ---\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    (out, log)
}

fn daemon_pid(lab: &Lab) -> u32 {
    let path = lab.dir.join("run").join(format!("{CLIENT_IF}.pid"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .unwrap()
}

fn renew(lab: &Lab) {
    let out = dhcpc_run(lab, &["-n", CLIENT_IF]);
    assert!(out.status.success(), "{}", describe(&out));
}

fn stop(lab: &Lab) {
    let out = dhcpc_run(lab, &["-x", CLIENT_IF]);
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn the_units_daemon_logs_to_the_journal_with_its_interface_and_priority() {
    let lab = lab();
    let mut journal = Listener::new(&lab, "journal");
    // As systemd runs the unit: `dhcpc -d`, stderr a stream whose device and inode
    // JOURNAL_STREAM names (here a file; Daemon::start reopens it, same inode).
    let log = lab.dir.join("dhcpc.log");
    std::fs::File::create(&log).unwrap();
    let meta = std::fs::metadata(&log).unwrap();
    let mut prefix = vec![
        "env".to_string(),
        format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino()),
    ];
    prefix.extend(private_mounts(Some(&journal.path), None));
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let daemon = Daemon::start_as(&lab, "dhcpc", &prefix, &["--arp-probe", "0"], &[CLIENT_IF]);
    let bound = |seen: &[Vec<u8>]| {
        entries(seen)
            .iter()
            .any(|e| message(e).starts_with(&format!("{CLIENT_IF}: bound ")))
    };
    assert!(
        journal.read_until(Duration::from_secs(15), bound),
        "no bound line in the journal: {:#?}\n--- stderr ---\n{}",
        entries(&journal.seen),
        daemon.log_text()
    );
    let all = entries(&journal.seen);
    let line = all
        .iter()
        .find(|e| message(e).starts_with(&format!("{CLIENT_IF}: bound ")))
        .unwrap();
    assert_eq!(
        line.get("INTERFACE").map(String::as_str),
        Some(CLIENT_IF),
        "{line:#?}"
    );
    assert_eq!(
        line.get("PRIORITY").map(String::as_str),
        Some("6"),
        "{line:#?}"
    );
    assert_eq!(
        line.get("SYSLOG_IDENTIFIER").map(String::as_str),
        Some("dhcpc"),
        "{line:#?}"
    );
    assert_eq!(
        line.get("SYSLOG_FACILITY").map(String::as_str),
        Some("3"),
        "{line:#?}"
    );
    // -v: the packets sent are debug lines, priority 7.
    let sent = all
        .iter()
        .find(|e| message(e).contains("sent DISCOVER"))
        .unwrap_or_else(|| panic!("no DISCOVER line: {all:#?}"));
    assert_eq!(
        sent.get("PRIORITY").map(String::as_str),
        Some("7"),
        "{sent:#?}"
    );
    let messages: Vec<String> = all.iter().map(|e| message(e).to_string()).collect();
    assert_clean(&messages);
    // Each line once: nothing went to stderr (which the journal would have taken too).
    assert_eq!(daemon.log_text(), "", "logged to stderr as well");
}

#[test]
fn in_the_foreground_with_stderr_elsewhere_the_log_stays_on_stderr() {
    let lab = lab();
    let mut journal = Listener::new(&lab, "journal");
    let prefix = private_mounts(Some(&journal.path), None);
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let daemon = Daemon::start_as(&lab, "dhcpc", &prefix, &["--arp-probe", "0"], &[CLIENT_IF]);
    daemon.wait_log(
        &format!("dhcpc: {CLIENT_IF}: bound "),
        Duration::from_secs(15),
    );
    journal.read_until(Duration::from_millis(300), |_| false);
    assert!(
        journal.seen.is_empty(),
        "a foreground daemon whose stderr is not the journal logged to it: {:#?}",
        entries(&journal.seen)
    );
    let lines: Vec<String> = daemon.log_text().lines().map(String::from).collect();
    assert_clean(&lines);
}

#[test]
fn a_detached_daemon_logs_to_the_journal_rather_than_syslog() {
    let lab = lab();
    let mut journal = Listener::new(&lab, "journal");
    let mut syslog = Listener::new(&lab, "syslog");
    let prefix = private_mounts(Some(&journal.path), Some(&syslog.path));
    let (out, _log) = start_detached(&lab, "dhcpc", &prefix);
    let addr: Ipv4Addr = wait_address(&lab, CLIENT_IF, POOL);
    assert!(out.contains(&addr.to_string()), "{out}");
    renew(&lab);
    let renewed = |seen: &[Vec<u8>]| {
        entries(seen)
            .iter()
            .any(|e| message(e).starts_with(&format!("{CLIENT_IF}: renewed {addr}")))
    };
    assert!(
        journal.read_until(Duration::from_secs(10), renewed),
        "no renewed line in the journal: {:#?}",
        entries(&journal.seen)
    );
    let all = entries(&journal.seen);
    let line = all.iter().find(|e| message(e).contains("renewed")).unwrap();
    assert_eq!(
        line.get("INTERFACE").map(String::as_str),
        Some(CLIENT_IF),
        "{line:#?}"
    );
    assert_eq!(
        line.get("PRIORITY").map(String::as_str),
        Some("6"),
        "{line:#?}"
    );
    let messages: Vec<String> = all.iter().map(|e| message(e).to_string()).collect();
    assert_clean(&messages);
    stop(&lab);
    syslog.read_until(Duration::from_millis(200), |_| false);
    assert!(syslog.seen.is_empty(), "logged to syslog as well");
}

#[test]
fn without_a_journal_a_detached_daemon_logs_to_syslog_as_a_daemon() {
    let lab = lab();
    let mut syslog = Listener::new(&lab, "syslog");
    let prefix = private_mounts(None, Some(&syslog.path));
    let (_, log) = start_detached(&lab, "dhcpc", &prefix);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    let pid = daemon_pid(&lab);
    renew(&lab);
    let tag = format!("dhcpc[{pid}]: {CLIENT_IF}: renewed {addr}");
    let text = |seen: &[Vec<u8>]| -> Vec<String> {
        seen.iter()
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .collect()
    };
    assert!(
        syslog.read_until(Duration::from_secs(10), |seen| text(seen)
            .iter()
            .any(|l| l.contains(&tag))),
        "no {tag:?} in syslog: {:#?}",
        text(&syslog.seen)
    );
    let lines = text(&syslog.seen);
    // RFC 3164: <PRI>TIMESTAMP TAG: MSG, PRI = facility * 8 + severity; daemon is 3, info 6.
    let line = lines.iter().find(|l| l.contains(&tag)).unwrap();
    assert!(line.starts_with("<30>"), "not daemon.info: {line}");
    for l in &lines {
        let pri: u32 = l
            .strip_prefix('<')
            .and_then(|r| r.split_once('>'))
            .and_then(|(p, _)| p.parse().ok())
            .unwrap_or_else(|| panic!("no <PRI>: {l}"));
        assert_eq!(pri / 8, 3, "not facility daemon: {l}");
        assert!(l.contains(&format!("dhcpc[{pid}]: ")), "no dhcpc[PID]: {l}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<31>") && l.contains("sent REQUEST")),
        "-v: no daemon.debug line for the REQUEST sent: {lines:#?}"
    );
    assert_clean(&lines);
    stop(&lab);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        !stderr.contains("renewed"),
        "logged to stderr as well:\n{stderr}"
    );
}

/// With neither journal nor syslog, a daemon gone to the background keeps none of its
/// caller's descriptors: a caller that reads stdout and stderr through pipes until they close
/// (cloud-init does) sees them close when the starting process exits, and so does any other
/// descriptor it left open; the lease line came before. The daemon goes on (it renews).
#[test]
fn with_neither_journal_nor_syslog_a_detached_daemon_keeps_none_of_its_callers_streams() {
    let lab = lab();
    let prefix = private_mounts(None, None);
    let (extra_read, extra_write) = nix::unistd::pipe().unwrap();
    let mut cmd = lab.client_command(&prefix[0]);
    cmd.args(&prefix[1..])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-v", "--arp-probe", "0", CLIENT_IF])
        .env_remove("DHCPC_LOG")
        .env_remove("JOURNAL_STREAM");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting dhcpc");
    drop(extra_write);
    // Each pipe read to its end in a thread: the end must come, whatever holds it.
    let to_end = |mut r: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = tx.send(r.read_to_end(&mut buf).map(|_| buf));
        });
        rx
    };
    let out = to_end(Box::new(child.stdout.take().unwrap()));
    let err = to_end(Box::new(child.stderr.take().unwrap()));
    let extra = to_end(Box::new(std::fs::File::from(extra_read)));
    let limit = Duration::from_secs(30);
    let out = out.recv_timeout(limit);
    let err = err.recv_timeout(limit);
    let extra = extra.recv_timeout(limit);
    let status = child.wait().unwrap();
    let (Ok(Ok(out)), Ok(Ok(err)), Ok(Ok(_))) = (out, err, extra) else {
        panic!("a descriptor of the caller's stayed open after dhcpc went to the background");
    };
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert!(status.success(), "{status}\n{out}\n{err}");
    assert!(
        out.contains(CLIENT_IF),
        "no lease line before it detached: {out:?} {err:?}"
    );
    let pid = daemon_pid(&lab);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "the daemon is gone"
    );
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    renew(&lab);
    assert!(
        common::wait_for(Duration::from_secs(10), || {
            dhcpc_run(&lab, &["--status", "--json", CLIENT_IF])
                .status
                .success()
        }),
        "the daemon holding {addr} does not answer"
    );
    stop(&lab);
}

#[test]
fn renew_release_and_stop_say_what_they_did() {
    let lab = lab();
    let mut daemon = Daemon::start(&lab, "dhcpc-1", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    common::wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(15));

    let acks = || {
        std::fs::read_to_string(lab.dnsmasq_log())
            .unwrap_or_default()
            .matches("DHCPACK")
            .count()
    };
    let before = acks();
    let out = dhcpc_run(&lab, &["-n", CLIENT_IF]);
    assert_eq!(
        stdout(&out),
        format!("{CLIENT_IF}: asked the daemon to renew {addr}\n"),
        "{}",
        describe(&out)
    );
    // Renewed: dnsmasq acknowledged it, and the daemon is BOUND again.
    common::wait_status(&lab, CLIENT_IF, Duration::from_secs(10), "renewed", |s| {
        s["state"] == "BOUND" && acks() > before
    });

    let out = dhcpc_run(&lab, &["-x", CLIENT_IF]);
    assert_eq!(
        stdout(&out),
        format!("{CLIENT_IF}: stopped the daemon; {addr} stays configured\n"),
        "{}",
        describe(&out)
    );
    assert!(wait_for(Duration::from_secs(5), || matches!(
        daemon.child.try_wait(),
        Ok(Some(_))
    )));
    daemon.kill();

    // No daemon: released from the saved lease.
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_eq!(
        stdout(&out),
        format!("{CLIENT_IF}: released {addr}\n"),
        "{}",
        describe(&out)
    );

    // With a daemon.
    let _daemon = Daemon::start(&lab, "dhcpc-2", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    assert!(wait_for(Duration::from_secs(5), || {
        common::status_of(&lab, CLIENT_IF)["state"] == "BOUND"
    }));
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_eq!(
        stdout(&out),
        format!("{CLIENT_IF}: released {addr}; the daemon has stopped\n"),
        "{}",
        describe(&out)
    );
}

#[test]
fn each_error_is_said_once() {
    let lab = lab();
    // A one-shot run the system refuses the address to (no CAP_NET_ADMIN): the error it
    // exits with, and no warning before it saying the same.
    let setpriv = require_program(
        "setpriv",
        "run the tests with `sudo scripts/test`, which installs it (package util-linux)",
    );
    let mut cmd = lab.client_command(setpriv);
    cmd.args(["--bounding-set", "-net_admin"])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-1", "--arp-probe", "0", "-t", "10", CLIENT_IF])
        .env_remove("DHCPC_LOG");
    let out = common::run_with_deadline(cmd, common::DHCPC_DEADLINE);
    common::assert_exit(&out, 4);
    let err = common::stderr(&out);
    assert_eq!(
        err.matches("Operation not permitted").count(),
        1,
        "the refusal should be said once:\n{err}"
    );

    // Started in the background with no lease within the timeout: said once, before the
    // starting process returns (the daemon goes on trying).
    let quiet = Lab::new(); // no server
    let (_, log) = start_detached_with(&quiet, "dhcpc", &private_mounts(None, None), &["-t", "1"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.matches("no lease after 1 s").count(),
        1,
        "no lease should be said once:\n{text}"
    );
    stop(&quiet);
}

/// The lab's dhcpc options with `--run-dir` replaced by `run_dir`, then `args`.
fn with_run_dir(lab: &Lab, run_dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = lab.dhcpc_dir_args();
    let at = all.iter().position(|a| a == "--run-dir").unwrap();
    all[at + 1] = run_dir.display().to_string();
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

/// Every line reads `dhcpc: ...`, in words (no io::Error `(os error N)`).
fn assert_one_format(err: &str) {
    for l in err.lines() {
        assert!(l.starts_with("dhcpc: "), "not dhcpc's form: {l:?}\n{err}");
        assert!(!l.contains("(os error"), "an error number: {l:?}\n{err}");
    }
}

#[test]
fn a_failed_start_is_one_line_that_names_its_cause() {
    let lab = lab();
    // An interface that is not there, one-shot, in the foreground and going to the
    // background: that line alone (not where DNS settings would have gone before it, nor the
    // waiting parent's word after it).
    for mode in [&["-1"][..], &["-d"], &[]] {
        let mut args = mode.to_vec();
        args.push("nosuch");
        let out = dhcpc_run(&lab, &args);
        common::assert_exit(&out, 3);
        assert_eq!(
            common::stderr(&out),
            "dhcpc: nosuch: no such interface (see `ip link` for the names)\n",
            "{mode:?}: {}",
            describe(&out)
        );
    }
    // A run directory under a regular file: the run directory is the cause.
    let file = lab.dir.join("file");
    std::fs::write(&file, "").unwrap();
    let run = file.join("run");
    for mode in [&["-d"][..], &[]] {
        let mut args = mode.to_vec();
        args.extend(["--arp-probe", "0", CLIENT_IF]);
        let out = lab.run_dhcpc(&with_run_dir(&lab, &run, &args));
        common::assert_exit(&out, 4);
        assert_eq!(
            common::stderr(&out),
            format!(
                "dhcpc: the run directory {} (--run-dir): Not a directory\n",
                run.display()
            ),
            "{mode:?}: {}",
            describe(&out)
        );
    }
    // One-shot, a lease is had, but the DNS records kept in the run directory cannot be: the
    // run directory is blamed, once, and not resolv.conf.
    let out = lab.run_dhcpc(&with_run_dir(
        &lab,
        &run,
        &["-1", "--arp-probe", "0", CLIENT_IF],
    ));
    common::assert_exit(&out, 0);
    let err = common::stderr(&out);
    assert_one_format(&err);
    let blamed = format!(
        "dhcpc: warning: cannot create {}/dns in the run directory (--run-dir): Not a \
         directory; DNS settings are not written to {}",
        run.display(),
        lab.dir.join("resolv.conf").display()
    );
    assert_eq!(
        err.lines().filter(|l| *l == blamed).count(),
        1,
        "{blamed:?} once\n{}",
        describe(&out)
    );
    assert!(!err.contains("writing "), "{}", describe(&out));
}

/// Starts dhcpc with `args` as systemd starts the unit's: stdout and stderr one stream (here
/// the file `<dir>/NAME.stream`) that `JOURNAL_STREAM` names, `INVOCATION_ID` set, journald's
/// socket `journal`'s (or none) in a private mount namespace.
fn start_as_unit(
    lab: &Lab,
    name: &str,
    journal: Option<&Listener>,
    args: &[String],
) -> (std::process::Child, PathBuf) {
    let stream = lab.dir.join(format!("{name}.stream"));
    let file = std::fs::File::create(&stream).unwrap();
    let meta = file.metadata().unwrap();
    let mut cmd = lab.client_command("env");
    cmd.arg(format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino()))
        .arg("INVOCATION_ID=5f0c7a1e2b3d4c5e6f708192a3b4c5d6")
        .args(private_mounts(journal.map(|j| j.path.as_path()), None))
        .arg(dhcpc_bin())
        .args(args)
        .env_remove("DHCPC_LOG")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
    (cmd.spawn().expect("starting dhcpc"), stream)
}

/// [`start_as_unit`], until it exits: its status, and what it wrote to the stream.
fn run_as_unit(
    lab: &Lab,
    name: &str,
    journal: Option<&Listener>,
    args: &[String],
) -> (i32, String) {
    let (mut child, stream) = start_as_unit(lab, name, journal, args);
    let exited = wait_for(common::DHCPC_DEADLINE, || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&stream).unwrap();
    assert!(exited, "dhcpc did not exit\n{text}");
    (status.code().unwrap_or(-1), text)
}

/// The journal entries that arrived since the last call (the senders have exited).
fn new_entries(journal: &mut Listener) -> Vec<HashMap<String, String>> {
    journal.read_until(Duration::from_millis(300), |_| false);
    entries(&std::mem::take(&mut journal.seen))
}

fn field<'a>(e: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    e.get(key).map(String::as_str)
}

#[test]
fn under_systemd_a_failed_start_reaches_the_journal_once_at_error_priority() {
    let lab = lab();
    let mut journal = Listener::new(&lab, "journal");
    // About one interface: PRIORITY=3 and INTERFACE=, and not on stderr too (where the
    // journal's stream would take it at priority 6, without the field).
    let mut args = lab.dhcpc_dir_args();
    args.extend(["--foreground", "nosuch"].map(String::from));
    let (code, stream) = run_as_unit(&lab, "nosuch", Some(&journal), &args);
    assert_eq!(code, 3, "{stream}");
    assert_eq!(stream, "", "said on the stream");
    let all = new_entries(&mut journal);
    assert_eq!(all.len(), 1, "{all:#?}");
    let e = &all[0];
    assert_eq!(
        message(e),
        "nosuch: no such interface (see `ip link` for the names)"
    );
    assert_eq!(field(e, "PRIORITY"), Some("3"), "{e:#?}");
    assert_eq!(field(e, "INTERFACE"), Some("nosuch"), "{e:#?}");
    assert_eq!(field(e, "SYSLOG_IDENTIFIER"), Some("dhcpc"), "{e:#?}");

    // About no one interface: no INTERFACE=.
    let file = lab.dir.join("file");
    std::fs::write(&file, "").unwrap();
    let run = file.join("run");
    let args = with_run_dir(&lab, &run, &["--foreground", "--arp-probe", "0", CLIENT_IF]);
    let (code, stream) = run_as_unit(&lab, "run-dir", Some(&journal), &args);
    assert_eq!(code, 4, "{stream}");
    assert_eq!(stream, "", "said on the stream");
    let all = new_entries(&mut journal);
    assert_eq!(all.len(), 1, "{all:#?}");
    let e = &all[0];
    assert_eq!(
        message(e),
        format!(
            "the run directory {} (--run-dir): Not a directory",
            run.display()
        )
    );
    assert_eq!(field(e, "PRIORITY"), Some("3"), "{e:#?}");
    assert_eq!(field(e, "INTERFACE"), None, "{e:#?}");

    // A bad configuration file is said before logging starts: on the stream, each line with
    // journald's level prefix, so that it is taken at error priority too.
    lab.write_config("timeout = \"soon\"\n");
    let mut args = lab.dhcpc_dir_args();
    args.extend(["--foreground", CLIENT_IF].map(String::from));
    let (code, stream) = run_as_unit(&lab, "config", Some(&journal), &args);
    assert_eq!(code, 2, "{stream}");
    assert!(!stream.is_empty());
    for l in stream.lines() {
        assert!(l.starts_with("<3>dhcpc: "), "{l:?}\n{stream}");
    }
    assert!(stream.contains("timeout"), "{stream}");
}

#[test]
fn under_systemd_a_lease_is_said_once() {
    let lab = lab();
    let mut journal = Listener::new(&lab, "journal");
    // The unit's daemon: the journal's bound line, and no copy of the lease on stdout (which
    // is the journal's stream too).
    let mut args = lab.dhcpc_dir_args();
    args.extend(["--foreground", "--arp-probe", "0", CLIENT_IF].map(String::from));
    let (mut child, stream) = start_as_unit(&lab, "daemon", Some(&journal), &args);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    assert!(wait_for(Duration::from_secs(5), || {
        common::status_of(&lab, CLIENT_IF)["state"] == "BOUND"
    }));
    stop(&lab);
    assert!(wait_for(Duration::from_secs(5), || matches!(
        child.try_wait(),
        Ok(Some(_))
    )));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&stream).unwrap();
    assert_eq!(text, "", "written to the journal's stream as well");
    let all = new_entries(&mut journal);
    let bound = format!("{CLIENT_IF}: bound {addr}/");
    assert_eq!(
        all.iter()
            .filter(|e| message(e).starts_with(&bound))
            .count(),
        1,
        "{all:#?}"
    );
    // One-shot, the same.
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "--arp-probe", "0", CLIENT_IF].map(String::from));
    let (code, text) = run_as_unit(&lab, "oneshot", Some(&journal), &args);
    assert_eq!(code, 0, "{text}");
    assert_eq!(text, "", "written to the journal's stream as well");
    let all = new_entries(&mut journal);
    assert_eq!(
        all.iter()
            .filter(|e| message(e).starts_with(&format!("{CLIENT_IF}: bound ")))
            .count(),
        1,
        "{all:#?}"
    );
}

#[test]
fn refused_for_want_of_privilege_the_advice_fits_where_dhcpc_runs() {
    let lab = lab();
    let setpriv = require_program(
        "setpriv",
        "run the tests with `sudo scripts/test`, which installs it (package util-linux)",
    );
    let copy = lab.dhcpc_copy();
    let oneshot = |prefix: &[&str], env: &[(&str, &str)]| {
        let mut cmd = lab.client_command(&setpriv);
        cmd.args(prefix)
            .arg(&copy)
            .args(lab.dhcpc_dir_args())
            .args(["-1", "--arp-probe", "0", "-t", "10", CLIENT_IF])
            .env_remove("DHCPC_LOG")
            .env_remove("INVOCATION_ID")
            .envs(env.iter().copied());
        let out = common::run_with_deadline(cmd, common::DHCPC_DEADLINE);
        common::assert_exit(&out, 4);
        assert_one_format(&common::stderr(&out));
        out
    };
    // Root whose bounding set leaves CAP_NET_ADMIN out: which one, and not "run it as root".
    let out = oneshot(&["--bounding-set", "-net_admin"], &[]);
    let err = common::stderr(&out);
    assert!(
        err.contains(
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_ADMIN (its \
             capability bounding set or its container leaves it out)"
        ),
        "{}",
        describe(&out)
    );
    assert!(!err.contains("run it as root"), "{}", describe(&out));

    // A daemon asked by another user than its own: run it as root (or as the daemon's user),
    // for --status (not UNKNOWN) as for -n.
    let mut daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    daemon.wait_log("bound", Duration::from_secs(15));
    let as_nobody = |args: &[&str]| {
        let mut cmd = lab.client_command(&setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .args(lab.dhcpc_dir_args())
            .args(args)
            .env_remove("DHCPC_LOG");
        common::run_with_deadline(cmd, common::DHCPC_DEADLINE)
    };
    let advice = "run it as root (or as the daemon's user)";
    let out = as_nobody(&["--status", CLIENT_IF]);
    common::assert_exit(&out, 1);
    assert!(
        common::stderr(&out).starts_with(&format!("dhcpc: {CLIENT_IF}: not permitted")),
        "{}",
        describe(&out)
    );
    assert!(common::stderr(&out).contains(advice), "{}", describe(&out));
    assert!(!stdout(&out).contains("UNKNOWN"), "{}", describe(&out));
    let out = as_nobody(&["-n", CLIENT_IF]);
    common::assert_exit(&out, 3);
    assert!(common::stderr(&out).contains(advice), "{}", describe(&out));
    assert_one_format(&common::stderr(&out));
    stop(&lab);
    daemon.kill();

    // A service's user with CAP_NET_RAW alone: the unit is to grant the other, not root.
    common::sh(
        "chown",
        &["-R", "65534:65534", &lab.dir.display().to_string()],
    );
    let out = oneshot(
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all,+net_raw",
            "--ambient-caps=-all,+net_raw",
            "--bounding-set=-all,+net_raw",
        ],
        &[("INVOCATION_ID", "5f0c7a1e2b3d4c5e6f708192a3b4c5d6")],
    );
    let err = common::stderr(&out);
    assert!(
        err.contains(
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_ADMIN: give \
             the service AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN"
        ),
        "{}",
        describe(&out)
    );
    assert!(!err.contains("run it as root"), "{}", describe(&out));
}

#[test]
fn under_systemd_without_journalds_socket_each_line_on_the_stream_says_its_priority() {
    let lab = lab();
    // journald takes the stream only: each line starts with its priority, as journald reads
    // it (SyslogLevelPrefix=), and the lease is said once there too.
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "--arp-probe", "0", CLIENT_IF].map(String::from));
    let (code, stream) = run_as_unit(&lab, "oneshot", None, &args);
    assert_eq!(code, 0, "{stream}");
    for l in stream.lines() {
        assert!(
            ["<3>", "<4>", "<6>"]
                .iter()
                .any(|p| l.starts_with(&format!("{p}dhcpc: "))),
            "{l:?}\n{stream}"
        );
    }
    let bound = format!("<6>dhcpc: {CLIENT_IF}: bound ");
    assert_eq!(stream.matches(&bound).count(), 1, "{stream}");
    assert!(
        !stream.contains(&format!("\n{CLIENT_IF}: ")),
        "the lease on stdout too:\n{stream}"
    );
    let mut args = lab.dhcpc_dir_args();
    args.extend(["--foreground", "nosuch"].map(String::from));
    let (code, stream) = run_as_unit(&lab, "nosuch", None, &args);
    assert_eq!(code, 3, "{stream}");
    assert_eq!(
        stream,
        "<3>dhcpc: nosuch: no such interface (see `ip link` for the names)\n"
    );
}
