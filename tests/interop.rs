//! dhcpc against the common DHCP servers, each in a namespace lab of its own: dnsmasq, ISC
//! dhcpd and busybox udhcpd through a whole lease life (acquire, renew, INIT-REBOOT, release,
//! checking what the interface holds and what the server logged; Kea's is in tests/daemon/),
//! a relay agent (ISC dhcrelay) between two subnets, two servers on one segment, rapid commit,
//! and a server that sends classless routes, an MTU, a search list and NTP servers.

mod common;

use common::*;
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.59");

/// What a server writes to its log, to check it saw what dhcpc did.
struct Marks {
    /// A line that says the server made an offer (answered a DISCOVER).
    offer: &'static str,
    /// A line that says the server acknowledged a request.
    ack: &'static str,
    /// A line that says the server took a release back, if it says so at all.
    release: Option<&'static str>,
}

fn server_log(lab: &Lab, name: &str) -> String {
    fs::read_to_string(lab.dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

fn default_gateway(lab: &Lab) -> Option<Ipv4Addr> {
    lab.client_routes()
        .iter()
        .find(|r| r.is_default())
        .and_then(|r| r.gateway)
}

/// A whole lease life against the server `name` already running in the lab: acquire, renew
/// (at T1 when `short` leases make it come soon, else asked for with -n), stop and restart
/// (INIT-REBOOT keeps the address without a DISCOVER), release.
fn lease_life(lab: &Lab, name: &str, marks: &Marks, short: bool, gateway: Ipv4Addr) {
    let daemon = Daemon::start(lab, "dhcpc-1", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(lab, CLIENT_IF, POOL);
    // Counted before T1 can come (with short leases, 4 s after the bind).
    let acks = count(&server_log(lab, name), marks.ack);
    wait_state(lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert_eq!(
        default_gateway(lab),
        Some(gateway),
        "{:?}",
        lab.client_routes()
    );
    let resolv = fs::read_to_string(lab.dir.join("resolv.conf")).unwrap_or_default();
    assert!(resolv.contains("nameserver 198.51.100.1"), "{resolv}");

    // Renew: the server acknowledges again, and dhcpc takes it (BOUND again).
    if !short {
        assert_exit(&dhcpc_run(lab, &["-n", CLIENT_IF]), 0);
    }
    let renewed = wait_for(Duration::from_secs(10), || {
        count(&server_log(lab, name), marks.ack) > acks
            && try_status_of(lab, CLIENT_IF).is_some_and(|s| s["state"] == "BOUND")
    });
    assert!(
        renewed,
        "{name} logged no new ACK:\n{}",
        server_log(lab, name)
    );
    assert_eq!(addresses(lab, CLIENT_IF), vec![addr]);

    // Stop (the lease is kept) and start again: INIT-REBOOT, the same address, no gap.
    assert_exit(&dhcpc_run(lab, &["-x", CLIENT_IF]), 0);
    drop(daemon);
    assert_eq!(addresses(lab, CLIENT_IF), vec![addr]);
    let watch = NetWatch::addresses(lab, &lab.client_ns);
    let log = server_log(lab, name);
    let (acks, offers) = (count(&log, marks.ack), count(&log, marks.offer));
    assert!(
        offers >= 1,
        "{name} made no offer for the first lease:\n{log}"
    );
    let _second = Daemon::start(lab, "dhcpc-2", &["--arp-probe", "0"], &[CLIENT_IF]);
    // Asked for again and acknowledged, BOUND, with no DISCOVER (no offer made).
    let rebooted = wait_for(Duration::from_secs(10), || {
        count(&server_log(lab, name), marks.ack) > acks
            && try_status_of(lab, CLIENT_IF).is_some_and(|s| s["state"] == "BOUND")
    });
    assert!(rebooted, "{name}:\n{}", server_log(lab, name));
    let log = server_log(lab, name);
    assert_eq!(
        count(&log, marks.offer),
        offers,
        "went through DISCOVER:\n{log}"
    );
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the address was removed"
    );
    assert_eq!(addresses(lab, CLIENT_IF), vec![addr]);

    // Release: the address and route go, the server is told.
    assert_exit(&dhcpc_run(lab, &["-r", CLIENT_IF]), 0);
    assert!(addresses(lab, CLIENT_IF).is_empty());
    assert_eq!(default_gateway(lab), None);
    if let Some(mark) = marks.release {
        assert!(
            wait_for(Duration::from_secs(3), || server_log(lab, name)
                .contains(mark)),
            "{name} logged no release:\n{}",
            server_log(lab, name)
        );
    }
    lab.assert_netns_resolv_untouched();
}

/// Asks the daemon to renew (`-n`) and waits until the server `name` has acknowledged it and
/// the daemon is BOUND again: the renewal was answered and taken.
fn renew_and_wait(lab: &Lab, name: &str, ack: &str) {
    let acks = count(&server_log(lab, name), ack);
    assert_exit(&dhcpc_run(lab, &["-n", CLIENT_IF]), 0);
    wait_status(lab, CLIENT_IF, Duration::from_secs(5), "renewed", |s| {
        s["state"] == "BOUND" && count(&server_log(lab, name), ack) > acks
    });
}

fn dnsmasq_args(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--no-ping".to_string(),
        format!("--dhcp-range={},{},255.255.255.0,2m", POOL.0, POOL.1),
        "--dhcp-option=option:router,198.51.100.1".to_string(),
        "--dhcp-option=option:dns-server,198.51.100.1".to_string(),
        "--log-dhcp".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn start_dnsmasq(lab: &mut Lab, extra: &[&str]) {
    let args = dnsmasq_args(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.start_dnsmasq(&args);
}

#[test]
fn dnsmasq_lease_life() {
    let mut lab = Lab::new();
    start_dnsmasq(&mut lab, &[]);
    let marks = Marks {
        offer: "DHCPOFFER(vs)",
        ack: "DHCPACK(vs)",
        release: Some("DHCPRELEASE(vs)"),
    };
    lease_life(
        &lab,
        "dnsmasq",
        &marks,
        false,
        Ipv4Addr::new(198, 51, 100, 1),
    );
}

fn isc_dhcpd(lab: &mut Lab, lease_secs: u32) {
    let dhcpd = require_program(
        "dhcpd",
        "install isc-dhcp-server (sudo scripts/test does, without starting its service)",
    );
    let conf = lab.dir.join("dhcpd.conf");
    fs::write(
        &conf,
        format!(
            "authoritative;\n\
             default-lease-time {lease_secs};\nmax-lease-time {lease_secs};\n\
             min-lease-time {lease_secs};\n\
             subnet 198.51.100.0 netmask 255.255.255.0 {{\n\
               range {} {};\n\
               option routers 198.51.100.1;\n\
               option domain-name-servers 198.51.100.1;\n\
               option domain-name \"dhcpd.test\";\n\
             }}\n",
            POOL.0, POOL.1
        ),
    )
    .unwrap();
    let leases = lab.dir.join("dhcpd.leases");
    fs::write(&leases, "").unwrap();
    let path = |p: PathBuf| p.display().to_string();
    let args = [
        "-4".to_string(),
        "-f".into(),
        "-d".into(),
        "-cf".into(),
        path(conf),
        "-lf".into(),
        path(leases),
        "-pf".into(),
        path(lab.dir.join("dhcpd.pid")),
        SERVER_IF.into(),
    ];
    lab.start_server("dhcpd", &dhcpd, &args, "Server starting service.");
}

#[test]
fn isc_dhcpd_lease_life() {
    let mut lab = Lab::new();
    isc_dhcpd(&mut lab, 8);
    let marks = Marks {
        offer: "DHCPOFFER on",
        ack: "DHCPACK on",
        release: Some("DHCPRELEASE of"),
    };
    lease_life(&lab, "dhcpd", &marks, true, Ipv4Addr::new(198, 51, 100, 1));
}

fn udhcpd(lab: &mut Lab, extra: &str) {
    let udhcpd = require_program(
        "udhcpd",
        "install udhcpd (sudo scripts/test does, without starting its service)",
    );
    let conf = lab.dir.join("udhcpd.conf");
    let leases = lab.dir.join("udhcpd.leases");
    fs::write(&leases, "").unwrap();
    fs::write(
        &conf,
        format!(
            "start {}\nend {}\ninterface {SERVER_IF}\nlease_file {}\npidfile {}\n\
             min_lease 4\nopt subnet 255.255.255.0\nopt router 198.51.100.1\n\
             opt dns 198.51.100.1\nopt domain udhcpd.test\nopt lease 8\n{extra}",
            POOL.0,
            POOL.1,
            leases.display(),
            lab.dir.join("udhcpd.pid").display()
        ),
    )
    .unwrap();
    let args = ["-f".to_string(), conf.display().to_string()];
    lab.start_server("udhcpd", &udhcpd, &args, "started");
}

#[test]
fn busybox_udhcpd_lease_life_with_its_classless_routes() {
    let mut lab = Lab::new();
    // udhcpd sends option 121 with a default route via another router than option 3's.
    udhcpd(
        &mut lab,
        "opt staticroutes 10.0.0.0/8 198.51.100.253 0.0.0.0/0 198.51.100.254\n",
    );
    let marks = Marks {
        offer: "sending OFFER",
        ack: "sending ACK",
        release: None,
    };
    lease_life(
        &lab,
        "udhcpd",
        &marks,
        true,
        Ipv4Addr::new(198, 51, 100, 254),
    );
    // Once more, to look at the routes while bound: RFC 3442 wins over option 3.
    let _daemon = Daemon::start(&lab, "dhcpc-3", &["--arp-probe", "0"], &[CLIENT_IF]);
    wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let routes = lab.client_routes();
    let ten = routes.iter().find(|r| r.dst == "10.0.0.0/8");
    assert_eq!(
        ten.and_then(|r| r.gateway),
        Some(Ipv4Addr::new(198, 51, 100, 253)),
        "{routes:#?}"
    );
    assert!(
        !routes
            .iter()
            .any(|r| r.gateway == Some(Ipv4Addr::new(198, 51, 100, 1))),
        "option 3's router was used: {routes:#?}"
    );
}

#[test]
fn dnsmasq_with_classless_routes_mtu_search_list_and_ntp() {
    let mut lab = Lab::new();
    start_dnsmasq(
        &mut lab,
        &[
            "--dhcp-option=option:classless-static-route,0.0.0.0/0,198.51.100.254,\
             10.0.0.0/8,198.51.100.253,203.0.113.0/24,0.0.0.0,10.1.0.0/16,203.0.113.7,\
             198.51.100.0/24,0.0.0.0",
            "--dhcp-option=option:mtu,1400",
            "--dhcp-option=option:domain-name,lab.test",
            "--dhcp-option=option:domain-search,a.test,b.test",
            "--dhcp-option=option:ntp-server,198.51.100.5",
        ],
    );
    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));

    let routes = lab.client_routes();
    let find = |dst: &str| routes.iter().find(|r| r.dst == dst).cloned();
    let default = routes.iter().find(|r| r.is_default()).cloned();
    assert_eq!(
        default.and_then(|r| r.gateway),
        Some(Ipv4Addr::new(198, 51, 100, 254)),
        "121's default route, not option 3's: {routes:#?}"
    );
    assert_eq!(
        find("10.0.0.0/8").and_then(|r| r.gateway),
        Some(Ipv4Addr::new(198, 51, 100, 253))
    );
    let onlink = find("203.0.113.0/24").expect("the on-link route");
    assert_eq!(
        (onlink.gateway, onlink.dev.as_deref()),
        (None, Some(CLIENT_IF))
    );
    // A router outside the leased subnet is reached on the link all the same.
    let far = find("10.1.0.0/16").expect("the route via 203.0.113.7");
    assert_eq!(far.gateway, Some(Ipv4Addr::new(203, 0, 113, 7)));
    assert!(far.raw["flags"].to_string().contains("onlink"), "{far:?}");
    // The leased subnet's own route stays the kernel's.
    let own = find("198.51.100.0/24").expect("the subnet's route");
    assert_eq!(own.protocol.as_deref(), Some("kernel"), "{own:?}");
    for r in [find("10.0.0.0/8"), find("203.0.113.0/24")]
        .into_iter()
        .flatten()
    {
        assert!(
            matches!(r.protocol.as_deref(), Some("dhcp" | "16")),
            "{r:?}"
        );
        assert_eq!(r.prefsrc, Some(addr));
    }
    assert_eq!(lab.client_link().raw["mtu"], 1400);
    let resolv = fs::read_to_string(lab.dir.join("resolv.conf")).unwrap();
    assert!(
        resolv.contains("search lab.test a.test b.test\n"),
        "{resolv}"
    );

    let status = status_of(&lab, CLIENT_IF);
    assert_eq!(
        status["ntp"],
        serde_json::json!(["198.51.100.5"]),
        "{status}"
    );
    assert_eq!(status["mtu"], 1400);
    assert_eq!(status["search"], serde_json::json!(["a.test", "b.test"]));
    assert_eq!(status["options"]["26"], "0578", "{status}");
    assert!(status["options"]["121"].is_string(), "{status}");

    // A renewal with nothing changed touches no route: `ip monitor` sees nothing.
    let mut watch = NetWatch::routes(&lab, &lab.client_ns);
    renew_and_wait(&lab, "dnsmasq", "DHCPACK(vs)");
    // Whatever the renewal changed is reported before a change made after it.
    watch.barrier();
    assert_eq!(
        watch.changes(),
        Vec::<String>::new(),
        "a renewal changed routes"
    );
    // A route the kernel lost comes back at the next renewal.
    sh("ip", &["-n", &lab.client_ns, "route", "del", "10.0.0.0/8"]);
    renew_and_wait(&lab, "dnsmasq", "DHCPACK(vs)");
    assert_eq!(
        lab.client_routes().len(),
        routes.len(),
        "{:#?}",
        lab.client_routes()
    );
    // A release takes them all away and puts the MTU back.
    assert_exit(&dhcpc_run(&lab, &["-r", CLIENT_IF]), 0);
    let left: Vec<_> = lab
        .client_routes()
        .into_iter()
        .filter(|r| matches!(r.protocol.as_deref(), Some("dhcp" | "16")))
        .collect();
    assert!(left.is_empty(), "routes left: {left:#?}");
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    let resolv = fs::read_to_string(lab.dir.join("resolv.conf")).unwrap_or_default();
    assert!(!resolv.contains("search"), "{resolv}");
}

#[test]
fn dnsmasq_rapid_commit_takes_two_messages() {
    let mut lab = Lab::new();
    start_dnsmasq(&mut lab, &["--dhcp-rapid-commit"]);
    let out = dhcpc_run(&lab, &["-1", "--arp-probe", "0", "-t", "10", CLIENT_IF]);
    assert_exit(&out, 0);
    wait_address(&lab, CLIENT_IF, POOL);
    let log = server_log(&lab, "dnsmasq");
    assert_eq!(count(&log, "DHCPREQUEST"), 0, "{log}");
    assert_eq!(count(&log, "DHCPACK(vs)"), 1, "{log}");
    // Without it: four messages again.
    assert_exit(&dhcpc_run(&lab, &["-r", CLIENT_IF]), 0);
    let out = dhcpc_run(
        &lab,
        &["-1", "--no-rapid-commit", "--arp-probe", "0", CLIENT_IF],
    );
    assert_exit(&out, 0);
    assert!(count(&server_log(&lab, "dnsmasq"), "DHCPREQUEST") >= 1);
}

#[test]
fn through_a_relay_agent() {
    let mut lab = Lab::new();
    let dhcrelay = require_program(
        "dhcrelay",
        "install isc-dhcp-relay (sudo scripts/test does, without starting its service)",
    );
    // client vc -- rc [router] rs -- vs server: the client's subnet is 203.0.113.0/24, the
    // server's 198.51.100.0/24. The lab's own veth between client and server is taken away.
    sh("ip", &["-n", &lab.client_ns, "link", "del", CLIENT_IF]);
    let router = lab.add_namespace("r");
    lab.veth(&lab.client_ns, CLIENT_IF, &router, "rc");
    lab.veth(&router, "rs", &lab.server_ns, "vr");
    sh(
        "ip",
        &["-n", &router, "addr", "add", "203.0.113.1/24", "dev", "rc"],
    );
    sh(
        "ip",
        &[
            "-n",
            &router,
            "addr",
            "add",
            "198.51.100.254/24",
            "dev",
            "rs",
        ],
    );
    sh(
        "ip",
        &[
            "netns",
            "exec",
            &router,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ],
    );
    let s = lab.server_ns.clone();
    sh(
        "ip",
        &["-n", &s, "addr", "add", "198.51.100.1/24", "dev", "vr"],
    );
    sh(
        "ip",
        &[
            "-n",
            &s,
            "route",
            "add",
            "203.0.113.0/24",
            "via",
            "198.51.100.254",
        ],
    );
    let dnsmasq = require_program("dnsmasq", "install dnsmasq-base");
    let args: Vec<String> = [
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",
        "--bind-interfaces",
        "--interface=vr",
        "--log-facility=-",
        "--log-dhcp",
        "--no-ping",
        "--dhcp-range=203.0.113.50,203.0.113.59,255.255.255.0,2m",
        "--dhcp-option=option:router,203.0.113.1",
        "--dhcp-option=option:dns-server,198.51.100.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("--pid-file={}", lab.dir.join("dnsmasq.pid").display()),
        format!(
            "--dhcp-leasefile={}",
            lab.dir.join("dnsmasq.leases").display()
        ),
    ])
    .collect();
    lab.start_server("dnsmasq", &dnsmasq, &args, "sockets bound");
    let relay_args: Vec<String> = ["-4", "-d", "-id", "rc", "-iu", "rs", "198.51.100.1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    lab.start_server_in(&router, "dhcrelay", &dhcrelay, &relay_args, "Sending on");

    let _daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, ("203.0.113.50", "203.0.113.59"));
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    assert_eq!(default_gateway(&lab), Some(Ipv4Addr::new(203, 0, 113, 1)));
    let log = server_log(&lab, "dnsmasq");
    assert!(log.contains("DHCPACK(vr) 203.0.113.5"), "{log}");
    // Renewal goes unicast to the server, across the router.
    renew_and_wait(&lab, "dnsmasq", "DHCPACK(vr)");
    assert_exit(&dhcpc_run(&lab, &["-r", CLIENT_IF]), 0);
    assert!(addresses(&lab, CLIENT_IF).is_empty());
    assert!(
        wait_for(Duration::from_secs(3), || server_log(&lab, "dnsmasq")
            .contains(&format!("DHCPRELEASE(vr) {addr}"))),
        "{}",
        server_log(&lab, "dnsmasq")
    );
}

#[test]
fn two_servers_on_one_segment() {
    let mut lab = Lab::new();
    // client vc -- [switch: bridge] -- vs (server A, the lab's) and vs (server B).
    sh("ip", &["-n", &lab.client_ns, "link", "del", CLIENT_IF]);
    let switch = lab.add_namespace("w");
    let other = lab.add_namespace("b");
    lab.veth(&lab.client_ns, CLIENT_IF, &switch, "wc");
    lab.veth(&lab.server_ns, "vsa", &switch, "wa");
    lab.veth(&other, "vsb", &switch, "wb");
    sh(
        "ip",
        &["-n", &switch, "link", "add", "br0", "type", "bridge"],
    );
    for port in ["wc", "wa", "wb"] {
        sh("ip", &["-n", &switch, "link", "set", port, "master", "br0"]);
    }
    sh("ip", &["-n", &switch, "link", "set", "br0", "up"]);
    let s = lab.server_ns.clone();
    sh(
        "ip",
        &["-n", &s, "addr", "add", "198.51.100.1/24", "dev", "vsa"],
    );
    sh(
        "ip",
        &["-n", &other, "addr", "add", "198.51.100.2/24", "dev", "vsb"],
    );
    let dnsmasq = require_program("dnsmasq", "install dnsmasq-base");
    for (ns, name, iface, range) in [
        (s.clone(), "dnsmasq-a", "vsa", "198.51.100.50,198.51.100.59"),
        (
            other.clone(),
            "dnsmasq-b",
            "vsb",
            "198.51.100.70,198.51.100.79",
        ),
    ] {
        let args: Vec<String> = vec![
            "--no-daemon".into(),
            "--conf-file=/dev/null".into(),
            "--port=0".into(),
            "--bind-interfaces".into(),
            format!("--interface={iface}"),
            "--log-facility=-".into(),
            "--log-dhcp".into(),
            "--no-ping".into(),
            format!("--dhcp-range={range},255.255.255.0,2m"),
            format!(
                "--pid-file={}",
                lab.dir.join(format!("{name}.pid")).display()
            ),
            format!(
                "--dhcp-leasefile={}",
                lab.dir.join(format!("{name}.leases")).display()
            ),
        ];
        lab.start_server_in(&ns, name, &dnsmasq, &args, "sockets bound");
    }
    let out = dhcpc_run(
        &lab,
        &["-1", "-v", "--arp-probe", "0", "-t", "10", CLIENT_IF],
    );
    assert_exit(&out, 0);
    let addrs = addresses(&lab, CLIENT_IF);
    assert_eq!(addrs.len(), 1, "{addrs:?}");
    let (chosen, passed) = if in_pool(addrs[0], ("198.51.100.50", "198.51.100.59")) {
        ("dnsmasq-a", "dnsmasq-b")
    } else {
        ("dnsmasq-b", "dnsmasq-a")
    };
    // Both offered; the REQUEST named one; only that one acknowledged.
    assert!(
        wait_for(Duration::from_secs(3), || server_log(&lab, passed)
            .contains("DHCPOFFER")),
        "{passed} made no offer:\n{}",
        server_log(&lab, passed)
    );
    assert_eq!(count(&server_log(&lab, chosen), "DHCPACK"), 1);
    assert_eq!(count(&server_log(&lab, passed), "DHCPACK"), 0);
    let err = stderr(&out);
    assert!(err.contains("offered"), "{err}");
}
