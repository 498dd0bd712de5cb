//! One interface's driver: turns socket reads and timer expiries into core events and carries
//! out the core's actions. No protocol decision is made here.

use crate::core::{Action, Client, Config, Dest, Event, ProbeMode, Reason};
use crate::frame;
use crate::lease::Lease;
use crate::leasefile;
use crate::shell::clock;
use crate::shell::files::Files;
use crate::shell::netlink::{Link, Netlink};
use crate::shell::rawsock::RawSocket;
use crate::wire;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// How dhcpc runs one interface.
#[derive(Debug, Clone)]
pub struct IfaceOptions {
    pub name: String,
    /// Metric of the default route.
    pub metric: u32,
    pub broadcast_flag: bool,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    /// Stop once bound (leaving the address configured).
    pub oneshot: bool,
    /// Give up if not bound within this time.
    pub timeout: Duration,
    /// Address conflict detection (RFC 5227).
    pub probe: ProbeMode,
    /// Where the lease is saved (`IFACE.lease`); None saves nothing.
    pub lease_dir: Option<PathBuf>,
    /// Control sockets, pid file and saved resolv.conf.
    pub run_dir: PathBuf,
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

/// A request from the control socket (or the signal handler) to one interface's driver.
#[derive(Debug)]
pub enum Command {
    /// Renew now (`dhcpc -n`, or a second `dhcpc IFACE`).
    Renew,
    /// Send DHCPRELEASE, remove the lease and stop (`dhcpc -r`).
    Release,
    /// Stop and keep the lease (`dhcpc -x`, SIGTERM).
    Stop,
    /// Report the state (`dhcpc --status`).
    Status(oneshot::Sender<serde_json::Value>),
}

/// How a driver ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Oneshot mode: bound with this lease.
    Bound(Lease),
    Released,
    Stopped,
}

/// What a driver reports once, when it first binds or when it gives up waiting.
pub type Ready = oneshot::Sender<Result<Lease, RunError>>;

/// The running state of one interface in the shell.
pub struct Driver {
    opts: IfaceOptions,
    link: Link,
    net: Netlink,
    files: Files,
    sock: RawSocket,
    udp: Option<tokio::net::UdpSocket>,
    client: Client,
    /// The lease currently on the interface, as applied.
    applied: Option<Lease>,
    ready: Option<Ready>,
    /// Told after every change to the interface, so that the daemon can shrink once quiet.
    settled: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl Driver {
    pub async fn new(opts: IfaceOptions, net: Netlink, files: Files) -> Result<Driver, RunError> {
        let link = prepare_link(&net, &opts.name).await?;
        let sock = RawSocket::dhcp(link.index)
            .map_err(io_err(format!("{}: opening a raw socket", opts.name)))?;
        let mut config = Config::new(link.mac);
        config.broadcast_flag = opts.broadcast_flag;
        config.hostname = opts.hostname.clone();
        config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
        config.probe = opts.probe;
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
        let mut client = Client::new(config, seed);
        if let Some(saved) = load_lease(&opts, &link.mac) {
            client = client.with_saved_lease(saved);
        }
        Ok(Driver {
            client,
            opts,
            link,
            net,
            files,
            sock,
            udp: None,
            applied: None,
            ready: None,
            settled: None,
        })
    }

    /// Asks to be told when the interface first binds (or gives up waiting).
    pub fn notify_ready(&mut self, ready: Ready) {
        self.ready = Some(ready);
    }

    /// Asks to be told after every lease event (bind, renewal, removal).
    pub fn notify_changes(&mut self, settled: std::sync::Arc<tokio::sync::Notify>) {
        self.settled = Some(settled);
    }

    /// Releases the saved lease of an interface no daemon runs for (`dhcpc -r` alone):
    /// DHCPRELEASE to the server, address and route removed, resolv.conf restored, lease file
    /// deleted. Returns the released lease, or None if there was no unexpired saved lease.
    pub async fn release_saved(mut self) -> Result<Option<Lease>, RunError> {
        let Some(lease) = load_lease(&self.opts, &self.link.mac) else {
            return Ok(None);
        };
        self.client = self.client.into_bound(lease.clone());
        self.applied = Some(lease.clone());
        self.files.adopt_dns(&self.opts.name, &lease);
        let actions = self.client.handle(clock::now(), Event::Release);
        self.perform(actions).await?;
        self.files.flush().await;
        Ok(Some(lease))
    }

    /// Runs the interface: until bound in oneshot mode, until released or stopped otherwise.
    /// Returns once the files it changed (lease, resolv.conf) are on disk.
    /// `commands` is dropped last: whoever waits for it to close (the control socket answering
    /// a release or stop) is answered once the files are written.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Result<Ended, RunError> {
        let result = self.drive(&mut commands).await;
        self.files.flush().await;
        drop(commands);
        result
    }

    async fn drive(&mut self, commands: &mut mpsc::Receiver<Command>) -> Result<Ended, RunError> {
        let started = clock::now();
        let give_up = started + self.opts.timeout;
        // One frame at most: the link's MTU plus the Ethernet header (never under the 576-byte
        // minimum every DHCP client must accept).
        let mtu = self.link.mtu.unwrap_or(1500).clamp(576, 9000) as usize;
        let mut buf = vec![0u8; mtu + 14];
        let mut udp_buf = [0u8; 1];
        let timer = clock::BootTimer::new()
            .map_err(io_err(format!("{}: creating a timer", self.opts.name)))?;
        let actions = self.client.handle(started, Event::Start);
        if let Some(end) = self.perform(actions).await? {
            return Ok(end);
        }
        loop {
            let next = self.client.poll_at();
            let waiting = self.applied.is_none() && (self.opts.oneshot || self.ready.is_some());
            let (sock, udp) = (&self.sock, self.udp.as_ref());
            let event = tokio::select! {
                r = sock.recv(&mut buf) => {
                    let (len, csum_not_ready) = r.map_err(io_err(format!("{}: reading", self.opts.name)))?;
                    // ARP reaches us only while probing (the filter lets it through then).
                    if let Some(seen) = frame::parse_arp(&buf[..len]) {
                        Input::Arp(seen)
                    } else {
                        match decode_frame(&buf[..len], csum_not_ready) {
                            Some(msg) => Input::Message(Box::new(msg)),
                            None => continue,
                        }
                    }
                }
                r = timer.sleep_until(next.unwrap_or(give_up)), if next.is_some() => {
                    r.map_err(io_err(format!("{}: timer", self.opts.name)))?;
                    Input::Tick
                }
                _ = clock::sleep_until(give_up), if waiting => {
                    let err = RunError::NoLease(self.opts.name.clone(), self.opts.timeout);
                    if self.opts.oneshot {
                        return Err(err);
                    }
                    warn!("{err}; still trying");
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(err));
                    }
                    continue;
                }
                cmd = commands.recv() => match cmd {
                    Some(Command::Renew) => Input::Renew,
                    Some(Command::Release) => Input::Release,
                    Some(Command::Stop) | None => {
                        info!("stopping; the lease stays for next time");
                        return Ok(Ended::Stopped);
                    }
                    Some(Command::Status(reply)) => {
                        let _ = reply.send(self.status());
                        continue;
                    }
                },
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
            let actions = match &event {
                Input::Message(msg) => self.client.handle(now, Event::Message(msg)),
                Input::Arp(seen) => self.client.handle(now, Event::Arp(*seen)),
                Input::Tick => self.client.handle(now, Event::Tick),
                Input::Renew => self.client.handle(now, Event::Renew),
                Input::Release => {
                    let actions = self.client.handle(now, Event::Release);
                    if actions.is_empty() {
                        info!("nothing to release");
                        if let Some(path) = lease_path(&self.opts) {
                            self.files.remove_lease(path);
                        }
                    }
                    self.perform(actions).await?;
                    return Ok(Ended::Released);
                }
            };
            if let Some(end) = self.perform(actions).await? {
                return Ok(end);
            }
        }
    }

    /// The interface's state for `dhcpc --status`, as JSON.
    fn status(&self) -> serde_json::Value {
        let now = clock::now();
        let mut v = serde_json::json!({
            "interface": self.opts.name,
            "state": format!("{:?}", self.client.state()).to_uppercase(),
        });
        if let Some(lease) = self.client.lease() {
            let secs_to =
                |at: Option<crate::time::Instant>| at.map(|at| at.saturating_since(now).as_secs());
            v["address"] = lease.address.to_string().into();
            v["prefix_len"] = lease.prefix_len.into();
            v["server"] = lease.server_id.to_string().into();
            v["routers"] = lease.routers.iter().map(|a| a.to_string()).collect();
            v["dns"] = lease.dns.iter().map(|a| a.to_string()).collect();
            v["domain"] = lease.domain.clone().into();
            v["lease_secs"] = lease.lease_secs.into();
            v["renew_in"] = secs_to(lease.renew_at()).into();
            v["rebind_in"] = secs_to(lease.rebind_at()).into();
            v["expires_in"] = secs_to(lease.expires_at()).into();
        }
        v
    }

    /// Carries out the core's actions. Returns how the driver ends, if it does.
    async fn perform(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        let mut done = None;
        let mut first = None;
        let changes = actions
            .iter()
            .any(|a| matches!(a, Action::Configure { .. } | Action::Deconfigure { .. }));
        if changes {
            if let Some(n) = &self.settled {
                n.notify_one();
            }
        }
        for action in actions {
            match action {
                Action::Send { msg, dest } => self.send(&msg, dest).await,
                Action::Configure { lease, previous } => {
                    self.configure(&lease, previous.as_ref()).await?;
                    if let Some(ready) = self.ready.take() {
                        first = Some((ready, lease.clone()));
                    }
                    if self.opts.oneshot {
                        done = Some(Ended::Bound(lease));
                    }
                }
                Action::Deconfigure { lease, reason } => {
                    self.deconfigure(&lease, reason).await;
                    if reason == Reason::Released {
                        done = Some(Ended::Released);
                    }
                }
                Action::ArpListen { .. } | Action::ArpStop => {
                    let addr = match action {
                        Action::ArpListen { addr } => Some(addr),
                        _ => None,
                    };
                    if let Err(e) = self.sock.set_arp(addr) {
                        warn!("socket filter for ARP: {e}; conflict detection is off");
                    }
                }
                Action::ArpProbe { target } => {
                    self.send_arp(&frame::arp_probe(self.link.mac, target));
                }
                Action::ArpAnnounce { addr } => {
                    self.send_arp(&frame::arp_announce(self.link.mac, addr));
                }
            }
        }
        // The first lease is reported once its files are on disk (whoever waits for it, the
        // shell that started the daemon, may read resolv.conf next), after the rest of the
        // actions (the ARP announcement) so that the disk does not hold those up.
        if let Some((ready, lease)) = first {
            self.files.flush().await;
            let _ = ready.send(Ok(lease));
        }
        Ok(done)
    }

    fn send_arp(&self, frame: &[u8]) {
        if let Err(e) = self.sock.send(frame, frame::BROADCAST_MAC) {
            warn!("sending ARP: {e}");
        }
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
                self.deconfigure(&old, Reason::Replaced).await;
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
        self.files.set_dns(&name, Some(lease));
        if let Some(path) = lease_path(&self.opts) {
            let text = leasefile::render(
                &name,
                &self.link.mac,
                lease,
                leasefile::acquired_unix(lease.start, now, unix_now()),
            );
            self.files.save_lease(path, text);
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
        if reason != Reason::Replaced {
            self.files.set_dns(&self.opts.name, None);
            if let Some(path) = lease_path(&self.opts) {
                self.files.remove_lease(path);
            }
        }
        info!("removed {} ({reason})", lease.address);
        self.applied = None;
    }
}

/// What woke the driver up.
enum Input {
    Message(Box<dhcproto::v4::Message>),
    Arp(crate::core::ArpSeen),
    Tick,
    Renew,
    Release,
}

fn lease_path(opts: &IfaceOptions) -> Option<PathBuf> {
    opts.lease_dir
        .as_ref()
        .map(|d| d.join(format!("{}.lease", opts.name)))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The saved lease of this interface, if there is one, it has not expired, and it was leased
/// to this interface's hardware address.
fn load_lease(opts: &IfaceOptions, mac: &[u8; 6]) -> Option<Lease> {
    let path = lease_path(opts)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let saved = match leasefile::parse(&text, clock::now(), unix_now()) {
        Ok(saved) => saved,
        Err(e) => {
            warn!("ignoring {}: {e}", path.display());
            return None;
        }
    };
    if saved.iface != opts.name {
        warn!(
            "{} is for {}, not {}: ignored",
            path.display(),
            saved.iface,
            opts.name
        );
        return None;
    }
    if saved.hwaddr.is_some_and(|h| &h != mac) {
        info!(
            "{} was leased to another hardware address: ignored",
            path.display()
        );
        return None;
    }
    if saved.lease.is_none() {
        debug!("saved lease in {} has expired", path.display());
    }
    saved.lease
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
