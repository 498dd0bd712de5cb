//! The DHCPv6 side's contact with the system, in a lab (dnsmasq serving DHCPv6 on the server's
//! side, 2001:db8:1::/64): the socket (`shell::port6`) sends a SOLICIT from the client's
//! link-local address to ff02::1:2 and receives dnsmasq's ADVERTISE; rtnetlink
//! (`shell::netlink6`) puts an address on as a /128 with its preferred and valid lifetimes,
//! adds and removes a delegated prefix's unreachable route, and reports duplicate address
//! detection's outcome (tentative, then ready; failed for an address the server holds).
//!
//! The library code runs in the client's network namespace: a thread that has joined it
//! (setns) runs a runtime of its own there.
//!
//! Root tier: needs root and dnsmasq (`sudo scripts/test` installs it).

mod common;

use common::*;
use dhcpc::shell::netlink::Netlink;
use dhcpc::shell::port6::Port6;
use dhcproto::v6::{DhcpOption, DhcpOptions, Message, MessageType, OptionCode, IANA, ORO};
use dhcproto::{Decodable, Decoder, Encodable};
use std::net::Ipv6Addr;
use std::time::Duration;

const SERVER_ADDR: &str = "2001:db8:1::1";
const DELEGATED: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0, 0, 0, 0, 0), 56);

/// A lab whose two ends speak IPv6 (common/lab6.rs): the server's end holds 2001:db8:1::1/64
/// (no DAD) and runs dnsmasq with a DHCPv6 range; the client's end keeps duplicate address
/// detection.
fn v6_lab() -> Lab {
    let mut lab = Lab::new6();
    lab.start_dnsmasq6(&[]);
    lab
}

/// Waits (at most `limit`) until `cond` holds of the interface's IPv6 addresses.
async fn wait_addrs(
    nl: &Netlink,
    index: u32,
    limit: Duration,
    cond: impl Fn(&[dhcpc::shell::netlink6::Addr6]) -> bool,
) -> Vec<dhcpc::shell::netlink6::Addr6> {
    let start = std::time::Instant::now();
    loop {
        let addrs = nl.addresses6(index).await.expect("addresses");
        if cond(&addrs) || start.elapsed() > limit {
            return addrs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn solicit() -> Message {
    let mut m = Message::new(MessageType::Solicit);
    let o = m.opts_mut();
    // A DUID-LL (type 3, hardware type 1) of a made-up MAC.
    o.insert(DhcpOption::ClientId(vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 0x61]));
    o.insert(DhcpOption::ElapsedTime(0));
    o.insert(DhcpOption::IANA(IANA {
        id: 1,
        t1: 0,
        t2: 0,
        opts: DhcpOptions::new(),
    }));
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::DomainNameServers],
    }));
    m
}

#[test]
fn a_solicit_from_the_link_local_address_brings_an_advertise() {
    let lab = v6_lab();
    let ns = lab.client_ns.clone();
    let advertised = in_namespace(&ns, || {
        current_thread_runtime().block_on(async {
            let nl = Netlink::connect().unwrap();
            let link = nl.link(CLIENT_IF).await.unwrap();
            // The link-local address first passes DAD: tentative, then ready.
            let addrs = wait_addrs(&nl, link.index, Duration::from_secs(10), |a| {
                a.iter().any(|a| a.is_link_local() && a.is_ready())
            })
            .await;
            assert!(
                addrs.iter().any(|a| a.is_link_local() && a.is_ready()),
                "no usable link-local address: {addrs:?}"
            );
            let port = Port6::open(CLIENT_IF, link.index).unwrap();
            let sol = solicit();
            let bytes = sol.to_vec().unwrap();
            let got = tokio::time::timeout(Duration::from_secs(15), async {
                loop {
                    port.send_all(&bytes).await.unwrap();
                    let reply = tokio::time::timeout(Duration::from_secs(2), port.recv()).await;
                    if let Ok(r) = reply {
                        return r.unwrap();
                    }
                }
            })
            .await
            .expect("no ADVERTISE within 15 s");
            let (data, _from) = got;
            let msg = Message::decode(&mut Decoder::new(&data)).unwrap();
            assert_eq!(msg.msg_type(), MessageType::Advertise);
            assert_eq!(msg.xid(), sol.xid());
            let Some(DhcpOption::IANA(ia)) = msg.opts().get(OptionCode::IANA) else {
                panic!("no IA_NA in the ADVERTISE: {msg:?}");
            };
            let Some(DhcpOption::IAAddr(a)) = ia.opts.get(OptionCode::IAAddr) else {
                panic!("no address in the IA_NA: {ia:?}");
            };
            a.addr
        })
    });
    let s = advertised.segments();
    assert_eq!(&s[..4], &[0x2001, 0xdb8, 1, 0], "{advertised}");
    assert!((0x100..=0x1ff).contains(&s[7]), "{advertised}");
}

/// `ip -j -6 addr` of the client's interface: (address, prefix length, preferred, valid).
fn kernel_addrs(lab: &Lab) -> Vec<(String, u64, u64, u64)> {
    let out = lab
        .client_command("ip")
        .args(["-j", "-6", "addr", "show", "dev", CLIENT_IF])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = Vec::new();
    for link in v.as_array().into_iter().flatten() {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            found.push((
                a["local"].as_str().unwrap_or("").to_string(),
                a["prefixlen"].as_u64().unwrap_or(0),
                a["preferred_life_time"].as_u64().unwrap_or(0),
                a["valid_life_time"].as_u64().unwrap_or(0),
            ));
        }
    }
    found
}

#[test]
fn an_address_goes_on_as_a_128_with_its_lifetimes_and_a_prefix_gets_its_unreachable_route() {
    let lab = v6_lab();
    let addr: Ipv6Addr = "2001:db8:1::123".parse().unwrap();
    let ns = lab.client_ns.clone();
    in_namespace(&ns, move || {
        current_thread_runtime().block_on(async {
            let nl = Netlink::connect().unwrap();
            let index = nl.link(CLIENT_IF).await.unwrap().index;
            nl.add_address6(index, addr, 300, 600).await.unwrap();
            let (p, l) = DELEGATED;
            nl.add_unreachable6(p, l, 1024).await.unwrap();
            // Added again: fine, as for a renewal.
            nl.add_unreachable6(p, l, 1024).await.unwrap();
            nl.add_address6(index, addr, 300, 600).await.unwrap();
        })
    });
    let a = kernel_addrs(&lab);
    let ours = a
        .iter()
        .find(|(x, ..)| x == "2001:db8:1::123")
        .unwrap_or_else(|| panic!("{a:?}"));
    assert_eq!(ours.1, 128, "{a:?}");
    assert!((295..=300).contains(&ours.2), "preferred: {a:?}");
    assert!((595..=600).contains(&ours.3), "valid: {a:?}");
    let routes = |lab: &Lab| {
        let out = lab
            .client_command("ip")
            .args(["-6", "route", "show", "type", "unreachable"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let r = routes(&lab);
    assert!(
        r.contains("unreachable 2001:db8:ff00::/56") && r.contains("proto dhcp"),
        "{r}"
    );
    // No on-link prefix route came with the /128.
    let out = lab
        .client_command("ip")
        .args(["-6", "route", "show", "2001:db8:1::/64"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");

    in_namespace(&ns, move || {
        current_thread_runtime().block_on(async {
            let nl = Netlink::connect().unwrap();
            let index = nl.link(CLIENT_IF).await.unwrap().index;
            nl.del_address6(index, addr).await.unwrap();
            nl.del_address6(index, addr).await.unwrap();
            let (p, l) = DELEGATED;
            nl.del_unreachable6(p, l, 1024).await.unwrap();
            nl.del_unreachable6(p, l, 1024).await.unwrap();
        })
    });
    assert!(!kernel_addrs(&lab)
        .iter()
        .any(|(x, ..)| x == "2001:db8:1::123"));
    assert!(!routes(&lab).contains("2001:db8:ff00::/56"));
}

#[test]
fn an_address_another_host_holds_is_reported_as_failing_dad() {
    let lab = v6_lab();
    let ns = lab.client_ns.clone();
    let taken: Ipv6Addr = SERVER_ADDR.parse().unwrap();
    let failed = in_namespace(&ns, move || {
        current_thread_runtime().block_on(async {
            let nl = Netlink::connect().unwrap();
            let index = nl.link(CLIENT_IF).await.unwrap().index;
            // The link-local address ready first, so that DAD runs on a settled link.
            wait_addrs(&nl, index, Duration::from_secs(10), |a| {
                a.iter().any(|a| a.is_link_local() && a.is_ready())
            })
            .await;
            let mut failures = dhcpc::shell::netlink6::watch_dad_failures().unwrap();
            nl.add_address6(index, taken, 300, 600).await.unwrap();
            let got = tokio::time::timeout(Duration::from_secs(10), failures.recv())
                .await
                .expect("no DAD failure reported within 10 s");
            (index, got)
        })
    });
    let (index, got) = failed;
    assert_eq!(got, Some((index, taken)));
    // The kernel took the address off (it has lifetimes): nothing left to remove.
    assert!(!kernel_addrs(&lab).iter().any(|(x, ..)| x == SERVER_ADDR));
}
