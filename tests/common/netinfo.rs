//! What `ip -j` says about addresses, routes and links.

use std::net::Ipv4Addr;

/// One IPv4 address on an interface, from `ip -j addr`.
#[derive(Debug, Clone)]
pub struct AddrInfo {
    pub local: Ipv4Addr,
    pub prefixlen: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// Seconds; 4294967295 means forever.
    pub valid_lft: u64,
    pub preferred_lft: u64,
    pub dynamic: bool,
    pub raw: serde_json::Value,
}

/// One IPv4 route, from `ip -j route`.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// "default" or a prefix such as "198.51.100.0/24".
    pub dst: String,
    pub gateway: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// As `ip` names it: "dhcp", "kernel", "boot", ... (or a number it has no name for).
    pub protocol: Option<String>,
    /// 0 when `ip` shows none.
    pub metric: u32,
    pub prefsrc: Option<Ipv4Addr>,
    pub raw: serde_json::Value,
}

impl RouteInfo {
    pub fn is_default(&self) -> bool {
        self.dst == "default" || self.dst == "0.0.0.0/0"
    }
}

/// The state of one link, from `ip -j link`.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub ifname: String,
    pub mac: String,
    /// Administratively up (the UP flag).
    pub up: bool,
    pub operstate: String,
    pub raw: serde_json::Value,
}

fn json(text: &str, what: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: bad JSON ({e}): {text}"))
}

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|s| s.as_str()).map(str::to_string)
}

fn ip_field(v: &serde_json::Value, key: &str) -> Option<Ipv4Addr> {
    v.get(key)
        .and_then(|s| s.as_str())
        .and_then(|s| s.parse().ok())
}

/// Parses `ip -j -4 addr show` output.
pub fn parse_addrs(text: &str) -> Vec<AddrInfo> {
    let v = json(text, "ip -j addr");
    let mut addrs = Vec::new();
    for link in v.as_array().into_iter().flatten() {
        for a in link
            .get("addr_info")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            if a.get("family").and_then(|f| f.as_str()) != Some("inet") {
                continue;
            }
            let Some(local) = ip_field(a, "local") else {
                continue;
            };
            addrs.push(AddrInfo {
                local,
                prefixlen: a.get("prefixlen").and_then(|p| p.as_u64()).unwrap_or(32) as u8,
                broadcast: ip_field(a, "broadcast"),
                valid_lft: a
                    .get("valid_life_time")
                    .and_then(|t| t.as_u64())
                    .unwrap_or(u64::from(u32::MAX)),
                preferred_lft: a
                    .get("preferred_life_time")
                    .and_then(|t| t.as_u64())
                    .unwrap_or(u64::from(u32::MAX)),
                dynamic: a.get("dynamic").and_then(|d| d.as_bool()).unwrap_or(false),
                raw: a.clone(),
            });
        }
    }
    addrs
}

/// Parses `ip -j -4 route show` output.
pub fn parse_routes(text: &str) -> Vec<RouteInfo> {
    let v = json(text, "ip -j route");
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| RouteInfo {
            dst: str_field(r, "dst").unwrap_or_default(),
            gateway: ip_field(r, "gateway"),
            dev: str_field(r, "dev"),
            protocol: r.get("protocol").map(|p| match p {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            metric: r.get("metric").and_then(|m| m.as_u64()).unwrap_or(0) as u32,
            prefsrc: ip_field(r, "prefsrc"),
            raw: r.clone(),
        })
        .collect()
}

/// Parses `ip -j link show dev X` output (one link).
pub fn parse_link(text: &str) -> LinkInfo {
    let v = json(text, "ip -j link");
    let l = v
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("ip -j link: no link in {text}"));
    LinkInfo {
        ifname: str_field(l, "ifname").unwrap_or_default(),
        mac: str_field(l, "address").unwrap_or_default(),
        up: l
            .get("flags")
            .and_then(|f| f.as_array())
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("UP"))),
        operstate: str_field(l, "operstate").unwrap_or_default(),
        raw: l.clone(),
    }
}
