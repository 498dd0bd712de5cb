//! An interface's state as others see it: the JSON of `dhcpc --status` and the few words of
//! the service manager's `STATUS=`, both read off the core (which holds the one record of
//! what the interface holds) and the carrier the driver last told it.

use crate::core::{Client, Timer};
use crate::lease::{Options, Route};
use crate::shell::apply6::{addresses, left, prefixes};
use crate::time::Instant;
use crate::v6::core::{Client6, Timer6};
use crate::v6::INFINITY;
use serde_json::{json, Map, Value};
use std::net::Ipv4Addr;

/// The interface's state for `dhcpc --status`, as JSON.
pub fn json(name: &str, client: &Client, carrier: bool, now: Instant) -> Value {
    let mut v = json!({
        "interface": name,
        "state": client.state().to_string(),
        "carrier": carrier,
    });
    if let Some(addr) = client.link_local() {
        v["link_local"] = addr.to_string().into();
    }
    let secs_to = |at: Option<Instant>| at.map(|at| at.saturating_since(now).as_secs());
    if let Some(lease) = client.applied() {
        v["address"] = lease.address.to_string().into();
        v["prefix_len"] = lease.prefix_len.into();
        v["server"] = lease.server_id.to_string().into();
        let routes = lease.routes();
        let servers = (&lease.routers[..], &lease.dns[..], &lease.ntp[..]);
        options_json(&mut v, servers, (&lease.domain, &lease.search[..]), &routes);
        v["mtu"] = lease.mtu.into();
        v["options"] = hex_options(&lease.options);
        v["lease_secs"] = lease.lease_secs.into();
        v["renew_in"] = secs_to(lease.renew_at()).into();
        v["rebind_in"] = secs_to(lease.rebind_at()).into();
        v["expires_in"] = secs_to(lease.expires_at()).into();
    }
    if let Some(info) = client.informed() {
        // Options only: the address is the host's own, set by hand.
        v["inform_address"] = info.address.to_string().into();
        v["prefix_len"] = info.prefix_len.into();
        v["server"] = info.server_id.map(|s| s.to_string()).into();
        let routes = info.routes();
        let servers = (&info.routers[..], &info.dns[..], &info.ntp[..]);
        options_json(&mut v, servers, (&info.domain, &info.search[..]), &routes);
        v["mtu"] = info.mtu.into();
        v["options"] = hex_options(&info.options);
        v["refresh_in"] = secs_to(client.timers().get(Timer::Inform)).into();
    }
    v
}

/// The routers, DNS and NTP servers, domain, search list and routes of a lease or of the
/// options of DHCPINFORM, into `v`.
fn options_json(
    v: &mut Value,
    (routers, dns, ntp): (&[Ipv4Addr], &[Ipv4Addr], &[Ipv4Addr]),
    (domain, search): (&Option<String>, &[String]),
    routes: &[Route],
) {
    let texts = |items: &[Ipv4Addr]| -> Value { items.iter().map(|a| a.to_string()).collect() };
    v["routers"] = texts(routers);
    v["dns"] = texts(dns);
    v["domain"] = domain.clone().into();
    v["search"] = search.to_vec().into();
    v["routes"] = routes.iter().map(|r| r.to_string()).collect();
    v["ntp"] = texts(ntp);
}

/// Every option the server sent, by code, as hex.
fn hex_options(options: &Options) -> Value {
    let map: Map<String, Value> = options
        .iter()
        .map(|(code, data)| {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            (code.to_string(), hex.into())
        })
        .collect();
    map.into()
}

/// An interface's DHCPv6 state for `dhcpc --status`, as JSON: `"protocol": "dhcpv6"`, the
/// addresses and delegated prefixes with what is left of their lifetimes, the options, the
/// server, and the timers.
pub fn json6(name: &str, client: &Client6, carrier: bool, now: Instant) -> Value {
    let mut v = json!({
        "interface": name,
        "protocol": "dhcpv6",
        "state": client.state().to_string(),
        "carrier": carrier,
    });
    let secs_to = |at: Option<Instant>| at.map(|at| at.saturating_since(now).as_secs());
    let Some(lease) = client.lease() else {
        return v;
    };
    let life = |secs: u32| -> Value {
        match secs {
            INFINITY => "infinite".into(),
            s => left(s, lease.start, now).into(),
        }
    };
    let addrs: Vec<Value> = addresses(lease)
        .map(|a| json!({"address": a.addr.to_string(), "preferred": life(a.preferred), "valid": life(a.valid)}))
        .collect();
    let prefixes: Vec<Value> = prefixes(lease)
        .map(|p| json!({"prefix": format!("{}/{}", p.prefix, p.len), "preferred": life(p.preferred), "valid": life(p.valid)}))
        .collect();
    if let Some(first) = addresses(lease).next() {
        v["address"] = first.addr.to_string().into();
        v["prefix_len"] = 128.into();
    }
    v["addresses"] = addrs.into();
    v["prefixes"] = prefixes.into();
    let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
    v["server_id"] = hex(&lease.server_id).into();
    v["server"] = lease.server_addr.map(|a| a.to_string()).into();
    v["dns"] = lease.dns.iter().map(|a| a.to_string()).collect();
    v["search"] = lease.search.clone().into();
    v["ntp"] = lease.ntp.clone().into();
    v["sntp"] = lease.sntp.iter().map(|a| a.to_string()).collect();
    let options: Map<String, Value> = lease
        .options
        .iter()
        .map(|(code, data)| (code.to_string(), hex(data).into()))
        .collect();
    v["options"] = options.into();
    let timers = client.timers();
    v["renew_in"] = secs_to(timers.get(Timer6::Renew)).into();
    v["rebind_in"] = secs_to(timers.get(Timer6::Rebind)).into();
    v["expires_in"] = secs_to(timers.get(Timer6::Expire)).into();
    if client.config().is_stateless() {
        v["refresh_in"] = secs_to(timers.get(Timer6::Refresh)).into();
    }
    v
}

/// The interface's DHCPv6 state in a few words, for the service manager.
pub fn line6(client: &Client6) -> String {
    let state = client.state();
    match client.lease() {
        Some(l) => format!("DHCPv6 {state} {l}"),
        None => format!("DHCPv6 {state}"),
    }
}

/// The state of an interface no driver runs yet, because it is not there.
pub fn missing(name: &str) -> Value {
    json!({"interface": name, "state": "MISSING"})
}

/// The interface's state in a few words, for the service manager: `BOUND
/// 198.51.100.10/24`, `SELECTING`, `SELECTING, link-local 169.254.7.9`.
pub fn line(client: &Client) -> String {
    let state = client.state();
    if let Some(i) = client.informed() {
        return format!("{state} options for {}/{}", i.address, i.prefix_len);
    }
    match (client.lease(), client.link_local()) {
        (Some(l), _) => format!("{state} {}/{}", l.address, l.prefix_len),
        (None, Some(ll)) => format!("{state}, link-local {ll}"),
        (None, None) => state.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;

    #[test]
    fn a_client_with_no_lease_shows_its_state_and_carrier_only() {
        let client = Client::new(Config::new([2, 0, 0, 0, 0, 1]), 1);
        let v = json("eth0", &client, false, Instant::ZERO);
        assert_eq!(v["interface"], "eth0");
        assert_eq!(v["state"], client.state().to_string());
        assert_eq!(v["carrier"], false);
        assert!(v.get("address").is_none());
        assert_eq!(line(&client), client.state().to_string());
        assert_eq!(missing("eth1")["state"], "MISSING");
    }
}
