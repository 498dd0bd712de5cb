//! A throwaway root to install packages into: an overlay over this machine's / whose writable
//! layer is a tmpfs, mounted in a private mount namespace (and a network namespace of its own),
//! with every command run chrooted into the overlay.
//!
//! Why the host cannot be touched: the tmpfs, the overlay and the mounts of /proc, /dev, /run and
//! /tmp inside it exist only in the mount namespace of the holder process (`unshare --mount
//! --propagation private`); dpkg and the maintainer scripts run chrooted into the overlay, so
//! everything they write (dpkg's database, /usr, /etc, /var) lands in the tmpfs, which goes away
//! with the namespace. Every command first checks that its / is the overlay and exits 99
//! otherwise. The tests also compare the host's own dpkg database, accounts and files before and
//! after ([`HostWitness`]).

use crate::common::{describe, run_with_deadline, stdout};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// PATH inside the root: /usr/local/sbin first, where a stand-in systemctl may go.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Upper bound for one command in the root (dpkg with man-db's trigger takes about a second).
const COMMAND_DEADLINE: Duration = Duration::from_secs(120);

/// Refuses to go on unless / is the overlay: the first line of every command run in the root.
const GUARD: &str = r#"[ "$(stat -f -c %T /)" = overlayfs ] || { echo "throwaway root: / is not the overlay" >&2; exit 99; }"#;

/// Sets up the namespace, then stays as its holder. The private mount namespace is made before
/// the first mount: nothing mounted here is seen outside.
const HOLDER: &str = r#"set -eu
T=$1
mount -t tmpfs -o mode=755 dhcpc-package "$T/ns"
mkdir "$T/ns/upper" "$T/ns/work" "$T/ns/root"
mount -t overlay dhcpc-package -o "lowerdir=/,upperdir=$T/ns/upper,workdir=$T/ns/work" "$T/ns/root"
mount -t proc proc "$T/ns/root/proc"
mount --bind /dev "$T/ns/root/dev"
mount -t tmpfs -o mode=755 tmpfs "$T/ns/root/run"
mount -t tmpfs -o mode=1777 tmpfs "$T/ns/root/tmp"
echo ready
exec sleep infinity
"#;

/// Lists the overlay's upper layer (what the root changed) with, for each entry, whether the
/// host has the same at that path: `HOST<TAB>MODE:UID:GID<TAB>KIND<TAB>PATH`, HOST one of `same`,
/// `changed`, `absent`, `hidden` (a whiteout: a host file deleted in the root).
const MANIFEST: &str = r#"set -eu
cd "$1"
find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
    p=${p#./}
    meta=$(stat -c %a:%u:%g "$p")
    hostmeta=$(stat -c %a:%u:%g "/$p" 2>/dev/null || echo none)
    if [ -L "$p" ]; then
        kind="link:$(readlink "$p")"
        if [ -L "/$p" ] && [ "$(readlink "/$p")" = "$(readlink "$p")" ]; then host=same
        elif [ -e "/$p" ] || [ -L "/$p" ]; then host=changed; else host=absent; fi
    elif [ -d "$p" ]; then
        kind=dir
        if [ -d "/$p" ] && [ ! -L "/$p" ] && [ "$meta" = "$hostmeta" ]; then host=same
        elif [ -e "/$p" ]; then host=changed; else host=absent; fi
    elif [ -c "$p" ]; then
        kind=whiteout; host=hidden
    elif [ -f "$p" ]; then
        kind="file:$(sha256sum < "$p" | cut -c1-16)"
        if [ -f "/$p" ] && [ ! -L "/$p" ] && [ "$meta" = "$hostmeta" ] && cmp -s "$p" "/$p"; then host=same
        elif [ -e "/$p" ]; then host=changed; else host=absent; fi
    else
        kind=other; host=changed
    fi
    printf '%s\t%s\t%s\t%s\n' "$host" "$meta" "$kind" "$p"
done
"#;

/// One entry of the upper layer: how the host compares, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub host: String,
    pub what: String,
}

/// The overlay's upper layer by path (relative to /).
pub type Manifest = BTreeMap<String, Entry>;

/// The throwaway root and the namespace that holds it.
pub struct Root {
    holder: Child,
    dir: PathBuf,
}

static COUNT: AtomicUsize = AtomicUsize::new(0);

impl Root {
    /// Mounts a fresh overlay over / in a namespace of its own.
    pub fn new() -> Root {
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("dhcpc-package-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ns")).unwrap();
        let mut holder = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "--net",
                "sh",
                "-c",
                HOLDER,
                "sh",
            ])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting unshare (util-linux)");
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line);
        if line.trim() != "ready" {
            let status = holder.wait().map(|s| s.to_string()).unwrap_or_default();
            let mut err = String::new();
            if let Some(mut e) = holder.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let _ = std::fs::remove_dir_all(&dir);
            panic!("the throwaway root was not made ({status}): {}", err.trim());
        }
        Root { holder, dir }
    }

    fn pid(&self) -> String {
        self.holder.id().to_string()
    }

    /// The overlay as seen in the namespace (not from the host: there it is an empty directory).
    pub fn merged(&self) -> PathBuf {
        self.dir.join("ns/root")
    }

    /// Runs a shell script chrooted into the root, as root.
    pub fn run(&self, script: &str) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.pid(), "--mount", "--net", "--", "chroot"])
            .arg(self.merged())
            .args(["/bin/sh", "-c", &format!("{GUARD}\n{script}")]);
        cmd.env_clear()
            .env("PATH", PATH)
            .env("LC_ALL", "C")
            .env("HOME", "/root")
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_with_deadline(cmd, COMMAND_DEADLINE)
    }

    /// Runs a script in the root that must succeed; returns its stdout and stderr together.
    pub fn ok(&self, script: &str) -> String {
        let out = self.run(script);
        assert!(
            out.status.success(),
            "in the throwaway root: {script}\n{}",
            describe(&out)
        );
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr))
    }

    /// Copies a host file into the root's /tmp (a tmpfs of the namespace, outside the overlay).
    pub fn put(&self, host: &Path) -> String {
        let name = host.file_name().unwrap().to_string_lossy().into_owned();
        let out = self.in_namespace(&[
            "cp",
            "--",
            &host.to_string_lossy(),
            &format!("{}/tmp/{name}", self.merged().display()),
        ]);
        assert!(
            out.status.success(),
            "copying {}: {}",
            host.display(),
            describe(&out)
        );
        format!("/tmp/{name}")
    }

    /// What the root changed: its upper layer, each entry compared with the host's.
    pub fn manifest(&self) -> Manifest {
        let upper = self.dir.join("ns/upper");
        let out = self.in_namespace(&["sh", "-c", MANIFEST, "sh", &upper.to_string_lossy()]);
        assert!(
            out.status.success(),
            "listing the overlay: {}",
            describe(&out)
        );
        stdout(&out)
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(4, '\t');
                let (host, meta, kind, path) = (f.next()?, f.next()?, f.next()?, f.next()?);
                let what = format!("{kind} {meta}");
                Some((
                    path.to_string(),
                    Entry {
                        host: host.into(),
                        what,
                    },
                ))
            })
            .collect()
    }

    /// A command in the namespace but outside the chroot (it sees the host's / and the tmpfs).
    fn in_namespace(&self, argv: &[&str]) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.pid(), "--mount", "--net", "--"])
            .args(argv);
        run_with_deadline(cmd, COMMAND_DEADLINE)
    }
}

impl Drop for Root {
    /// The holder's end takes the namespace with it: the overlay and its tmpfs go.
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Entries of `after` that are neither the same as in `before` nor the same as the host's,
/// and entries of `before` gone from `after`.
pub fn changes(before: &Manifest, after: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for (path, e) in after {
        if before.get(path) != Some(e) && e.host != "same" {
            out.push(format!("{path} ({}, {})", e.host, e.what));
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        out.push(format!("{path} (gone)"));
    }
    out
}

/// What the host holds of the packages: read before and after, it must not change.
#[derive(Debug, PartialEq, Eq)]
pub struct HostWitness {
    dpkg_status: Vec<String>,
    diversions: Vec<String>,
    accounts: Vec<String>,
    files: Vec<(String, Option<u64>)>,
    /// A hash of /sbin/dhclient's bytes (ISC's, on a machine that runs the tests).
    dhclient: Option<u64>,
}

impl HostWitness {
    pub fn read() -> HostWitness {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        // The packages' entries in dpkg's status file, and the diversions' owner lines.
        let ours = |l: &&str| {
            [
                "Package: dhcpc",
                "Package: dhcpc-dhclient",
                "dhcpc-dhclient",
            ]
            .contains(l)
        };
        HostWitness {
            dpkg_status: read("/var/lib/dpkg/status")
                .lines()
                .filter(ours)
                .map(String::from)
                .collect(),
            diversions: read("/var/lib/dpkg/diversions")
                .lines()
                .filter(ours)
                .map(String::from)
                .collect(),
            accounts: ["/etc/passwd", "/etc/group"]
                .iter()
                .flat_map(|f| {
                    read(f)
                        .lines()
                        .filter(|l| l.starts_with("dhcpc:"))
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .collect(),
            files: [
                "/usr/sbin/dhcpc",
                "/etc/dhcpc.conf",
                "/lib/systemd/system/dhcpc@.service",
                "/usr/lib/sysusers.d/dhcpc.conf",
                "/sbin/dhclient.isc",
            ]
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    std::fs::symlink_metadata(p).ok().map(|m| m.len()),
                )
            })
            .collect(),
            dhclient: std::fs::read("/sbin/dhclient").ok().map(|bytes| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut h);
                h.finish()
            }),
        }
    }
}
