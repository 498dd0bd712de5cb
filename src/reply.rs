//! The typed reply: every DHCP message a server sends becomes one [`Reply`] at the boundary,
//! parsed once, before the core sees it (as smoltcp's `DhcpRepr`).
//!
//! A framing error (truncated header, bad magic cookie, an option running past the end) drops
//! the whole message. Past that, each option the client uses is judged by its own rule, one
//! function each below: an option that fails is left out of the reply with one debug line
//! naming it, and is listed in [`Reply::left_out`]. Whether the reply is still good is decided
//! later, by what the state needs: the core refuses a reply without a message type, an offer or
//! ACK whose lease fails [`crate::lease::Lease::check`], and a NAK from the wrong server; a
//! garbled option the client has no use for costs nothing.
//!
//! Options the client does not use are kept as raw bytes ([`Reply::other`]), for hooks.

use crate::addr::{dns_name, is_usable_unicast, Route};
use crate::text::Quoted;
use crate::wire::{self, OptionError, WireError};
use dhcproto::v4::{DhcpOption, HType, MessageType, Opcode};
use dhcproto::Name;
use std::fmt;
use std::net::Ipv4Addr;
use tracing::debug;

/// One received DHCP message, with every option the client uses checked and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The IPv4 source of the datagram: the server, or a relay agent.
    pub from: Ipv4Addr,
    /// The Ethernet source of its frame, when the shell knows it (set after parsing).
    pub from_mac: Option<[u8; 6]>,
    pub op: Opcode,
    /// The hardware type (1: Ethernet).
    pub htype: HType,
    pub xid: u32,
    /// The client hardware address (hlen bytes).
    pub chaddr: Vec<u8>,
    pub yiaddr: Ipv4Addr,
    /// The next server to boot from (siaddr), as sent: dhclient hands it to its script.
    pub siaddr: Ipv4Addr,
    /// Option 53.
    pub kind: Option<MessageType>,
    /// Option 54, a unicast address.
    pub server_id: Option<Ipv4Addr>,
    /// Option 51, seconds ([`crate::lease::INFINITE`] for ever).
    pub lease_secs: Option<u32>,
    /// Option 58 (T1), seconds, not zero.
    pub renewal_secs: Option<u32>,
    /// Option 59 (T2), seconds, not zero.
    pub rebinding_secs: Option<u32>,
    /// Option 1, as sent (the lease check judges it against the address).
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3, unicast addresses only, each once, in the server's order.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6, unicast addresses only, each once, in the server's order.
    pub dns: Vec<Ipv4Addr>,
    /// Option 12, a plausible host name.
    pub hostname: Option<String>,
    /// Option 15, a plausible DNS name, without a trailing dot.
    pub domain: Option<String>,
    /// Option 26, at least 68 (RFC 2132 5.1).
    pub mtu: Option<u16>,
    /// Option 28, as sent (the lease uses it only when it is the subnet's broadcast address).
    pub broadcast: Option<Ipv4Addr>,
    /// Option 56, the server's text, printable characters only.
    pub message: Option<String>,
    /// Option 42, NTP servers: unicast addresses only, each once.
    pub ntp: Vec<Ipv4Addr>,
    /// Option 119, the domain search list (RFC 3397), plausible names only, each once.
    pub search: Vec<String>,
    /// Option 121, classless static routes (RFC 3442), when the whole option is well formed.
    pub classless_routes: Option<Vec<Route>>,
    /// Option 249, Microsoft's classless static routes (same format as 121).
    pub ms_classless_routes: Option<Vec<Route>>,
    /// Option 80, rapid commit (RFC 4039): this ACK answers a DISCOVER.
    pub rapid_commit: bool,
    /// Every option as received (parts joined), in order of appearance: what `--status
    /// --json` shows and hooks are given.
    pub options: Vec<(u8, Vec<u8>)>,
    /// Every option the client does not use, raw (parts joined), in order of appearance.
    pub other: Vec<(u8, Vec<u8>)>,
    /// The options left out, and why.
    pub left_out: Vec<LeftOut>,
}

/// Options that would change routing or the MTU: one left out is worth a warning.
pub const LOUD: [u8; 3] = [26, 121, 249];

/// An option left out of a reply, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub code: u8,
    pub why: String,
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "option {} {}", self.code, self.why)
    }
}

/// The options typed in a [`Reply`]; every other option is kept raw.
const TYPED: &[u8] = &[
    1, 3, 6, 12, 15, 26, 28, 42, 51, 53, 54, 56, 58, 59, 80, 119, 121, 249,
];

impl Reply {
    /// Parses a DHCP message (a UDP payload) that came from `from`. Only a framing error is an
    /// error; options that fail their rules are left out.
    pub fn parse(bytes: &[u8], from: Ipv4Addr) -> Result<Reply, WireError> {
        let wire::Parts { header, options } = wire::parts(bytes)?;
        let mut r = Reply {
            from,
            from_mac: None,
            op: header.opcode(),
            htype: header.htype(),
            xid: header.xid(),
            chaddr: header.chaddr().to_vec(),
            yiaddr: header.yiaddr(),
            siaddr: header.siaddr(),
            kind: None,
            server_id: None,
            lease_secs: None,
            renewal_secs: None,
            rebinding_secs: None,
            subnet_mask: None,
            routers: Vec::new(),
            dns: Vec::new(),
            hostname: None,
            domain: None,
            mtu: None,
            broadcast: None,
            message: None,
            ntp: Vec::new(),
            search: Vec::new(),
            classless_routes: None,
            ms_classless_routes: None,
            rapid_commit: false,
            options: Default::default(),
            other: Vec::new(),
            left_out: Vec::new(),
        };
        for (code, data) in options {
            if !TYPED.contains(&code) {
                r.other.push((code, data.clone()));
            } else if let Err(why) = r.take(code, &data) {
                // Options that would change routing or the MTU are said out loud by the
                // shell (rate-limited: a server repeats them in every reply).
                if !LOUD.contains(&code) {
                    debug!("option {code} from {from} left out: {why}");
                }
                r.left_out.push(LeftOut {
                    code,
                    why: why.to_string(),
                });
            }
            r.options.push((code, data));
        }
        Ok(r)
    }

    /// Why option `code` was left out, if it was (for the reason a reply is refused).
    pub fn left_out(&self, code: u8) -> Option<&LeftOut> {
        self.left_out.iter().find(|l| l.code == code)
    }

    /// Judges one typed option and keeps it if it passes.
    fn take(&mut self, code: u8, data: &[u8]) -> Result<(), Rejected> {
        // dhcproto refuses text that is not UTF-8; the server's message is only ever shown in
        // a log line, so it is read leniently instead of being lost with its NAK.
        if code == 56 {
            self.message = Some(server_message(data)?);
            return Ok(());
        }
        // dhcproto reads option 121 up to the first impossible prefix width and keeps what it
        // read, and does not know 249; RFC 3442 wants a malformed option ignored as a whole,
        // so both are read here.
        if code == 121 {
            self.classless_routes = Some(classless_routes(data)?);
            return Ok(());
        }
        if code == 249 {
            self.ms_classless_routes = Some(classless_routes(data)?);
            return Ok(());
        }
        match wire::option(code, data)? {
            DhcpOption::MessageType(t) => self.kind = Some(message_type(t)?),
            DhcpOption::ServerIdentifier(a) => self.server_id = Some(server_id(a)?),
            DhcpOption::AddressLeaseTime(t) => self.lease_secs = Some(t),
            DhcpOption::Renewal(t) => self.renewal_secs = Some(renewal_time(t)?),
            DhcpOption::Rebinding(t) => self.rebinding_secs = Some(renewal_time(t)?),
            DhcpOption::SubnetMask(m) => self.subnet_mask = Some(m),
            DhcpOption::Router(v) => self.routers = unicast_list(code, &v)?,
            DhcpOption::DomainNameServer(v) => self.dns = unicast_list(code, &v)?,
            DhcpOption::Hostname(h) => self.hostname = Some(host_name(&h)?),
            DhcpOption::DomainName(d) => self.domain = Some(domain_name(&d)?),
            DhcpOption::InterfaceMtu(m) => self.mtu = Some(interface_mtu(m)?),
            DhcpOption::BroadcastAddr(b) => self.broadcast = Some(broadcast(b)?),
            DhcpOption::NtpServers(v) => self.ntp = unicast_list(code, &v)?,
            DhcpOption::DomainSearch(names) => self.search = search_list(&names)?,
            DhcpOption::RapidCommit => self.rapid_commit = true,
            other => {
                return Err(Rejected::Rule(format!(
                    "read as option {} instead",
                    u8::from(dhcproto::v4::OptionCode::from(&other))
                )))
            }
        }
        Ok(())
    }
}

/// Why an option is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// It could not be read at all.
    Malformed(OptionError),
    /// It was read, but breaks its rule.
    Rule(String),
}

impl From<OptionError> for Rejected {
    fn from(e: OptionError) -> Rejected {
        Rejected::Malformed(e)
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Malformed(e) => write!(f, "malformed: {e}"),
            Rejected::Rule(why) => f.write_str(why),
        }
    }
}

fn rule(why: impl Into<String>) -> Rejected {
    Rejected::Rule(why.into())
}

/// Option 53: one of the message types RFC 2131 and its successors define.
pub fn message_type(t: MessageType) -> Result<MessageType, Rejected> {
    match t {
        MessageType::Unknown(n) => Err(rule(format!("unknown message type {n}"))),
        t => Ok(t),
    }
}

/// Option 54: a unicast address, the one the client unicasts renewals and releases to.
pub fn server_id(a: Ipv4Addr) -> Result<Ipv4Addr, Rejected> {
    if is_usable_unicast(a) {
        Ok(a)
    } else {
        Err(rule(format!(
            "server identifier {a} is not a unicast address"
        )))
    }
}

/// Options 58 and 59: a T1 or T2 of zero would have the client renew (or rebind) the moment
/// it binds, over and over; such a time is left out and the RFC 2131 default used instead.
pub fn renewal_time(t: u32) -> Result<u32, Rejected> {
    if t == 0 {
        Err(rule("time of 0 s"))
    } else {
        Ok(t)
    }
}

/// Options 3 and 6: only unicast addresses, each once; the others are dropped one by one. A
/// list with no usable address at all is left out.
pub fn unicast_list(code: u8, list: &[Ipv4Addr]) -> Result<Vec<Ipv4Addr>, Rejected> {
    let mut out: Vec<Ipv4Addr> = Vec::with_capacity(list.len());
    for &a in list {
        if !is_usable_unicast(a) {
            debug!("option {code}: {a} is not a unicast address, skipped");
        } else if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.is_empty() && !list.is_empty() {
        return Err(rule("holds no unicast address"));
    }
    Ok(out)
}

/// Option 12: a host name of letters, digits, '-' and '_' in dot-separated labels (no spaces,
/// control characters or shell metacharacters reach a hook or a log line).
pub fn host_name(s: &str) -> Result<String, Rejected> {
    dns_name(s).ok_or_else(|| rule("is not a valid host name"))
}

/// Option 15: a plausible DNS name (labels of letters, digits, '-' and '_', at most 63 bytes
/// each and 253 in all); trailing NULs and dot are dropped. Anything else never reaches
/// resolv.conf.
pub fn domain_name(s: &str) -> Result<String, Rejected> {
    dns_name(s).ok_or_else(|| rule("is not a valid domain name"))
}

/// Option 26: RFC 2132 5.1, the MTU's minimum is 68.
pub fn interface_mtu(m: u16) -> Result<u16, Rejected> {
    if m >= 68 {
        Ok(m)
    } else {
        Err(rule(format!("MTU {m} is under the minimum of 68")))
    }
}

/// Options 121 and 249 (RFC 3442): routes, each a prefix width (0 to 32), the significant
/// octets of the destination, and a router (0.0.0.0: on-link). A width over 32 or a route cut
/// short makes the whole option malformed, as does an empty one (it would leave no route at
/// all while still overriding option 3). Bits of a destination beyond its width are cleared.
/// A route whose router is not a unicast address (or 0.0.0.0) is skipped on its own.
pub fn classless_routes(data: &[u8]) -> Result<Vec<Route>, Rejected> {
    if data.is_empty() {
        return Err(rule("holds no route"));
    }
    let mut routes = Vec::new();
    let mut rest = data;
    while let Some((&width, tail)) = rest.split_first() {
        if width > 32 {
            return Err(rule(format!("prefix width {width} is over 32")));
        }
        let octets = usize::from(width).div_ceil(8);
        if tail.len() < octets + 4 {
            return Err(rule("a route is cut short"));
        }
        let mut dest = [0u8; 4];
        dest[..octets].copy_from_slice(&tail[..octets]);
        let mask = u32::MAX.checked_shl(32 - u32::from(width)).unwrap_or(0);
        let dest = Ipv4Addr::from(u32::from_be_bytes(dest) & mask);
        let g = &tail[octets..octets + 4];
        let gateway = Ipv4Addr::new(g[0], g[1], g[2], g[3]);
        rest = &tail[octets + 4..];
        if !gateway.is_unspecified() && !is_usable_unicast(gateway) {
            debug!("route {dest}/{width} via {gateway}: not a unicast router, skipped");
            continue;
        }
        let route = Route {
            dest,
            prefix_len: width,
            gateway,
        };
        if !routes.contains(&route) {
            routes.push(route);
        }
    }
    Ok(routes)
}

/// Option 119 (RFC 3397, names compressed as in DNS messages): plausible names only, each
/// once; names that are not are skipped, and a list with none is left out.
pub fn search_list(names: &[Name]) -> Result<Vec<String>, Rejected> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let text = name.to_utf8();
        match dns_name(&text) {
            Some(n) if !out.contains(&n) => out.push(n),
            Some(_) => {}
            None => debug!(
                "option 119: {} is not a plausible domain name, skipped",
                Quoted(&text)
            ),
        }
    }
    if out.is_empty() {
        return Err(rule("holds no usable domain name"));
    }
    Ok(out)
}

/// Option 28: neither 0.0.0.0 nor multicast (whether it is the subnet's broadcast address is
/// for the lease to judge, with the mask).
pub fn broadcast(b: Ipv4Addr) -> Result<Ipv4Addr, Rejected> {
    if b.is_unspecified() || b.is_multicast() {
        Err(rule(format!("{b} cannot be a broadcast address")))
    } else {
        Ok(b)
    }
}

/// Option 56: the server's text, any bytes, kept printable (invalid UTF-8 replaced, control
/// characters dropped) so that it cannot garble a terminal or a log.
pub fn server_message(data: &[u8]) -> Result<String, Rejected> {
    Ok(String::from_utf8_lossy(data)
        .chars()
        .filter(|c| !c.is_control())
        .collect())
}

/// A message type as log lines name it: "OFFER", "ACK", …
pub fn kind_name(kind: MessageType) -> String {
    match kind {
        MessageType::Discover => "DISCOVER".into(),
        MessageType::Offer => "OFFER".into(),
        MessageType::Request => "REQUEST".into(),
        MessageType::Decline => "DECLINE".into(),
        MessageType::Ack => "ACK".into(),
        MessageType::Nak => "NAK".into(),
        MessageType::Release => "RELEASE".into(),
        MessageType::Inform => "INFORM".into(),
        other => format!("message type {}", u8::from(other)),
    }
}
