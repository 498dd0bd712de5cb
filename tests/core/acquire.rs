//! Getting a lease: DISCOVER and its backoff, OFFER, REQUEST, INIT-REBOOT of a saved lease,
//! rapid commit (RFC 4039), and what each message we send carries.

use super::*;

#[test]
fn discover_carries_the_required_options() {
    let mut c = client();
    let (msg, dest) = sent(&c.handle(t(0.0), Event::Start));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&msg), MessageType::Discover);
    assert_eq!(msg.opcode(), Opcode::BootRequest);
    assert_eq!(msg.chaddr(), &MAC);
    assert_eq!(msg.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(msg.secs(), 0);
    assert!(!msg.flags().broadcast(), "broadcast flag only when asked");
    assert_eq!(
        opt(&msg, OptionCode::ClientIdentifier),
        Some(&DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1]))
    );
    assert!(matches!(
        opt(&msg, OptionCode::ParameterRequestList),
        Some(DhcpOption::ParameterRequestList(l)) if l.contains(&OptionCode::Router) && l.contains(&OptionCode::DomainNameServer)
    ));
    assert!(opt(&msg, OptionCode::MaxMessageSize).is_some());
    assert!(opt(&msg, OptionCode::RequestedIpAddress).is_none());
    assert!(opt(&msg, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn broadcast_flag_hostname_and_vendor_class_when_configured() {
    let mut cfg = config();
    cfg.broadcast_flag = true;
    cfg.hostname = Some("box".into());
    cfg.vendor_class = Some(b"dhcpc-test".to_vec());
    assert!(opt(
        &sent(&Client::new(cfg.clone(), 1).handle(t(0.0), Event::Start)).0,
        OptionCode::AddressLeaseTime
    )
    .is_none());
    cfg.lease_time = Some(7200);
    let mut c = Client::new(cfg, 1);
    let (msg, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(msg.flags().broadcast());
    assert_eq!(
        opt(&msg, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(7200))
    );
    assert_eq!(
        opt(&msg, OptionCode::Hostname),
        Some(&DhcpOption::Hostname("box".into()))
    );
    assert_eq!(
        opt(&msg, OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"dhcpc-test".to_vec()))
    );
}

#[test]
fn xid_is_random_per_exchange_and_per_seed() {
    let xid = |seed| {
        let mut c = Client::new(config(), seed);
        sent(&c.handle(t(0.0), Event::Start)).0.xid()
    };
    assert_ne!(xid(1), xid(2));
    assert_eq!(xid(7), xid(7), "deterministic for a seed");
}

#[test]
fn discover_backoff_is_4_8_16_32_64_randomised_by_one_second() {
    for seed in 0..50 {
        let mut c = Client::new(config(), seed);
        let (first, _) = sent(&c.handle(t(0.0), Event::Start));
        let mut now = t(0.0);
        for (i, base) in [4u64, 8, 16, 32, 64, 64, 64].iter().enumerate() {
            let at = c.poll_at().unwrap();
            let delay = at.saturating_since(now);
            assert!(
                delay >= Duration::from_secs(base - 1) && delay <= Duration::from_secs(base + 1),
                "retransmission {} after {delay:?}, want {base}±1 s",
                i + 1
            );
            // Early ticks do nothing.
            assert!(c
                .handle(at - Duration::from_millis(1), Event::Tick)
                .is_empty());
            let (msg, dest) = sent(&c.handle(at, Event::Tick));
            assert_eq!(dest, Dest::Broadcast);
            assert_eq!(kind(&msg), MessageType::Discover);
            assert_eq!(msg.xid(), first.xid(), "same exchange, same xid");
            assert_eq!(u64::from(msg.secs()), at.as_duration().as_secs());
            now = at;
        }
    }
    assert_eq!(backoff_base(1), Duration::from_secs(4));
    assert_eq!(backoff_base(5), Duration::from_secs(64));
    assert_eq!(backoff_base(50), Duration::from_secs(64));
}

#[test]
fn offer_leads_to_request_with_options_50_and_54() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let at = c.poll_at().unwrap();
    let (d2, _) = sent(&c.handle(at, Event::Tick));
    let (req, dest) = sent(&c.handle(
        at + Duration::from_secs(2),
        Event::Reply(&rx(&offer(d.xid()))),
    ));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&req), MessageType::Request);
    assert_eq!(req.xid(), d.xid());
    assert_eq!(req.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(req.secs(), d2.secs(), "REQUEST repeats the DISCOVER's secs");
    assert_eq!(
        opt(&req, OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(ADDR))
    );
    assert_eq!(
        opt(&req, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(c.state(), StateName::Requesting);
}

#[test]
fn ack_from_the_chosen_server_binds() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let xid = d.xid();
    c.handle(t(0.5), Event::Reply(&rx(&offer(xid))));
    // An ACK from a server we did not choose is ignored.
    assert!(c
        .handle(
            t(0.6),
            Event::Reply(&rx(&ack_from(xid, OTHER_SERVER, 3600)))
        )
        .is_empty());
    let a = c.handle(t(0.7), Event::Reply(&rx(&ack(xid, 3600))));
    let (lease, previous) = configured(&a).unwrap();
    assert!(previous.is_none());
    assert_eq!(lease.address, ADDR);
    assert_eq!(lease.prefix_len, 24);
    assert_eq!(lease.broadcast, Ipv4Addr::new(198, 51, 100, 255));
    assert_eq!(lease.routers, vec![SERVER]);
    assert_eq!(lease.dns, vec![SERVER, OTHER_SERVER]);
    assert_eq!(lease.domain.as_deref(), Some("lab.test"));
    assert_eq!(lease.server_id, SERVER);
    // T1 and T2: 50 % and 87.5 %, each within the 5 % fuzz (RFC 2131 4.4.5).
    assert_eq!(lease.lease_secs, 3600);
    assert!(within(lease.t1_secs, 1800, 5), "T1 {}", lease.t1_secs);
    assert!(within(lease.t2_secs, 3150, 5), "T2 {}", lease.t2_secs);
    // The lease counts from when the REQUEST went out.
    assert_eq!(lease.start, t(0.5));
    assert_eq!(c.state(), StateName::Bound);
    assert_eq!(c.lease(), Some(&lease));
    let t1 = Duration::from_secs(u64::from(lease.t1_secs));
    assert_eq!(c.poll_at(), Some(t(0.5) + t1));
}

#[test]
fn nak_while_requesting_restarts_from_init_and_nak_storms_back_off() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    // A NAK from another server is not ours to take.
    assert!(c
        .handle(t(0.2), Event::Reply(&rx(&nak(d.xid(), OTHER_SERVER))))
        .is_empty());
    let a = c.handle(t(0.3), Event::Reply(&rx(&nak(d.xid(), SERVER))));
    let (d2, _) = sent(&a);
    assert_eq!(kind(&d2), MessageType::Discover);
    assert_ne!(d2.xid(), d.xid(), "a new exchange gets a new xid");
    assert_eq!(c.state(), StateName::Selecting);

    // The second NAK in a row waits before starting over.
    c.handle(t(0.4), Event::Reply(&rx(&offer(d2.xid()))));
    let a = c.handle(t(0.5), Event::Reply(&rx(&nak(d2.xid(), SERVER))));
    assert!(a.is_empty());
    assert_eq!(c.state(), StateName::Init);
    assert_eq!(c.poll_at(), Some(t(0.5) + backoff_base(1)));
    let (d3, _) = sent(&c.handle(c.poll_at().unwrap(), Event::Tick));
    assert_eq!(kind(&d3), MessageType::Discover);
}

#[test]
fn unanswered_requests_go_back_to_init_after_four() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let mut requests = 1;
    loop {
        let at = c.poll_at().unwrap();
        let (m, _) = sent(&c.handle(at, Event::Tick));
        if kind(&m) == MessageType::Discover {
            break;
        }
        assert_eq!(kind(&m), MessageType::Request);
        requests += 1;
    }
    assert_eq!(requests, 4);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn init_reboot_asks_for_the_saved_address_and_keeps_it_on_ack() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = client().with_saved_lease(saved);
    let (r, dest) = sent(&c.handle(t(100.0), Event::Start));
    assert_eq!(dest, Dest::Broadcast);
    assert_eq!(kind(&r), MessageType::Request);
    assert_eq!(r.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r, OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(ADDR))
    );
    assert!(opt(&r, OptionCode::ServerIdentifier).is_none());
    assert_eq!(c.state(), StateName::Rebooting);
    let a = c.handle(t(100.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert_eq!(configured(&a).unwrap().0.address, ADDR);
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn init_reboot_falls_back_to_discover_on_nak_or_silence() {
    let mut c = client().with_saved_lease(saved_lease(t(0.0), 3600));
    let (r, _) = sent(&c.handle(t(1.0), Event::Start));
    let a = c.handle(t(1.1), Event::Reply(&rx(&nak(r.xid(), SERVER))));
    // An earlier process may have left the address on the interface: it goes.
    assert_eq!(
        deconfigured(&a),
        Some((saved_lease(t(0.0), 3600), Reason::Nak))
    );
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);

    let mut c = client().with_saved_lease(saved_lease(t(0.0), 3600));
    sent(&c.handle(t(1.0), Event::Start));
    let at = c.poll_at().unwrap();
    assert_eq!(at, t(1.0) + dhcpc::core::REBOOT_WAIT / 2);
    assert_eq!(
        kind(&sent(&c.handle(at, Event::Tick)).0),
        MessageType::Request
    );
    let at = c.poll_at().unwrap();
    assert_eq!(at, t(1.0) + dhcpc::core::REBOOT_WAIT);
    let a = c.handle(at, Event::Tick);
    assert_eq!(deconfigured(&a).unwrap().1, Reason::Unconfirmed);
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn an_expired_saved_lease_is_not_asked_for() {
    let mut c = client().with_saved_lease(saved_lease(t(0.0), 60));
    let (d, _) = sent(&c.handle(t(61.0), Event::Start));
    assert_eq!(kind(&d), MessageType::Discover);
}

#[test]
fn option_57_is_never_under_576() {
    use dhcpc::core::max_message_size;
    assert_eq!(max_message_size(None), 1472);
    assert_eq!(max_message_size(Some(1500)), 1472);
    assert_eq!(max_message_size(Some(9000)), 8972);
    assert_eq!(max_message_size(Some(604)), 576);
    assert_eq!(max_message_size(Some(576)), 576);
    assert_eq!(max_message_size(Some(68)), 576);
    assert_eq!(max_message_size(Some(1_000_000)), 65535);
}

// ---------------------------------------------------------------------------------------------
// Issue 9: what the client asks for and says about itself, rapid commit.

fn prl(msg: &Message) -> Vec<u8> {
    match opt(msg, OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(l)) => l.iter().map(|c| u8::from(*c)).collect(),
        other => panic!("no option 55: {other:?}"),
    }
}

#[test]
fn the_request_list_asks_for_routes_search_and_ntp_and_what_is_added() {
    let mut cfg = config();
    cfg.extra_requests = vec![252, 42, 150];
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let list = prl(&d);
    for code in [
        1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121, 249, 252, 150,
    ] {
        assert!(list.contains(&code), "{code} not asked for: {list:?}");
    }
    assert!(
        list.iter().position(|&c| c == 121) < list.iter().position(|&c| c == 3),
        "121 before 3"
    );
    assert_eq!(list.iter().filter(|&&c| c == 42).count(), 1, "asked once");
}

#[test]
fn client_identifier_forms() {
    use dhcpc::core::{request, ClientId};
    assert_eq!(
        request::client_id(&ClientId::Mac, MAC, &[]),
        Some(vec![1, 2, 0, 0, 0, 0, 1])
    );
    // RFC 4361: 255, IAID (last four bytes of the MAC), then the host's DUID.
    let duid = request::new_duid([7; 16]);
    assert_eq!(
        duid,
        [&[0u8, 4][..], &[7; 16]].concat(),
        "RFC 6355 DUID-UUID"
    );
    assert_eq!(
        request::client_id(&ClientId::Duid, MAC, &duid),
        Some([&[255u8, 0, 0, 0, 1][..], &duid].concat())
    );
    // Another interface of the same host: the same DUID, another IAID.
    let other = [2, 0, 0, 0, 0, 2];
    assert_eq!(
        request::client_id(&ClientId::Duid, other, &duid),
        Some([&[255u8, 0, 0, 0, 2][..], &duid].concat())
    );
    assert_eq!(request::client_id(&ClientId::None, MAC, &[]), None);
    assert_eq!(
        request::client_id(&ClientId::Raw(vec![0, 1, 2]), MAC, &[]),
        Some(vec![0, 1, 2])
    );
    let mut cfg = config();
    cfg.client_id = None;
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::ClientIdentifier).is_none(), "none sent");
}

#[test]
fn fqdn_is_sent_in_canonical_wire_form_with_s_and_e() {
    use dhcpc::core::request::fqdn_option;
    // Fully qualified: labels then the root label.
    assert_eq!(
        fqdn_option("Box.Lab.test"),
        [
            &[0x05, 0, 0, 3][..],
            b"box",
            &[3],
            b"lab",
            &[4],
            b"test",
            &[0]
        ]
        .concat()
    );
    // A single label is a partial name: no root label.
    assert_eq!(fqdn_option("box"), [&[0x05, 0, 0, 3][..], b"box"].concat());
    let mut cfg = config();
    cfg.fqdn = Some("box.lab.test".into());
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let bytes = wire::encode(&d).unwrap();
    let want = fqdn_option("box.lab.test");
    let tlv = [&[81, want.len() as u8][..], &want].concat();
    assert!(
        bytes.windows(tlv.len()).any(|w| w == tlv),
        "option 81 as encoded"
    );
}

#[test]
fn option_12_is_not_sent_beside_option_81() {
    let mut cfg = config();
    cfg.hostname = Some("box".into());
    let mut c = Client::new(cfg.clone(), 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::Hostname).is_some());
    // RFC 4702 3.1.
    cfg.fqdn = Some("box.lab.test".into());
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::Hostname).is_none());
    assert!(opt(&d, OptionCode::ClientFQDN).is_some());
}

#[test]
fn rapid_commit_binds_in_two_messages() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert_eq!(
        opt(&d, OptionCode::RapidCommit),
        Some(&DhcpOption::RapidCommit)
    );
    // An ACK without option 80 is no answer to a DISCOVER.
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&ack(d.xid(), 3600))))
        .is_empty());
    let a = c.handle(t(0.1), Event::Reply(&rx(&rapid_ack(d.xid()))));
    let (lease, _) = configured(&a).expect("bound from the DISCOVER's ACK");
    assert_eq!(lease.start, t(0.0), "the lease counts from the DISCOVER");
    assert_eq!(sends(&a), 0, "no REQUEST");
    assert_eq!(c.state(), StateName::Bound);
}

#[test]
fn rapid_commit_off_asks_for_none_and_takes_none() {
    let mut cfg = config();
    cfg.rapid_commit = false;
    let mut c = Client::new(cfg, 1);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    assert!(opt(&d, OptionCode::RapidCommit).is_none());
    assert!(c
        .handle(t(0.1), Event::Reply(&rx(&rapid_ack(d.xid()))))
        .is_empty());
    assert_eq!(c.state(), StateName::Selecting);
}
