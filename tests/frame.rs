//! Ethernet/IPv4/UDP framing and the classic BPF socket filters (`shell::bpf`), checked against
//! the captured dnsmasq frames and against checksums and a BPF interpreter written out here by
//! hand.

use dhcpc::frame::{self, FrameError, CLIENT_PORT, SERVER_PORT};
use dhcpc::shell::bpf::{self, BpfInsn, BPF_DHCP_CLIENT};
use dhcpc::wire;
use std::net::Ipv4Addr;

const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const SERVER_MAC: [u8; 6] = [0xea, 0x66, 0xc5, 0xb3, 0x05, 0x51];
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const YIADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 134);

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ack() -> Vec<u8> {
    data("dnsmasq-4-ack.eth")
}

// ---------------------------------------------------------------------------------------------
// Checksums by hand (RFC 1071): the ones'-complement sum of 16-bit big-endian words.

fn sum_words(bytes: &[u8]) -> u32 {
    let mut sum = 0u32;
    for pair in bytes.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        sum += hi | lo;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn ihl(f: &[u8]) -> usize {
    usize::from(f[14] & 0x0f) * 4
}

fn u16_at(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

fn set_u16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A header whose checksum is right sums (with its checksum) to all ones.
fn ip_checksum_ok(f: &[u8]) -> bool {
    fold(sum_words(&f[14..14 + ihl(f)])) == 0xffff
}

fn udp_offset(f: &[u8]) -> usize {
    14 + ihl(f)
}

/// The UDP pseudo-header (RFC 768) plus the UDP header and data, summed.
fn udp_sum(f: &[u8]) -> u32 {
    let u = udp_offset(f);
    let len = usize::from(u16_at(f, u + 4));
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&f[26..34]); // source and destination address
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(len as u16).to_be_bytes());
    sum_words(&pseudo) + sum_words(&f[u..u + len])
}

fn udp_checksum_ok(f: &[u8]) -> bool {
    fold(udp_sum(f)) == 0xffff
}

fn fix_ip_checksum(f: &mut [u8]) {
    set_u16(f, 24, 0);
    let c = !fold(sum_words(&f[14..14 + ihl(f)]));
    set_u16(f, 24, c);
    assert!(ip_checksum_ok(f));
}

fn fix_udp_checksum(f: &mut [u8]) {
    let u = udp_offset(f);
    set_u16(f, u + 6, 0);
    let c = !fold(udp_sum(f));
    set_u16(f, u + 6, if c == 0 { 0xffff } else { c });
    assert!(udp_checksum_ok(f));
}

/// Our frames go to port 67; a client's parser wants 68. Swapping the two port words keeps
/// the UDP checksum valid (addition commutes).
fn swap_ports(f: &mut [u8]) {
    let u = udp_offset(f);
    f.swap(u, u + 2);
    f.swap(u + 1, u + 3);
}

fn payload_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

// ---------------------------------------------------------------------------------------------
// Building

#[test]
fn build_broadcast_layout_and_checksums() {
    let payload = payload_of(300);
    let f = frame::build_broadcast(MAC, &payload);
    assert_eq!(f.len(), frame::HEADERS_LEN + 300);
    assert_eq!(frame::HEADERS_LEN, 42);
    // Ethernet
    assert_eq!(f[0..6], [0xff; 6]);
    assert_eq!(f[6..12], MAC);
    assert_eq!(f[12..14], [0x08, 0x00]);
    // IPv4
    assert_eq!(f[14], 0x45, "version 4, ihl 5");
    assert_eq!(f[15], 0, "dscp/ecn");
    assert_eq!(u16_at(&f, 16), 20 + 8 + 300, "total length");
    assert_eq!(u16_at(&f, 20) & 0x3fff, 0, "no fragment");
    assert_eq!(f[22], 64, "ttl");
    assert_eq!(f[23], 17, "protocol UDP");
    assert_eq!(f[26..30], [0, 0, 0, 0]);
    assert_eq!(f[30..34], [255, 255, 255, 255]);
    assert!(ip_checksum_ok(&f), "IPv4 header checksum");
    // UDP
    assert_eq!(u16_at(&f, 34), CLIENT_PORT);
    assert_eq!(u16_at(&f, 36), SERVER_PORT);
    assert_eq!(u16_at(&f, 38), 8 + 300);
    assert_ne!(u16_at(&f, 40), 0, "UDP checksum filled in");
    assert!(udp_checksum_ok(&f), "UDP checksum");
    assert_eq!(f[42..], payload[..]);

    // A client's parser refuses it (it is for the server's port) ...
    assert_eq!(frame::parse(&f, false), Err(FrameError::NotForUs(67)));
    // ... and reads it back once addressed to 68.
    let mut g = f.clone();
    swap_ports(&mut g);
    let d = frame::parse(&g, false).unwrap();
    assert_eq!(d.src_mac, MAC);
    assert_eq!(d.src_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!(d.dst_ip, Ipv4Addr::BROADCAST);
    assert_eq!(d.payload, &payload[..]);
}

#[test]
fn build_unicast_layout_and_checksums() {
    for len in [0usize, 1, 241, 300, 301, 576, 1400] {
        let payload = payload_of(len);
        let f = frame::build(MAC, SERVER_MAC, YIADDR, SERVER, &payload);
        assert_eq!(f[0..6], SERVER_MAC);
        assert_eq!(f[6..12], MAC);
        assert_eq!(f[26..30], YIADDR.octets());
        assert_eq!(f[30..34], SERVER.octets());
        assert_eq!(usize::from(u16_at(&f, 16)), 28 + len);
        assert_eq!(usize::from(u16_at(&f, 38)), 8 + len);
        assert!(ip_checksum_ok(&f), "len {len}");
        assert!(udp_checksum_ok(&f), "len {len}");
        let mut g = f.clone();
        swap_ports(&mut g);
        let d = frame::parse(&g, false).unwrap();
        assert_eq!((d.src_ip, d.dst_ip), (YIADDR, SERVER));
        assert_eq!(d.payload, &payload[..]);
    }
}

#[test]
fn computed_udp_checksum_of_zero_is_sent_as_all_ones() {
    // With the last payload word equal to the checksum of the frame without it, the sum of
    // everything else is all ones and the computed checksum is 0, which RFC 768 sends as
    // 0xffff (0 would mean "no checksum").
    let mut payload = payload_of(300);
    payload[298] = 0;
    payload[299] = 0;
    let c = u16_at(&frame::build_broadcast(MAC, &payload), 40);
    assert_ne!(c, 0xffff);
    payload[298..300].copy_from_slice(&c.to_be_bytes());
    let f = frame::build_broadcast(MAC, &payload);
    assert_eq!(u16_at(&f, 40), 0xffff);
    assert!(udp_checksum_ok(&f));
    let mut g = f.clone();
    swap_ports(&mut g);
    assert_eq!(frame::parse(&g, false).unwrap().payload, &payload[..]);
}

#[test]
fn built_dhcp_message_survives_framing() {
    let mut m = wire::v4::Message::new_with_id(
        0x0102_0304,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.opts_mut().insert(wire::v4::DhcpOption::MessageType(
        wire::v4::MessageType::Discover,
    ));
    let mut f = frame::build_broadcast(MAC, &wire::encode(&m).unwrap());
    swap_ports(&mut f);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(wire::decode(d.payload).unwrap(), m);
}

// ---------------------------------------------------------------------------------------------
// Parsing the captured frames

#[test]
fn captured_frames_have_valid_checksums() {
    for name in [
        "dnsmasq-1-discover.eth",
        "dnsmasq-2-offer.eth",
        "dnsmasq-3-request.eth",
        "dnsmasq-4-ack.eth",
    ] {
        let f = data(name);
        assert!(ip_checksum_ok(&f), "{name}");
        assert!(udp_checksum_ok(&f), "{name}");
    }
}

#[test]
fn captured_offer_and_ack_parse() {
    for name in ["dnsmasq-2-offer.eth", "dnsmasq-4-ack.eth"] {
        let f = data(name);
        assert_eq!(f.len(), 348);
        for csum_not_ready in [false, true] {
            let d = frame::parse(&f, csum_not_ready).unwrap();
            assert_eq!(d.src_mac, SERVER_MAC);
            assert_eq!(d.src_ip, SERVER);
            assert_eq!(d.dst_ip, YIADDR);
            assert_eq!(d.payload.len(), 348 - 42);
            assert_eq!(d.payload, &f[42..]);
        }
    }
}

#[test]
fn captured_client_frames_are_not_for_a_client() {
    for name in ["dnsmasq-1-discover.eth", "dnsmasq-3-request.eth"] {
        assert_eq!(
            frame::parse(&data(name), false),
            Err(FrameError::NotForUs(67)),
            "{name}"
        );
    }
}

#[test]
fn partial_checksum_frame_needs_csum_not_ready() {
    let f = data("dnsmasq-ack-partial-csum.eth");
    assert_eq!(f.len(), 348);
    assert!(ip_checksum_ok(&f));
    assert!(!udp_checksum_ok(&f));
    // What the sender left in the checksum field: the pseudo-header sum only, folded and not
    // complemented, for the stack to finish.
    let len = u16_at(&f, 38);
    let mut pseudo = f[26..34].to_vec();
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&len.to_be_bytes());
    assert_eq!(u16_at(&f, 40), fold(sum_words(&pseudo)));

    assert_eq!(frame::parse(&f, false), Err(FrameError::BadUdpChecksum));
    let d = frame::parse(&f, true).unwrap();
    assert_eq!((d.src_ip, d.dst_ip), (SERVER, YIADDR));
    assert_eq!(d.src_mac, SERVER_MAC);
    assert_eq!(d.payload, &f[42..]);
    let m = wire::decode(d.payload).unwrap();
    assert_eq!(m.opts().msg_type(), Some(wire::v4::MessageType::Ack));
    // Finishing the checksum makes it an ordinary frame.
    let mut g = f.clone();
    fix_udp_checksum(&mut g);
    assert_eq!(frame::parse(&g, false).unwrap().payload, &f[42..]);
}

// ---------------------------------------------------------------------------------------------
// Rejections

#[test]
fn rejects_non_ipv4() {
    let arp = frame::arp_probe(MAC, YIADDR);
    assert_eq!(frame::parse(&arp, false), Err(FrameError::NotIpv4));
    for ethertype in [0x86dd_u16, 0x0806, 0x8100, 0x88cc, 0x0000] {
        let mut f = ack();
        set_u16(&mut f, 12, ethertype);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::NotIpv4),
            "{ethertype:#06x}"
        );
    }
    // An IPv6 packet under the IPv4 ethertype is not taken for IPv4.
    let mut f = ack();
    f[14] = 0x65;
    fix_ip_checksum(&mut f);
    assert_eq!(frame::parse(&f, false), Err(FrameError::BadLength));
}

#[test]
fn rejects_non_udp() {
    for proto in [6u8, 1, 0, 58, 136] {
        let mut f = ack();
        f[23] = proto;
        fix_ip_checksum(&mut f);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::NotUdp),
            "proto {proto}"
        );
    }
}

#[test]
fn rejects_fragments() {
    // flags+offset word: 0x2000 more fragments, low 13 bits the offset in 8-byte units.
    for word in [0x2000u16, 0x0001, 0x00b9, 0x1fff, 0x2001, 0x6000] {
        let mut f = ack();
        set_u16(&mut f, 20, word);
        fix_ip_checksum(&mut f);
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::Fragment),
            "{word:#06x}"
        );
    }
    // Don't-fragment is not a fragment.
    let mut f = ack();
    set_u16(&mut f, 20, 0x4000);
    fix_ip_checksum(&mut f);
    assert!(frame::parse(&f, false).is_ok());
}

#[test]
fn rejects_other_ports() {
    for port in [67u16, 69, 0, 546, 6800, 0x4400] {
        let mut f = ack();
        set_u16(&mut f, 36, port);
        fix_udp_checksum(&mut f);
        assert_eq!(frame::parse(&f, false), Err(FrameError::NotForUs(port)));
    }
}

#[test]
fn rejects_bad_ip_checksum() {
    let mut f = ack();
    f[25] ^= 0x01;
    assert_eq!(frame::parse(&f, false), Err(FrameError::BadIpChecksum));
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
    let mut f = ack();
    f[22] -= 1; // TTL changed, checksum not updated
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
    let mut f = ack();
    f[29] ^= 0x80; // source address
    assert_eq!(frame::parse(&f, true), Err(FrameError::BadIpChecksum));
}

#[test]
fn rejects_bad_udp_checksum_unless_not_ready() {
    for at in [40usize, 41, 42, 100, 42 + 240, 347] {
        let mut f = ack();
        f[at] ^= 0x10;
        assert_eq!(
            frame::parse(&f, false),
            Err(FrameError::BadUdpChecksum),
            "byte {at}"
        );
        assert!(frame::parse(&f, true).is_ok(), "byte {at}");
    }
    // A zero checksum means the sender computed none (RFC 768).
    let mut f = ack();
    f[100] ^= 0x10;
    set_u16(&mut f, 40, 0);
    assert!(frame::parse(&f, false).is_ok());
}

#[test]
fn rejects_inconsistent_lengths() {
    let base = ack();
    let total = u16_at(&base, 16);
    let udp_len = u16_at(&base, 38);
    type Mutation = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "IP total past the frame",
            Box::new(move |f| set_u16(f, 16, total + 1)),
        ),
        ("IP total 65535", Box::new(|f| set_u16(f, 16, 0xffff))),
        (
            "IP total below the header",
            Box::new(|f| set_u16(f, 16, 19)),
        ),
        ("IP total 0", Box::new(|f| set_u16(f, 16, 0))),
        ("ihl 4", Box::new(|f| f[14] = 0x44)),
        ("ihl 0", Box::new(|f| f[14] = 0x40)),
        (
            "ihl 15, total 24",
            Box::new(|f| {
                f[14] = 0x4f;
                set_u16(f, 16, 24);
            }),
        ),
        (
            "UDP length past the IP packet",
            Box::new(move |f| set_u16(f, 38, udp_len + 1)),
        ),
        ("UDP length 7", Box::new(|f| set_u16(f, 38, 7))),
        ("UDP length 0", Box::new(|f| set_u16(f, 38, 0))),
        (
            "IP packet cut below UDP length",
            Box::new(move |f| {
                set_u16(f, 16, total - 10);
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut f = base.clone();
        mutate(&mut f);
        fix_ip_checksum_lenient(&mut f);
        let r = frame::parse(&f, true);
        assert!(
            matches!(r, Err(FrameError::BadLength) | Err(FrameError::Short(_))),
            "{what}: {r:?}"
        );
    }
    // UDP header cut short by the IP total length: 20 + 4.
    let mut f = base.clone();
    set_u16(&mut f, 16, 24);
    fix_ip_checksum(&mut f);
    assert_eq!(frame::parse(&f, true), Err(FrameError::Short("UDP")));
}

#[test]
fn trailing_bytes_are_not_payload() {
    // Ethernet padding after the IP packet.
    let mut f = ack();
    f.extend_from_slice(&[0xaa; 20]);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..]);

    // Bytes inside the IP packet after a shorter UDP datagram.
    let mut f = ack();
    set_u16(&mut f, 38, 8 + 200);
    fix_udp_checksum(&mut f);
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..242]);
}

#[test]
fn truncation_at_every_length() {
    for name in ["dnsmasq-4-ack.eth", "dnsmasq-ack-partial-csum.eth"] {
        let f = data(name);
        for len in 0..f.len() {
            let r = frame::parse(&f[..len], true);
            let want = match len {
                0..14 => Err(FrameError::Short("Ethernet")),
                14..34 => Err(FrameError::Short("IPv4")),
                _ => Err(FrameError::BadLength),
            };
            assert_eq!(r, want, "{name} cut to {len}");
        }
        assert!(frame::parse(&f, true).is_ok());
    }
}

/// The captured ACK with four bytes of IP options (two NOPs, an end-of-options, a pad).
fn ack_with_ip_options() -> Vec<u8> {
    let a = ack();
    let mut f = a[..34].to_vec();
    f.extend_from_slice(&[1, 1, 0, 0]);
    f.extend_from_slice(&a[34..]);
    f[14] = 0x46;
    set_u16(&mut f, 16, u16_at(&a, 16) + 4);
    fix_ip_checksum(&mut f);
    f
}

#[test]
fn accepts_ip_options() {
    let f = ack_with_ip_options();
    assert_eq!(ihl(&f), 24);
    // The pseudo-header does not cover IP options, so the UDP checksum is still right.
    assert!(udp_checksum_ok(&f));
    let d = frame::parse(&f, false).unwrap();
    assert_eq!(d.payload, &ack()[42..]);
    assert_eq!((d.src_ip, d.dst_ip), (SERVER, YIADDR));
}

// ---------------------------------------------------------------------------------------------
// ARP

#[test]
fn arp_probe_and_announce() {
    let p = frame::arp_probe(MAC, YIADDR);
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[0xff; 6][..], &MAC, &[0x08, 0x06],  // Ethernet: broadcast, from us, ARP
        &[0, 1, 0x08, 0x00, 6, 4, 0, 1],      // Ethernet/IPv4, request
        &MAC, &[0, 0, 0, 0],                  // sender: us, 0.0.0.0 (probe)
        &[0; 6], &YIADDR.octets(),            // target
    ]
    .concat();
    assert_eq!(p, want);
    let seen = frame::parse_arp(&p).unwrap();
    assert_eq!(seen.sender_mac, MAC);
    assert_eq!(seen.sender_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!(seen.target_ip, YIADDR);

    let a = frame::arp_announce(MAC, YIADDR);
    assert_eq!(a[28..32], YIADDR.octets());
    assert_eq!(a[38..42], YIADDR.octets());
    let seen = frame::parse_arp(&a).unwrap();
    assert_eq!((seen.sender_ip, seen.target_ip), (YIADDR, YIADDR));

    assert!(frame::parse_arp(&ack()).is_none());
    for len in 0..p.len() {
        assert!(frame::parse_arp(&p[..len]).is_none(), "cut to {len}");
    }
    let mut bad = p.clone();
    bad[18] = 8; // hardware address length
    assert!(frame::parse_arp(&bad).is_none());
}

// ---------------------------------------------------------------------------------------------
// The BPF filter, run on a classic BPF interpreter written from linux/filter.h

const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_H: u16 = 0x08;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_MSH: u16 = 0xa0;
const BPF_JEQ: u16 = 0x10;
const BPF_JSET: u16 = 0x40;
const BPF_K: u16 = 0x00;

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

fn load(pkt: &[u8], at: u32, size: usize) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let bytes = pkt.get(at..at.checked_add(size)?)?;
    Some(bytes.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
}

/// Classic BPF, only the instructions the filter uses. A load out of the packet ends the
/// program with 0 (drop), as in the kernel.
fn run_bpf(prog: &[BpfInsn], pkt: &[u8]) -> u32 {
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

fn accepts(f: &[u8]) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Fuzz: parse never panics, and never accepts what the kernel filter would have dropped.

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

/// fix_ip_checksum for fuzzed frames, whose ihl may point past the end.
fn fix_ip_checksum_lenient(f: &mut [u8]) {
    if 14 + ihl(f) <= f.len() && ihl(f) >= 20 {
        fix_ip_checksum(f);
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
