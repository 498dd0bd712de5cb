//! The common subset of dhclient.conf(5) dhcpc takes (`-cf FILE` of dhclient's command line,
//! and what NetworkManager writes there): `send` of the host name, client identifier, FQDN,
//! lease time and vendor class ([`super::send`]), option declarations (`option NAME code N =
//! TYPE;`, whose names `request` then takes), `request ...;` and `also request ...;`,
//! `timeout N;`, `retry N;`, `script "FILE";`, `supersede`/`prepend domain-name-servers`,
//! `supersede domain-name`, comments, and `interface "NAME" { ... }` blocks. Every other
//! statement is a warning naming its line, never a silent ignore. Pure: text in, settings and
//! warnings out; never panics (a test feeds it random bytes).

use super::lex::{self, Kind, Statement};
use super::names;
use std::net::Ipv4Addr;

/// The host name to send (option 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostName {
    Name(String),
    /// `= gethostname()`: the system's host name when dhcpc starts.
    System,
}

/// `send dhcp-client-identifier`: bytes (hex octets or a string), or `= hardware;` (type 1 and
/// the MAC, dhcpc's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdConf {
    Bytes(Vec<u8>),
    Hardware,
}

/// What the file says, for the interfaces dhcpc runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conf {
    pub hostname: Option<HostName>,
    /// `send dhcp-client-identifier`: option 61 as these bytes.
    pub client_id: Option<ClientIdConf>,
    /// `send fqdn.fqdn "NAME";`: option 81.
    pub fqdn: Option<String>,
    /// `send dhcp-lease-time N;`: option 51.
    pub lease_time: Option<u32>,
    /// `send vendor-class-identifier "STRING";`: option 60.
    pub vendor_class: Option<String>,
    /// `script "FILE";`: the script dhclient runs when `-sf` names none.
    pub script: Option<String>,
    /// Option names declared with `option NAME code N = TYPE;`, and their codes.
    pub declared: Vec<(String, u8)>,
    /// Option codes to ask for (option 55), from `request` and `also request`.
    pub requests: Vec<u8>,
    pub timeout: Option<u64>,
    pub retry: Option<u64>,
    /// `supersede domain-name-servers`.
    pub dns_supersede: Option<Vec<Ipv4Addr>>,
    /// `prepend domain-name-servers`.
    pub dns_prepend: Vec<Ipv4Addr>,
    /// `supersede domain-name`.
    pub domain_supersede: Option<String>,
    /// `LINE: what` for each statement that is not taken.
    pub warnings: Vec<String>,
}

/// Parses dhclient.conf `text` for the interfaces `ifaces` (the command line's): a block
/// `interface "X" { }` counts only when X is the one interface named. A file that does not
/// read as dhclient.conf at all (an unclosed string or block) is an error naming the line.
pub fn parse(text: &str, ifaces: &[String]) -> Result<Conf, String> {
    let st = lex::statements(text).map_err(|(line, e)| format!("line {line}: {e}"))?;
    let mut conf = Conf::default();
    for s in &st {
        conf.statement(s, ifaces, false);
    }
    Ok(conf)
}

pub(super) fn word(k: &Kind) -> Option<&str> {
    match k {
        Kind::Word(w) => Some(w),
        _ => None,
    }
}

/// The items of a comma-separated list (`a, b, c`), or None if it is not one.
fn list(ks: &[Kind]) -> Option<Vec<&Kind>> {
    let mut out = Vec::new();
    for (i, k) in ks.iter().enumerate() {
        let comma = *k == Kind::Punct(',');
        if (i % 2 == 1) != comma {
            return None;
        }
        if !comma {
            out.push(k);
        }
    }
    (!out.is_empty() && ks.len() % 2 == 1).then_some(out)
}

/// A statement's words as written, for a warning.
pub(super) fn text(ks: &[Kind]) -> String {
    ks.iter()
        .map(|k| match k {
            Kind::Word(w) => w.clone(),
            Kind::Str(s) => format!("{:?}", s),
            Kind::Punct(c) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn addresses(ks: &[Kind]) -> Option<Vec<Ipv4Addr>> {
    list(ks)?
        .into_iter()
        .map(|k| word(k)?.parse().ok())
        .collect()
}

impl Conf {
    pub(super) fn warn(&mut self, line: usize, what: impl Into<String>) {
        self.warnings.push(format!("line {line}: {}", what.into()));
    }

    /// One statement; `nested` inside an `interface` block.
    fn statement(&mut self, s: &Statement, ifaces: &[String], nested: bool) {
        if let Some(block) = &s.block {
            self.block(s, block, ifaces, nested);
            return;
        }
        let line = s.line;
        let head = &s.head;
        let rest = &s.head[1.min(s.head.len())..];
        match word(&head[0]).unwrap_or("") {
            "send" => self.send(line, head, rest),
            "option" => self.declare(line, head, rest),
            "script" => match rest {
                [Kind::Str(f)] if f.starts_with('/') => self.script = Some(f.clone()),
                _ => self.warn(
                    line,
                    format!(
                        "'{}': script takes a quoted absolute path: ignored",
                        text(head)
                    ),
                ),
            },
            "request" => {
                self.requests.clear();
                self.request(line, rest);
            }
            "also" if rest.first().and_then(word) == Some("request") => {
                self.request(line, &rest[1..])
            }
            key @ ("timeout" | "retry") => self.seconds(line, head, key, rest),
            how @ ("supersede" | "prepend") => self.dns(line, head, how, rest),
            _ => self.warn(
                line,
                format!("'{}' is not supported by dhcpc: ignored", text(head)),
            ),
        }
    }

    /// A statement with a block: `interface "NAME" { ... }` counts when NAME is the one
    /// interface dhcpc runs; any other is a warning.
    fn block(&mut self, s: &Statement, block: &[Statement], ifaces: &[String], nested: bool) {
        let line = s.line;
        match s.head.as_slice() {
            [Kind::Word(w), Kind::Str(name)] if w == "interface" && !nested => {
                if ifaces.len() == 1 && ifaces[0] == *name {
                    for inner in block {
                        self.statement(inner, ifaces, true);
                    }
                } else if ifaces.iter().any(|i| i == name) {
                    self.warn(
                        line,
                        format!(
                            "interface \"{name}\" {{ }} is not taken when dhcpc runs \
                             several interfaces in one process; run one per interface"
                        ),
                    );
                }
            }
            _ => self.warn(
                line,
                format!(
                    "'{} {{ ... }}' is not supported by dhcpc: ignored",
                    text(&s.head)
                ),
            ),
        }
    }

    /// `timeout N;` or `retry N;` (`key`).
    fn seconds(&mut self, line: usize, head: &[Kind], key: &str, rest: &[Kind]) {
        match rest {
            // NetworkManager writes its timeout plus one, up to 2^31 - 1 for "no timeout": a
            // day is dhcpc's most, and as good.
            [Kind::Word(n)] if n.parse::<u64>().is_ok_and(|n| n >= 1) => {
                let n = n.parse::<u64>().ok().map(|n| n.min(86400));
                if key == "timeout" {
                    self.timeout = n
                } else {
                    self.retry = n
                }
            }
            _ => self.warn(
                line,
                format!(
                    "'{}': {key} takes a number of seconds, at least 1: ignored",
                    text(head)
                ),
            ),
        }
    }

    /// `supersede` or `prepend` (`how`) `domain-name-servers`, `supersede domain-name`.
    fn dns(&mut self, line: usize, head: &[Kind], how: &str, rest: &[Kind]) {
        let option = rest.first().and_then(|k| word(k));
        let value = rest.get(1..).unwrap_or(&[]);
        match (how, option) {
            (_, Some("domain-name-servers")) => match addresses(value) {
                // The last statement for an option says how it is treated, as in
                // dhclient.
                Some(a) if how == "supersede" => {
                    self.dns_supersede = Some(a);
                    self.dns_prepend.clear();
                }
                Some(a) => {
                    self.dns_prepend = a;
                    self.dns_supersede = None;
                }
                None => self.warn(
                    line,
                    format!("'{}': not a list of IPv4 addresses: ignored", text(head)),
                ),
            },
            ("supersede", Some("domain-name")) => match value {
                [Kind::Str(d)] if valid_domain(d) => self.domain_supersede = Some(d.clone()),
                _ => self.warn(
                    line,
                    format!("'{}': not one quoted domain name: ignored", text(head)),
                ),
            },
            _ => self.warn(
                line,
                format!(
                    "'{}' is not supported by dhcpc (only supersede and prepend \
                     domain-name-servers, supersede domain-name): ignored",
                    text(head)
                ),
            ),
        }
    }

    fn request(&mut self, line: usize, names: &[Kind]) {
        let Some(items) = list(names) else {
            if !names.is_empty() {
                self.warn(
                    line,
                    "request: not a comma-separated list of option names: ignored",
                );
            }
            return;
        };
        for k in items {
            let Some(n) = word(k) else {
                self.warn(line, "request: an option name is quoted: ignored");
                continue;
            };
            // dhclient -4 does not send DHCPv6 options either.
            if n.starts_with("dhcp6.") {
                continue;
            }
            match self.code_of(n) {
                Some(c) if !self.requests.contains(&c) => self.requests.push(c),
                Some(_) => {}
                None => self.warn(line, format!("request: unknown option name '{n}': ignored")),
            }
        }
    }
}

impl Conf {
    /// The code of option `name`: declared in the file, or one dhclient knows.
    pub(super) fn code_of(&self, name: &str) -> Option<u8> {
        let declared = self.declared.iter().rev().find(|(n, _)| n == name);
        declared.map(|&(_, c)| c).or_else(|| names::code(name))
    }
}

/// A domain name dhcpc would write to resolv.conf: labels of letters, digits and '-'.
pub(super) fn valid_domain(d: &str) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
#[path = "conf_tests.rs"]
mod tests;
