//! What DHCPv6 changes on the interface, through rtnetlink: an IA_NA address as a /128 with the
//! lease's preferred and valid lifetimes (as systemd-networkd and Debian's dhclient-script put
//! it; no prefix route comes from DHCPv6, RFC 8415 leaves on-link to router advertisements), an
//! unreachable route for each delegated prefix (RFC 7084 WPD-5: the parts not assigned
//! downstream are not looped back upstream), and the addresses the kernel holds, with their
//! duplicate-address-detection state.

use super::netlink::{to_io, Netlink};
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, CacheInfo};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, Inet6IfaceFlags, LinkAttribute, LinkMessage, LinkProtoInfoInet6,
};
use netlink_packet_route::route::{RouteMessage, RouteProtocol, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, Nla};
use rtnetlink::sys::{AsyncSocket, SocketAddr};
use rtnetlink::RouteMessageBuilder;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use tokio::sync::mpsc;

/// rtnetlink's multicast group of IPv6 address events (RTNLGRP_IPV6_IFADDR).
const RTNLGRP_IPV6_IFADDR: u32 = 9;
/// rtnetlink's multicast group of IPv6 interface information (RTNLGRP_IPV6_IFINFO): the kernel
/// tells it when a router advertisement changes the interface's M and O flags.
const RTNLGRP_IPV6_IFINFO: u32 = 12;
/// IFLA_INET6_FLAGS, within IFLA_PROTINFO of an AF_INET6 link message.
const IFLA_INET6_FLAGS: u16 = 1;

/// What the last router advertisement on an interface said, as the kernel keeps it
/// (IF_RA_MANAGED, IF_RA_OTHERCONF): M, addresses come from DHCPv6; O, other configuration
/// (DNS) does. Neither: no DHCPv6 (or no advertisement yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RaFlags {
    pub managed: bool,
    pub other: bool,
}

impl RaFlags {
    fn of(bits: u32) -> RaFlags {
        let f = Inet6IfaceFlags::from_bits_retain(bits);
        RaFlags {
            managed: f.contains(Inet6IfaceFlags::RaManaged),
            other: f.contains(Inet6IfaceFlags::Otherconf),
        }
    }
}

/// The router advertisement flags a link message carries: in IFLA_AF_SPEC (a link dump) or
/// in IFLA_PROTINFO (the kernel's AF_INET6 notice of a change).
fn ra_flags_of(msg: &LinkMessage) -> Option<RaFlags> {
    for a in &msg.attributes {
        match a {
            LinkAttribute::AfSpecUnspec(specs) => {
                for spec in specs {
                    let AfSpecUnspec::Inet6(v6) = spec else {
                        continue;
                    };
                    for x in v6 {
                        if let AfSpecInet6::Flags(f) = x {
                            return Some(RaFlags::of(f.bits()));
                        }
                    }
                }
            }
            LinkAttribute::ProtoInfoInet6(infos) => {
                for info in infos {
                    let LinkProtoInfoInet6::Other(nla) = info else {
                        continue;
                    };
                    if nla.kind() == IFLA_INET6_FLAGS && nla.value_len() == 4 {
                        let mut b = [0u8; 4];
                        nla.emit_value(&mut b);
                        return Some(RaFlags::of(u32::from_ne_bytes(b)));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// An IPv6 address the kernel holds on an interface, with what DAD made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr6 {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// Duplicate address detection has not finished (IFA_F_TENTATIVE): not usable yet.
    pub tentative: bool,
    /// Another host uses it (IFA_F_DADFAILED): the client declines it (RFC 8415 18.2.8).
    pub dad_failed: bool,
    /// Its preferred lifetime has passed (IFA_F_DEPRECATED).
    pub deprecated: bool,
}

impl Addr6 {
    /// A link-local address (fe80::/10).
    pub fn is_link_local(&self) -> bool {
        self.addr.segments()[0] & 0xffc0 == 0xfe80
    }

    /// Usable as a source: DAD has passed.
    pub fn is_ready(&self) -> bool {
        !self.tentative && !self.dad_failed
    }
}

impl Netlink {
    /// The router advertisement flags of interface `index` as the kernel holds them now
    /// (none before an advertisement came).
    pub async fn ra_flags(&self, index: u32) -> io::Result<RaFlags> {
        let mut stream = self.handle.link().get().match_index(index).execute();
        match stream.try_next().await.map_err(to_io)? {
            Some(msg) => Ok(ra_flags_of(&msg).unwrap_or_default()),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// Puts `addr`/128 on the interface with the lease's lifetimes (seconds; u32::MAX for
    /// ever), so that the kernel itself deprecates it and removes it if dhcpc is gone by then.
    /// Replaces an existing entry (a renewal updates the lifetimes).
    pub async fn add_address6(
        &self,
        index: u32,
        addr: Ipv6Addr,
        preferred: u32,
        valid: u32,
    ) -> io::Result<()> {
        self.add_address6_len(index, (addr, 128), preferred, valid, false)
            .await
    }

    /// Puts `addr`/`len` on the interface with these lifetimes; `prefix_route`: the kernel
    /// adds the on-link route of the prefix (an address given to a downstream interface out
    /// of a delegated prefix), else not.
    pub async fn add_address6_len(
        &self,
        index: u32,
        (addr, len): (Ipv6Addr, u8),
        preferred: u32,
        valid: u32,
        prefix_route: bool,
    ) -> io::Result<()> {
        let mut req = self
            .handle
            .address()
            .add(index, IpAddr::V6(addr), len)
            .replace();
        let msg = req.message_mut();
        let mut ci = CacheInfo::default();
        ci.ifa_valid = valid;
        ci.ifa_preferred = preferred.min(valid);
        msg.attributes.push(AddressAttribute::CacheInfo(ci));
        if !prefix_route {
            // No prefix route for a /128 either way; said so that the kernel never adds one.
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Noprefixroute));
        }
        req.execute().await.map_err(to_io)
    }

    /// Removes `addr`/128 from the interface; gone already is fine.
    pub async fn del_address6(&self, index: u32, addr: Ipv6Addr) -> io::Result<()> {
        self.del_ip(index, IpAddr::V6(addr), 128).await
    }

    /// The IPv6 addresses on interface `index`, as the kernel holds them now.
    pub async fn addresses6(&self, index: u32) -> io::Result<Vec<Addr6>> {
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute();
        let mut out = Vec::new();
        while let Some(msg) = stream.try_next().await.map_err(to_io)? {
            if msg.header.family != AddressFamily::Inet6 {
                continue;
            }
            out.extend(addr6_of(&msg));
        }
        Ok(out)
    }

    /// The unreachable route for a delegated prefix, in the main table, protocol dhcp.
    fn unreachable_message(prefix: Ipv6Addr, len: u8, metric: u32) -> RouteMessage {
        RouteMessageBuilder::<Ipv6Addr>::new()
            .destination_prefix(prefix, len)
            .kind(RouteType::Unreachable)
            .priority(metric)
            .protocol(RouteProtocol::Dhcp)
            .build()
    }

    /// Adds the unreachable route for delegated prefix `prefix`/`len`; there already is fine.
    pub async fn add_unreachable6(&self, prefix: Ipv6Addr, len: u8, metric: u32) -> io::Result<()> {
        let msg = Self::unreachable_message(prefix, len, metric);
        match self.handle.route().add(msg).execute().await.map_err(to_io) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    /// Removes the unreachable route for `prefix`/`len`; gone already is fine.
    pub async fn del_unreachable6(&self, prefix: Ipv6Addr, len: u8, metric: u32) -> io::Result<()> {
        let msg = Self::unreachable_message(prefix, len, metric);
        match self.handle.route().del(msg).execute().await.map_err(to_io) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }
}

/// An address message's IPv6 address and state; None for another family or no address.
fn addr6_of(msg: &AddressMessage) -> Option<Addr6> {
    if msg.header.family != AddressFamily::Inet6 {
        return None;
    }
    // The 32-bit IFA_FLAGS attribute when the kernel sends it, else the header's 8 bits.
    let mut flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
    let mut addr = None;
    for a in &msg.attributes {
        match a {
            AddressAttribute::Flags(f) => flags = *f,
            AddressAttribute::Address(IpAddr::V6(v6)) => addr = Some(*v6),
            _ => {}
        }
    }
    Some(Addr6 {
        addr: addr?,
        prefix_len: msg.header.prefix_len,
        tentative: flags.contains(AddressFlags::Tentative),
        dad_failed: flags.contains(AddressFlags::Dadfailed),
        deprecated: flags.contains(AddressFlags::Deprecated),
    })
}

/// The interface and address an address event says failed duplicate address detection.
/// The kernel deletes an address with lifetimes once DAD fails (RTM_DELADDR, the address
/// flagged `dadfailed`), and keeps a permanent one flagged (RTM_NEWADDR): both count.
pub fn dad_failure(msg: &RouteNetlinkMessage) -> Option<(u32, Ipv6Addr)> {
    let (RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m)) = msg else {
        return None;
    };
    addr6_of(m)
        .filter(|a| a.dad_failed)
        .map(|a| (m.header.index, a.addr))
}

/// One IPv6 address event of the kernel: the interface, the address as it is now, and whether
/// it was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEvent6 {
    pub index: u32,
    pub addr: Addr6,
    pub removed: bool,
}

impl AddrEvent6 {
    /// The address whose duplicate address detection failed, if that is what this says
    /// (as [`dad_failure`]).
    pub fn dad_failed(&self) -> Option<Ipv6Addr> {
        self.addr.dad_failed.then_some(self.addr.addr)
    }

    /// A link-local address became usable as a source (its DAD passed).
    pub fn link_local_ready(&self) -> bool {
        !self.removed && self.addr.is_link_local() && self.addr.is_ready()
    }
}

/// What the kernel tells of an interface's IPv6 side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel6 {
    Address(AddrEvent6),
    /// A router advertisement changed the interface's M and O flags.
    Ra {
        index: u32,
        flags: RaFlags,
    },
}

impl Kernel6 {
    pub fn index(&self) -> u32 {
        match self {
            Kernel6::Address(a) => a.index,
            Kernel6::Ra { index, .. } => *index,
        }
    }
}

/// The event a message is: an address's, or an AF_INET6 link message's flags.
fn kernel_event(msg: &RouteNetlinkMessage) -> Option<Kernel6> {
    if let RouteNetlinkMessage::NewLink(l) = msg {
        if l.header.interface_family != AddressFamily::Inet6 {
            return None;
        }
        let flags = ra_flags_of(l)?;
        return Some(Kernel6::Ra {
            index: l.header.index,
            flags,
        });
    }
    addr_event(msg).map(Kernel6::Address)
}

/// The event an address message is.
fn addr_event(msg: &RouteNetlinkMessage) -> Option<AddrEvent6> {
    let (m, removed) = match msg {
        RouteNetlinkMessage::NewAddress(m) => (m, false),
        RouteNetlinkMessage::DelAddress(m) => (m, true),
        _ => return None,
    };
    Some(AddrEvent6 {
        index: m.header.index,
        addr: addr6_of(m)?,
        removed,
    })
}

/// The process's one subscription to IPv6 address events, shared by its DHCPv6 drivers: each
/// [`AddrMonitor6::watch`]es the index of its interface. One socket for all, rather than one
/// each: every socket would be told of every interface's events, a hundred interfaces binding
/// together ten thousand messages.
#[derive(Clone)]
pub struct AddrMonitor6 {
    watchers: Watchers,
}

/// Who hears of which interface's events: its index, and where to send them.
type Watchers = std::sync::Arc<std::sync::Mutex<Vec<(u32, mpsc::UnboundedSender<Kernel6>)>>>;

impl AddrMonitor6 {
    /// Subscribes to this network namespace's IPv6 address events. Must run inside the tokio
    /// runtime.
    pub fn start() -> io::Result<AddrMonitor6> {
        let mut events = watch_addresses6()?;
        let monitor = AddrMonitor6 {
            watchers: Default::default(),
        };
        let watchers = monitor.watchers.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                let mut w = watchers.lock().unwrap_or_else(|p| p.into_inner());
                // Those that went (their receiver dropped) are let go on their next event.
                w.retain(|(index, tx)| *index != ev.index() || tx.send(ev).is_ok());
            }
        });
        Ok(monitor)
    }

    /// The events of interface `index` from now on.
    pub fn watch(&self, index: u32) -> mpsc::UnboundedReceiver<Kernel6> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut w = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|(_, tx)| !tx.is_closed());
        w.push((index, tx));
        rx
    }
}

/// Follows this network namespace's IPv6 address events (and router advertisement flags) and
/// sends each on the channel returned. Must run inside the tokio runtime; ends when the
/// receiver is dropped.
pub fn watch_addresses6() -> io::Result<mpsc::UnboundedReceiver<Kernel6>> {
    let (mut conn, handle, mut messages) = rtnetlink::new_connection()?;
    let socket = conn.socket_mut().socket_mut();
    // Bound (port chosen by the kernel) so that multicast reaches it.
    socket.bind(&SocketAddr::new(0, 0))?;
    socket.add_membership(RTNLGRP_IPV6_IFADDR)?;
    socket.add_membership(RTNLGRP_IPV6_IFINFO)?;
    tokio::spawn(conn);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Kept so that the connection (which stops once no handle is left) goes on.
        let _handle = handle;
        while let Some((msg, _)) = messages.next().await {
            let msg: NetlinkMessage<RouteNetlinkMessage> = msg;
            if let NetlinkPayload::InnerMessage(inner) = &msg.payload {
                if let Some(ev) = kernel_event(inner) {
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// Follows this network namespace's IPv6 address events and sends each duplicate address
/// detection failure (interface index, address) on the channel returned. Must run inside the
/// tokio runtime; ends when the receiver is dropped.
pub fn watch_dad_failures() -> io::Result<mpsc::UnboundedReceiver<(u32, Ipv6Addr)>> {
    let mut events = watch_addresses6()?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            let Kernel6::Address(ev) = ev else {
                continue;
            };
            if let Some(a) = ev.dad_failed() {
                if tx.send((ev.index, a)).is_err() {
                    return;
                }
            }
        }
    });
    Ok(rx)
}
