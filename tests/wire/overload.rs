//! RFC 3396 long options and RFC 2131 option overload.

use super::helpers::*;
use dhcpc::lease::Lease;
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire::v4::{DhcpOption, OptionCode};
use dhcpc::wire::{self, WireError};
use std::net::Ipv4Addr;

#[test]
fn split_option_parts_are_concatenated() {
    let b = raw_reply(&[
        6, 4, 198, 51, 100, 1, // DNS, first part
        53, 1, 5, //
        15, 3, b'l', b'a', b'b', // domain, first part
        54, 4, 198, 51, 100, 1, //
        0, 0, // padding between parts
        6, 8, 198, 51, 100, 2, 203, 0, 113, 53, // DNS, second part
        15, 5, b'.', b't', b'e', b's', b't', // domain, second part
        224, 1, 1, //
        224, 0, // an empty part
        224, 2, 2, 3, //
        255,
    ]);
    let m = wire::decode(&b).unwrap();
    assert_eq!(
        ips(&m, OptionCode::DomainNameServer),
        [
            SERVER,
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(203, 0, 113, 53)
        ]
    );
    assert_eq!(
        m.opts().get(OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lab.test".into()))
    );
    assert_eq!(unknown_data(&m, 224).unwrap(), [1, 2, 3]);
    assert_eq!(server_id(&m), Some(SERVER));
}

#[test]
fn split_fixed_size_option_is_judged_after_joining() {
    // A 4-byte option split 2 + 2 is a good option; two full copies are 8 bytes, not one value.
    let ok = raw_reply(&[
        53, 1, 5, 51, 2, 0, 0, 54, 4, 198, 51, 100, 1, 51, 2, 0x0e, 0x10, 255,
    ]);
    assert_eq!(
        wire::decode(&ok)
            .unwrap()
            .opts()
            .get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(3600))
    );
    let twice = raw_reply(&[
        53, 1, 5, 51, 4, 0, 0, 0x0e, 0x10, 51, 4, 0, 0, 0x0e, 0x10, 255,
    ]);
    assert_eq!(
        wire::decode(&twice),
        Err(WireError::MalformedOption { code: 51 })
    );
}

/// A reply whose options field holds `opts`, file field `file` and sname field `sname`.
fn overloaded(opts: &[u8], file: &[u8], sname: &[u8]) -> Vec<u8> {
    let mut b = raw_reply(opts);
    b[108..108 + file.len()].copy_from_slice(file);
    b[44..44 + sname.len()].copy_from_slice(sname);
    b
}

#[test]
fn overload_reads_file_then_sname() {
    let b = overloaded(
        &[53, 1, 5, 52, 1, 3, 15, 2, b'l', b'a', 255],
        // file: lease time, first DNS, domain continues
        &[
            51, 4, 0, 0, 0x0e, 0x10, 6, 4, 198, 51, 100, 1, 15, 3, b'b', b'.', b't', 255,
        ],
        // sname: server id, second DNS, end of domain
        &[
            54, 4, 198, 51, 100, 1, 6, 4, 198, 51, 100, 2, 15, 3, b'e', b's', b't', 255,
        ],
    );
    let m = wire::decode(&b).unwrap();
    assert_eq!(server_id(&m), Some(SERVER));
    assert_eq!(
        m.opts().get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(3600))
    );
    assert_eq!(
        ips(&m, OptionCode::DomainNameServer),
        [SERVER, Ipv4Addr::new(198, 51, 100, 2)]
    );
    // Options field, then file, then sname (RFC 3396 section 7).
    assert_eq!(
        m.opts().get(OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lab.test".into()))
    );
    // The fields held options, not names.
    assert_eq!(m.sname(), None);
    assert_eq!(m.fname(), None);
    let lease = Lease::from_reply(&Reply::parse(&b, SERVER).unwrap(), Instant::ZERO).unwrap();
    assert_eq!(lease.lease_secs, 3600);
    assert_eq!(lease.domain.as_deref(), Some("lab.test"));
}

#[test]
fn overload_file_only_keeps_sname() {
    let b = overloaded(
        &[53, 1, 5, 52, 1, 1, 255],
        &[54, 4, 198, 51, 100, 1, 255],
        b"boot-server\0",
    );
    let m = wire::decode(&b).unwrap();
    assert_eq!(server_id(&m), Some(SERVER));
    assert_eq!(m.sname(), Some(&b"boot-server\0"[..]));
    assert_eq!(m.fname(), None);
}

#[test]
fn overload_sname_only_leaves_file_alone() {
    // The file field holds a name that would be garbage as options; it must not be read.
    let b = overloaded(
        &[53, 1, 5, 52, 1, 2, 255],
        b"pxelinux.0\0",
        &[54, 4, 198, 51, 100, 1, 255],
    );
    let m = wire::decode(&b).unwrap();
    assert_eq!(server_id(&m), Some(SERVER));
    assert_eq!(m.fname(), Some(&b"pxelinux.0\0"[..]));
    assert_eq!(m.sname(), None);
}

#[test]
fn no_overload_means_file_and_sname_are_names() {
    let b = overloaded(
        &[53, 1, 5, 255],
        &[54, 4, 198, 51, 100, 1, 255],
        &[51, 4, 0, 0, 0x0e, 0x10, 255],
    );
    let m = wire::decode(&b).unwrap();
    assert_eq!(server_id(&m), None);
    assert_eq!(m.opts().get(OptionCode::AddressLeaseTime), None);
}

#[test]
fn overrun_inside_overloaded_field() {
    // An option in the file field that claims more than the 128-byte field holds.
    let b = overloaded(&[53, 1, 5, 52, 1, 1, 255], &[224, 200, 1, 2, 3], &[]);
    assert_eq!(
        wire::decode(&b),
        Err(WireError::OptionOverrun { code: 224 })
    );
    let mut file = vec![0u8; 126];
    file.extend([51, 4]);
    let b = overloaded(&[53, 1, 5, 52, 1, 1, 255], &file, &[]);
    assert_eq!(wire::decode(&b), Err(WireError::OptionOverrun { code: 51 }));
    let b = overloaded(&[53, 1, 5, 52, 1, 2, 255], &[], &[6, 70]);
    assert_eq!(wire::decode(&b), Err(WireError::OptionOverrun { code: 6 }));
}
