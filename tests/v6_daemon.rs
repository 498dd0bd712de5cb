//! `dhcpc -6` against real DHCPv6 servers (issue 20, item 6), in network namespaces: dnsmasq,
//! Kea (with `pd-pools`), ISC dhcpd -6 (`range6`, `prefix6`), and Kea behind ISC dhcrelay -6.
//! After each step the test reads what the kernel holds (the /128 address with its lifetimes,
//! the unreachable route of a delegated prefix), what dhcpc reports (`--status --json -6`), the
//! lease file, resolv.conf, and the server's own lease database:
//! - bind, two renewals, the server stopped through rebind to expiry, and release (Kea, with
//!   lifetimes of a few seconds);
//! - bind and release with dnsmasq and with dhcpd -6; bind through a relay;
//! - both protocols in one process (`-4 -6`) against one dnsmasq;
//! - `--delegate`: a downstream interface gets its /64 of the delegated prefix;
//! - stateless (INFORMATION-REQUEST) against dnsmasq's `ra-stateless`;
//! - Debian's own /sbin/dhclient-script configuring the address (`--script-configures`).
//!
//! Root tier: needs root, dnsmasq, kea-dhcp6, dhcpd and dhcrelay (`sudo scripts/test` installs
//! them without starting their services).

mod common;

use common::*;
use serde_json::Value;
use std::net::Ipv6Addr;
use std::time::Duration;

/// Long enough for a bind (the first SOLICIT waits up to 1 s, DAD on the link-local).
const BIND: Duration = Duration::from_secs(20);

/// The DHCPv6 client's entry in `dhcpc --status --json -6 vc`.
fn status6(lab: &Lab) -> Option<Value> {
    let out = dhcpc_run(lab, &["--status", "--json", "-6", CLIENT_IF]);
    let all: Value = serde_json::from_str(&stdout(&out)).ok()?;
    all.as_array()?
        .iter()
        .find(|v| v["protocol"] == "dhcpv6")
        .cloned()
}

/// Waits until the DHCPv6 status satisfies `cond`; the status.
fn wait6(lab: &Lab, limit: Duration, what: &str, mut cond: impl FnMut(&Value) -> bool) -> Value {
    let mut last = None;
    let ok = wait_for(limit, || {
        last = status6(lab);
        last.as_ref().is_some_and(&mut cond)
    });
    assert!(
        ok,
        "DHCPv6 not {what} within {limit:?}; last status: {last:?}"
    );
    last.unwrap()
}

fn bound(v: &Value) -> bool {
    v["state"] == "BOUND"
}

/// The DHCPv6 addresses the status reports.
fn addrs_of(v: &Value) -> Vec<Ipv6Addr> {
    v["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["address"].as_str()?.parse().ok())
        .collect()
}

/// The prefixes the status reports, as `(prefix, len)`.
fn prefixes_of(v: &Value) -> Vec<(Ipv6Addr, u8)> {
    v["prefixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let (a, l) = p["prefix"].as_str()?.split_once('/')?;
            Some((a.parse().ok()?, l.parse().ok()?))
        })
        .collect()
}

/// The client holds `a` as a /128 with lifetimes (not forever), no prefix route.
fn assert_holds(lab: &Lab, a: Ipv6Addr) {
    let held = lab.client_addrs6();
    let x = held
        .iter()
        .find(|x| x.local == a)
        .unwrap_or_else(|| panic!("{a} is not on vc: {held:?}"));
    assert_eq!(x.prefixlen, 128, "{x:?}");
    assert!(x.valid_lft < u64::from(u32::MAX), "finite lifetime: {x:?}");
    assert!(
        !lab.client_routes6()
            .iter()
            .any(|r| r.dst.starts_with("2001:db8:1::/64")),
        "DHCPv6 adds no prefix route: {:?}",
        lab.client_routes6()
    );
}

fn holds_global(lab: &Lab) -> Vec<Ipv6Addr> {
    lab.client_addrs6()
        .iter()
        .filter(|a| !a.is_link_local())
        .map(|a| a.local)
        .collect()
}

fn unreachable_routes(lab: &Lab) -> Vec<String> {
    lab.client_routes6()
        .into_iter()
        .filter(|r| r.kind == "unreachable")
        .map(|r| r.dst)
        .collect()
}

fn resolv(lab: &Lab) -> String {
    std::fs::read_to_string(lab.dir.join("resolv.conf")).unwrap_or_default()
}

/// `dhcpc -6 -r vc`: status 0, and the daemon `d` ends.
fn release6(lab: &Lab, d: &mut Daemon) {
    assert_exit(&dhcpc_run(lab, &["-6", "-r", CLIENT_IF]), 0);
    let ended = wait_for(Duration::from_secs(5), || {
        d.child.try_wait().ok().flatten().is_some()
    });
    assert!(ended, "the daemon ends after a release");
}

/// dnsmasq: bind (address from the pool, a /128 with its lifetimes, DNS and search list in
/// resolv.conf, the lease6 file), then `dhcpc -6 -r`: RELEASE seen by dnsmasq, the address and
/// the DNS settings gone, the lease file gone, the daemon ended.
#[test]
fn dnsmasq_bind_and_release() {
    let mut lab = Lab::new6();
    lab.start_dnsmasq6(&[]);
    let mut d = Daemon::start(&lab, "dhcpc6", &["-6"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "bound", bound);
    let a = addrs_of(&v)[0];
    assert!(in_pool6(a), "{a} from the pool");
    assert_holds(&lab, a);
    let text = resolv(&lab);
    assert!(text.contains(&format!("nameserver {DNS6}")), "{text}");
    assert!(text.contains("dnsmasq.test"), "{text}");
    let lease = std::fs::read_to_string(lab.dir.join("lease/vc.lease6")).expect("lease6 file");
    assert!(lease.contains(&format!("iaaddr {a} {{")), "{lease}");
    let out = dhcpc_run(&lab, &["-6", "-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!("released {a}")),
        "{}",
        describe(&out)
    );
    assert!(
        wait_for(Duration::from_secs(5), || d
            .child
            .try_wait()
            .ok()
            .flatten()
            .is_some()),
        "the daemon ends after a release"
    );
    assert!(lab.server_log("dnsmasq6").contains("DHCPRELEASE"));
    assert!(!holds_global(&lab).contains(&a));
    assert!(!resolv(&lab).contains(&DNS6.to_string()));
    assert!(!lab.dir.join("lease/vc.lease6").exists());
    d.kill();
    lab.assert_netns_resolv_untouched();
}

/// Kea with an address and a delegated /56 and lifetimes of seconds: bound (the unreachable
/// route for the prefix), renewed twice with Kea (its lease database follows), then Kea is
/// stopped: REBIND at T2, and at the end of the valid lifetime the address and the route go
/// (EXPIRE6), the client soliciting again.
#[test]
fn kea_prefix_renewals_rebind_and_expiry() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    lab.start_kea6_with(&Kea6Config {
        valid: 14,
        preferred: 10,
        renew: 3,
        rebind: 6,
        pd: true,
        rapid_commit: false,
    });
    let _d = Daemon::start(&lab, "dhcpc6", &["-6", "--ia-pd"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "bound with an address and a prefix", |v| {
        bound(v) && !addrs_of(v).is_empty() && !prefixes_of(v).is_empty()
    });
    let a = addrs_of(&v)[0];
    let (p, len) = prefixes_of(&v)[0];
    assert!(in_pool6(a), "{a}");
    assert!(in_pd_pool6(p, len) && len == PD_LEN6, "{p}/{len}");
    assert_holds(&lab, a);
    let route = format!("{p}/{len}");
    assert!(
        unreachable_routes(&lab).contains(&route),
        "{:?}",
        lab.client_routes6()
    );
    // Two renewals: Kea writes the lease again each time (a row per renewal, later expiry).
    let rows = |lab: &Lab| {
        lab.kea6_leases()
            .into_iter()
            .filter(|l| l.address == a)
            .map(|l| l.expire)
            .collect::<Vec<_>>()
    };
    let first = rows(&lab);
    assert!(
        !first.is_empty(),
        "Kea has the lease: {:?}",
        lab.kea6_leases()
    );
    assert!(
        wait_for(Duration::from_secs(12), || {
            let r = rows(&lab);
            let mut distinct = r.clone();
            distinct.dedup();
            distinct.len() >= 3
        }),
        "two renewals in Kea's database: {:?}",
        rows(&lab)
    );
    assert!(holds_global(&lab).contains(&a));
    // Kea gone: rebind, then expiry takes the address and the route off.
    lab.stop_server("kea6");
    wait6(&lab, Duration::from_secs(15), "rebinding", |v| {
        v["state"] == "REBINDING"
    });
    assert!(
        wait_for(Duration::from_secs(20), || !holds_global(&lab).contains(&a)
            && !unreachable_routes(&lab).contains(&route)),
        "expired: {:?} {:?}",
        lab.client_addrs6(),
        lab.client_routes6()
    );
    let v = wait6(&lab, Duration::from_secs(5), "soliciting again", |v| {
        v["state"] == "SOLICITING" || v["state"] == "SELECTING"
    });
    assert!(addrs_of(&v).is_empty(), "{v}");
}

/// Kea: release gives the address and the prefix back (Kea's database says so) and takes the
/// unreachable route off.
#[test]
fn kea_release_returns_address_and_prefix() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    lab.start_kea6(600, 150, 300, true);
    let mut d = Daemon::start(
        &lab,
        "dhcpc6",
        &["-6", "--prefix-len-hint", "56"],
        &[CLIENT_IF],
    );
    let v = wait6(&lab, BIND, "bound with a prefix", |v| {
        bound(v) && !prefixes_of(v).is_empty()
    });
    let a = addrs_of(&v)[0];
    let (p, len) = prefixes_of(&v)[0];
    assert_eq!(len, 56);
    release6(&lab, &mut d);
    // Kea marks a released lease by a row with valid lifetime 0 (or removes it): none of
    // ours in use any more.
    assert!(
        wait_for(Duration::from_secs(5), || {
            let rows = lab.kea6_leases();
            [a, p].iter().all(|x| {
                rows.iter()
                    .rev()
                    .find(|l| l.address == *x)
                    .is_none_or(|l| l.valid == 0 || l.state != 0)
            })
        }),
        "Kea recorded the release: {:?}",
        lab.kea6_leases()
    );
    assert!(!holds_global(&lab).contains(&a));
    assert!(!unreachable_routes(&lab).contains(&format!("{p}/{len}")));
    d.kill();
}

/// ISC dhcpd -6 (`range6`, `prefix6`): bound with both, its lease file has them active; after
/// release, released.
#[test]
fn dhcpd6_bind_and_release() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    lab.start_dhcpd6(600, 450, true);
    let mut d = Daemon::start(&lab, "dhcpc6", &["-6", "--ia-pd"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "bound with an address and a prefix", |v| {
        bound(v) && !addrs_of(v).is_empty() && !prefixes_of(v).is_empty()
    });
    let a = addrs_of(&v)[0];
    let (p, len) = prefixes_of(&v)[0];
    assert_holds(&lab, a);
    let state = |what: &str| {
        lab.dhcpd6_bindings()
            .into_iter()
            .find(|b| b.what == what)
            .map(|b| b.state)
    };
    assert!(
        wait_for(Duration::from_secs(5), || state(&a.to_string()).as_deref()
            == Some("active")),
        "{:?}",
        lab.dhcpd6_bindings()
    );
    assert_eq!(state(&format!("{p}/{len}")).as_deref(), Some("active"));
    release6(&lab, &mut d);
    assert!(
        wait_for(Duration::from_secs(5), || state(&a.to_string()).as_deref()
            == Some("released")),
        "{:?}",
        lab.dhcpd6_bindings()
    );
    assert!(!holds_global(&lab).contains(&a));
    d.kill();
}

/// Through ISC dhcrelay -6: Kea answers the relayed SOLICIT and the client binds an address of
/// the client link's subnet, with the server seen as the relay's link-local address.
#[test]
fn through_a_relay() {
    let mut lab = Lab::with_relay6();
    lab.start_kea6(600, 150, 300, true);
    let _d = Daemon::start(&lab, "dhcpc6", &["-6", "--ia-pd"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "bound", |v| {
        bound(v) && !prefixes_of(v).is_empty()
    });
    let a = addrs_of(&v)[0];
    assert!(in_pool6(a), "{a}");
    assert!(
        v["server"].as_str().unwrap_or("").starts_with("fe80:"),
        "{v}"
    );
    assert!(lab.server_log("dhcrelay6").contains("Relaying"));
    wait_for(Duration::from_secs(5), || holds_global(&lab).contains(&a));
    assert!(holds_global(&lab).contains(&a));
}

/// `-4 -6`: one process, one control socket with both names, both leases; resolv.conf holds
/// both protocols' servers; `-4 -6 -r` releases both.
#[test]
fn both_protocols_in_one_process() {
    let mut lab = Lab::new6();
    lab.start_dnsmasq6(&[
        "--dhcp-range=198.51.100.50,198.51.100.99,2m",
        "--dhcp-option=option:dns-server,198.51.100.53",
    ]);
    let mut d = Daemon::start(
        &lab,
        "dhcpc46",
        &["-4", "-6", "--arp-probe", "0"],
        &[CLIENT_IF],
    );
    wait6(&lab, BIND, "bound", bound);
    let v4 = wait_status(&lab, CLIENT_IF, BIND, "bound", |v| v["state"] == "BOUND");
    assert!(
        v4["address"].as_str().unwrap().starts_with("198.51.100."),
        "{v4}"
    );
    let all = status_json(&lab);
    assert_eq!(all.len(), 2, "{all:?}");
    let text = resolv(&lab);
    assert!(text.contains("nameserver 198.51.100.53"), "{text}");
    assert!(text.contains(&format!("nameserver {DNS6}")), "{text}");
    // One process serves both names.
    let pid = d.child.id().to_string();
    for name in ["vc.pid", "vc:6.pid"] {
        let p = std::fs::read_to_string(lab.dir.join("run").join(name)).unwrap();
        assert_eq!(p.trim(), pid, "{name}");
    }
    let out = dhcpc_run(&lab, &["-4", "-6", "-r", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || d
        .child
        .try_wait()
        .ok()
        .flatten()
        .is_some()));
    assert!(!resolv(&lab).contains("nameserver"), "{}", resolv(&lab));
    d.kill();
}

/// `--delegate`: the downstream interface gets the delegated prefix's first /64 (::1/64, the
/// prefix's lifetimes, the kernel's on-link route), taken back on release.
#[test]
fn delegated_prefix_reaches_a_downstream_interface() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    // A veth pair stands for the LAN side (the dummy module may be missing).
    let ns = lab.client_ns.clone();
    for args in [
        &[
            "link", "add", "down0", "type", "veth", "peer", "name", "down1",
        ][..],
        &["link", "set", "down1", "up"],
        &["link", "set", "down0", "up"],
    ] {
        sh("ip", &[&["-n", ns.as_str()][..], args].concat());
    }
    enable_ipv6_in(&lab.client_ns, "down0", false);
    lab.start_kea6(600, 150, 300, true);
    let mut d = Daemon::start(&lab, "dhcpc6", &["-6", "--delegate", "down0"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "bound with a prefix", |v| {
        bound(v) && !prefixes_of(v).is_empty()
    });
    let (p, _) = prefixes_of(&v)[0];
    let want = Ipv6Addr::from(u128::from(p) | 1);
    let on_down = || addrs6_in(&lab.client_ns, "down0");
    assert!(
        wait_for(Duration::from_secs(5), || on_down()
            .iter()
            .any(|a| a.local == want && a.prefixlen == 64)),
        "{want}/64 on down0: {:?}",
        on_down()
    );
    release6(&lab, &mut d);
    assert!(
        !on_down().iter().any(|a| a.local == want),
        "{:?}",
        on_down()
    );
    d.kill();
}

/// `--stateless` against dnsmasq's `ra-stateless`: INFORMATION-REQUEST, the DNS server and
/// search list in resolv.conf, no address from DHCPv6.
#[test]
fn stateless_takes_options_only() {
    let mut lab = Lab::new6();
    lab.start_dnsmasq6_mode(Dnsmasq6Mode::RaStateless, &[]);
    let _d = Daemon::start(&lab, "dhcpc6", &["-6", "--stateless"], &[CLIENT_IF]);
    let v = wait6(&lab, BIND, "informed", |v| {
        v["dns"].as_array().is_some_and(|d| !d.is_empty())
    });
    assert!(addrs_of(&v).is_empty(), "{v}");
    assert!(v["refresh_in"].as_u64().is_some(), "{v}");
    let text = resolv(&lab);
    assert!(text.contains(&format!("nameserver {DNS6}")), "{text}");
}

/// Debian's own /sbin/dhclient-script configures the address (BOUND6: `ip -6 addr add`) when
/// dhcpc runs it as dhclient does, and takes it off at RELEASE6.
#[test]
fn debian_dhclient_script_configures_the_address() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    lab.start_dnsmasq6(&[]);
    netns_dhcp_dir(&lab, &lab.dir.join("hooks.log"));
    let mut d = start_with_dhclient_script(&lab, "dhcpc6", &["-6"]);
    let v = wait6(&lab, BIND, "bound", bound);
    let a = addrs_of(&v)[0];
    assert!(
        wait_for(Duration::from_secs(5), || holds_global(&lab).contains(&a)),
        "the script put {a} on: {:?}",
        lab.client_addrs6()
    );
    release6(&lab, &mut d);
    assert!(!holds_global(&lab).contains(&a), "RELEASE6 took it off");
    d.kill();
}

/// With only the DHCPv6 unit's privileges (an unprivileged user with CAP_NET_ADMIN and
/// CAP_NET_BIND_SERVICE, no CAP_NET_RAW: dhcpc6@.service), `dhcpc -6 -1` binds.
#[test]
fn binds_with_the_dhcpv6_units_capabilities_only() {
    let mut lab = Lab::new6();
    lab.set_client_dad(false);
    lab.start_dnsmasq6(&[]);
    for d in ["run", "lease"] {
        let p = lab.dir.join(d);
        std::fs::create_dir_all(&p).unwrap();
        sh(
            "chown",
            &[
                "65534:65534",
                p.to_str().unwrap(),
                lab.dir.to_str().unwrap(),
            ],
        );
    }
    let setpriv = require_program(
        "setpriv",
        "run the tests with `sudo scripts/test`, which installs it (package util-linux)",
    );
    let caps = "+net_admin,+net_bind_service";
    let mut cmd = lab.client_command(setpriv);
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(format!("--inh-caps={caps}"))
        .arg(format!("--ambient-caps={caps}"))
        .arg("--bounding-set=-all,+net_admin,+net_bind_service")
        .arg(lab.dhcpc_copy())
        .args(lab.dhcpc_dir_args())
        .args(["-6", "-1", "-t", "15", CLIENT_IF])
        .env_remove("DHCPC_LOG");
    let out = run_with_deadline(cmd, DHCPC_DEADLINE);
    assert_no_panic(&out);
    assert_exit(&out, 0);
    let a: Ipv6Addr = stdout(&out)
        .split_whitespace()
        .find_map(|w| w.strip_suffix("/128,")?.parse().ok())
        .unwrap_or_else(|| panic!("no address printed: {}", describe(&out)));
    assert_holds(&lab, a);
}

/// `--follow-ra` against dnsmasq's router advertisements: with M set (a DHCPv6 range with
/// `--enable-ra`), an address; with O alone (`ra-stateless`), the options and no address;
/// with neither (`ra-only`), no DHCPv6 at all, the client waiting for an advertisement that
/// asks for it, while SLAAC gives the host its address.
#[test]
fn follow_ra_takes_the_mode_the_router_says() {
    for (mode, want) in [
        (Dnsmasq6Mode::StatefulWithRa, "address"),
        (Dnsmasq6Mode::RaStateless, "options"),
        (Dnsmasq6Mode::RaOnly, "nothing"),
    ] {
        let mut lab = Lab::new6();
        lab.set_client_dad(false);
        lab.start_dnsmasq6_mode(mode, &[]);
        let _d = Daemon::start(&lab, "dhcpc6", &["-6", "--follow-ra"], &[CLIENT_IF]);
        match want {
            "address" => {
                let v = wait6(&lab, BIND, "bound", bound);
                assert!(in_pool6(addrs_of(&v)[0]), "{v}");
            }
            "options" => {
                let v = wait6(&lab, BIND, "informed", |v| {
                    v["dns"].as_array().is_some_and(|d| !d.is_empty())
                });
                assert!(addrs_of(&v).is_empty(), "{v}");
                assert!(v["refresh_in"].as_u64().is_some(), "stateless: {v}");
            }
            _ => {
                // The advertisement has come once SLAAC made an address of its prefix.
                assert!(
                    wait_for(BIND, || holds_global(&lab)
                        .iter()
                        .any(|a| a.segments()[..4] == [0x2001, 0xdb8, 1, 0])),
                    "no SLAAC address: {:?}",
                    lab.client_addrs6()
                );
                let v = wait6(&lab, Duration::from_secs(5), "waiting for an RA", |_| true);
                assert_eq!(v["state"], "WAITING-FOR-RA", "{v}");
                assert!(!lab.server_log("dnsmasq6").contains("SOLICIT"));
            }
        }
    }
}
