//! Everything dhcpc changes on the interface, through rtnetlink (no shelling out to `ip`).

use crate::lease::{Lease, Route};
use crate::time::Instant;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::address::{AddressAttribute, AddressScope, CacheInfo};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{Handle, LinkUnspec, RouteMessageBuilder};
use std::io;
use std::net::{IpAddr, Ipv4Addr};

/// The address routes are added from (their preferred source) and its prefix length (what is
/// on-link): a lease's, or the address set by hand of a DHCPINFORM.
pub type Source = (Ipv4Addr, u8);

/// What dhcpc needs to know about an interface.
#[derive(Debug, Clone)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mac: [u8; 6],
    pub up: bool,
    /// The link can carry traffic (IFF_RUNNING): a cable or a peer, an association, and the
    /// kernel ready to send.
    pub carrier: bool,
    pub mtu: Option<u32>,
}

/// Errors from the kernel, as io::Error so callers can tell ENODEV and EPERM apart.
pub(super) fn to_io(e: rtnetlink::Error) -> io::Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => msg.to_io(),
        other => io::Error::other(other.to_string()),
    }
}

/// A route-netlink connection, driven by a task on the current runtime.
#[derive(Clone)]
pub struct Netlink {
    pub(super) handle: Handle,
}

impl Netlink {
    pub fn connect() -> io::Result<Netlink> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// Looks an interface up by name. Err(NotFound) when there is no such interface.
    pub async fn link(&self, name: &str) -> io::Result<Link> {
        let mut stream = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        let msg = match stream.try_next().await {
            Ok(Some(msg)) => msg,
            Ok(None) => return Err(io::ErrorKind::NotFound.into()),
            Err(e) => {
                let e = to_io(e);
                return Err(if e.raw_os_error() == Some(libc::ENODEV) {
                    io::ErrorKind::NotFound.into()
                } else {
                    e
                });
            }
        };
        if msg.header.link_layer_type != LinkLayerType::Ether {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{name} is not an Ethernet interface"),
            ));
        }
        let mut mac = None;
        let mut mtu = None;
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::Address(a) if a.len() == 6 => {
                    mac = Some([a[0], a[1], a[2], a[3], a[4], a[5]]);
                }
                LinkAttribute::Mtu(m) => mtu = Some(*m),
                _ => {}
            }
        }
        let mac = mac.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{name} has no MAC address"),
            )
        })?;
        Ok(Link {
            index: msg.header.index,
            name: name.to_string(),
            mac,
            up: msg.header.flags.contains(LinkFlags::Up),
            carrier: msg.header.flags.contains(LinkFlags::Running),
            mtu,
        })
    }

    /// Sets the interface administratively up.
    pub async fn set_up(&self, index: u32) -> io::Result<()> {
        let msg = LinkUnspec::new_with_index(index).up().build();
        self.handle.link().set(msg).execute().await.map_err(to_io)
    }

    /// Puts the lease's address on the interface, with its prefix, broadcast address and
    /// lifetimes (valid = preferred = what is left of the lease, so the kernel itself removes
    /// the address if dhcpc is gone when the lease runs out). Replaces an existing entry.
    pub async fn add_address(&self, index: u32, lease: &Lease, now: Instant) -> io::Result<()> {
        let mut req = self
            .handle
            .address()
            .add(index, IpAddr::V4(lease.address), lease.prefix_len)
            .replace();
        let msg = req.message_mut();
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        msg.attributes
            .push(AddressAttribute::Broadcast(lease.broadcast));
        let left = lease.remaining_secs(now);
        let mut ci = CacheInfo::default();
        ci.ifa_valid = left;
        ci.ifa_preferred = left;
        msg.attributes.push(AddressAttribute::CacheInfo(ci));
        req.execute().await.map_err(to_io)
    }

    /// Puts an IPv4 link-local address on the interface (RFC 3927): 169.254.0.0/16, broadcast
    /// 169.254.255.255, scope link, no lifetime.
    pub async fn add_link_local(&self, index: u32, addr: Ipv4Addr) -> io::Result<()> {
        let mut req = self
            .handle
            .address()
            .add(index, IpAddr::V4(addr), 16)
            .replace();
        let msg = req.message_mut();
        msg.header.scope = AddressScope::Link;
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        msg.attributes
            .push(AddressAttribute::Broadcast(Ipv4Addr::new(
                169, 254, 255, 255,
            )));
        req.execute().await.map_err(to_io)
    }

    /// The IPv4 addresses of the interface `index`, with their prefix lengths, in the
    /// kernel's order (the primary address of each subnet before its secondaries).
    pub async fn ipv4_addresses(&self, index: u32) -> io::Result<Vec<Source>> {
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute();
        let mut out = Vec::new();
        while let Some(msg) = stream.try_next().await.map_err(to_io)? {
            let local = msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(IpAddr::V4(v4)) => Some(*v4),
                _ => None,
            });
            let address = msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(IpAddr::V4(v4)) => Some(*v4),
                _ => None,
            });
            if let Some(a) = local.or(address) {
                out.push((a, msg.header.prefix_len));
            }
        }
        Ok(out)
    }

    /// Removes an address from the interface; gone already is fine.
    pub async fn del_address(&self, index: u32, addr: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        self.del_ip(index, IpAddr::V4(addr), prefix_len).await
    }

    /// Removes `addr`/`prefix_len` (either family) from interface `index`; gone already is
    /// fine.
    pub(super) async fn del_ip(&self, index: u32, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(index)
            .set_address_filter(addr)
            .set_prefix_length_filter(prefix_len)
            .execute();
        while let Some(msg) = stream.try_next().await.map_err(to_io)? {
            match self
                .handle
                .address()
                .del(msg)
                .execute()
                .await
                .map_err(to_io)
            {
                Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {}
                other => other?,
            }
        }
        Ok(())
    }

    fn route_message(index: u32, src: Source, route: &Route, metric: u32) -> RouteMessage {
        let mut b = RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(route.dest, route.prefix_len)
            .output_interface(index)
            .pref_source(src.0)
            .priority(metric)
            .protocol(RouteProtocol::Dhcp);
        if route.gateway.is_unspecified() {
            // RFC 3442: a router of 0.0.0.0 means the destination is on this link.
            b = b.scope(RouteScope::Link);
        } else {
            b = b.gateway(route.gateway);
            if !same_subnet(src, route.gateway) {
                // A router outside the leased subnet is still reached over this link.
                b = b.onlink();
            }
        }
        b.build()
    }

    /// Adds one of the lease's routes beside any the kernel holds to the same destination
    /// with the same metric (NLM_F_APPEND): another interface's default route is kept, not
    /// replaced, and the kernel falls back to it when this link goes down. The same route
    /// already there is fine. (rtnetlink's request builder offers only EXCL or REPLACE, so
    /// the flags are set here.)
    pub async fn add_route(
        &self,
        index: u32,
        src: Source,
        route: &Route,
        metric: u32,
    ) -> io::Result<()> {
        use rtnetlink::packet_core::{
            NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST,
        };
        let msg = Self::route_message(index, src, route, metric);
        let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewRoute(msg));
        req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
        let mut response = self.handle.clone().request(req).map_err(to_io)?;
        while let Some(message) = response.next().await {
            if let NetlinkPayload::Error(err) = message.payload {
                let e = err.to_io();
                if e.raw_os_error() == Some(libc::EEXIST) {
                    return Ok(());
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes one of the lease's routes; gone already is fine.
    pub async fn del_route(
        &self,
        index: u32,
        src: Source,
        route: &Route,
        metric: u32,
    ) -> io::Result<()> {
        let msg = Self::route_message(index, src, route, metric);
        match self.handle.route().del(msg).execute().await.map_err(to_io) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    /// The IPv4 routes of the main table that go out of `index` with protocol dhcp and metric
    /// `metric`, as the kernel holds them now.
    pub async fn dhcp_routes(&self, index: u32, metric: u32) -> io::Result<Vec<Route>> {
        let query = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let mut stream = self.handle.route().get(query).execute();
        let mut routes = Vec::new();
        while let Some(msg) = stream.try_next().await.map_err(to_io)? {
            if msg.header.protocol != RouteProtocol::Dhcp
                || msg.header.table != RouteHeader::RT_TABLE_MAIN
            {
                continue;
            }
            let (mut oif, mut prio) = (None, 0);
            let (mut dest, mut gateway) = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
            for attr in &msg.attributes {
                match attr {
                    RouteAttribute::Oif(i) => oif = Some(*i),
                    RouteAttribute::Priority(p) => prio = *p,
                    RouteAttribute::Destination(RouteAddress::Inet(a)) => dest = *a,
                    RouteAttribute::Gateway(RouteAddress::Inet(a)) => gateway = *a,
                    _ => {}
                }
            }
            if oif == Some(index) && prio == metric {
                routes.push(Route {
                    dest,
                    prefix_len: msg.header.destination_prefix_length,
                    gateway,
                });
            }
        }
        Ok(routes)
    }

    /// Sets the interface's MTU.
    pub async fn set_mtu(&self, index: u32, mtu: u32) -> io::Result<()> {
        let msg = LinkUnspec::new_with_index(index).mtu(mtu).build();
        self.handle.link().set(msg).execute().await.map_err(to_io)
    }
}

fn same_subnet((address, prefix_len): Source, other: Ipv4Addr) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix_len))
        .unwrap_or(0);
    u32::from(address) & mask == u32::from(other) & mask
}
