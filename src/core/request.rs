//! The messages the client sends (RFC 2131 table 5): which options each carries and what goes
//! in the header, for every state that sends one.

use super::Config;
use crate::lease::Lease;
use dhcproto::v4::{
    DhcpOption, Flags, HType, Message, MessageType, Opcode, OptionCode, UnknownOption,
};
use std::net::Ipv4Addr;

/// The options dhcpc asks servers for (option 55), in the order they are asked. Classless
/// routes come before the router option: some servers fill a reply in the order asked.
pub const REQUESTED_OPTIONS: &[OptionCode] = &[
    OptionCode::SubnetMask,
    OptionCode::ClasslessStaticRoute,
    OptionCode::Unknown(MS_CLASSLESS_ROUTES),
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
    OptionCode::NtpServers,
    OptionCode::DomainSearch,
];

/// Option 249: Microsoft's classless static routes, which Windows servers send instead of 121
/// (dhcproto has no name for it).
pub const MS_CLASSLESS_ROUTES: u8 = 249;

/// Which client identifier (option 61) to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientId {
    /// Hardware type 1 and the MAC (RFC 2132 9.14), as dhclient sends: the default.
    Mac,
    /// RFC 4361: type 255, an IAID and the host's DUID (see [`duid_client_id`]).
    Duid,
    /// No option 61 at all (servers key the lease on chaddr).
    None,
    /// These bytes, as given.
    Raw(Vec<u8>),
}

/// Option 61 for `mode` on an interface with hardware address `mac`, on a host whose DUID is
/// `duid` (used by [`ClientId::Duid`] only).
pub fn client_id(mode: &ClientId, mac: [u8; 6], duid: &[u8]) -> Option<Vec<u8>> {
    match mode {
        ClientId::Mac => Some([&[1u8][..], &mac].concat()),
        ClientId::Duid => Some(duid_client_id(mac, duid)),
        ClientId::None => None,
        ClientId::Raw(bytes) => Some(bytes.clone()),
    }
}

/// RFC 4361's client identifier: 255, a 4-byte IAID, then the DUID. The DUID is the host's,
/// one for all its interfaces (RFC 8415 11), which tell themselves apart by the IAID: the last
/// four bytes of the interface's MAC (as dhcpcd derives it), the same at every boot.
pub fn duid_client_id(mac: [u8; 6], duid: &[u8]) -> Vec<u8> {
    let mut id = vec![255];
    id.extend_from_slice(&mac[2..]);
    id.extend_from_slice(duid);
    id
}

/// A new DUID-UUID (RFC 6355: type 4 and 16 bytes) from 16 random bytes: what a host uses
/// when it has none yet (it is then stored, and kept).
pub fn new_duid(random: [u8; 16]) -> Vec<u8> {
    [&[0u8, 4][..], &random].concat()
}

/// Option 81 (RFC 4702) for `name`: flags S (the server updates the A record) and E (the name
/// in canonical wire format), RCODE1 and RCODE2 zero, then the name as DNS labels; a name with
/// a dot is fully qualified and ends with the root label, a single label is a partial name.
/// Encoded here: dhcproto's type always writes a fully qualified name.
pub fn fqdn_option(name: &str) -> Vec<u8> {
    const S: u8 = 0x01;
    const E: u8 = 0x04;
    let full = name.contains('.');
    let mut data = vec![S | E, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        data.push(label.len() as u8);
        data.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    if full {
        data.push(0);
    }
    data
}

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
    if let Some(id) = &cfg.client_id {
        opts.insert(DhcpOption::ClientIdentifier(id.clone()));
    }
    msg
}

/// Options of DISCOVER and REQUEST: what we want, and who we are.
fn with_wishes(cfg: &Config, mut msg: Message) -> Message {
    let broadcast = cfg.broadcast_flag && msg.ciaddr().is_unspecified();
    if broadcast {
        msg.set_flags(Flags::default().set_broadcast());
    }
    let opts = msg.opts_mut();
    let mut wanted = REQUESTED_OPTIONS.to_vec();
    for &code in &cfg.extra_requests {
        if !wanted.contains(&OptionCode::from(code)) {
            wanted.push(OptionCode::from(code));
        }
    }
    opts.insert(DhcpOption::ParameterRequestList(wanted));
    opts.insert(DhcpOption::MaxMessageSize(cfg.max_message_size));
    // RFC 4702 3.1: a client that sends option 81 must not send option 12 too.
    match (&cfg.fqdn, &cfg.hostname) {
        (Some(name), _) => {
            let raw = UnknownOption::new(OptionCode::ClientFQDN, fqdn_option(name));
            opts.insert(DhcpOption::Unknown(raw));
        }
        (None, Some(h)) => {
            opts.insert(DhcpOption::Hostname(h.clone()));
        }
        (None, None) => {}
    }
    if let Some(v) = &cfg.vendor_class {
        opts.insert(DhcpOption::ClassIdentifier(v.clone()));
    }
    if let Some(t) = cfg.lease_time {
        opts.insert(DhcpOption::AddressLeaseTime(t));
    }
    msg
}

/// DISCOVER (SELECTING): broadcast, ciaddr 0; option 80 when rapid commit is on (RFC 4039).
pub fn discover(cfg: &Config, xid: u32, secs: u16) -> Message {
    let mut msg = base(cfg, xid, MessageType::Discover, secs, Ipv4Addr::UNSPECIFIED);
    if cfg.rapid_commit {
        msg.opts_mut().insert(DhcpOption::RapidCommit);
    }
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

/// INFORM (RFC 2131 3.4 and table 5): ciaddr = the address set by hand; no requested address
/// (option 50), no lease time (51), no server identifier (54), and none of the lease's times
/// asked for (51, 58, 59, as dhcpcd leaves them out): nothing is leased. The rest of what a
/// REQUEST says of us (option 55, 57, 61, the host name, the vendor class) is the same.
pub fn inform(cfg: &Config, xid: u32, secs: u16, addr: Ipv4Addr) -> Message {
    let mut msg = with_wishes(cfg, base(cfg, xid, MessageType::Inform, secs, addr));
    let opts = msg.opts_mut();
    opts.remove(OptionCode::AddressLeaseTime);
    if let Some(DhcpOption::ParameterRequestList(list)) =
        opts.get(OptionCode::ParameterRequestList).cloned()
    {
        let leased = [
            OptionCode::AddressLeaseTime,
            OptionCode::Renewal,
            OptionCode::Rebinding,
        ];
        let list = list.into_iter().filter(|c| !leased.contains(c)).collect();
        opts.insert(DhcpOption::ParameterRequestList(list));
    }
    msg
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
