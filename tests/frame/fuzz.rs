//! Fuzz: parse never panics, and never accepts what the kernel filter would have dropped; the
//! filters swapped in while addresses are watched.

use super::bpf::*;
use super::helpers::*;
use dhcpc::frame::{self};
use dhcpc::shell::bpf::{self, BPF_DHCP_CLIENT};
use dhcpc::wire;
use std::net::Ipv4Addr;

fn check(f: &[u8]) {
    let bpf = accepts(f);
    for csum_not_ready in [false, true] {
        if let Ok(d) = frame::parse(f, csum_not_ready) {
            assert!(bpf, "parse accepts a frame the filter drops: {f:02x?}");
            let _ = wire::decode(d.payload);
        }
    }
    let _ = frame::parse_arp(f);
}

#[test]
fn fuzz_frames() {
    let mut rng = fastrand::Rng::with_seed(768);
    let mut built = frame::build(MAC, SERVER_MAC, YIADDR, SERVER, &payload_of(300));
    swap_ports(&mut built);
    let bases = [
        ack(),
        data("dnsmasq-ack-partial-csum.eth"),
        ack_with_ip_options(),
        built,
        frame::arp_probe(MAC, YIADDR),
    ];
    for i in 0..100_000 {
        let mut f = bases[i % bases.len()].clone();
        for _ in 0..rng.usize(1..=4) {
            match rng.u8(0..5) {
                // The headers, where parse and the filter make their decisions.
                0 | 1 if !f.is_empty() => {
                    let at = rng.usize(0..f.len().min(48));
                    f[at] = rng.u8(..);
                }
                2 if !f.is_empty() => {
                    let at = rng.usize(0..f.len());
                    f[at] ^= 1 << rng.u8(0..8);
                }
                3 => {
                    let len = rng.usize(0..=f.len());
                    f.truncate(len);
                }
                _ => f.extend((0..rng.usize(0..16)).map(|_| rng.u8(..))),
            }
        }
        if f.len() >= 34 && rng.bool() {
            fix_ip_checksum_lenient(&mut f);
        }
        check(&f);
    }
    for _ in 0..20_000 {
        let len = rng.usize(0..120);
        let mut f: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if len >= 24 {
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            f[23] = 17;
        }
        check(&f);
    }
}

/// While addresses are watched, the filter swapped in lets through the ARP frames whose sender
/// or target protocol address is one of them, and otherwise decides exactly as the plain one:
/// checked on real, built and randomly mutated frames, for one address (a probe) and two (a
/// probe beside a link-local address).
#[test]
fn bpf_while_probing_is_the_dhcp_filter_plus_arp_about_the_address() {
    assert_eq!(
        bpf::bpf_dhcp_client_and_arp_for(&[]),
        BPF_DHCP_CLIENT.to_vec()
    );
    check_watch_filter(&[YIADDR], &[]);
    check_watch_filter(&[YIADDR, Ipv4Addr::new(169, 254, 7, 9)], &[]);
    check_watch_filter(&[Ipv4Addr::new(169, 254, 7, 9), YIADDR], &[]);
}

/// An address held and defended (RFC 5227 2.4): only ARP whose sender claims it gets through;
/// probes and requests for it (which the kernel answers) do not wake the daemon.
#[test]
fn bpf_while_bound_lets_through_only_arp_from_the_address() {
    assert_eq!(
        bpf::bpf_dhcp_client_and_arp(&[], &[]),
        BPF_DHCP_CLIENT.to_vec()
    );
    check_watch_filter(&[], &[YIADDR]);
    // Beside a probe of another address, and the same address in both lists.
    check_watch_filter(&[Ipv4Addr::new(169, 254, 7, 9)], &[YIADDR]);
    check_watch_filter(&[YIADDR], &[YIADDR]);
    let with = bpf::bpf_dhcp_client_and_arp(&[], &[YIADDR]);
    let other = [0x02, 0, 0, 0, 0, 0x99];
    assert!(run_bpf(&with, &frame::arp_announce(other, YIADDR)) != 0);
    assert!(run_bpf(&with, &frame::arp_probe(other, YIADDR)) == 0);
    let lookup = frame::arp_request(other, Ipv4Addr::new(198, 51, 100, 1), YIADDR, None);
    assert!(run_bpf(&with, &lookup) == 0);
}

fn check_watch_filter(addrs: &[Ipv4Addr], senders: &[Ipv4Addr]) {
    let with_arp = bpf::bpf_dhcp_client_and_arp(addrs, senders);
    for (pc, i) in with_arp.iter().enumerate() {
        if i.code & 0x07 == BPF_JMP {
            assert!(pc + 1 + usize::from(i.jt) < with_arp.len(), "insn {pc} jt");
            assert!(pc + 1 + usize::from(i.jf) < with_arp.len(), "insn {pc} jf");
        }
    }
    assert_eq!(with_arp.last().unwrap().code, BPF_RET | BPF_K);
    let about_addr = |f: &[u8]| {
        f.len() >= 14
            && f[12..14] == [0x08, 0x06]
            && (addrs.iter().any(|a| {
                let a = a.octets();
                f.get(28..32) == Some(&a[..]) || f.get(38..42) == Some(&a[..])
            }) || senders
                .iter()
                .any(|a| f.get(28..32) == Some(&a.octets()[..])))
    };
    let same = |f: &[u8]| {
        let is_arp = f.len() >= 14 && f[12..14] == [0x08, 0x06];
        let want = if is_arp {
            about_addr(f)
        } else {
            run_bpf(&BPF_DHCP_CLIENT, f) != 0
        };
        assert_eq!(run_bpf(&with_arp, f) != 0, want, "{addrs:?}: {f:02x?}");
    };
    let other = [0x02, 0, 0, 0, 0, 0x99];
    let elsewhere = std::net::Ipv4Addr::new(198, 51, 100, 99);
    let mut bases = vec![
        ack(),
        data("dnsmasq-1-discover.eth"),
        data("dnsmasq-ack-partial-csum.eth"),
        ack_with_ip_options(),
        frame::arp_probe(other, elsewhere),
        frame::arp_announce(other, elsewhere),
    ];
    assert!(run_bpf(&with_arp, &frame::arp_probe(other, elsewhere)) == 0);
    assert!(run_bpf(&with_arp, &frame::arp_announce(other, elsewhere)) == 0);
    for &addr in senders {
        // A claim of a defended address (announcement, reply): through.
        assert!(run_bpf(&with_arp, &frame::arp_announce(other, addr)) != 0);
        bases.push(frame::arp_announce(other, addr));
        bases.push(frame::arp_probe(other, addr));
    }
    for &addr in addrs {
        // Another host's probe or announcement of the address, a reply from it: through.
        assert!(run_bpf(&with_arp, &frame::arp_probe(other, addr)) != 0);
        assert!(run_bpf(&with_arp, &frame::arp_announce(other, addr)) != 0);
        let mut reply = frame::arp_announce(other, addr);
        reply[21] = 2; // operation: reply, sender = the address
        reply[38..42].copy_from_slice(&[198, 51, 100, 1]);
        assert!(run_bpf(&with_arp, &reply) != 0);
        let mut ann = frame::arp_announce(MAC, addr);
        assert!(run_bpf(&with_arp, &ann) != 0);
        assert!(run_bpf(&BPF_DHCP_CLIENT, &ann) == 0);
        bases.push(frame::arp_probe(MAC, addr));
        bases.push(reply);
        ann.truncate(14);
        bases.push(ann);
    }
    let mut rng = fastrand::Rng::with_seed(5227);
    for i in 0..50_000 {
        let mut f = bases[i % bases.len()].clone();
        same(&f);
        for _ in 0..rng.usize(1..=3) {
            if f.is_empty() {
                break;
            }
            let at = rng.usize(..f.len().min(42));
            f[at] = rng.u8(..);
        }
        if rng.bool() {
            f.truncate(rng.usize(..=f.len()));
        }
        same(&f);
    }
}
