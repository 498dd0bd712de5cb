//! The classic BPF programs the packet socket ([`crate::shell::rawsock`]) attaches, so that the
//! kernel drops every frame the client has no use for before it is copied to user space.
//!
//! Written by hand: they are a few instructions each, and no crate builds classic BPF for
//! Linux socket filters. `tests/frame.rs` runs them through an interpreter against real and
//! fuzzed frames.

use crate::frame::CLIENT_PORT;
use std::net::Ipv4Addr;

/// One classic BPF instruction (struct sock_filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> BpfInsn {
    BpfInsn { code, jt, jf, k }
}

// Classic BPF opcodes (linux/filter.h).
pub const BPF_LD_W_ABS: u16 = 0x20;
pub const BPF_LD_H_ABS: u16 = 0x28;
pub const BPF_LD_B_ABS: u16 = 0x30;
pub const BPF_LD_H_IND: u16 = 0x48;
pub const BPF_LDX_B_MSH: u16 = 0xb1;
pub const BPF_JEQ_K: u16 = 0x15;
pub const BPF_JSET_K: u16 = 0x45;
pub const BPF_RET_K: u16 = 0x06;

/// The socket filter: accept only unfragmented IPv4 UDP to port 68, so the kernel drops every
/// other frame before it is copied to us.
pub const BPF_DHCP_CLIENT: [BpfInsn; 11] = [
    insn(BPF_LD_H_ABS, 0, 0, 12),              // 0: A = ethertype
    insn(BPF_JEQ_K, 0, 8, 0x0800),             // 1: IPv4? else drop
    insn(BPF_LD_B_ABS, 0, 0, 23),              // 2: A = IP protocol
    insn(BPF_JEQ_K, 0, 6, 17),                 // 3: UDP? else drop
    insn(BPF_LD_H_ABS, 0, 0, 20),              // 4: A = flags + fragment offset
    insn(BPF_JSET_K, 4, 0, 0x3fff),            // 5: a fragment (MF or offset != 0)? drop
    insn(BPF_LDX_B_MSH, 0, 0, 14),             // 6: X = IP header length
    insn(BPF_LD_H_IND, 0, 0, 14 + 2),          // 7: A = UDP destination port
    insn(BPF_JEQ_K, 0, 1, CLIENT_PORT as u32), // 8: port 68? else drop
    insn(BPF_RET_K, 0, 0, 0x0004_0000),        // 9: accept the whole frame
    insn(BPF_RET_K, 0, 0, 0),                  // 10: drop
];

/// The filter while `addrs` are watched: an address being probed (RFC 5227), a link-local
/// one being claimed or defended (RFC 3927). The DHCP filter, plus the ARP frames that can
/// tell of a conflict over one of them, those whose sender or target protocol address is that
/// address (RFC 5227 2.1.1: a reply or request from the address, or another host's probe for
/// it). With no address it is the DHCP filter alone, so that a bound daemon is not woken by a
/// LAN's ARP traffic; and a probing interface is not woken by ARP about other addresses (on
/// one broadcast domain, a hundred interfaces probing at once would otherwise each read all
/// the others' probes).
pub fn bpf_dhcp_client_and_arp_for(addrs: &[Ipv4Addr]) -> Vec<BpfInsn> {
    bpf_dhcp_client_and_arp(addrs, &[])
}

/// [`bpf_dhcp_client_and_arp_for`]`(watch)`, plus the ARP frames whose sender protocol
/// address is one of `senders`: an address held and defended (RFC 5227 2.4), where only a
/// sender that claims it is a conflict. Requests for it, which the kernel answers, are not let
/// through: a bound daemon is not woken each time a neighbour looks it up.
pub fn bpf_dhcp_client_and_arp(watch: &[Ipv4Addr], senders: &[Ipv4Addr]) -> Vec<BpfInsn> {
    // The jumps are a byte long: far more addresses than the few the core ever watches fit,
    // and no more than that many are taken.
    let watch = &watch[..watch.len().min(MAX_WATCHED)];
    let mut by_sender: Vec<Ipv4Addr> = watch.to_vec();
    for a in senders {
        if !by_sender.contains(a) && by_sender.len() < MAX_WATCHED {
            by_sender.push(*a);
        }
    }
    if by_sender.is_empty() {
        return BPF_DHCP_CLIENT.to_vec();
    }
    // The ARP tests in front (A holds the ethertype at 1): every address against the sender
    // protocol address, then the watched ones against the target one (senders first: a short
    // frame whose sender matches is taken before the target's load could fall off its end);
    // then the DHCP filter from its second instruction on: its jumps are relative, so they
    // land as they do there. Accept and drop are its last two instructions.
    let tail = &BPF_DHCP_CLIENT[1..];
    let blocks: Vec<(u32, &[Ipv4Addr])> = [(14 + 14, &by_sender[..]), (14 + 24, watch)]
        .into_iter()
        .filter(|(_, addrs)| !addrs.is_empty())
        .collect();
    let arp_len: usize = blocks.iter().map(|(_, a)| 1 + a.len()).sum();
    let total = 2 + arp_len + tail.len();
    let (accept, drop) = (total - 2, total - 1);
    // The jump from the instruction at `pc` to `to`.
    let hop = |pc: usize, to: usize| (to - pc - 1) as u8;
    let mut program = Vec::with_capacity(total);
    program.push(insn(BPF_LD_H_ABS, 0, 0, 12)); // A = ethertype
    program.push(insn(BPF_JEQ_K, 0, arp_len as u8, 0x0806)); // ARP? else the IPv4 test
    for (b, (offset, addrs)) in blocks.iter().enumerate() {
        let last_block = b + 1 == blocks.len();
        program.push(insn(BPF_LD_W_ABS, 0, 0, *offset)); // A = sender, or target address
        for (i, addr) in addrs.iter().enumerate() {
            let pc = program.len();
            // The last address of the last block misses to drop; the others fall through.
            let miss = if last_block && i + 1 == addrs.len() {
                hop(pc, drop)
            } else {
                0
            };
            program.push(insn(BPF_JEQ_K, hop(pc, accept), miss, u32::from(*addr)));
        }
    }
    program.extend_from_slice(tail);
    program
}

/// The most addresses [`bpf_dhcp_client_and_arp_for`] watches (its jumps stay under 256).
pub const MAX_WATCHED: usize = 64;

/// The program in the form the kernel takes (socket2's `struct sock_filter`).
pub fn to_sock_filter(program: &[BpfInsn]) -> Vec<socket2::SockFilter> {
    program
        .iter()
        .map(|i| socket2::SockFilter::new(i.code, i.jt, i.jf, i.k))
        .collect()
}
