//! A scripted DHCPv6 server for the faults real servers will not make (wrong xids, foreign
//! client ids, malformed options, status codes, silence, two servers of different preference):
//! a UDP socket on [::]:547 joined to ff02::1:2 on the server's veth, in the server namespace.
//! Every client message is recorded ([`Received`]) and handed to a script, whose answers (raw
//! datagrams) go back to the client's address, port 546.
//!
//! Answers are built with [`Reply6`] (a message: type, xid, options) and the option encoders of
//! [`opt6`], which also make what no real server sends (a length that lies, an option cut
//! short). [`Plan6`] answers every message type the way a plain server would, as a starting
//! point to deviate from.
//!
//! Needs IPv6 on in the lab ([`super::Lab::enable_ipv6`]): the answers go out from the server's
//! link-local address.

use super::{wait_for, Lab, SERVER_IF};
use dhcproto::v6::{Message, MessageType};
use dhcproto::{Decodable, Decoder};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// All_DHCP_Relay_Agents_and_Servers.
const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// The fake server's DUID (DUID-LL of 02:00:00:00:00:01), in its Server Identifier.
pub const FAKE6_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];

/// One IA the client sent (IA_NA or IA_PD) with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenIa {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    /// IA Address options: (address, preferred, valid).
    pub addrs: Vec<(Ipv6Addr, u32, u32)>,
    /// IA Prefix options: (prefix, length, preferred, valid).
    pub prefixes: Vec<(Ipv6Addr, u8, u32, u32)>,
    /// Every option inside the IA: (code, data).
    pub options: Vec<(u16, Vec<u8>)>,
}

/// One message the fake server received, taken apart by hand (whatever its content).
#[derive(Debug, Clone)]
pub struct Received {
    /// The client's address and port (fe80::…%scope, 546).
    pub from: SocketAddrV6,
    /// The whole datagram.
    pub bytes: Vec<u8>,
    /// The message type (1 SOLICIT, 3 REQUEST, 5 RENEW, 6 REBIND, 8 RELEASE, 9 DECLINE, ...).
    pub msg_type: u8,
    /// The 24-bit transaction id.
    pub xid: u32,
    /// Top-level options in order: (code, data).
    pub options: Vec<(u16, Vec<u8>)>,
    /// Client Identifier (1): the DUID.
    pub client_id: Option<Vec<u8>>,
    /// Server Identifier (2): the DUID.
    pub server_id: Option<Vec<u8>>,
    pub ia_na: Vec<SeenIa>,
    pub ia_pd: Vec<SeenIa>,
    /// Option Request (6): the codes asked for.
    pub oro: Vec<u16>,
    /// Elapsed Time (8), hundredths of a second.
    pub elapsed: Option<u16>,
    /// Rapid Commit (14) present.
    pub rapid_commit: bool,
    /// The message or an option is cut short or has a length that does not fit.
    pub malformed: bool,
}

/// Splits `data` into (code, data) options; the flag says whether it did not split cleanly.
fn split_options(mut data: &[u8]) -> (Vec<(u16, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 4 {
            return (out, true);
        }
        let code = u16::from_be_bytes([data[0], data[1]]);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        if data.len() < 4 + len {
            return (out, true);
        }
        out.push((code, data[4..4 + len].to_vec()));
        data = &data[4 + len..];
    }
    (out, false)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn addr_at(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// An IA_NA or IA_PD body; `None` if too short.
fn parse_ia(data: &[u8], bad: &mut bool) -> Option<SeenIa> {
    if data.len() < 12 {
        *bad = true;
        return None;
    }
    let (options, cut) = split_options(&data[12..]);
    *bad |= cut;
    let mut ia = SeenIa {
        iaid: be32(&data[0..4]),
        t1: be32(&data[4..8]),
        t2: be32(&data[8..12]),
        addrs: Vec::new(),
        prefixes: Vec::new(),
        options,
    };
    for (code, d) in &ia.options {
        match code {
            5 if d.len() >= 24 => {
                ia.addrs
                    .push((addr_at(&d[0..16]), be32(&d[16..20]), be32(&d[20..24])))
            }
            26 if d.len() >= 25 => {
                ia.prefixes
                    .push((addr_at(&d[9..25]), d[8], be32(&d[0..4]), be32(&d[4..8])))
            }
            5 | 26 => *bad = true,
            _ => {}
        }
    }
    Some(ia)
}

impl Received {
    /// Takes `bytes` from `from` apart.
    pub fn parse(bytes: &[u8], from: SocketAddrV6) -> Received {
        let mut r = Received {
            from,
            bytes: bytes.to_vec(),
            msg_type: bytes.first().copied().unwrap_or(0),
            xid: 0,
            options: Vec::new(),
            client_id: None,
            server_id: None,
            ia_na: Vec::new(),
            ia_pd: Vec::new(),
            oro: Vec::new(),
            elapsed: None,
            rapid_commit: false,
            malformed: bytes.len() < 4,
        };
        if bytes.len() < 4 {
            return r;
        }
        r.xid = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]);
        let (options, cut) = split_options(&bytes[4..]);
        r.malformed |= cut;
        for (code, d) in &options {
            match code {
                1 => r.client_id = Some(d.clone()),
                2 => r.server_id = Some(d.clone()),
                3 => r.ia_na.extend(parse_ia(d, &mut r.malformed)),
                25 => r.ia_pd.extend(parse_ia(d, &mut r.malformed)),
                6 => {
                    r.malformed |= d.len() % 2 != 0;
                    r.oro = d
                        .chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect();
                }
                8 if d.len() == 2 => r.elapsed = Some(u16::from_be_bytes([d[0], d[1]])),
                8 => r.malformed = true,
                14 => r.rapid_commit = true,
                _ => {}
            }
        }
        r.options = options;
        r
    }

    /// The message type as dhcproto names it.
    pub fn kind(&self) -> MessageType {
        MessageType::from(self.msg_type)
    }

    /// Whether this is a message of type `t`.
    pub fn is(&self, t: MessageType) -> bool {
        self.msg_type == u8::from(t)
    }

    /// The data of the first top-level option `code`.
    pub fn option(&self, code: u16) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| d.as_slice())
    }

    /// The message decoded by dhcproto, when it can.
    pub fn message(&self) -> Option<Message> {
        Message::decode(&mut Decoder::new(&self.bytes)).ok()
    }
}

/// Option encoders: each returns one whole option (code, length, data) as bytes, to give to
/// [`Reply6::option`] or to nest in an IA.
pub mod opt6 {
    use std::net::Ipv6Addr;

    pub const CLIENT_ID: u16 = 1;
    pub const SERVER_ID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IA_ADDR: u16 = 5;
    pub const ORO: u16 = 6;
    pub const PREFERENCE: u16 = 7;
    pub const STATUS_CODE: u16 = 13;
    pub const RAPID_COMMIT: u16 = 14;
    pub const UNICAST: u16 = 12;
    pub const RECONF_MSG: u16 = 19;
    pub const DNS_SERVERS: u16 = 23;
    pub const DOMAIN_LIST: u16 = 24;
    pub const IA_PD: u16 = 25;
    pub const IA_PREFIX: u16 = 26;
    pub const INFORMATION_REFRESH_TIME: u16 = 32;
    pub const SOL_MAX_RT: u16 = 82;
    pub const INF_MAX_RT: u16 = 83;

    /// Status codes (RFC 8415 21.13).
    pub const SUCCESS: u16 = 0;
    pub const UNSPEC_FAIL: u16 = 1;
    pub const NO_ADDRS_AVAIL: u16 = 2;
    pub const NO_BINDING: u16 = 3;
    pub const NOT_ON_LINK: u16 = 4;
    pub const USE_MULTICAST: u16 = 5;
    pub const NO_PREFIX_AVAIL: u16 = 6;

    /// Option `code` holding `data`, its length field true.
    pub fn raw(code: u16, data: &[u8]) -> Vec<u8> {
        let len = u16::try_from(data.len()).expect("an option holds at most 65535 bytes");
        with_len(code, len, data)
    }

    /// Option `code` whose length field says `len` whatever `data` holds (a malformed option).
    pub fn with_len(code: u16, len: u16, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::with_capacity(4 + data.len());
        b.extend_from_slice(&code.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(data);
        b
    }

    pub fn client_id(duid: &[u8]) -> Vec<u8> {
        raw(CLIENT_ID, duid)
    }

    pub fn server_id(duid: &[u8]) -> Vec<u8> {
        raw(SERVER_ID, duid)
    }

    fn ia(code: u16, iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&iaid.to_be_bytes());
        d.extend_from_slice(&t1.to_be_bytes());
        d.extend_from_slice(&t2.to_be_bytes());
        d.extend(inner.concat());
        raw(code, &d)
    }

    /// IA_NA (3) `iaid` with T1, T2 and the options `inner` (IA Addresses, a status code).
    pub fn ia_na(iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
        ia(IA_NA, iaid, t1, t2, inner)
    }

    /// IA_PD (25) `iaid` with T1, T2 and the options `inner` (IA Prefixes, a status code).
    pub fn ia_pd(iaid: u32, t1: u32, t2: u32, inner: &[Vec<u8>]) -> Vec<u8> {
        ia(IA_PD, iaid, t1, t2, inner)
    }

    /// IA Address (5): `addr` with its preferred and valid lifetimes and options `inner`.
    pub fn ia_addr(addr: Ipv6Addr, preferred: u32, valid: u32, inner: &[Vec<u8>]) -> Vec<u8> {
        let mut d = addr.octets().to_vec();
        d.extend_from_slice(&preferred.to_be_bytes());
        d.extend_from_slice(&valid.to_be_bytes());
        d.extend(inner.concat());
        raw(IA_ADDR, &d)
    }

    /// IA Prefix (26): `prefix/len` with its preferred and valid lifetimes and options `inner`.
    pub fn ia_prefix(
        prefix: Ipv6Addr,
        len: u8,
        preferred: u32,
        valid: u32,
        inner: &[Vec<u8>],
    ) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&preferred.to_be_bytes());
        d.extend_from_slice(&valid.to_be_bytes());
        d.push(len);
        d.extend_from_slice(&prefix.octets());
        d.extend(inner.concat());
        raw(IA_PREFIX, &d)
    }

    /// Status Code (13): `code` and the UTF-8 `message`.
    pub fn status(code: u16, message: &str) -> Vec<u8> {
        let mut d = code.to_be_bytes().to_vec();
        d.extend_from_slice(message.as_bytes());
        raw(STATUS_CODE, &d)
    }

    /// Preference (7).
    pub fn preference(value: u8) -> Vec<u8> {
        raw(PREFERENCE, &[value])
    }

    /// Rapid Commit (14): no data.
    pub fn rapid_commit() -> Vec<u8> {
        raw(RAPID_COMMIT, &[])
    }

    /// Server Unicast (12): the address to send to.
    pub fn unicast(addr: Ipv6Addr) -> Vec<u8> {
        raw(UNICAST, &addr.octets())
    }

    /// DNS Recursive Name Servers (23).
    pub fn dns(servers: &[Ipv6Addr]) -> Vec<u8> {
        let d: Vec<u8> = servers.iter().flat_map(|a| a.octets()).collect();
        raw(DNS_SERVERS, &d)
    }

    /// Domain Search List (24), each name in DNS wire form ("example.com" -> 7example3com0).
    pub fn domains(names: &[&str]) -> Vec<u8> {
        let mut d = Vec::new();
        for name in names {
            for label in name.split('.').filter(|l| !l.is_empty()) {
                d.push(u8::try_from(label.len()).expect("a label of at most 63 bytes"));
                d.extend_from_slice(label.as_bytes());
            }
            d.push(0);
        }
        raw(DOMAIN_LIST, &d)
    }

    /// Information Refresh Time (32), seconds.
    pub fn information_refresh_time(secs: u32) -> Vec<u8> {
        raw(INFORMATION_REFRESH_TIME, &secs.to_be_bytes())
    }

    /// SOL_MAX_RT (82), seconds.
    pub fn sol_max_rt(secs: u32) -> Vec<u8> {
        raw(SOL_MAX_RT, &secs.to_be_bytes())
    }
}

/// A DHCPv6 message being built: a type, a transaction id, options in order.
#[derive(Debug, Clone)]
pub struct Reply6 {
    pub msg_type: u8,
    pub xid: u32,
    /// Whole encoded options, in order.
    pub options: Vec<Vec<u8>>,
}

impl Reply6 {
    /// A message of type `kind` with transaction id `xid` and no options.
    pub fn new(kind: MessageType, xid: u32) -> Reply6 {
        Reply6 {
            msg_type: u8::from(kind),
            xid,
            options: Vec::new(),
        }
    }

    /// A message of type `kind` answering `req`: its xid, its Client Identifier echoed, the
    /// fake's Server Identifier ([`FAKE6_DUID`]).
    pub fn to(req: &Received, kind: MessageType) -> Reply6 {
        let mut r = Reply6::new(kind, req.xid);
        if let Some(duid) = &req.client_id {
            r.options.push(opt6::client_id(duid));
        }
        r.options.push(opt6::server_id(&FAKE6_DUID));
        r
    }

    /// [`Reply6::to`] of type ADVERTISE.
    pub fn advertise(req: &Received) -> Reply6 {
        Reply6::to(req, MessageType::Advertise)
    }

    /// [`Reply6::to`] of type REPLY.
    pub fn reply(req: &Received) -> Reply6 {
        Reply6::to(req, MessageType::Reply)
    }

    /// Another message type (any byte, unknown ones too).
    pub fn msg_type(mut self, t: u8) -> Self {
        self.msg_type = t;
        self
    }

    /// Another transaction id (24 bits).
    pub fn xid(mut self, xid: u32) -> Self {
        self.xid = xid;
        self
    }

    /// Adds an encoded option (from [`opt6`], or any bytes: they go in as given).
    pub fn option(mut self, bytes: Vec<u8>) -> Self {
        self.options.push(bytes);
        self
    }

    /// Removes every top-level option `code`.
    pub fn without(mut self, code: u16) -> Self {
        self.options
            .retain(|o| o.len() < 2 || u16::from_be_bytes([o[0], o[1]]) != code);
        self
    }

    /// Replaces the Server Identifier.
    pub fn server_id(self, duid: &[u8]) -> Self {
        self.without(opt6::SERVER_ID).option(opt6::server_id(duid))
    }

    /// Replaces the Client Identifier.
    pub fn client_id(self, duid: &[u8]) -> Self {
        self.without(opt6::CLIENT_ID).option(opt6::client_id(duid))
    }

    /// Adds an IA_NA holding `addrs`: (address, preferred, valid).
    pub fn ia_na(self, iaid: u32, t1: u32, t2: u32, addrs: &[(Ipv6Addr, u32, u32)]) -> Self {
        let inner: Vec<Vec<u8>> = addrs
            .iter()
            .map(|&(a, p, v)| opt6::ia_addr(a, p, v, &[]))
            .collect();
        self.option(opt6::ia_na(iaid, t1, t2, &inner))
    }

    /// Adds an IA_PD holding `prefixes`: (prefix, length, preferred, valid).
    pub fn ia_pd(self, iaid: u32, t1: u32, t2: u32, prefixes: &[(Ipv6Addr, u8, u32, u32)]) -> Self {
        let inner: Vec<Vec<u8>> = prefixes
            .iter()
            .map(|&(p, l, pr, v)| opt6::ia_prefix(p, l, pr, v, &[]))
            .collect();
        self.option(opt6::ia_pd(iaid, t1, t2, &inner))
    }

    /// Adds an IA_NA holding only a status code (e.g. NoAddrsAvail, NoBinding).
    pub fn ia_na_status(self, iaid: u32, code: u16, message: &str) -> Self {
        self.option(opt6::ia_na(iaid, 0, 0, &[opt6::status(code, message)]))
    }

    /// Adds an IA_PD holding only a status code (e.g. NoPrefixAvail, NoBinding).
    pub fn ia_pd_status(self, iaid: u32, code: u16, message: &str) -> Self {
        self.option(opt6::ia_pd(iaid, 0, 0, &[opt6::status(code, message)]))
    }

    /// Adds a top-level Status Code.
    pub fn status(self, code: u16, message: &str) -> Self {
        self.option(opt6::status(code, message))
    }

    pub fn dns(self, servers: &[Ipv6Addr]) -> Self {
        self.option(opt6::dns(servers))
    }

    pub fn domains(self, names: &[&str]) -> Self {
        self.option(opt6::domains(names))
    }

    pub fn preference(self, value: u8) -> Self {
        self.option(opt6::preference(value))
    }

    pub fn rapid_commit(self) -> Self {
        self.option(opt6::rapid_commit())
    }

    /// The datagram.
    pub fn build(&self) -> Vec<u8> {
        let mut b = vec![self.msg_type];
        b.extend_from_slice(&self.xid.to_be_bytes()[1..]);
        for o in &self.options {
            b.extend_from_slice(o);
        }
        b
    }
}

/// How a plain server answers ([`Plan6::answer`]): the address and prefix it gives and their
/// times; a starting point for scripts that deviate in one place.
#[derive(Debug, Clone)]
pub struct Plan6 {
    pub addr: Ipv6Addr,
    /// (prefix, length).
    pub prefix: (Ipv6Addr, u8),
    pub t1: u32,
    pub t2: u32,
    pub preferred: u32,
    pub valid: u32,
    pub dns: Vec<Ipv6Addr>,
    pub domains: Vec<String>,
    /// Answer a SOLICIT carrying Rapid Commit with a REPLY (with Rapid Commit).
    pub rapid_commit: bool,
}

impl Default for Plan6 {
    /// 2001:db8:1::66 and 2001:db8:ff00:6600::/56, T1 100 s, T2 160 s, preferred 200 s,
    /// valid 300 s, DNS 2001:db8:1::53, domain fake.test, no rapid commit.
    fn default() -> Self {
        Plan6 {
            addr: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x66),
            prefix: (Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0x6600, 0, 0, 0, 0), 56),
            t1: 100,
            t2: 160,
            preferred: 200,
            valid: 300,
            dns: vec![Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53)],
            domains: vec!["fake.test".into()],
            rapid_commit: false,
        }
    }
}

impl Plan6 {
    /// The answer a plain server gives `req`, as a builder to change before
    /// [`Reply6::build`]; `None` for a message a server does not answer (ADVERTISE, REPLY,
    /// relay messages...). SOLICIT: ADVERTISE (REPLY with Rapid Commit when both sides want
    /// it); REQUEST, RENEW, REBIND: REPLY; these with every IA of `req` filled (IA_NA with
    /// `addr`, IA_PD with `prefix`) and the DNS options. CONFIRM, RELEASE, DECLINE: REPLY
    /// with status Success. INFORMATION-REQUEST: REPLY with the DNS options.
    pub fn reply_to(&self, req: &Received) -> Option<Reply6> {
        let t = req.kind();
        let with_ias = |mut r: Reply6| {
            for ia in &req.ia_na {
                r = r.ia_na(
                    ia.iaid,
                    self.t1,
                    self.t2,
                    &[(self.addr, self.preferred, self.valid)],
                );
            }
            for ia in &req.ia_pd {
                let (p, l) = self.prefix;
                r = r.ia_pd(
                    ia.iaid,
                    self.t1,
                    self.t2,
                    &[(p, l, self.preferred, self.valid)],
                );
            }
            self.with_dns(r)
        };
        Some(match t {
            MessageType::Solicit if self.rapid_commit && req.rapid_commit => {
                with_ias(Reply6::reply(req)).rapid_commit()
            }
            MessageType::Solicit => with_ias(Reply6::advertise(req)),
            MessageType::Request | MessageType::Renew | MessageType::Rebind => {
                with_ias(Reply6::reply(req))
            }
            MessageType::Confirm | MessageType::Release | MessageType::Decline => {
                Reply6::reply(req).status(opt6::SUCCESS, "")
            }
            MessageType::InformationRequest => self.with_dns(Reply6::reply(req)),
            _ => return None,
        })
    }

    /// [`Plan6::reply_to`] built: the script of a plain server.
    pub fn answer(&self, req: &Received) -> Vec<Vec<u8>> {
        self.reply_to(req).map(|r| r.build()).into_iter().collect()
    }

    fn with_dns(&self, mut r: Reply6) -> Reply6 {
        if !self.dns.is_empty() {
            r = r.dns(&self.dns);
        }
        if !self.domains.is_empty() {
            let names: Vec<&str> = self.domains.iter().map(String::as_str).collect();
            r = r.domains(&names);
        }
        r
    }
}

/// Decides the answers (whole datagrams, sent to the client's address in order) to one
/// client message.
pub type Script6 = Box<dyn FnMut(&Received) -> Vec<Vec<u8>> + Send>;

/// The scripted server; stops on drop.
pub struct Fake6 {
    socket: UdpSocket,
    stop: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<Received>>>,
    sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Fake6 {
    /// Starts the fake on the server's veth in `lab`'s server namespace, answering with
    /// `script`. Returns once its socket is bound and joined to ff02::1:2.
    pub fn start(
        lab: &Lab,
        script: impl FnMut(&Received) -> Vec<Vec<u8>> + Send + 'static,
    ) -> Fake6 {
        Fake6::start_in(&lab.server_ns, SERVER_IF, script)
    }

    /// [`Fake6::start`] on interface `ifname` of namespace `ns`. Several fakes may share an
    /// interface: each gets every multicast message (two servers on one link).
    pub fn start_in(
        ns: &str,
        ifname: &str,
        script: impl FnMut(&Received) -> Vec<Vec<u8>> + Send + 'static,
    ) -> Fake6 {
        let ifname = ifname.to_string();
        let socket = super::in_namespace(ns, move || {
            let index = nix::net::if_::if_nametoindex(ifname.as_str())
                .unwrap_or_else(|e| panic!("{ifname}: {e}"));
            let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
            s.set_only_v6(true).unwrap();
            s.set_reuse_address(true).unwrap();
            s.bind_device(Some(ifname.as_bytes()))
                .expect("SO_BINDTODEVICE");
            s.bind(&SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 547, 0, 0).into())
                .expect("binding [::]:547 in the lab");
            s.join_multicast_v6(&ALL_SERVERS, index)
                .expect("joining ff02::1:2");
            s.set_multicast_loop_v6(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            UdpSocket::from(s)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sent = Arc::new(AtomicUsize::new(0));
        let (sock, stop2, received2, sent2) = (
            socket.try_clone().expect("cloning the fake's socket"),
            stop.clone(),
            received.clone(),
            sent.clone(),
        );
        let mut script = script;
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((n, std::net::SocketAddr::V6(from))) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let msg = Received::parse(&buf[..n], from);
                received2.lock().unwrap().push(msg.clone());
                for reply in script(&msg) {
                    if sock.send_to(&reply, from).is_ok() {
                        sent2.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        Fake6 {
            socket,
            stop,
            received,
            sent,
            thread: Some(thread),
        }
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many messages of type `t` came.
    pub fn count(&self, t: MessageType) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.is(t))
            .count()
    }

    /// Waits (at most `limit`) for a message for which `pred` holds, among those received so
    /// far and to come; returns the first such.
    pub fn wait_for(&self, limit: Duration, pred: impl Fn(&Received) -> bool) -> Option<Received> {
        let mut found = None;
        wait_for(limit, || {
            found = self
                .received
                .lock()
                .unwrap()
                .iter()
                .find(|r| pred(r))
                .cloned();
            found.is_some()
        });
        found
    }

    /// Waits (at most `limit`) for a message of type `t`.
    pub fn wait_kind(&self, t: MessageType, limit: Duration) -> Option<Received> {
        self.wait_for(limit, |r| r.is(t))
    }

    /// Sends `datagram` to `to` unasked (a RECONFIGURE, a reply out of turn).
    pub fn send(&self, datagram: &[u8], to: SocketAddrV6) {
        self.socket
            .send_to(datagram, to)
            .expect("sending from the fake server");
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// How many datagrams the fake sent.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for Fake6 {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let seen: Vec<String> = self
                .received()
                .iter()
                .map(|r| format!("{:?} xid {:06x} from {}", r.kind(), r.xid, r.from))
                .collect();
            eprintln!("the fake DHCPv6 server received:\n{}", seen.join("\n"));
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
