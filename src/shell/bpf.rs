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

/// The filter while `addr` is being probed (RFC 5227): the DHCP filter, plus the ARP frames
/// that can tell of a conflict over `addr`, those whose sender or target protocol address is
/// `addr` (2.1.1: a reply or request from the address, or another host's probe for it).
/// Swapped in only for the probe window, so that a bound daemon is not woken by a LAN's ARP
/// traffic; and a probing interface is not woken by ARP about other addresses (on one
/// broadcast domain, a hundred interfaces probing at once would otherwise each read all the
/// others' probes).
pub fn bpf_dhcp_client_and_arp_for(addr: Ipv4Addr) -> [BpfInsn; 16] {
    let a = u32::from(addr);
    // The ARP test in front (A holds the ethertype at 1), then the DHCP filter from its
    // second instruction on: its jumps are relative, so they land as they do there. Accept
    // and drop are its last two instructions, 14 and 15 here.
    let arp = [
        insn(BPF_LD_H_ABS, 0, 0, 12),      // 0: A = ethertype
        insn(BPF_JEQ_K, 0, 4, 0x0806),     // 1: ARP? else to 6, the DHCP filter's IPv4 test
        insn(BPF_LD_W_ABS, 0, 0, 14 + 14), // 2: A = sender protocol address
        insn(BPF_JEQ_K, 10, 0, a),         // 3: the probed address? accept
        insn(BPF_LD_W_ABS, 0, 0, 14 + 24), // 4: A = target protocol address
        insn(BPF_JEQ_K, 8, 9, a),          // 5: the probed address? accept, else drop
    ];
    let mut program = [BPF_DHCP_CLIENT[0]; 16];
    program[..6].copy_from_slice(&arp);
    program[6..].copy_from_slice(&BPF_DHCP_CLIENT[1..]);
    program
}

/// The program in the form the kernel takes (socket2's `struct sock_filter`).
pub fn to_sock_filter(program: &[BpfInsn]) -> Vec<socket2::SockFilter> {
    program
        .iter()
        .map(|i| socket2::SockFilter::new(i.code, i.jt, i.jf, i.k))
        .collect()
}
