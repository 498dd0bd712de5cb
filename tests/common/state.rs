//! What a test waits on: the daemon's state as `dhcpc --status --json` reports it, the saved
//! lease file, and the kernel's own record of the interface's addresses. A test waits on these
//! to know that something happened; it reads the log only where the log line is the feature.

use super::{dhcpc_run, sh, stdout, wait_for, Lab};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `iface`'s entry in `dhcpc --status --json`, when a daemon reports one.
pub fn try_status_of(lab: &Lab, iface: &str) -> Option<Value> {
    let out = dhcpc_run(lab, &["--status", "--json", iface]);
    let all: Value = serde_json::from_str(&stdout(&out)).ok()?;
    all.as_array()?
        .iter()
        .find(|v| v["interface"] == iface)
        .cloned()
}

/// Waits until `iface`'s status satisfies `cond` (described by `what` in the failure) and
/// returns that status; fails the test, showing the last status seen, after `limit`.
pub fn wait_status(
    lab: &Lab,
    iface: &str,
    limit: Duration,
    what: &str,
    mut cond: impl FnMut(&Value) -> bool,
) -> Value {
    let mut last = None;
    let found = wait_for(limit, || {
        last = try_status_of(lab, iface);
        last.as_ref().is_some_and(&mut cond)
    });
    assert!(
        found,
        "{iface}: not {what} within {limit:?}; the last status: {}",
        last.map_or("none".to_string(), |v| v.to_string())
    );
    last.expect("a status that held")
}

/// Waits until the daemon reports `iface` in `state` (BOUND, SELECTING, RENEWING, MISSING, …).
pub fn wait_state(lab: &Lab, iface: &str, state: &str, limit: Duration) -> Value {
    wait_status(lab, iface, limit, state, |s| s["state"] == state)
}

/// When the lease saved for `iface` was acquired (`acquired=`, in Unix seconds, of the lab's
/// lease file), if there is one: each renewal or rebinding that is answered moves it on.
pub fn lease_acquired(lab: &Lab, iface: &str) -> Option<u64> {
    let text = fs::read_to_string(lab.dir.join("lease").join(format!("{iface}.lease"))).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("acquired="))
        .and_then(|v| v.trim().parse().ok())
}

/// Waits until a lease is saved for `iface` and returns when it was acquired.
pub fn wait_saved(lab: &Lab, iface: &str, limit: Duration) -> u64 {
    let mut at = None;
    let saved = wait_for(limit, || {
        at = lease_acquired(lab, iface);
        at.is_some()
    });
    assert!(saved, "{iface}: no lease saved within {limit:?}");
    at.expect("a saved lease")
}

/// Waits until a lease acquired after `since` (see [`lease_acquired`]) is saved for `iface`
/// and the daemon is BOUND with it: a renewal (or rebinding) was answered and taken. Returns
/// when the new lease was acquired. (The file's clock counts seconds: renewals at least a
/// second apart, as at any T1 of the labs, each move it on.)
pub fn wait_renewed(lab: &Lab, iface: &str, since: u64, limit: Duration) -> u64 {
    let mut at = None;
    wait_status(lab, iface, limit, "renewed", |s| {
        at = lease_acquired(lab, iface);
        s["state"] == "BOUND" && at.is_some_and(|a| a > since)
    });
    at.expect("a lease that held")
}

/// The kernel's record of a lab namespace's IPv4 addresses or routes as they change (`ip -4
/// monitor address|route`), from the moment the watch is made: whether an address was removed,
/// or a route touched, is a fact of the interface, not of the log. Stopped on drop.
pub struct NetWatch {
    child: Child,
    out: PathBuf,
    ns: String,
    what: Watched,
    probes: u32,
}

/// What a [`NetWatch`] watches.
#[derive(Clone, Copy, PartialEq)]
enum Watched {
    Addresses,
    Routes,
}

/// The routing table the route watch's own probes go to (never the main table).
const PROBE_TABLE: &str = "77";

impl NetWatch {
    /// Watches the IPv4 addresses of namespace `ns`.
    pub fn addresses(lab: &Lab, ns: &str) -> NetWatch {
        NetWatch::start(lab, ns, Watched::Addresses)
    }

    /// Watches the IPv4 routes of namespace `ns` (of every table; its own probes go to a
    /// table of their own and are left out of what it reports).
    pub fn routes(lab: &Lab, ns: &str) -> NetWatch {
        NetWatch::start(lab, ns, Watched::Routes)
    }

    fn start(lab: &Lab, ns: &str, what: Watched) -> NetWatch {
        let object = match what {
            Watched::Addresses => "address",
            Watched::Routes => "route",
        };
        let out = lab.dir.join(format!("monitor-{object}-{ns}.txt"));
        let file = fs::File::create(&out).expect("the watch's record");
        let child = Command::new("ip")
            .args(["-4", "-n", ns, "monitor", object])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("starting ip monitor");
        let mut watch = NetWatch {
            child,
            out,
            ns: ns.to_string(),
            what,
            probes: 0,
        };
        watch.barrier();
        watch
    }

    /// Makes a change of the watch's own (a loopback address, or a route in a table of its
    /// own) and waits until the monitor reports it. The kernel reports changes in order: once
    /// it is there, so is every change made before it. (At the start, it is made again until
    /// the monitor, which may not listen yet, reports one.)
    pub fn barrier(&mut self) {
        for _ in 0..50 {
            self.probes += 1;
            let probe = match self.what {
                Watched::Addresses => {
                    format!("127.0.{}.{}", self.probes / 250, self.probes % 250 + 2)
                }
                Watched::Routes => format!("203.0.113.{}", self.probes % 250 + 2),
            };
            match self.what {
                Watched::Addresses => sh(
                    "ip",
                    &[
                        "-n",
                        &self.ns,
                        "addr",
                        "add",
                        &format!("{probe}/8"),
                        "dev",
                        "lo",
                    ],
                ),
                Watched::Routes => sh(
                    "ip",
                    &[
                        "-n",
                        &self.ns,
                        "route",
                        "replace",
                        "blackhole",
                        &format!("{probe}/32"),
                        "table",
                        PROBE_TABLE,
                    ],
                ),
            };
            let shown =
                |l: &str| l.contains(&format!(" {probe}/")) || l.contains(&format!(" {probe} "));
            if wait_for(Duration::from_millis(500), || {
                self.text().lines().any(shown)
            }) {
                return;
            }
        }
        panic!("ip monitor reported none of its probes");
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Whether a line of `ip monitor` is about the watch's own probes.
    fn is_probe(&self, line: &str) -> bool {
        match self.what {
            Watched::Addresses => line.contains(": lo "),
            Watched::Routes => line.contains(&format!("table {PROBE_TABLE}")),
        }
    }

    /// Every change reported since the start (one line each), but the watch's own.
    pub fn changes(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace) && !l.trim().is_empty())
            .filter(|l| !self.is_probe(l))
            .map(str::to_string)
            .collect()
    }

    /// What was removed since the start, as `ip monitor` reported it.
    pub fn removed(&self) -> Vec<String> {
        self.changes()
            .into_iter()
            .filter(|l| l.starts_with("Deleted"))
            .collect()
    }
}

impl Drop for NetWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
