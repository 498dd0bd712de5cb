//! One interface's driver: turns socket reads, timer expiries and commands into core events,
//! and carries out the core's actions on the interface and its files. No protocol decision is
//! made here, and nothing about the lease is remembered here: the core holds the one record of
//! what the interface holds, and every change comes as a whole transition from it.
//!
//! Errors on one interface stay on that interface: a socket that fails is reopened (with a
//! growing pause), a send that fails is retransmitted by the core's schedule, and an address
//! the kernel refuses goes back to the core, which starts over after a pause. Only a
//! `--oneshot` run, which has nothing to keep alive, ends on such an error.

use crate::core::{
    self, Action, Client, ClientId, Config, Dest, Event, NoLease, ProbeMode, Reason,
};
use crate::frame::{self, ArpSeen};
use crate::hookenv::Reason as HookReason;
use crate::lease::{Lease, Route};
use crate::leasefile;
use crate::reply::{kind_name, Reply};
use crate::shell::clock;
use crate::shell::cmdq;
use crate::shell::files::Files;
use crate::shell::hooks::{self, Script};
use crate::shell::linkwatch::{LinkMonitor, LinkWatch};
use crate::shell::netlink::{Link, Netlink};
use crate::shell::rawsock::RawSocket;
use crate::shell::systemd;
use crate::wire;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future as _;
use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

/// How many interfaces change their configuration (address, routes, MTU) at once. The kernel
/// takes route-netlink requests one after another anyway; a thousand interfaces bound together
/// would otherwise each hold the work in flight (2.5 KiB of state, and netlink's own) at the
/// same moment, and the heap they grew stays in holes once they are done: about 1 MiB.
/// Only [`Driver::perform`] takes a turn, once per batch, so that no one waits for a turn it
/// holds itself.
static NETLINK_TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);

/// How dhcpc runs one interface: its name, and the settings it shares with every interface
/// configured alike (read through `Deref`). Shared, because a thousand interfaces with one
/// configuration would otherwise keep a thousand copies of it.
#[derive(Debug, Clone)]
pub struct IfaceOptions {
    pub name: String,
    pub common: std::sync::Arc<CommonOptions>,
}

impl std::ops::Deref for IfaceOptions {
    type Target = CommonOptions;
    fn deref(&self) -> &CommonOptions {
        &self.common
    }
}

/// The settings of [`IfaceOptions`] other than the name.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonOptions {
    /// Metric of the default route.
    pub metric: u32,
    pub broadcast_flag: bool,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    /// Option 61.
    pub client_id: ClientId,
    /// Option 81.
    pub fqdn: Option<String>,
    /// More options to ask for (option 55).
    pub extra_requests: Vec<u8>,
    /// Ask for rapid commit (option 80).
    pub rapid_commit: bool,
    /// Fall back to an IPv4 link-local address after this long without a lease.
    pub ipv4ll: Option<Duration>,
    /// Stop once bound (leaving the address configured).
    pub oneshot: bool,
    /// Say why there is no lease if none is bound within this time.
    pub timeout: Duration,
    /// Address conflict detection (RFC 5227).
    pub probe: ProbeMode,
    /// Where the lease is saved (`IFACE.lease`); None saves nothing.
    pub lease_dir: Option<PathBuf>,
    /// Control sockets, pid file and saved resolv.conf.
    pub run_dir: PathBuf,
    /// An interface not there (yet) is waited for, instead of being an error.
    pub allow_missing: bool,
    /// The hook script, if any.
    pub script: Option<PathBuf>,
    /// The script configures the interface itself (dhclient-script's way); dhcpc does not.
    pub script_configures: bool,
    /// More variables for the script's environment.
    pub script_env: Vec<(String, String)>,
    /// How long one run of the script may take.
    pub script_timeout: Duration,
    /// The lease is kept in this dhclient-format file instead of `lease_dir` (dhclient's -lf).
    pub dhclient_lease_file: Option<PathBuf>,
    /// Local changes to the lease's DNS settings (dhclient.conf's supersede and prepend).
    pub dns_rules: crate::shell::resolv::DnsRules,
}

/// Why an interface could not be run; each maps to a clear message and an exit status.
#[derive(Debug)]
pub enum RunError {
    NoSuchInterface(String),
    Permission(String, io::Error),
    /// No lease within the timeout: the interface, the timeout, and why.
    NoLease(String, Duration, String),
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
            RunError::NoLease(n, t, why) => write!(
                f,
                "{n}: no lease after {} s: {why} (see --timeout)",
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
        warn!("{name} was down: brought it up");
        link.up = true;
    }
    Ok(link)
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
    Bound(Box<Lease>),
    Released,
    Stopped,
    /// The interface was removed (only between [`Driver::drive`] and [`Driver::run`]).
    Gone,
}

/// What a driver reports once, when it first binds or when it gives up waiting.
pub type Ready = oneshot::Sender<Result<Lease, RunError>>;

/// The longest pause between attempts to reopen a failed packet socket.
const MAX_REOPEN_WAIT: Duration = Duration::from_secs(60);

/// The running state of one interface in the shell.
pub struct Driver {
    opts: IfaceOptions,
    link: Link,
    net: Netlink,
    files: Files,
    /// The packet socket; None while it is being reopened after an error (or, for a release
    /// with no daemon, never opened).
    sock: Option<RawSocket>,
    /// When to try reopening the packet socket, and the pause after the next failure (kept
    /// until a read succeeds again).
    reopen_at: crate::time::Instant,
    reopen_wait: Duration,
    /// A read failed since the last good one (so that a failure is said once).
    read_failed: bool,
    /// The addresses whose ARP the core asked to see (set again on a reopened socket).
    arp_for: Vec<Ipv4Addr>,
    /// The address in use whose claims by others the core asked to see (RFC 5227 2.4).
    defend: Option<Ipv4Addr>,
    /// The MTU the interface had before option 26 changed it, to be put back.
    mtu_before: Option<u32>,
    /// Where unicast messages to the server go on the link: the Ethernet source of the
    /// DHCPACK of the lease held (the server, or the relay agent that forwarded it). Unknown:
    /// Ethernet broadcast (the IP destination is still the server).
    server_mac: Option<[u8; 6]>,
    /// The Ethernet source of the latest DHCPACK, until its lease is configured.
    ack_mac: Option<[u8; 6]>,
    client: Client,
    ready: Option<Ready>,
    /// Told after every change to the interface, so that the daemon can shrink once quiet.
    settled: Option<std::sync::Arc<tokio::sync::Notify>>,
    /// The service manager's view of the interfaces (`STATUS=`).
    manager: Option<systemd::Status>,
    /// The kernel's link events about this interface (none for a release with no daemon).
    link_events: Option<LinkWatch>,
    /// The link could carry traffic, as the core was last told.
    carrier: bool,
    /// [`crate::shell::linkwatch::LinkState::flaps`] as last seen.
    flaps: u64,
    /// The interface is not there: waiting for it to appear.
    missing: bool,
    /// The hook script (`--script`): run and waited for when it configures the interface,
    /// else queued. Boxed: most interfaces have none.
    script: Option<Box<Script>>,
    hook_queue: Option<hooks::Queue>,
    /// Warnings about options left out, by option and sender, and when last said.
    said: Vec<(u8, Ipv4Addr, tokio::time::Instant)>,
}

impl Driver {
    /// A driver to run the interface: brings it up if it is down and opens its packet socket.
    /// With `allow_missing`, an interface that is not there is waited for.
    pub async fn new(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
        monitor: &LinkMonitor,
    ) -> Result<Driver, RunError> {
        // Watched before it is looked up, so that no event between the two is missed.
        let events = monitor.watch(&opts.name);
        let mut driver = match prepare_link(&net, &opts.name, true).await {
            Ok(link) => {
                let sock = RawSocket::dhcp(link.index)
                    .map_err(io_err(format!("{}: opening a raw socket", opts.name)))?;
                Driver::with(opts, link, net, files, Some(sock))
            }
            Err(RunError::NoSuchInterface(name)) if opts.allow_missing => {
                info!("{name}: not there yet; waiting for it");
                let link = Link {
                    index: 0,
                    name: name.clone(),
                    mac: [0; 6],
                    up: false,
                    carrier: false,
                    mtu: None,
                };
                let mut d = Driver::with(opts, link, net, files, None);
                d.missing = true;
                d
            }
            Err(e) => return Err(e),
        };
        driver.link_events = Some(events);
        Ok(driver)
    }

    /// A driver only to release the saved lease (`dhcpc -r` with no daemon): the interface is
    /// left up or down as it is; the packet socket is opened by [`Driver::release_saved`] only
    /// when there is a lease to release over a link that is up.
    pub async fn for_release(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
    ) -> Result<Driver, RunError> {
        let link = prepare_link(&net, &opts.name, false).await?;
        Ok(Driver::with(opts, link, net, files, None))
    }

    fn with(
        opts: IfaceOptions,
        link: Link,
        net: Netlink,
        files: Files,
        sock: Option<RawSocket>,
    ) -> Driver {
        let mut config = Config::new(link.mac);
        config.broadcast_flag = opts.broadcast_flag;
        config.hostname = opts.hostname.clone();
        let duid = match opts.client_id {
            ClientId::Duid => host_duid(&opts, link.mac),
            _ => Vec::new(),
        };
        config.client_id = core::request::client_id(&opts.client_id, link.mac, &duid);
        config.fqdn = opts.fqdn.clone();
        config.extra_requests = opts.extra_requests.clone();
        config.rapid_commit = opts.rapid_commit;
        config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
        config.probe = opts.probe;
        config.max_message_size = core::max_message_size(link.mtu);
        config.acquire_timeout = Some(opts.timeout);
        config.ipv4ll = opts.ipv4ll;
        let mut mac = [0u8; 8];
        mac[..6].copy_from_slice(&link.mac);
        let seed = fastrand::u64(..) ^ u64::from_le_bytes(mac);
        let mtu_before = std::fs::read_to_string(mtu_path(&opts))
            .ok()
            .and_then(|t| t.trim().parse().ok());
        let mut client = Client::new(config, seed);
        let mut server_mac = None;
        if let Some((saved, mac)) = load_lease(&opts, &link.mac) {
            client = client.with_saved_lease(saved);
            server_mac = mac;
        }
        let carrier = link.up && link.carrier;
        if !carrier {
            client = client.without_carrier();
        }
        Driver {
            client,
            opts,
            link,
            net,
            files,
            sock,
            reopen_at: clock::now(),
            reopen_wait: Duration::ZERO,
            read_failed: false,
            arp_for: Vec::new(),
            defend: None,
            mtu_before,
            server_mac,
            ack_mac: None,
            ready: None,
            settled: None,
            manager: None,
            link_events: None,
            carrier,
            flaps: 0,
            missing: false,
            script: None,
            hook_queue: None,
            said: Vec::new(),
        }
        .with_script()
    }

    /// Sets up the hook script, if there is one.
    fn with_script(mut self) -> Driver {
        let Some(path) = self.opts.script.clone() else {
            return self;
        };
        let mut requested: Vec<u8> = core::REQUESTED_OPTIONS
            .iter()
            .map(|&c| u8::from(c))
            .collect();
        requested.extend(&self.opts.extra_requests);
        let script = Script {
            path,
            interface: self.opts.name.clone(),
            env: self.opts.script_env.clone(),
            requested,
            timeout: self.opts.script_timeout,
        };
        if !self.opts.script_configures {
            self.hook_queue = Some(script.clone().queue());
        }
        self.script = Some(Box::new(script));
        self
    }

    /// Feeds one event to the core.
    fn feed(&mut self, now: crate::time::Instant, event: Event<'_>) -> Vec<Action> {
        self.client.handle(now, event)
    }

    /// When `lease` runs out, in Unix time (for the script's `*_expiry`).
    fn expiry_unix(lease: &Lease) -> Option<u64> {
        let left = lease.expires_at()?.saturating_since(clock::now());
        Some(unix_now() + left.as_secs())
    }

    /// Tells the script of an event: waits for it when it configures the interface (its
    /// exit code), queues it otherwise (Some(0)); None without a script.
    async fn hook(
        &self,
        reason: HookReason,
        new: Option<&Lease>,
        old: Option<&Lease>,
    ) -> Option<i32> {
        // Boxed (as are the other rare, deep awaits below): a future's size is its largest
        // await's, and the driver's future lives for as long as the interface does. Inline,
        // these made an idle interface's task 9 KiB; boxed, their state exists only while
        // they run.
        Box::pin(self.hook_inner(reason, new, old)).await
    }

    async fn hook_inner(
        &self,
        reason: HookReason,
        new: Option<&Lease>,
        old: Option<&Lease>,
    ) -> Option<i32> {
        let script = self.script.as_ref()?;
        let run = hooks::Run {
            reason,
            new: new.cloned(),
            old: old.cloned(),
            new_expiry: new.and_then(Driver::expiry_unix),
            old_expiry: old.and_then(Driver::expiry_unix),
        };
        match &self.hook_queue {
            Some(q) => {
                q.push(run);
                Some(0)
            }
            None => script.run(&run).await,
        }
    }

    /// The script configures the interface itself: dhcpc leaves address, routes, MTU and
    /// DNS to it.
    fn script_configures(&self) -> bool {
        self.script.is_some() && self.opts.script_configures
    }

    /// Asks to be told when the interface first binds (or gives up waiting).
    pub fn notify_ready(&mut self, ready: Ready) {
        self.ready = Some(ready);
    }

    /// Asks to be told after every lease event (bind, renewal, removal).
    pub fn notify_changes(&mut self, settled: std::sync::Arc<tokio::sync::Notify>) {
        self.settled = Some(settled);
    }

    /// Asks to tell the service manager the interface's state whenever it changes.
    pub fn notify_status(&mut self, manager: systemd::Status) {
        self.manager = Some(manager);
    }

    /// The interface's state in a few words, for the service manager: `BOUND
    /// 198.51.100.10/24`, `SELECTING`, `SELECTING, link-local 169.254.7.9`.
    fn state_line(&self) -> String {
        let state = self.client.state();
        match (self.client.lease(), self.client.link_local()) {
            (Some(l), _) => format!("{state} {}/{}", l.address, l.prefix_len),
            (None, Some(ll)) => format!("{state}, link-local {ll}"),
            (None, None) => state.to_string(),
        }
    }

    /// Releases the saved lease of an interface no daemon runs for (`dhcpc -r` alone):
    /// DHCPRELEASE to the server, address and route removed, resolv.conf restored, lease file
    /// deleted. Returns the released lease, or None if there was no unexpired saved lease.
    pub async fn release_saved(mut self) -> Result<Option<Lease>, RunError> {
        let Some((lease, server_mac)) = load_lease(&self.opts, &self.link.mac) else {
            return Ok(None);
        };
        self.server_mac = server_mac;
        if self.link.up && self.sock.is_none() {
            // DHCPRELEASE goes out through a packet socket, as every message does.
            let sock = RawSocket::dhcp(self.link.index)
                .map_err(io_err(format!("{}: opening a raw socket", self.opts.name)))?;
            self.sock = Some(sock);
        }
        let config = self.client.config().clone();
        self.client = Client::new(config, fastrand::u64(..)).into_bound(lease.clone());
        self.files.adopt_dns(
            &self.opts.name,
            self.link.index,
            &lease,
            &self.opts.dns_rules,
        );
        let mut actions = self.feed(clock::now(), Event::Release);
        if !self.link.up {
            info!(
                "{} is down: DHCPRELEASE is not sent; the lease is dropped here only",
                self.opts.name
            );
            actions.retain(|a| !matches!(a, Action::Send { .. }));
        }
        self.perform(actions).await?;
        self.files.flush().await;
        Ok(Some(lease))
    }

    /// Runs the interface: until bound in oneshot mode, until released or stopped otherwise.
    /// Returns once the files it changed (lease, resolv.conf) are on disk.
    /// `commands` is dropped last: whoever waits for it to close (the control socket answering
    /// a release or stop) is answered once the files are written.
    ///
    /// The driver comes boxed: an `async fn` keeps its by-value arguments twice in its future
    /// (as taken, and as moved into the body), and this future lives as long as the interface.
    pub async fn run(
        mut self: Box<Self>,
        mut commands: cmdq::Receiver<Command>,
    ) -> Result<Ended, RunError> {
        let result = loop {
            if self.missing {
                match self.await_interface(&mut commands).await {
                    Ok(None) => {}
                    other => break other.map(|end| end.unwrap_or(Ended::Stopped)),
                }
            }
            match self.drive(&mut commands).await {
                Ok(Ended::Gone) if self.opts.oneshot => {
                    break Err(RunError::NoSuchInterface(self.opts.name.clone()))
                }
                Ok(Ended::Gone) => {
                    self.files.flush().await;
                    self.missing = true;
                }
                other => break other,
            }
        };
        self.files.flush().await;
        drop(commands);
        result
    }

    /// Waits for the interface to appear (again), serving commands meanwhile; then the driver
    /// starts afresh on it (by its new index), asking for the saved lease again. Ok(None)
    /// once it is there; Ok(Some) when told to stop first.
    async fn await_interface(
        &mut self,
        commands: &mut cmdq::Receiver<Command>,
    ) -> Result<Option<Ended>, RunError> {
        Box::pin(self.await_interface_inner(commands)).await
    }

    async fn await_interface_inner(
        &mut self,
        commands: &mut cmdq::Receiver<Command>,
    ) -> Result<Option<Ended>, RunError> {
        let name = self.opts.name.clone();
        let give_up = tokio::time::Instant::now() + self.opts.timeout;
        if let Some(m) = self.manager.as_ref().filter(|m| m.enabled()) {
            m.set(&name, "waiting for the interface".to_string());
        }
        loop {
            match prepare_link(&self.net, &name, true).await {
                Ok(link) => match RawSocket::dhcp(link.index) {
                    Ok(sock) => {
                        info!("{name} is there (index {}): asking for a lease", link.index);
                        let fresh = Driver::with(
                            self.opts.clone(),
                            link,
                            self.net.clone(),
                            self.files.clone(),
                            Some(sock),
                        );
                        let keep = std::mem::replace(self, fresh);
                        self.ready = keep.ready;
                        self.settled = keep.settled;
                        self.manager = keep.manager;
                        self.link_events = keep.link_events;
                        if let Some(ev) = &mut self.link_events {
                            // What happened before is history; the lookup above is now,
                            // unless an event about this very link says more (its carrier
                            // may have come since): then it is read at once.
                            let seen = ev.borrow_and_update();
                            if let Some(s) = seen {
                                self.flaps = s.flaps;
                                if s.index == Some(self.link.index) && s.carrier != self.carrier {
                                    ev.mark_changed();
                                }
                            }
                        }
                        return Ok(None);
                    }
                    Err(e) => warn!("{name}: opening a raw socket: {e}; waiting"),
                },
                Err(RunError::NoSuchInterface(_)) => {}
                Err(e) => warn!("{e}; waiting"),
            }
            let polling = self.link_events.is_none();
            let events = self.link_events.as_mut();
            tokio::select! {
                _ = link_event(events) => {}
                // Without link events (none could be subscribed), look again now and then.
                _ = tokio::time::sleep(Duration::from_secs(5)), if polling => {}
                _ = tokio::time::sleep_until(give_up), if self.ready.is_some() => {
                    let why = "the interface is not there".to_string();
                    let err = RunError::NoLease(name.clone(), self.opts.timeout, why);
                    warn!("{err}; waiting for it");
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(err));
                    }
                }
                cmd = commands.recv() => match cmd {
                    Some(Command::Stop) | None => return Ok(Some(Ended::Stopped)),
                    Some(Command::Release) => {
                        info!("{name}: nothing to release: the interface is not there");
                        return Ok(Some(Ended::Released));
                    }
                    Some(Command::Renew) => info!("{name}: cannot renew: the interface is not there"),
                    Some(Command::Status(reply)) => {
                        let _ = reply.send(serde_json::json!({
                            "interface": name,
                            "state": "MISSING",
                        }));
                    }
                },
            }
        }
    }

    /// Stops the driver: the lease stays on the interface and on disk for next time. Boxed,
    /// like the other rare awaits: the lease it keeps for the hook would otherwise take room
    /// in every driver's future while it rests.
    async fn stop(&mut self) -> Result<Ended, RunError> {
        Box::pin(async {
            info!("stopping; the lease stays for next time");
            let actions = self.feed(clock::now(), Event::Stop);
            self.perform(actions).await?;
            Ok(Ended::Stopped)
        })
        .await
    }

    /// Waits for what wakes the driver: a command, a link event, the socket's reopening time
    /// (while it is closed), the core's next deadline, or a frame. Written as one poll rather
    /// than `tokio::select!` over futures: a driver at rest then keeps two deadlines and some
    /// references (about 100 bytes) instead of a future for each source (over 500), and a
    /// thousand interfaces rest at once. Sources are polled in that order, so that a flood of
    /// frames never holds up a command or a deadline.
    async fn wait(&mut self, commands: &mut cmdq::Receiver<Command>, frame_len: usize) -> Woke {
        let sock = self.sock.as_ref();
        let mut reopen = sock.is_none().then(|| clock::sleep_until(self.reopen_at));
        let mut tick = self.client.poll_at().map(clock::sleep_until);
        let mut events = self.link_events.as_mut();
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(cmd) = commands.poll_recv(cx) {
                return Poll::Ready(Woke::Command(cmd));
            }
            if let Some(ev) = events.as_mut() {
                if ev.poll_changed(cx).is_ready() {
                    return Poll::Ready(Woke::Link);
                }
            }
            if let Some(sleep) = reopen.as_mut() {
                if Pin::new(sleep).poll(cx).is_ready() {
                    return Poll::Ready(Woke::Reopen);
                }
            }
            if let Some(sleep) = tick.as_mut() {
                if let Poll::Ready(r) = Pin::new(sleep).poll(cx) {
                    return Poll::Ready(Woke::Tick(r));
                }
            }
            if let Some(s) = sock {
                if let Poll::Ready(r) = s.poll_recv(cx, frame_len) {
                    return Poll::Ready(Woke::Frame(r));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// What the kernel's latest link event means for the core: the interface gone (or made
    /// again under a new index), or the carrier events to tell (a flap too quick to see is
    /// told as both).
    async fn link_changed(&mut self) -> LinkChange {
        Box::pin(self.link_changed_inner()).await
    }

    async fn link_changed_inner(&mut self) -> LinkChange {
        let Some(state) = self
            .link_events
            .as_mut()
            .and_then(|ev| ev.borrow_and_update())
        else {
            return LinkChange::Carrier(Vec::new());
        };
        if state.index != Some(self.link.index) {
            // The kernel is asked, so that an event older than the link this driver runs
            // (its predecessor's removal, read late) is not taken for its end.
            match self.net.link(&self.opts.name).await {
                Ok(link) if link.index == self.link.index => return LinkChange::Carrier(Vec::new()),
                _ => return LinkChange::Gone,
            }
        }
        let flapped = state.flaps > self.flaps;
        self.flaps = state.flaps;
        let mut events = Vec::new();
        if flapped && self.carrier && state.carrier {
            events.push(false);
        }
        if flapped || state.carrier != self.carrier {
            events.push(state.carrier);
        }
        events.dedup();
        if events.first() == Some(&self.carrier) {
            events.remove(0);
        }
        if let Some(&last) = events.last() {
            self.carrier = last;
        }
        LinkChange::Carrier(events)
    }

    async fn drive(&mut self, commands: &mut cmdq::Receiver<Command>) -> Result<Ended, RunError> {
        // One frame at most: the link's MTU plus the Ethernet header (never under the 576-byte
        // minimum every DHCP client must accept).
        // The buffer is made only once a frame is there to read, and freed once it is parsed:
        // a thousand idle interfaces keep no buffers.
        let frame_len = self.link.mtu.unwrap_or(1500).clamp(576, 9000) as usize + 14;
        if !self.carrier {
            info!("{}: no carrier yet; waiting for it", self.opts.name);
        }
        let actions = self.feed(clock::now(), Event::Start);
        if let Some(end) = self.perform(actions).await? {
            return Ok(end);
        }
        loop {
            let input = match self.wait(commands, frame_len).await {
                Woke::Frame(Ok((buf, csum_not_ready))) => {
                    self.read_ok();
                    match read_frame(&buf, csum_not_ready) {
                        Some(input) => {
                            if let Input::Reply(r) = &input {
                                self.say_left_out(r);
                            }
                            input
                        }
                        None => continue,
                    }
                }
                Woke::Frame(Err(e)) => {
                    self.socket_failed(e);
                    continue;
                }
                Woke::Reopen => {
                    self.reopen_socket().await;
                    continue;
                }
                Woke::Tick(r) => {
                    if let Err(e) = r {
                        debug!("timer: {e}");
                    }
                    Input::Tick
                }
                Woke::Command(cmd) => match cmd {
                    Some(Command::Renew) => Input::Renew,
                    Some(Command::Release) => Input::Release,
                    Some(Command::Stop) | None => return self.stop().await,
                    Some(Command::Status(reply)) => {
                        let _ = reply.send(self.status());
                        continue;
                    }
                },
                Woke::Link => match self.link_changed().await {
                    LinkChange::Gone => {
                        info!(
                            "{} was removed: its lease stops here; waiting for it to come back",
                            self.opts.name
                        );
                        let actions = self.feed(clock::now(), Event::Gone);
                        self.perform(actions).await?;
                        return Ok(Ended::Gone);
                    }
                    LinkChange::Carrier(changes) => {
                        for carrier in changes {
                            let event = Event::Link { carrier };
                            let actions = self.feed(clock::now(), event);
                            if let Some(end) = self.perform(actions).await? {
                                return Ok(end);
                            }
                        }
                        continue;
                    }
                },
            };
            let now = clock::now();
            let actions = match input {
                Input::Reply(r) => {
                    if r.kind == Some(dhcproto::v4::MessageType::Ack) {
                        self.ack_mac = r.from_mac;
                    }
                    self.feed(now, Event::Reply(&r))
                }
                Input::Unreadable { from, why } => self.feed(now, Event::Unreadable { from, why }),
                Input::Arp(seen) => self.feed(now, Event::Arp(seen)),
                Input::Tick => self.feed(now, Event::Tick),
                Input::Renew => self.feed(now, Event::Renew),
                Input::Release => {
                    let actions = self.feed(now, Event::Release);
                    if !actions
                        .iter()
                        .any(|a| matches!(a, Action::Deconfigure { .. }))
                    {
                        info!("nothing to release");
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

    /// Warns of a routing or MTU option the reply's sender got wrong, once an hour for each
    /// option and sender (a server repeats it in every reply, and a flood would flood the
    /// log); the repeats are said at debug level.
    fn say_left_out(&mut self, r: &Reply) {
        const QUIET: Duration = Duration::from_secs(3600);
        let now = tokio::time::Instant::now();
        for bad in r
            .left_out
            .iter()
            .filter(|b| crate::reply::LOUD.contains(&b.code))
        {
            let (code, from, why) = (bad.code, r.from, &bad.why);
            let seen = self
                .said
                .iter_mut()
                .find(|(c, f, _)| *c == code && *f == from);
            match seen {
                Some((_, _, at)) if now.duration_since(*at) < QUIET => {
                    debug!("option {code} from {from} left out: {why}");
                }
                Some((_, _, at)) => {
                    *at = now;
                    warn!("option {code} from {from} left out: {why}");
                }
                None => {
                    // A handful of senders at most is remembered: past that, the oldest goes.
                    if self.said.len() >= 8 {
                        self.said.remove(0);
                    }
                    self.said.push((code, from, now));
                    warn!("option {code} from {from} left out: {why}");
                }
            }
        }
    }

    /// A read from the packet socket failed. The link going down leaves ENETDOWN on the
    /// socket, which the kernel hands on the next read, ahead of the frame that woke it, and
    /// re-attaches the socket when the link comes back: the socket is kept, so that frame is
    /// not lost. Any other error has the socket reopened. Said
    /// once until a read succeeds again.
    fn socket_failed(&mut self, e: io::Error) {
        let repeated = std::mem::replace(&mut self.read_failed, true);
        if e.raw_os_error() == Some(libc::ENETDOWN) {
            // The kernel reports each time the link goes down once, and re-attaches the
            // socket when it is back: the socket stays (reopening it would lose the frames
            // that come meanwhile, such as the router's answer when carrier returns).
            if repeated {
                debug!("{}: reading: {e}; the link went down again", self.opts.name);
            } else {
                warn!("{}: reading: {e}; the link went down", self.opts.name);
            }
            return;
        }
        if repeated {
            debug!(
                "{}: reading: {e}; reopening the packet socket",
                self.opts.name
            );
        } else {
            warn!(
                "{}: reading: {e}; reopening the packet socket",
                self.opts.name
            );
        }
        self.sock = None;
        self.reopen_at = clock::now() + self.reopen_wait;
    }

    /// A read succeeded: the socket works.
    fn read_ok(&mut self) {
        if std::mem::take(&mut self.read_failed) {
            info!("{}: the packet socket reads again", self.opts.name);
        }
        self.reopen_wait = Duration::ZERO;
    }

    /// Opens the packet socket again, on the interface of that name as it is now (it may have
    /// been removed and made again, with a new index). The pause before the next attempt grows
    /// (1 s, 2 s, … a minute) until a read succeeds.
    async fn reopen_socket(&mut self) {
        Box::pin(self.reopen_socket_inner()).await
    }

    async fn reopen_socket_inner(&mut self) {
        let opened = match self.net.link(&self.opts.name).await {
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
                debug!("{}: packet socket reopened", self.opts.name);
                self.link.index = index;
                self.sock = Some(s);
            }
            Err(e) => {
                debug!(
                    "{}: reopening the packet socket: {e}; again in {} s",
                    self.opts.name,
                    self.reopen_wait.as_secs()
                );
                self.reopen_at = clock::now() + self.reopen_wait;
            }
        }
    }

    /// The interface's state for `dhcpc --status`, as JSON.
    fn status(&self) -> serde_json::Value {
        let now = clock::now();
        let mut v = serde_json::json!({
            "interface": self.opts.name,
            "state": self.client.state().to_string(),
            "carrier": self.carrier,
        });
        if let Some(addr) = self.client.link_local() {
            v["link_local"] = addr.to_string().into();
        }
        if let Some(lease) = self.client.applied() {
            let secs_to =
                |at: Option<crate::time::Instant>| at.map(|at| at.saturating_since(now).as_secs());
            v["address"] = lease.address.to_string().into();
            v["prefix_len"] = lease.prefix_len.into();
            v["server"] = lease.server_id.to_string().into();
            v["routers"] = lease.routers.iter().map(|a| a.to_string()).collect();
            v["dns"] = lease.dns.iter().map(|a| a.to_string()).collect();
            v["domain"] = lease.domain.clone().into();
            v["search"] = lease.search.clone().into();
            v["routes"] = lease.routes().iter().map(|r| r.to_string()).collect();
            v["mtu"] = lease.mtu.into();
            v["ntp"] = lease.ntp.iter().map(|a| a.to_string()).collect();
            // Every option the server sent, by code, as hex.
            let options: serde_json::Map<String, serde_json::Value> = lease
                .options
                .iter()
                .map(|(code, data)| {
                    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
                    (code.to_string(), hex.into())
                })
                .collect();
            v["options"] = options.into();
            v["lease_secs"] = lease.lease_secs.into();
            v["renew_in"] = secs_to(lease.renew_at()).into();
            v["rebind_in"] = secs_to(lease.rebind_at()).into();
            v["expires_in"] = secs_to(lease.expires_at()).into();
        }
        v
    }

    /// Carries out the core's actions. Returns how the driver ends, if it does.
    async fn perform(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        // Changes to the interface take turns (never a script's: it may take its time).
        let netlink = self.script.is_none()
            && actions.iter().any(|a| {
                matches!(
                    a,
                    Action::Configure { .. } | Action::Deconfigure { .. } | Action::Reapply { .. }
                )
            });
        let _turn = if netlink {
            Some(NETLINK_TURNS.acquire().await)
        } else {
            None
        };
        Box::pin(self.perform_inner(actions)).await
    }

    async fn perform_inner(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        let mut done = None;
        let mut first = None;
        let mut fatal = None;
        // "bound" and "renewed" are said once the batch is carried out (the lease saved).
        let mut said = Vec::new();
        let changes = actions
            .iter()
            .any(|a| matches!(a, Action::Configure { .. } | Action::Deconfigure { .. }));
        if changes {
            if let Some(n) = &self.settled {
                n.notify_one();
            }
        }
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Send { msg, dest } => self.send(&msg, dest).await,
                Action::Configure {
                    lease,
                    previous,
                    renewal,
                    transition,
                } => {
                    if let Some(mac) = self.ack_mac.take() {
                        self.server_mac = Some(mac);
                    }
                    let hook_reason = HookReason::from(transition);
                    let applied = if self.script_configures() {
                        // dhclient-script's way: the script applies the lease; a non-zero
                        // exit after BOUND or REBOOT refuses it.
                        let code = self
                            .hook(hook_reason, Some(&lease), previous.as_ref())
                            .await;
                        if hook_reason.may_refuse() && code != Some(0) {
                            queue.retain(|a| match a {
                                Action::SaveLease(l) => *l != lease,
                                Action::ArpAnnounce { addr } => *addr != lease.address,
                                _ => true,
                            });
                            let refused = Event::ScriptRefused { lease: &lease };
                            queue.extend(self.feed(clock::now(), refused));
                            continue;
                        }
                        Ok(())
                    } else {
                        let r = self.configure(&lease, previous.as_ref()).await;
                        if r.is_ok() {
                            self.hook(hook_reason, Some(&lease), previous.as_ref())
                                .await;
                        }
                        r
                    };
                    match applied {
                        Ok(()) => {
                            said.push(if renewal {
                                let time = crate::lease::human_secs(lease.lease_secs);
                                format!("renewed {}, lease {time}", lease.address)
                            } else {
                                format!("bound {lease}")
                            });
                            if let Some(ready) = self.ready.take() {
                                first = Some((ready, lease.clone()));
                            }
                            if self.opts.oneshot {
                                done = Some(Ended::Bound(Box::new(lease)));
                            }
                        }
                        Err(e) => {
                            // Said once: by the core as a warning (it starts over), or in
                            // oneshot mode as the error dhcpc exits with.
                            debug!("{}: adding address {}: {e}", self.opts.name, lease.address);
                            // Saving and announcing this lease are moot now; the core says
                            // what to do instead.
                            queue.retain(|a| match a {
                                Action::SaveLease(l) => *l != lease,
                                Action::ArpAnnounce { addr } => *addr != lease.address,
                                _ => true,
                            });
                            if self.opts.oneshot {
                                fatal = Some(io_err(format!(
                                    "{}: adding address {}",
                                    self.opts.name, lease.address
                                ))(e));
                            } else {
                                let why = e.to_string();
                                let failed = Event::ConfigureFailed { lease: &lease, why };
                                queue.extend(self.feed(clock::now(), failed));
                            }
                        }
                    }
                }
                Action::Deconfigure {
                    lease,
                    reason,
                    transition,
                } => {
                    let hook_reason = HookReason::from(transition);
                    if self.script_configures() {
                        self.hook(hook_reason, None, Some(&lease)).await;
                        info!("{}: {} given up ({reason})", self.opts.name, lease.address);
                    } else {
                        self.deconfigure(&lease, reason).await;
                        self.hook(hook_reason, None, Some(&lease)).await;
                    }
                    if reason == Reason::Released {
                        done = Some(Ended::Released);
                    }
                }
                Action::SaveLease(lease) => self.save_lease(&lease),
                Action::ForgetLease => {
                    if let Some(path) = &self.opts.dhclient_lease_file {
                        let text = dhclient_lease_text(path, &self.opts.name, None);
                        self.files.save_lease(path.clone(), text);
                    } else if let Some(path) = lease_path(&self.opts) {
                        self.files.remove_lease(path);
                    }
                }
                Action::ArpWatch(addrs) => {
                    self.arp_for = addrs;
                    self.set_arp();
                }
                Action::ArpDefend(addr) => {
                    self.defend = addr;
                    self.set_arp();
                }
                Action::ConfigureLinkLocal { addr } => {
                    if let Err(e) = self.net.add_link_local(self.link.index, addr).await {
                        warn!("{}: adding link-local {addr}: {e}", self.opts.name);
                    }
                }
                Action::DeconfigureLinkLocal { addr } => {
                    if let Err(e) = self.net.del_address(self.link.index, addr, 16).await {
                        warn!("{}: removing link-local {addr}: {e}", self.opts.name);
                    }
                }
                Action::ArpProbe { target } => {
                    self.send_arp(&frame::arp_probe(self.link.mac, target));
                }
                Action::ArpAnnounce { addr } => {
                    self.send_arp(&frame::arp_announce(self.link.mac, addr));
                }
                Action::ArpRequest { sender, target, to } => {
                    self.send_arp(&frame::arp_request(self.link.mac, sender, target, to));
                }
                Action::Reapply { lease, transition } if self.script_configures() => {
                    self.hook(HookReason::from(transition), Some(&lease), Some(&lease))
                        .await;
                }
                Action::Reapply { lease, .. } => {
                    debug!("{}: putting {} back", self.opts.name, lease.address);
                    if let Err(e) = self.configure(&lease, Some(&lease)).await {
                        warn!("{}: putting {} back: {e}", self.opts.name, lease.address);
                    }
                }
                Action::NoLease(why) => {
                    let why = self.why_no_lease(why).await;
                    let err = RunError::NoLease(self.opts.name.clone(), self.opts.timeout, why);
                    if self.opts.oneshot {
                        return Err(err);
                    }
                    warn!("{err}; still trying");
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(err));
                    }
                }
                Action::Notify { transition, lease } => {
                    self.hook(HookReason::from(transition), None, lease.as_ref())
                        .await;
                }
            }
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        // The first lease is reported once its files are on disk (whoever waits for it, the
        // shell that started the daemon, may read resolv.conf next), after the rest of the
        // actions (the ARP announcement) so that the disk does not hold those up.
        if let Some((ready, lease)) = first {
            self.files.flush().await;
            let _ = ready.send(Ok(lease));
        }
        for line in said {
            info!("{line}");
        }
        if let Some(m) = self.manager.as_ref().filter(|m| m.enabled()) {
            m.set(&self.opts.name, self.state_line());
        }
        Ok(done)
    }

    /// The core's account of why there is no lease, with what only the link can tell: a link
    /// without carrier explains everything else.
    async fn why_no_lease(&self, why: NoLease) -> String {
        let carrier = match self.net.link(&self.opts.name).await {
            Ok(link) => link.carrier,
            Err(_) => true,
        };
        if carrier {
            why.to_string()
        } else if why.causes.is_empty() {
            format!("no carrier on {}", self.opts.name)
        } else {
            format!("no carrier on {}; {why}", self.opts.name)
        }
    }

    fn set_arp(&self) {
        if let Some(sock) = &self.sock {
            if let Err(e) = sock.set_arp(&self.arp_for, self.defend.as_slice()) {
                warn!("socket filter for ARP: {e}; conflict detection is off");
            }
        }
    }

    fn send_arp(&self, frame: &[u8]) {
        let result = match &self.sock {
            Some(sock) => sock.send(frame),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the packet socket is being reopened",
            )),
        };
        if let Err(e) = result {
            warn!("sending ARP: {e}");
        }
    }

    async fn send(&mut self, msg: &dhcproto::v4::Message, dest: Dest) {
        let kind = msg.opts().msg_type().map(kind_name).unwrap_or_default();
        let payload = match wire::encode(msg) {
            Ok(p) => p,
            Err(e) => {
                warn!("{e}");
                return;
            }
        };
        // Unicast messages (renewals, releases) go out through the packet socket too, as
        // complete frames from the leased address (ciaddr) to the server, at the MAC its
        // DHCPACK came from: no UDP socket is needed, so the daemon needs no AF_INET socket at
        // all (the unit forbids them), and each interface one descriptor less. The kernel,
        // having no socket on port 68, answers the server's unicast reply with an ICMP port
        // unreachable as well; servers ignore it, and the packet socket reads the reply.
        let frame = match dest {
            Dest::Broadcast => frame::build_broadcast(self.link.mac, &payload),
            Dest::Unicast(server) => frame::build(
                self.link.mac,
                self.server_mac.unwrap_or(frame::BROADCAST_MAC),
                msg.ciaddr(),
                server,
                &payload,
            ),
        };
        let result = match &self.sock {
            Some(sock) => sock.send(&frame),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the packet socket is being reopened",
            )),
        };
        match (result, dest) {
            (Ok(()), Dest::Broadcast) => debug!("sent {kind} xid {:#010x}, broadcast", msg.xid()),
            (Ok(()), Dest::Unicast(to)) => debug!("sent {kind} xid {:#010x} to {to}", msg.xid()),
            // A lost send is retransmitted by the core's schedule; say why it was lost.
            (Err(e), _) => warn!("sending {kind}: {e}"),
        }
    }

    /// Makes the interface hold `lease`, taking away what of `previous` it does not keep:
    /// address (with its lifetimes), routes (option 121, else option 3's default route), MTU
    /// (option 26) and DNS settings.
    async fn configure(&mut self, lease: &Lease, previous: Option<&Lease>) -> io::Result<()> {
        Box::pin(self.configure_inner(lease, previous)).await
    }

    async fn configure_inner(&mut self, lease: &Lease, previous: Option<&Lease>) -> io::Result<()> {
        let (index, metric) = (self.link.index, self.opts.metric);
        let routes = lease.routes();
        if let Some(old) = previous {
            if old.address != lease.address || old.prefix_len != lease.prefix_len {
                self.remove(old).await;
            } else {
                for r in old.routes().iter().filter(|r| !routes.contains(r)) {
                    self.del_route(old, r).await;
                }
            }
        }
        self.net.add_address(index, lease, clock::now()).await?;
        self.apply_mtu(lease.mtu).await;
        // Only routes the kernel does not hold already are added: a renewal that changes
        // nothing touches no route, and routes the kernel dropped with the link come back.
        // (A first lease has none there: no need to ask the kernel.) On-link routes go
        // first, as a router may be reached through one of them.
        let held = match previous {
            Some(_) => self
                .net
                .dhcp_routes(index, metric)
                .await
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut missing: Vec<&Route> = routes.iter().filter(|r| !held.contains(r)).collect();
        missing.sort_by_key(|r| !r.gateway.is_unspecified());
        for r in missing {
            if let Err(e) = self.net.add_route(index, lease, r, metric).await {
                warn!("{}: adding route {r}: {e}", self.opts.name);
            }
        }
        self.files
            .set_dns(&self.opts.name, index, Some(lease), &self.opts.dns_rules);
        Ok(())
    }

    async fn del_route(&self, lease: &Lease, r: &Route) {
        let (index, metric) = (self.link.index, self.opts.metric);
        if let Err(e) = self.net.del_route(index, lease, r, metric).await {
            warn!("{}: removing route {r}: {e}", self.opts.name);
        }
    }

    /// Sets the MTU option 26 asks for (the MTU the interface had is put back when no lease
    /// asks for one any more); a value the device does not take is said and ignored.
    async fn apply_mtu(&mut self, want: Option<u16>) {
        let Some(want) = want.map(u32::from) else {
            return self.restore_mtu().await;
        };
        let now = match self.net.link(&self.opts.name).await {
            Ok(link) => link.mtu,
            Err(_) => self.link.mtu,
        };
        if now == Some(want) {
            return;
        }
        match self.net.set_mtu(self.link.index, want).await {
            Ok(()) => {
                if self.mtu_before.is_none() {
                    self.mtu_before = now;
                    // Kept in the run directory too, so that a later daemon (after -x, or
                    // `-r` with none running) can still put it back.
                    if let Some(mtu) = now {
                        let path = mtu_path(&self.opts);
                        let _ = std::fs::create_dir_all(&self.opts.run_dir);
                        if let Err(e) = std::fs::write(&path, format!("{mtu}\n")) {
                            warn!("writing {}: {e}", path.display());
                        }
                    }
                }
                info!("{}: MTU {want} (option 26)", self.opts.name);
            }
            Err(e) => warn!(
                "{}: option 26 asks for MTU {want}, which the device does not take ({e}): ignored",
                self.opts.name
            ),
        }
    }

    async fn restore_mtu(&mut self) {
        if let Some(mtu) = self.mtu_before.take() {
            let _ = std::fs::remove_file(mtu_path(&self.opts));
            match self.net.set_mtu(self.link.index, mtu).await {
                Ok(()) => info!("{}: MTU {mtu} again", self.opts.name),
                Err(e) => warn!("{}: putting MTU {mtu} back: {e}", self.opts.name),
            }
        }
    }

    /// Removes the routes and address of `lease` (gone already is fine).
    async fn remove(&mut self, lease: &Lease) {
        for r in lease.routes() {
            self.del_route(lease, &r).await;
        }
        if let Err(e) = self
            .net
            .del_address(self.link.index, lease.address, lease.prefix_len)
            .await
        {
            warn!("removing {}: {e}", lease.address);
        }
    }

    async fn deconfigure(&mut self, lease: &Lease, reason: Reason) {
        Box::pin(self.deconfigure_inner(lease, reason)).await
    }

    async fn deconfigure_inner(&mut self, lease: &Lease, reason: Reason) {
        if reason == Reason::Gone {
            // The kernel took the address, routes and MTU with the interface.
            if self.mtu_before.take().is_some() {
                let _ = std::fs::remove_file(mtu_path(&self.opts));
            }
            self.files
                .set_dns(&self.opts.name, self.link.index, None, &self.opts.dns_rules);
            info!(
                "{}: {} went with the interface",
                self.opts.name, lease.address
            );
            return;
        }
        self.remove(lease).await;
        self.restore_mtu().await;
        self.files
            .set_dns(&self.opts.name, self.link.index, None, &self.opts.dns_rules);
        info!("removed {} ({reason})", lease.address);
    }

    fn save_lease(&self, lease: &Lease) {
        if let Some(path) = &self.opts.dhclient_lease_file {
            let acquired = leasefile::acquired_unix(lease.start, clock::now(), unix_now());
            let text = dhclient_lease_text(path, &self.opts.name, Some((lease, acquired)));
            self.files.save_lease(path.clone(), text);
        } else if let Some(path) = lease_path(&self.opts) {
            let now = clock::now();
            let acquired = leasefile::acquired_unix(lease.start, now, unix_now());
            let text = leasefile::render_with_peer(
                &self.opts.name,
                &self.link.mac,
                lease,
                acquired,
                self.server_mac,
            );
            self.files.save_lease(path, text);
        }
    }
}

/// The next change of the interface's link state. Without a watch, never.
async fn link_event(events: Option<&mut LinkWatch>) {
    match events {
        Some(ev) => ev.changed().await,
        None => std::future::pending().await,
    }
}

/// What a link event means for the driver.
enum LinkChange {
    Gone,
    /// Carrier states to tell the core, in order (often none: another attribute changed).
    Carrier(Vec<bool>),
}

/// What [`Driver::wait`] saw first.
enum Woke {
    Command(Option<Command>),
    Link,
    Reopen,
    Tick(std::io::Result<()>),
    Frame(std::io::Result<(Vec<u8>, bool)>),
}

/// What woke the driver up.
enum Input {
    Reply(Box<Reply>),
    Unreadable { from: Ipv4Addr, why: String },
    Arp(ArpSeen),
    Tick,
    Renew,
    Release,
}

/// A frame from the packet socket as the core's input: an ARP packet (while probing), a
/// typed reply, an unreadable DHCP message; None (with a debug line) for a frame that is not
/// a DHCP reply at all.
fn read_frame(bytes: &[u8], csum_not_ready: bool) -> Option<Input> {
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

/// The most of a lease file that is read: a real one is a few hundred bytes, and a huge file
/// (a disk error, a prank) is not read whole into a daemon meant to stay small.
const MAX_LEASE_FILE: u64 = 64 * 1024;

/// The saved lease file's text: None when there is none; an error (said by the caller) when
/// it is not a readable text file of sane size (a directory, binary garbage, megabytes).
fn read_bounded(path: &std::path::Path) -> io::Result<Option<String>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_LEASE_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_LEASE_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} KiB", MAX_LEASE_FILE / 1024),
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not text"))
}

/// Where the MTU the interface had before option 26 changed it is kept (`RUN_DIR/IFACE.mtu`).
fn mtu_path(opts: &IfaceOptions) -> PathBuf {
    opts.run_dir.join(format!("{}.mtu", opts.name))
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

/// The host's DUID (for `--clientid duid`): stored in the lease directory as `duid` (hex), and
/// made the first time it is needed: a DUID-UUID (RFC 6355) of 16 random bytes, one for every
/// interface of the host, kept across reboots and NIC changes. Should the directory not take
/// it, the interface's DUID-LL (type 3, hardware type 1, the MAC) serves for this run.
fn host_duid(opts: &IfaceOptions, mac: [u8; 6]) -> Vec<u8> {
    let fallback = || [&[0u8, 3, 0, 1][..], &mac].concat();
    let Some(dir) = &opts.lease_dir else {
        return fallback();
    };
    let path = dir.join("duid");
    let parse = |text: &str| -> Option<Vec<u8>> {
        let hex = text.trim();
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect();
        bytes.filter(|b| (3..=130).contains(&b.len()))
    };
    if let Some(duid) = std::fs::read_to_string(&path)
        .ok()
        .as_deref()
        .and_then(parse)
    {
        return duid;
    }
    let mut random = [0u8; 16];
    let made = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .and_then(|()| std::fs::create_dir_all(dir))
        .map(|()| core::request::new_duid(random))
        .and_then(|duid| {
            let hex: String = duid.iter().map(|b| format!("{b:02x}")).collect();
            crate::shell::atomic::write_atomic(&path, format!("{hex}\n").as_bytes())?;
            Ok(duid)
        });
    match made {
        Ok(duid) => {
            info!("made this host's DUID, kept in {}", path.display());
            duid
        }
        Err(e) => {
            warn!(
                "cannot keep a DUID in {} ({e}): using the interface's DUID-LL",
                path.display()
            );
            fallback()
        }
    }
}

/// The saved lease of this interface, if the file is there, reads as a sane lease, and may be
/// asked for again here ([`leasefile::Saved::usable_for`]).
/// With it, where unicast messages to its server went ([`leasefile::Saved::server_mac`]).
fn load_lease(opts: &IfaceOptions, mac: &[u8; 6]) -> Option<(Lease, Option<[u8; 6]>)> {
    if let Some(path) = &opts.dhclient_lease_file {
        return load_dhclient_lease(path, &opts.name).map(|l| (l, None));
    }
    let path = lease_path(opts)?;
    let text = match read_bounded(&path) {
        Ok(Some(text)) => text,
        Ok(None) => return None,
        Err(e) => {
            warn!("ignoring {}: {e}; asking for a new lease", path.display());
            return None;
        }
    };
    let saved = leasefile::parse(&text, clock::now(), unix_now())
        .inspect_err(|e| warn!("ignoring {}: {e}; asking for a new lease", path.display()))
        .ok()?;
    let server_mac = saved.server_mac;
    saved
        .usable_for(&opts.name, mac)
        .inspect_err(|why| {
            info!(
                "not asking for the lease in {} again: {why}",
                path.display()
            )
        })
        .ok()
        .map(|lease| (lease, server_mac))
}

/// The dhclient lease file `path` with `iface`'s lease replaced by `lease` (and the Unix time
/// it started), or dropped (None): see [`crate::dhclient::leases::rewrite`].
fn dhclient_lease_text(
    path: &std::path::Path,
    iface: &str,
    lease: Option<(&Lease, u64)>,
) -> String {
    let old = read_bounded(path).ok().flatten();
    let block = lease.map(|(l, acquired)| crate::dhclient::leases::render(iface, l, acquired));
    crate::dhclient::leases::rewrite(old.as_deref(), iface, block.as_deref())
}

/// The newest unexpired lease for `iface` in the dhclient lease file `path`.
fn load_dhclient_lease(path: &std::path::Path, iface: &str) -> Option<Lease> {
    let ignoring =
        |e: &dyn fmt::Display| warn!("ignoring {}: {e}; asking for a new lease", path.display());
    let text = match read_bounded(path) {
        Ok(text) => text?,
        Err(e) => {
            ignoring(&e);
            return None;
        }
    };
    match crate::dhclient::leases::latest(&text, iface, clock::now(), unix_now()) {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            info!("{} holds no unexpired lease for {iface}", path.display());
            None
        }
        Err(e) => {
            ignoring(&e);
            None
        }
    }
}
