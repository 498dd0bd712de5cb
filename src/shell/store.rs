//! What one interface keeps on disk, as one value the driver owns: its saved lease (dhcpc's
//! `LEASE_DIR/IFACE.lease`, or dhclient's `-lf` file in dhclient's format) and the host's
//! DUID. Reads are done here, at once (they are small and bounded); writes go to the
//! writer thread of [`crate::shell::files`], in order, atomically.

use crate::dhclient::duid::{self, DuidType};
use crate::lease::Lease;
use crate::leasefile;
use crate::shell::clock;
use crate::shell::files::Files;
use crate::shell::options::CommonOptions;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
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
    /// The DUID the `-lf` file is to hold as its `default-duid` line, once one is in use: every
    /// rewrite of the file keeps it first, as dhclient's do.
    lf_duid: OnceLock<Vec<u8>>,
}

impl Store {
    /// The files of interface `name`, where `opts` says, written through `files`.
    pub fn new(name: Arc<str>, opts: Arc<CommonOptions>, files: Files) -> Store {
        Store {
            name,
            opts,
            files,
            lf_duid: OnceLock::new(),
        }
    }

    /// The host's DUID (for `--clientid duid`), where dhclient keeps it: with a dhclient lease
    /// file (`-lf`), its `default-duid` line; else `LEASE_DIR/duid`, in hex. When there is none
    /// yet, it is taken from the `--duid-file` (dhclient's -df) or made (`--duid-type`), and
    /// kept there, as dhclient does, so that the next run (and the DHCPv6 side, which reads
    /// the same files) uses the same one.
    pub fn duid(&self, mac: [u8; 6]) -> Vec<u8> {
        let kept = match &self.opts.dhclient_lease_file {
            Some(lf) => read_default_duid(lf),
            None => self.opts.lease_dir.as_deref().and_then(read_hex_duid),
        };
        if let Some(d) = kept {
            let _ = self.lf_duid.set(d.clone());
            return d;
        }
        let from_df = self
            .opts
            .duid_file
            .as_deref()
            .and_then(|p| Some((read_default_duid(p)?, p)));
        match from_df {
            Some((d, p)) => self.keep_duid(d, &format!("taken from {}", p.display()), None),
            None => match random16() {
                Ok(r) => {
                    let made = duid::make(self.opts.duid_type, mac, unix_now(), r);
                    self.keep_duid(made, "made", Some(mac))
                }
                Err(e) => {
                    warn!("cannot make a DUID (/dev/urandom: {e}): using the interface's DUID-LL");
                    ll_duid(mac)
                }
            },
        }
    }

    /// Keeps a DUID new to this host where [`Store::duid`] looks for it; `how` it came. One
    /// made here (`made_for`, the interface's MAC) that cannot be kept gives way to the
    /// interface's DUID-LL, which is the same at every run.
    fn keep_duid(&self, new: Vec<u8>, how: &str, made_for: Option<[u8; 6]>) -> Vec<u8> {
        if let Some(lf) = &self.opts.dhclient_lease_file {
            let _ = self.lf_duid.set(new.clone());
            let old = read_bounded(lf).ok().flatten();
            let text = duid::with_default_duid(old.as_deref(), &new);
            self.files.save_lease(lf.clone(), text);
            info!("this host's DUID, {how}, is kept in {}", lf.display());
            return new;
        }
        let fallback = made_for.map(ll_duid);
        let Some(dir) = self.opts.lease_dir.as_deref() else {
            return fallback.unwrap_or(new);
        };
        let path = dir.join("duid");
        let hex: String = new.iter().map(|b| format!("{b:02x}")).collect();
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            crate::shell::atomic::write_atomic(&path, format!("{hex}\n").as_bytes())
        });
        match written {
            Ok(()) => {
                info!("this host's DUID, {how}, is kept in {}", path.display());
                new
            }
            Err(e) => {
                let instead = match fallback {
                    Some(_) => ": using the interface's DUID-LL",
                    None => "",
                };
                warn!("cannot keep a DUID in {} ({e}){instead}", path.display());
                fallback.unwrap_or(new)
            }
        }
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where files go.
    pub fn options(&self) -> &CommonOptions {
        &self.opts
    }

    /// The writer of the files.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The DUID the `-lf` file is to hold first, once one is in use.
    pub fn lf_duid(&self) -> Option<&[u8]> {
        self.lf_duid.get().map(Vec::as_slice)
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
            let text = self.dhclient_lease_text(path, Some((lease, acquired)));
            self.files.save_lease(path.clone(), text);
        } else if let Some(path) = self.lease_file() {
            let text = leasefile::render_with_peer(&self.name, mac, lease, acquired, server_mac);
            self.files.save_lease(path, text);
        }
    }

    /// Drops the saved lease.
    pub fn forget(&self) {
        if let Some(path) = &self.opts.dhclient_lease_file {
            let text = self.dhclient_lease_text(path, None);
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

/// The interface's DUID-LL (type 3, hardware type 1, the MAC): the DUID of a run that cannot
/// keep one, the same at every run.
fn ll_duid(mac: [u8; 6]) -> Vec<u8> {
    duid::make(DuidType::Ll, mac, 0, [0; 16])
}

fn random16() -> io::Result<[u8; 16]> {
    let mut random = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))?;
    Ok(random)
}

/// The `default-duid` of the dhclient lease file `path`, when it holds one.
fn read_default_duid(path: &Path) -> Option<Vec<u8>> {
    duid::parse(&read_bounded(path).ok()??)
}

/// `LEASE_DIR/duid`, when it holds a DUID.
fn read_hex_duid(dir: &Path) -> Option<Vec<u8>> {
    parse_duid(&std::fs::read_to_string(dir.join("duid")).ok()?)
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

impl Store {
    /// The dhclient lease file `path` with this interface's lease replaced by `lease` (and the
    /// Unix time it started), or dropped (None): see [`crate::dhclient::leases::rewrite`]; the
    /// DUID in use first, when the file is to hold one.
    fn dhclient_lease_text(&self, path: &Path, lease: Option<(&Lease, u64)>) -> String {
        let old = read_bounded(path).ok().flatten();
        let block =
            lease.map(|(l, acquired)| crate::dhclient::leases::render(&self.name, l, acquired));
        let text = crate::dhclient::leases::rewrite(old.as_deref(), &self.name, block.as_deref());
        match self.lf_duid.get() {
            Some(d) => duid::with_default_duid(Some(&text), d),
            None => text,
        }
    }
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

    /// A store for interface eth0 with dhcpc's options `args`, and its file writer.
    fn store(args: &[&str]) -> Store {
        use clap::Parser;
        let cli =
            crate::cli::Cli::try_parse_from(["dhcpc"].iter().chain(args).chain(&["eth0"])).unwrap();
        let opts = Arc::new(crate::daemon::options::common_options(&cli));
        let files = Files::start(crate::shell::dns::Chosen::None, vec![]).unwrap();
        Store::new("eth0".into(), opts, files)
    }

    /// Waits until the store's writes are done.
    fn flushed(s: &Store) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(s.files.flush());
    }

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn a_lease() -> Lease {
        let a = |s: &str| s.parse().unwrap();
        Lease {
            address: a("198.51.100.23"),
            prefix_len: 24,
            broadcast: a("198.51.100.255"),
            server_id: a("198.51.100.1"),
            routers: vec![a("198.51.100.1")],
            dns: vec![],
            domain: None,
            mtu: None,
            classless_routes: vec![],
            search: vec![],
            ntp: vec![],
            next_server: None,
            options: Vec::new().into(),
            lease_secs: 3600,
            t1_secs: 1800,
            t2_secs: 3150,
            start: clock::now(),
        }
    }

    #[test]
    fn the_duid_is_made_once_and_kept_in_the_lease_dir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let first = store(&["--lease-dir", d]).duid(MAC);
        assert_eq!(&first[..2], &[0, 4], "a DUID-UUID");
        assert_eq!(first.len(), 18);
        assert_eq!(store(&["--lease-dir", d]).duid([2, 0, 0, 0, 0, 2]), first);
        // Made as dhclient -i makes it (LLT, LL), and taken from a dhclient file (-df).
        let llt = tempfile::tempdir().unwrap();
        let llt = store(&[
            "--lease-dir",
            llt.path().to_str().unwrap(),
            "--duid-type",
            "llt",
        ]);
        assert_eq!(llt.duid(MAC)[..4], [0, 1, 0, 1]);
        let df = dir.path().join("dhclient6.eth0.leases");
        std::fs::write(&df, duid::render(&[0, 3, 0, 1, 2, 0, 0, 0, 0, 9])).unwrap();
        let other = tempfile::tempdir().unwrap();
        let o = other.path().to_str().unwrap();
        let s = store(&["--lease-dir", o, "--duid-file", df.to_str().unwrap()]);
        assert_eq!(s.duid(MAC), [0, 3, 0, 1, 2, 0, 0, 0, 0, 9]);
        assert_eq!(
            std::fs::read_to_string(other.path().join("duid")).unwrap(),
            "00030001020000000009\n"
        );
    }

    #[test]
    fn without_a_place_to_keep_it_the_duid_is_the_interfaces_ll() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        // A lease "directory" that is a file: nothing can be kept there.
        let s = store(&["--lease-dir", file.to_str().unwrap()]);
        assert_eq!(s.duid(MAC), vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn with_a_dhclient_lease_file_the_duid_is_its_default_duid_line() {
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("dhclient.eth0.leases");
        let df = dir.path().join("dhclient6.eth0.leases");
        let lf_s = lf.to_str().unwrap();
        let args = [
            "--dhclient-lease-file",
            lf_s,
            "--duid-type",
            "llt",
            "--duid-file",
            df.to_str().unwrap(),
        ];
        // None anywhere: made (LLT), and written first in the -lf file; -df is only read.
        let s = store(&args);
        let made = s.duid(MAC);
        assert_eq!(made[..4], [0, 1, 0, 1]);
        assert_eq!(made[8..], MAC);
        s.save(&a_lease(), &MAC, None);
        flushed(&s);
        let text = std::fs::read_to_string(&lf).unwrap();
        assert!(text.starts_with(&duid::render(&made)), "{text}");
        assert!(text.contains("lease {"), "{text}");
        assert!(!df.exists());
        // The next run takes it from there; a release keeps it.
        let again = store(&args);
        assert_eq!(again.duid([2, 0, 0, 0, 0, 7]), made);
        again.forget();
        flushed(&again);
        let text = std::fs::read_to_string(&lf).unwrap();
        assert_eq!(text, duid::render(&made));
        // One in the -df file (the DHCPv6 side's) counts when -lf has none, and moves there.
        std::fs::remove_file(&lf).unwrap();
        std::fs::write(&df, "default-duid 0:3:0:1:2:0:0:0:0:5;\n").unwrap();
        let s = store(&args);
        assert_eq!(s.duid(MAC), [0, 3, 0, 1, 2, 0, 0, 0, 0, 5]);
        flushed(&s);
        assert_eq!(
            std::fs::read_to_string(&lf).unwrap(),
            duid::render(&[0, 3, 0, 1, 2, 0, 0, 0, 0, 5])
        );
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
