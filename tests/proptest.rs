//! Property tests (proptest) of the encode/decode round trips: every message the client
//! builds (src/core/request.rs) encodes and decodes to the same message; a frame built by
//! `frame::build` parses back to its payload and addresses; an ARP request parses back to
//! its fields; a lease file rendered from any valid lease reads back to the same lease, and
//! read later counts the time spent; and whatever T1, T2 and lease time a server sends, and
//! whatever the seed, the fuzzed T1 and T2 a client binds with keep T1 < T2 < lease.

use dhcpc::addr::{broadcast_of, is_usable_unicast, Route};
use dhcpc::core::request::{self, ClientId};
use dhcpc::core::{max_message_size, Action, Client, Config, Event, ProbeMode};
use dhcpc::frame;
use dhcpc::lease::renewal_times;
use dhcpc::lease::{Lease, INFINITE, MIN_LEASE_SECS};
use dhcpc::leasefile;
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire::{
    self,
    v4::{DhcpOption, Message, MessageType, Opcode, OptionCode},
};
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn unicast() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>()
        .prop_map(Ipv4Addr::from)
        .prop_filter("unicast", |a| is_usable_unicast(*a))
}

fn mac() -> impl Strategy<Value = [u8; 6]> {
    any::<[u8; 6]>()
}

/// A DNS name as dhcpc takes one: labels of letters, digits, '-' and '_'.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9_-][a-z0-9_-]{0,20}", 1..4).prop_map(|l| l.join("."))
}

fn config() -> impl Strategy<Value = Config> {
    (
        mac(),
        prop_oneof![
            Just(ClientId::Mac),
            Just(ClientId::Duid),
            Just(ClientId::None),
            prop::collection::vec(any::<u8>(), 1..40).prop_map(ClientId::Raw),
        ],
        prop::option::of(name()),
        prop::option::of(name()),
        prop::collection::vec(1u8..=254, 0..6),
        any::<bool>(),
        prop::option::of(prop::collection::vec(any::<u8>(), 1..300)),
        any::<bool>(),
        prop::option::of(0u32..70_000),
    )
        .prop_map(
            |(hw, id, hostname, fqdn, extra, rapid, vendor, bcast, mtu)| {
                let mut c = Config::new(hw);
                c.client_id = request::client_id(&id, hw, &request::new_duid([7; 16]));
                c.hostname = hostname;
                c.fqdn = fqdn;
                c.extra_requests = extra;
                c.rapid_commit = rapid;
                c.vendor_class = vendor;
                c.broadcast_flag = bcast;
                c.max_message_size = max_message_size(mtu);
                c
            },
        )
}

/// A lease that passes `Lease::check`: a unicast host address of a 1..=32 prefix, servers,
/// routes, names and times all within their rules.
fn lease() -> impl Strategy<Value = Lease> {
    let times = prop_oneof![
        1 => Just((INFINITE, INFINITE, INFINITE)),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(t1, t2)| (INFINITE, t1, t2)),
        6 => (MIN_LEASE_SECS..INFINITE).prop_flat_map(|lease| {
            (2..lease).prop_flat_map(move |t2| (1..t2).prop_map(move |t1| (lease, t1, t2)))
        }),
    ];
    let route = (
        unicast(),
        0u8..=32,
        prop_oneof![Just(Ipv4Addr::UNSPECIFIED), unicast()],
    )
        .prop_map(|(dest, prefix_len, gateway)| {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix_len))
                .unwrap_or(0);
            Route {
                dest: Ipv4Addr::from(u32::from(dest) & mask),
                prefix_len,
                gateway,
            }
        });
    (
        (unicast(), 1u8..=32, unicast()),
        prop::collection::vec(unicast(), 0..4),
        prop::collection::vec(unicast(), 0..4),
        prop::option::of(name()),
        prop::option::of(68u16..),
        prop::collection::vec(route, 0..4),
        prop::collection::vec(name(), 0..4),
        prop::collection::vec(unicast(), 0..3),
        times,
        0u64..1_000_000,
    )
        .prop_map(
            |(
                (address, prefix_len, server_id),
                routers,
                dns,
                domain,
                mtu,
                classless_routes,
                search,
                ntp,
                (lease_secs, t1_secs, t2_secs),
                start,
            )| Lease {
                address,
                prefix_len,
                broadcast: broadcast_of(address, prefix_len),
                server_id,
                next_server: None,
                routers,
                dns,
                domain,
                mtu,
                classless_routes,
                search,
                ntp,
                options: Default::default(),
                lease_secs,
                t1_secs,
                t2_secs,
                start: Instant::from_secs(start),
            },
        )
        .prop_filter("a valid lease", |l| l.check().is_ok())
}

/// The message as the wire carries it, read back: the same header, and option by option the
/// same options. (Read option by option rather than with the strict `wire::decode`: option 81
/// with a partial name, which RFC 4702 2.3.1 allows and dhcpc sends for a single-label name,
/// is one dhcproto cannot read; it is sent as raw bytes, and compared as such.)
fn round_trip(m: &Message) -> Result<(), TestCaseError> {
    let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
    let bytes = wire::encode(m).map_err(|e| fail(&e))?;
    prop_assert!(bytes.len() >= wire::MIN_MESSAGE_LEN);
    let parts = wire::parts(&bytes).map_err(|e| fail(&e))?;
    let mut header = m.clone();
    header.set_opts(Default::default());
    prop_assert_eq!(&parts.header, &header);
    prop_assert_eq!(parts.options.len(), m.opts().len());
    for (code, data) in &parts.options {
        let want = m.opts().get(OptionCode::from(*code));
        match want {
            Some(DhcpOption::Unknown(raw)) => prop_assert_eq!(raw.data(), &data[..]),
            Some(want) => {
                let got = wire::option(*code, data).map_err(|e| fail(&e))?;
                prop_assert_eq!(&got, want);
            }
            None => prop_assert!(false, "option {} was not in the message", code),
        }
    }
    Ok(())
}

fn kind(m: &Message) -> Option<MessageType> {
    m.opts().msg_type()
}

/// A server's reply of `kind` to `xid` for `mac`, offering 198.51.100.77/24 from
/// 198.51.100.1 with these options 51, 58 and 59, as the core receives it.
fn server_reply(
    mac: [u8; 6],
    xid: u32,
    kind: MessageType,
    lease: u32,
    t1: Option<u32>,
    t2: Option<u32>,
) -> Reply {
    let server = Ipv4Addr::new(198, 51, 100, 1);
    let mut m = Message::default();
    m.set_opcode(Opcode::BootReply)
        .set_xid(xid)
        .set_yiaddr(Ipv4Addr::new(198, 51, 100, 77))
        .set_chaddr(&mac);
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(kind));
    o.insert(DhcpOption::ServerIdentifier(server));
    o.insert(DhcpOption::AddressLeaseTime(lease));
    o.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
    if let Some(t) = t1 {
        o.insert(DhcpOption::Renewal(t));
    }
    if let Some(t) = t2 {
        o.insert(DhcpOption::Rebinding(t));
    }
    Reply::parse(&wire::encode(&m).unwrap(), server).unwrap()
}

proptest! {
    #[test]
    fn fuzzed_t1_and_t2_keep_their_order_whatever_the_server_and_the_seed(
        seed in any::<u64>(),
        lease_secs in prop_oneof![MIN_LEASE_SECS..200_000, any::<u32>()],
        t1 in prop::option::of(prop_oneof![0u32..200_000, any::<u32>()]),
        t2 in prop::option::of(prop_oneof![0u32..200_000, any::<u32>()]),
        percent in prop_oneof![Just(5u8), 0u8..=100],
    ) {
        prop_assume!(lease_secs >= MIN_LEASE_SECS);
        let mac = [2, 0, 0, 0, 0, 1];
        let mut cfg = Config::new(mac);
        cfg.probe = ProbeMode::Off;
        cfg.retry.timer_fuzz_percent = percent;
        let mut c = Client::new(cfg, seed);
        let now = Instant::from_secs(10);
        let xid = c
            .handle(now, Event::Start)
            .iter()
            .find_map(|a| match a {
                Action::Send { msg, .. } => Some(msg.xid()),
                _ => None,
            })
            .unwrap();
        c.handle(now, Event::Reply(&server_reply(mac, xid, MessageType::Offer, lease_secs, t1, t2)));
        c.handle(now, Event::Reply(&server_reply(mac, xid, MessageType::Ack, lease_secs, t1, t2)));
        let lease = c.lease().expect("bound").clone();
        prop_assert!(lease.check().is_ok(), "{:?}", lease.check());
        if lease.is_infinite() {
            return Ok(());
        }
        let (f1, f2) = (lease.t1_secs, lease.t2_secs);
        prop_assert!(1 <= f1 && f1 < f2 && f2 < lease_secs, "{} {} {}", f1, f2, lease_secs);
        prop_assert!(lease.renew_at() < lease.rebind_at() && lease.rebind_at() < lease.expires_at());
        // Within the fuzz of the times RFC 2131 4.4.5 gives (a time of 0 is left out).
        let (b1, b2) = renewal_times(lease_secs, t1.filter(|&t| t > 0), t2.filter(|&t| t > 0));
        let spread = |t: u32| i64::from(t) * i64::from(percent) / 100;
        prop_assert!((i64::from(f2) - i64::from(b2)).abs() <= spread(b2));
        prop_assert!((i64::from(f1) - i64::from(b1)).abs() <= spread(b1) + 1);
    }

    #[test]
    fn every_message_the_client_builds_decodes_to_the_same_message(
        cfg in config(),
        xid in any::<u32>(),
        secs in any::<u16>(),
        addr in unicast(),
        server in unicast(),
        held in lease(),
    ) {
        let msgs = [
            (request::discover(&cfg, xid, secs), MessageType::Discover),
            (request::request_selecting(&cfg, xid, secs, addr, server), MessageType::Request),
            (request::request_reboot(&cfg, xid, secs, addr), MessageType::Request),
            (request::request_bound(&cfg, xid, secs, &held), MessageType::Request),
            (request::release(&cfg, xid, &held), MessageType::Release),
            (request::decline(&cfg, xid, &held), MessageType::Decline),
        ];
        for (m, want) in &msgs {
            round_trip(m)?;
            prop_assert_eq!(kind(m), Some(*want));
            prop_assert_eq!(m.xid(), xid);
            prop_assert_eq!(&m.chaddr()[..6], &cfg.hwaddr[..]);
            let id = m.opts().get(OptionCode::ClientIdentifier).cloned();
            prop_assert_eq!(id, cfg.client_id.clone().map(DhcpOption::ClientIdentifier));
            // RFC 4702 3.1: never 12 and 81 together.
            prop_assert!(
                m.opts().get(OptionCode::Hostname).is_none()
                    || m.opts().get(OptionCode::ClientFQDN).is_none()
            );
        }
        // DISCOVER and REQUEST say what they want and how much they take (option 57 >= 576).
        for (m, _) in &msgs[..4] {
            prop_assert!(m.opts().get(OptionCode::ParameterRequestList).is_some());
            match m.opts().get(OptionCode::MaxMessageSize) {
                Some(DhcpOption::MaxMessageSize(n)) => prop_assert!(*n >= 576),
                other => prop_assert!(false, "option 57: {:?}", other),
            }
        }
    }

    #[test]
    fn a_built_frame_parses_back_to_its_payload(
        src_mac in mac(),
        dst_mac in mac(),
        src_ip in any::<u32>().prop_map(Ipv4Addr::from),
        dst_ip in any::<u32>().prop_map(Ipv4Addr::from),
        payload in prop::collection::vec(any::<u8>(), 0..1500),
        broadcast in any::<bool>(),
    ) {
        let mut f = if broadcast {
            frame::build_broadcast(src_mac, &payload)
        } else {
            frame::build(src_mac, dst_mac, src_ip, dst_ip, &payload)
        };
        prop_assert_eq!(f.len(), frame::HEADERS_LEN + payload.len());
        // The frame goes to port 67 and `parse` is the client's (port 68): swap the ports,
        // which leaves the ones'-complement checksum as it is.
        f.swap(34, 36);
        f.swap(35, 37);
        let d = frame::parse(&f, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(d.payload, &payload[..]);
        prop_assert_eq!(d.src_mac, src_mac);
        if !broadcast {
            prop_assert_eq!((d.src_ip, d.dst_ip), (src_ip, dst_ip));
        } else {
            prop_assert_eq!((d.src_ip, d.dst_ip), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST));
            prop_assert_eq!(&f[..6], &frame::BROADCAST_MAC[..]);
        }
        // One byte short of what its headers say: refused.
        prop_assert!(frame::parse(&f[..f.len() - 1], false).is_err());
    }

    #[test]
    fn an_arp_request_parses_back_to_its_fields(
        m in mac(),
        sender in any::<u32>().prop_map(Ipv4Addr::from),
        target in any::<u32>().prop_map(Ipv4Addr::from),
        to in prop::option::of(mac()),
    ) {
        let f = frame::arp_request(m, sender, target, to);
        let seen = frame::parse_arp(&f).expect("our own ARP request");
        prop_assert_eq!((seen.sender_mac, seen.sender_ip, seen.target_ip), (m, sender, target));
        prop_assert_eq!(&f[..6], &to.unwrap_or(frame::BROADCAST_MAC)[..]);
    }

    #[test]
    fn a_rendered_lease_file_reads_back_to_the_same_lease(
        l in lease(),
        iface in "[a-z][a-z0-9._-]{0,14}",
        hw in mac(),
        peer in prop::option::of(mac()),
        now_unix in 1_000_000_000u64..4_000_000_000,
        later in 0u64..100_000,
    ) {
        let now = l.start;
        let acquired = leasefile::acquired_unix(l.start, now, now_unix);
        let text = leasefile::render_with_peer(&iface, &hw, &l, acquired, peer);
        let saved = leasefile::parse(&text, now, now_unix)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&saved.iface, &iface);
        prop_assert_eq!(saved.hwaddr, Some(hw));
        prop_assert_eq!(saved.server_mac, peer);
        prop_assert_eq!(saved.lease.as_ref(), Some(&l));

        // Read `later` seconds on, after a reboot (CLOCK_BOOTTIME back at 5 s): the same
        // lease with the time spent taken off, or none once under the minimum is left.
        let boot = Instant::from_secs(5);
        let saved = leasefile::parse(&text, boot, now_unix + later)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        if l.lease_secs == INFINITE {
            prop_assert_eq!(saved.lease, Some(Lease { start: boot, ..l }));
        } else if later + u64::from(MIN_LEASE_SECS) > u64::from(l.lease_secs) {
            prop_assert_eq!(saved.lease, None);
        } else {
            let back = saved.lease.expect("a lease with time left");
            prop_assert_eq!(back.start, boot);
            prop_assert_eq!(u64::from(back.lease_secs), u64::from(l.lease_secs) - later);
            prop_assert_eq!(back.expires_at(), Some(boot + std::time::Duration::from_secs(u64::from(l.lease_secs) - later)));
            prop_assert!(back.check().is_ok(), "{:?}", back.check());
        }
    }
}
