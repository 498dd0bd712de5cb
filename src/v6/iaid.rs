//! The IAID of an interface (RFC 8415 12): the same at every run, so that the server finds the
//! client's bindings again after a restart or a reboot, and the same as ISC dhclient's for the
//! same interface, so that a host moved from dhclient to dhcpc keeps its addresses and prefixes.
//!
//! dhclient (4.4.3, `dhc6_create_iaid`) takes the last four bytes of the interface's hardware
//! address, and for its n-th IA of a kind adds n to the last of them; its IA_NA and IA_PD both
//! start at n = 0, so they share one IAID (RFC 8415 allows it: an IAID is unique per IA type).
//! The same four bytes are the IAID of dhclient's and dhcpc's RFC 4361 DHCPv4 client identifier
//! (`-i`, `--clientid duid`: 255, the IAID, the host's DUID), so both protocols name an
//! interface alike. dhclient refuses interfaces without a 6-byte hardware address; dhcpc takes
//! them (tun, WireGuard, PPP) with an IAID from the interface's name, which is as stable.
//!
//! Pure; never panics.

use super::Iaid;

/// The IAID of the `n`-th IA of one kind (0 for the first) on an interface with hardware address
/// `hw` (empty when it has none) and name `ifname`.
pub fn iaid(hw: &[u8], ifname: &str, n: u8) -> Iaid {
    let mut b = match hw.len() {
        4.. => {
            let l = hw.len();
            [hw[l - 4], hw[l - 3], hw[l - 2], hw[l - 1]]
        }
        _ => fnv1a(ifname.as_bytes()).to_be_bytes(),
    };
    b[3] = b[3].wrapping_add(n);
    Iaid::from_be_bytes(b)
}

/// FNV-1a, 32 bits: a fixed function (not std's hasher, whose output may change between
/// releases), so that a name gives the same IAID with every build.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// An IAID as dhclient writes it in its lease file and in `new_iaid` (`print_hex_1`): the four
/// bytes quoted as text when all are printable ASCII, else as colon-separated hex pairs.
pub fn text(iaid: Iaid) -> String {
    let b = iaid.to_be_bytes();
    if b.iter().all(|c| (0x20..0x7f).contains(c)) {
        let s: String = b.iter().map(|&c| char::from(c)).collect();
        format!("\"{s}\"")
    } else {
        b.iter()
            .map(|c| format!("{c:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_four_bytes_of_the_mac_as_dhclient_takes_them() {
        // dhclient 4.4.3 -6 -N -P on a NIC with MAC 02:00:00:aa:bb:cc: "ia-na 00:aa:bb:cc" and
        // "ia-pd 00:aa:bb:cc" in its lease file (testdata/dhclient6.leases).
        let mac = [2, 0, 0, 0xaa, 0xbb, 0xcc];
        assert_eq!(iaid(&mac, "eth0", 0), 0x00aa_bbcc);
        assert_eq!(text(iaid(&mac, "eth0", 0)), "00:aa:bb:cc");
        assert_eq!(iaid(&mac, "eth0", 1), 0x00aa_bbcd);
        assert_eq!(iaid(&[0, 0, 0, 0, 0, 0xff], "x", 1), 0);
        // The name does not matter when there is a MAC.
        assert_eq!(iaid(&mac, "eth0", 0), iaid(&mac, "wan", 0));
    }

    #[test]
    fn the_same_iaid_as_the_dhcpv4_client_identifier() {
        let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        let id = crate::core::request::duid_client_id(mac, &[0, 3, 0, 1]);
        assert_eq!(id[1..5], iaid(&mac, "eth0", 0).to_be_bytes());
    }

    #[test]
    fn without_a_mac_the_name_gives_a_stable_iaid() {
        let a = iaid(&[], "wg0", 0);
        assert_eq!(a, iaid(&[], "wg0", 0));
        assert_ne!(a, iaid(&[], "wg1", 0));
        let second = iaid(&[], "wg0", 2);
        assert_eq!(second >> 8, a >> 8);
        assert_eq!(second as u8, (a as u8).wrapping_add(2));
        // FNV-1a's published value for "a", so that the function cannot drift.
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(iaid(&[1, 2], "", 0), 0x811c_9dc5);
    }

    #[test]
    fn printable_iaids_are_quoted_as_dhclient_quotes_them() {
        assert_eq!(text(u32::from_be_bytes(*b"AB C")), "\"AB C\"");
        assert_eq!(text(0x4142_4300), "41:42:43:00");
        assert_eq!(text(0), "00:00:00:00");
    }
}
