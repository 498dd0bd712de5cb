//! The Debian packages, built by `scripts/package` and installed into a throwaway root (an
//! overlay over this machine's / in a private mount namespace: `root.rs` says why the host cannot
//! be touched, and each test checks the host's dpkg database and files before and after):
//! `dhcpc --version`, `man dhcpc`, `systemd-analyze verify` of the installed unit, the user made
//! by systemd-sysusers, adduser or useradd, dhcpc-dhclient's switch of /sbin/dhclient and its
//! undoing, an upgrade keeping a changed /etc/dhcpc.conf, and remove and purge leaving nothing
//! but the dhcpc user (kept, as Debian keeps system users) and dpkg's and man-db's records.
//!
//! Root tier (`--features root-tests`): needs root, dpkg-dev, man-db, systemd, adduser and
//! isc-dhcp-client (`sudo scripts/test` installs them). The first test builds the packages, a
//! release build: minutes on a fresh tree.

#[path = "../common/mod.rs"]
mod common;

mod root;

use common::{describe, require_program, require_root, stdout};
use root::{changes, HostWitness, Manifest, Root};
use std::path::PathBuf;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The files of each package (dpkg -L, directories left out).
const DHCPC_FILES: &[&str] = &[
    "/etc/dhcpc.conf",
    "/lib/systemd/system/dhcpc6@.service",
    "/lib/systemd/system/dhcpc@.service",
    "/usr/lib/sysusers.d/dhcpc.conf",
    "/usr/sbin/dhcpc",
    "/usr/share/doc/dhcpc/changelog.gz",
    "/usr/share/doc/dhcpc/copyright",
    "/usr/share/lintian/overrides/dhcpc",
    "/usr/share/man/man5/dhcpc.conf.5.gz",
    "/usr/share/man/man8/dhcpc.8.gz",
    "/usr/share/polkit-1/rules.d/50-dhcpc-resolved.rules",
];
const DHCLIENT_FILES: &[&str] = &[
    "/sbin/dhclient",
    "/usr/share/doc/dhcpc-dhclient/changelog.gz",
    "/usr/share/doc/dhcpc-dhclient/copyright",
    "/usr/share/man/man8/dhclient.8.gz",
];

/// The packages `scripts/package` built: (dhcpc, dhcpc-dhclient), built once for all tests;
/// those two only.
fn packages() -> (PathBuf, PathBuf) {
    let debs = common::debian_packages();
    assert_eq!(
        debs.len(),
        2,
        "scripts/package built {debs:?}, not 2 packages"
    );
    (
        common::debian_package("dhcpc"),
        common::debian_package("dhcpc-dhclient"),
    )
}

/// What the tests need on the host, and the host's state to compare at the end.
fn start() -> HostWitness {
    require_root();
    for (program, package) in [
        ("dpkg-buildpackage", "dpkg-dev"),
        ("man", "man-db"),
        ("systemd-analyze", "systemd"),
        ("systemd-sysusers", "systemd"),
        ("adduser", "adduser"),
        ("useradd", "passwd"),
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
    ] {
        require_program(
            program,
            &format!("install {package} (`sudo scripts/test` does)"),
        );
    }
    HostWitness::read()
}

/// The host as the test found it: nothing of the packages arrived there.
fn host_untouched(before: HostWitness) {
    assert_eq!(
        HostWitness::read(),
        before,
        "the host's dpkg database, accounts or files changed"
    );
}

/// A root with a stand-in systemctl that records its calls, and /run/systemd/system, so that
/// the maintainer scripts take their "systemd is running" branch; without policy-rc.d (this
/// machine's says 101: no service actions), so that deb-systemd-invoke passes them on.
fn root_with_systemd_stub() -> Root {
    let root = Root::new();
    root.ok("rm -f /usr/sbin/policy-rc.d
         mkdir -p /run/systemd/system /usr/local/sbin
         printf '#!/bin/sh\\necho \"$*\" >> /run/systemctl.log\\n' > /usr/local/sbin/systemctl
         chmod 755 /usr/local/sbin/systemctl");
    root
}

/// What the maintainer scripts asked of systemctl so far.
fn systemctl_calls(root: &Root) -> Vec<String> {
    let log = root.ok("cat /run/systemctl.log 2>/dev/null || true");
    log.lines().map(String::from).collect()
}

/// The account lines of /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow in the root.
fn accounts(root: &Root) -> String {
    root.ok("cat /etc/passwd /etc/group /etc/shadow /etc/gshadow")
}

/// Purge left nothing: the overlay's changes since `before` are only dpkg's and man-db's
/// records and the kept dhcpc user and group, and dpkg knows neither package.
fn assert_nothing_left(root: &Root, before: &Manifest, accounts_before: &str) {
    let left: Vec<String> = changes(before, &root.manifest())
        .into_iter()
        .filter(|c| !records(c))
        .collect();
    assert!(left.is_empty(), "left after purge:\n{}", left.join("\n"));
    let known = root.run("dpkg-query -W dhcpc dhcpc-dhclient");
    assert!(
        !known.status.success(),
        "dpkg still knows: {}",
        describe(&known)
    );
    assert_eq!(root.ok("dpkg-divert --list '*dhclient*'"), "");
    // The dhcpc user and group stay (README "Install"); nothing else of the accounts changed.
    let now = accounts(root);
    let kept: Vec<&str> = now.lines().filter(|l| l.starts_with("dhcpc:")).collect();
    assert_eq!(
        kept.len(),
        4,
        "the dhcpc user and group in the 4 account files: {kept:?}"
    );
    let others: Vec<&str> = now.lines().filter(|l| !l.starts_with("dhcpc:")).collect();
    assert_eq!(others, accounts_before.lines().collect::<Vec<_>>());
}

/// Changes that are records of what happened rather than something left: dpkg's database and
/// log (what they say of the packages is checked apart), man-db's index (rewritten by its
/// trigger), and the account files (checked apart: only the dhcpc lines differ).
fn records(change: &str) -> bool {
    let path = change.split(" (").next().unwrap_or_default();
    path.starts_with("var/lib/dpkg/")
        || path == "var/log/dpkg.log"
        || (path.starts_with("var/cache/man/") && !path.contains("dhc"))
        || [
            "etc/passwd",
            "etc/passwd-",
            "etc/group",
            "etc/group-",
            "etc/shadow",
            "etc/shadow-",
            "etc/gshadow",
            "etc/gshadow-",
            "etc/.pwd.lock",
        ]
        .contains(&path)
}

/// Installs both packages into `root`; returns their paths there.
fn install_both(root: &Root) -> (String, String) {
    let (dhcpc, dhclient) = packages();
    let (dhcpc, dhclient) = (root.put(&dhcpc), root.put(&dhclient));
    root.ok(&format!("dpkg -i {dhcpc} {dhclient}"));
    (dhcpc, dhclient)
}

/// `dhclient --version` in the root, stdout and stderr (ISC's prints to stderr).
fn dhclient_version(root: &Root) -> String {
    root.ok("dhclient --version 2>&1").trim().to_string()
}

#[test]
fn package_installs_switches_dhclient_upgrades_and_purges_to_nothing() {
    let host = start();
    require_program(
        "dhclient",
        "install isc-dhcp-client (`sudo scripts/test` does)",
    );
    let root = root_with_systemd_stub();
    let isc = root.ok("sha256sum < /sbin/dhclient");
    assert!(dhclient_version(&root).contains("isc-dhclient"));
    let (before, accounts_before) = (root.manifest(), accounts(&root));

    let (dhcpc_deb, _) = install_both(&root);
    assert_installed(&root);
    assert_dhclient_is_dhcpc(&root, &isc);
    assert_upgrade_keeps_configuration(&root, &dhcpc_deb);

    // Removing dhcpc-dhclient puts ISC's dhclient and its page back.
    root.ok("dpkg -r dhcpc-dhclient");
    let version = dhclient_version(&root);
    assert!(version.contains("isc-dhclient"), "{version}");
    assert_eq!(root.ok("sha256sum < /sbin/dhclient"), isc);
    root.ok("test ! -e /sbin/dhclient.isc");
    assert!(!read_man(&root, "dhclient").contains("dhcpc - DHCP client"));
    assert_eq!(root.ok("dpkg-divert --list '*dhclient*'"), "");

    assert_remove_keeps_configuration(&root, &before);
    root.ok("dpkg --purge dhcpc dhcpc-dhclient");
    assert_eq!(
        systemctl_calls(&root).last().map(String::as_str),
        Some("--system daemon-reload")
    );
    assert_nothing_left(&root, &before, &accounts_before);
    assert_eq!(root.ok("sha256sum < /sbin/dhclient"), isc);
    drop(root);
    host_untouched(host);
}

/// Just installed: the binary, files, user, man pages and unit; systemd told.
fn assert_installed(root: &Root) {
    assert_eq!(
        root.ok("dhcpc --version").trim(),
        format!("dhcpc {VERSION}")
    );
    assert_installed_files(root);
    assert_eq!(systemctl_calls(root), ["--system daemon-reload"]);
    let user = root.ok("getent passwd dhcpc");
    assert!(user.trim_end().ends_with(":/usr/sbin/nologin"), "{user}");
    root.ok("getent group dhcpc");
    let check = root.ok("dhcpc --check-config");
    assert!(check.contains("/etc/dhcpc.conf: ok"), "{check}");
    assert_man_pages(root);
    assert_unit_verifies(root);
}

/// dhcpc-dhclient installed over isc-dhcp-client: dhclient is dhcpc; ISC's binary (`isc`, its
/// hash) and page are moved aside.
fn assert_dhclient_is_dhcpc(root: &Root, isc: &str) {
    let version = dhclient_version(root);
    assert!(version.starts_with("dhcpc "), "{version}");
    assert_eq!(root.ok("sha256sum < /sbin/dhclient.isc"), isc);
    assert!(read_man(root, "dhclient").contains("dhcpc - DHCP client"));
    let diversions = root.ok("dpkg-divert --list '*dhclient*'");
    assert_eq!(diversions.lines().count(), 2, "{diversions}");
}

/// An upgrade (the same version again) keeps a changed conffile and restarts the instances.
fn assert_upgrade_keeps_configuration(root: &Root, deb: &str) {
    root.ok("echo 'metric = 7' >> /etc/dhcpc.conf");
    root.ok(&format!("dpkg -i {deb}"));
    assert!(root.ok("cat /etc/dhcpc.conf").ends_with("metric = 7\n"));
    let calls = systemctl_calls(root);
    assert!(
        calls.contains(&"try-restart dhcpc@*.service".to_string()),
        "{calls:?}"
    );
}

/// With what a running system adds (an enabled instance, a saved lease as StateDirectory=
/// makes it), `dpkg -r dhcpc` stops the instances and keeps the configuration: the conffile,
/// the enable links and the lease, which the comparison with `before` finds.
fn assert_remove_keeps_configuration(root: &Root, before: &Manifest) {
    root.ok("SYSTEMD_OFFLINE=1 /usr/bin/systemctl enable dhcpc@c0 2>&1");
    root.ok("install -d -o dhcpc -g dhcpc /var/lib/dhcpc && echo x > /var/lib/dhcpc/c0.lease");
    root.ok("dpkg -r dhcpc");
    let calls = systemctl_calls(root);
    assert!(
        calls.ends_with(&[
            "stop dhcpc@*.service".into(),
            "--system daemon-reload".into()
        ]),
        "{calls:?}"
    );
    let kept: Vec<String> = changes(before, &root.manifest())
        .into_iter()
        .filter(|c| !records(c))
        .map(|c| c.split(" (").next().unwrap().to_string())
        .collect();
    let (systemd, rest): (Vec<&String>, Vec<&String>) = kept
        .iter()
        .partition(|p| p.starts_with("etc/systemd/system/"));
    assert_eq!(
        rest,
        ["etc/dhcpc.conf", "var/lib/dhcpc", "var/lib/dhcpc/c0.lease"]
    );
    assert!(
        systemd
            .iter()
            .any(|p| *p == "etc/systemd/system/multi-user.target.wants/dhcpc@c0.service"),
        "no enable link kept: {systemd:?}"
    );
}

#[test]
fn package_without_sysusers_or_isc_dhcp_client_uses_adduser_and_leaves_no_dhclient() {
    let host = start();
    let root = Root::new();
    // Debian 13 has no isc-dhcp-client; minimal systems may have no systemd-sysusers.
    root.ok("dpkg --purge --force-depends isc-dhcp-client 2>&1; rm -f /usr/bin/systemd-sysusers");
    root.ok("test ! -e /sbin/dhclient && ! command -v systemd-sysusers");
    let (before, accounts_before) = (root.manifest(), accounts(&root));

    install_both(&root);
    let user = root.ok("getent passwd dhcpc");
    assert!(user.contains(":/nonexistent:"), "adduser's user: {user}");
    root.ok("getent group dhcpc");
    assert!(
        dhclient_version(&root).starts_with("dhcpc "),
        "{}",
        dhclient_version(&root)
    );
    root.ok("test ! -e /sbin/dhclient.isc");

    root.ok("dpkg -r dhcpc-dhclient");
    root.ok("test ! -e /sbin/dhclient && test ! -L /sbin/dhclient");
    root.ok("dpkg --purge dhcpc dhcpc-dhclient");
    assert_nothing_left(&root, &before, &accounts_before);
    drop(root);
    host_untouched(host);
}

#[test]
fn package_user_is_made_by_useradd_when_neither_sysusers_nor_adduser_is_there() {
    let host = start();
    let root = Root::new();
    root.ok("rm -f /usr/bin/systemd-sysusers /usr/sbin/adduser");
    let (before, accounts_before) = (root.manifest(), accounts(&root));
    let (dhcpc, _) = packages();
    let dhcpc = root.put(&dhcpc);
    root.ok(&format!("dpkg -i {dhcpc}"));
    let user = root.ok("getent passwd dhcpc");
    assert!(
        user.contains(":dhcpc DHCP client:/nonexistent:/usr/sbin/nologin"),
        "useradd's user: {user}"
    );
    root.ok("getent group dhcpc");
    root.ok("dpkg --purge dhcpc");
    assert_nothing_left(&root, &before, &accounts_before);
    drop(root);
    host_untouched(host);
}

/// The files dpkg lists for each package are the expected ones, and each holds this tree's.
fn assert_installed_files(root: &Root) {
    for (package, expected) in [("dhcpc", DHCPC_FILES), ("dhcpc-dhclient", DHCLIENT_FILES)] {
        let listed = root.ok(&format!(
            "dpkg -L {package} | while read -r f; do [ -d \"$f\" ] || echo \"$f\"; done"
        ));
        let mut files: Vec<&str> = listed.lines().filter(|l| l.starts_with('/')).collect();
        files.sort();
        assert_eq!(files, expected, "dpkg -L {package}");
    }
    assert_eq!(root.ok("dpkg --verify dhcpc dhcpc-dhclient"), "");
    assert!(root
        .ok("dpkg-query -W -f '${Conffiles}' dhcpc")
        .contains("/etc/dhcpc.conf"));
    let tree =
        |p: &str| std::fs::read_to_string(format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for (installed, source) in [
        (
            "cat /lib/systemd/system/dhcpc@.service",
            "systemd/dhcpc@.service",
        ),
        (
            "cat /lib/systemd/system/dhcpc6@.service",
            "systemd/dhcpc6@.service",
        ),
        (
            "cat /usr/lib/sysusers.d/dhcpc.conf",
            "systemd/dhcpc.sysusers",
        ),
        (
            "cat /usr/share/polkit-1/rules.d/50-dhcpc-resolved.rules",
            "systemd/dhcpc-resolved.rules",
        ),
        ("cat /etc/dhcpc.conf", "etc/dhcpc.conf"),
        ("zcat /usr/share/man/man8/dhcpc.8.gz", "man/dhcpc.8"),
        (
            "zcat /usr/share/man/man5/dhcpc.conf.5.gz",
            "man/dhcpc.conf.5",
        ),
    ] {
        assert!(
            root.ok(installed) == tree(source),
            "{installed} is not this tree's {source}"
        );
    }
}

/// Runs the rest of a command line as nobody: man-db keeps a formatted copy of each page root
/// reads (/var/cache/man/cat8/dhcpc.8.gz), a file of man-db's that purge would rightly leave.
const AS_NOBODY: &str = "setpriv --reuid=nobody --regid=nogroup --clear-groups";

/// A man page as a user reads it.
fn read_man(root: &Root, page: &str) -> String {
    root.ok(&format!("{AS_NOBODY} man -P cat {page} 2>&1"))
}

fn assert_man_pages(root: &Root) {
    let page = read_man(root, "dhcpc");
    assert!(
        page.contains("dhcpc - DHCP client daemon"),
        "man dhcpc:\n{page}"
    );
    assert!(
        page.contains("dhcpc-dhclient"),
        "man dhcpc says nothing of the packages"
    );
    let conf = read_man(root, "dhcpc.conf");
    assert!(
        conf.contains("dhcpc.conf - configuration file"),
        "man dhcpc.conf:\n{conf}"
    );
    assert_eq!(
        root.ok("man -w 8 dhcpc").trim(),
        "/usr/share/man/man8/dhcpc.8.gz"
    );
}

/// `systemd-analyze verify` of the installed unit is clean; the same unit with a missing
/// ExecStart= binary is not (so the check looks at the installed binary). As nobody, as
/// [`read_man`]: verify runs man for Documentation=.
fn assert_unit_verifies(root: &Root) {
    let out = root.run(&format!(
        "{AS_NOBODY} systemd-analyze verify /lib/systemd/system/dhcpc@.service \
           /lib/systemd/system/dhcpc6@.service"
    ));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && text.trim().is_empty(),
        "verify: {}",
        describe(&out)
    );
    let broken = root.run(&format!(
        "sed 's|^ExecStart=/usr/sbin/dhcpc |ExecStart=/usr/sbin/dhcpc-missing |' \\
           /lib/systemd/system/dhcpc@.service > /tmp/dhcpc@.service
         {AS_NOBODY} systemd-analyze verify /tmp/dhcpc@.service"
    ));
    assert!(
        !broken.status.success()
            && String::from_utf8_lossy(&broken.stderr).contains("dhcpc-missing"),
        "verify passed a unit with no binary: {}",
        describe(&broken)
    );
}
