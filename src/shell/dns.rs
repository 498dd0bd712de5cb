//! Where the leases' DNS settings go (`--dns-mode`), and how `auto` chooses:
//!
//! 1. systemd-resolved, when it manages DNS: the resolv.conf dhcpc would write (--resolv-conf,
//!    /etc/resolv.conf by default) is a symlink into /run/systemd/resolve/ (resolved's stub or
//!    its resolv.conf: writing through to it would be overwritten by resolved and would hide the
//!    other links' servers), or the name org.freedesktop.resolve1 has an owner on the system bus
//!    (resolved is running, so nss-resolve and its stub serve per-link DNS, whatever
//!    /etc/resolv.conf is). The bus is asked only when there is one to ask (see
//!    [`resolved::bus_expected`]), once, at start;
//! 2. else resolvconf(8), when a `resolvconf` program is on PATH;
//! 3. else the file.

use crate::cli::DnsMode;
use crate::shell::resolved;
use std::path::{Path, PathBuf};
use tracing::debug;

/// Where DNS settings go, once chosen.
pub enum Chosen {
    None,
    File {
        path: PathBuf,
        run_dir: PathBuf,
    },
    Resolvconf(PathBuf),
    /// With the connection made while choosing, if any.
    Resolved(Option<zbus::Connection>),
}

impl Chosen {
    /// A few words for the log: `the file /etc/resolv.conf`, `resolvconf (/usr/sbin/...)`.
    pub fn describe(&self) -> String {
        match self {
            Chosen::None => "nowhere (--dns-mode none)".into(),
            Chosen::File { path, .. } => format!("the file {}", path.display()),
            Chosen::Resolvconf(p) => format!("resolvconf ({})", p.display()),
            Chosen::Resolved(_) => "systemd-resolved (D-Bus)".into(),
        }
    }
}

/// True if `path` is a symlink into systemd-resolved's runtime directory.
pub fn points_into_resolved(path: &Path) -> bool {
    const RESOLVED: &str = "/run/systemd/resolve/";
    let Ok(link) = std::fs::read_link(path) else {
        return false;
    };
    // As written (resolved's own symlink is absolute; a relative one is taken from the
    // link's directory) and as resolved through every symlink on the way.
    let written = match path.parent() {
        Some(dir) if link.is_relative() => dir.join(&link),
        _ => link,
    };
    written.starts_with(RESOLVED)
        || std::fs::canonicalize(path).is_ok_and(|t| t.starts_with(RESOLVED))
}

/// The first `program` in PATH that is an executable file.
pub fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Chooses where DNS settings go. Returns the choice and, for `auto`, why.
pub async fn choose(mode: DnsMode, resolv_conf: &Path, run_dir: &Path) -> (Chosen, String) {
    let file = || Chosen::File {
        path: resolv_conf.to_path_buf(),
        run_dir: run_dir.to_path_buf(),
    };
    let resolvconf = || on_path("resolvconf").unwrap_or_else(|| PathBuf::from("resolvconf"));
    match mode {
        DnsMode::None => return (Chosen::None, "--dns-mode none".into()),
        DnsMode::File => return (file(), "--dns-mode file".into()),
        DnsMode::Resolvconf => {
            return (
                Chosen::Resolvconf(resolvconf()),
                "--dns-mode resolvconf".into(),
            )
        }
        DnsMode::Resolved => return (Chosen::Resolved(None), "--dns-mode resolved".into()),
        DnsMode::Auto => {}
    }
    if points_into_resolved(resolv_conf) {
        return (
            Chosen::Resolved(None),
            format!(
                "auto: {} is systemd-resolved's symlink",
                resolv_conf.display()
            ),
        );
    }
    let bus = if resolved::bus_expected() {
        match resolved::connect().await {
            Ok(conn) => match resolved::resolved_on(&conn).await {
                Ok(true) => {
                    return (
                        Chosen::Resolved(Some(conn)),
                        "auto: systemd-resolved is on the system bus".into(),
                    )
                }
                Ok(false) => "systemd-resolved is not on the system bus",
                Err(e) => {
                    debug!("asking the system bus for systemd-resolved: {e}");
                    "the system bus did not say whether systemd-resolved runs"
                }
            },
            Err(e) => {
                debug!("connecting to the system bus: {e}");
                "no system bus"
            }
        }
    } else {
        "no system bus"
    };
    if let Some(p) = on_path("resolvconf") {
        return (
            Chosen::Resolvconf(p),
            format!("auto: {bus}; resolvconf is installed"),
        );
    }
    (file(), format!("auto: {bus}, no resolvconf on PATH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_symlinks_are_recognised() {
        let d = std::env::temp_dir().join(format!("dhcpc-dns-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let stub = d.join("stub");
        std::os::unix::fs::symlink("/run/systemd/resolve/stub-resolv.conf", &stub).unwrap();
        assert!(
            points_into_resolved(&stub),
            "dangling is fine: the link says it"
        );
        let plain = d.join("plain");
        std::fs::write(&plain, "nameserver 192.0.2.1\n").unwrap();
        assert!(!points_into_resolved(&plain));
        let other = d.join("other");
        std::os::unix::fs::symlink(&plain, &other).unwrap();
        assert!(!points_into_resolved(&other));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
