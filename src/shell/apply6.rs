//! Applying a DHCPv6 lease to the kernel, as one value the DHCPv6 driver owns: each IA_NA
//! address as a /128 with what is left of its preferred and valid lifetimes (the kernel then
//! deprecates and removes it itself, should dhcpc be gone by then), and an unreachable route
//! for each delegated prefix (RFC 7084 WPD-5), through rtnetlink ([`crate::shell::netlink6`]).
//! Like [`crate::shell::apply::Apply`], it is told whole transitions and keeps no record of
//! the lease: the core holds that. DNS settings go to [`crate::shell::files`], by the driver.

use crate::shell::clock;
use crate::shell::netlink::Netlink;
use crate::time::Instant;
use crate::v6::{Holdings, IaAddr, IaPrefix, Lease6, INFINITY};
use std::io;
use std::net::Ipv6Addr;
use std::sync::Arc;
use tracing::warn;

/// What applies DHCPv6 leases to one interface.
pub struct Apply6 {
    net: Netlink,
    name: Arc<str>,
    index: u32,
    /// The metric of the unreachable routes of delegated prefixes.
    metric: u32,
    /// `--delegate`: the interfaces that get a /64 of each delegated prefix, the k-th the
    /// subnet k.
    downstream: Vec<String>,
}

/// The `k`-th /64 of `prefix`/`len` (subnet ID `k` in the bits between the prefix and the
/// interface identifier, RFC 7084 WPD-4), when the prefix has room for it: none for a
/// prefix longer than 64 bits, or for `k` past its last /64.
pub fn subnet(prefix: Ipv6Addr, len: u8, k: usize) -> Option<Ipv6Addr> {
    if len > 64 {
        return None;
    }
    let room = 64 - u32::from(len);
    if room < 64 && (k as u128) >> room != 0 {
        return None;
    }
    let base = u128::from(prefix) & !((1u128 << 64) - 1);
    Some(Ipv6Addr::from(base | ((k as u128) << 64)))
}

/// The address a downstream interface holds in its /64: the subnet's `::1`, as a router's.
pub fn downstream_address(subnet: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(subnet) | 1)
}

/// The addresses of a lease's IA_NAs.
pub fn addresses(lease: &Lease6) -> impl Iterator<Item = &IaAddr> {
    lease.ias.iter().flat_map(|ia| match &ia.holdings {
        Holdings::Addresses(a) => a.as_slice(),
        Holdings::Prefixes(_) => &[],
    })
}

/// The prefixes of a lease's IA_PDs.
pub fn prefixes(lease: &Lease6) -> impl Iterator<Item = &IaPrefix> {
    lease.ias.iter().flat_map(|ia| match &ia.holdings {
        Holdings::Prefixes(p) => p.as_slice(),
        Holdings::Addresses(_) => &[],
    })
}

/// `secs` counted from `start`, as left at `now` ("for ever" stays so).
pub fn left(secs: u32, start: Instant, now: Instant) -> u32 {
    if secs == INFINITY {
        return INFINITY;
    }
    let spent = now.saturating_since(start).as_secs();
    u32::try_from(u64::from(secs).saturating_sub(spent)).unwrap_or(0)
}

impl Apply6 {
    pub fn new(
        net: Netlink,
        name: Arc<str>,
        index: u32,
        metric: u32,
        downstream: Vec<String>,
    ) -> Apply6 {
        Apply6 {
            net,
            name,
            index,
            metric,
            downstream,
        }
    }

    /// Gives (`lifetimes`: what is left of `p`'s, preferred and valid) or takes back (None)
    /// each downstream interface's /64 of `p`. A downstream interface that is not there, or
    /// that the prefix has no room for, is said and passed over.
    async fn delegate(&self, p: &IaPrefix, lifetimes: Option<(u32, u32)>) {
        for (k, down) in self.downstream.iter().enumerate() {
            let Some(net) = subnet(p.prefix, p.len, k) else {
                warn!(
                    "{}: {}/{} has no /64 left for {down} (--delegate)",
                    self.name, p.prefix, p.len
                );
                continue;
            };
            let addr = downstream_address(net);
            let index = match self.net.link(down).await {
                Ok(l) => l.index,
                Err(e) => {
                    warn!("{}: {down} (--delegate): {e}", self.name);
                    continue;
                }
            };
            let done = match lifetimes {
                Some((preferred, valid)) => {
                    self.net
                        .add_address6_len(index, (addr, 64), preferred, valid, true)
                        .await
                }
                None => self.net.del_ip(index, std::net::IpAddr::V6(addr), 64).await,
            };
            match done {
                Ok(()) if lifetimes.is_some() => {
                    let (name, len) = (&self.name, p.len);
                    tracing::info!("{name}: {down} holds {addr}/64 of {}/{len}", p.prefix)
                }
                Ok(()) => {}
                Err(e) => warn!("{}: {addr}/64 on {down}: {e}", self.name),
            }
        }
    }

    /// Makes the interface hold `lease`, taking away what of `previous` it does not keep.
    /// An address the kernel refuses is the error; a route it refuses is only said.
    pub async fn configure(&self, lease: &Lease6, previous: Option<&Lease6>) -> io::Result<()> {
        Box::pin(async {
            if let Some(old) = previous {
                self.take_off_missing(old, lease).await;
            }
            let now = clock::now();
            for a in addresses(lease) {
                let valid = left(a.valid, lease.start, now);
                if valid == 0 {
                    continue;
                }
                let preferred = left(a.preferred, lease.start, now);
                self.net
                    .add_address6(self.index, a.addr, preferred, valid)
                    .await?;
            }
            for p in prefixes(lease) {
                if let Err(e) = self
                    .net
                    .add_unreachable6(p.prefix, p.len, self.metric)
                    .await
                {
                    warn!(
                        "{}: the unreachable route for {}/{}: {e}",
                        self.name, p.prefix, p.len
                    );
                }
                let valid = left(p.valid, lease.start, now);
                if valid > 0 {
                    let preferred = left(p.preferred, lease.start, now);
                    self.delegate(p, Some((preferred, valid))).await;
                }
            }
            Ok(())
        })
        .await
    }

    /// Takes off what `old` put on that `new` does not hold.
    async fn take_off_missing(&self, old: &Lease6, new: &Lease6) {
        for a in addresses(old) {
            if !addresses(new).any(|n| n.addr == a.addr) {
                self.del_address(a).await;
            }
        }
        for p in prefixes(old) {
            if !prefixes(new).any(|n| n.prefix == p.prefix && n.len == p.len) {
                self.del_prefix(p).await;
            }
        }
    }

    /// Takes everything `lease` put on off the interface. `gone`: the interface was removed,
    /// and its addresses with it; the routes of delegated prefixes (which name no interface)
    /// are still taken off.
    pub async fn deconfigure(&self, lease: &Lease6, gone: bool) {
        Box::pin(async {
            if !gone {
                for a in addresses(lease) {
                    self.del_address(a).await;
                }
            }
            for p in prefixes(lease) {
                self.del_prefix(p).await;
            }
        })
        .await
    }

    async fn del_address(&self, a: &IaAddr) {
        if let Err(e) = self.net.del_address6(self.index, a.addr).await {
            warn!("{}: removing {}: {e}", self.name, a.addr);
        }
    }

    async fn del_prefix(&self, p: &IaPrefix) {
        self.delegate(p, None).await;
        if let Err(e) = self
            .net
            .del_unreachable6(p.prefix, p.len, self.metric)
            .await
        {
            warn!(
                "{}: removing the unreachable route for {}/{}: {e}",
                self.name, p.prefix, p.len
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// RFC 7084 WPD-4: each downstream interface gets its own /64 of the delegated prefix,
    /// numbered from 0, as far as the prefix has room; a prefix longer than 64 has none.
    #[test]
    fn downstream_subnets_are_numbered_within_the_prefix() {
        let p: Ipv6Addr = "2001:db8:ff00::".parse().unwrap();
        assert_eq!(subnet(p, 56, 0), Some("2001:db8:ff00::".parse().unwrap()));
        assert_eq!(subnet(p, 56, 1), Some("2001:db8:ff00:1::".parse().unwrap()));
        assert_eq!(
            subnet(p, 56, 255),
            Some("2001:db8:ff00:ff::".parse().unwrap())
        );
        assert_eq!(subnet(p, 56, 256), None);
        assert_eq!(subnet(p, 64, 0), Some(p));
        assert_eq!(subnet(p, 64, 1), None);
        assert_eq!(subnet(p, 65, 0), None);
        let any = Ipv6Addr::UNSPECIFIED;
        assert_eq!(subnet(any, 0, 3), Some("0:0:0:3::".parse().unwrap()));
        assert_eq!(
            downstream_address(subnet(p, 48, 2).unwrap()),
            "2001:db8:ff00:2::1".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn lifetimes_left_count_from_the_lease_start() {
        let start = Instant::ZERO;
        let now = start + Duration::from_secs(100);
        assert_eq!(left(300, start, now), 200);
        assert_eq!(left(50, start, now), 0);
        assert_eq!(left(INFINITY, start, now), INFINITY);
    }
}
