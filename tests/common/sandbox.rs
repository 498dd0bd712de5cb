//! The real callers of dhclient (ifupdown, cloud-init, NetworkManager's dhclient) run from their
//! Debian packages with dhcpc standing in for /sbin/dhclient, in a lab's client network namespace.
//!
//! The packages are never installed: [`extract_deb`] fetches one with `apt-get download` into
//! [`DEB_CACHE`] once (a rerun makes no network request; `apt-get update` only when a download
//! fails) and unpacks it with `dpkg-deb -x` into the lab's dir.
//!
//! Those programs use fixed paths (/etc/resolv.conf, /etc/network, /run/dhclient.IF.pid,
//! /var/lib/dhcp, /usr/lib/NetworkManager), so they run in a [`Sandbox`]: private mount, UTS and
//! PID namespaces inside the lab's client network namespace, in which
//! - /etc is an overlay on the host's /etc whose upper layer is a tmpfs: what the callers and
//!   dhclient-script write to /etc/resolv.conf or /etc/network never reaches the host;
//! - /run and /var/lib are tmpfs: no journald socket, no D-Bus system bus, none of the host's
//!   /run/dhclient* or /var/lib/dhcp;
//! - /dev/log, when it is a socket, is covered by /dev/null: no syslog either;
//! - /usr/sbin/dhclient (and /sbin/dhclient where it is another file) is a bind mount of the
//!   dhcpc binary under test: the host's file is never changed;
//! - the host name is the sandbox's own, and the sandbox has its own pid 1: a daemon that goes to
//!   the background is reparented to it (as in a container, where cloud-init looks for parent
//!   pid 1), and everything in the sandbox ends when that pid 1 is killed.
//!
//! [`Sandbox::new`] checks those mounts in the sandbox's own mountinfo before anything runs in
//! it, and its Drop checks that the host's files these programs write are as they were.

use super::{dhcpc_bin, require_program, run_with_deadline, sh, sh_quiet, wait_for, Lab};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Where the .debs are kept between runs.
pub const DEB_CACHE: &str = "/var/cache/dhcpc-tests/debs";
/// PATH inside the sandbox (what init systems and ifupdown give their commands).
pub const SANDBOX_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// One download at a time (tests run in parallel threads).
static FETCH: Mutex<()> = Mutex::new(());

/// The cached .deb of `package`, downloaded first if there is none.
fn cached_deb(package: &str) -> PathBuf {
    let _one = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(deb) = find_deb(package) {
        return deb;
    }
    require_program(
        "apt-get",
        "the caller tests fetch Debian packages with apt-get",
    );
    fs::create_dir_all(DEB_CACHE).unwrap_or_else(|e| panic!("creating {DEB_CACHE}: {e}"));
    let download = || {
        Command::new("apt-get")
            .args(["-q", "-o", "APT::Sandbox::User=root", "download", package])
            .current_dir(DEB_CACHE)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running apt-get download {package}: {e}"))
    };
    let first = download();
    if !first.status.success() {
        sh("apt-get", &["update", "-qq"]);
        let second = download();
        assert!(
            second.status.success(),
            "apt-get download {package} failed, after apt-get update too: {}",
            String::from_utf8_lossy(&second.stderr).trim()
        );
    }
    find_deb(package).unwrap_or_else(|| panic!("apt-get download {package} left no .deb"))
}

/// `package_VERSION_ARCH.deb` in the cache, the last by name when there are several.
fn find_deb(package: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    let mut found: Vec<PathBuf> = fs::read_dir(DEB_CACHE)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Debian's `package` unpacked (`dpkg-deb -x`, no maintainer script run) into the lab's dir;
/// returns the root of the unpacked tree.
pub fn extract_deb(lab: &Lab, package: &str) -> PathBuf {
    let deb = cached_deb(package);
    let root = lab.dir.join("debs").join(package);
    fs::create_dir_all(&root).unwrap_or_else(|e| panic!("creating {}: {e}", root.display()));
    sh(
        "dpkg-deb",
        &[
            "-x",
            &deb.display().to_string(),
            &root.display().to_string(),
        ],
    );
    root
}

/// The package's version, from the cached .deb's name (for messages).
pub fn deb_version(package: &str) -> String {
    find_deb(package)
        .and_then(|p| p.file_name()?.to_str().map(str::to_string))
        .and_then(|n| n.split('_').nth(1).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Private mount, UTS and PID namespaces in a lab's client network namespace, set up as the
/// module comment says. Killed (all of it, through its pid 1) on drop.
pub struct Sandbox {
    /// The host's pid of the sandbox's pid 1.
    pub init: u32,
    holder: Child,
    log: PathBuf,
    spawned: Vec<Child>,
    host: HostFiles,
}

impl Sandbox {
    /// A sandbox in `lab`'s client namespace. `extra` is shell run in it after the base mounts,
    /// before anything else runs there (`$S` is a tmpfs of the sandbox's own, for more overlay
    /// layers).
    pub fn new(lab: &Lab, extra: &str) -> Sandbox {
        require_program("unshare", "util-linux (sudo scripts/test installs it)");
        require_program("nsenter", "util-linux (sudo scripts/test installs it)");
        require_program(
            "dhclient",
            "install isc-dhcp-client (sudo scripts/test does): dhcpc is bind-mounted over its \
             /usr/sbin/dhclient in the sandbox, and its dhclient-script is run",
        );
        let host = HostFiles::now();
        let dir = lab.dir.join("sandbox");
        fs::create_dir_all(&dir).expect("the sandbox's mount point");
        let ready = lab.dir.join("sandbox.ready");
        let log = lab.dir.join("sandbox.log");
        let script = format!(
            "set -eu\nS={dir}\nD={dhcpc}\n{BASE}\n{extra}\ntouch {ready}\nexec sleep infinity\n",
            dir = dir.display(),
            dhcpc = dhcpc_bin().display(),
            ready = ready.display(),
        );
        let file = fs::File::create(&log).expect("the sandbox's log");
        let holder = lab
            .client_command("unshare")
            .args(["--mount", "--uts", "--pid", "--fork", "--mount-proc"])
            .args(["--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .expect("starting the sandbox");
        let mut sandbox = Sandbox {
            init: 0,
            holder,
            log,
            spawned: Vec::new(),
            host,
        };
        let up = wait_for(Duration::from_secs(10), || {
            ready.exists() || !matches!(sandbox.holder.try_wait(), Ok(None))
        });
        assert!(
            up && ready.exists(),
            "the sandbox was not set up\n{}",
            sandbox.log_text()
        );
        let pid = sandbox.holder.id();
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        sandbox.init = children
            .ok()
            .and_then(|c| c.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("the sandbox's pid 1 (a child of {pid}) is not there"));
        sandbox.check_mounts();
        sandbox
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails unless the sandbox's mounts are those the module comment promises.
    fn check_mounts(&self) {
        let info = fs::read_to_string(format!("/proc/{}/mountinfo", self.init))
            .expect("the sandbox's mountinfo");
        // The mount on top at each point: the last line naming it.
        let top = |point: &str| {
            info.lines()
                .filter(|l| l.split(' ').nth(4) == Some(point))
                .filter_map(|l| l.split(" - ").nth(1)?.split(' ').next())
                .next_back()
                .map(str::to_string)
        };
        for (point, fstype) in [
            ("/etc", "overlay"),
            ("/run", "tmpfs"),
            ("/var/lib", "tmpfs"),
        ] {
            assert_eq!(
                top(point).as_deref(),
                Some(fstype),
                "the sandbox's {point} is not a {fstype}: the host's would be written\n{info}"
            );
        }
        assert!(
            top("/usr/sbin/dhclient").is_some() || top("/sbin/dhclient").is_some(),
            "dhcpc is not mounted over dhclient in the sandbox\n{info}"
        );
        let status = fs::read_to_string(format!("/proc/{}/status", self.init)).unwrap();
        assert!(
            status
                .lines()
                .any(|l| l.starts_with("NSpid:") && l.ends_with("\t1")),
            "the sandbox has no pid namespace of its own: {status}"
        );
    }

    /// A command that runs `program` in the sandbox, with only PATH and LC_ALL=C in its
    /// environment (add more with `.env`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(["--target", &self.init.to_string()])
            .args(["--mount", "--net", "--uts", "--pid", "--"])
            .arg(program)
            .env_clear()
            .env("PATH", SANDBOX_PATH)
            .env("LC_ALL", "C");
        cmd
    }

    /// Runs `program args` in the sandbox to its end (killed and failed after `limit`).
    pub fn run(&self, program: impl AsRef<OsStr>, args: &[&str], limit: Duration) -> Output {
        let mut cmd = self.command(program);
        cmd.args(args);
        run_with_deadline(cmd, limit)
    }

    /// Starts `cmd` (from [`Sandbox::command`]) in the background, its stdin closed and its
    /// output into `log`; returns the pid the program has in the sandbox once it is running.
    pub fn spawn(&mut self, mut cmd: Command, log: &Path) -> u32 {
        let file = fs::File::create(log).expect("a log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .expect("starting a program in the sandbox");
        let nsenter = child.id();
        self.spawned.push(child);
        let mut pid = None;
        wait_for(Duration::from_secs(5), || {
            pid = fs::read_to_string(format!("/proc/{nsenter}/task/{nsenter}/children"))
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse::<u32>().ok())
                .and_then(ns_pid);
            pid.is_some()
        });
        pid.unwrap_or_else(|| panic!("the program nsenter {nsenter} was to start is not there"))
    }

    /// `path` as the sandbox sees it, reachable from the host.
    pub fn path(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{path}", self.init))
    }

    /// The text of the sandbox's file `path`, if there is one.
    pub fn read(&self, path: &str) -> Option<String> {
        fs::read_to_string(self.path(path)).ok()
    }

    /// The pid in the sandbox's pid file `path`, if it holds one.
    pub fn pid_in(&self, path: &str) -> Option<u32> {
        self.read(path)?.trim().parse().ok()
    }

    /// Whether the sandbox's process `pid` is running (not a zombie).
    pub fn alive(&self, pid: u32) -> bool {
        fs::read_to_string(self.path(&format!("/proc/{pid}/stat")))
            .is_ok_and(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
    }

    /// Whether the sandbox's process `pid` runs the dhcpc binary under test.
    pub fn runs_dhcpc(&self, pid: u32) -> bool {
        let exe = fs::metadata(self.path(&format!("/proc/{pid}/exe")));
        let bin = fs::metadata(dhcpc_bin()).expect("the dhcpc binary");
        exe.is_ok_and(|m| (m.dev(), m.ino()) == (bin.dev(), bin.ino()))
    }

    /// The parent of the sandbox's process `pid`, as the sandbox numbers it.
    pub fn parent_of(&self, pid: u32) -> Option<u32> {
        let stat = fs::read_to_string(self.path(&format!("/proc/{pid}/stat"))).ok()?;
        stat.rsplit_once(") ")?.1.split(' ').nth(1)?.parse().ok()
    }

    /// The open descriptors of the sandbox's process `pid`, as `N -> target` lines.
    pub fn descriptors(&self, pid: u32) -> Vec<String> {
        let dir = self.path(&format!("/proc/{pid}/fd"));
        let mut fds: Vec<(u32, String)> = fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let n = e.file_name().to_str()?.parse().ok()?;
                        Some((n, fs::read_link(e.path()).ok()?.display().to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        fds.sort();
        fds.into_iter()
            .map(|(n, t)| format!("{n} -> {t}"))
            .collect()
    }
}

/// The pid a (host) process has in the innermost pid namespace it is in.
fn ns_pid(host_pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{host_pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.init != 0 {
            let _ = sh_quiet("kill", &["-KILL", &self.init.to_string()]);
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        for child in &mut self.spawned {
            let _ = child.kill();
            let _ = child.wait();
        }
        let changed = self.host.changed();
        if changed.is_empty() {
            return;
        }
        let msg = format!("the sandbox leaked onto the host: {}", changed.join("; "));
        if std::thread::panicking() {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}

/// The base of the sandbox (see the module comment); `$S` is the sandbox's dir, `$D` dhcpc.
const BASE: &str = r#"mount -t tmpfs -o mode=0755 dhcpc-sandbox "$S"
mkdir "$S/etc" "$S/etc.work"
mount -t overlay dhcpc-sandbox-etc -o "lowerdir=/etc,upperdir=$S/etc,workdir=$S/etc.work" /etc
mount -t tmpfs -o mode=0755 dhcpc-sandbox-run /run
mkdir -p /run/lock
mount -t tmpfs -o mode=0755 dhcpc-sandbox-var-lib /var/lib
mkdir -p /var/lib/dhcp
if [ -S /dev/log ]; then mount --bind /dev/null /dev/log; fi
mount --bind "$D" /usr/sbin/dhclient
if [ -e /sbin/dhclient ] && ! [ /sbin/dhclient -ef /usr/sbin/dhclient ]; then
    mount --bind "$D" /sbin/dhclient
fi
hostname dhcpc-sandbox"#;

/// Files of the host, each one's size, modification time and inode (or its absence) when it was
/// taken; by default those the callers, dhclient-script or dhcpc would write outside a sandbox.
pub struct HostFiles(Vec<(String, Option<Stamp>)>);

/// A file's size (or a hash of its text, for /proc), modification time (seconds, nanoseconds)
/// and inode.
type Stamp = (u64, i64, i64, u64);

/// What [`HostFiles`] watches (a directory: the entry itself, which changes with its listing).
const WATCHED: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hostname",
    "/etc/network",
    "/etc/dhcp/dhclient.conf",
    "/run/dhclient.pid",
    "/run/dhclient.lease",
    "/run/dhclient.vc.pid",
    "/run/NetworkManager",
    "/var/lib/dhcp/dhclient.vc.leases",
    "/var/lib/dhcp/dhclient6.vc.leases",
    "/var/lib/NetworkManager",
    "/var/lib/dhcpc",
    "/usr/sbin/dhclient",
    "/usr/lib/NetworkManager",
    "/proc/sys/kernel/hostname",
];

impl HostFiles {
    /// The files the sandbox watches, as they are now.
    pub fn now() -> HostFiles {
        HostFiles::watching(WATCHED)
    }

    /// `paths` as they are now.
    pub fn watching(paths: &[&str]) -> HostFiles {
        HostFiles(
            paths
                .iter()
                .map(|p| {
                    // /proc's host name has no meaningful time or inode: its text stands in.
                    let meta = if p.starts_with("/proc/") {
                        fs::read(p).ok().map(|t| (hash(&t), 0, 0, 0))
                    } else {
                        fs::symlink_metadata(p)
                            .ok()
                            .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
                    };
                    (p.to_string(), meta)
                })
                .collect(),
        )
    }

    /// The watched files that differ from then, with what they were and are.
    pub fn changed(&self) -> Vec<String> {
        let paths: Vec<&str> = self.0.iter().map(|(p, _)| p.as_str()).collect();
        let now = HostFiles::watching(&paths);
        self.0
            .iter()
            .zip(&now.0)
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, b)| format!("{} was {:?}, is {:?}", a.0, a.1, b.1))
            .collect()
    }
}

/// FNV-1a, to notice a change of a short text.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
