//! The interface's packet socket, as one value the driver owns: what goes out on the link
//! (DHCP messages as whole frames, ARP), what comes in (frames read into the core's inputs),
//! the ARP the kernel filter lets through, and the socket's own failures (reopened with a
//! growing pause). It knows nothing of the driver or of the protocol's state.

use crate::core::Dest;
use crate::frame::{self, ArpSeen};
use crate::reply::{kind_name, Reply};
use crate::shell::clock;
use crate::shell::netlink::{Link, Netlink};
use crate::shell::options::{io_err, RunError};
use crate::shell::rawsock::RawSocket;
use crate::time::Instant;
use crate::wire;
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tracing::{debug, info, warn};

/// The longest pause between attempts to reopen a failed packet socket.
const MAX_REOPEN_WAIT: Duration = Duration::from_secs(60);

/// Looks up the interface, and brings it up if it is down and `bring_up` says so.
pub async fn prepare_link(net: &Netlink, name: &str, bring_up: bool) -> Result<Link, RunError> {
    let mut link = net.link(name).await.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RunError::NoSuchInterface(name.to_string()),
        _ => io_err(format!("{name}: looking up the interface"))(e),
    })?;
    if !link.up && bring_up {
        net.set_up(link.index)
            .await
            .map_err(io_err(format!("{name}: bringing the interface up")))?;
        warn!("the interface was down: brought it up");
        link.up = true;
    }
    Ok(link)
}

/// Opens the DHCP packet socket on `link`.
pub fn open(link: &Link) -> Result<RawSocket, RunError> {
    RawSocket::dhcp(link.index).map_err(io_err(format!("{}: opening a raw socket", link.name)))
}

/// What came in on the packet socket, as the core's input.
pub enum Input {
    Reply(Box<Reply>),
    Unreadable { from: Ipv4Addr, why: String },
    Arp(ArpSeen),
}

/// A frame from the packet socket as the core's input: an ARP packet (while probing), a
/// typed reply, an unreadable DHCP message; None (with a debug line) for a frame that is not
/// a DHCP reply at all.
pub fn read_frame(bytes: &[u8], csum_not_ready: bool) -> Option<Input> {
    if let Some(seen) = frame::parse_arp(bytes) {
        return Some(Input::Arp(seen));
    }
    let dgram = frame::parse(bytes, csum_not_ready)
        .inspect_err(|e| debug!("dropping frame: {e}"))
        .ok()?;
    Some(match Reply::parse(dgram.payload, dgram.src_ip) {
        Ok(mut r) => {
            r.from_mac = Some(dgram.src_mac);
            Input::Reply(Box::new(r))
        }
        Err(e) => Input::Unreadable {
            from: dgram.src_ip,
            why: e.to_string(),
        },
    })
}

/// One interface's packet socket and what is set on it.
pub struct Port {
    /// The interface's name, for messages.
    name: Arc<str>,
    mac: [u8; 6],
    /// The socket; None while it is being reopened after an error (or, for a release with no
    /// daemon, until one is needed).
    sock: Option<RawSocket>,
    /// When to try reopening the socket, and the pause after the next failure (kept until a
    /// read succeeds again).
    reopen_at: Instant,
    reopen_wait: Duration,
    /// A read failed since the last good one (so that a failure is said once).
    read_failed: bool,
    /// The addresses whose ARP the core asked to see (set again on a reopened socket).
    arp_for: Vec<Ipv4Addr>,
    /// The address in use whose claims by others the core asked to see (RFC 5227 2.4).
    defend: Option<Ipv4Addr>,
    /// Where unicast messages to the server go on the link: the Ethernet source of the
    /// DHCPACK of the lease held (the server, or the relay agent that forwarded it). Unknown:
    /// Ethernet broadcast (the IP destination is still the server).
    server_mac: Option<[u8; 6]>,
    /// The Ethernet source of the latest DHCPACK, until its lease is configured.
    ack_mac: Option<[u8; 6]>,
}

impl Port {
    /// The packet socket `sock` (None: not open yet) of the interface `name` with hardware
    /// address `mac`.
    pub fn new(name: Arc<str>, mac: [u8; 6], sock: Option<RawSocket>) -> Port {
        Port {
            name,
            mac,
            sock,
            reopen_at: clock::now(),
            reopen_wait: Duration::ZERO,
            read_failed: false,
            arp_for: Vec::new(),
            defend: None,
            server_mac: None,
            ack_mac: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.sock.is_some()
    }

    /// Uses `sock` from now on (a release with no daemon opens one only when it sends).
    pub fn attach(&mut self, sock: RawSocket) {
        self.sock = Some(sock);
    }

    /// Where unicast messages to the server go, as saved with the lease.
    pub fn set_server_mac(&mut self, mac: Option<[u8; 6]>) {
        self.server_mac = mac;
    }

    pub fn server_mac(&self) -> Option<[u8; 6]> {
        self.server_mac
    }

    /// A DHCPACK came from `mac`: unicast goes there once its lease is configured.
    pub fn ack_from(&mut self, mac: Option<[u8; 6]>) {
        self.ack_mac = mac;
    }

    /// The lease of the latest DHCPACK is configured: its sender is the server's MAC now.
    pub fn ack_taken(&mut self) {
        if let Some(mac) = self.ack_mac.take() {
            self.server_mac = Some(mac);
        }
    }

    /// When the closed socket is to be reopened; None while it is open.
    pub fn reopen_at(&self) -> Option<Instant> {
        self.sock.is_none().then_some(self.reopen_at)
    }

    /// A frame, if one is there to read (at most `len` bytes), and whether its checksum is
    /// still to be done by the hardware.
    pub fn poll_recv(&self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<(Vec<u8>, bool)>> {
        match &self.sock {
            Some(s) => s.poll_recv(cx, len),
            None => Poll::Pending,
        }
    }

    /// Sends a DHCP message. Unicast messages (renewals, releases, a DHCPINFORM to a known
    /// server) go out through the packet socket too, as complete frames from the leased (or
    /// hand-set) address (ciaddr) to the server, at the MAC its DHCPACK came from, and a
    /// broadcast DHCPINFORM from that address to everyone: no UDP socket is needed, so the
    /// daemon needs no AF_INET socket at all (the unit forbids them), and each interface one
    /// descriptor less. The kernel, having no socket on port 68, answers the server's unicast
    /// reply with an ICMP port unreachable as well; servers ignore it, and the packet socket
    /// reads the reply (its filter takes UDP to port 68 whatever the IP destination).
    pub fn send(&self, msg: &dhcproto::v4::Message, dest: Dest) {
        let kind = msg.opts().msg_type().map(kind_name).unwrap_or_default();
        let payload = match wire::encode(msg) {
            Ok(p) => p,
            Err(e) => {
                warn!("{e}");
                return;
            }
        };
        let frame = match dest {
            Dest::Broadcast => frame::build_broadcast(self.mac, &payload),
            Dest::Unicast(server) => frame::build(
                self.mac,
                self.server_mac.unwrap_or(frame::BROADCAST_MAC),
                msg.ciaddr(),
                server,
                &payload,
            ),
            Dest::BroadcastFrom(src) => frame::build(
                self.mac,
                frame::BROADCAST_MAC,
                src,
                Ipv4Addr::BROADCAST,
                &payload,
            ),
        };
        match (self.send_frame(&frame), dest) {
            (Ok(()), Dest::Broadcast) => debug!("sent {kind} xid {:#010x}, broadcast", msg.xid()),
            (Ok(()), Dest::BroadcastFrom(src)) => {
                debug!("sent {kind} xid {:#010x}, broadcast from {src}", msg.xid())
            }
            (Ok(()), Dest::Unicast(to)) => debug!("sent {kind} xid {:#010x} to {to}", msg.xid()),
            // A lost send is retransmitted by the core's schedule; say why it was lost.
            (Err(e), _) => warn!("sending {kind}: {e}"),
        }
    }

    pub fn arp_probe(&self, target: Ipv4Addr) {
        self.send_arp(&frame::arp_probe(self.mac, target));
    }

    pub fn arp_announce(&self, addr: Ipv4Addr) {
        self.send_arp(&frame::arp_announce(self.mac, addr));
    }

    pub fn arp_request(&self, sender: Ipv4Addr, target: Ipv4Addr, to: Option<[u8; 6]>) {
        self.send_arp(&frame::arp_request(self.mac, sender, target, to));
    }

    fn send_arp(&self, frame: &[u8]) {
        if let Err(e) = self.send_frame(frame) {
            warn!("sending ARP: {e}");
        }
    }

    fn send_frame(&self, frame: &[u8]) -> io::Result<()> {
        match &self.sock {
            Some(sock) => sock.send(frame),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the packet socket is being reopened",
            )),
        }
    }

    /// Lets through ARP about exactly these addresses (none: no ARP).
    pub fn watch_arp(&mut self, addrs: Vec<Ipv4Addr>) {
        self.arp_for = addrs;
        self.set_arp();
    }

    /// Lets through ARP whose sender claims `addr` as well (None: not).
    pub fn defend(&mut self, addr: Option<Ipv4Addr>) {
        self.defend = addr;
        self.set_arp();
    }

    fn set_arp(&self) {
        if let Some(sock) = &self.sock {
            if let Err(e) = sock.set_arp(&self.arp_for, self.defend.as_slice()) {
                warn!("socket filter for ARP: {e}; conflict detection is off");
            }
        }
    }

    /// A read failed. The link going down leaves ENETDOWN on the socket, which the kernel
    /// hands on the next read, ahead of the frame that woke it, and re-attaches the socket
    /// when the link comes back: the socket is kept, so that frame is not lost (such as the
    /// router's answer when carrier returns). Any other error has the socket reopened. Said
    /// once until a read succeeds again.
    pub fn read_failed(&mut self, e: io::Error) {
        let name = &self.name;
        let repeated = std::mem::replace(&mut self.read_failed, true);
        if e.raw_os_error() == Some(libc::ENETDOWN) {
            if repeated {
                debug!("{name}: reading: {e}; the link went down again");
            } else {
                warn!("{name}: reading: {e}; the link went down");
            }
            return;
        }
        if repeated {
            debug!("{name}: reading: {e}; reopening the packet socket");
        } else {
            warn!("{name}: reading: {e}; reopening the packet socket");
        }
        self.sock = None;
        self.reopen_at = clock::now() + self.reopen_wait;
    }

    /// A read succeeded: the socket works.
    pub fn read_ok(&mut self) {
        if std::mem::take(&mut self.read_failed) {
            info!("{}: the packet socket reads again", self.name);
        }
        self.reopen_wait = Duration::ZERO;
    }

    /// Opens the packet socket again, on the interface of that name as it is now (it may have
    /// been removed and made again, with a new index, which is returned). The pause before
    /// the next attempt grows (1 s, 2 s, … a minute) until a read succeeds.
    pub async fn reopen(&mut self, net: &Netlink) -> Option<u32> {
        let opened = match net.link(&self.name).await {
            Ok(link) => RawSocket::dhcp(link.index)
                .and_then(|s| {
                    if !self.arp_for.is_empty() || self.defend.is_some() {
                        s.set_arp(&self.arp_for, self.defend.as_slice())?;
                    }
                    Ok(s)
                })
                .map(|s| (s, link.index)),
            Err(e) => Err(e),
        };
        self.reopen_wait = (self.reopen_wait * 2).clamp(Duration::from_secs(1), MAX_REOPEN_WAIT);
        match opened {
            Ok((s, index)) => {
                debug!("{}: packet socket reopened", self.name);
                self.sock = Some(s);
                Some(index)
            }
            Err(e) => {
                let again = self.reopen_wait.as_secs();
                debug!(
                    "{}: reopening the packet socket: {e}; again in {again} s",
                    self.name
                );
                self.reopen_at = clock::now() + self.reopen_wait;
                None
            }
        }
    }
}
