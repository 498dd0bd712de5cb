//! The sandbox's own promises (tests/common/sandbox.rs), checked before the callers rely on
//! them: what runs in it writes /etc, /run and /var/lib/dhcp there and not on the host, has
//! no logger to reach, has a host name of its own, and finds dhcpc as /sbin/dhclient; and the
//! guard that checks the host's files afterwards notices a change.

use crate::common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// Writes, in the sandbox, every kind of file a caller writes.
const WRITES: &str = "echo 'nameserver 203.0.113.1' > /etc/resolv.conf
mkdir -p /etc/network && echo 'iface vc inet dhcp' > /etc/network/interfaces
echo 1 > /run/dhclient.vc.pid
echo lease > /var/lib/dhcp/dhclient.vc.leases
hostname another-name
for log in /dev/log /run/systemd/journal/socket; do
    if [ -S $log ]; then echo \"$log is there\"; exit 1; fi
done
/sbin/dhclient --version";

#[test]
fn the_sandbox_keeps_what_its_programs_write_off_the_host() {
    let lab = Lab::new();
    let resolv = fs::read("/etc/resolv.conf").ok();
    let hostname = fs::read("/proc/sys/kernel/hostname").ok();
    let sandbox = Sandbox::new(&lab, "");
    let out = sandbox.run("sh", &["-c", WRITES], Duration::from_secs(10));
    assert_exit(&out, 0);
    assert!(stdout(&out).starts_with("dhcpc "), "{}", describe(&out));
    assert_eq!(
        sandbox.read("/etc/resolv.conf").as_deref(),
        Some("nameserver 203.0.113.1\n")
    );
    assert!(sandbox.path("/var/lib/dhcp/dhclient.vc.leases").exists());
    assert_eq!(fs::read("/etc/resolv.conf").ok(), resolv);
    assert_eq!(fs::read("/proc/sys/kernel/hostname").ok(), hostname);
    for p in [
        "/run/dhclient.vc.pid",
        "/etc/network/interfaces",
        "/var/lib/dhcp/dhclient.vc.leases",
    ] {
        assert!(!Path::new(p).exists(), "{p} is on the host");
    }
    // The sandbox's Drop checks the rest (and fails the test if anything changed).
}

#[test]
fn the_host_guard_notices_a_change() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("watched");
    fs::write(&file, "before").unwrap();
    let path = file.to_str().expect("UTF-8 path");
    let guard = HostFiles::watching(&[path]);
    assert!(guard.changed().is_empty());
    fs::write(&file, "after, longer").unwrap();
    assert_eq!(guard.changed().len(), 1, "{:?}", guard.changed());
}
