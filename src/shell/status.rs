//! An interface's state as others see it: the JSON of `dhcpc --status` and the few words of
//! the service manager's `STATUS=`, both read off the core (which holds the one record of
//! what the interface holds) and the carrier the driver last told it.

use crate::core::Client;
use crate::time::Instant;
use serde_json::{json, Map, Value};

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
    if let Some(lease) = client.applied() {
        let secs_to = |at: Option<Instant>| at.map(|at| at.saturating_since(now).as_secs());
        let texts = |items: &[std::net::Ipv4Addr]| -> Value {
            items.iter().map(|a| a.to_string()).collect()
        };
        v["address"] = lease.address.to_string().into();
        v["prefix_len"] = lease.prefix_len.into();
        v["server"] = lease.server_id.to_string().into();
        v["routers"] = texts(&lease.routers);
        v["dns"] = texts(&lease.dns);
        v["domain"] = lease.domain.clone().into();
        v["search"] = lease.search.clone().into();
        v["routes"] = lease.routes().iter().map(|r| r.to_string()).collect();
        v["mtu"] = lease.mtu.into();
        v["ntp"] = texts(&lease.ntp);
        // Every option the server sent, by code, as hex.
        let options: Map<String, Value> = lease
            .options
            .iter()
            .map(|(code, data)| {
                let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
                (code.to_string(), hex.into())
            })
            .collect();
        v["options"] = options.into();
        v["lease_secs"] = lease.lease_secs.into();
        v["renew_in"] = secs_to(lease.renew_at()).into();
        v["rebind_in"] = secs_to(lease.rebind_at()).into();
        v["expires_in"] = secs_to(lease.expires_at()).into();
    }
    v
}

/// The state of an interface no driver runs yet, because it is not there.
pub fn missing(name: &str) -> Value {
    json!({"interface": name, "state": "MISSING"})
}

/// The interface's state in a few words, for the service manager: `BOUND
/// 198.51.100.10/24`, `SELECTING`, `SELECTING, link-local 169.254.7.9`.
pub fn line(client: &Client) -> String {
    let state = client.state();
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
