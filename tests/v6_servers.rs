//! The DHCPv6 labs (tests/common/lab6.rs, fake6.rs) work: each real server in its lab answers
//! a SOLICIT sent with the crate's `Port6` from the client's namespace with an ADVERTISE
//! holding an address from the pool (and a delegated prefix where asked), and where a lease
//! file is read by the lab, a REQUEST's lease shows in it. dnsmasq in its stateful, stateless
//! and RA-only modes; Kea and ISC dhcpd -6 with addresses and prefixes, directly and through
//! ISC dhcrelay -6; the scripted fake server.
//!
//! These tests prove the labs that the `dhcpc -6` tests are built on.
//!
//! Root tier: needs root, dnsmasq, kea-dhcp6, dhcpd and dhcrelay (`sudo scripts/test` installs
//! them).

mod common;

use common::*;
use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode};
use std::net::Ipv6Addr;
use std::time::Duration;

/// How long a server may take to answer (retransmitted each second meanwhile).
const ANSWER: Duration = Duration::from_secs(15);
const NA: u32 = 0x0a;
const PD: u32 = 0x0b;

/// The one address of the ADVERTISE's IA_NA, checked to be from the pool.
fn pool_address(adv: &Message) -> (Ipv6Addr, u32, u32) {
    let addrs = ia_na_addrs(adv);
    assert_eq!(addrs.len(), 1, "{adv:?}");
    assert!(in_pool6(addrs[0].0), "{addrs:?}");
    addrs[0]
}

/// The one prefix of the ADVERTISE's IA_PD, checked to be a /56 from the delegation pool.
fn pool_prefix(adv: &Message) -> (Ipv6Addr, u8, u32, u32) {
    let prefixes = ia_pd_prefixes(adv);
    assert_eq!(prefixes.len(), 1, "{adv:?}");
    let (p, l, ..) = prefixes[0];
    assert!(in_pd_pool6(p, l), "{prefixes:?}");
    prefixes[0]
}

fn advertise(lab: &Lab, na: Option<u32>, pd: Option<u32>) -> Message {
    let solicit = solicit6(na, pd);
    let (adv, _from) = lab.client_exchange6(&solicit, ANSWER);
    assert_eq!(adv.msg_type(), MessageType::Advertise, "{adv:?}");
    assert_eq!(adv.xid(), solicit.xid());
    adv
}

fn client_id_of(msg: &Message) -> Option<Vec<u8>> {
    match msg.opts().get(OptionCode::ClientId) {
        Some(DhcpOption::ClientId(d)) => Some(d.clone()),
        _ => None,
    }
}

/// The UDP sockets bound to port 547 in namespace `ns`.
fn port_547(ns: &str) -> String {
    sh(
        "ip",
        &["netns", "exec", ns, "ss", "-H", "-uln", "sport = :547"],
    )
}

#[test]
fn dnsmasq_advertises_an_address_with_its_dns_options() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_dnsmasq6(&[]);
    let adv = advertise(&lab, Some(NA), None);
    pool_address(&adv);
    assert_eq!(client_id_of(&adv), Some(CLIENT_DUID6.to_vec()));
    assert_eq!(dns_servers6(&adv), vec![DNS6], "{adv:?}");
    let log = lab.server_log("dnsmasq6");
    assert!(log.contains("DHCPADVERTISE(vs)"), "{log}");
}

#[test]
fn dnsmasq_stateless_answers_an_information_request_and_advertises_the_prefix() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_dnsmasq6_mode(Dnsmasq6Mode::RaStateless, &[]);
    let req = information_request6();
    let (reply, _) = lab.client_exchange6(&req, ANSWER);
    assert_eq!(reply.msg_type(), MessageType::Reply, "{reply:?}");
    assert_eq!(dns_servers6(&reply), vec![DNS6], "{reply:?}");
    assert!(ia_na_addrs(&reply).is_empty(), "{reply:?}");
    // The router advertisement gives the client a SLAAC address in the link's prefix.
    let slaac = wait_for(Duration::from_secs(15), || {
        lab.client_addrs6()
            .iter()
            .any(|a| a.local.segments()[..4] == [0x2001, 0xdb8, 1, 0] && !a.tentative)
    });
    assert!(slaac, "{:?}", lab.client_addrs6());
}

#[test]
fn dnsmasq_ra_only_advertises_a_router_and_keeps_no_dhcpv6_socket() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_dnsmasq6_mode(Dnsmasq6Mode::RaOnly, &[]);
    let routed = wait_for(Duration::from_secs(15), || {
        lab.client_routes6()
            .iter()
            .any(|r| r.dst == "default" && r.protocol.as_deref() == Some("ra"))
    });
    assert!(routed, "{:?}", lab.client_routes6());
    // Nothing listens on the DHCPv6 port: a SOLICIT goes unanswered.
    assert_eq!(port_547(&lab.server_ns).trim(), "");
    // The lab's check is not vacuous: the stateful mode does listen there.
    let mut lab2 = Lab::new6();
    lab2.start_dnsmasq6(&[]);
    assert!(port_547(&lab2.server_ns).contains(":547"));
}

#[test]
fn kea_advertises_an_address_and_a_prefix_with_its_times_and_records_a_request() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_kea6(20, 5, 8, true);
    let adv = advertise(&lab, Some(NA), Some(PD));
    let (_, pref, valid) = pool_address(&adv);
    assert_eq!((pref, valid), (15, 20));
    let (_, _, ppref, pvalid) = pool_prefix(&adv);
    assert_eq!((ppref, pvalid), (15, 20));
    assert_eq!(ia_times6(&adv), (Some((NA, 5, 8)), Some((PD, 5, 8))));
    assert_eq!(dns_servers6(&adv), vec![DNS6], "{adv:?}");

    let (reply, _) = lab.client_exchange6(&request6(&adv), ANSWER);
    assert_eq!(reply.msg_type(), MessageType::Reply, "{reply:?}");
    let addr = pool_address(&reply).0;
    let prefix = pool_prefix(&reply).0;
    let leases = lab.kea6_leases();
    let na = leases
        .iter()
        .rfind(|l| l.address == addr)
        .unwrap_or_else(|| panic!("{leases:?}"));
    assert_eq!(
        (na.lease_type, na.iaid, na.prefix_len, na.valid, na.state),
        (0, NA, 128, 20, 0)
    );
    assert_eq!(na.duid, "00:03:00:01:02:00:00:00:00:61");
    let pd = leases
        .iter()
        .rfind(|l| l.address == prefix)
        .unwrap_or_else(|| panic!("{leases:?}"));
    assert_eq!((pd.lease_type, pd.iaid, pd.prefix_len), (2, PD, 56));
    // The control socket answers.
    let got = lab.kea6_command("config-get", None);
    assert_eq!(got["result"], 0, "{got}");
}

#[test]
fn kea_without_prefixes_gives_an_address_and_answers_rapid_commit_with_a_reply() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_kea6_with(&Kea6Config {
        valid: 30,
        preferred: 20,
        renew: 10,
        rebind: 16,
        pd: false,
        rapid_commit: true,
    });
    let mut solicit = solicit6(Some(NA), None);
    solicit.opts_mut().insert(DhcpOption::RapidCommit);
    let (reply, _) = lab.client_exchange6(&solicit, ANSWER);
    assert_eq!(reply.msg_type(), MessageType::Reply, "{reply:?}");
    assert!(reply.opts().get(OptionCode::RapidCommit).is_some());
    assert_eq!(pool_address(&reply).1, 20);
    assert_eq!(ia_times6(&reply).0, Some((NA, 10, 16)));
}

#[test]
fn dhcpd_advertises_an_address_and_a_prefix_and_records_a_request() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_dhcpd6_with(&Dhcpd6Config {
        lease: 40,
        preferred: 30,
        renew: Some(10),
        rebind: Some(20),
        pd: true,
        rapid_commit: false,
    });
    let adv = advertise(&lab, Some(NA), Some(PD));
    let (_, pref, valid) = pool_address(&adv);
    assert_eq!((pref, valid), (30, 40));
    pool_prefix(&adv);
    assert_eq!(ia_times6(&adv), (Some((NA, 10, 20)), Some((PD, 10, 20))));
    assert_eq!(dns_servers6(&adv), vec![DNS6], "{adv:?}");

    let (reply, _) = lab.client_exchange6(&request6(&adv), ANSWER);
    assert_eq!(reply.msg_type(), MessageType::Reply, "{reply:?}");
    let addr = pool_address(&reply).0;
    let (prefix, len, ..) = pool_prefix(&reply);
    let bindings = wait_for_bindings(&lab, 2);
    assert!(
        bindings.contains(&Dhcpd6Binding {
            kind: "ia-na".into(),
            what: addr.to_string(),
            state: "active".into()
        }),
        "{bindings:?}"
    );
    assert!(
        bindings.contains(&Dhcpd6Binding {
            kind: "ia-pd".into(),
            what: format!("{prefix}/{len}"),
            state: "active".into()
        }),
        "{bindings:?}"
    );
}

/// dhcpd's bindings once it has written at least `n` (it writes the lease file after the
/// REPLY went out).
fn wait_for_bindings(lab: &Lab, n: usize) -> Vec<Dhcpd6Binding> {
    let mut b = Vec::new();
    wait_for(Duration::from_secs(10), || {
        b = lab.dhcpd6_bindings();
        b.len() >= n
    });
    b
}

#[test]
fn dhcpd_with_its_own_times_advertises_an_address() {
    require_root();
    let mut lab = Lab::new6();
    lab.start_dhcpd6(60, 45, false);
    let adv = advertise(&lab, Some(NA), None);
    assert_eq!(pool_address(&adv).1, 45);
}

#[test]
fn through_the_relay_kea_advertises_an_address_and_a_prefix() {
    require_root();
    let mut lab = Lab::with_relay6();
    lab.start_kea6(20, 5, 8, true);
    let adv = advertise(&lab, Some(NA), Some(PD));
    pool_address(&adv);
    pool_prefix(&adv);
    // Kea saw it relayed, with the relay's address on the client's link as link-address.
    let log = lab.server_log("kea6");
    assert!(
        log.contains("msg-type=12(RELAY_FORWARD)")
            && log.contains(&format!("link-address={SERVER6},")),
        "{log}"
    );
    let relay = lab.server_log("dhcrelay6");
    assert!(relay.contains("Relaying Advertise"), "{relay}");
    // Kea goes away alone: the relay runs on.
    assert_eq!(lab.stop_server("kea6"), 1);
    assert_eq!(port_547(&lab.server_ns).trim(), "");
    let relay_ns = lab.relay_ns.clone().expect("a relay lab");
    assert!(port_547(&relay_ns).contains(":547"));
}

#[test]
fn through_the_relay_dhcpd_advertises_an_address_and_a_prefix() {
    require_root();
    let mut lab = Lab::with_relay6();
    lab.start_dhcpd6(40, 30, true);
    let adv = advertise(&lab, Some(NA), Some(PD));
    pool_address(&adv);
    pool_prefix(&adv);
    let relay = lab.server_log("dhcrelay6");
    assert!(relay.contains("Relaying Advertise"), "{relay}");
}

#[test]
fn the_fake_server_answers_a_solicit_as_scripted_and_records_it() {
    require_root();
    let lab = Lab::new6();
    let offered = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x77);
    let fake = Fake6::start(&lab, move |req| {
        if !req.is(MessageType::Solicit) {
            return Vec::new();
        }
        let iaid = req.ia_na[0].iaid;
        vec![Reply6::advertise(req)
            .ia_na(iaid, 40, 64, &[(offered, 80, 100)])
            .preference(255)
            .dns(&[DNS6])
            .domains(&["fake.test"])
            .option(opt6::raw(0xfff0, b"extra"))
            .build()]
    });
    let adv = advertise(&lab, Some(NA), None);
    assert_eq!(ia_na_addrs(&adv), vec![(offered, 80, 100)]);
    assert_eq!(ia_times6(&adv).0, Some((NA, 40, 64)));
    assert_eq!(
        adv.opts().get(OptionCode::Preference),
        Some(&DhcpOption::Preference(255))
    );
    assert_eq!(client_id_of(&adv), Some(CLIENT_DUID6.to_vec()));
    assert_eq!(dns_servers6(&adv), vec![DNS6]);
    match adv.opts().get(OptionCode::ServerId) {
        Some(DhcpOption::ServerId(d)) => assert_eq!(d, &FAKE6_DUID.to_vec()),
        other => panic!("{other:?}"),
    }
    let seen = fake.received();
    let first = &seen[0];
    assert!(first.is(MessageType::Solicit), "{first:?}");
    assert!(!first.malformed, "{first:?}");
    assert_eq!(first.client_id.as_deref(), Some(&CLIENT_DUID6[..]));
    assert_eq!(first.server_id, None);
    assert_eq!(first.ia_na.len(), 1);
    assert_eq!(first.ia_na[0].iaid, NA);
    assert!(first.ia_pd.is_empty());
    assert_eq!(first.oro, vec![23, 24]);
    assert_eq!(first.elapsed, Some(0));
    assert!(first.from.ip().segments()[0] == 0xfe80 && first.from.port() == 546);
    assert!(fake.sent() >= 1);
    // What Plan6 answers a REQUEST carrying the fake's server id, as seen by the fake.
    let plan = Plan6::default();
    let req = Received::parse(
        &Reply6::new(MessageType::Request, 0x123456)
            .option(opt6::client_id(&CLIENT_DUID6))
            .option(opt6::server_id(&FAKE6_DUID))
            .option(opt6::ia_na(NA, 0, 0, &[]))
            .option(opt6::ia_pd(PD, 0, 0, &[]))
            .build(),
        first.from,
    );
    assert_eq!(req.server_id.as_deref(), Some(&FAKE6_DUID[..]));
    let answer = Received::parse(&plan.answer(&req)[0], first.from);
    assert!(answer.is(MessageType::Reply) && answer.xid == 0x123456);
    assert_eq!(answer.ia_na[0].addrs, vec![(plan.addr, 200, 300)]);
    assert_eq!(
        answer.ia_pd[0].prefixes,
        vec![(plan.prefix.0, plan.prefix.1, 200, 300)]
    );
}

#[test]
fn the_fake_server_records_malformed_options_and_sends_them_as_given() {
    require_root();
    let lab = Lab::new6();
    let fake = Fake6::start(&lab, |req| {
        // An ADVERTISE whose DNS option claims 32 bytes and holds 5.
        vec![Reply6::advertise(req)
            .option(opt6::with_len(opt6::DNS_SERVERS, 32, &[1, 2, 3, 4, 5]))
            .build()]
    });
    let solicit = solicit6(Some(NA), None);
    let bytes = dhcproto::Encodable::to_vec(&solicit).unwrap();
    let mut cut = bytes.clone();
    // A SOLICIT cut inside its last option.
    cut.truncate(bytes.len() - 1);
    let sent = in_namespace(&lab.client_ns, move || {
        current_thread_runtime().block_on(async move {
            let index = nix::net::if_::if_nametoindex(CLIENT_IF).unwrap();
            let port = dhcpc::shell::port6::Port6::open(CLIENT_IF, index).unwrap();
            port.send_all(&cut).await.unwrap();
            let (data, _) = tokio::time::timeout(ANSWER, port.recv())
                .await
                .expect("no answer from the fake")
                .unwrap();
            data
        })
    });
    let got = fake
        .wait_kind(MessageType::Solicit, Duration::from_secs(5))
        .expect("the fake saw no SOLICIT");
    assert!(got.malformed, "{got:?}");
    assert_eq!(
        got.xid,
        u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]])
    );
    // The answer came as built: the DNS option claims 32 bytes, the datagram ends 5 into it.
    let tail = &sent[sent.len() - 9..];
    assert_eq!(tail, &[0, 23, 0, 32, 1, 2, 3, 4, 5]);
}
