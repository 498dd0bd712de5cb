//! IPv6 in the lab, for DHCPv6 (issue 20): both ends of the veth speak IPv6, the server's end
//! holds [`SERVER6`] (2001:db8:1::1/64, no DAD), and real DHCPv6 servers run in the server
//! namespace: dnsmasq (stateful, stateless, RA only), Kea (addresses and delegated prefixes,
//! lifetimes of a few seconds) and ISC dhcpd -6. A relay lab puts ISC dhcrelay -6 between the
//! client's link (2001:db8:1::/64) and the server's (2001:db8:2::/64).
//!
//! Every server the lab starts is tracked by the [`Lab`] (killed with it, its log shown when a
//! test fails) and started with its files in the lab's dir; each start waits for the server's
//! "ready" log line. Every server gives addresses from [`POOL6`] and prefixes from
//! [`PD_POOL6`], names [`DNS6`] as DNS server and `<server>.test` as search domain (dnsmasq.test,
//! kea.test, dhcpd.test).
//!
//! What happens on the client's side is looked at with [`Lab::client_addrs6`] and
//! [`Lab::client_routes6`] (`ip -j -6`); [`Lab::client_exchange6`] sends a hand-built message
//! from the client's port 546 with the crate's `Port6` and returns the answer.

use super::{require_program, sh, wait_for, Lab, CLIENT_IF, SERVER_IF};
use dhcpc::shell::port6::Port6;
use dhcproto::v6::{DhcpOption, DhcpOptions, Message, MessageType, OptionCode, IANA, IAPD, ORO};
use dhcproto::{Decodable, Decoder, Encodable};
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::PathBuf;
use std::time::Duration;

/// The client's link: the subnet every server serves.
pub const SUBNET6: &str = "2001:db8:1::/64";
/// The server's address on the client's link (in a relay lab, the relay's): 2001:db8:1::1/64,
/// added without DAD.
pub const SERVER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
/// The address pool of every server: 2001:db8:1::100 to 2001:db8:1::1ff.
pub const POOL6: (Ipv6Addr, Ipv6Addr) = (
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x1ff),
);
/// Where delegated prefixes come from: /56s ([`PD_LEN6`]) inside 2001:db8:ff00::/40 (Kea
/// delegates from all of it, dhcpd from 2001:db8:ff00:: to 2001:db8:ff00:ff00::).
pub const PD_POOL6: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0, 0, 0, 0, 0), 40);
/// The length of every delegated prefix.
pub const PD_LEN6: u8 = 56;
/// The DNS server every server names (option 23).
pub const DNS6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53);
/// Relay lab: the server's address on its own link, 2001:db8:2::/64 (where dhcrelay sends).
pub const RELAY_SERVER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);
/// Relay lab: the relay's address on the server's link.
pub const RELAY_UPPER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2);
/// Relay lab: the relay's interface on the client's link (it holds [`SERVER6`]).
pub const RELAY_LOWER_IF: &str = "rc";
/// Relay lab: the relay's interface on the server's link.
pub const RELAY_UPPER_IF: &str = "rs";
/// A DUID-LL (type 3, Ethernet) of a made-up MAC, for hand-built client messages.
pub const CLIENT_DUID6: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 0x61];

/// How long a link-local address may take to pass DAD.
const LINK_LOCAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `a` is in [`POOL6`].
pub fn in_pool6(a: Ipv6Addr) -> bool {
    (POOL6.0..=POOL6.1).contains(&a)
}

/// Whether `prefix/len` is a delegated prefix from [`PD_POOL6`].
pub fn in_pd_pool6(prefix: Ipv6Addr, len: u8) -> bool {
    let bits = u128::from(prefix);
    let pool = u128::from(PD_POOL6.0);
    let mask = !0u128 << (128 - u32::from(PD_POOL6.1));
    len == PD_LEN6 && bits & mask == pool && bits & !(!0u128 << (128 - u32::from(len))) == 0
}

/// The modes of dnsmasq's DHCPv6 and router advertisements ([`Lab::start_dnsmasq6_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dnsmasq6Mode {
    /// Addresses from [`POOL6`] (IA_NA), no router advertisements.
    Stateful,
    /// Addresses from [`POOL6`], and router advertisements with the M flag.
    StatefulWithRa,
    /// Router advertisements with the O flag (SLAAC) and stateless DHCPv6: options only,
    /// answers to INFORMATION-REQUEST.
    RaStateless,
    /// Router advertisements only (SLAAC, neither M nor O): no DHCPv6 at all.
    RaOnly,
}

/// What Kea is configured with ([`Lab::start_kea6_with`]); lifetimes in seconds.
#[derive(Debug, Clone)]
pub struct Kea6Config {
    pub valid: u32,
    pub preferred: u32,
    /// T1 (renew-timer).
    pub renew: u32,
    /// T2 (rebind-timer).
    pub rebind: u32,
    /// Delegate /56s from [`PD_POOL6`] (a `pd-pools` entry).
    pub pd: bool,
    /// Answer a SOLICIT with rapid commit (option 14) with a REPLY.
    pub rapid_commit: bool,
}

impl Default for Kea6Config {
    fn default() -> Self {
        Kea6Config {
            valid: 600,
            preferred: 450,
            renew: 150,
            rebind: 300,
            pd: false,
            rapid_commit: false,
        }
    }
}

/// One row of Kea's memfile lease CSV ([`Lab::kea6_leases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kea6Lease {
    /// The address, or the delegated prefix (with `prefix_len`).
    pub address: Ipv6Addr,
    /// The client's DUID as Kea writes it: hex bytes joined by ':'.
    pub duid: String,
    pub valid: u32,
    pub preferred: u32,
    /// Unix time the lease expires.
    pub expire: u64,
    /// 0 an address (IA_NA), 1 a temporary address, 2 a delegated prefix (IA_PD).
    pub lease_type: u8,
    pub iaid: u32,
    /// 128 for an address.
    pub prefix_len: u8,
    /// 0 default (in use), 1 declined, 2 expired and reclaimed.
    pub state: u32,
}

/// What ISC dhcpd -6 is configured with ([`Lab::start_dhcpd6_with`]); lifetimes in seconds.
#[derive(Debug, Clone)]
pub struct Dhcpd6Config {
    /// default-lease-time and max-lease-time: the valid lifetime.
    pub lease: u32,
    /// preferred-lifetime.
    pub preferred: u32,
    /// T1 and T2 (`option dhcp-renewal-time`, `dhcp-rebinding-time`); dhcpd's own choice
    /// when `None`.
    pub renew: Option<u32>,
    pub rebind: Option<u32>,
    /// Delegate /56s (prefix6 2001:db8:ff00:: 2001:db8:ff00:ff00:: /56).
    pub pd: bool,
    /// Answer a SOLICIT with rapid commit with a REPLY (`option dhcp6.rapid-commit`).
    pub rapid_commit: bool,
}

impl Default for Dhcpd6Config {
    fn default() -> Self {
        Dhcpd6Config {
            lease: 600,
            preferred: 450,
            renew: None,
            rebind: None,
            pd: false,
            rapid_commit: false,
        }
    }
}

/// One lease in dhcpd's lease file ([`Lab::dhcpd6_bindings`]): its latest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcpd6Binding {
    /// "ia-na" or "ia-pd".
    pub kind: String,
    /// An address ("2001:db8:1::123") or a prefix ("2001:db8:ff00:100::/56").
    pub what: String,
    /// "active", "expired", "released", "abandoned", ...
    pub state: String,
}

/// One IPv6 address on an interface, from `ip -j -6 addr`.
#[derive(Debug, Clone)]
pub struct Addr6Info {
    pub local: Ipv6Addr,
    pub prefixlen: u8,
    /// Seconds; 4294967295 means forever.
    pub valid_lft: u64,
    pub preferred_lft: u64,
    /// DAD has not finished.
    pub tentative: bool,
    /// DAD found the address taken.
    pub dadfailed: bool,
    /// Preferred lifetime over (the kernel's "deprecated").
    pub deprecated: bool,
    /// Added without DAD (`nodad`).
    pub nodad: bool,
    pub raw: serde_json::Value,
}

impl Addr6Info {
    pub fn is_link_local(&self) -> bool {
        self.local.segments()[0] & 0xffc0 == 0xfe80
    }
}

/// One IPv6 route, from `ip -j -6 route`.
#[derive(Debug, Clone)]
pub struct Route6Info {
    /// "default" or a prefix such as "2001:db8:ff00::/56".
    pub dst: String,
    /// "unicast" unless `ip` shows another ("unreachable", "blackhole", ...).
    pub kind: String,
    pub gateway: Option<Ipv6Addr>,
    pub dev: Option<String>,
    /// As `ip` names it: "dhcp", "kernel", "ra", ... (or a number it has no name for).
    pub protocol: Option<String>,
    pub metric: u32,
    pub raw: serde_json::Value,
}

/// Parses `ip -j -6 addr show` output.
pub fn parse_addrs6(text: &str) -> Vec<Addr6Info> {
    let v: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("ip -j -6 addr: bad JSON ({e}): {text}"));
    let flag = |a: &serde_json::Value, k: &str| a.get(k).and_then(|f| f.as_bool()) == Some(true);
    let mut addrs = Vec::new();
    for link in v.as_array().into_iter().flatten() {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            if a.get("family").and_then(|f| f.as_str()) != Some("inet6") {
                continue;
            }
            let Some(local) = a["local"].as_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let lft = |k: &str| a[k].as_u64().unwrap_or(u64::from(u32::MAX));
            addrs.push(Addr6Info {
                local,
                prefixlen: a["prefixlen"].as_u64().unwrap_or(128) as u8,
                valid_lft: lft("valid_life_time"),
                preferred_lft: lft("preferred_life_time"),
                tentative: flag(a, "tentative"),
                dadfailed: flag(a, "dadfailed"),
                deprecated: flag(a, "deprecated"),
                nodad: flag(a, "nodad"),
                raw: a.clone(),
            });
        }
    }
    addrs
}

/// Parses `ip -j -6 route show` output.
pub fn parse_routes6(text: &str) -> Vec<Route6Info> {
    let v: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("ip -j -6 route: bad JSON ({e}): {text}"));
    let s = |r: &serde_json::Value, k: &str| r.get(k).and_then(|x| x.as_str()).map(String::from);
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| Route6Info {
            dst: s(r, "dst").unwrap_or_default(),
            kind: s(r, "type").unwrap_or_else(|| "unicast".into()),
            gateway: s(r, "gateway").and_then(|g| g.parse().ok()),
            dev: s(r, "dev"),
            protocol: r.get("protocol").map(|p| match p {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            metric: r.get("metric").and_then(|m| m.as_u64()).unwrap_or(0) as u32,
            raw: r.clone(),
        })
        .collect()
}

/// Sets sysctl `key=value` in namespace `ns`.
fn sysctl(ns: &str, key: &str, value: &str) {
    sh(
        "ip",
        &[
            "netns",
            "exec",
            ns,
            "sysctl",
            "-qw",
            &format!("{key}={value}"),
        ],
    );
}

/// The IPv6 addresses of `ifname` in namespace `ns`.
pub fn addrs6_in(ns: &str, ifname: &str) -> Vec<Addr6Info> {
    parse_addrs6(&sh(
        "ip",
        &["-n", ns, "-j", "-6", "addr", "show", "dev", ifname],
    ))
}

/// Turns IPv6 on in namespace `ns` (all, default) and on `ifname`, with DAD on that interface
/// on or off.
pub fn enable_ipv6_in(ns: &str, ifname: &str, dad: bool) {
    for key in ["all", "default"] {
        sysctl(ns, &format!("net.ipv6.conf.{key}.disable_ipv6"), "0");
    }
    let dad = if dad { "1" } else { "0" };
    sysctl(ns, &format!("net.ipv6.conf.{ifname}.accept_dad"), dad);
    sysctl(ns, &format!("net.ipv6.conf.{ifname}.disable_ipv6"), "0");
}

/// Waits (at most 10 s) until `ifname` in `ns` has a link-local address that passed DAD;
/// fails the test if it does not, or if DAD failed.
pub fn wait_link_local(ns: &str, ifname: &str) {
    let mut last = Vec::new();
    let ready = wait_for(LINK_LOCAL_TIMEOUT, || {
        last = addrs6_in(ns, ifname);
        last.iter()
            .any(|a| a.is_link_local() && !a.tentative && !a.dadfailed)
    });
    assert!(
        ready,
        "{ns}/{ifname}: no usable link-local address within {LINK_LOCAL_TIMEOUT:?}: {last:?}"
    );
}

/// Adds `addr` (with prefix) to `ifname` in `ns` without DAD.
fn add_addr_nodad(ns: &str, ifname: &str, addr: &str) {
    sh(
        "ip",
        &["-n", ns, "-6", "addr", "add", addr, "dev", ifname, "nodad"],
    );
}

/// Runs `f` in a thread of its own that has joined network namespace `ns` (setns), and returns
/// what it returns; a panic in `f` fails the caller with the same message. Sockets made there
/// stay in `ns` when used from other threads.
pub fn in_namespace<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A tokio runtime for one thread (the one [`in_namespace`] gives), with I/O and time.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A SOLICIT from [`CLIENT_DUID6`] with an empty IA_NA of IAID `na` and an empty IA_PD of
/// IAID `pd` (each when given), Elapsed Time 0, and an ORO asking for DNS servers and the
/// domain search list. Its xid is random.
pub fn solicit6(na: Option<u32>, pd: Option<u32>) -> Message {
    let mut m = Message::new(MessageType::Solicit);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(CLIENT_DUID6.to_vec()));
    o.insert(DhcpOption::ElapsedTime(0));
    if let Some(id) = na {
        o.insert(DhcpOption::IANA(IANA {
            id,
            t1: 0,
            t2: 0,
            opts: DhcpOptions::new(),
        }));
    }
    if let Some(id) = pd {
        o.insert(DhcpOption::IAPD(IAPD {
            id,
            t1: 0,
            t2: 0,
            opts: DhcpOptions::new(),
        }));
    }
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::DomainNameServers, OptionCode::DomainSearchList],
    }));
    m
}

/// An INFORMATION-REQUEST from [`CLIENT_DUID6`] asking for DNS servers and the domain search
/// list.
pub fn information_request6() -> Message {
    let mut m = Message::new(MessageType::InformationRequest);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(CLIENT_DUID6.to_vec()));
    o.insert(DhcpOption::ElapsedTime(0));
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::DomainNameServers, OptionCode::DomainSearchList],
    }));
    m
}

/// A REQUEST from [`CLIENT_DUID6`] for what `advertise` offered: its Server Identifier and
/// its IA_NA and IA_PD as they came, Elapsed Time 0, the same ORO as [`solicit6`].
pub fn request6(advertise: &Message) -> Message {
    let mut m = Message::new(MessageType::Request);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(CLIENT_DUID6.to_vec()));
    let server = advertise
        .opts()
        .get(OptionCode::ServerId)
        .cloned()
        .unwrap_or_else(|| panic!("no Server Identifier in {advertise:?}"));
    o.insert(server);
    o.insert(DhcpOption::ElapsedTime(0));
    for code in [OptionCode::IANA, OptionCode::IAPD] {
        for ia in advertise.opts().get_all(code).into_iter().flatten() {
            o.insert(ia.clone());
        }
    }
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::DomainNameServers, OptionCode::DomainSearchList],
    }));
    m
}

/// The DNS servers (option 23) in `msg`.
pub fn dns_servers6(msg: &Message) -> Vec<Ipv6Addr> {
    match msg.opts().get(OptionCode::DomainNameServers) {
        Some(DhcpOption::DomainNameServers(a)) => a.clone(),
        _ => Vec::new(),
    }
}

/// The top-level status code of `msg` and its message, if it has one.
pub fn status6(msg: &Message) -> Option<(u16, String)> {
    match msg.opts().get(OptionCode::StatusCode) {
        Some(DhcpOption::StatusCode(s)) => Some((u16::from(s.status), s.msg.clone())),
        _ => None,
    }
}

/// An IA's (IAID, T1, T2).
pub type IaTimes = (u32, u32, u32);

/// The (IAID, T1, T2) of the first IA_NA and the first IA_PD of `msg`.
pub fn ia_times6(msg: &Message) -> (Option<IaTimes>, Option<IaTimes>) {
    let na = match msg.opts().get(OptionCode::IANA) {
        Some(DhcpOption::IANA(ia)) => Some((ia.id, ia.t1, ia.t2)),
        _ => None,
    };
    let pd = match msg.opts().get(OptionCode::IAPD) {
        Some(DhcpOption::IAPD(ia)) => Some((ia.id, ia.t1, ia.t2)),
        _ => None,
    };
    (na, pd)
}

/// The addresses of the first IA_NA of `msg`: (address, preferred, valid).
pub fn ia_na_addrs(msg: &Message) -> Vec<(Ipv6Addr, u32, u32)> {
    let Some(DhcpOption::IANA(ia)) = msg.opts().get(OptionCode::IANA) else {
        return Vec::new();
    };
    ia.opts
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IAAddr(a) => Some((a.addr, a.preferred_life, a.valid_life)),
            _ => None,
        })
        .collect()
}

/// The prefixes of the first IA_PD of `msg`: (prefix, length, preferred, valid).
pub fn ia_pd_prefixes(msg: &Message) -> Vec<(Ipv6Addr, u8, u32, u32)> {
    let Some(DhcpOption::IAPD(ia)) = msg.opts().get(OptionCode::IAPD) else {
        return Vec::new();
    };
    ia.opts
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IAPrefix(p) => Some((
                p.prefix_ip,
                p.prefix_len,
                p.preferred_lifetime,
                p.valid_lifetime,
            )),
            _ => None,
        })
        .collect()
}

impl Lab {
    /// A lab whose two ends speak IPv6 ([`Lab::new`], then [`Lab::enable_ipv6`]).
    pub fn new6() -> Lab {
        let lab = Lab::new();
        lab.enable_ipv6();
        lab
    }

    /// Turns IPv6 on at both ends of the veth: the server's end without DAD, holding
    /// [`SERVER6`]/64 (nodad); the client's end with DAD (see [`Lab::set_client_dad`]). Returns
    /// once both ends have a link-local address that passed DAD.
    pub fn enable_ipv6(&self) {
        assert!(
            self.relay_ns.is_none(),
            "a relay lab (Lab::with_relay6) has IPv6 on already"
        );
        enable_ipv6_in(&self.server_ns, self.server_if, false);
        enable_ipv6_in(&self.client_ns, CLIENT_IF, true);
        add_addr_nodad(&self.server_ns, self.server_if, &format!("{SERVER6}/64"));
        wait_link_local(&self.server_ns, self.server_if);
        wait_link_local(&self.client_ns, CLIENT_IF);
    }

    /// Duplicate address detection on the client's veth on or off, for the addresses added
    /// from now on (off: a leased address is usable at once, never tentative).
    pub fn set_client_dad(&self, on: bool) {
        let v = if on { "1" } else { "0" };
        sysctl(
            &self.client_ns,
            &format!("net.ipv6.conf.{CLIENT_IF}.accept_dad"),
            v,
        );
    }

    /// A DHCPv6 relay lab: client `vc` <-> `rc` relay `rs` <-> `vs` server, three namespaces
    /// (the relay's is [`Lab::relay_ns`]). The relay holds [`SERVER6`]/64 on `rc` (the client's
    /// link, 2001:db8:1::/64) and [`RELAY_UPPER6`]/64 on `rs`; the server holds
    /// [`RELAY_SERVER6`]/64 on `vs` and routes 2001:db8:1::/64 via the relay. ISC dhcrelay -6
    /// runs in the relay namespace (`-l rc -u 2001:db8:2::1%rs`). The servers started in this
    /// lab ([`Lab::start_kea6`], [`Lab::start_dhcpd6`]) serve the client's subnet through it.
    /// IPv6 is on (client DAD on) and link-local addresses are ready when this returns.
    pub fn with_relay6() -> Lab {
        Lab::with_relay6_args(&[])
    }

    /// [`Lab::with_relay6`], with `extra` arguments for dhcrelay (e.g. "-I" for an
    /// Interface-ID option).
    pub fn with_relay6_args(extra: &[&str]) -> Lab {
        let dhcrelay = require_program(
            "dhcrelay",
            "install isc-dhcp-relay (sudo scripts/test does, without starting its service)",
        );
        let mut lab = Lab::new();
        let (c, s) = (lab.client_ns.clone(), lab.server_ns.clone());
        // The lab's own veth between client and server is taken away (both ends go).
        sh("ip", &["-n", &c, "link", "del", CLIENT_IF]);
        let r = lab.add_namespace("r");
        lab.relay_ns = Some(r.clone());
        lab.veth(&c, CLIENT_IF, &r, RELAY_LOWER_IF);
        lab.veth(&r, RELAY_UPPER_IF, &s, SERVER_IF);
        enable_ipv6_in(&c, CLIENT_IF, true);
        enable_ipv6_in(&r, RELAY_LOWER_IF, false);
        enable_ipv6_in(&r, RELAY_UPPER_IF, false);
        enable_ipv6_in(&s, SERVER_IF, false);
        sysctl(&r, "net.ipv6.conf.all.forwarding", "1");
        add_addr_nodad(&r, RELAY_LOWER_IF, &format!("{SERVER6}/64"));
        add_addr_nodad(&r, RELAY_UPPER_IF, &format!("{RELAY_UPPER6}/64"));
        add_addr_nodad(&s, SERVER_IF, &format!("{RELAY_SERVER6}/64"));
        sh(
            "ip",
            &[
                "-n",
                &s,
                "-6",
                "route",
                "add",
                SUBNET6,
                "via",
                &RELAY_UPPER6.to_string(),
            ],
        );
        for (ns, ifname) in [
            (&c, CLIENT_IF),
            (&r, RELAY_LOWER_IF),
            (&r, RELAY_UPPER_IF),
            (&s, SERVER_IF),
        ] {
            wait_link_local(ns, ifname);
        }
        let mut args: Vec<String> = vec![
            "-6".into(),
            "-d".into(),
            "-pf".into(),
            lab.dir.join("dhcrelay6.pid").display().to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend([
            "-l".into(),
            RELAY_LOWER_IF.into(),
            "-u".into(),
            format!("{RELAY_SERVER6}%{RELAY_UPPER_IF}"),
        ]);
        lab.start_server_in(&r, "dhcrelay6", &dhcrelay, &args, "Sending on");
        lab
    }

    /// Everything server `name` (as the lab started it: "dnsmasq6", "kea6", "dhcpd6",
    /// "dhcrelay6", ...) logged so far.
    pub fn server_log(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Path of the lease file [`Lab::start_dnsmasq6`] gives dnsmasq.
    pub fn dnsmasq6_leasefile(&self) -> PathBuf {
        self.dir.join("dnsmasq6.leases")
    }

    /// dnsmasq serving DHCPv6 addresses from [`POOL6`] (2 min leases, dnsmasq's shortest),
    /// DNS server [`DNS6`] and search domain dnsmasq.test, on the server's veth; named
    /// "dnsmasq6" (log `<dir>/dnsmasq6.log`, `--log-dhcp`). `extra` adds arguments. Waits until
    /// its sockets are bound.
    pub fn start_dnsmasq6(&mut self, extra: &[&str]) {
        self.start_dnsmasq6_mode(Dnsmasq6Mode::Stateful, extra);
    }

    /// [`Lab::start_dnsmasq6`] in one of its modes. In [`Dnsmasq6Mode::RaOnly`] it waits until
    /// the first router advertisement went out.
    pub fn start_dnsmasq6_mode(&mut self, mode: Dnsmasq6Mode, extra: &[&str]) {
        assert!(
            self.relay_ns.is_none(),
            "dnsmasq is not set up to serve through the relay"
        );
        let dnsmasq = require_program(
            "dnsmasq",
            "run the tests with `sudo scripts/test`, which installs it (dnsmasq-base)",
        );
        let mut args = vec![
            "--no-daemon".to_string(),
            "--conf-file=/dev/null".into(),
            "--port=0".into(),
            "--bind-interfaces".into(),
            format!("--interface={}", self.server_if),
            "--log-facility=-".into(),
            "--log-dhcp".into(),
            format!("--pid-file={}", self.dir.join("dnsmasq6.pid").display()),
            format!("--dhcp-leasefile={}", self.dnsmasq6_leasefile().display()),
            format!("--dhcp-option=option6:dns-server,[{DNS6}]"),
            "--dhcp-option=option6:domain-search,dnsmasq.test".into(),
        ];
        let range = format!("--dhcp-range={},{},64,2m", POOL6.0, POOL6.1);
        let ready = match mode {
            Dnsmasq6Mode::Stateful => {
                args.push(range);
                "sockets bound"
            }
            Dnsmasq6Mode::StatefulWithRa => {
                args.extend([range, "--enable-ra".into()]);
                "sockets bound"
            }
            Dnsmasq6Mode::RaStateless => {
                args.extend([
                    "--dhcp-range=2001:db8:1::,ra-stateless".into(),
                    "--enable-ra".into(),
                ]);
                "sockets bound"
            }
            Dnsmasq6Mode::RaOnly => {
                args.extend([
                    "--dhcp-range=2001:db8:1::,ra-only".into(),
                    "--enable-ra".into(),
                ]);
                "RTR-ADVERT("
            }
        };
        args.extend(extra.iter().map(|a| a.to_string()));
        self.start_server("dnsmasq6", &dnsmasq, &args, ready);
    }

    /// Path of Kea's memfile lease database (CSV, persisted: every change is a new row).
    pub fn kea6_leasefile(&self) -> PathBuf {
        self.dir.join("kea6-leases.csv")
    }

    /// Path of Kea's control socket (see [`Lab::kea6_command`]).
    pub fn kea6_control_socket(&self) -> PathBuf {
        self.dir.join("kea6.sock")
    }

    /// Kea (kea-dhcp6) with these lifetimes (seconds; a few are fine) and a preferred lifetime
    /// of 3/4 of `valid`, delegating /56s when `with_pd`. See [`Lab::start_kea6_with`].
    pub fn start_kea6(&mut self, valid: u32, renew: u32, rebind: u32, with_pd: bool) {
        self.start_kea6_with(&Kea6Config {
            valid,
            preferred: valid * 3 / 4,
            renew,
            rebind,
            pd: with_pd,
            rapid_commit: false,
        });
    }

    /// Kea (kea-dhcp6) in the server namespace serving 2001:db8:1::/64: addresses from
    /// [`POOL6`], prefixes from [`PD_POOL6`] when `cfg.pd`, DNS server [`DNS6`], search
    /// domain kea.test. On the server's veth directly, or in a relay lab the relayed link (Kea
    /// listens on 2001:db8:2::1 too). Its leases go to [`Lab::kea6_leasefile`]; its pid, lock
    /// and server-id files and its control socket stay in the lab's dir. Named "kea6" (log
    /// `<dir>/kea6.log`, debug level); waits until Kea says DHCP6_STARTED.
    pub fn start_kea6_with(&mut self, cfg: &Kea6Config) {
        let kea = require_program(
            "kea-dhcp6",
            "install kea-dhcp6-server (sudo scripts/test does, without starting its service)",
        );
        let mut subnet = serde_json::json!({
            "id": 1,
            "subnet": SUBNET6,
            "pools": [ { "pool": format!("{} - {}", POOL6.0, POOL6.1) } ],
            "rapid-commit": cfg.rapid_commit,
        });
        if cfg.pd {
            subnet["pd-pools"] = serde_json::json!([ {
                "prefix": PD_POOL6.0.to_string(),
                "prefix-len": PD_POOL6.1,
                "delegated-len": PD_LEN6,
            } ]);
        }
        let interfaces = if self.relay_ns.is_some() {
            // Relayed: the subnet is chosen by the relay's link address; dhcrelay sends to
            // the server's global address, which Kea must listen on as well.
            serde_json::json!([format!("{}/{RELAY_SERVER6}", self.server_if)])
        } else {
            subnet["interface"] = serde_json::json!(self.server_if);
            serde_json::json!([self.server_if])
        };
        let config = serde_json::json!({
            "Dhcp6": {
                "interfaces-config": { "interfaces": interfaces },
                // The server DUID file (not persisted anyway) would go to /var/lib/kea.
                "data-directory": self.dir.display().to_string(),
                "server-id": { "type": "LLT", "persist": false },
                "lease-database": {
                    "type": "memfile",
                    "persist": true,
                    "name": self.kea6_leasefile().display().to_string(),
                    "lfc-interval": 0
                },
                "control-socket": {
                    "socket-type": "unix",
                    "socket-name": self.kea6_control_socket().display().to_string()
                },
                "valid-lifetime": cfg.valid,
                "preferred-lifetime": cfg.preferred,
                "renew-timer": cfg.renew,
                "rebind-timer": cfg.rebind,
                "option-data": [
                    { "name": "dns-servers", "data": DNS6.to_string() },
                    { "name": "domain-search", "data": "kea.test" }
                ],
                "subnet6": [subnet],
                "loggers": [ {
                    "name": "kea-dhcp6",
                    // Flushed at every line, so that the lab sees "ready" and tests see
                    // what happened as it happens.
                    "output_options": [ { "output": "stdout", "flush": true } ],
                    "severity": "DEBUG",
                    "debuglevel": 55
                } ]
            }
        });
        let path = self.dir.join("kea6.json");
        fs::write(&path, config.to_string()).expect("writing the Kea config");
        // Pid and lock files in the lab (not /run/kea), so that parallel labs do not meet.
        let d = self.dir.display().to_string();
        let args = vec![
            format!("KEA_PIDFILE_DIR={d}"),
            format!("KEA_LOCKFILE_DIR={d}"),
            kea.display().to_string(),
            "-c".into(),
            path.display().to_string(),
        ];
        self.start_server("kea6", std::path::Path::new("env"), &args, "DHCP6_STARTED");
    }

    /// Sends Kea `command` (with `arguments`) on its control socket and returns its answer,
    /// e.g. `kea6_command("dhcp-disable", None)` makes it silent, "dhcp-enable" brings it back.
    pub fn kea6_command(
        &self,
        command: &str,
        arguments: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = serde_json::json!({ "command": command });
        if let Some(a) = arguments {
            req["arguments"] = a;
        }
        let path = self.kea6_control_socket();
        let mut s = std::os::unix::net::UnixStream::connect(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(req.to_string().as_bytes())
            .expect("writing to Kea's control socket");
        // Kea answers one JSON document and closes the connection.
        let mut text = String::new();
        s.read_to_string(&mut text)
            .expect("reading Kea's control socket");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("Kea's answer ({e}): {text}"))
    }

    /// Every row of Kea's lease file, in order (a lease's later rows update it: the last row
    /// of an address is its state; valid 0 means released).
    pub fn kea6_leases(&self) -> Vec<Kea6Lease> {
        let text = fs::read_to_string(self.kea6_leasefile()).unwrap_or_default();
        let mut lines = text.lines();
        let Some(header) = lines.next() else {
            return Vec::new();
        };
        let cols: Vec<&str> = header.split(',').collect();
        let col = |name: &str| {
            cols.iter()
                .position(|c| *c == name)
                .unwrap_or_else(|| panic!("no {name} in Kea's lease file header: {header}"))
        };
        let (addr, duid, valid, expire, pref, kind, iaid, plen, state) = (
            col("address"),
            col("duid"),
            col("valid_lifetime"),
            col("expire"),
            col("pref_lifetime"),
            col("lease_type"),
            col("iaid"),
            col("prefix_len"),
            col("state"),
        );
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let n = |i: usize| -> u64 {
                    f.get(i)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| panic!("Kea lease row: field {i}: {l}"))
                };
                Kea6Lease {
                    address: f[addr].parse().unwrap_or_else(|e| panic!("{e}: {l}")),
                    duid: f[duid].to_string(),
                    valid: n(valid) as u32,
                    preferred: n(pref) as u32,
                    expire: n(expire),
                    lease_type: n(kind) as u8,
                    iaid: n(iaid) as u32,
                    prefix_len: n(plen) as u8,
                    state: n(state) as u32,
                }
            })
            .collect()
    }

    /// Path of dhcpd's lease file.
    pub fn dhcpd6_leasefile(&self) -> PathBuf {
        self.dir.join("dhcpd6.leases")
    }

    /// ISC dhcpd -6 with a valid lifetime of `lease` s and a preferred one of `preferred` s,
    /// delegating /56s when `with_pd`. See [`Lab::start_dhcpd6_with`].
    pub fn start_dhcpd6(&mut self, lease: u32, preferred: u32, with_pd: bool) {
        self.start_dhcpd6_with(&Dhcpd6Config {
            lease,
            preferred,
            pd: with_pd,
            ..Dhcpd6Config::default()
        });
    }

    /// ISC dhcpd -6 in the server namespace serving 2001:db8:1::/64: range6 [`POOL6`],
    /// prefix6 2001:db8:ff00:: 2001:db8:ff00:ff00:: /56 when `cfg.pd`, DNS server [`DNS6`],
    /// search domain dhcpd.test; on the server's veth, or in a relay lab through the relay.
    /// Config, lease ([`Lab::dhcpd6_leasefile`]) and pid files in the lab's dir. Named "dhcpd6"
    /// (log `<dir>/dhcpd6.log`); waits until it says "Server starting service.".
    pub fn start_dhcpd6_with(&mut self, cfg: &Dhcpd6Config) {
        let dhcpd = require_program(
            "dhcpd",
            "install isc-dhcp-server (sudo scripts/test does, without starting its service)",
        );
        let mut conf = format!(
            "default-lease-time {l};\nmax-lease-time {l};\npreferred-lifetime {p};\n\
             option dhcp6.name-servers {DNS6};\noption dhcp6.domain-search \"dhcpd.test\";\n",
            l = cfg.lease,
            p = cfg.preferred,
        );
        if let Some(t1) = cfg.renew {
            conf.push_str(&format!("option dhcp-renewal-time {t1};\n"));
        }
        if let Some(t2) = cfg.rebind {
            conf.push_str(&format!("option dhcp-rebinding-time {t2};\n"));
        }
        if cfg.rapid_commit {
            conf.push_str("option dhcp6.rapid-commit;\n");
        }
        if self.relay_ns.is_some() {
            // dhcpd needs a declaration for the subnet of the interface it listens on.
            conf.push_str("subnet6 2001:db8:2::/64 {\n}\n");
        }
        conf.push_str(&format!(
            "subnet6 {SUBNET6} {{\n    range6 {} {};\n",
            POOL6.0, POOL6.1
        ));
        if cfg.pd {
            conf.push_str("    prefix6 2001:db8:ff00:: 2001:db8:ff00:ff00:: /56;\n");
        }
        conf.push_str("}\n");
        let path = self.dir.join("dhcpd6.conf");
        fs::write(&path, conf).expect("writing dhcpd6.conf");
        let leases = self.dhcpd6_leasefile();
        if !leases.exists() {
            fs::write(&leases, "").expect("creating dhcpd6.leases");
        }
        let p = |p: PathBuf| p.display().to_string();
        let args = vec![
            "-6".to_string(),
            "-f".into(),
            "-d".into(),
            "-cf".into(),
            p(path),
            "-lf".into(),
            p(leases),
            "-pf".into(),
            p(self.dir.join("dhcpd6.pid")),
            self.server_if.into(),
        ];
        self.start_server("dhcpd6", &dhcpd, &args, "Server starting service.");
    }

    /// The leases in dhcpd's lease file, each with the state of its latest entry, in the order
    /// first seen.
    pub fn dhcpd6_bindings(&self) -> Vec<Dhcpd6Binding> {
        let text = fs::read_to_string(self.dhcpd6_leasefile()).unwrap_or_default();
        let mut out: Vec<Dhcpd6Binding> = Vec::new();
        let mut kind = String::new();
        let mut current: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with("ia-na ") {
                kind = "ia-na".into();
            } else if line.starts_with("ia-pd ") {
                kind = "ia-pd".into();
            } else if let Some(rest) = line
                .strip_prefix("iaaddr ")
                .or_else(|| line.strip_prefix("iaprefix "))
            {
                current = rest.split_whitespace().next().map(String::from);
            } else if let Some(state) = line.strip_prefix("binding state ") {
                let Some(what) = current.take() else {
                    continue;
                };
                let b = Dhcpd6Binding {
                    kind: kind.clone(),
                    what,
                    state: state.trim_end_matches(';').to_string(),
                };
                match out.iter_mut().find(|o| o.what == b.what) {
                    Some(o) => *o = b,
                    None => out.push(b),
                }
            }
        }
        out
    }

    /// The IPv6 addresses on the client's veth.
    pub fn client_addrs6(&self) -> Vec<Addr6Info> {
        addrs6_in(&self.client_ns, CLIENT_IF)
    }

    /// The IPv6 routes of the client namespace's main table, every type (unreachable too).
    pub fn client_routes6(&self) -> Vec<Route6Info> {
        parse_routes6(&sh(
            "ip",
            &[
                "-n",
                &self.client_ns,
                "-j",
                "-6",
                "route",
                "show",
                "table",
                "main",
            ],
        ))
    }

    /// Sends `msg` from the client's veth with the crate's `Port6` (from the link-local address,
    /// port 546, to ff02::1:2), again each second until an answer with the same xid comes, at
    /// most `limit`; returns the answer and where it came from. Fails the test otherwise.
    /// Nothing else may hold port 546 on the client's veth meanwhile (a dhcpc).
    pub fn client_exchange6(&self, msg: &Message, limit: Duration) -> (Message, SocketAddrV6) {
        let bytes = msg.to_vec().expect("encoding the client's message");
        let (xid, kind) = (msg.xid(), msg.msg_type());
        in_namespace(&self.client_ns, move || {
            current_thread_runtime().block_on(async move {
                let index = nix::net::if_::if_nametoindex(CLIENT_IF).expect("the client's veth");
                let port = Port6::open(CLIENT_IF, index).expect("opening port 546");
                let exchange = async {
                    loop {
                        port.send_all(&bytes).await.expect("sending to ff02::1:2");
                        let again = tokio::time::Instant::now() + Duration::from_secs(1);
                        while let Ok(got) = tokio::time::timeout_at(again, port.recv()).await {
                            let (data, from) = got.expect("receiving on port 546");
                            let Ok(m) = Message::decode(&mut Decoder::new(&data)) else {
                                continue;
                            };
                            if m.xid() == xid {
                                return (m, from);
                            }
                        }
                    }
                };
                tokio::time::timeout(limit, exchange)
                    .await
                    .unwrap_or_else(|_| panic!("no answer to the {kind:?} within {limit:?}"))
            })
        })
    }
}
