//! A throwaway network lab for end-to-end tests: two network namespaces, a server side and a
//! client side, joined by a veth pair, with helpers to run DHCP servers and dhcpc in them and
//! to read back what dhcpc configured.
//!
//! Safety rules this module keeps (see /work/shared/design.md, "Testing in network namespaces"):
//! - dhcpc and every server only ever run inside namespaces the lab created; the veth pair is
//!   created directly inside the namespaces, so nothing ever appears in the host's namespace
//!   and parallel labs never collide.
//! - Each namespace gets /etc/netns/NAME/resolv.conf, which `ip netns exec` bind-mounts over
//!   /etc/resolv.conf, so nothing run in a lab can write the host's resolv.conf.
//! - Only 198.51.100.0/24 (and 203.0.113.0/24) are used.
//! - [`Lab`]'s Drop kills the servers it started and any process left in its namespaces,
//!   deletes the namespaces, the /etc/netns dirs and the temp dir, also when a test panics.
//!   Leftovers of a test process that was killed outright are swept by the next [`Lab::new`].
//!
//! Tests wait on conditions, never on a fixed sleep ([`wait_for`], [`holds_for`]), and on states
//! rather than log lines: the daemon's status (`dhcpc --status --json`), its saved lease, the
//! kernel's record of addresses and routes ([`NetWatch`]), what a server logged. A log line is
//! checked where it is the feature under test.
//!
//! Submodules: `lab` (the namespaces and servers), `lab6` (IPv6 in the lab: DHCPv6 servers,
//! a relay), `fake6` (a scripted DHCPv6 server), `daemon` (a dhcpc daemon in a lab), `state`
//! (what tests wait on), `wait`, `process` (running programs), `netinfo` (`ip -j`), `unit`
//! (the systemd unit file), `package` (this tree's .debs, built by scripts/package), `sandbox`
//! (dhclient's callers from their Debian packages, in private namespaces). Every test file uses
//! a part of this module only.
#![allow(dead_code, unused_imports)]

mod daemon;
mod dhclient_script;
mod fake6;
mod lab;
mod lab6;
mod netinfo;
mod package;
mod process;
mod sandbox;
mod state;
mod unit;
mod wait;

pub use daemon::*;
pub use dhclient_script::*;
pub use fake6::*;
pub use lab::*;
pub use lab6::*;
pub use netinfo::*;
pub use package::*;
pub use process::*;
pub use sandbox::*;
pub use state::*;
pub use unit::*;
pub use wait::*;

use std::net::Ipv4Addr;

/// A BOOTREPLY from raw option bytes: the fixed header (op 2, Ethernet, `xid`, `yiaddr`,
/// chaddr `mac`), the magic cookie, then `options` exactly as given (no END added).
pub fn raw_reply(xid: u32, yiaddr: Ipv4Addr, mac: [u8; 6], options: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; dhcpc::wire::HEADER_LEN];
    b[0] = 2; // op BOOTREPLY
    b[1] = 1; // htype Ethernet
    b[2] = 6; // hlen
    b[4..8].copy_from_slice(&xid.to_be_bytes());
    b[16..20].copy_from_slice(&yiaddr.octets());
    b[28..34].copy_from_slice(&mac);
    b.extend_from_slice(&dhcpc::wire::MAGIC_COOKIE);
    b.extend_from_slice(options);
    b
}
