//! What dhclient's configuration file, ifupdown's stanza and dhclient's defaults add to the
//! translated command line ([`super::cli`]): the client identifier, the names sent, the
//! options asked for, the timeout (dhclient's 60 s), DNS rules and the script (dhclient's
//! /sbin/dhclient-script when `-sf` names none and it is there). What comes from where, and
//! which wins, is said here once.

use super::cli::{Flags, Host, DEFAULT_SCRIPT};
use super::conf::{ClientIdConf, Conf, HostName};
use std::path::Path;

/// dhclient's timeout when its configuration says none (dhclient.conf(5)).
pub const DEFAULT_TIMEOUT: u64 = 60;

/// The options of an ifupdown stanza `iface IF inet dhcp` that dhclient's command line does
/// not carry: ifupdown gives every command it runs for the stanza its options as `IF_NAME`
/// variables (interfaces(5)), and documents `hostname`, `vendor`, `leasetime` and `client`
/// as sent by the DHCP client. dhclient passes them over; dhcpc sends them.
#[derive(Debug, Default)]
struct Stanza {
    hostname: Option<String>,
    vendor: Option<String>,
    leasetime: Option<String>,
    client: Option<String>,
}

impl Stanza {
    /// The stanza's options, when dhcpc runs for ifupdown's `inet dhcp` method on the one
    /// interface named (IFACE, ADDRFAM and METHOD say so).
    fn from_env(host: &Host, ifaces: &[String]) -> Option<Stanza> {
        let env = host.env;
        let ours = env("METHOD").as_deref() == Some("dhcp")
            && env("ADDRFAM").as_deref() == Some("inet")
            && matches!(ifaces, [one] if env("IFACE").as_deref() == Some(one.as_str()));
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        ours.then(|| Stanza {
            hostname: get("IF_HOSTNAME"),
            vendor: get("IF_VENDOR"),
            leasetime: get("IF_LEASETIME"),
            client: get("IF_CLIENT"),
        })
    }
}

/// Adds to `f` what the configuration file `conf`, ifupdown's stanza and dhclient's defaults
/// say, the lines dhcpc does not take to `warnings`.
pub(super) fn add(f: &mut Flags, conf: Option<&Conf>, host: &Host, warnings: &mut Vec<String>) {
    let stanza = Stanza::from_env(host, &f.ifaces).unwrap_or_default();
    let mut warn = |what: &str, value: &str, why: &str| {
        warnings.push(format!("ifupdown's {what} {value}: {why}: ignored"))
    };
    client_id(f, conf, &stanza, &mut warn);
    names(f, conf, &stanza, host, &mut warn);
    if let Some(c) = conf {
        conf_rest(f, c, warnings);
    }
    timeout(f, conf);
    script(f, conf, host);
}

/// Option 61: the configuration file's `send dhcp-client-identifier` (which wins over -i, as
/// in dhclient), else ifupdown's `client` in hex, else -i's RFC 4361 identifier from the host's
/// DUID, else dhcpc's default (type 1 and the MAC, as dhclient sends it).
fn client_id(
    f: &mut Flags,
    conf: Option<&Conf>,
    stanza: &Stanza,
    warn: &mut impl FnMut(&str, &str, &str),
) {
    if f.passes("--clientid") {
        return;
    }
    let from_stanza = stanza
        .client
        .as_deref()
        .filter(|c| *c != "no")
        .and_then(|c| {
            let bytes = super::duid::hex_octets(c).filter(|b| (2..=255).contains(&b.len()));
            if bytes.is_none() {
                warn(
                    "client",
                    c,
                    "dhcpc takes a client identifier in hex (01:52:54:00:12:34:56)",
                );
            }
            bytes
        });
    match (
        conf.and_then(|c| c.client_id.as_ref()),
        from_stanza.as_ref(),
    ) {
        (Some(ClientIdConf::Bytes(b)), _) | (None, Some(b)) => f.push("--clientid", hex(b)),
        (Some(ClientIdConf::Hardware), _) => f.push("--clientid", "mac"),
        (None, None) if f.duid_v4 && !f.v6 => {
            f.push("--clientid", "duid");
            // dhclient makes a DUID-LLT unless -D says otherwise.
            if !f.passes("--duid-type") {
                f.push("--duid-type", f.duid_type.unwrap_or("llt"));
            }
            if let Some(df) = f.duid_file.clone().filter(|_| !f.passes("--duid-file")) {
                f.push("--duid-file", df);
            }
        }
        (None, None) => {}
    }
}

fn hex(bytes: &[u8]) -> String {
    let octets: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    octets.join(":")
}

/// Options 12 or 81, 60 and 51: -H, -F and -V first, then ifupdown's stanza, then the
/// configuration file.
fn names(
    f: &mut Flags,
    conf: Option<&Conf>,
    stanza: &Stanza,
    host: &Host,
    warn: &mut impl FnMut(&str, &str, &str),
) {
    let valid_name = |n: &str| super::conf::valid_domain(n) && !n.ends_with('.');
    let mut named = f.given_hostname || f.passes("--hostname") || f.passes("--fqdn");
    if let (false, Some(h)) = (named, &stanza.hostname) {
        if valid_name(h) {
            f.push("--hostname", h.clone());
            named = true;
        } else {
            warn("hostname", h, "not a host name");
        }
    }
    if let (false, Some(c)) = (named, conf) {
        conf_hostname(f, c, host);
    }
    let mut vendor = f.given_vendor || f.passes("--vendor-class");
    if let (false, Some(v)) = (vendor, &stanza.vendor) {
        if (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            f.push("--vendor-class", v.clone());
            vendor = true;
        } else {
            warn("vendor", v, "not 1 to 255 printable ASCII characters");
        }
    }
    if let (false, Some(v)) = (vendor, conf.and_then(|c| c.vendor_class.clone())) {
        f.push("--vendor-class", v);
    }
    let mut lease = f.passes("--lease-time");
    if let (false, Some(t)) = (lease, &stanza.leasetime) {
        match t.parse::<u32>() {
            Ok(n) if n > 0 => {
                f.push("--lease-time", n.to_string());
                lease = true;
            }
            _ => warn("leasetime", t, "not a number of seconds"),
        }
    }
    if let (false, Some(t)) = (lease, conf.and_then(|c| c.lease_time)) {
        f.push("--lease-time", t.to_string());
    }
}

/// The configuration file's host name or FQDN: `send fqdn.fqdn`, `send host-name "NAME"`, or
/// the system's (`= gethostname()`) when dhcpc would send it (not "localhost", first label).
fn conf_hostname(f: &mut Flags, c: &Conf, host: &Host) {
    if let Some(n) = &c.fqdn {
        return f.push("--fqdn", n.clone());
    }
    match &c.hostname {
        Some(HostName::Name(n)) => f.push("--hostname", n.clone()),
        Some(HostName::System) => {
            let h = (host.hostname)().map(|h| h.split('.').next().unwrap_or("").to_string());
            match h {
                Some(h) if super::conf::valid_domain(&h) && h != "localhost" => {
                    f.push("--hostname", h)
                }
                _ => {}
            }
        }
        None => {}
    }
}

/// The configuration file's requests, retry and DNS statements.
fn conf_rest(f: &mut Flags, c: &Conf, warnings: &mut Vec<String>) {
    if !c.requests.is_empty() {
        let codes: Vec<String> = c.requests.iter().map(u8::to_string).collect();
        f.push("--request", codes.join(","));
    }
    // `retry` is the pause before trying again after the timeout: dhcpc does not pause, it
    // keeps trying on RFC 2131's schedule (retransmissions at most 64 s apart), so a retry
    // of 64 s or more is met.
    if let Some(r) = c.retry.filter(|&r| r < 64) {
        let path = f.conf_path.as_deref().unwrap_or(Path::new("?")).display();
        warnings.push(format!(
            "{path}: retry {r}: dhcpc tries again on RFC 2131's schedule, up to 64 s between \
             attempts, not every {r} s"
        ));
    }
    let list = |v: &[std::net::Ipv4Addr]| {
        let a: Vec<String> = v.iter().map(|a| a.to_string()).collect();
        a.join(",")
    };
    if let Some(s) = &c.dns_supersede {
        f.push("--supersede-dns", list(s));
    }
    if !c.dns_prepend.is_empty() {
        f.push("--prepend-dns", list(&c.dns_prepend));
    }
    if let Some(d) = &c.domain_supersede {
        f.push("--supersede-domain", d.clone());
    }
}

/// dhclient's `timeout` is how long to try before giving up (-1) or going on in the
/// background: dhcpc's --timeout, 60 s when the file says none, as dhclient. Then dhclient
/// falls back on a saved lease that has not expired (TIMEOUT): dhcpc's --last-lease.
fn timeout(f: &mut Flags, conf: Option<&Conf>) {
    if !f.passes("--timeout") {
        let t = conf.and_then(|c| c.timeout).unwrap_or(DEFAULT_TIMEOUT);
        f.push("--timeout", t.to_string());
    }
    // DHCPv6 has no TIMEOUT (dhclient -6 runs no script for it).
    if !f.controls() && !f.v6 && !f.passes("--last-lease") {
        f.out.push("--last-lease".into());
    }
}

/// The script, which configures the interface as under dhclient: -sf's, else the
/// configuration file's `script`, else dhclient's /sbin/dhclient-script when it is there (and
/// with it /etc/dhcp/dhclient-enter-hooks.d and -exit-hooks.d). dhcpc's own `--script` given
/// instead is taken as it is; with none at all, dhcpc configures the interface itself.
fn script(f: &mut Flags, conf: Option<&Conf>, host: &Host) {
    if f.passes("--script") {
        return;
    }
    let default = (host.executable)(Path::new(DEFAULT_SCRIPT)).then(|| DEFAULT_SCRIPT.to_string());
    let chosen = f
        .script
        .clone()
        .or_else(|| conf.and_then(|c| c.script.clone()))
        .or(default);
    if let Some(s) = chosen {
        f.push("--script", s);
        f.out.push("--script-configures".into());
    }
}
