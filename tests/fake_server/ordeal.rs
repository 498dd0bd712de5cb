//! Hostile servers. Each answer is sent again and again until the next request (a flood), and
//! through it all the daemon must stay up, leave the interface untouched (or configured from
//! what was good in the reply), say in its log what it dropped, and stay idle: the ordeal a
//! daemon goes through, and what it did under fire.

use super::common::*;
use super::server::*;
use dhcpc::wire::v4::{DhcpOption, Message, MessageType, Opcode};
use std::net::Ipv4Addr;
use std::time::Duration;

/// How often a hostile server sends its answers again: some 40 replies at a time, about 170 a
/// second. (The debug build the tests run spends some 0.1 ms of CPU on each reply it reads and
/// logs at -v; a faster flood measures the build, not the daemon.)
pub const FLOOD: Duration = Duration::from_millis(250);

/// The share of one CPU a daemon under fire may use.
pub const CALM: f64 = 0.05;

/// A reply to `req` of type `kind` for `yiaddr` with only a message type and server id; a case
/// adds the rest as raw options ([`bytes_with`]).
pub fn bare(req: &Message, kind: MessageType, yiaddr: Ipv4Addr) -> Message {
    let mut m = Message::default();
    m.set_opcode(Opcode::BootReply)
        .set_xid(req.xid())
        .set_yiaddr(yiaddr)
        .set_chaddr(req.chaddr());
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    m
}

/// CPU time (user and system) process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let hz = *HZ.get_or_init(|| sh("getconf", &["CLK_TCK"]).trim().parse().unwrap());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The fields after the command name (in parentheses, and it could hold anything):
    // state is the first, utime the 12th and stime the 13th.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 1000 / hz)
}

/// What a daemon did under fire.
pub struct Ordeal {
    pub log: String,
    /// Whether it was still running at the end.
    pub running: bool,
    /// Its CPU time over the window, as a share of the window's wall time.
    pub cpu: f64,
    /// Every address seen on the interface during the window.
    pub addrs: Vec<Ipv4Addr>,
}

/// Starts `dhcpc -d -v --arp-probe 0 vc`, waits (at most 5 s) for the start of the window
/// (`ready`), then watches it for `window` while the server goes on, and stops it.
pub fn ordeal(lab: &Lab, ready: Start, window: Duration) -> Ordeal {
    ordeal_then(lab, ready, window, || ()).0
}

/// Where the window of an [`ordeal`] starts.
pub enum Start<'a> {
    /// Once the daemon reports BOUND.
    Bound,
    /// Once the log has this line: the flood reached the daemon and is refused (the lines that
    /// say so are what these tests check).
    Logged(&'a str),
}

/// [`ordeal`], and `at_end` called at the end of the window, before the daemon is stopped.
pub fn ordeal_then<T>(
    lab: &Lab,
    ready: Start,
    window: Duration,
    at_end: impl FnOnce() -> T,
) -> (Ordeal, T) {
    let (mut daemon, log) = start_daemon(lab, &["-d", "-v", "--arp-probe", "0"]);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let started = wait_for(Duration::from_secs(5), || match ready {
        Start::Bound => try_status_of(lab, CLIENT_IF).is_some_and(|s| s["state"] == "BOUND"),
        Start::Logged(line) => read().contains(line),
    });
    if !started {
        let _ = daemon.kill();
        let _ = daemon.wait();
        let what = match ready {
            Start::Bound => "BOUND".to_string(),
            Start::Logged(line) => format!("{line:?} logged"),
        };
        panic!("dhcpc was not {what} within 5 s\n{}", tail(&read()));
    }
    let pid = daemon.id();
    let (cpu0, t0) = (cpu_time(pid), std::time::Instant::now());
    let mut addrs = Vec::new();
    while t0.elapsed() < window {
        for a in lab.client_addrs() {
            if !addrs.contains(&a.local) {
                addrs.push(a.local);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = (cpu_time(pid) - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let running = daemon.try_wait().unwrap().is_none();
    eprintln!("dhcpc used {:.2} % of a CPU under fire", cpu * 100.0);
    let found = at_end();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let o = Ordeal {
        log: read(),
        running,
        cpu,
        addrs,
    };
    (o, found)
}

/// The last lines of a log (a flooded one is long).
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Ordeal {
    /// It lived through it without a panic, idle.
    pub fn assert_calm(&self) {
        assert!(!self.log.contains("panicked"), "{}", self.log);
        assert!(self.running, "the daemon ended\n{}", tail(&self.log));
        assert!(
            self.cpu < CALM,
            "the daemon used {:.1} % of a CPU\n{}",
            self.cpu * 100.0,
            tail(&self.log)
        );
    }

    /// Each of `lines` is in the log.
    pub fn assert_logged<S: AsRef<str>>(&self, lines: &[S]) {
        let missing: Vec<&str> = lines
            .iter()
            .map(|l| l.as_ref())
            .filter(|l| !self.log.contains(l))
            .collect();
        assert!(
            missing.is_empty(),
            "not logged: {missing:#?}\n{}",
            tail(&self.log)
        );
    }

    /// Every line is one the daemon wrote: `dhcpc: `, then its text; none begins with what a
    /// server sent, and no NUL is there.
    pub fn assert_lines_unforged(&self, forged: &str) {
        assert!(!self.log.contains('\0'), "a NUL reached the log");
        for line in self.log.lines() {
            assert!(
                line.starts_with("dhcpc: "),
                "a line the daemon did not write: {line:?}"
            );
            assert!(!line.trim_start().starts_with(forged), "{line:?}");
        }
    }
}
