//! A dhcpc daemon in a lab, its control requests, and what it configured.

use super::{assert_no_panic, describe, dhcpc_bin, parse_addrs, sh, stdout, wait_for, Lab};
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

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

    /// Fails unless the daemon's log holds `needle` within `limit`: for a test of what the log
    /// says (a warning, the reason given), where the line is the feature. To know that a state
    /// was reached, wait on the state ([`super::wait_state`] and the rest of `state.rs`).
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

/// The gateways of the lab client's default routes.
pub fn default_gateways(lab: &Lab) -> Vec<Ipv4Addr> {
    lab.client_routes()
        .into_iter()
        .filter(|r| r.is_default())
        .filter_map(|r| r.gateway)
        .collect()
}
