//! What one interface keeps on disk for DHCPv6: its lease, in dhclient's `lease6` format
//! ([`crate::dhclient::leases6`]) both in dhclient's `-lf` file (`dhclient -6`'s command line)
//! and in dhcpc's own `LEASE_DIR/IFACE.lease6`, so that either is read back by the other
//! program. The host's DUID is the DHCPv4 side's ([`Store::duid`]): one DUID for both.

use crate::dhclient::{duid, leases6};
use crate::leasefile::acquired_unix;
use crate::shell::clock;
use crate::shell::store::{read_bounded, unix_now, Store};
use crate::v6::Lease6;
use std::path::PathBuf;
use tracing::{info, warn};

/// One interface's DHCPv6 lease file.
pub struct Store6 {
    store: Store,
}

impl Store6 {
    pub fn new(store: Store) -> Store6 {
        Store6 { store }
    }

    /// The host's DUID ([`Store::duid`]).
    pub fn duid(&self, mac: [u8; 6]) -> Vec<u8> {
        self.store.duid(mac)
    }

    /// dhclient's `-lf` file, else `LEASE_DIR/IFACE.lease6`.
    pub fn path(&self) -> Option<PathBuf> {
        let opts = self.store.options();
        if let Some(lf) = &opts.dhclient_lease_file {
            return Some(lf.clone());
        }
        let dir = opts.lease_dir.as_ref()?;
        Some(dir.join(format!("{}.lease6", self.store.name())))
    }

    /// The saved lease, re-based on now, when there is one still valid and not released.
    pub fn load(&self) -> Option<Lease6> {
        let path = self.path()?;
        let text = match read_bounded(&path) {
            Ok(t) => t?,
            Err(e) => {
                warn!("ignoring {}: {e}; asking for a new lease", path.display());
                return None;
            }
        };
        let name = self.store.name();
        match leases6::latest(&text, name, clock::now(), unix_now()) {
            Ok(Some(l)) => Some(l),
            Ok(None) => {
                info!(
                    "{} holds no unexpired DHCPv6 lease for {name}",
                    path.display()
                );
                None
            }
            Err(e) => {
                warn!("ignoring {}: {e}; asking for a new lease", path.display());
                None
            }
        }
    }

    /// Saves `lease` (of a client whose DUID is `client_duid`); `released` marks it given
    /// back, as dhclient does.
    pub fn save(&self, lease: &Lease6, client_duid: &[u8], released: bool) {
        let Some(path) = self.path() else { return };
        let starts = acquired_unix(lease.start, clock::now(), unix_now());
        let name = self.store.name();
        let block = leases6::render(name, lease, client_duid, starts, released);
        self.write(path, Some(&block));
    }

    /// Drops the saved lease.
    pub fn forget(&self) {
        let Some(path) = self.path() else { return };
        if self.store.options().dhclient_lease_file.is_some() {
            self.write(path, None);
        } else {
            self.store.files().remove_lease(path);
        }
    }

    /// The file with this interface's `lease6` block replaced by `block` (or dropped), the
    /// rest kept, the DUID in use first when the file is dhclient's.
    fn write(&self, path: PathBuf, block: Option<&str>) {
        let old = read_bounded(&path).ok().flatten();
        let text = leases6::rewrite(old.as_deref(), self.store.name(), block);
        let text = match self.store.lf_duid() {
            Some(d) => duid::with_default_duid(Some(&text), d),
            None => text,
        };
        self.store.files().save_lease(path, text);
    }
}
