//! Running programs: dhcpc, servers and `ip`, with deadlines, and what their runs show.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Upper bound for one dhcpc run started with [`super::Lab::run_dhcpc`].
pub const DHCPC_DEADLINE: Duration = Duration::from_secs(45);

/// A command line prefix that runs the shell line `script` in a private mount namespace of its
/// own (`unshare --mount --propagation private sh -c SCRIPT`): what it mounts there, the lab's
/// stand-ins for /run or /dev/log, is seen by nothing else on the machine.
pub fn in_own_mount_ns(script: &str) -> Vec<String> {
    [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]
    .map(String::from)
    .to_vec()
}

/// The dhcpc binary Cargo built for these tests.
pub fn dhcpc_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dhcpc"))
}

/// Fails the test unless it runs as root (network namespaces need it).
pub fn require_root() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse::<u32>().ok());
    assert_eq!(
        euid,
        Some(0),
        "the end-to-end tests build network namespaces and must run as root: \
         run `sudo scripts/test` (the README's test command)"
    );
}

/// Finds `program` in PATH or the sbin directories, or fails the test with `hint`.
pub fn require_program(program: &str, hint: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path.split(':').filter(|d| !d.is_empty()).chain([
        "/usr/local/sbin",
        "/usr/sbin",
        "/sbin",
        "/usr/bin",
        "/bin",
    ]);
    for dir in dirs {
        let candidate = Path::new(dir).join(program);
        if fs::metadata(&candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        {
            return candidate;
        }
    }
    panic!("`{program}` is needed by the end-to-end tests but was not found: {hint}");
}

/// Runs a command to completion and fails the test if it fails; returns its stdout.
pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`sh`] but only reports a failure: for cleanup, which must go on.
pub fn sh_quiet(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd` with stdin closed, collecting stdout and stderr; kills it and fails the test if it
/// is still running after `limit`.
///
/// What the pipes hold is taken once the command has exited and its output is read (a
/// moment), not when every process holding them has closed them.
pub fn run_with_deadline(mut cmd: Command, limit: Duration) -> Output {
    use std::sync::Arc;
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    type Pipe = Arc<Mutex<(Vec<u8>, bool)>>;
    let reader = |pipe: Option<Box<dyn Read + Send>>| -> Pipe {
        let got: Pipe = Arc::new(Mutex::new((Vec::new(), false)));
        let into = got.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            if let Some(mut p) = pipe {
                while let Ok(n @ 1..) = p.read(&mut buf) {
                    into.lock().unwrap().0.extend_from_slice(&buf[..n]);
                }
            }
            into.lock().unwrap().1 = true;
        });
        got
    };
    let out_pipe = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err_pipe = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(status)) => break (status, false),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                break (child.wait().expect("waiting for a killed child"), true);
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    let exited = Instant::now();
    let closed = |p: &Pipe| p.lock().unwrap().1;
    while !(closed(&out_pipe) && closed(&err_pipe)) && exited.elapsed() < Duration::from_millis(300)
    {
        thread::sleep(Duration::from_millis(10));
    }
    let taken = |p: &Pipe| p.lock().unwrap().0.clone();
    let output = Output {
        status,
        stdout: taken(&out_pipe),
        stderr: taken(&err_pipe),
    };
    assert!(
        !timed_out,
        "{what} was still running after {limit:?} and was killed\n{}",
        describe(&output)
    );
    output
}

/// stdout of a run as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a run as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A run's status, stdout and stderr, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// Fails unless the run exited with `code`, showing its output.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit status {code}\n{}",
        describe(out)
    );
}

/// Fails if the run's stderr shows a Rust panic.
pub fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked"),
        "dhcpc panicked\n{}",
        describe(out)
    );
}

/// Fails unless stderr contains `needle`.
pub fn assert_stderr_contains(out: &Output, needle: &str) {
    assert!(
        stderr(out).contains(needle),
        "expected {needle:?} on stderr\n{}",
        describe(out)
    );
}
