//! Which replies are taken: the header check, each state's own rules, and replies that are
//! garbled, refused or of no use.

use super::*;

#[test]
fn replies_with_another_xid_or_chaddr_or_op_are_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&offer(d.xid() ^ 1))))
        .is_empty());
    let mut other_mac = offer(d.xid());
    other_mac.set_chaddr(&[2, 0, 0, 0, 0, 2]);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&other_mac))).is_empty());
    let mut request = offer(d.xid());
    request.set_opcode(Opcode::BootRequest);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&request))).is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn replies_for_another_hardware_type_or_address_length_are_dropped() {
    use dhcpc::wire::v4::HType;
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    // Another hardware type, with our MAC.
    let mut other_type = offer(d.xid());
    other_type.set_htype(HType::from(6u8));
    assert!(c.handle(t(0.1), Event::Reply(&rx(&other_type))).is_empty());
    // Our MAC, then ten bytes more (hlen 16): not our 6-byte address.
    let mut long = offer(d.xid());
    long.set_chaddr(&[&MAC[..], &[0u8; 10]].concat());
    assert_eq!(rx(&long).chaddr.len(), 16);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&long))).is_empty());
    // Shorter than ours.
    let mut short = offer(d.xid());
    short.set_chaddr(&MAC[..5]);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&short))).is_empty());
    assert_eq!(c.state(), StateName::Selecting);
    // The same offer, right: taken.
    let (r, _) = sent(&c.handle(t(0.2), Event::Reply(&rx(&offer(d.xid())))));
    assert_eq!(kind(&r), MessageType::Request);
}

#[test]
fn bad_offers_are_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    for yiaddr in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(240, 0, 0, 1),
    ] {
        let mut o = offer(xid);
        o.set_yiaddr(yiaddr);
        assert!(
            c.handle(t(0.1), Event::Reply(&rx(&o))).is_empty(),
            "{yiaddr}"
        );
    }
    let no_server = reply(xid, MessageType::Offer, ADDR, None);
    assert!(c.handle(t(0.1), Event::Reply(&rx(&no_server))).is_empty());
    let ack_in_selecting = ack(xid, 3600);
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&ack_in_selecting)))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn ack_without_lease_time_is_dropped() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let mut a = ack(d.xid(), 60);
    a.opts_mut().remove(OptionCode::AddressLeaseTime);
    assert!(c.handle(t(0.2), Event::Reply(&rx(&a))).is_empty());
    assert_eq!(c.state(), StateName::Requesting);
}

#[test]
fn a_nak_while_selecting_or_bound_is_ignored() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&nak(d.xid(), SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
    let (mut c, xid, _) = bound(3600);
    assert!(c
        .handle(t(5.0), Event::Reply(&rx(&nak(xid, SERVER))))
        .is_empty());
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn an_ack_with_a_garbled_option_it_does_not_need_is_taken() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    // 81 (FQDN) whose name runs past its end, 12 (host name) that is not UTF-8.
    let garbage: &[u8] = &[81, 6, 0, 0, 0, 9, b'a', b'b', 12, 3, b'a', 0xff, b'b'];
    let basics = |kind: u8| -> Vec<u8> {
        [
            &[53, 1, kind, 54, 4, 198, 51, 100, 1, 51, 4, 0, 0, 14, 16][..],
            &[1, 4, 255, 255, 255, 0],
            garbage,
        ]
        .concat()
    };
    let a = c.handle(t(0.1), Event::Reply(&raw(xid, ADDR, &basics(2))));
    assert_eq!(kind(&sent(&a).0), MessageType::Request);
    let a = c.handle(t(0.2), Event::Reply(&raw(xid, ADDR, &basics(5))));
    let (lease, _) = configured(&a).expect("the lease is taken");
    assert_eq!((lease.address, lease.prefix_len), (ADDR, 24));
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn a_nak_whose_message_is_not_utf8_still_ends_the_lease() {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    let nak = raw(
        r.xid(),
        Ipv4Addr::UNSPECIFIED,
        &[
            53, 1, 6, 54, 4, 198, 51, 100, 1, 56, 5, b'g', b'o', 0xff, 0xfe, b'!',
        ],
    );
    let a = c.handle(lease.renew_at().unwrap(), Event::Reply(&nak));
    assert_eq!(deconfigured(&a), Some((lease, Reason::Nak)));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert!(c.applied().is_none());
}

/// A server that answers every DISCOVER with an offer and every REQUEST with an ACK, both
/// for a `lease_secs` lease, for an hour of virtual time. Returns how many messages the
/// client sent and what it reported at its acquire timeout.
fn an_hour_with_a_server_granting(lease_secs: u32, offer_secs: u32) -> (usize, Vec<Action>) {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(30));
    let mut c = Client::new(cfg, 11);
    let mut all = c.handle(t(0.0), Event::Start);
    let mut count = sends(&all);
    while let Some(at) = c.poll_at() {
        if at > t(3600.0) {
            break;
        }
        let mut actions = c.handle(at, Event::Tick);
        let mut i = 0;
        // Answer everything sent, at once (answers may send more: those are answered too).
        while let Some(action) = actions.get(i).cloned() {
            i += 1;
            let Action::Send { msg, .. } = action else {
                continue;
            };
            let answer = match kind(&msg) {
                MessageType::Discover => {
                    let mut o = offer(msg.xid());
                    o.opts_mut()
                        .insert(DhcpOption::AddressLeaseTime(offer_secs));
                    o
                }
                MessageType::Request => ack(msg.xid(), lease_secs),
                _ => continue,
            };
            actions.extend(c.handle(at, Event::Reply(&rx(&answer))));
        }
        count += sends(&actions);
        all.extend(actions);
        assert!(count < 10_000, "a send storm");
    }
    (count, all)
}

#[test]
fn a_lease_under_four_seconds_is_refused_without_a_send_storm() {
    for secs in [0, 1, 3] {
        // Offered for an hour, ACKed for `secs`: every ACK is refused.
        let (count, actions) = an_hour_with_a_server_granting(secs, 3600);
        assert!(configured(&actions).is_none(), "{secs} s lease configured");
        // RFC 2131's own schedule: a DISCOVER, then four REQUESTs 4, 8 and 16 s apart, about
        // once a minute; five messages a minute, where a loop would send thousands a second.
        assert!(
            count < 400,
            "{count} messages in an hour for a {secs} s lease"
        );
        let why = no_lease(&actions).expect("the timeout says why");
        assert!(
            why.contains(&format!(
                "from 198.51.100.1 dropped: lease time {secs} s is under the minimum of 4 s"
            )),
            "{why}"
        );
        // Offered for `secs` too: refused at the offer already.
        let (count, actions) = an_hour_with_a_server_granting(secs, secs);
        assert!(configured(&actions).is_none());
        assert!(count < 100, "{count} DISCOVERs in an hour");
    }
    // Four seconds is taken, and lives its life on a schedule, not in a loop.
    let (count, actions) = an_hour_with_a_server_granting(4, 4);
    assert!(configured(&actions).is_some());
    assert!(
        count < 3 * 3600 / 4 + 10,
        "{count} messages for a 4 s lease"
    );
}

#[test]
fn forcerenew_is_ignored() {
    let (mut c, _, lease) = bound(3600);
    let mut m = reply(
        0x1234,
        MessageType::ForceRenew,
        Ipv4Addr::UNSPECIFIED,
        Some(SERVER),
    );
    m.set_ciaddr(ADDR);
    for _ in 0..3 {
        let a = c.handle(t(10.0), Event::Reply(&rx(&m)));
        assert!(a.is_empty(), "{a:?}");
    }
    assert_eq!(c.state(), StateName::Bound);
    assert_eq!(c.poll_at(), lease.renew_at());
}
