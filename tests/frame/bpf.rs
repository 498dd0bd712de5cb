//! The BPF filter, run on a classic BPF interpreter written from linux/filter.h.

use super::helpers::*;
use dhcpc::frame::{self};
use dhcpc::shell::bpf::{self, BpfInsn, BPF_DHCP_CLIENT};

pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_W: u16 = 0x00;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MSH: u16 = 0xa0;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JSET: u16 = 0x40;
pub const BPF_K: u16 = 0x00;

#[test]
fn bpf_opcodes_match_linux() {
    assert_eq!(bpf::BPF_LD_W_ABS, BPF_LD | BPF_W | BPF_ABS);
    assert_eq!(bpf::BPF_LD_H_ABS, BPF_LD | BPF_H | BPF_ABS);
    assert_eq!(bpf::BPF_LD_B_ABS, BPF_LD | BPF_B | BPF_ABS);
    assert_eq!(bpf::BPF_LD_H_IND, BPF_LD | BPF_H | BPF_IND);
    assert_eq!(bpf::BPF_LDX_B_MSH, BPF_LDX | BPF_B | BPF_MSH);
    assert_eq!(bpf::BPF_JEQ_K, BPF_JMP | BPF_JEQ | BPF_K);
    assert_eq!(bpf::BPF_JSET_K, BPF_JMP | BPF_JSET | BPF_K);
    assert_eq!(bpf::BPF_RET_K, BPF_RET | BPF_K);
    // struct sock_filter is 8 bytes: u16 code, u8 jt, u8 jf, u32 k.
    assert_eq!(std::mem::size_of::<BpfInsn>(), 8);
}

/// What the kernel's checker (sk_chk_filter) insists on: every jump lands inside the program,
/// and the program ends in a return.
#[test]
fn bpf_program_is_well_formed() {
    let prog = &BPF_DHCP_CLIENT;
    for (pc, i) in prog.iter().enumerate() {
        if i.code & 0x07 == BPF_JMP {
            assert!(pc + 1 + usize::from(i.jt) < prog.len(), "insn {pc} jt");
            assert!(pc + 1 + usize::from(i.jf) < prog.len(), "insn {pc} jf");
        }
    }
    assert_eq!(prog.last().unwrap().code, BPF_RET | BPF_K);
}

pub fn load(pkt: &[u8], at: u32, size: usize) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let bytes = pkt.get(at..at.checked_add(size)?)?;
    Some(bytes.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
}

/// Classic BPF, only the instructions the filter uses. A load out of the packet ends the
/// program with 0 (drop), as in the kernel.
pub fn run_bpf(prog: &[BpfInsn], pkt: &[u8]) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut pc = 0;
    loop {
        let i = prog[pc];
        pc += 1;
        match i.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => match load(pkt, i.k, 4) {
                Some(v) => a = v,
                None => return 0,
            },
            c if c == BPF_LD | BPF_H | BPF_ABS => match load(pkt, i.k, 2) {
                Some(v) => a = v,
                None => return 0,
            },
            c if c == BPF_LD | BPF_B | BPF_ABS => match load(pkt, i.k, 1) {
                Some(v) => a = v,
                None => return 0,
            },
            c if c == BPF_LD | BPF_H | BPF_IND => match load(pkt, x.wrapping_add(i.k), 2) {
                Some(v) => a = v,
                None => return 0,
            },
            c if c == BPF_LDX | BPF_B | BPF_MSH => match load(pkt, i.k, 1) {
                Some(v) => x = (v & 0x0f) * 4,
                None => return 0,
            },
            c if c == BPF_JMP | BPF_JEQ | BPF_K => {
                pc += usize::from(if a == i.k { i.jt } else { i.jf });
            }
            c if c == BPF_JMP | BPF_JSET | BPF_K => {
                pc += usize::from(if a & i.k != 0 { i.jt } else { i.jf });
            }
            c if c == BPF_RET | BPF_K => return i.k,
            c => panic!("instruction {c:#06x} at {} not interpreted", pc - 1),
        }
    }
}

pub fn accepts(f: &[u8]) -> bool {
    let verdict = run_bpf(&BPF_DHCP_CLIENT, f);
    if verdict != 0 {
        // Accept means the whole frame, not a truncated copy of it.
        assert!(verdict as usize >= f.len().max(65535), "snap {verdict}");
    }
    verdict != 0
}

#[test]
fn bpf_accepts_dhcp_to_port_68() {
    assert!(accepts(&data("dnsmasq-2-offer.eth")));
    assert!(accepts(&data("dnsmasq-4-ack.eth")));
    assert!(accepts(&data("dnsmasq-ack-partial-csum.eth")));
    let mut built = frame::build(MAC, SERVER_MAC, YIADDR, SERVER, &payload_of(300));
    swap_ports(&mut built);
    assert!(accepts(&built));
    assert!(accepts(&ack_with_ip_options()));
    // Longer IP options too (ihl 15, 40 bytes of NOPs).
    let a = ack();
    let mut f = a[..34].to_vec();
    f.extend_from_slice(&[1; 40]);
    f.extend_from_slice(&a[34..]);
    f[14] = 0x4f;
    set_u16(&mut f, 16, u16_at(&a, 16) + 40);
    fix_ip_checksum(&mut f);
    assert!(accepts(&f));
    assert!(frame::parse(&f, false).is_ok());
    // Don't-fragment set is still unfragmented.
    let mut f = ack();
    set_u16(&mut f, 20, 0x4000);
    assert!(accepts(&f));
}

#[test]
fn bpf_drops_everything_else() {
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("ARP probe", frame::arp_probe(MAC, YIADDR)),
        ("captured DISCOVER (to 67)", data("dnsmasq-1-discover.eth")),
        ("captured REQUEST (to 67)", data("dnsmasq-3-request.eth")),
        (
            "our own DISCOVER",
            frame::build_broadcast(MAC, &payload_of(300)),
        ),
        ("empty frame", vec![]),
        ("Ethernet header only", ack()[..14].to_vec()),
        ("IPv4 header, no UDP", ack()[..34].to_vec()),
        ("UDP header cut before the port", ack()[..37].to_vec()),
    ];
    let mut ipv6 = vec![0xff; 6];
    ipv6.extend_from_slice(&SERVER_MAC);
    ipv6.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64]);
    ipv6.extend_from_slice(&[0; 32]); // addresses
    ipv6.extend_from_slice(&[2, 35, 2, 34, 0, 8, 0, 0]); // UDP 547 -> 546
    cases.push(("IPv6 UDP", ipv6));
    let mut v6_ethertype = ack();
    set_u16(&mut v6_ethertype, 12, 0x86dd);
    cases.push(("IPv4 bytes under the IPv6 ethertype", v6_ethertype));
    let mut tcp = ack();
    tcp[23] = 6;
    cases.push(("TCP to port 68", tcp));
    for port in [67u16, 69, 53, 0x4400] {
        let mut f = ack();
        set_u16(&mut f, 36, port);
        cases.push(("UDP to another port", f));
    }
    let mut later = ack();
    set_u16(&mut later, 20, 0x00b9);
    cases.push(("later fragment", later));
    let mut first = ack();
    set_u16(&mut first, 20, 0x2000);
    cases.push(("first fragment (more fragments set)", first));
    let mut cut = ack_with_ip_options();
    cut.truncate(14 + 24 + 2);
    cases.push(("IP options, cut before the port", cut));
    for (what, f) in cases {
        assert!(!accepts(&f), "{what}");
        assert!(frame::parse(&f, true).is_err(), "{what}");
    }
}
