//! The captured frames, and checksums by hand (RFC 1071): the ones'-complement sum of 16-bit
//! big-endian words.

use std::net::Ipv4Addr;

pub const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
pub const SERVER_MAC: [u8; 6] = [0xea, 0x66, 0xc5, 0xb3, 0x05, 0x51];
pub const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const YIADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 134);

pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn ack() -> Vec<u8> {
    data("dnsmasq-4-ack.eth")
}

pub fn sum_words(bytes: &[u8]) -> u32 {
    let mut sum = 0u32;
    for pair in bytes.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        sum += hi | lo;
    }
    sum
}

pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

pub fn ihl(f: &[u8]) -> usize {
    usize::from(f[14] & 0x0f) * 4
}

pub fn u16_at(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

pub fn set_u16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A header whose checksum is right sums (with its checksum) to all ones.
pub fn ip_checksum_ok(f: &[u8]) -> bool {
    fold(sum_words(&f[14..14 + ihl(f)])) == 0xffff
}

pub fn udp_offset(f: &[u8]) -> usize {
    14 + ihl(f)
}

/// The UDP pseudo-header (RFC 768) plus the UDP header and data, summed.
pub fn udp_sum(f: &[u8]) -> u32 {
    let u = udp_offset(f);
    let len = usize::from(u16_at(f, u + 4));
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&f[26..34]); // source and destination address
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(len as u16).to_be_bytes());
    sum_words(&pseudo) + sum_words(&f[u..u + len])
}

pub fn udp_checksum_ok(f: &[u8]) -> bool {
    fold(udp_sum(f)) == 0xffff
}

pub fn fix_ip_checksum(f: &mut [u8]) {
    set_u16(f, 24, 0);
    let c = !fold(sum_words(&f[14..14 + ihl(f)]));
    set_u16(f, 24, c);
    assert!(ip_checksum_ok(f));
}

pub fn fix_udp_checksum(f: &mut [u8]) {
    let u = udp_offset(f);
    set_u16(f, u + 6, 0);
    let c = !fold(udp_sum(f));
    set_u16(f, u + 6, if c == 0 { 0xffff } else { c });
    assert!(udp_checksum_ok(f));
}

/// Our frames go to port 67; a client's parser wants 68. Swapping the two port words keeps
/// the UDP checksum valid (addition commutes).
pub fn swap_ports(f: &mut [u8]) {
    let u = udp_offset(f);
    f.swap(u, u + 2);
    f.swap(u + 1, u + 3);
}

pub fn payload_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// The captured ACK with four bytes of IP options (two NOPs, an end-of-options, a pad).
pub fn ack_with_ip_options() -> Vec<u8> {
    let a = ack();
    let mut f = a[..34].to_vec();
    f.extend_from_slice(&[1, 1, 0, 0]);
    f.extend_from_slice(&a[34..]);
    f[14] = 0x46;
    set_u16(&mut f, 16, u16_at(&a, 16) + 4);
    fix_ip_checksum(&mut f);
    f
}

/// fix_ip_checksum for fuzzed frames, whose ihl may point past the end.
pub fn fix_ip_checksum_lenient(f: &mut [u8]) {
    if 14 + ihl(f) <= f.len() && ihl(f) >= 20 {
        fix_ip_checksum(f);
    }
}
