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

/// The address [`AddrWatch::start`] adds to know its monitor listens.
const PROBE: &str = "127.0.0.77";

/// The kernel's record of the IPv4 addresses in a lab namespace as they change (`ip -4 monitor
/// address`), from the moment [`AddrWatch::start`] returns: whether an address was removed is
/// a fact of the interface, not of the log. Stopped on drop.
pub struct AddrWatch {
    child: Child,
    out: PathBuf,
}

impl AddrWatch {
    /// Watches the addresses of namespace `ns`; `out` names its record in the lab's dir.
    pub fn start(lab: &Lab, ns: &str, out: &str) -> AddrWatch {
        let out = lab.dir.join(out);
        let file = fs::File::create(&out).expect("the address watch's record");
        let child = Command::new("ip")
            .args(["-4", "-n", ns, "monitor", "address"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("starting ip monitor");
        let watch = AddrWatch { child, out };
        // The monitor listens once it reports a change: a loopback address of the watch's
        // own (only ever in the lab's namespace), added again until it is seen.
        let probe = format!("{PROBE}/8");
        for _ in 0..50 {
            sh("ip", &["-n", ns, "addr", "add", &probe, "dev", "lo"]);
            if wait_for(Duration::from_millis(200), || watch.text().contains(PROBE)) {
                return watch;
            }
            sh("ip", &["-n", ns, "addr", "del", &probe, "dev", "lo"]);
        }
        panic!("ip monitor did not start");
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The addresses removed since the start, as `ip monitor` reported them.
    pub fn removed(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.starts_with("Deleted") && !l.contains(PROBE))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for AddrWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
