//! One interface's driver: a small loop that turns what happens (a frame, a deadline, a
//! command, a link event) into the core's events, and hands each of the core's actions to the
//! value that owns its effect:
//!
//! - [`Port`]: the packet socket (DHCP messages and ARP out, frames in);
//! - [`Apply`]: the kernel (address, routes, MTU, link-local address);
//! - [`Store`]: the files (saved lease) and [`Files`]: DNS settings;
//! - [`Notify`]: the hook script, whoever waits for the first lease, the service manager.
//!
//! No protocol decision is made here, and nothing about the lease is remembered here: the core
//! holds the one record of what the interface holds, every change comes as a whole transition
//! from it, and each transition's name (the hook reason) is the core's.
//!
//! Errors on one interface stay on that interface: a socket that fails is reopened (with a
//! growing pause), a send that fails is retransmitted by the core's schedule, and an address
//! the kernel refuses goes back to the core, which starts over after a pause. Only a
//! `--oneshot` run, which has nothing to keep alive, ends on such an error.

use crate::core::{self, request, Action, Client, Config, Event, NoLease, Reason};
use crate::hookenv::Reason as HookReason;
use crate::lease::Lease;
use crate::shell::apply::{Apply, NETLINK_TURNS};
use crate::shell::clock;
use crate::shell::cmdq;
use crate::shell::files::Files;
use crate::shell::leftout::LeftOut;
use crate::shell::linkwatch::{Carrier, LinkMonitor, LinkWatch};
use crate::shell::netlink::{Link, Netlink};
use crate::shell::notify::{Notify, Ready};
use crate::shell::options::{io_err, IfaceOptions, RunError};
use crate::shell::port::{self, prepare_link, read_frame, Input, Port};
use crate::shell::rawsock::RawSocket;
use crate::shell::status;
use crate::shell::store::{host_duid, Store};
use crate::shell::systemd;
use std::collections::VecDeque;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

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

/// What [`Driver::wait`] saw first.
enum Woke {
    Command(Option<Command>),
    Link,
    Reopen,
    Tick(std::io::Result<()>),
    Frame(std::io::Result<(Vec<u8>, bool)>),
}

/// What a batch of actions came to, said and reported once it is carried out.
#[derive(Default)]
struct Batch {
    /// The driver ends.
    done: Option<Ended>,
    /// The first lease, for whoever waits for it.
    first: Option<(Ready, Lease)>,
    /// A oneshot run cannot go on.
    fatal: Option<RunError>,
    /// "bound" and "renewed", said once the batch is carried out (the lease saved).
    said: Vec<String>,
}

/// The running state of one interface in the shell.
pub struct Driver {
    opts: IfaceOptions,
    link: Link,
    net: Netlink,
    files: Files,
    port: Port,
    apply: Apply,
    store: Store,
    notify: Notify,
    client: Client,
    /// The kernel's link events about this interface (none for a release with no daemon).
    link_events: Option<LinkWatch>,
    carrier: Carrier,
    /// The interface is not there: waiting for it to appear.
    missing: bool,
    left_out: LeftOut,
    /// The core's state before the event being handled (to tell RENEW from REBIND, REBOOT).
    state_before: core::StateName,
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
                let sock = port::open(&link)?;
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
        let name: Arc<str> = opts.name.as_str().into();
        let store = Store::new(name.clone(), opts.common.clone(), files.clone());
        let found = store.load(&link.mac);
        let mut client = Client::new(client_config(&opts, &link), seed(link.mac));
        let mut port = Port::new(name.clone(), link.mac, sock);
        if let Some((saved, server_mac)) = found.usable {
            client = client.with_saved_lease(saved);
            port.set_server_mac(server_mac);
        }
        let up = link.up && link.carrier;
        if !up {
            client = client.without_carrier();
        }
        Driver {
            apply: Apply::new(net.clone(), name, &link, opts.metric, &opts.run_dir),
            notify: Notify::new(&opts, requested(&opts)),
            client,
            port,
            store,
            opts,
            link,
            net,
            files,
            link_events: None,
            carrier: Carrier::new(up),
            missing: false,
            left_out: LeftOut::default(),
            state_before: core::StateName::Init,
        }
    }

    /// Asks to be told when the interface first binds (or gives up waiting).
    pub fn notify_ready(&mut self, ready: Ready) {
        self.notify.on_ready(ready);
    }

    /// Asks to be told after every lease event (bind, renewal, removal).
    pub fn notify_changes(&mut self, settled: Arc<tokio::sync::Notify>) {
        self.notify.on_changes(settled);
    }

    /// Asks to tell the service manager the interface's state whenever it changes.
    pub fn notify_status(&mut self, manager: systemd::Status) {
        self.notify.on_status(manager);
    }

    /// Feeds one event to the core, noting the state it was in.
    fn feed(&mut self, now: crate::time::Instant, event: Event<'_>) -> Vec<Action> {
        self.state_before = self.client.state();
        self.client.handle(now, event)
    }

    /// Releases the saved lease of an interface no daemon runs for (`dhcpc -r` alone):
    /// DHCPRELEASE to the server, address and route removed, resolv.conf restored, lease file
    /// deleted. Returns the released lease, or None if there was no unexpired saved lease.
    pub async fn release_saved(mut self) -> Result<Option<Lease>, RunError> {
        let Some((lease, server_mac)) = self.store.load(&self.link.mac).usable else {
            return Ok(None);
        };
        self.port.set_server_mac(server_mac);
        if self.link.up && !self.port.is_open() {
            // DHCPRELEASE goes out through a packet socket, as every message does.
            self.port.attach(port::open(&self.link)?);
        }
        let config = self.client.config().clone();
        self.client = Client::new(config, fastrand::u64(..)).into_bound(lease.clone());
        let (name, index) = (&self.opts.name, self.link.index);
        self.files
            .adopt_dns(name, index, &lease, &self.opts.dns_rules);
        let mut actions = self.feed(clock::now(), Event::Release);
        if !self.link.up {
            let name = &self.opts.name;
            info!("{name} is down: DHCPRELEASE is not sent; the lease is dropped here only");
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
        self.notify
            .status(&name, || "waiting for the interface".to_string());
        loop {
            if self.try_interface().await {
                return Ok(None);
            }
            let polling = self.link_events.is_none();
            let events = self.link_events.as_mut();
            tokio::select! {
                _ = link_event(events) => {}
                // Without link events (none could be subscribed), look again now and then.
                _ = tokio::time::sleep(Duration::from_secs(5)), if polling => {}
                _ = tokio::time::sleep_until(give_up), if self.notify.awaits_ready() => {
                    let why = "the interface is not there".to_string();
                    let err = RunError::NoLease(name.clone(), self.opts.timeout, why);
                    warn!("{err}; waiting for it");
                    if let Some(ready) = self.notify.take_ready() {
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
                        let _ = reply.send(status::missing(&name));
                    }
                },
            }
        }
    }

    /// Looks for the interface; if it is there (and its socket opens), the driver is made
    /// afresh on it, keeping who waits for it and its link events.
    async fn try_interface(&mut self) -> bool {
        let name = &self.opts.name;
        let link = match prepare_link(&self.net, name, true).await {
            Ok(link) => link,
            Err(RunError::NoSuchInterface(_)) => return false,
            Err(e) => {
                warn!("{e}; waiting");
                return false;
            }
        };
        let sock = match RawSocket::dhcp(link.index) {
            Ok(sock) => sock,
            Err(e) => {
                warn!("{name}: opening a raw socket: {e}; waiting");
                return false;
            }
        };
        info!("{name} is there (index {}): asking for a lease", link.index);
        let (net, files) = (self.net.clone(), self.files.clone());
        let fresh = Driver::with(self.opts.clone(), link, net, files, Some(sock));
        let mut old = std::mem::replace(self, fresh);
        self.notify.keep_waiters(&mut old.notify);
        self.link_events = old.link_events.take();
        if let Some(ev) = &mut self.link_events {
            // What happened before is history; the lookup above is now, unless an event
            // about this very link says more (its carrier may have come since): then it is
            // read at once.
            if let Some(s) = ev.borrow_and_update() {
                self.carrier.seen(&s);
                if s.index == Some(self.link.index) && s.carrier != self.carrier.up {
                    ev.mark_changed();
                }
            }
        }
        true
    }

    /// Stops the driver: the lease stays on the interface and on disk for next time. Boxed,
    /// like the other rare awaits: the lease it keeps for the hook would otherwise take room
    /// in every driver's future while it rests.
    async fn stop(&mut self) -> Result<Ended, RunError> {
        Box::pin(async {
            info!("stopping; the lease stays for next time");
            let held = self.client.applied().cloned();
            let actions = self.feed(clock::now(), Event::Stop);
            self.perform(actions).await?;
            self.notify
                .hook(HookReason::Stop, None, held.as_ref())
                .await;
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
        let port = &self.port;
        let mut reopen = port.reopen_at().map(clock::sleep_until);
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
            if let Poll::Ready(r) = port.poll_recv(cx, frame_len) {
                return Poll::Ready(Woke::Frame(r));
            }
            Poll::Pending
        })
        .await
    }

    /// The carrier events the kernel's latest link event means for the core; None when the
    /// interface is gone (or made again under a new index).
    async fn link_changed(&mut self) -> Option<Vec<bool>> {
        let state = self
            .link_events
            .as_mut()
            .and_then(|ev| ev.borrow_and_update());
        let Some(state) = state else {
            return Some(Vec::new());
        };
        if state.index != Some(self.link.index) {
            // The kernel is asked, so that an event older than the link this driver runs
            // (its predecessor's removal, read late) is not taken for its end.
            return match Box::pin(self.net.link(&self.opts.name)).await {
                Ok(link) if link.index == self.link.index => Some(Vec::new()),
                _ => None,
            };
        }
        Some(self.carrier.changes(&state))
    }

    async fn drive(&mut self, commands: &mut cmdq::Receiver<Command>) -> Result<Ended, RunError> {
        // One frame at most: the link's MTU plus the Ethernet header (never under the 576-byte
        // minimum every DHCP client must accept). The buffer is made only once a frame is
        // there to read, and freed once it is parsed: a thousand idle interfaces keep none.
        let frame_len = self.link.mtu.unwrap_or(1500).clamp(576, 9000) as usize + 14;
        if !self.carrier.up {
            info!("{}: no carrier yet; waiting for it", self.opts.name);
        }
        self.notify.hook(HookReason::Preinit, None, None).await;
        let actions = self.feed(clock::now(), Event::Start);
        if let Some(end) = self.perform(actions).await? {
            return Ok(end);
        }
        loop {
            let actions = match self.wait(commands, frame_len).await {
                Woke::Frame(Ok((buf, csum_not_ready))) => {
                    self.port.read_ok();
                    match read_frame(&buf, csum_not_ready) {
                        Some(input) => self.input(clock::now(), input),
                        None => continue,
                    }
                }
                Woke::Frame(Err(e)) => {
                    self.port.read_failed(e);
                    continue;
                }
                Woke::Reopen => {
                    if let Some(index) = Box::pin(self.port.reopen(&self.net)).await {
                        self.link.index = index;
                        self.apply.set_index(index);
                    }
                    continue;
                }
                Woke::Tick(r) => {
                    if let Err(e) = r {
                        debug!("timer: {e}");
                    }
                    self.feed(clock::now(), Event::Tick)
                }
                Woke::Command(cmd) => match cmd {
                    Some(Command::Renew) => self.feed(clock::now(), Event::Renew),
                    Some(Command::Release) => return self.release().await,
                    Some(Command::Stop) | None => return self.stop().await,
                    Some(Command::Status(reply)) => {
                        let _ = reply.send(self.status());
                        continue;
                    }
                },
                Woke::Link => match self.link_changed().await {
                    None => return self.gone().await,
                    Some(changes) => {
                        for carrier in changes {
                            let actions = self.feed(clock::now(), Event::Link { carrier });
                            if let Some(end) = self.perform(actions).await? {
                                return Ok(end);
                            }
                        }
                        continue;
                    }
                },
            };
            if let Some(end) = self.perform(actions).await? {
                return Ok(end);
            }
        }
    }

    /// Feeds what came in on the socket to the core.
    fn input(&mut self, now: crate::time::Instant, input: Input) -> Vec<Action> {
        match input {
            Input::Reply(r) => {
                self.left_out.say(&r, tokio::time::Instant::now());
                if r.kind == Some(dhcproto::v4::MessageType::Ack) {
                    self.port.ack_from(r.from_mac);
                }
                self.feed(now, Event::Reply(&r))
            }
            Input::Unreadable { from, why } => self.feed(now, Event::Unreadable { from, why }),
            Input::Arp(seen) => self.feed(now, Event::Arp(seen)),
        }
    }

    /// `dhcpc -r`: the core releases what it holds, and the driver ends.
    async fn release(&mut self) -> Result<Ended, RunError> {
        let actions = self.feed(clock::now(), Event::Release);
        if !actions
            .iter()
            .any(|a| matches!(a, Action::Deconfigure { .. }))
        {
            info!("nothing to release");
        }
        self.perform(actions).await?;
        Ok(Ended::Released)
    }

    /// The interface was removed: its lease stops here.
    async fn gone(&mut self) -> Result<Ended, RunError> {
        let name = &self.opts.name;
        info!("{name} was removed: its lease stops here; waiting for it to come back");
        let actions = self.feed(clock::now(), Event::Gone);
        self.perform(actions).await?;
        Ok(Ended::Gone)
    }

    /// The interface's state for `dhcpc --status`, as JSON.
    fn status(&self) -> serde_json::Value {
        status::json(&self.opts.name, &self.client, self.carrier.up, clock::now())
    }

    /// Carries out the core's actions, each by the value that owns its effect. Returns how
    /// the driver ends, if it does.
    async fn perform(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        // Changes to the interface take turns (never a script's: it may take its time).
        let changes = actions.iter().any(|a| {
            matches!(
                a,
                Action::Configure { .. } | Action::Deconfigure { .. } | Action::Reapply { .. }
            )
        });
        let _turn = if changes && !self.notify.has_script() {
            Some(NETLINK_TURNS.acquire().await)
        } else {
            None
        };
        Box::pin(self.perform_inner(actions)).await
    }

    async fn perform_inner(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        let mut batch = Batch::default();
        if actions
            .iter()
            .any(|a| matches!(a, Action::Configure { .. } | Action::Deconfigure { .. }))
        {
            self.notify.changed();
        }
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            self.carry_out(action, &mut queue, &mut batch).await?;
        }
        if let Some(e) = batch.fatal {
            return Err(e);
        }
        // The first lease is reported once its files are on disk (whoever waits for it, the
        // shell that started the daemon, may read resolv.conf next), after the rest of the
        // actions (the ARP announcement) so that the disk does not hold those up.
        if let Some((ready, lease)) = batch.first {
            self.files.flush().await;
            let _ = ready.send(Ok(lease));
        }
        for line in batch.said {
            info!("{line}");
        }
        self.notify
            .status(&self.opts.name, || status::line(&self.client));
        Ok(batch.done)
    }

    /// Hands one action to the value that owns its effect. `queue` is the rest of the batch
    /// (a configuration refused or failed drops what depended on it, and adds the core's
    /// answer).
    async fn carry_out(
        &mut self,
        action: Action,
        queue: &mut VecDeque<Action>,
        batch: &mut Batch,
    ) -> Result<(), RunError> {
        match action {
            Action::Send { msg, dest } => self.port.send(&msg, dest),
            Action::Configure {
                lease,
                previous,
                renewal,
            } => self.configure(lease, previous, renewal, queue, batch).await,
            Action::Deconfigure { lease, reason } => {
                self.deconfigure(&lease, reason).await;
                if reason == Reason::Released {
                    batch.done = Some(Ended::Released);
                }
            }
            Action::SaveLease(lease) => {
                self.store
                    .save(&lease, &self.link.mac, self.port.server_mac())
            }
            Action::ForgetLease => self.store.forget(),
            Action::ArpWatch(addrs) => self.port.watch_arp(addrs),
            Action::ArpDefend(addr) => self.port.defend(addr),
            Action::ArpProbe { target } => self.port.arp_probe(target),
            Action::ArpAnnounce { addr } => self.port.arp_announce(addr),
            Action::ArpRequest { sender, target, to } => self.port.arp_request(sender, target, to),
            Action::ConfigureLinkLocal { addr } => self.apply.add_link_local(addr).await,
            Action::DeconfigureLinkLocal { addr } => self.apply.del_link_local(addr).await,
            Action::Reapply { lease } => self.reapply(&lease).await,
            Action::NoLease(why) => return self.no_lease(why).await,
        }
        Ok(())
    }

    /// Makes the interface hold `lease` (or has the script do it), then tells the hook.
    async fn configure(
        &mut self,
        lease: Lease,
        previous: Option<Lease>,
        renewal: bool,
        queue: &mut VecDeque<Action>,
        batch: &mut Batch,
    ) {
        self.port.ack_taken();
        let same = previous.as_ref().map(|p| p.address) == Some(lease.address);
        let reason = match (renewal, self.state_before) {
            (true, core::StateName::Rebinding) => HookReason::Rebind,
            (true, core::StateName::Renewing) => HookReason::Renew,
            (true, _) => HookReason::Reboot,
            (false, _) if same => HookReason::Reboot,
            (false, _) => HookReason::Bound,
        };
        let applied = if self.notify.script_configures() {
            // dhclient-script's way: the script applies the lease; a non-zero exit after
            // BOUND or REBOOT refuses it.
            let code = self
                .notify
                .hook(reason, Some(&lease), previous.as_ref())
                .await;
            if reason.may_refuse() && code != Some(0) {
                drop_followers(queue, &lease);
                queue.extend(self.feed(clock::now(), Event::ScriptRefused { lease: &lease }));
                return;
            }
            Ok(())
        } else {
            let r = self.apply.configure(&lease, previous.as_ref()).await;
            if r.is_ok() {
                self.set_dns(Some(&lease));
                self.notify
                    .hook(reason, Some(&lease), previous.as_ref())
                    .await;
            }
            r
        };
        match applied {
            Ok(()) => {
                batch.said.push(if renewal {
                    let time = crate::lease::human_secs(lease.lease_secs);
                    format!("renewed {}, lease {time}", lease.address)
                } else {
                    format!("bound {lease}")
                });
                if let Some(ready) = self.notify.take_ready() {
                    batch.first = Some((ready, lease.clone()));
                }
                if self.opts.oneshot {
                    batch.done = Some(Ended::Bound(Box::new(lease)));
                }
            }
            Err(e) => {
                let (name, address) = (&self.opts.name, lease.address);
                // Said once: by the core as a warning (it starts over), or in oneshot mode
                // as the error dhcpc exits with.
                debug!("{name}: adding address {address}: {e}");
                // Saving and announcing this lease are moot now; the core says what to do
                // instead.
                drop_followers(queue, &lease);
                if self.opts.oneshot {
                    batch.fatal = Some(io_err(format!("{name}: adding address {address}"))(e));
                } else {
                    let why = e.to_string();
                    let failed = Event::ConfigureFailed { lease: &lease, why };
                    queue.extend(self.feed(clock::now(), failed));
                }
            }
        }
    }

    /// Takes `lease` off the interface (or has the script do it), then tells the hook.
    async fn deconfigure(&mut self, lease: &Lease, reason: Reason) {
        let hook = match reason {
            Reason::Nak => HookReason::Nak,
            Reason::Released => HookReason::Release,
            Reason::Unconfirmed | Reason::NotApplied => HookReason::Fail,
            Reason::Gone => HookReason::Stop,
            Reason::Expired | Reason::Moved | Reason::Declined | Reason::Conflict => {
                HookReason::Expire
            }
        };
        let name = &self.opts.name;
        if self.notify.script_configures() {
            self.notify.hook(hook, None, Some(lease)).await;
            info!("{name}: {} given up ({reason})", lease.address);
            return;
        }
        let gone = reason == Reason::Gone;
        self.apply.deconfigure(lease, gone).await;
        self.set_dns(None);
        if gone {
            info!("{name}: {} went with the interface", lease.address);
        } else {
            info!("removed {} ({reason})", lease.address);
        }
        self.notify.hook(hook, None, Some(lease)).await;
    }

    /// Puts back what of `lease` the kernel dropped while the link was down.
    async fn reapply(&mut self, lease: &Lease) {
        if self.notify.script_configures() {
            self.notify
                .hook(HookReason::Reboot, Some(lease), Some(lease))
                .await;
            return;
        }
        let name = &self.opts.name;
        debug!("{name}: putting {} back", lease.address);
        match self.apply.configure(lease, Some(lease)).await {
            Ok(()) => self.set_dns(Some(lease)),
            Err(e) => warn!("{name}: putting {} back: {e}", lease.address),
        }
    }

    /// No lease within the timeout: said, and told to whoever waits; a oneshot run ends.
    async fn no_lease(&mut self, why: NoLease) -> Result<(), RunError> {
        let why = if self.apply.carrier().await {
            why.to_string()
        } else if why.causes.is_empty() {
            format!("no carrier on {}", self.opts.name)
        } else {
            format!("no carrier on {}; {why}", self.opts.name)
        };
        let err = RunError::NoLease(self.opts.name.clone(), self.opts.timeout, why);
        if self.opts.oneshot {
            return Err(err);
        }
        warn!("{err}; still trying");
        self.notify.hook(HookReason::Fail, None, None).await;
        if let Some(ready) = self.notify.take_ready() {
            let _ = ready.send(Err(err));
        }
        Ok(())
    }

    /// The DNS settings of `lease` (None: none of this interface's).
    fn set_dns(&self, lease: Option<&Lease>) {
        let (name, index) = (&self.opts.name, self.link.index);
        self.files.set_dns(name, index, lease, &self.opts.dns_rules);
    }
}

/// Drops from the rest of the batch what followed from configuring `lease` (saving and
/// announcing it), once it was refused or failed.
fn drop_followers(queue: &mut VecDeque<Action>, lease: &Lease) {
    queue.retain(|a| match a {
        Action::SaveLease(l) => l != lease,
        Action::ArpAnnounce { addr } => *addr != lease.address,
        _ => true,
    });
}

/// The core's configuration for the interface `link`, from `opts`.
fn client_config(opts: &IfaceOptions, link: &Link) -> Config {
    let mut config = Config::new(link.mac);
    config.broadcast_flag = opts.broadcast_flag;
    config.hostname = opts.hostname.clone();
    let duid = match opts.client_id {
        core::ClientId::Duid => host_duid(opts.lease_dir.as_deref(), link.mac),
        _ => Vec::new(),
    };
    config.client_id = request::client_id(&opts.client_id, link.mac, &duid);
    config.fqdn = opts.fqdn.clone();
    config.extra_requests = opts.extra_requests.clone();
    config.rapid_commit = opts.rapid_commit;
    config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
    config.probe = opts.probe;
    config.max_message_size = core::max_message_size(link.mtu);
    config.acquire_timeout = Some(opts.timeout);
    config.ipv4ll = opts.ipv4ll;
    config
}

/// The core's seed: random, and different for every interface.
fn seed(mac: [u8; 6]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..6].copy_from_slice(&mac);
    fastrand::u64(..) ^ u64::from_le_bytes(bytes)
}

/// The options the client asks for (the script's `requested_*` variables).
fn requested(opts: &IfaceOptions) -> Vec<u8> {
    let mut requested: Vec<u8> = core::REQUESTED_OPTIONS
        .iter()
        .map(|&c| u8::from(c))
        .collect();
    requested.extend(&opts.extra_requests);
    requested
}

/// The next change of the interface's link state. Without a watch, never.
async fn link_event(events: Option<&mut LinkWatch>) {
    match events {
        Some(ev) => ev.changed().await,
        None => std::future::pending().await,
    }
}
