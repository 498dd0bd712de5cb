//! A container booted by systemd-nspawn with systemd as its PID 1, in a network namespace of a
//! lab, and commands run in it through `nsenter` into all of its namespaces. Stopped (halted,
//! killed if it does not halt) when dropped, also when a test fails; the lab's own cleanup
//! kills whatever might still be left in its namespace.

use crate::common::{describe, require_program, run_with_deadline, sh_quiet, wait_for};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bound for one command run in the container.
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);
/// Upper bound for the boot (about 1 s here; 2 cores shared by parallel tests).
const BOOT_DEADLINE: Duration = Duration::from_secs(90);
/// How long the container may take to halt once told to.
const HALT_DEADLINE: Duration = Duration::from_secs(20);
/// Where systemd-nspawn keeps its locks and the directories it shares with each container; it
/// may leave it behind.
const NSPAWN_RUN: &str = "/run/systemd/nspawn";

/// How the machines' names start (then the pid of their test process, `-`, a number): see
/// [`machine_name`].
const PREFIX: &str = "dhcpc-dct";

/// The name of a machine in the lab whose namespaces are named `dct<pid>-<n>…`.
pub fn machine_name(lab_base: &str) -> String {
    format!("dhcpc-{lab_base}")
}

/// The containers of this test process that run: the last one stopped removes [`NSPAWN_RUN`].
static RUNNING: Mutex<usize> = Mutex::new(0);

/// How to boot.
pub struct Boot<'a> {
    /// The root directory (a copy of its own).
    pub root: &'a Path,
    /// The network namespace (under /run/netns) the container runs in.
    pub netns: &'a str,
    /// The machine's name (its hostname).
    pub name: &'a str,
    /// /sys (and /proc/sys) writable, as udev needs to run (systemd-udevd.service has
    /// ConditionPathIsReadWrite=/sys); nspawn mounts them read-only otherwise.
    pub writable_sys: bool,
    /// Where nspawn's output (the console) goes.
    pub log: PathBuf,
}

/// A booted container.
pub struct Machine {
    pub name: String,
    /// The container's PID 1 (systemd), as this machine sees it.
    pub leader: u32,
    nspawn: Child,
    log: PathBuf,
}

impl Machine {
    /// Boots the container and waits until systemd says the boot is over.
    pub fn boot(b: Boot) -> Machine {
        let nspawn = require_program(
            "systemd-nspawn",
            "install systemd-container with --no-install-recommends (`sudo scripts/test` does)",
        );
        let console = fs::File::create(&b.log).expect("creating the console log");
        let mut cmd = Command::new(nspawn);
        cmd.args(["-D", b.root.to_str().expect("UTF-8 root"), "-b"])
            .arg("--private-network")
            .arg(format!("--network-namespace-path=/run/netns/{}", b.netns))
            .args(["--register=no", "--keep-unit", "--console=pipe"])
            .args(["-M", b.name])
            .stdin(Stdio::null())
            .stdout(console.try_clone().expect("cloning a file handle"))
            .stderr(console);
        if b.writable_sys {
            cmd.env("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "1");
        }
        let nspawn = cmd.spawn().expect("starting systemd-nspawn");
        *RUNNING.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let mut machine = Machine {
            name: b.name.to_string(),
            leader: 0,
            nspawn,
            log: b.log,
        };
        machine.leader = machine.find_leader();
        machine.wait_booted();
        machine
    }

    /// The container's PID 1: the child of nspawn that is PID 1 in its own PID namespace.
    fn find_leader(&mut self) -> u32 {
        let parent = self.nspawn.id();
        let mut leader = None;
        let found = wait_for(BOOT_DEADLINE, || {
            if let Ok(Some(status)) = self.nspawn.try_wait() {
                panic!("systemd-nspawn exited ({status})\n{}", self.console());
            }
            leader = children(parent).into_iter().find(|&pid| is_ns_init(pid));
            leader.is_some()
        });
        assert!(found, "no container init under nspawn\n{}", self.console());
        leader.expect("found")
    }

    /// Waits for `systemctl is-system-running` to say the boot is over (running, or degraded
    /// with a unit failed, which the tests look at themselves).
    fn wait_booted(&self) {
        let started = Instant::now();
        let mut state = String::new();
        let booted = wait_for(BOOT_DEADLINE, || {
            let out = self.run(&["systemctl", "is-system-running"]);
            state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            state == "running" || state == "degraded"
        });
        assert!(
            booted,
            "the container did not finish booting in {:?}: {state}\n{}",
            started.elapsed(),
            self.journal()
        );
    }

    /// Runs `args` in the container (all its namespaces, a clean environment).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.leader.to_string(), "-a", "--"])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("SYSTEMD_PAGER", "")
            .env("SYSTEMD_COLORS", "0");
        run_with_deadline(cmd, COMMAND_DEADLINE)
    }

    /// Runs `args` in the container and fails the test unless they succeed; their stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "in the container: {}\n{}\n--- journal ---\n{}",
            args.join(" "),
            describe(&out),
            self.journal()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Property `prop` of `unit` (`systemctl show -P`).
    pub fn show(&self, unit: &str, prop: &str) -> String {
        self.ok(&["systemctl", "show", "-P", prop, unit])
            .trim()
            .to_string()
    }

    /// The journal of this boot (for failure messages and for what only the journal says).
    pub fn journal(&self) -> String {
        let out = self.run(&["journalctl", "-b", "--no-pager", "-o", "short-monotonic"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What nspawn printed.
    pub fn console(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Halts the container (SIGTERM to nspawn halts it as `poweroff` would), killing it if it
    /// has not stopped within [`HALT_DEADLINE`].
    fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.nspawn.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let halted = wait_for(HALT_DEADLINE, || {
            matches!(self.nspawn.try_wait(), Ok(Some(_)))
        });
        if !halted {
            let _ = self.nspawn.kill();
            let _ = self.nspawn.wait();
            // nspawn killed outright leaves its container: end it by its PID 1.
            let _ = sh_quiet("kill", &["-KILL", &self.leader.to_string()]);
        }
        let _ = fs::remove_dir_all(Path::new(NSPAWN_RUN).join("propagate").join(&self.name));
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- journal of {} ---\n{}\n--- console ---\n{}",
                self.name,
                self.journal(),
                self.console()
            );
        }
        self.stop();
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        if *running == 0 {
            remove_nspawn_run();
        }
    }
}

/// Removes [`NSPAWN_RUN`] when no container uses it any more (its lock and propagation
/// directories empty: none of another process either), after the propagation directories of
/// this file's machines whose test process was killed before it could remove them.
fn remove_nspawn_run() {
    let propagate = Path::new(NSPAWN_RUN).join("propagate");
    for entry in fs::read_dir(&propagate).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    let empty = |sub: &str| {
        fs::read_dir(Path::new(NSPAWN_RUN).join(sub)).map_or(true, |mut d| d.next().is_none())
    };
    if empty("locks") && empty("propagate") {
        let _ = fs::remove_dir_all(NSPAWN_RUN);
    }
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))
                .is_some_and(|p| p.trim() == parent.to_string())
        })
        .collect()
}

/// `pid` is PID 1 of a PID namespace of its own (the last of its NSpid numbers is 1).
fn is_ns_init(pid: u32) -> bool {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .is_some_and(|ids| {
            let ids: Vec<&str> = ids.split_whitespace().collect();
            ids.len() > 1 && ids.last() == Some(&"1")
        })
}
