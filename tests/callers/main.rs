//! dhcpc under the real programs that run dhclient, not transcriptions of their command lines:
//! ifupdown's `ifup`/`ifdown` (`inet dhcp`, and `inet6 dhcp` against Kea and dhcpd -6),
//! cloud-init's DHCP discovery and NetworkManager's dhclient command line with its helper, each
//! from its Debian 12 package (fetched once into /var/cache/dhcpc-tests/debs, unpacked into
//! the lab's dir, never installed), run in a sandbox
//! (tests/common/sandbox.rs: private mount, UTS and PID namespaces in the lab's client network
//! namespace, /etc an overlay, /run and /var/lib tmpfs) where dhcpc is bind-mounted over
//! /usr/sbin/dhclient. The host's files these programs write are checked unchanged after each.
//! `sudo scripts/test --test callers`.

#[path = "../common/mod.rs"]
mod common;

mod cloud_init;
mod dhcpd;
mod ifupdown;
mod ifupdown6;
mod network_manager;
mod sandbox;

/// Shell for [`common::Sandbox::new`]: an exit hook in the sandbox's
/// /etc/dhcp/dhclient-exit-hooks.d (dhclient-script sources each) that appends `reason
/// new_ip_address old_ip_address` to `log` at each run, to show whether hooks run.
pub fn exit_hook(log: &std::path::Path) -> String {
    format!(
        "mkdir -p /etc/dhcp/dhclient-exit-hooks.d\n\
         printf '%s\\n' 'echo \"$reason $new_ip_address $old_ip_address\" >> {}' \
         > /etc/dhcp/dhclient-exit-hooks.d/zz-dhcpc-test",
        log.display()
    )
}

/// The lines [`exit_hook`] recorded.
pub fn hook_runs(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// What a test found wrong, gathered so that one failure names every difference from the real
/// dhclient at once, not only the first.
#[derive(Default)]
pub struct Findings(Vec<String>);

impl Findings {
    /// Notes `what` unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// Notes a difference between what was `got` and what was `want`ed.
    pub fn same<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.0.push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    /// Fails the test with everything noted, and `context`.
    pub fn finish(self, context: impl FnOnce() -> String) {
        assert!(
            self.0.is_empty(),
            "{} finding(s):\n- {}\n{}",
            self.0.len(),
            self.0.join("\n- "),
            context()
        );
    }
}
