//! The messages the client sends (RFC 2131 table 5): which options each carries and what goes
//! in the header, for every state that sends one.

use super::Config;
use crate::lease::Lease;
use dhcproto::v4::{DhcpOption, Flags, HType, Message, MessageType, Opcode, OptionCode};
use std::net::Ipv4Addr;

/// The options dhcpc asks servers for (option 55), in the order they are asked.
pub const REQUESTED_OPTIONS: &[OptionCode] = &[
    OptionCode::SubnetMask,
    OptionCode::Router,
    OptionCode::DomainNameServer,
    OptionCode::Hostname,
    OptionCode::DomainName,
    OptionCode::InterfaceMtu,
    OptionCode::BroadcastAddr,
    OptionCode::AddressLeaseTime,
    OptionCode::ServerIdentifier,
    OptionCode::Renewal,
    OptionCode::Rebinding,
];

/// RFC 2132 9.10: the smallest value option 57 may carry.
pub const MIN_MAX_MESSAGE_SIZE: u16 = 576;

/// Option 57, the largest DHCP message the client accepts: what one frame of the link's MTU
/// carries after the IPv4 and UDP headers (28 bytes), but never under RFC 2132's minimum of
/// 576, however small the MTU (a server then sends fragments, which this client does not
/// reassemble; the RFC's floor still wins, as every DHCP server expects it).
pub fn max_message_size(mtu: Option<u32>) -> u16 {
    let mtu = mtu.unwrap_or(1500);
    mtu.saturating_sub(28)
        .clamp(u32::from(MIN_MAX_MESSAGE_SIZE), u32::from(u16::MAX)) as u16
}

/// The header and options every message of ours carries.
fn base(cfg: &Config, xid: u32, kind: MessageType, secs: u16, ciaddr: Ipv4Addr) -> Message {
    let mut msg = Message::default();
    msg.set_opcode(Opcode::BootRequest)
        .set_htype(HType::Eth)
        .set_chaddr(&cfg.hwaddr)
        .set_xid(xid)
        .set_secs(secs)
        .set_ciaddr(ciaddr);
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    opts.insert(DhcpOption::ClientIdentifier(cfg.client_id.clone()));
    msg
}

/// Options of DISCOVER and REQUEST: what we want, and who we are.
fn with_wishes(cfg: &Config, mut msg: Message) -> Message {
    let broadcast = cfg.broadcast_flag && msg.ciaddr().is_unspecified();
    if broadcast {
        msg.set_flags(Flags::default().set_broadcast());
    }
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::ParameterRequestList(REQUESTED_OPTIONS.to_vec()));
    opts.insert(DhcpOption::MaxMessageSize(cfg.max_message_size));
    if let Some(h) = &cfg.hostname {
        opts.insert(DhcpOption::Hostname(h.clone()));
    }
    if let Some(v) = &cfg.vendor_class {
        opts.insert(DhcpOption::ClassIdentifier(v.clone()));
    }
    msg
}

/// DISCOVER (SELECTING): broadcast, ciaddr 0.
pub fn discover(cfg: &Config, xid: u32, secs: u16) -> Message {
    let msg = base(cfg, xid, MessageType::Discover, secs, Ipv4Addr::UNSPECIFIED);
    with_wishes(cfg, msg)
}

/// REQUEST in SELECTING: options 50 and 54 of the chosen offer, ciaddr 0, broadcast.
pub fn request_selecting(
    cfg: &Config,
    xid: u32,
    secs: u16,
    offered: Ipv4Addr,
    server: Ipv4Addr,
) -> Message {
    let mut msg = base(cfg, xid, MessageType::Request, secs, Ipv4Addr::UNSPECIFIED);
    msg.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(offered));
    msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
    with_wishes(cfg, msg)
}

/// REQUEST in INIT-REBOOT: option 50 = saved address, no server id, ciaddr 0.
pub fn request_reboot(cfg: &Config, xid: u32, secs: u16, addr: Ipv4Addr) -> Message {
    let mut msg = base(cfg, xid, MessageType::Request, secs, Ipv4Addr::UNSPECIFIED);
    msg.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
    with_wishes(cfg, msg)
}

/// REQUEST in RENEWING/REBINDING: ciaddr = leased address, no option 50 or 54.
pub fn request_bound(cfg: &Config, xid: u32, secs: u16, lease: &Lease) -> Message {
    let msg = base(cfg, xid, MessageType::Request, secs, lease.address);
    with_wishes(cfg, msg)
}

/// RELEASE: ciaddr = the address given back, option 54 = its server.
pub fn release(cfg: &Config, xid: u32, lease: &Lease) -> Message {
    let mut msg = base(cfg, xid, MessageType::Release, 0, lease.address);
    msg.opts_mut()
        .insert(DhcpOption::ServerIdentifier(lease.server_id));
    msg
}

/// DECLINE: option 50 = the address in use, option 54 = the server that offered it, ciaddr 0.
pub fn decline(cfg: &Config, xid: u32, lease: &Lease) -> Message {
    let mut msg = base(cfg, xid, MessageType::Decline, 0, Ipv4Addr::UNSPECIFIED);
    msg.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(lease.address));
    msg.opts_mut()
        .insert(DhcpOption::ServerIdentifier(lease.server_id));
    msg
}
