//! The environment of a hook script, as dhclient-script(8) gets it from ISC dhclient: one
//! `reason`, the `interface`, and the lease's options as `new_*` (and the one before as
//! `old_*`), named and formatted as dhclient does (lists space-separated, RFC 3442 routes as
//! their bytes in decimal, the search list as names with a trailing dot, the expiry as Unix
//! time). Pure: the runner ([`crate::shell::hooks`]) only executes what this builds.
//!
//! Values go to the script only as environment variables of a direct exec, never through a
//! shell string. Names from the server (host name, domain, search list) that are not valid
//! RFC 1123 host names are withheld, with a warning: dhclient-script evaluates some of them,
//! and a server's `$(…)` there ran as root on many systems (CVE-2018-1111). Other text is
//! passed only when it is printable ASCII without shell metacharacters.

use crate::core::Transition;
use crate::lease::{Informed, Lease};
use std::fmt;
use std::net::Ipv4Addr;

/// Why the script is run: dhclient-script's reasons. Each is the word for a transition the
/// core decided ([`Transition`], through `From`); nothing else chooses one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Before anything: the interface is to be made ready.
    Preinit,
    /// A new lease.
    Bound,
    /// The lease renewed with its server (RENEWING).
    Renew,
    /// The lease renewed with another server (REBINDING).
    Rebind,
    /// A saved (or, after a carrier flap, the current) lease confirmed by INIT-REBOOT.
    Reboot,
    /// The lease ran out, or was given up (another network, a conflict).
    Expire,
    /// No lease could be had, or the one held could not be used.
    Fail,
    /// The lease was released (`-r`).
    Release,
    /// dhcpc stops and keeps the lease (`-x`, SIGTERM), or the interface went away.
    Stop,
    /// A server refused the lease (DHCPNAK).
    Nak,
    /// No server answered in time: the saved lease, still valid, is tried instead.
    Timeout,
    /// Options only: a server's ACK to DHCPINFORM gave the options of an address set by hand
    /// (dhcpcd's reason; dhclient has none, and dhclient-script does nothing with it). The
    /// `new_*` variables are the options alone: no address, mask or lease times.
    Inform,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Preinit => "PREINIT",
            Reason::Bound => "BOUND",
            Reason::Renew => "RENEW",
            Reason::Rebind => "REBIND",
            Reason::Reboot => "REBOOT",
            Reason::Expire => "EXPIRE",
            Reason::Fail => "FAIL",
            Reason::Release => "RELEASE",
            Reason::Stop => "STOP",
            Reason::Nak => "NAK",
            Reason::Timeout => "TIMEOUT",
            Reason::Inform => "INFORM",
        }
    }

    /// Reasons after which a script that configures the interface may refuse the lease with
    /// a non-zero exit (dhclient then declines it).
    pub fn may_refuse(self) -> bool {
        matches!(self, Reason::Bound | Reason::Reboot | Reason::Timeout)
    }
}

impl From<Transition> for Reason {
    fn from(t: Transition) -> Reason {
        match t {
            Transition::Preinit => Reason::Preinit,
            Transition::Bound => Reason::Bound,
            Transition::Renew => Reason::Renew,
            Transition::Rebind => Reason::Rebind,
            Transition::Reboot => Reason::Reboot,
            Transition::Expire => Reason::Expire,
            Transition::Fail => Reason::Fail,
            Transition::Release => Reason::Release,
            Transition::Stop => Reason::Stop,
            Transition::Nak => Reason::Nak,
            Transition::Timeout => Reason::Timeout,
            Transition::Inform => Reason::Inform,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one run of the script is told.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub reason: Reason,
    pub interface: &'a str,
    /// The daemon's process id, as `pid` (NetworkManager's listener takes an event only from
    /// the process it started).
    pub pid: u32,
    /// The lease now (BOUND, RENEW, REBIND, REBOOT).
    pub new: Option<&'a Lease>,
    /// The lease before (on a change), or the one going (EXPIRE, RELEASE, STOP, NAK).
    pub old: Option<&'a Lease>,
    /// Unix time at which `new` (and `old`) expire, when they do.
    pub new_expiry: Option<u64>,
    pub old_expiry: Option<u64>,
    /// Options only (INFORM, and RELEASE or STOP after it): the options now and before, as
    /// `new_*` and `old_*` (in place of a lease; a lease given too wins).
    pub new_options: Option<&'a Informed>,
    pub old_options: Option<&'a Informed>,
    /// The options dhcpc asks for (option 55), for `requested_*`; a code listed twice is
    /// exported once.
    pub requested: &'a [u8],
}

/// A value that was withheld from the environment, and why: for a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    pub name: String,
    pub why: &'static str,
}

/// The environment: `(name, value)` pairs in a stable order, and what was withheld.
pub fn environment(ev: &Event<'_>) -> (Vec<(String, String)>, Vec<Withheld>) {
    let mut env = vec![
        ("reason".to_string(), ev.reason.as_str().to_string()),
        ("interface".to_string(), ev.interface.to_string()),
        ("medium".to_string(), String::new()),
        ("pid".to_string(), ev.pid.to_string()),
    ];
    let mut withheld = Vec::new();
    for (prefix, lease, expiry, options) in [
        ("new", ev.new, ev.new_expiry, ev.new_options),
        ("old", ev.old, ev.old_expiry, ev.old_options),
    ] {
        if let Some(lease) = lease {
            lease_vars(prefix, lease, expiry, &mut env, &mut withheld);
        } else if let Some(info) = options {
            options_vars(prefix, info, &mut env, &mut withheld);
        }
    }
    // Each option once: `--request` may name one dhcpc asks for anyway (or name it twice).
    for (i, code) in ev.requested.iter().enumerate() {
        if ev.requested[..i].contains(code) {
            continue;
        }
        if let Some(name) = option_name(*code) {
            env.push((format!("requested_{name}"), "1".to_string()));
        }
    }
    (env, withheld)
}

/// The variables of one lease, `new_*` or `old_*` (`prefix`), added to `env`; what is not
/// exported, and why, added to `withheld`.
fn lease_vars(
    prefix: &str,
    l: &Lease,
    expiry: Option<u64>,
    env: &mut Vec<(String, String)>,
    withheld: &mut Vec<Withheld>,
) {
    let mut vars = LeaseVars {
        prefix,
        env,
        withheld,
        held_back: Vec::new(),
    };
    vars.typed(l, expiry);
    vars.names(l.domain.as_ref(), &l.search);
    // What the lease keeps only raw: RFC 3442 routes as their bytes, host name and the rest
    // of the options dhclient names.
    for (code, data) in &l.options {
        vars.option(code, data);
    }
    vars.finish();
}

/// The variables of the options of an ACK to DHCPINFORM, `new_*` or `old_*`: those a lease's
/// would have but the address, its mask, network and broadcast address, and the lease's
/// times, none of which the options have (the address was set by hand).
fn options_vars(
    prefix: &str,
    info: &Informed,
    env: &mut Vec<(String, String)>,
    withheld: &mut Vec<Withheld>,
) {
    let mut vars = LeaseVars {
        prefix,
        env,
        withheld,
        held_back: Vec::new(),
    };
    vars.typed_options(info);
    vars.names(info.domain.as_ref(), &info.search);
    for (code, data) in &info.options {
        vars.option(code, data);
    }
    vars.finish();
}

/// One lease's variables as they are made.
struct LeaseVars<'a> {
    prefix: &'a str,
    env: &'a mut Vec<(String, String)>,
    withheld: &'a mut Vec<Withheld>,
    /// Names that are not valid host or domain names: withheld after the rest.
    held_back: Vec<&'static str>,
}

impl LeaseVars<'_> {
    fn put(&mut self, name: &str, value: String) {
        self.env.push((format!("{}_{name}", self.prefix), value));
    }

    /// Names: valid ones only (a host name, or a list of names each with its dot).
    fn named(&mut self, var: &'static str, v: String) {
        if is_host_name(v.trim_end_matches('.')) || v.split(' ').all(is_search_name) {
            self.put(var, v);
        } else {
            self.held_back.push(var);
        }
    }

    /// What the lease has fields for, but its names.
    fn typed(&mut self, l: &Lease, expiry: Option<u64>) {
        let mask = prefix_mask(l.prefix_len);
        let network = Ipv4Addr::from(u32::from(l.address) & u32::from(mask));
        self.put("ip_address", l.address.to_string());
        if let Some(n) = l.next_server {
            self.put("next_server", n.to_string());
        }
        self.put("subnet_mask", mask.to_string());
        self.put("network_number", network.to_string());
        self.put("broadcast_address", l.broadcast.to_string());
        self.put("dhcp_server_identifier", l.server_id.to_string());
        self.put("dhcp_lease_time", l.lease_secs.to_string());
        self.put("dhcp_renewal_time", l.t1_secs.to_string());
        self.put("dhcp_rebinding_time", l.t2_secs.to_string());
        self.put("dhcp_message_type", "5".to_string());
        if let Some(at) = expiry {
            self.put("expiry", at.to_string());
        }
        if !l.routers.is_empty() {
            self.put("routers", addrs(&l.routers));
        }
        if !l.dns.is_empty() {
            self.put("domain_name_servers", addrs(&l.dns));
        }
        if !l.ntp.is_empty() {
            self.put("ntp_servers", addrs(&l.ntp));
        }
        if let Some(mtu) = l.mtu {
            self.put("interface_mtu", mtu.to_string());
        }
    }

    /// What options alone have fields for (the ACK to a DHCPINFORM), but names.
    fn typed_options(&mut self, info: &Informed) {
        if let Some(s) = info.server_id {
            self.put("dhcp_server_identifier", s.to_string());
        }
        self.put("dhcp_message_type", "5".to_string());
        if !info.routers.is_empty() {
            self.put("routers", addrs(&info.routers));
        }
        if !info.dns.is_empty() {
            self.put("domain_name_servers", addrs(&info.dns));
        }
        if !info.ntp.is_empty() {
            self.put("ntp_servers", addrs(&info.ntp));
        }
        if let Some(mtu) = info.mtu {
            self.put("interface_mtu", mtu.to_string());
        }
    }

    /// The domain name and search list.
    fn names(&mut self, domain: Option<&String>, search: &[String]) {
        if let Some(d) = domain {
            self.named("domain_name", d.clone());
        }
        if !search.is_empty() {
            let list: Vec<String> = search.iter().map(|n| format!("{n}.")).collect();
            self.named("domain_search", list.join(" "));
        }
    }

    /// One option the lease keeps raw, when dhclient names it.
    fn option(&mut self, code: u8, data: &[u8]) {
        let Some(name) = option_name(code) else {
            return;
        };
        let value = match code {
            121 | 249 => Some(
                data.iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            12 => {
                let text = String::from_utf8_lossy(data).into_owned();
                self.named("host_name", text);
                return;
            }
            // Handled from the typed lease above.
            1 | 3 | 6 | 15 | 26 | 28 | 42 | 51 | 53 | 54 | 58 | 59 | 119 => return,
            2 => data
                .get(..4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string()),
            4 | 7 | 41 | 44 | 69 | 70 => (data.len() % 4 == 0 && !data.is_empty()).then(|| {
                let list: Vec<Ipv4Addr> = data
                    .chunks(4)
                    .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                    .collect();
                addrs(&list)
            }),
            _ => {
                let text = String::from_utf8_lossy(data).into_owned();
                if is_plain_text(&text) {
                    Some(text)
                } else {
                    self.withheld.push(Withheld {
                        name: format!("{}_{name}", self.prefix),
                        why: "text with control or shell characters",
                    });
                    None
                }
            }
        };
        if let Some(v) = value {
            self.put(name, v);
        }
    }

    /// The names held back, withheld.
    fn finish(self) {
        for var in self.held_back {
            self.withheld.push(Withheld {
                name: format!("{}_{var}", self.prefix),
                why: "not a valid host or domain name",
            });
        }
    }
}

/// dhclient's names for the options it exports (the `dhcp-options(5)` names, with `_`).
pub fn option_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "subnet_mask",
        2 => "time_offset",
        3 => "routers",
        4 => "time_servers",
        6 => "domain_name_servers",
        7 => "log_servers",
        12 => "host_name",
        15 => "domain_name",
        26 => "interface_mtu",
        28 => "broadcast_address",
        40 => "nis_domain",
        41 => "nis_servers",
        42 => "ntp_servers",
        44 => "netbios_name_servers",
        47 => "netbios_scope",
        51 => "dhcp_lease_time",
        54 => "dhcp_server_identifier",
        58 => "dhcp_renewal_time",
        59 => "dhcp_rebinding_time",
        66 => "tftp_server_name",
        67 => "bootfile_name",
        69 => "smtp_server",
        70 => "pop_server",
        119 => "domain_search",
        121 => "rfc3442_classless_static_routes",
        249 => "ms_classless_static_routes",
        _ => return None,
    })
}

fn addrs(list: &[Ipv4Addr]) -> String {
    list.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn prefix_mask(len: u8) -> Ipv4Addr {
    let len = u32::from(len.min(32));
    Ipv4Addr::from(if len == 0 { 0 } else { u32::MAX << (32 - len) })
}

/// An RFC 1123 host name (dotted labels of letters, digits and inner hyphens).
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A search-list entry as exported: a host name with its trailing dot.
pub(crate) fn is_search_name(s: &str) -> bool {
    s.strip_suffix('.').is_some_and(is_host_name)
}

/// Printable ASCII with none of the characters a shell gives meaning to.
pub(crate) fn is_plain_text(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"$`\\\"'|&;<>(){}[]*?!~#".contains(&b) || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::Options;
    use std::collections::BTreeMap;

    fn informed() -> Informed {
        let a = |d| Ipv4Addr::new(198, 51, 100, d);
        Informed {
            address: a(50),
            prefix_len: 24,
            server_id: Some(a(1)),
            routers: vec![a(1)],
            dns: vec![a(1), a(2)],
            domain: Some("lab.test".into()),
            mtu: Some(1400),
            classless_routes: Vec::new(),
            search: vec!["lab.test".into()],
            ntp: vec![a(3)],
            options: Options::from(vec![(1, vec![255, 255, 255, 0]), (51, vec![0, 0, 14, 16])]),
        }
    }

    /// INFORM: the options as `new_*`, named and formatted as a lease's, and none of what only
    /// a lease has (the address was set by hand: its mask, network, broadcast; lease times).
    #[test]
    fn inform_exports_the_options_alone() {
        let info = informed();
        let ev = Event {
            reason: Reason::from(Transition::Inform),
            interface: "vc",
            pid: 7,
            new: None,
            old: None,
            new_expiry: None,
            old_expiry: None,
            new_options: Some(&info),
            old_options: Some(&info),
            requested: &[],
        };
        let env: BTreeMap<String, String> = environment(&ev).0.into_iter().collect();
        assert_eq!(env["reason"], "INFORM");
        for prefix in ["new", "old"] {
            let var = |name: &str| env.get(&format!("{prefix}_{name}")).map(String::as_str);
            assert_eq!(var("routers"), Some("198.51.100.1"));
            assert_eq!(
                var("domain_name_servers"),
                Some("198.51.100.1 198.51.100.2")
            );
            assert_eq!(var("domain_name"), Some("lab.test"));
            assert_eq!(var("domain_search"), Some("lab.test."));
            assert_eq!(var("ntp_servers"), Some("198.51.100.3"));
            assert_eq!(var("interface_mtu"), Some("1400"));
            assert_eq!(var("dhcp_server_identifier"), Some("198.51.100.1"));
            assert_eq!(var("dhcp_message_type"), Some("5"));
            for absent in [
                "ip_address",
                "subnet_mask",
                "network_number",
                "broadcast_address",
                "dhcp_lease_time",
                "dhcp_renewal_time",
                "dhcp_rebinding_time",
                "expiry",
            ] {
                assert_eq!(var(absent), None, "{prefix}_{absent}");
            }
        }
    }
}
