//! The common subset of dhclient.conf(5) dhcpc takes (`-cf FILE` of dhclient's command line):
//! `send host-name "NAME";` and `send host-name = gethostname();`, `request ...;` and
//! `also request ...;`, `timeout N;`, `retry N;`, `supersede`/`prepend domain-name-servers`,
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

/// What the file says, for the interfaces dhcpc runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conf {
    pub hostname: Option<HostName>,
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

fn word(k: &Kind) -> Option<&str> {
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
fn text(ks: &[Kind]) -> String {
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
    fn warn(&mut self, line: usize, what: impl Into<String>) {
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

    /// `send host-name "NAME";` or `send host-name = gethostname();`.
    fn send(&mut self, line: usize, head: &[Kind], rest: &[Kind]) {
        match rest {
            [Kind::Word(o), Kind::Str(n)] if o == "host-name" => {
                self.hostname = Some(HostName::Name(n.clone()))
            }
            [Kind::Word(o), Kind::Punct('='), Kind::Word(f), Kind::Punct('('), Kind::Punct(')')]
                if o == "host-name" && f == "gethostname" =>
            {
                self.hostname = Some(HostName::System)
            }
            _ => self.warn(
                line,
                format!(
                    "'{}' is not supported by dhcpc (only send host-name): ignored",
                    text(head)
                ),
            ),
        }
    }

    /// `timeout N;` or `retry N;` (`key`).
    fn seconds(&mut self, line: usize, head: &[Kind], key: &str, rest: &[Kind]) {
        match rest {
            [Kind::Word(n)] if n.parse::<u64>().is_ok_and(|n| (1..=86400).contains(&n)) => {
                let n = n.parse().ok();
                if key == "timeout" {
                    self.timeout = n
                } else {
                    self.retry = n
                }
            }
            _ => self.warn(
                line,
                format!(
                    "'{}': {key} takes seconds from 1 to 86400: ignored",
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
            match names::code(n) {
                Some(c) if !self.requests.contains(&c) => self.requests.push(c),
                Some(_) => {}
                None => self.warn(line, format!("request: unknown option name '{n}': ignored")),
            }
        }
    }
}

/// A domain name dhcpc would write to resolv.conf: labels of letters, digits and '-'.
fn valid_domain(d: &str) -> bool {
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
mod tests {
    use super::*;

    fn one(text: &str) -> Conf {
        parse(text, &["eth0".to_string()]).unwrap()
    }

    #[test]
    fn debian_default_file() {
        let text = r#"
# Configuration file for /sbin/dhclient.
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name = gethostname();
request subnet-mask, broadcast-address, time-offset, routers,
	domain-name, domain-name-servers, domain-search, host-name,
	dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
	netbios-name-servers, netbios-scope, interface-mtu,
	rfc3442-classless-static-routes, ntp-servers;
#timeout 60;
"#;
        let c = one(text);
        assert_eq!(c.hostname, Some(HostName::System));
        assert_eq!(
            c.requests,
            vec![1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]
        );
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with("line 3: 'option rfc3442"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn the_subset() {
        let c = one(
            "send host-name \"box\";\ntimeout 7;\nretry 20;\nalso request ntp-servers, unknown-252;\n\
             supersede domain-name-servers 198.51.100.53, 203.0.113.53;\n\
             supersede domain-name \"lab.test\";\n",
        );
        assert_eq!(c.hostname, Some(HostName::Name("box".into())));
        assert_eq!(c.timeout, Some(7));
        assert_eq!(c.retry, Some(20));
        assert_eq!(c.requests, vec![42, 252]);
        assert_eq!(
            c.dns_supersede,
            Some(vec![
                "198.51.100.53".parse().unwrap(),
                "203.0.113.53".parse().unwrap()
            ])
        );
        assert_eq!(c.domain_supersede.as_deref(), Some("lab.test"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let p = one(
            "supersede domain-name-servers 1.1.1.1;\nprepend domain-name-servers 198.51.100.1;",
        );
        assert_eq!(p.dns_supersede, None);
        assert_eq!(
            p.dns_prepend,
            vec!["198.51.100.1".parse::<Ipv4Addr>().unwrap()]
        );
    }

    #[test]
    fn interface_blocks_count_for_their_interface_only() {
        let text = "interface \"eth0\" { timeout 5; }\ninterface \"eth1\" { timeout 9; }\n";
        assert_eq!(one(text).timeout, Some(5));
        let two = parse(text, &["eth0".into(), "eth1".into()]).unwrap();
        assert_eq!(two.timeout, None);
        assert_eq!(two.warnings.len(), 2, "{:?}", two.warnings);
    }

    #[test]
    fn everything_else_is_a_warning_with_its_line() {
        let c = one("timeout 5;\n\nreject 198.51.100.9;\nsupersede routers 1.2.3.4;\nrequest foo;\ntimeout x;\nlease { }\nsend dhcp-client-identifier 1:2:3;\nsupersede domain-name \"a;rm -rf\";\n");
        let lines: Vec<&str> = c
            .warnings
            .iter()
            .map(|w| w.split(':').next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9"],
            "{:?}",
            c.warnings
        );
        assert_eq!(c.domain_supersede, None);
        assert!(parse("timeout 5", &[]).unwrap_err().starts_with("line 1:"));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"{};,=()\"#\\ \n\tabc-.0123456789interfacesupersederequest";
        for _ in 0..20_000 {
            let n = rng.usize(0..120);
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.bool() {
                        alphabet[rng.usize(..alphabet.len())]
                    } else {
                        rng.u8(..)
                    }
                })
                .collect();
            let _ = parse(&String::from_utf8_lossy(&bytes), &["eth0".into()]);
        }
    }
}
