//! What the client sends (option 57, client identifiers, FQDN, extra requests) and options
//! it must not take whole: a malformed 121, an MTU it cannot use, routes that go with a NAK.

use super::common::*;
use super::server::*;
use dhcpc::wire::v4::{self, DhcpOption, Message, MessageType};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn option_57_is_at_least_576_on_a_small_mtu_link() {
    let lab = Lab::new();
    sh(
        "ip",
        &["-n", &lab.client_ns, "link", "set", CLIENT_IF, "mtu", "576"],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            if let Some(DhcpOption::MaxMessageSize(n)) =
                req.opts().get(v4::OptionCode::MaxMessageSize)
            {
                seen2.lock().unwrap().push(*n);
            }
            Vec::new()
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "1"]);
    let sizes = seen.lock().unwrap().clone();
    assert!(!sizes.is_empty(), "no DISCOVER seen\n{}", describe(&out));
    assert!(sizes.iter().all(|&n| n == 576), "option 57: {sizes:?}");
}

#[test]
fn a_malformed_option_121_is_ignored_whole_and_option_3_used() {
    let lab = Lab::new();
    // A prefix width of 40: the whole option is ignored, and option 3 (198.51.100.1) used.
    let _server = plain_server(
        &lab,
        3600,
        &[121, 10, 40, 10, 0, 0, 0, 0, 198, 51, 100, 254, 0, 0],
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let routes = lab.client_routes();
    let default = routes.iter().find(|r| r.is_default());
    assert_eq!(default.and_then(|r| r.gateway), Some(SERVER), "{routes:#?}");
    assert!(
        stderr(&out).contains("option 121 from 198.51.100.1 left out: prefix width 40 is over 32"),
        "{}",
        describe(&out)
    );
}

#[test]
fn client_identity_fqdn_and_extra_requests_reach_the_server() {
    let lab = Lab::new();
    let seen: Arc<Mutex<Vec<Message>>> = Arc::default();
    let seen2 = seen.clone();
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            seen2.lock().unwrap().push(req.clone());
            Vec::new()
        }),
    );
    let mac: Vec<u8> = lab
        .client_link()
        .mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let run = |extra: &[&str]| {
        seen.lock().unwrap().clear();
        let mut args = vec!["-1", "--arp-probe", "0", "-t", "1"];
        args.extend_from_slice(extra);
        oneshot(&lab, &args);
        let all = seen.lock().unwrap().clone();
        all.into_iter().next().expect("the server saw a DISCOVER")
    };
    let opt = |m: &Message, code: v4::OptionCode| m.opts().get(code).cloned();
    let d = run(&[]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier([&[1u8][..], &mac].concat()))
    );
    // RFC 4361: the host's DUID, made once and kept in the lease directory (a DUID-UUID),
    // behind this interface's IAID; the same at the next start.
    let d = run(&["--clientid", "duid"]);
    let kept = std::fs::read_to_string(lab.dir.join("lease/duid")).expect("the DUID is kept");
    let duid: Vec<u8> = (0..kept.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&kept.trim()[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!((duid.len(), &duid[..2]), (18, &[0u8, 4][..]), "{kept}");
    let want = [&[255u8][..], &mac[2..], &duid].concat();
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(want.clone()))
    );
    let d = run(&["--clientid", "duid"]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(want))
    );
    let d = run(&["--clientid", "none"]);
    assert_eq!(opt(&d, v4::OptionCode::ClientIdentifier), None);
    let d = run(&["--clientid", "00:11:22:33"]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(vec![0, 0x11, 0x22, 0x33]))
    );
    let d = run(&[
        "--fqdn",
        "box.lab.test",
        "-H",
        "box",
        "--request",
        "252,150",
    ]);
    match opt(&d, v4::OptionCode::ClientFQDN) {
        Some(DhcpOption::ClientFQDN(f)) => {
            assert_eq!(f.domain().to_utf8(), "box.lab.test.");
            assert!(f.flags().s() && f.flags().e() && !f.flags().o() && !f.flags().n());
        }
        other => panic!("option 81: {other:?}"),
    }
    // RFC 4702 3.1: no option 12 beside option 81.
    assert_eq!(opt(&d, v4::OptionCode::Hostname), None);
    let h = run(&["-H", "box"]);
    assert_eq!(
        opt(&h, v4::OptionCode::Hostname),
        Some(DhcpOption::Hostname("box".into()))
    );
    match opt(&d, v4::OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(l)) => {
            let l: Vec<u8> = l.iter().map(|c| u8::from(*c)).collect();
            for code in [121, 249, 119, 42, 26, 252, 150] {
                assert!(l.contains(&code), "{code}: {l:?}");
            }
        }
        other => panic!("option 55: {other:?}"),
    }
    assert_eq!(
        opt(&d, v4::OptionCode::RapidCommit),
        Some(DhcpOption::RapidCommit)
    );
    let d = run(&["--no-rapid-commit"]);
    assert_eq!(opt(&d, v4::OptionCode::RapidCommit), None);
}

#[test]
fn an_mtu_under_68_or_one_the_device_will_not_take_is_ignored() {
    let lab = Lab::new();
    // Under RFC 2132's minimum: left out of the reply, the MTU stays.
    let _server = plain_server(&lab, 3600, &[26, 2, 0, 60]);
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(
        stderr(&out).contains("option 26 from 198.51.100.1 left out"),
        "{}",
        describe(&out)
    );
    drop(_server);

    // A macvlan cannot go above its lower device's MTU: the kernel refuses 9000.
    let lab = Lab::new();
    let c = lab.client_ns.clone();
    sh("ip", &["-n", &c, "link", "set", CLIENT_IF, "name", "low"]);
    sh(
        "ip",
        &[
            "-n", &c, "link", "add", CLIENT_IF, "link", "low", "type", "macvlan", "mode", "bridge",
        ],
    );
    sh("ip", &["-n", &c, "link", "set", CLIENT_IF, "up"]);
    let _server = plain_server(&lab, 3600, &[26, 2, 0x23, 0x28]);
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(
        stderr(&out).contains("option 26 asks for MTU 9000, which the device does not take"),
        "{}",
        describe(&out)
    );
}

/// (Expiry takes them the same way, but cannot be told apart here: the kernel drops the
/// address, and the routes from it, at the same moment, its lifetime being the lease's.)
#[test]
fn classless_routes_go_with_a_nak() {
    // Default via .254, 10.0.0.0/8 via .253.
    const ROUTES: &[u8] = &[121, 11, 0, 198, 51, 100, 254, 8, 10, 198, 51, 100, 253];
    let lab = Lab::new();
    let answered = Arc::new(Mutex::new(0u32));
    let server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            // The first lease; then a NAK to its renewal, and silence after that.
            let mut later = answered.lock().unwrap();
            if req.ciaddr().is_unspecified() && *later == 0 {
                return vec![bytes_with(&reply(req, kind, GOOD, SERVER, 6), ROUTES)];
            }
            *later += 1;
            if *later > 1 {
                return Vec::new();
            }
            let nak = reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0);
            vec![bytes(&nak)]
        }),
    );
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0"]);
    assert!(
        wait_for(Duration::from_secs(5), || dhcp_routes(&lab).len() == 2),
        "routes never came: {:#?}",
        lab.client_routes()
    );
    // T1 = 2 s: the renewal is NAKed; taken, it sends the client back to DISCOVER (not taken,
    // a rebinding REQUEST would come at 5 s), and the lease goes, with its routes.
    let gone = wait_for(Duration::from_secs(6), || {
        server.seen().len() >= 4 && dhcp_routes(&lab).is_empty() && lab.client_addrs().is_empty()
    });
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        gone,
        "the lease was not removed: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        server.seen()[3],
        MessageType::Discover,
        "the NAK was not taken: {:?}",
        server.seen()
    );
    assert!(dhcp_routes(&lab).is_empty(), "{:#?}", lab.client_routes());
    assert!(lab.client_addrs().is_empty());
}

#[test]
fn the_mtu_comes_back_even_from_a_release_with_no_daemon() {
    let lab = Lab::new();
    let _server = plain_server(&lab, 3600, &[26, 2, 0x05, 0x78]);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0"]);
    assert!(
        wait_for(Duration::from_secs(5), || lab.client_link().raw["mtu"]
            == 1400),
        "MTU not set\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Stopped, the lease (and its MTU) stays; a release with no daemon puts the MTU back.
    assert_exit(&oneshot(&lab, &["-x"]), 0);
    let _ = daemon.wait();
    assert_eq!(lab.client_link().raw["mtu"], 1400);
    assert_exit(&oneshot(&lab, &["-r"]), 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(lab.client_addrs().is_empty());
}
