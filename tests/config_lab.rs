//! The configuration file (dhcpc.conf(5)) in a namespace lab with dnsmasq: the file's settings
//! applied per interface, the command line winning over them, and a bad file stopping a start.
//! Root tier (`--features root-tests`); `--check-config` alone is tests/config.rs.

mod common;

use common::{
    assert_exit, assert_no_panic, assert_stderr_contains, describe, parse_routes, require_program,
    sh, stdout, wait_address, Lab, CLIENT_IF,
};
use std::fs;
use std::path::Path;
use std::process::Output;

/// The lab of these tests: dnsmasq serving the client's veth (198.51.100.0/24), and a second
/// dnsmasq a second pair, vs2/vc2 (203.0.113.0/24); each gives its own address as the router
/// and keeps the clients' host names in its lease file.
fn two_interface_lab() -> Lab {
    let mut lab = Lab::new();
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, "vs2", &c, "vc2");
    sh(
        "ip",
        &["-n", &s, "addr", "add", "203.0.113.1/24", "dev", "vs2"],
    );
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    ]);
    let dnsmasq = require_program("dnsmasq", "install dnsmasq-base (sudo scripts/test does)");
    let file = |name: &str| lab.dir.join(name).display().to_string();
    let args: Vec<String> = vec![
        "--no-daemon".into(),
        "--conf-file=/dev/null".into(),
        "--port=0".into(),
        "--bind-interfaces".into(),
        "--interface=vs2".into(),
        "--log-facility=-".into(),
        format!("--pid-file={}", file("dnsmasq2.pid")),
        format!("--dhcp-leasefile={}", file("dnsmasq2.leases")),
        "--no-ping".into(),
        "--dhcp-range=203.0.113.50,203.0.113.150,255.255.255.0,1h".into(),
    ];
    lab.start_server_in(&s, "dnsmasq2", &dnsmasq, &args, "sockets bound");
    lab
}

/// The metric of the default route through `dev` in the client namespace.
fn default_metric(lab: &Lab, dev: &str) -> Option<u32> {
    parse_routes(&sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "-j",
            "-4",
            "route",
            "show",
            "table",
            "main",
        ],
    ))
    .into_iter()
    .find(|r| r.is_default() && r.dev.as_deref() == Some(dev))
    .map(|r| r.metric)
}

/// `dhcpc <lab dirs> args` in the client namespace; fails on a panic.
fn dhcpc(lab: &Lab, args: &[&str]) -> Output {
    let mut all = lab.dhcpc_dir_args();
    all.extend(args.iter().map(|a| a.to_string()));
    let out = lab.run_dhcpc(&all);
    assert_no_panic(&out);
    out
}

/// The host name a dnsmasq lease file has for the lease of `addr`.
fn leased_name(leases: &Path, addr: std::net::Ipv4Addr) -> Option<String> {
    let leases = fs::read_to_string(leases).unwrap_or_default();
    leases.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(2) == Some(&addr.to_string().as_str())).then(|| f.get(3).unwrap_or(&"").to_string())
    })
}

#[test]
fn interface_tables_win_over_the_top_level_and_the_command_line_over_both() {
    let lab = two_interface_lab();
    lab.write_config(
        "# the lab's dhcpc.conf\n\
         metric = 100\n\
         hostname = \"top\"\n\
         arp-probe = 0\n\
         timeout = 15\n\
         \n\
         [interface.vc2]\n\
         metric = 200\n\
         hostname = \"second\"\n\
         \n\
         [interface.other]\n\
         metric = 999\n",
    );
    // Both interfaces in one process: vc takes the top level, vc2 its own table.
    let out = dhcpc(&lab, &["-1", CLIENT_IF, "vc2"]);
    assert_exit(&out, 0);
    let a = wait_address(&lab, CLIENT_IF, ("198.51.100.50", "198.51.100.150"));
    let b = wait_address(&lab, "vc2", ("203.0.113.50", "203.0.113.150"));
    assert_eq!(
        default_metric(&lab, CLIENT_IF),
        Some(100),
        "{}",
        describe(&out)
    );
    assert_eq!(default_metric(&lab, "vc2"), Some(200), "{}", describe(&out));
    let (first, second) = (lab.dnsmasq_leasefile(), lab.dir.join("dnsmasq2.leases"));
    assert!(
        common::wait_for(std::time::Duration::from_secs(5), || {
            leased_name(&first, a).as_deref() == Some("top")
                && leased_name(&second, b).as_deref() == Some("second")
        }),
        "host names sent: {:?} {:?}",
        leased_name(&first, a),
        leased_name(&second, b),
    );

    // Given back, then asked for again with flags: the command line beats both.
    assert_exit(&dhcpc(&lab, &["-r", CLIENT_IF, "vc2"]), 0);
    assert_eq!(default_metric(&lab, "vc2"), None, "released");
    // (One run each: two default routes of one metric would replace each other.)
    for (iface, metric) in [(CLIENT_IF, 7), ("vc2", 8)] {
        let out = dhcpc(&lab, &["-1", "--metric", &metric.to_string(), iface]);
        assert_exit(&out, 0);
        assert_eq!(
            default_metric(&lab, iface),
            Some(metric),
            "{}",
            describe(&out)
        );
    }
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_bad_file_stops_a_start_with_status_2() {
    let lab = Lab::new();
    lab.write_config("metric = 1\nmetric-x = 2\n");
    let out = dhcpc(&lab, &["-1", "-t", "5", CLIENT_IF]);
    assert_exit(&out, 2);
    assert_stderr_contains(
        &out,
        &format!("{}:2: unknown key 'metric-x'", lab.config_path().display()),
    );
    assert!(lab.client_addrs().is_empty(), "nothing may be configured");
    // The daemon's start as well, before it goes to the background.
    let out = dhcpc(&lab, &["-t", "5", CLIENT_IF]);
    assert_exit(&out, 2);
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    assert!(!lab
        .dir
        .join("run")
        .join(format!("{CLIENT_IF}.sock"))
        .exists());
    // -c naming a file that is not there.
    let mut args = lab.dhcpc_dir_args();
    let last = args.len() - 1;
    args[last] = lab.dir.join("absent.conf").display().to_string();
    args.extend(["-1".to_string(), CLIENT_IF.to_string()]);
    let out = lab.run_dhcpc(&args);
    assert_no_panic(&out);
    assert_exit(&out, 2);
    assert_stderr_contains(&out, "absent.conf: cannot read the file");
}
