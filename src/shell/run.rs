//! One interface's driver: turns socket reads and timer expiries into core events and carries
//! out the core's actions. No protocol decision is made here.

use crate::core::{Action, Client, Config, Dest, Event, Reason};
use crate::frame;
use crate::lease::Lease;
use crate::shell::clock;
use crate::shell::netlink::{Link, Netlink};
use crate::shell::rawsock::RawSocket;
use crate::shell::resolv;
use crate::wire;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;
use tracing::{debug, info, warn};

/// How dhcpc runs one interface.
#[derive(Debug, Clone)]
pub struct IfaceOptions {
    pub name: String,
    /// Metric of the default route.
    pub metric: u32,
    /// Where DNS settings go; None leaves resolv.conf alone.
    pub resolv_conf: Option<PathBuf>,
    pub broadcast_flag: bool,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    /// Stop once bound (leaving the address configured).
    pub oneshot: bool,
    /// Give up if not bound within this time.
    pub timeout: Duration,
}

/// Why an interface could not be run; each maps to a clear message and an exit status.
#[derive(Debug)]
pub enum RunError {
    NoSuchInterface(String),
    Permission(String, io::Error),
    NoLease(String, Duration),
    Io(String, io::Error),
}

impl RunError {
    /// The process exit status for this error (documented in dhcpc(8)).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::NoLease(..) => 1,
            _ => 3,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NoSuchInterface(n) => {
                write!(f, "{n}: no such interface (see `ip link` for the names)")
            }
            RunError::Permission(what, e) => write!(
                f,
                "{what}: {e}: dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; run it as root"
            ),
            RunError::NoLease(n, t) => write!(
                f,
                "{n}: no lease after {} s: no DHCP server answered (see --timeout)",
                t.as_secs()
            ),
            RunError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            RunError::Permission(what, e)
        } else {
            RunError::Io(what, e)
        }
    }
}

/// Looks up the interface and brings it up if it is down.
pub async fn prepare_link(net: &Netlink, name: &str) -> Result<Link, RunError> {
    let link = net.link(name).await.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RunError::NoSuchInterface(name.to_string()),
        _ => io_err(format!("{name}: looking up the interface"))(e),
    })?;
    if !link.up {
        net.set_up(link.index)
            .await
            .map_err(io_err(format!("{name}: bringing the interface up")))?;
        warn!("{name} was down: brought it up");
    }
    Ok(link)
}

/// A UDP socket on port 68 of one interface, for unicast renewals and releases.
fn unicast_socket(ifname: &str) -> io::Result<tokio::net::UdpSocket> {
    use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn};
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    socket::setsockopt(
        &fd,
        sockopt::BindToDevice,
        &std::ffi::OsString::from(ifname),
    )?;
    socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, frame::CLIENT_PORT)),
    )?;
    tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd))
}

/// The running state of one interface in the shell.
pub struct Driver {
    opts: IfaceOptions,
    link: Link,
    net: Netlink,
    sock: RawSocket,
    udp: Option<tokio::net::UdpSocket>,
    client: Client,
    /// The lease currently on the interface, as applied.
    applied: Option<Lease>,
}

impl Driver {
    pub async fn new(opts: IfaceOptions, net: Netlink) -> Result<Driver, RunError> {
        let link = prepare_link(&net, &opts.name).await?;
        let sock = RawSocket::open(link.index)
            .map_err(io_err(format!("{}: opening a raw socket", opts.name)))?;
        let mut config = Config::new(link.mac);
        config.broadcast_flag = opts.broadcast_flag;
        config.hostname = opts.hostname.clone();
        config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
        if let Some(mtu) = link.mtu {
            config.max_message_size = mtu.clamp(576, 65535).saturating_sub(28) as u16;
        }
        let seed = fastrand::u64(..)
            ^ u64::from_le_bytes([
                link.mac[0],
                link.mac[1],
                link.mac[2],
                link.mac[3],
                link.mac[4],
                link.mac[5],
                0,
                0,
            ]);
        Ok(Driver {
            client: Client::new(config, seed),
            opts,
            link,
            net,
            sock,
            udp: None,
            applied: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.opts.name
    }

    /// Runs the interface: until bound in oneshot mode (returning the lease), otherwise for as
    /// long as the process lives.
    pub async fn run(mut self) -> Result<Option<Lease>, RunError> {
        let started = clock::now();
        let give_up = started + self.opts.timeout;
        let mut buf = vec![0u8; 4096];
        let mut udp_buf = [0u8; 1];
        let actions = self.client.handle(started, Event::Start);
        if let Some(lease) = self.perform(actions).await? {
            return Ok(Some(lease));
        }
        loop {
            let next = self.client.poll_at();
            let bound = self.applied.is_some();
            let (sock, udp) = (&self.sock, self.udp.as_ref());
            let event = tokio::select! {
                r = sock.recv(&mut buf) => {
                    let (len, csum_not_ready) = r.map_err(io_err(format!("{}: reading", self.opts.name)))?;
                    Some((len, csum_not_ready))
                }
                _ = clock::sleep_until(next.unwrap_or(give_up)), if next.is_some() => None,
                _ = clock::sleep_until(give_up), if !bound => {
                    return Err(RunError::NoLease(self.opts.name.clone(), self.opts.timeout));
                }
                // Replies to unicast renewals reach the raw socket too; the UDP socket's copy is
                // read and dropped so that its queue never fills.
                _ = async {
                    match udp {
                        Some(u) => { let _ = u.recv(&mut udp_buf).await; }
                        None => std::future::pending::<()>().await,
                    }
                } => continue,
            };
            let now = clock::now();
            let actions = match event {
                Some((len, csum_not_ready)) => match decode_frame(&buf[..len], csum_not_ready) {
                    Some(msg) => self.client.handle(now, Event::Message(&msg)),
                    None => continue,
                },
                None => self.client.handle(now, Event::Tick),
            };
            if let Some(lease) = self.perform(actions).await? {
                return Ok(Some(lease));
            }
        }
    }

    /// Carries out the core's actions. Returns the lease when oneshot mode is done.
    async fn perform(&mut self, actions: Vec<Action>) -> Result<Option<Lease>, RunError> {
        let mut done = None;
        for action in actions {
            match action {
                Action::Send { msg, dest } => self.send(&msg, dest).await,
                Action::Configure { lease, previous } => {
                    self.configure(&lease, previous.as_ref()).await?;
                    if self.opts.oneshot {
                        done = Some(lease);
                    }
                }
                Action::Deconfigure { lease, reason } => self.deconfigure(&lease, reason).await,
            }
        }
        Ok(done)
    }

    async fn send(&mut self, msg: &dhcproto::v4::Message, dest: Dest) {
        let payload = match wire::encode(msg) {
            Ok(p) => p,
            Err(e) => {
                warn!("{e}");
                return;
            }
        };
        let kind = wire::message_type(msg);
        let result = match dest {
            Dest::Broadcast => {
                let frame = frame::build_broadcast(self.link.mac, &payload);
                self.sock.send(&frame, frame::BROADCAST_MAC)
            }
            Dest::Unicast(server) => {
                if self.udp.is_none() {
                    self.udp = unicast_socket(&self.opts.name)
                        .inspect_err(|e| warn!("UDP socket: {e}"))
                        .ok();
                }
                match &self.udp {
                    Some(u) => u
                        .send_to(&payload, SocketAddrV4::new(server, frame::SERVER_PORT))
                        .await
                        .map(|_| ()),
                    None => Ok(()),
                }
            }
        };
        match result {
            Ok(()) => debug!("sent {kind:?} xid {:#010x} to {dest:?}", msg.xid()),
            // A lost send is retransmitted by the core's schedule; say why it was lost.
            Err(e) => warn!("sending {kind:?}: {e}"),
        }
    }

    async fn configure(&mut self, lease: &Lease, previous: Option<&Lease>) -> Result<(), RunError> {
        let name = self.opts.name.clone();
        let index = self.link.index;
        let now = clock::now();
        if let Some(old) = previous.or(self.applied.as_ref()).cloned() {
            if old.address != lease.address || old.prefix_len != lease.prefix_len {
                self.deconfigure(&old, Reason::Released).await;
            } else if old.routers.first() != lease.routers.first() {
                if let Some(gw) = old.routers.first() {
                    let _ = self
                        .net
                        .del_default_route(index, &old, *gw, self.opts.metric)
                        .await;
                }
            }
        }
        self.net
            .add_address(index, lease, now)
            .await
            .map_err(io_err(format!("{name}: adding address {}", lease.address)))?;
        if let Some(gw) = lease.routers.first() {
            if let Err(e) = self
                .net
                .add_default_route(index, lease, *gw, self.opts.metric)
                .await
            {
                warn!("adding default route via {gw}: {e}");
            }
        }
        if let Some(path) = &self.opts.resolv_conf {
            if !lease.dns.is_empty() || lease.domain.is_some() {
                if let Err(e) = resolv::apply(path, &name, lease) {
                    warn!("writing {}: {e}", path.display());
                }
            }
        }
        let renewed = self
            .applied
            .as_ref()
            .is_some_and(|a| a.address == lease.address);
        if renewed {
            info!(
                "renewed {}, lease {}",
                lease.address,
                crate::lease::human_secs(lease.lease_secs)
            );
        } else {
            info!("bound {lease}");
        }
        self.applied = Some(lease.clone());
        Ok(())
    }

    async fn deconfigure(&mut self, lease: &Lease, reason: Reason) {
        let index = self.link.index;
        if let Some(gw) = lease.routers.first() {
            if let Err(e) = self
                .net
                .del_default_route(index, lease, *gw, self.opts.metric)
                .await
            {
                warn!("removing default route via {gw}: {e}");
            }
        }
        if let Err(e) = self
            .net
            .del_address(index, lease.address, lease.prefix_len)
            .await
        {
            warn!("removing {}: {e}", lease.address);
        }
        if let Some(path) = &self.opts.resolv_conf {
            if let Err(e) = resolv::restore(path) {
                warn!("restoring {}: {e}", path.display());
            }
        }
        info!("removed {} ({reason:?})", lease.address);
        self.applied = None;
    }
}

/// Frame → DHCP message, or None (with a debug line) for anything that is not a good reply.
fn decode_frame(bytes: &[u8], csum_not_ready: bool) -> Option<dhcproto::v4::Message> {
    let dgram = frame::parse(bytes, csum_not_ready)
        .inspect_err(|e| debug!("dropping frame: {e}"))
        .ok()?;
    wire::decode(dgram.payload)
        .inspect_err(|e| debug!("dropping message from {}: {e}", dgram.src_ip))
        .ok()
}
