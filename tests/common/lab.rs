//! The lab itself: two network namespaces joined by a veth pair, the servers started in them,
//! and the cleanup that removes all of it (see the module comment of `common`).

use super::{dhcpc_bin, parse_addrs, parse_link, parse_routes, require_program, require_root};
use super::{run_with_deadline, sh, sh_quiet, AddrInfo, LinkInfo, RouteInfo, DHCPC_DEADLINE};
use std::fs;
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
static COUNTER: AtomicU32 = AtomicU32::new(0);
/// Serialises namespace creation within one test process: the very first `ip netns add` on a
/// machine sets up the /run/netns mount, and two of them racing can stack mounts.
static SETUP: Mutex<()> = Mutex::new(());

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
    /// The relay agent's namespace in a DHCPv6 relay lab ([`Lab::with_relay6`]), between
    /// client and server; `None` in a lab whose client and server share a link.
    pub relay_ns: Option<String>,
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
            relay_ns: None,
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

    /// Stops every server the lab started (as a server that goes away), and waits for each.
    pub fn stop_servers(&mut self) {
        for server in &mut self.servers {
            server.stop();
        }
    }

    /// Stops the servers the lab started under `name` (as a server that goes away) and waits
    /// for each; the others run on. Returns how many there were.
    pub fn stop_server(&mut self, name: &str) -> usize {
        let mut n = 0;
        for server in self.servers.iter_mut().filter(|s| s.name == name) {
            server.stop();
            n += 1;
        }
        n
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

    /// Gives the client's veth the hardware address `mac` (`02:…`).
    pub fn set_client_mac(&self, mac: &str) {
        sh(
            "ip",
            &[
                "-n",
                &self.client_ns,
                "link",
                "set",
                self.client_if,
                "address",
                mac,
            ],
        );
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
