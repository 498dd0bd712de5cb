//! The container's root: Debian 12 (minbase) made by debootstrap, kept as a tarball under
//! /var/cache/dhcpc-tests/, named after the packages it includes, so that a machine that keeps
//! it (a developer's, CI's on the same machine) unpacks it in seconds instead of building it
//! again; it is built when absent. Each test unpacks its own copy, into its lab's directory (so
//! that no test sees another's changes, and the copy goes with the lab), and installs this
//! tree's dhcpc package into it.

use crate::common::{debian_package, describe, require_program, run_with_deadline, sh};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the tarballs are kept.
const CACHE: &str = "/var/cache/dhcpc-tests";
/// Debian 12, whose systemd (252) the tests boot.
const SUITE: &str = "bookworm";
/// debootstrap downloads and unpacks about 120 packages: a minute here, more on a slow mirror.
const DEBOOTSTRAP_DEADLINE: Duration = Duration::from_secs(20 * 60);
/// Upper bound for one command run chrooted in the root (dpkg, systemctl enable).
const CHROOT_DEADLINE: Duration = Duration::from_secs(120);

/// What a container without udev has: systemd as init, D-Bus, ip.
pub const BASE: &[&str] = &["systemd", "systemd-sysv", "dbus", "iproute2"];
/// The same with udev.
pub const WITH_UDEV: &[&str] = &["systemd", "systemd-sysv", "dbus", "iproute2", "udev"];

/// The tarball of a root with the packages `include`, built first when absent. Builders of the
/// same tarball (test threads, or test processes) take turns on a lock file: the second finds
/// it built.
pub fn tarball(include: &[&str]) -> PathBuf {
    fs::create_dir_all(CACHE).unwrap_or_else(|e| panic!("creating {CACHE}: {e}"));
    let key = format!("{SUITE}-minbase-{}", include.join("+"));
    let tar = Path::new(CACHE).join(format!("{key}.tar"));
    let lock = Path::new(CACHE).join(format!("{key}.lock"));
    let lock = fs::File::create(&lock).unwrap_or_else(|e| panic!("{}: {e}", lock.display()));
    let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("locking the root cache {key}: {e}"));
    if !tar.is_file() {
        build(include, &key, &tar);
    }
    tar
}

/// debootstrap into a directory beside the tarball, trimmed of what no test reads (the
/// downloaded .debs, apt's lists, documentation, translations), then archived. The tarball is
/// renamed into place whole, so a build cut short leaves none.
fn build(include: &[&str], key: &str, tar: &Path) {
    let debootstrap = require_program(
        "debootstrap",
        "install debootstrap (`sudo scripts/test` does) to build the container's root",
    );
    let started = Instant::now();
    let dir = Path::new(CACHE).join(format!("{key}.build"));
    let _ = fs::remove_dir_all(&dir);
    let mut cmd = Command::new(debootstrap);
    // No mirror argument: debootstrap's own default, Debian's.
    cmd.args([
        "--variant=minbase",
        &format!("--include={}", include.join(",")),
    ])
    .args([SUITE, dir.to_str().expect("UTF-8 cache path")]);
    let out = run_with_deadline(cmd, DEBOOTSTRAP_DEADLINE);
    if !out.status.success() {
        let _ = fs::remove_dir_all(&dir);
        panic!("debootstrap {key} failed\n{}", describe(&out));
    }
    let d = dir.display().to_string();
    sh(
        "sh",
        &[
            "-c",
            "cd \"$1\" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* \
             usr/share/doc/* usr/share/man/* usr/share/locale/*",
            "trim",
            &d,
        ],
    );
    let partial = tar.with_extension("tar.partial");
    sh(
        "tar",
        &[
            "--numeric-owner",
            "-C",
            &d,
            "-cf",
            partial.to_str().expect("UTF-8 cache path"),
            ".",
        ],
    );
    fs::rename(&partial, tar).unwrap_or_else(|e| panic!("{}: {e}", tar.display()));
    let _ = fs::remove_dir_all(&dir);
    eprintln!(
        "built the container root {} in {:.0?}",
        tar.display(),
        started.elapsed()
    );
}

/// Unpacks the root with the packages `include` into `dest` (made here), this tree's dhcpc
/// package installed in it as a system image would have it: `dpkg -i` chrooted into the root
/// (the postinst makes the dhcpc user with systemd-sysusers; no systemd runs there yet).
pub fn make(include: &[&str], dest: &Path) {
    let tar = tarball(include);
    fs::create_dir_all(dest).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    let d = dest.to_str().expect("UTF-8 lab path");
    sh(
        "tar",
        &[
            "--numeric-owner",
            "-xf",
            tar.to_str().expect("UTF-8 cache path"),
            "-C",
            d,
        ],
    );
    let deb = debian_package("dhcpc");
    fs::copy(&deb, dest.join("tmp/dhcpc.deb")).expect("copying the package into the root");
    chroot(dest, &["dpkg", "-i", "/tmp/dhcpc.deb"]);
    let _ = fs::remove_file(dest.join("tmp/dhcpc.deb"));
}

/// Runs `args` chrooted into `root`, with a clean environment; fails the test if it fails.
pub fn chroot(root: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("chroot");
    cmd.arg(root)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("DEBIAN_FRONTEND", "noninteractive");
    let out = run_with_deadline(cmd, CHROOT_DEADLINE);
    assert!(
        out.status.success(),
        "chroot {} {}: {}",
        root.display(),
        args.join(" "),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `text` to `path` inside `root` (its directories made).
pub fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path.trim_start_matches('/'));
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    fs::write(&file, text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}
