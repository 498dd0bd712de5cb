//! Carrier and interfaces, in namespace labs with dnsmasq: a flap on the same network (the
//! lease confirmed by RFC 4436 with no server answering, after the far end's flap and after
//! the client's own, and its routes put back), a move to another server's subnet (a
//! fresh lease within seconds), no carrier at start, an interface removed and made again
//! (picked up by its new index), and `--allow-missing`.

mod common;

use common::*;
use std::fs;
use std::net::Ipv4Addr;
use std::time::Duration;

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const OTHER_POOL: (&str, &str) = ("203.0.113.50", "203.0.113.150");

const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1",
];

fn ip(lab_ns: &str, args: &[&str]) {
    let mut all = vec!["-n", lab_ns];
    all.extend_from_slice(args);
    sh("ip", &all);
}

fn default_route(lab: &Lab) -> Option<RouteInfo> {
    lab.client_routes().into_iter().find(|r| r.is_default())
}

fn carrier(lab: &Lab) -> bool {
    status_of(lab, CLIENT_IF)["carrier"] == true
}

/// Waits until the daemon has seen carrier go, keeping `addr` meanwhile.
fn wait_carrier_lost(lab: &Lab, addr: Ipv4Addr) {
    wait_status(
        lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "keeping the lease without carrier",
        |s| s["carrier"] == false && s["state"] == "BOUND" && s["address"] == addr.to_string(),
    );
}

/// Waits until the daemon has carrier again and the lease is confirmed: BOUND once more (while
/// it confirms, it is REBOOTING).
fn wait_confirmed(lab: &Lab) {
    wait_status(
        lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "confirmed with carrier",
        |s| s["carrier"] == true && s["state"] == "BOUND",
    );
}

/// A dnsmasq serving 203.0.113.0/24 on `iface` in namespace `ns`.
fn start_other_dnsmasq(lab: &mut Lab, ns: &str, iface: &str) {
    let dnsmasq = require_program("dnsmasq", "sudo scripts/test installs dnsmasq-base");
    let d = |f: &str| lab.dir.join(f).display().to_string();
    let args = vec![
        "--no-daemon".to_string(),
        "--conf-file=/dev/null".to_string(),
        "--port=0".to_string(),
        "--bind-interfaces".to_string(),
        format!("--interface={iface}"),
        "--log-facility=-".to_string(),
        format!("--pid-file={}", d("dnsmasq-other.pid")),
        format!("--dhcp-leasefile={}", d("dnsmasq-other.leases")),
        "--no-ping".to_string(),
        "--dhcp-range=203.0.113.50,203.0.113.150,255.255.255.0,1h".to_string(),
        "--dhcp-option=option:router,203.0.113.1".to_string(),
        "--dhcp-option=option:dns-server,203.0.113.1".to_string(),
    ];
    lab.start_server_in(ns, "dnsmasq-other", &dnsmasq, &args, "sockets bound");
}

#[test]
fn a_flap_on_the_same_network_is_confirmed_by_the_router_and_routes_come_back() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert!(default_route(&lab).is_some());
    let watch = NetWatch::addresses(&lab, &lab.client_ns);

    // The server goes away (a router whose DHCP server does not answer for a while, or a
    // non-authoritative one that stays silent): only the router can confirm the lease now.
    for pid in sh("ip", &["netns", "pids", &lab.server_ns]).split_whitespace() {
        sh("kill", &["-9", pid]);
    }
    // The far end goes down: the client's end loses carrier; the lease stays meanwhile.
    ip(&lab.server_ns, &["link", "set", SERVER_IF, "down"]);
    assert!(wait_for(Duration::from_secs(5), || !carrier(&lab)));
    wait_carrier_lost(&lab, addr);
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    // Whatever the kernel does with the routes meanwhile, they must be back after: take the
    // default route away by hand so that only dhcpc can bring it back.
    ip(&lab.client_ns, &["route", "del", "default"]);
    ip(&lab.server_ns, &["link", "set", SERVER_IF, "up"]);
    // RFC 4436: the router (dnsmasq's host, which sent the ACK) answers the unicast ARP from
    // the MAC it had; no server is left to answer the INIT-REBOOT.
    wait_confirmed(&lab);
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    let route = default_route(&lab).expect("the default route is back");
    assert_eq!(route.gateway, Some(Ipv4Addr::new(198, 51, 100, 1)));
    let status = status_of(&lab, CLIENT_IF);
    assert_eq!(status["state"], "BOUND");
    assert_eq!(status["carrier"], true);
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the address was removed"
    );
}

#[test]
fn an_own_link_flap_puts_the_address_and_routes_back() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    // Setting the interface itself down flushes its routes in the kernel.
    ip(&lab.client_ns, &["link", "set", CLIENT_IF, "down"]);
    assert!(wait_for(Duration::from_secs(5), || default_route(&lab).is_none()));
    wait_carrier_lost(&lab, addr);
    ip(&lab.client_ns, &["link", "set", CLIENT_IF, "up"]);
    // Confirmed by whichever answers first: the router's ARP, or dnsmasq's ACK.
    wait_confirmed(&lab);
    assert!(
        wait_for(Duration::from_secs(5), || default_route(&lab).is_some()),
        "no default route after the flap: {:?}",
        lab.client_routes()
    );
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
}

#[test]
fn an_own_link_flap_with_the_server_gone_is_confirmed_by_the_router() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    for pid in sh("ip", &["netns", "pids", &lab.server_ns]).split_whitespace() {
        sh("kill", &["-9", pid]);
    }
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    // The client's own interface goes down and up, three times: its packet socket is left
    // with a pending ENETDOWN each time, which must neither swallow the ARP to the router that
    // carrier's return sends nor (with no good read between the flaps) cost the socket. With
    // the server gone, only the router's answer confirms the lease.
    for _ in 1..=3 {
        ip(&lab.client_ns, &["link", "set", CLIENT_IF, "down"]);
        wait_carrier_lost(&lab, addr);
        ip(&lab.client_ns, &["link", "set", CLIENT_IF, "up"]);
        wait_confirmed(&lab);
    }
    assert!(
        wait_for(Duration::from_secs(5), || default_route(&lab).is_some()),
        "no default route after the flap: {:?}",
        lab.client_routes()
    );
    // Through the 1 s in which silence would have meant another network, and past it.
    assert!(
        holds_for(Duration::from_millis(1500), || addresses(&lab, CLIENT_IF)
            == vec![addr]
            && status_of(&lab, CLIENT_IF)["state"] == "BOUND"),
        "the lease did not stay: {:?} {}",
        addresses(&lab, CLIENT_IF),
        status_of(&lab, CLIENT_IF)
    );
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the address was removed"
    );
    // And no error sending the ARP (the warning that would say so).
    let log = daemon.log_text();
    assert!(!log.contains("sending ARP"), "{log}");
}

#[test]
fn a_move_to_another_network_takes_a_fresh_lease_at_once() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let old = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    // The cable goes to another network: the far end moves to a namespace where another
    // server hands out 203.0.113.0/24, and another host is its router.
    let other = lab.add_namespace("o");
    ip(&lab.server_ns, &["link", "set", SERVER_IF, "netns", &other]);
    assert!(wait_for(Duration::from_secs(5), || !carrier(&lab)));
    ip(&other, &["addr", "add", "203.0.113.1/24", "dev", SERVER_IF]);
    ip(&other, &["link", "set", SERVER_IF, "up"]);
    start_other_dnsmasq(&mut lab, &other, SERVER_IF);
    let new = wait_address(&lab, CLIENT_IF, OTHER_POOL);
    assert!(
        wait_for(Duration::from_secs(5), || addresses(&lab, CLIENT_IF)
            == vec![new]),
        "the old address {old} stays: {:?}",
        addresses(&lab, CLIENT_IF)
    );
    let route = default_route(&lab).expect("a default route on the new network");
    assert_eq!(route.gateway, Some(Ipv4Addr::new(203, 0, 113, 1)));
    // The reason the daemon gives for dropping the old lease.
    let log = daemon.log_text();
    assert!(
        log.contains("another network") || log.contains("NAK from"),
        "{log}"
    );
    // Written by the files thread just after the address and routes: allow it a moment.
    assert!(
        wait_for(Duration::from_secs(5), || fs::read_to_string(
            lab.dir.join("resolv.conf")
        )
        .unwrap_or_default()
        .contains("nameserver 203.0.113.1")),
        "resolv.conf keeps the old network's DNS"
    );
}

#[test]
fn no_carrier_at_start_waits_for_it_then_binds() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    ip(&lab.server_ns, &["link", "set", SERVER_IF, "down"]);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_status(
        &lab,
        CLIENT_IF,
        Duration::from_secs(5),
        "without carrier",
        |s| s["carrier"] == false,
    );
    // It says what it waits for.
    daemon.wait_log("no carrier yet; waiting for it", Duration::from_secs(5));
    // Nothing is sent into a link with no carrier (the kernel would refuse it): nothing the
    // debug log would show as sent, all through half a second.
    let sent = "sent DISCOVER";
    assert!(
        holds_for(Duration::from_millis(500), || !daemon
            .log_text()
            .contains(sent)),
        "{}",
        daemon.log_text()
    );
    ip(&lab.server_ns, &["link", "set", SERVER_IF, "up"]);
    wait_address(&lab, CLIENT_IF, POOL);
    daemon.wait_log("carrier up: asking for a lease", Duration::from_secs(5));
    // The line looked for above is the one the daemon writes once it does send.
    assert!(daemon.log_text().contains(sent), "{}", daemon.log_text());
}

/// Makes the lab's veth pair again (as after a hot-unplug and replug), with the server's
/// address, and a fresh dnsmasq on it.
fn replug(lab: &mut Lab, name: &str) {
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, SERVER_IF, &c, CLIENT_IF);
    ip(&s, &["addr", "add", "198.51.100.1/24", "dev", SERVER_IF]);
    let dnsmasq = require_program("dnsmasq", "sudo scripts/test installs dnsmasq-base");
    let d = |f: &str| lab.dir.join(f).display().to_string();
    let mut args = vec![
        "--no-daemon".to_string(),
        "--conf-file=/dev/null".to_string(),
        "--port=0".to_string(),
        "--bind-interfaces".to_string(),
        format!("--interface={SERVER_IF}"),
        "--log-facility=-".to_string(),
        format!("--pid-file={}", d(&format!("{name}.pid"))),
        format!("--dhcp-leasefile={}", d(&format!("{name}.leases"))),
    ];
    args.extend(DNSMASQ_LAB.iter().map(|a| a.to_string()));
    lab.start_server(name, &dnsmasq, &args, "sockets bound");
}

fn index_of(lab: &Lab) -> u64 {
    let text = sh(
        "ip",
        &["-n", &lab.client_ns, "-j", "link", "show", "dev", CLIENT_IF],
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("ip -j link");
    v[0]["ifindex"].as_u64().expect("ifindex")
}

#[test]
fn a_removed_interface_stops_its_lease_and_is_served_again_by_its_new_index() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let first_index = index_of(&lab);
    let mut daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let resolv = lab.dir.join("resolv.conf");
    assert!(wait_for(Duration::from_secs(5), || fs::read_to_string(
        &resolv
    )
    .unwrap_or_default()
    .contains("198.51.100.1")));

    ip(&lab.client_ns, &["link", "del", CLIENT_IF]);
    wait_state(&lab, CLIENT_IF, "MISSING", Duration::from_secs(5));
    // Its DNS goes with it; the daemon goes on, and says what it waits for.
    assert!(wait_for(Duration::from_secs(5), || !fs::read_to_string(
        &resolv
    )
    .unwrap_or_default()
    .contains("198.51.100.1")));
    assert!(wait_for(Duration::from_secs(5), || status_of(
        &lab, CLIENT_IF
    )["state"]
        == "MISSING"));
    assert!(
        matches!(daemon.child.try_wait(), Ok(None)),
        "the daemon ended"
    );

    replug(&mut lab, "dnsmasq-again");
    assert_ne!(
        index_of(&lab),
        first_index,
        "the interface should be a new one"
    );
    // Served by its new index: an address on the new link, bound.
    wait_address(&lab, CLIENT_IF, POOL);
    assert!(wait_for(Duration::from_secs(5), || status_of(
        &lab, CLIENT_IF
    )["state"]
        == "BOUND"));
}

#[test]
fn allow_missing_waits_for_an_interface_that_is_not_there_yet() {
    let mut lab = Lab::new();
    ip(&lab.client_ns, &["link", "del", CLIENT_IF]);
    // Without --allow-missing: a clear error, status 3.
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "-t", "3", CLIENT_IF].map(String::from));
    let out = lab.run_dhcpc(&args);
    assert_exit(&out, 3);
    assert_stderr_contains(&out, "no such interface");

    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &["--arp-probe", "0", "--allow-missing"],
        &[CLIENT_IF],
    );
    wait_state(&lab, CLIENT_IF, "MISSING", Duration::from_secs(5));
    // It says what it waits for.
    daemon.wait_log("not there yet; waiting for it", Duration::from_secs(5));
    replug(&mut lab, "dnsmasq");
    wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
}

#[test]
fn removing_one_interface_leaves_the_others_running() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, "vs2", &c, "vc2");
    ip(&s, &["addr", "add", "203.0.113.1/24", "dev", "vs2"]);
    start_other_dnsmasq(&mut lab, &s, "vs2");
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF, "vc2"]);
    wait_address(&lab, CLIENT_IF, POOL);
    let other = wait_address(&lab, "vc2", OTHER_POOL);
    let resolv = lab.dir.join("resolv.conf");
    assert!(wait_for(Duration::from_secs(5), || {
        let text = fs::read_to_string(&resolv).unwrap_or_default();
        text.contains("198.51.100.1") && text.contains("203.0.113.1")
    }));

    // Each interface has its default route, at the same metric: neither replaced the other.
    let defaults = |lab: &Lab| -> Vec<String> {
        let mut devs: Vec<String> = lab
            .client_routes()
            .into_iter()
            .filter(|r| r.is_default())
            .filter_map(|r| r.dev)
            .collect();
        devs.sort();
        devs
    };
    assert!(
        wait_for(Duration::from_secs(5), || defaults(&lab) == ["vc", "vc2"]),
        "{:?}",
        lab.client_routes()
    );

    ip(&c, &["link", "del", CLIENT_IF]);
    wait_state(&lab, CLIENT_IF, "MISSING", Duration::from_secs(5));
    // vc's DNS server goes; vc2's stays, and so do its lease and address.
    assert!(wait_for(Duration::from_secs(5), || {
        let text = fs::read_to_string(&resolv).unwrap_or_default();
        !text.contains("198.51.100.1") && text.contains("203.0.113.1")
    }));
    assert_eq!(status_of(&lab, "vc2")["state"], "BOUND");
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "MISSING");
    assert_eq!(addresses(&lab, "vc2"), vec![other]);
    assert_eq!(defaults(&lab), ["vc2"]);
}
