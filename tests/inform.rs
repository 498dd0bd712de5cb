//! Options only: DHCPINFORM (RFC 2131 3.4) against dnsmasq and Kea, which both answer it. The
//! client's interface gets its address by hand (`ip address add`), `dhcpc --inform` asks for
//! the options alone, and the lab checks what a lease would have given but the address: the
//! default route (with the metric), resolv.conf, the hook's INFORM; the address untouched; no
//! lease in the server's database; the refresh; and the options taken off again by `-r`.

mod common;

#[allow(dead_code)]
#[path = "daemon/kea.rs"]
mod kea;

use common::*;
use kea::*;
use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

/// The address set by hand: in the servers' subnet, outside their pools.
const HAND: &str = "198.51.100.20";

/// Gives the client's interface its address by hand.
fn set_by_hand(lab: &Lab) {
    let with_len = format!("{HAND}/24");
    sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "address",
            "add",
            &with_len,
            "dev",
            CLIENT_IF,
        ],
    );
}

/// The address set by hand is the interface's only one, as it was set: /24, never expiring,
/// not made dynamic.
fn assert_address_untouched(lab: &Lab) {
    let addrs = lab.client_addrs();
    assert_eq!(addrs.len(), 1, "{addrs:?}");
    let a = &addrs[0];
    assert_eq!(
        (a.local, a.prefixlen),
        (HAND.parse::<Ipv4Addr>().unwrap(), 24)
    );
    assert_eq!(a.valid_lft, u64::from(u32::MAX), "{a:?}");
    assert!(!a.dynamic, "{a:?}");
}

/// The lab's resolv.conf, once it holds `needle`.
fn wait_resolv(lab: &Lab, needle: &str) -> String {
    let path = lab.dir.join("resolv.conf");
    let found = wait_for(Duration::from_secs(5), || {
        fs::read_to_string(&path).is_ok_and(|t| t.contains(needle))
    });
    let text = fs::read_to_string(&path).unwrap_or_default();
    assert!(found, "resolv.conf has no {needle:?}:\n{text}");
    text
}

/// A script that appends each run's environment to `log`.
fn recorder(dir: &Path, log: &Path) -> String {
    let path = dir.join("record.sh");
    fs::write(
        &path,
        format!(
            "#!/bin/sh\n{{ env | LC_ALL=C sort; echo ----; }} >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    sh("chmod", &["755", &path.display().to_string()]);
    path.display().to_string()
}

#[test]
fn dnsmasq_answers_dhcpinform_and_its_options_are_applied_without_a_lease() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(&[
        "--dhcp-range=198.51.100.50,198.51.100.59,255.255.255.0,1h",
        "--dhcp-option=option:router,198.51.100.1",
        "--dhcp-option=option:dns-server,198.51.100.1,198.51.100.2",
        "--dhcp-option=option:domain-name,inform.test",
        "--dhcp-option=option:domain-search,inform.test,other.test",
        "--dhcp-option=option:ntp-server,198.51.100.3",
    ]);
    set_by_hand(&lab);
    let log = lab.dir.join("hooks.log");
    let script = recorder(&lab.dir, &log);
    let daemon = Daemon::start(
        &lab,
        "dhcpc",
        &["--inform", "--metric", "7", "--script", &script],
        &[CLIENT_IF],
    );
    let s = wait_state(&lab, CLIENT_IF, "INFORMED", Duration::from_secs(15));
    assert_eq!(s["inform_address"], HAND, "{s}");
    assert_eq!(s["server"], "198.51.100.1", "{s}");
    assert_eq!(
        s["dns"],
        serde_json::json!(["198.51.100.1", "198.51.100.2"]),
        "{s}"
    );
    assert_eq!(s["ntp"], serde_json::json!(["198.51.100.3"]), "{s}");
    assert!(s.get("lease_secs").is_none(), "no lease: {s}");

    // DNS to the same back end as a lease's (here --dns-mode file).
    let text = wait_resolv(&lab, "nameserver 198.51.100.2");
    assert!(text.contains("nameserver 198.51.100.1\n"), "{text}");
    assert!(text.contains("search inform.test other.test\n"), "{text}");
    // The default route through option 3's router, with the metric, as a lease's.
    let defaults: Vec<RouteInfo> = lab
        .client_routes()
        .into_iter()
        .filter(|r| r.is_default())
        .collect();
    assert_eq!(defaults.len(), 1, "{defaults:?}");
    let d = &defaults[0];
    assert_eq!(d.gateway, Some(Ipv4Addr::new(198, 51, 100, 1)));
    assert_eq!(d.metric, 7);
    assert_eq!(d.protocol.as_deref(), Some("dhcp"));
    assert_eq!(d.prefsrc, Some(HAND.parse().unwrap()));
    assert_address_untouched(&lab);

    // dnsmasq answered a DHCPINFORM from the address, and leased nothing.
    let dnsmasq = fs::read_to_string(lab.dnsmasq_log()).unwrap_or_default();
    assert!(
        dnsmasq.contains(&format!("DHCPINFORM({SERVER_IF}) {HAND}")),
        "{dnsmasq}"
    );
    assert!(!dnsmasq.contains("DHCPDISCOVER"), "{dnsmasq}");
    assert!(!dnsmasq.contains("DHCPREQUEST"), "{dnsmasq}");
    let leases = fs::read_to_string(lab.dnsmasq_leasefile()).unwrap_or_default();
    assert!(leases.trim().is_empty(), "dnsmasq leased: {leases}");
    // Nothing saved either: there is no lease to ask for again.
    let saved = lab.dir.join("lease").join(format!("{CLIENT_IF}.lease"));
    assert!(!saved.exists(), "{} saved", saved.display());

    // The hook heard INFORM with the options, and nothing of an address or a lease.
    assert!(wait_for(Duration::from_secs(5), || {
        recorded_runs(&log)
            .iter()
            .any(|r| r.get("reason").map(String::as_str) == Some("INFORM"))
    }));
    let runs = recorded_runs(&log);
    let inform = runs
        .iter()
        .find(|r| r["reason"] == "INFORM")
        .expect("an INFORM run");
    assert_eq!(inform["new_routers"], "198.51.100.1");
    assert_eq!(
        inform["new_domain_name_servers"],
        "198.51.100.1 198.51.100.2"
    );
    assert_eq!(inform["new_domain_search"], "inform.test. other.test.");
    for absent in ["new_ip_address", "new_dhcp_lease_time", "new_expiry"] {
        assert!(!inform.contains_key(absent), "{absent} in {inform:?}");
    }
    let reasons: Vec<&str> = runs.iter().map(|r| r["reason"].as_str()).collect();
    assert_eq!(reasons, ["PREINIT", "INFORM"]);

    // -r: the options go (route and DNS), the address stays, no DHCPRELEASE.
    let out = dhcpc_run(&lab, &["-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        wait_for(Duration::from_secs(5), || !lab
            .dir
            .join("resolv.conf")
            .exists()),
        "resolv.conf not restored"
    );
    assert!(
        default_gateways(&lab).is_empty(),
        "{:?}",
        lab.client_routes()
    );
    assert_address_untouched(&lab);
    let dnsmasq = fs::read_to_string(lab.dnsmasq_log()).unwrap_or_default();
    assert!(!dnsmasq.contains("DHCPRELEASE"), "{dnsmasq}");
    drop(daemon);
    lab.assert_netns_resolv_untouched();
}

#[test]
fn kea_answers_dhcpinform_and_the_options_are_asked_for_again_unicast() {
    let lab = Lab::new();
    let kea = Kea::start(&lab, "kea", &[subnet_a(SERVER_IF)], 600, 300, 500);
    set_by_hand(&lab);
    let _daemon = Daemon::start(
        &lab,
        "dhcpc",
        &["--inform", "--inform-refresh", "10"],
        &[CLIENT_IF],
    );
    wait_state(&lab, CLIENT_IF, "INFORMED", Duration::from_secs(15));
    let text = wait_resolv(&lab, "nameserver 198.51.100.1");
    assert!(text.contains("domain kea.test\n"), "{text}");
    assert_eq!(default_gateways(&lab), [Ipv4Addr::new(198, 51, 100, 1)]);
    assert_address_untouched(&lab);
    // The first DHCPINFORM broadcast from the address; then, at the refresh, unicast to the
    // server that answered.
    let first = format!("DHCPINFORM (type 8) received from {HAND} to 255.255.255.255");
    assert!(kea.count(&first) >= 1, "{}", kea.log_text());
    let again = format!("DHCPINFORM (type 8) received from {HAND} to 198.51.100.1");
    assert!(
        wait_for(Duration::from_secs(15), || kea.count(&again) >= 1),
        "no unicast DHCPINFORM after the refresh"
    );
    // Answered again, the options still in place, and nothing leased at any point.
    assert!(wait_for(Duration::from_secs(5), || kea.count("DHCPACK") >= 2));
    wait_state(&lab, CLIENT_IF, "INFORMED", Duration::from_secs(5));
    assert_eq!(default_gateways(&lab), [Ipv4Addr::new(198, 51, 100, 1)]);
    assert_address_untouched(&lab);
    for leased in ["DHCP4_LEASE_ALLOC", "DHCP4_LEASE_ADVERT", "DHCPDISCOVER"] {
        assert_eq!(kea.count(leased), 0, "{leased}:\n{}", kea.log_text());
    }
    lab.assert_netns_resolv_untouched();
}

#[test]
fn without_the_address_set_by_hand_it_says_so_and_sends_nothing() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(&["--dhcp-range=198.51.100.50,198.51.100.59,255.255.255.0,1h"]);
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1".into(), "--inform".into(), CLIENT_IF.into()]);
    let out = lab.run_dhcpc(&args);
    assert_exit(&out, 3);
    assert_stderr_contains(&out, "vc: --inform: the interface has no IPv4 address");
    set_by_hand(&lab);
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "--inform=198.51.100.21", CLIENT_IF].map(String::from));
    let out = lab.run_dhcpc(&args);
    assert_exit(&out, 3);
    assert_stderr_contains(&out, "198.51.100.21 is not an address of the interface");
    let dnsmasq = fs::read_to_string(lab.dnsmasq_log()).unwrap_or_default();
    assert!(!dnsmasq.contains("DHCPINFORM"), "{dnsmasq}");
    // Given the address it has, a oneshot run applies the options, prints them, and exits.
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", &format!("--inform={HAND}"), CLIENT_IF].map(String::from));
    let out = lab.run_dhcpc(&args);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with(&format!("vc: options for {HAND}/24 from 198.51.100.1")),
        "{}",
        describe(&out)
    );
    assert_address_untouched(&lab);
}

#[test]
fn no_answer_within_the_timeout_is_said_as_such() {
    let lab = Lab::new();
    set_by_hand(&lab);
    let mut args = lab.dhcpc_dir_args();
    args.extend(["-1", "--inform", "-t", "2", CLIENT_IF].map(String::from));
    let out = lab.run_dhcpc(&args);
    assert_exit(&out, 1);
    assert_stderr_contains(
        &out,
        "vc: no answer to DHCPINFORM after 2 s: no DHCP server answered",
    );
    assert!(default_gateways(&lab).is_empty());
    assert_address_untouched(&lab);
}
