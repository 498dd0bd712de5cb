//! Debian's /sbin/dhclient-script run by dhcpc in a lab (`--script-configures`): the client
//! namespace's own /etc/dhcp hook directories, with an exit hook that records what it sees,
//! and the namespace's resolv.conf the script writes.

use super::Lab;
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
