//! A throwaway network lab for end-to-end tests: two network namespaces, a server side and a
//! client side, joined by a veth pair, with helpers to run DHCP servers and dhcpc in them and
//! to read back what dhcpc configured.
//!
//! Safety rules this module keeps (see /work/shared/design.md, "Testing in network namespaces"):
//! - dhcpc and every server only ever run inside namespaces the lab created; the veth pair is
//!   created directly inside the namespaces, so nothing ever appears in the host's namespace
//!   and parallel labs never collide.
//! - Each namespace gets /etc/netns/NAME/resolv.conf, which `ip netns exec` bind-mounts over
//!   /etc/resolv.conf, so nothing run in a lab can write the host's resolv.conf.
//! - Only 198.51.100.0/24 (and 203.0.113.0/24) are used.
//! - [`Lab`]'s Drop kills the servers it started and any process left in its namespaces,
//!   deletes the namespaces, the /etc/netns dirs and the temp dir, also when a test panics.
//!   Leftovers of a test process that was killed outright are swept by the next [`Lab::new`].
//!
//! Every test file uses a part of this module only.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Prefix of every namespace and temp dir a lab creates: `dct<pid>-<n>s` / `dct<pid>-<n>c`.
const PREFIX: &str = "dct";
/// Name of the server's end of the veth pair (inside the server namespace).
pub const SERVER_IF: &str = "vs";
/// Name of the client's end of the veth pair (inside the client namespace).
pub const CLIENT_IF: &str = "vc";
/// What the lab puts in each namespace's /etc/netns/NAME/resolv.conf; must never change.
const NETNS_RESOLV_SENTINEL: &str =
    "# dhcpc test lab: bind-mounted over /etc/resolv.conf; must stay unchanged\n";
/// How long a server may take to say it is ready.
const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for one dhcpc run started with [`Lab::run_dhcpc`].
pub const DHCPC_DEADLINE: Duration = Duration::from_secs(45);

static COUNTER: AtomicU32 = AtomicU32::new(0);
/// Serialises namespace creation within one test process: the very first `ip netns add` on a
/// machine sets up the /run/netns mount, and two of them racing can stack mounts.
static SETUP: Mutex<()> = Mutex::new(());

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
fn sh_quiet(program: &str, args: &[&str]) -> Option<String> {
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
/// A dhcpc that went to the background with neither journal nor syslog to log to keeps its
/// stderr, this pipe: what the pipes hold is taken once the command has exited and its output
/// is read (a moment), not when the daemon closes them.
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

/// One IPv4 address on an interface, from `ip -j addr`.
#[derive(Debug, Clone)]
pub struct AddrInfo {
    pub local: Ipv4Addr,
    pub prefixlen: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// Seconds; 4294967295 means forever.
    pub valid_lft: u64,
    pub preferred_lft: u64,
    pub dynamic: bool,
    pub raw: serde_json::Value,
}

/// One IPv4 route, from `ip -j route`.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// "default" or a prefix such as "198.51.100.0/24".
    pub dst: String,
    pub gateway: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// As `ip` names it: "dhcp", "kernel", "boot", ... (or a number it has no name for).
    pub protocol: Option<String>,
    /// 0 when `ip` shows none.
    pub metric: u32,
    pub prefsrc: Option<Ipv4Addr>,
    pub raw: serde_json::Value,
}

impl RouteInfo {
    pub fn is_default(&self) -> bool {
        self.dst == "default" || self.dst == "0.0.0.0/0"
    }
}

/// The state of one link, from `ip -j link`.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub ifname: String,
    pub mac: String,
    /// Administratively up (the UP flag).
    pub up: bool,
    pub operstate: String,
    pub raw: serde_json::Value,
}

fn json(text: &str, what: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: bad JSON ({e}): {text}"))
}

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|s| s.as_str()).map(str::to_string)
}

fn ip_field(v: &serde_json::Value, key: &str) -> Option<Ipv4Addr> {
    v.get(key)
        .and_then(|s| s.as_str())
        .and_then(|s| s.parse().ok())
}

/// Parses `ip -j -4 addr show` output.
pub fn parse_addrs(text: &str) -> Vec<AddrInfo> {
    let v = json(text, "ip -j addr");
    let mut addrs = Vec::new();
    for link in v.as_array().into_iter().flatten() {
        for a in link
            .get("addr_info")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            if a.get("family").and_then(|f| f.as_str()) != Some("inet") {
                continue;
            }
            let Some(local) = ip_field(a, "local") else {
                continue;
            };
            addrs.push(AddrInfo {
                local,
                prefixlen: a.get("prefixlen").and_then(|p| p.as_u64()).unwrap_or(32) as u8,
                broadcast: ip_field(a, "broadcast"),
                valid_lft: a
                    .get("valid_life_time")
                    .and_then(|t| t.as_u64())
                    .unwrap_or(u64::from(u32::MAX)),
                preferred_lft: a
                    .get("preferred_life_time")
                    .and_then(|t| t.as_u64())
                    .unwrap_or(u64::from(u32::MAX)),
                dynamic: a.get("dynamic").and_then(|d| d.as_bool()).unwrap_or(false),
                raw: a.clone(),
            });
        }
    }
    addrs
}

/// Parses `ip -j -4 route show` output.
pub fn parse_routes(text: &str) -> Vec<RouteInfo> {
    let v = json(text, "ip -j route");
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| RouteInfo {
            dst: str_field(r, "dst").unwrap_or_default(),
            gateway: ip_field(r, "gateway"),
            dev: str_field(r, "dev"),
            protocol: r.get("protocol").map(|p| match p {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            metric: r.get("metric").and_then(|m| m.as_u64()).unwrap_or(0) as u32,
            prefsrc: ip_field(r, "prefsrc"),
            raw: r.clone(),
        })
        .collect()
}

/// Parses `ip -j link show dev X` output (one link).
pub fn parse_link(text: &str) -> LinkInfo {
    let v = json(text, "ip -j link");
    let l = v
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("ip -j link: no link in {text}"));
    LinkInfo {
        ifname: str_field(l, "ifname").unwrap_or_default(),
        mac: str_field(l, "address").unwrap_or_default(),
        up: l
            .get("flags")
            .and_then(|f| f.as_array())
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("UP"))),
        operstate: str_field(l, "operstate").unwrap_or_default(),
        raw: l.clone(),
    }
}

/// How to build a [`Lab`].
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Address (with prefix) of the server's end of the veth pair.
    pub server_addr: &'static str,
    /// Bring the client's end up (dhcpc must bring a down link up itself otherwise).
    pub client_up: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            server_addr: "198.51.100.1/24",
            client_up: true,
        }
    }
}

/// A server process the lab started in the server namespace.
pub struct Server {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two network namespaces joined by a veth pair ([`SERVER_IF`] in `server_ns`, [`CLIENT_IF`]
/// in `client_ns`) and a private temp dir. Everything is torn down on drop.
pub struct Lab {
    pub server_ns: String,
    pub client_ns: String,
    pub server_if: &'static str,
    pub client_if: &'static str,
    /// The server's address, without prefix.
    pub server_ip: Ipv4Addr,
    /// A private temp dir for this lab: logs, lease files, resolv.conf.
    pub dir: PathBuf,
    servers: Vec<Server>,
    namespaces: Vec<String>,
    etc_dirs: Vec<PathBuf>,
}

impl Lab {
    /// A lab with the default options: server at 198.51.100.1/24, both links up.
    pub fn new() -> Lab {
        Lab::with_options(LabOptions::default())
    }

    pub fn with_options(opts: LabOptions) -> Lab {
        require_root();
        require_program(
            "ip",
            "run the tests with `sudo scripts/test`, which installs it (package iproute2)",
        );
        sweep_stale();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = format!("{PREFIX}{pid}-{n}");
        let dir = std::env::temp_dir().join(format!("dhcpc-e2e-{base}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
        let server_ip: Ipv4Addr = opts
            .server_addr
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("LabOptions::server_addr must look like 198.51.100.1/24");
        // The guard exists before anything is created, so a failure half-way is cleaned up.
        let mut lab = Lab {
            server_ns: format!("{base}s"),
            client_ns: format!("{base}c"),
            server_if: SERVER_IF,
            client_if: CLIENT_IF,
            server_ip,
            dir,
            servers: Vec::new(),
            namespaces: Vec::new(),
            etc_dirs: Vec::new(),
        };
        // Every dhcpc the lab runs reads this (empty) file, never the host's /etc/dhcpc.conf.
        lab.write_config("");
        for ns in [lab.server_ns.clone(), lab.client_ns.clone()] {
            lab.make_namespace(&ns);
        }
        let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
        // Created directly inside the namespaces: nothing appears in the host's namespace.
        sh(
            "ip",
            &[
                "link", "add", SERVER_IF, "netns", &s, "type", "veth", "peer", "name", CLIENT_IF,
                "netns", &c,
            ],
        );
        sh(
            "ip",
            &["-n", &s, "addr", "add", opts.server_addr, "dev", SERVER_IF],
        );
        sh("ip", &["-n", &s, "link", "set", SERVER_IF, "up"]);
        if opts.client_up {
            sh("ip", &["-n", &c, "link", "set", CLIENT_IF, "up"]);
        }
        lab
    }

    /// Creates namespace `ns` (with its own /etc/netns resolv.conf and lo up), removed with
    /// the lab.
    fn make_namespace(&mut self, ns: &str) {
        let _setup = SETUP.lock().unwrap_or_else(|e| e.into_inner());
        // /etc/netns first: `ip netns exec` then bind-mounts it from the first run on.
        let etc = Path::new("/etc/netns").join(ns);
        self.etc_dirs.push(etc.clone());
        fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("creating {}: {e}", etc.display()));
        fs::write(etc.join("resolv.conf"), NETNS_RESOLV_SENTINEL)
            .unwrap_or_else(|e| panic!("writing {}/resolv.conf: {e}", etc.display()));
        self.namespaces.push(ns.to_string());
        sh("ip", &["netns", "add", ns]);
        sh("ip", &["-n", ns, "link", "set", "lo", "up"]);
    }

    /// One more namespace for this lab (a router, a second server, a switch), named after the
    /// lab with `suffix` (lower-case letters) appended. Removed with the lab.
    pub fn add_namespace(&mut self, suffix: &str) -> String {
        assert!(suffix.bytes().all(|b| b.is_ascii_lowercase()), "{suffix}");
        let base = self.server_ns.trim_end_matches('s');
        let ns = format!("{base}{suffix}");
        self.make_namespace(&ns);
        ns
    }

    /// A veth pair: `a_if` in namespace `a_ns`, `b_if` in `b_ns`, both up.
    pub fn veth(&self, a_ns: &str, a_if: &str, b_ns: &str, b_if: &str) {
        sh(
            "ip",
            &[
                "link", "add", a_if, "netns", a_ns, "type", "veth", "peer", "name", b_if, "netns",
                b_ns,
            ],
        );
        sh("ip", &["-n", a_ns, "link", "set", a_if, "up"]);
        sh("ip", &["-n", b_ns, "link", "set", b_if, "up"]);
    }

    /// A command that runs `program` in namespace `ns`.
    pub fn command_in(&self, ns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).arg(program);
        cmd
    }

    /// A command that runs `program` in the server namespace.
    pub fn server_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        self.command_in(&self.server_ns, program)
    }

    /// A command that runs `program` in the client namespace.
    pub fn client_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.client_ns]).arg(program);
        cmd
    }

    /// Starts `program args` in the server namespace with stdout and stderr going to
    /// `<dir>/<name>.log`, and waits (at most 10 s) until that log contains `ready`.
    /// Fails the test, showing the log, if the server exits or never gets ready.
    pub fn start_server(&mut self, name: &str, program: &Path, args: &[String], ready: &str) {
        let ns = self.server_ns.clone();
        self.start_server_in(&ns, name, program, args, ready);
    }

    /// [`Lab::start_server`] in namespace `ns`.
    pub fn start_server_in(
        &mut self,
        ns: &str,
        name: &str,
        program: &Path,
        args: &[String],
        ready: &str,
    ) {
        let log = self.dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let file2 = file.try_clone().expect("cloning a log file handle");
        let child = self
            .command_in(ns, program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        self.servers.push(Server {
            name: name.to_string(),
            log: log.clone(),
            child,
        });
        let server = self.servers.last_mut().expect("just pushed");
        let start = Instant::now();
        loop {
            if fs::read_to_string(&log).is_ok_and(|l| l.contains(ready)) {
                return;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before it was ready\n--- {} ---\n{}",
                    log.display(),
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if start.elapsed() > SERVER_READY_TIMEOUT {
                panic!(
                    "{name} did not log {ready:?} within {SERVER_READY_TIMEOUT:?}\n--- {} ---\n{}",
                    log.display(),
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Path of the lease file [`Lab::start_dnsmasq`] gives dnsmasq.
    pub fn dnsmasq_leasefile(&self) -> PathBuf {
        self.dir.join("dnsmasq.leases")
    }

    /// Path of dnsmasq's log (stdout and stderr).
    pub fn dnsmasq_log(&self) -> PathBuf {
        self.dir.join("dnsmasq.log")
    }

    /// Starts dnsmasq as a DHCP server on the server's veth and waits until its sockets are
    /// bound. The lab supplies what keeps it contained (foreground, no config file, no DNS, bound
    /// to the lab's interface only, log to `<dir>/dnsmasq.log`, lease and pid files in `<dir>`);
    /// `extra` supplies the DHCP configuration, e.g. `--dhcp-range=...`.
    pub fn start_dnsmasq(&mut self, extra: &[&str]) {
        let dnsmasq = require_program(
            "dnsmasq",
            "run the tests with `sudo scripts/test` (the README's test command), which installs \
             it (Debian package dnsmasq-base)",
        );
        let mut args = vec![
            "--no-daemon".to_string(),
            "--conf-file=/dev/null".to_string(),
            "--port=0".to_string(),
            "--bind-interfaces".to_string(),
            format!("--interface={}", self.server_if),
            "--log-facility=-".to_string(),
            format!("--pid-file={}", self.dir.join("dnsmasq.pid").display()),
            format!("--dhcp-leasefile={}", self.dnsmasq_leasefile().display()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        self.start_server("dnsmasq", &dnsmasq, &args, "sockets bound");
    }

    /// dhcpc options that keep all its files inside the lab's dir: `--run-dir <dir>/run
    /// --lease-dir <dir>/lease --dns-mode file --resolv-conf <dir>/resolv.conf --config
    /// <dir>/dhcpc.conf`. Without them a dhcpc in the lab would use the host's /run/dhcpc and
    /// /var/lib/dhcpc (shared by every lab, so one lab's saved lease would be asked for again in
    /// another), `--dns-mode auto` could hand the lab's DNS to the host's systemd-resolved or
    /// resolvconf, and it would read the host's /etc/dhcpc.conf if it has one. The lab's
    /// dhcpc.conf is empty unless the test writes one with [`Lab::write_config`]. (A later
    /// `--dns-mode` overrides this one: the DNS tests choose theirs.)
    pub fn dhcpc_dir_args(&self) -> Vec<String> {
        let d = |p: &str| self.dir.join(p).display().to_string();
        vec![
            "--run-dir".into(),
            d("run"),
            "--lease-dir".into(),
            d("lease"),
            "--dns-mode".into(),
            "file".into(),
            "--resolv-conf".into(),
            d("resolv.conf"),
            "--config".into(),
            self.config_path().display().to_string(),
        ]
    }

    /// The configuration file [`Lab::dhcpc_dir_args`] names (empty when the lab starts).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("dhcpc.conf")
    }

    /// Replaces the lab's configuration file (the one [`Lab::dhcpc_dir_args`] names).
    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Runs dhcpc with `args` in the client namespace (killed after [`DHCPC_DEADLINE`]).
    /// Add [`Lab::dhcpc_dir_args`] unless the test is about the command line itself.
    pub fn run_dhcpc<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        let mut cmd = self.client_command(dhcpc_bin());
        cmd.args(args).env_remove("DHCPC_LOG");
        run_with_deadline(cmd, DHCPC_DEADLINE)
    }

    /// A copy of the dhcpc binary in the lab's dir, executable by any user (the build dir may
    /// not be reachable for an unprivileged user).
    ///
    /// The copy is made by `cp`, not `fs::copy`: a file this (multi-threaded) process held open
    /// for writing could leak, for a moment, into a child another test thread forks, and exec
    /// of the copy would then fail with ETXTBSY ("Text file busy").
    pub fn dhcpc_copy(&self) -> PathBuf {
        let copy = self.dir.join("dhcpc");
        let (src, dst) = (dhcpc_bin(), copy.clone());
        sh(
            "cp",
            &[
                src.to_str().expect("UTF-8 binary path"),
                dst.to_str().expect("UTF-8 temp path"),
            ],
        );
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).expect("chmod dhcpc copy");
        copy
    }

    /// The IPv4 addresses on the client's veth.
    pub fn client_addrs(&self) -> Vec<AddrInfo> {
        parse_addrs(&sh(
            "ip",
            &[
                "-n",
                &self.client_ns,
                "-j",
                "-4",
                "addr",
                "show",
                "dev",
                CLIENT_IF,
            ],
        ))
    }

    /// The IPv4 routes of the client namespace's main table.
    pub fn client_routes(&self) -> Vec<RouteInfo> {
        parse_routes(&sh(
            "ip",
            &[
                "-n",
                &self.client_ns,
                "-j",
                "-4",
                "route",
                "show",
                "table",
                "main",
            ],
        ))
    }

    /// The client's veth.
    pub fn client_link(&self) -> LinkInfo {
        parse_link(&sh(
            "ip",
            &[
                "-n",
                &self.client_ns,
                "-j",
                "link",
                "show",
                "dev",
                CLIENT_IF,
            ],
        ))
    }

    /// Everything the servers logged so far, for failure messages.
    pub fn server_logs(&self) -> String {
        let mut s = String::new();
        for server in &self.servers {
            s.push_str(&format!(
                "--- {} ({}) ---\n{}\n",
                server.name,
                server.log.display(),
                fs::read_to_string(&server.log).unwrap_or_default()
            ));
        }
        s
    }

    /// Fails if anything wrote the resolv.conf that `ip netns exec` bind-mounts in the lab's
    /// namespaces (which would mean a write meant for /etc/resolv.conf).
    pub fn assert_netns_resolv_untouched(&self) {
        for etc in &self.etc_dirs {
            let path = etc.join("resolv.conf");
            let text = fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                text,
                NETNS_RESOLV_SENTINEL,
                "{} was changed: something wrote /etc/resolv.conf inside the lab",
                path.display()
            );
        }
    }
}

impl Default for Lab {
    fn default() -> Self {
        Lab::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if thread::panicking() && !self.servers.is_empty() {
            // Shown by the test harness with the failed test's output.
            eprintln!("server logs of the failed lab:\n{}", self.server_logs());
        }
        for server in &mut self.servers {
            server.stop();
        }
        for ns in &self.namespaces {
            remove_namespace(ns);
        }
        for etc in &self.etc_dirs {
            let _ = fs::remove_dir_all(etc);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Kills what still runs in `ns` (only processes started in the lab), then deletes it.
fn remove_namespace(ns: &str) {
    if let Some(pids) = sh_quiet("ip", &["netns", "pids", ns]) {
        for pid in pids.split_whitespace() {
            let _ = sh_quiet("kill", &["-KILL", pid]);
        }
    }
    let _ = sh_quiet("ip", &["netns", "delete", ns]);
}

/// The pid of the test process that created a lab namespace or dir name `dct<pid>-<n>...`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, tail) = rest.split_once('-')?;
    let n_len = tail.bytes().take_while(u8::is_ascii_digit).count();
    // Any lower-case suffix: "s" and "c" here, more in labs that add namespaces of their own.
    let suffix_ok = tail[n_len..].bytes().all(|b| b.is_ascii_lowercase());
    (n_len > 0 && suffix_ok).then_some(())?;
    pid.parse().ok()
}

/// Removes namespaces, /etc/netns dirs and temp dirs of labs whose test process is gone
/// (killed before its Drop guards could run).
fn sweep_stale() {
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    let list = sh_quiet("ip", &["netns", "list"]).unwrap_or_default();
    for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
        if owner_pid(ns).is_some_and(|p| !alive(p)) {
            remove_namespace(ns);
        }
    }
    if let Ok(entries) = fs::read_dir("/etc/netns") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if owner_pid(&name).is_some_and(|p| !alive(p)) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    if let Ok(entries) = fs::read_dir(std::env::temp_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("dhcpc-e2e-") {
                if owner_pid(rest).is_some_and(|p| !alive(p)) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// A BOOTREPLY from raw option bytes: the fixed header (op 2, Ethernet, `xid`, `yiaddr`,
/// chaddr `mac`), the magic cookie, then `options` exactly as given (no END added).
pub fn raw_reply(xid: u32, yiaddr: Ipv4Addr, mac: [u8; 6], options: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; dhcpc::wire::HEADER_LEN];
    b[0] = 2; // op BOOTREPLY
    b[1] = 1; // htype Ethernet
    b[2] = 6; // hlen
    b[4..8].copy_from_slice(&xid.to_be_bytes());
    b[16..20].copy_from_slice(&yiaddr.octets());
    b[28..34].copy_from_slice(&mac);
    b.extend_from_slice(&dhcpc::wire::MAGIC_COOKIE);
    b.extend_from_slice(options);
    b
}

/// Waits until `cond` holds, at most `limit`; returns whether it did.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// A dhcpc daemon in the lab, and what it configured.

/// A `dhcpc -d` in the lab's client namespace, its stderr in a log file; killed on drop.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(lab: &Lab, name: &str, extra: &[&str], ifaces: &[&str]) -> Daemon {
        Daemon::launch(lab, name, &[], &[], extra, ifaces)
    }

    /// Starts dhcpc with these environment variables set.
    pub fn start_env(
        lab: &Lab,
        name: &str,
        env: &[(&str, &str)],
        extra: &[&str],
        ifaces: &[&str],
    ) -> Daemon {
        Daemon::launch(lab, name, &[], env, extra, ifaces)
    }

    /// Starts dhcpc through `prefix` (a program and its arguments, such as setpriv).
    pub fn start_as(
        lab: &Lab,
        name: &str,
        prefix: &[&str],
        extra: &[&str],
        ifaces: &[&str],
    ) -> Daemon {
        Daemon::launch(lab, name, prefix, &[], extra, ifaces)
    }

    fn launch(
        lab: &Lab,
        name: &str,
        prefix: &[&str],
        env: &[(&str, &str)],
        extra: &[&str],
        ifaces: &[&str],
    ) -> Daemon {
        let log = lab.dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).expect("dhcpc log");
        let mut cmd = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = lab.client_command(program);
                c.args(args).arg(dhcpc_bin());
                c
            }
            None => lab.client_command(dhcpc_bin()),
        };
        let child = cmd
            .args(lab.dhcpc_dir_args())
            .args(["-d", "-v"])
            .args(extra)
            .args(ifaces)
            .env_remove("DHCPC_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("starting dhcpc -d");
        Daemon { child, log }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_log(&self, needle: &str, limit: Duration) {
        assert!(
            wait_for(limit, || self.log_text().contains(needle)),
            "dhcpc did not log {needle:?} within {limit:?}\n--- dhcpc log ---\n{}",
            self.log_text()
        );
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- dhcpc log ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        self.kill();
        assert!(
            !self.log_text().contains("panicked") || std::thread::panicking(),
            "dhcpc panicked:\n{}",
            self.log_text()
        );
    }
}

/// Runs a short dhcpc command (a control request, or the backgrounding start) in the lab.
pub fn dhcpc_run(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = lab.dhcpc_dir_args();
    all.extend(args.iter().map(|s| s.to_string()));
    let out = lab.run_dhcpc(&all);
    assert_no_panic(&out);
    out
}

pub fn status_json(lab: &Lab) -> Vec<serde_json::Value> {
    let out = dhcpc_run(lab, &["--status", "--json"]);
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap_or_else(|e| panic!("--status --json is not JSON ({e})\n{}", describe(&out)))
        .as_array()
        .cloned()
        .expect("--status --json prints an array")
}

pub fn status_of(lab: &Lab, iface: &str) -> serde_json::Value {
    status_json(lab)
        .into_iter()
        .find(|v| v["interface"] == iface)
        .unwrap_or_else(|| panic!("no status for {iface}"))
}

pub fn addresses(lab: &Lab, iface: &str) -> Vec<Ipv4Addr> {
    let text = sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "-j",
            "-4",
            "addr",
            "show",
            "dev",
            iface,
        ],
    );
    parse_addrs(&text).into_iter().map(|a| a.local).collect()
}

pub fn in_pool(a: Ipv4Addr, pool: (&str, &str)) -> bool {
    let lo: Ipv4Addr = pool.0.parse().unwrap();
    let hi: Ipv4Addr = pool.1.parse().unwrap();
    (u32::from(lo)..=u32::from(hi)).contains(&u32::from(a))
}

/// The one address dhcpc put on `iface`, once there is one.
pub fn wait_address(lab: &Lab, iface: &str, pool: (&str, &str)) -> Ipv4Addr {
    let mut found = None;
    wait_for(Duration::from_secs(15), || {
        found = addresses(lab, iface)
            .into_iter()
            .find(|a| in_pool(*a, pool));
        found.is_some()
    });
    found.unwrap_or_else(|| {
        panic!(
            "no address from {pool:?} on {iface}: {:?}",
            addresses(lab, iface)
        )
    })
}
