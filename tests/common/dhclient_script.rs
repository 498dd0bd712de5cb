//! Debian's /sbin/dhclient-script run by dhcpc in a lab (`--script-configures`): the client
//! namespace's own /etc/dhcp hook directories, with an exit hook that records what it sees,
//! and the namespace's resolv.conf the script writes.

use super::{Daemon, Lab};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The client namespace's own /etc/dhcp (bind-mounted by `ip netns exec`), with an exit hook
/// that records what it sees, so that Debian's dhclient-script runs its hooks, not the host's.
pub fn netns_dhcp_dir(lab: &Lab, log: &Path) -> std::path::PathBuf {
    let etc = Path::new("/etc/netns").join(&lab.client_ns).join("dhcp");
    for d in ["dhclient-enter-hooks.d", "dhclient-exit-hooks.d"] {
        fs::create_dir_all(etc.join(d)).unwrap();
    }
    // dhclient reads its configuration from there too: the host's, so that it asks for what
    // it asks for on this machine (the search list among it).
    if let Ok(conf) = fs::read("/etc/dhcp/dhclient.conf") {
        fs::write(etc.join("dhclient.conf"), conf).unwrap();
    }
    let hook = etc.join("dhclient-exit-hooks.d/record");
    fs::write(
        &hook,
        format!(
            "echo \"$reason $new_ip_address $new_domain_name\" >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    etc
}

pub const DHCLIENT_SCRIPT: &str = "/sbin/dhclient-script";

/// The lab client's /etc/resolv.conf (bind-mounted from /etc/netns by `ip netns exec`).
pub fn ns_resolv(lab: &Lab) -> std::path::PathBuf {
    Path::new("/etc/netns")
        .join(&lab.client_ns)
        .join("resolv.conf")
}

/// The runs a recording script logged to `log` (each run its `NAME=VALUE` lines, then `----`):
/// each a map of its environment.
pub fn recorded_runs(log: &Path) -> Vec<BTreeMap<String, String>> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .split("----\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            b.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// dhcpc (`-d`, named `name` in the lab) handing its leases to Debian's dhclient-script
/// (`--script-configures`), with `extra` options, in a UTS namespace of its own (the script
/// may set the host name).
pub fn start_with_dhclient_script(lab: &Lab, name: &str, extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--arp-probe",
        "0",
        "--script",
        DHCLIENT_SCRIPT,
        "--script-configures",
    ];
    args.extend_from_slice(extra);
    Daemon::start_as(lab, name, &["unshare", "--uts"], &args, &[super::CLIENT_IF])
}
