//! Applying a lease to the kernel, as one value the driver owns: the address (with its
//! lifetimes), its routes (option 121, else option 3's default route) and the MTU (option 26),
//! through rtnetlink; and the IPv4 link-local address. It is told whole transitions (hold this
//! lease instead of that one; hold nothing of this one) and keeps no record of the lease: the
//! core holds that. Of its own it keeps only the MTU the interface had before option 26
//! changed it (also in `RUN_DIR/IFACE.mtu`, so that a later daemon can put it back).
//! DNS settings are not the kernel's: the driver hands them to [`crate::shell::files`].

use crate::lease::{Informed, Lease, Route};
use crate::shell::clock;
use crate::shell::netlink::{Link, Netlink, Source};
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// How many interfaces change their configuration (address, routes, MTU) at once. The kernel
/// takes route-netlink requests one after another anyway; a thousand interfaces bound together
/// would otherwise each hold the work in flight (2.5 KiB of state, and netlink's own) at the
/// same moment, and the heap they grew stays in holes once they are done: about 1 MiB.
/// The driver takes a turn once per batch of actions, so that no one waits for a turn it
/// holds itself.
pub static NETLINK_TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);

/// What applies leases to one interface.
pub struct Apply {
    net: Netlink,
    name: Arc<str>,
    index: u32,
    /// The metric of every route dhcpc adds.
    metric: u32,
    /// The MTU the interface had when last looked up (should the kernel not answer).
    mtu_seen: Option<u32>,
    /// The MTU the interface had before option 26 changed it, to be put back.
    mtu_before: Option<u32>,
    /// Where that MTU is kept (`RUN_DIR/IFACE.mtu`).
    mtu_file: Box<Path>,
}

impl Apply {
    /// Applies to `link` (named `name`), with routes of metric `metric`; the MTU to put back
    /// is read from `run_dir` if an earlier daemon left one there.
    pub fn new(net: Netlink, name: Arc<str>, link: &Link, metric: u32, run_dir: &Path) -> Apply {
        let mtu_file: Box<Path> = mtu_path(run_dir, &name).into();
        let mtu_before = std::fs::read_to_string(&mtu_file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        Apply {
            net,
            name,
            index: link.index,
            metric,
            mtu_seen: link.mtu,
            mtu_before,
            mtu_file,
        }
    }

    /// The interface's index changed (it was made again under the same name).
    pub fn set_index(&mut self, index: u32) {
        self.index = index;
    }

    /// Makes the interface hold `lease`, taking away what of `previous` it does not keep.
    pub async fn configure(&mut self, lease: &Lease, previous: Option<&Lease>) -> io::Result<()> {
        // Boxed, as every rare and deep await of the driver: its state exists only while it
        // runs, not in every resting interface's future.
        Box::pin(self.configure_inner(lease, previous)).await
    }

    async fn configure_inner(&mut self, lease: &Lease, previous: Option<&Lease>) -> io::Result<()> {
        let routes = lease.routes();
        if let Some(old) = previous {
            if old.address != lease.address || old.prefix_len != lease.prefix_len {
                self.remove(old).await;
            } else {
                for r in old.routes().iter().filter(|r| !routes.contains(r)) {
                    self.del_route(source(old), r).await;
                }
            }
        }
        self.net
            .add_address(self.index, lease, clock::now())
            .await?;
        self.apply_mtu(lease.mtu).await;
        self.add_routes(source(lease), &routes, previous.is_some())
            .await;
        Ok(())
    }

    /// Adds those of `routes` (from `src`) the kernel does not hold already: a renewal that
    /// changes nothing touches no route, and routes the kernel dropped with the link come
    /// back. (With nothing held `before`, none is there: no need to ask the kernel.) On-link
    /// routes go first, as a router may be reached through one of them.
    async fn add_routes(&self, src: Source, routes: &[Route], before: bool) {
        let held = match before {
            true => self
                .net
                .dhcp_routes(self.index, self.metric)
                .await
                .unwrap_or_default(),
            false => Vec::new(),
        };
        let mut missing: Vec<&Route> = routes.iter().filter(|r| !held.contains(r)).collect();
        missing.sort_by_key(|r| !r.gateway.is_unspecified());
        for r in missing {
            if let Err(e) = self.net.add_route(self.index, src, r, self.metric).await {
                warn!("{}: adding route {r}: {e}", self.name);
            }
        }
    }

    /// Options only (DHCPINFORM): makes the interface hold the routes and MTU of `info`,
    /// taking away those of `previous` it does not keep. The address is never touched: it
    /// was set by hand, and stays as it is.
    pub async fn configure_options(&mut self, info: &Informed, previous: Option<&Informed>) {
        Box::pin(async {
            let routes = info.routes();
            if let Some(old) = previous {
                for r in old.routes().iter().filter(|r| !routes.contains(r)) {
                    self.del_route((old.address, old.prefix_len), r).await;
                }
            }
            self.apply_mtu(info.mtu).await;
            let src = (info.address, info.prefix_len);
            self.add_routes(src, &routes, previous.is_some()).await;
        })
        .await
    }

    /// Options only: takes the routes and MTU of `info` off the interface, never the address.
    /// `gone`: the interface was removed, and the kernel took them already.
    pub async fn deconfigure_options(&mut self, info: &Informed, gone: bool) {
        Box::pin(async {
            if gone {
                if self.mtu_before.take().is_some() {
                    let _ = std::fs::remove_file(&self.mtu_file);
                }
                return;
            }
            for r in info.routes() {
                self.del_route((info.address, info.prefix_len), &r).await;
            }
            self.restore_mtu().await;
        })
        .await
    }

    /// Takes `lease` off the interface: routes, address, and the MTU it set. `gone`: the
    /// interface was removed, and the kernel took all of it already.
    pub async fn deconfigure(&mut self, lease: &Lease, gone: bool) {
        Box::pin(async {
            if gone {
                if self.mtu_before.take().is_some() {
                    let _ = std::fs::remove_file(&self.mtu_file);
                }
                return;
            }
            self.remove(lease).await;
            self.restore_mtu().await;
        })
        .await
    }

    async fn del_route(&self, src: Source, r: &Route) {
        if let Err(e) = self.net.del_route(self.index, src, r, self.metric).await {
            warn!("{}: removing route {r}: {e}", self.name);
        }
    }

    /// Sets the MTU option 26 asks for (the MTU the interface had is put back when no lease
    /// asks for one any more); a value the device does not take is said and ignored.
    async fn apply_mtu(&mut self, want: Option<u16>) {
        let Some(want) = want.map(u32::from) else {
            return self.restore_mtu().await;
        };
        let now = match self.net.link(&self.name).await {
            Ok(link) => link.mtu,
            Err(_) => self.mtu_seen,
        };
        if now == Some(want) {
            return;
        }
        match self.net.set_mtu(self.index, want).await {
            Ok(()) => {
                if self.mtu_before.is_none() {
                    self.mtu_before = now;
                    if let Some(mtu) = now {
                        self.keep_mtu(mtu);
                    }
                }
                info!("{}: MTU {want} (option 26)", self.name);
            }
            Err(e) => warn!(
                "{}: option 26 asks for MTU {want}, which the device does not take ({e}): ignored",
                self.name
            ),
        }
    }

    /// Keeps the MTU to put back in the run directory too, so that a later daemon (after -x,
    /// or `-r` with none running) can still put it back.
    fn keep_mtu(&self, mtu: u32) {
        if let Some(dir) = self.mtu_file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(&self.mtu_file, format!("{mtu}\n")) {
            warn!("writing {}: {e}", self.mtu_file.display());
        }
    }

    async fn restore_mtu(&mut self) {
        if let Some(mtu) = self.mtu_before.take() {
            let _ = std::fs::remove_file(&self.mtu_file);
            match self.net.set_mtu(self.index, mtu).await {
                Ok(()) => info!("{}: MTU {mtu} again", self.name),
                Err(e) => warn!("{}: putting MTU {mtu} back: {e}", self.name),
            }
        }
    }

    /// Removes the routes and address of `lease` (gone already is fine).
    async fn remove(&mut self, lease: &Lease) {
        for r in lease.routes() {
            self.del_route(source(lease), &r).await;
        }
        if let Err(e) = self
            .net
            .del_address(self.index, lease.address, lease.prefix_len)
            .await
        {
            warn!("removing {}: {e}", lease.address);
        }
    }

    /// Puts an IPv4 link-local address (RFC 3927) on the interface.
    pub async fn add_link_local(&self, addr: Ipv4Addr) {
        if let Err(e) = self.net.add_link_local(self.index, addr).await {
            warn!("{}: adding link-local {addr}: {e}", self.name);
        }
    }

    /// Takes the link-local address off the interface.
    pub async fn del_link_local(&self, addr: Ipv4Addr) {
        if let Err(e) = self.net.del_address(self.index, addr, 16).await {
            warn!("{}: removing link-local {addr}: {e}", self.name);
        }
    }

    /// Whether the interface has carrier now (true when it cannot be told).
    pub async fn carrier(&self) -> bool {
        match self.net.link(&self.name).await {
            Ok(link) => link.carrier,
            Err(_) => true,
        }
    }
}

/// The source of `lease`'s routes: its address, and what is on-link from it.
fn source(lease: &Lease) -> Source {
    (lease.address, lease.prefix_len)
}

/// Where the MTU the interface had before option 26 changed it is kept (`RUN_DIR/IFACE.mtu`).
pub fn mtu_path(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(format!("{name}.mtu"))
}
