//! Ethernet/IPv4/UDP and ARP framing for the raw socket. (The kernel filter that feeds the
//! socket is with the socket, in `shell::bpf`.)
//!
//! Before it has an address the client must send from 0.0.0.0 and hear replies addressed to an
//! address it does not have yet, so it speaks through an AF_PACKET socket and builds and checks
//! the lower headers itself, using pnet's packet types.

use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::{self, Ipv4Packet, MutableIpv4Packet};
use pnet_packet::udp::{self, MutableUdpPacket, UdpPacket};
use std::fmt;
use std::net::Ipv4Addr;

pub const CLIENT_PORT: u16 = 68;
pub const SERVER_PORT: u16 = 67;
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

const ETH_LEN: usize = 14;
const IP_LEN: usize = 20;
const UDP_LEN: usize = 8;
/// Everything in front of the DHCP payload in frames we send.
pub const HEADERS_LEN: usize = ETH_LEN + IP_LEN + UDP_LEN;

/// Builds the frame for a broadcast DHCP message: from `src_mac`, 0.0.0.0:68 to
/// ff:ff:ff:ff:ff:ff, 255.255.255.255:67, with IPv4 and UDP checksums filled in.
pub fn build_broadcast(src_mac: [u8; 6], payload: &[u8]) -> Vec<u8> {
    build(
        src_mac,
        BROADCAST_MAC,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        payload,
    )
}

/// Builds an Ethernet/IPv4/UDP frame from port 68 to port 67.
pub fn build(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = vec![0u8; HEADERS_LEN + payload.len()];
    let udp_total = (UDP_LEN + payload.len()) as u16;
    let ip_total = IP_LEN as u16 + udp_total;
    {
        let mut udp_pkt = MutableUdpPacket::new(&mut buf[ETH_LEN + IP_LEN..])
            .expect("buffer sized for the UDP header");
        udp_pkt.set_source(CLIENT_PORT);
        udp_pkt.set_destination(SERVER_PORT);
        udp_pkt.set_length(udp_total);
        udp_pkt.set_payload(payload);
        let sum = udp::ipv4_checksum(&udp_pkt.to_immutable(), &src_ip, &dst_ip);
        // RFC 768: a computed checksum of 0 is sent as all ones.
        udp_pkt.set_checksum(if sum == 0 { 0xffff } else { sum });
    }
    {
        let mut ip = MutableIpv4Packet::new(&mut buf[ETH_LEN..]).expect("buffer sized for IPv4");
        ip.set_version(4);
        ip.set_header_length(5);
        ip.set_dscp(0);
        ip.set_total_length(ip_total);
        ip.set_identification(0);
        ip.set_flags(0);
        ip.set_ttl(64);
        ip.set_next_level_protocol(IpNextHeaderProtocols::Udp);
        ip.set_source(src_ip);
        ip.set_destination(dst_ip);
        let sum = ipv4::checksum(&ip.to_immutable());
        ip.set_checksum(sum);
    }
    {
        let mut eth = MutableEthernetPacket::new(&mut buf).expect("buffer sized for Ethernet");
        eth.set_destination(dst_mac.into());
        eth.set_source(src_mac.into());
        eth.set_ethertype(EtherTypes::Ipv4);
    }
    buf
}

/// Why a received frame was not handed on as a DHCP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Short(&'static str),
    NotIpv4,
    NotUdp,
    Fragment,
    BadIpChecksum,
    BadUdpChecksum,
    BadLength,
    NotForUs(u16),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Short(what) => write!(f, "frame too short for the {what} header"),
            FrameError::NotIpv4 => write!(f, "not IPv4"),
            FrameError::NotUdp => write!(f, "not UDP"),
            FrameError::Fragment => write!(f, "IP fragment"),
            FrameError::BadIpChecksum => write!(f, "bad IPv4 header checksum"),
            FrameError::BadUdpChecksum => write!(f, "bad UDP checksum"),
            FrameError::BadLength => write!(f, "inconsistent IP/UDP lengths"),
            FrameError::NotForUs(p) => write!(f, "UDP port {p}, not 68"),
        }
    }
}

impl std::error::Error for FrameError {}

/// A UDP datagram for port 68 taken out of an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub src_mac: [u8; 6],
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub payload: &'a [u8],
}

/// Takes the DHCP payload out of a received Ethernet frame, checking every header.
///
/// `csum_not_ready` is the kernel's TP_STATUS_CSUMNOTREADY: the sender's UDP checksum was left
/// to offload that never happened (as on veth), so only the IPv4 header checksum is checked.
pub fn parse(frame: &[u8], csum_not_ready: bool) -> Result<Datagram<'_>, FrameError> {
    let eth = EthernetPacket::new(frame).ok_or(FrameError::Short("Ethernet"))?;
    if eth.get_ethertype() != EtherTypes::Ipv4 {
        return Err(FrameError::NotIpv4);
    }
    let ip_bytes = &frame[ETH_LEN..];
    let ip = Ipv4Packet::new(ip_bytes).ok_or(FrameError::Short("IPv4"))?;
    let ihl = usize::from(ip.get_header_length()) * 4;
    let total = usize::from(ip.get_total_length());
    if ip.get_version() != 4 || ihl < IP_LEN || total < ihl || total > ip_bytes.len() {
        return Err(FrameError::BadLength);
    }
    if ip.get_next_level_protocol() != IpNextHeaderProtocols::Udp {
        return Err(FrameError::NotUdp);
    }
    // More-fragments flag or a fragment offset: we do not reassemble.
    if ip.get_flags() & 1 != 0 || ip.get_fragment_offset() != 0 {
        return Err(FrameError::Fragment);
    }
    if ipv4::checksum(&ip) != ip.get_checksum() {
        return Err(FrameError::BadIpChecksum);
    }
    let udp_bytes = &ip_bytes[ihl..total];
    let udp_pkt = UdpPacket::new(udp_bytes).ok_or(FrameError::Short("UDP"))?;
    if udp_pkt.get_destination() != CLIENT_PORT {
        return Err(FrameError::NotForUs(udp_pkt.get_destination()));
    }
    let udp_len = usize::from(udp_pkt.get_length());
    if udp_len < UDP_LEN || udp_len > udp_bytes.len() {
        return Err(FrameError::BadLength);
    }
    let (src_ip, dst_ip) = (ip.get_source(), ip.get_destination());
    let udp_pkt = UdpPacket::new(&udp_bytes[..udp_len]).ok_or(FrameError::Short("UDP"))?;
    if udp_pkt.get_checksum() != 0 && !csum_not_ready {
        let want = udp::ipv4_checksum(&udp_pkt, &src_ip, &dst_ip);
        let want = if want == 0 { 0xffff } else { want };
        if want != udp_pkt.get_checksum() {
            return Err(FrameError::BadUdpChecksum);
        }
    }
    let mut src_mac = [0u8; 6];
    src_mac.copy_from_slice(&frame[6..12]);
    Ok(Datagram {
        src_mac,
        src_ip,
        dst_ip,
        payload: &udp_bytes[UDP_LEN..udp_len],
    })
}

/// The fields of an ARP packet that conflict detection (RFC 5227) looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpSeen {
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_ip: Ipv4Addr,
}

const ARP_LEN: usize = 28;

/// An ARP request frame from `mac`, asking for `target`, with `sender_ip` as the sender
/// protocol address: 0.0.0.0 for a probe, the address itself for an announcement (RFC 5227
/// 2.1.1 and 2.3). Broadcast, or sent to `to` alone (RFC 4436's unicast reachability test).
pub fn arp_request(
    mac: [u8; 6],
    sender_ip: Ipv4Addr,
    target: Ipv4Addr,
    to: Option<[u8; 6]>,
) -> Vec<u8> {
    let mut buf = vec![0u8; ETH_LEN + ARP_LEN];
    {
        let mut arp = MutableArpPacket::new(&mut buf[ETH_LEN..]).expect("buffer sized for ARP");
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(ArpOperations::Request);
        arp.set_sender_hw_addr(mac.into());
        arp.set_sender_proto_addr(sender_ip);
        arp.set_target_hw_addr([0u8; 6].into());
        arp.set_target_proto_addr(target);
    }
    let mut eth = MutableEthernetPacket::new(&mut buf).expect("buffer sized for Ethernet");
    eth.set_destination(to.unwrap_or(BROADCAST_MAC).into());
    eth.set_source(mac.into());
    eth.set_ethertype(EtherTypes::Arp);
    buf
}

/// An ARP probe for `target` (RFC 5227 2.1.1).
pub fn arp_probe(mac: [u8; 6], target: Ipv4Addr) -> Vec<u8> {
    arp_request(mac, Ipv4Addr::UNSPECIFIED, target, None)
}

/// An ARP announcement of `addr` (RFC 5227 2.3).
pub fn arp_announce(mac: [u8; 6], addr: Ipv4Addr) -> Vec<u8> {
    arp_request(mac, addr, addr, None)
}

/// Reads an Ethernet/IPv4 ARP packet (request or reply); None for anything else.
pub fn parse_arp(frame: &[u8]) -> Option<ArpSeen> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let arp = ArpPacket::new(frame.get(ETH_LEN..)?)?;
    if arp.get_hardware_type() != ArpHardwareTypes::Ethernet
        || arp.get_protocol_type() != EtherTypes::Ipv4
        || arp.get_hw_addr_len() != 6
        || arp.get_proto_addr_len() != 4
    {
        return None;
    }
    Some(ArpSeen {
        sender_mac: arp.get_sender_hw_addr().octets(),
        sender_ip: arp.get_sender_proto_addr(),
        target_ip: arp.get_target_proto_addr(),
    })
}
