//! What one interface keeps on disk, as one value the driver owns: its saved lease (dhcpc's
//! `LEASE_DIR/IFACE.lease`, or dhclient's `-lf` file in dhclient's format) and the host's
//! DUID. Reads are done here, at once (they are small and bounded); writes go to the
//! writer thread of [`crate::shell::files`], in order, atomically.

use crate::core::request::new_duid;
use crate::lease::Lease;
use crate::leasefile;
use crate::shell::clock;
use crate::shell::files::Files;
use crate::shell::options::CommonOptions;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// The most of a lease file that is read: a real one is a few hundred bytes, and a huge file
/// (a disk error, a prank) is not read whole into a daemon meant to stay small.
const MAX_LEASE_FILE: u64 = 64 * 1024;

/// A saved lease as found at start.
#[derive(Debug, Default)]
pub struct Found {
    /// The lease to ask for again, and where unicast messages to its server went
    /// ([`leasefile::Saved::server_mac`]).
    pub usable: Option<(Lease, Option<[u8; 6]>)>,
    /// A lease that may still be on the interface but is not to be asked for again here
    /// ([`leasefile::Saved::leftover_for`]).
    pub leftover: Option<Lease>,
}

/// One interface's files.
pub struct Store {
    name: Arc<str>,
    /// Where files go (`--lease-dir`, dhclient's `-lf`).
    opts: Arc<CommonOptions>,
    files: Files,
}

impl Store {
    /// The files of interface `name`, where `opts` says, written through `files`.
    pub fn new(name: Arc<str>, opts: Arc<CommonOptions>, files: Files) -> Store {
        Store { name, opts, files }
    }

    /// `LEASE_DIR/IFACE.lease`, when there is a lease directory and no `-lf` file.
    fn lease_file(&self) -> Option<PathBuf> {
        if self.opts.dhclient_lease_file.is_some() {
            return None;
        }
        let dir = self.opts.lease_dir.as_ref()?;
        Some(dir.join(format!("{}.lease", self.name)))
    }

    /// The saved lease of this interface with hardware address `mac`: usable if the file is
    /// there, reads as a sane lease, and may be asked for again here
    /// ([`leasefile::Saved::usable_for`]).
    pub fn load(&self, mac: &[u8; 6]) -> Found {
        if let Some(path) = &self.opts.dhclient_lease_file {
            let usable = load_dhclient_lease(path, &self.name).map(|l| (l, None));
            return Found {
                usable,
                leftover: None,
            };
        }
        let Some(path) = self.lease_file() else {
            return Found::default();
        };
        let text = match read_bounded(&path) {
            Ok(Some(text)) => text,
            Ok(None) => return Found::default(),
            Err(e) => {
                warn!("ignoring {}: {e}; asking for a new lease", path.display());
                return Found::default();
            }
        };
        let saved = match leasefile::parse(&text, clock::now(), unix_now()) {
            Ok(saved) => saved,
            Err(e) => {
                warn!("ignoring {}: {e}; asking for a new lease", path.display());
                return Found::default();
            }
        };
        let server_mac = saved.server_mac;
        let leftover = saved.leftover_for(&self.name, mac).cloned();
        match saved.usable_for(&self.name, mac) {
            Ok(lease) => Found {
                usable: Some((lease, server_mac)),
                leftover: None,
            },
            Err(why) => {
                let not_again = "not asking for the lease in";
                info!("{not_again} {} again: {why}", path.display());
                Found {
                    usable: None,
                    leftover,
                }
            }
        }
    }

    /// Saves `lease` (its server's MAC too, in dhcpc's format), so that a restart asks for it
    /// again.
    pub fn save(&self, lease: &Lease, mac: &[u8; 6], server_mac: Option<[u8; 6]>) {
        let acquired = leasefile::acquired_unix(lease.start, clock::now(), unix_now());
        if let Some(path) = &self.opts.dhclient_lease_file {
            let text = dhclient_lease_text(path, &self.name, Some((lease, acquired)));
            self.files.save_lease(path.clone(), text);
        } else if let Some(path) = self.lease_file() {
            let text = leasefile::render_with_peer(&self.name, mac, lease, acquired, server_mac);
            self.files.save_lease(path, text);
        }
    }

    /// Drops the saved lease.
    pub fn forget(&self) {
        if let Some(path) = &self.opts.dhclient_lease_file {
            let text = dhclient_lease_text(path, &self.name, None);
            self.files.save_lease(path.clone(), text);
        } else if let Some(path) = self.lease_file() {
            self.files.remove_lease(path);
        }
    }
}

/// The saved lease file's text: None when there is none; an error (said by the caller) when
/// it is not a readable text file of sane size (a directory, binary garbage, megabytes).
pub fn read_bounded(path: &Path) -> io::Result<Option<String>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_LEASE_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_LEASE_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} KiB", MAX_LEASE_FILE / 1024),
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not text"))
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The host's DUID (for `--clientid duid`): stored in the lease directory as `duid` (hex), and
/// made the first time it is needed: a DUID-UUID (RFC 6355) of 16 random bytes, one for every
/// interface of the host, kept across reboots and NIC changes. Should the directory not take
/// it (or there be none), the interface's DUID-LL (type 3, hardware type 1, the MAC) serves
/// for this run.
pub fn host_duid(lease_dir: Option<&Path>, mac: [u8; 6]) -> Vec<u8> {
    let fallback = || [&[0u8, 3, 0, 1][..], &mac].concat();
    let Some(dir) = lease_dir else {
        return fallback();
    };
    let path = dir.join("duid");
    if let Some(duid) = std::fs::read_to_string(&path)
        .ok()
        .as_deref()
        .and_then(parse_duid)
    {
        return duid;
    }
    let mut random = [0u8; 16];
    let made = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .and_then(|()| std::fs::create_dir_all(dir))
        .map(|()| new_duid(random))
        .and_then(|duid| {
            let hex: String = duid.iter().map(|b| format!("{b:02x}")).collect();
            crate::shell::atomic::write_atomic(&path, format!("{hex}\n").as_bytes())?;
            Ok(duid)
        });
    match made {
        Ok(duid) => {
            info!("made this host's DUID, kept in {}", path.display());
            duid
        }
        Err(e) => {
            warn!(
                "cannot keep a DUID in {} ({e}): using the interface's DUID-LL",
                path.display()
            );
            fallback()
        }
    }
}

/// A DUID as kept in the `duid` file: hex, 3 to 130 bytes.
fn parse_duid(text: &str) -> Option<Vec<u8>> {
    let hex = text.trim();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    bytes.filter(|b| (3..=130).contains(&b.len()))
}

/// The dhclient lease file `path` with `iface`'s lease replaced by `lease` (and the Unix time
/// it started), or dropped (None): see [`crate::dhclient::leases::rewrite`].
fn dhclient_lease_text(path: &Path, iface: &str, lease: Option<(&Lease, u64)>) -> String {
    let old = read_bounded(path).ok().flatten();
    let block = lease.map(|(l, acquired)| crate::dhclient::leases::render(iface, l, acquired));
    crate::dhclient::leases::rewrite(old.as_deref(), iface, block.as_deref())
}

/// The newest unexpired lease for `iface` in the dhclient lease file `path`.
fn load_dhclient_lease(path: &Path, iface: &str) -> Option<Lease> {
    let ignoring =
        |e: &dyn fmt::Display| warn!("ignoring {}: {e}; asking for a new lease", path.display());
    let text = match read_bounded(path) {
        Ok(text) => text?,
        Err(e) => {
            ignoring(&e);
            return None;
        }
    };
    match crate::dhclient::leases::latest(&text, iface, clock::now(), unix_now()) {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            info!("{} holds no unexpired lease for {iface}", path.display());
            None
        }
        Err(e) => {
            ignoring(&e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duid_file_reads_as_hex_of_sane_length() {
        assert_eq!(parse_duid("000400\n"), Some(vec![0, 4, 0]));
        assert_eq!(parse_duid("0004"), None);
        assert_eq!(parse_duid("zz0400"), None);
        assert_eq!(parse_duid(&"00".repeat(131)), None);
    }

    #[test]
    fn the_duid_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mac = [2, 0, 0, 0, 0, 1];
        let first = host_duid(Some(dir.path()), mac);
        assert_eq!(&first[..2], &[0, 4], "a DUID-UUID");
        assert_eq!(first.len(), 18);
        assert_eq!(host_duid(Some(dir.path()), [2, 0, 0, 0, 0, 2]), first);
        assert_eq!(host_duid(None, mac), vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn a_lease_file_that_is_not_text_or_too_big_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_bounded(&dir.path().join("none")).unwrap().is_none());
        assert!(read_bounded(dir.path()).is_err());
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 70 * 1024]).unwrap();
        assert!(read_bounded(&big).is_err());
        let bin = dir.path().join("bin");
        std::fs::write(&bin, [0xff, 0xfe]).unwrap();
        assert!(read_bounded(&bin).is_err());
    }
}
