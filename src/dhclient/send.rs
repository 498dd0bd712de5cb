//! dhclient.conf's `send` statements and option declarations, as [`super::conf`] reads them:
//! what dhclient sends that dhcpc can send too (host name, client identifier, FQDN, lease
//! time, vendor class), in the forms dhclient.conf(5) gives them and NetworkManager writes
//! them; and `option NAME code N = TYPE;`, which names an option for `request`.

use super::conf::{text, valid_domain, word, ClientIdConf, Conf, HostName};
use super::duid::hex_octets;
use super::lex::{self, Kind};

/// The option 81 flags dhcpc sends (RFC 4702: S set, E set, N clear), as dhclient's `send
/// fqdn.FLAG on|off;` statements name them.
const FQDN_FLAGS: [(&str, bool); 3] = [
    ("encoded", true),
    ("server-update", true),
    ("no-client-update", false),
];

impl Conf {
    /// `send NAME VALUE;` or `send NAME = EXPRESSION;`.
    pub(super) fn send(&mut self, line: usize, head: &[Kind], rest: &[Kind]) {
        let name = rest.first().and_then(word).unwrap_or("");
        let value = rest.get(1..).unwrap_or(&[]);
        let taken = match name {
            "host-name" => self.send_hostname(value),
            "dhcp-client-identifier" => self.send_client_id(value),
            "fqdn.fqdn" => match value {
                [Kind::Str(n)] if valid_domain(n) => {
                    self.fqdn = Some(n.clone());
                    Ok(())
                }
                _ => Err("not one quoted domain name"),
            },
            "dhcp-lease-time" => match value {
                [Kind::Word(n)] => n
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n > 0)
                    .map(|n| self.lease_time = Some(n))
                    .ok_or("not a number of seconds"),
                _ => Err("not a number of seconds"),
            },
            "vendor-class-identifier" => match value {
                [Kind::Str(v)] if valid_vendor_class(v) => {
                    self.vendor_class = Some(v.clone());
                    Ok(())
                }
                _ => Err("not 1 to 255 printable ASCII characters, quoted"),
            },
            n if n.starts_with("fqdn.") => fqdn_flag(&n["fqdn.".len()..], value),
            _ => {
                return self.warn(
                    line,
                    format!(
                        "'{}' is not supported by dhcpc (it sends host-name, \
                         dhcp-client-identifier, fqdn.fqdn, dhcp-lease-time and \
                         vendor-class-identifier): ignored",
                        text(head)
                    ),
                )
            }
        };
        if let Err(why) = taken {
            self.warn(line, format!("'{}': {why}: ignored", text(head)));
        }
    }

    /// `send host-name "NAME";` or `send host-name = gethostname();`.
    fn send_hostname(&mut self, value: &[Kind]) -> Result<(), &'static str> {
        match value {
            // A name as dhcpc sends it in option 12: no root dot.
            [Kind::Str(n)] if valid_domain(n) && !n.ends_with('.') => {
                self.hostname = Some(HostName::Name(n.clone()))
            }
            [Kind::Punct('='), Kind::Word(f), Kind::Punct('('), Kind::Punct(')')]
                if f == "gethostname" =>
            {
                self.hostname = Some(HostName::System)
            }
            _ => return Err("not a quoted host name or = gethostname()"),
        }
        Ok(())
    }

    /// `send dhcp-client-identifier` with hex octets (`01:52:54:00:12:34:56`), a quoted string
    /// (its bytes, escapes undone: NetworkManager writes `"\x00name"`), or `= hardware`.
    fn send_client_id(&mut self, value: &[Kind]) -> Result<(), &'static str> {
        let id = match value {
            [Kind::Word(w)] => hex_octets(w).ok_or("not hex octets (01:52:54:...)")?,
            [Kind::Str(s)] => lex::bytes(s),
            [Kind::Punct('='), Kind::Word(h)] if h == "hardware" => {
                self.client_id = Some(ClientIdConf::Hardware);
                return Ok(());
            }
            _ => return Err("not hex octets, a quoted string or = hardware"),
        };
        // RFC 2132 9.14: at least 2 bytes; option data at most 255.
        if !(2..=255).contains(&id.len()) {
            return Err("a client identifier is 2 to 255 bytes");
        }
        self.client_id = Some(ClientIdConf::Bytes(id));
        Ok(())
    }

    /// `option NAME code N = TYPE;`: NAME stands for option N in `request` (the type says how
    /// dhclient prints the value; dhcpc prints the options it knows its own way, the others in
    /// hex). DHCPv6 declarations (`dhcp6.NAME`) are taken and have no use in DHCPv4.
    pub(super) fn declare(&mut self, line: usize, head: &[Kind], rest: &[Kind]) {
        match rest {
            [Kind::Word(name), Kind::Word(code), Kind::Word(n), Kind::Punct('='), _, ..]
                if code == "code" && (!name.contains('.') || name.starts_with("dhcp6.")) =>
            {
                match n.parse::<u8>() {
                    Ok(c @ 1..=254) if !name.starts_with("dhcp6.") => {
                        self.declared.push((name.clone(), c))
                    }
                    Ok(_) if name.starts_with("dhcp6.") => {}
                    _ => self.warn(
                        line,
                        format!("'{}': an option code is 1 to 254: ignored", text(head)),
                    ),
                }
            }
            _ => self.warn(
                line,
                format!(
                    "'{}' is not supported by dhcpc (only option NAME code N = TYPE, without \
                     option spaces): ignored",
                    text(head)
                ),
            ),
        }
    }
}

/// `send fqdn.FLAG on|off;`: taken when it asks for the flag dhcpc sends.
fn fqdn_flag(flag: &str, value: &[Kind]) -> Result<(), &'static str> {
    let on = match value {
        [Kind::Word(v)] if v == "on" || v == "true" => true,
        [Kind::Word(v)] if v == "off" || v == "false" => false,
        _ => return Err("not on or off"),
    };
    match FQDN_FLAGS.iter().find(|(f, _)| *f == flag) {
        Some(&(_, sent)) if sent == on => Ok(()),
        Some(_) => Err("dhcpc sends option 81 with flags S and E set and N clear only"),
        None => Err("not an fqdn flag dhcpc sends (encoded, server-update, no-client-update)"),
    }
}

/// A vendor class dhcpc sends: 1 to 255 printable ASCII characters.
fn valid_vendor_class(v: &str) -> bool {
    (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}
