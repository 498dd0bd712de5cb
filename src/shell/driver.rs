//! One interface's driver: a small loop that turns what happens (a frame, a deadline, a
//! command, a link event) into the core's events, and hands each of the core's actions to the
//! value that owns its effect, gathered in [`Effects`]:
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

use crate::core::{Action, Client, Event};
use crate::lease::Lease;
use crate::shell::actions::{drop_followers, Batch, Effects, FollowUp};
use crate::shell::apply::{Apply, NETLINK_TURNS};
use crate::shell::claim::{Claim, Registry};
use crate::shell::clock;
use crate::shell::cmdq;
use crate::shell::command::{Command, Ended};
use crate::shell::files::Files;
use crate::shell::leftout::LeftOut;
use crate::shell::linkwatch::{carrier_changes, Carrier, LinkMonitor, LinkWatch};
use crate::shell::missing::{self, Awaited};
use crate::shell::netlink::{Link, Netlink, Source};
use crate::shell::notify::{Notify, Ready};
use crate::shell::options::{inform_source, io_err, IfaceOptions, RunError};
use crate::shell::port::{self, prepare_link, read_frame, Input, Port};
use crate::shell::rawsock::RawSocket;
use crate::shell::status;
use crate::shell::store::Store;
use crate::shell::systemd;
use std::collections::VecDeque;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use tracing::{debug, info};

/// What [`Driver::wait`] saw first.
enum Woke {
    Command(Option<Command>),
    Link,
    Reopen,
    Tick(std::io::Result<()>),
    Frame(std::io::Result<(Vec<u8>, bool)>),
}

/// The running state of one interface in the shell.
pub struct Driver {
    /// What the driver changes the world with.
    fx: Effects,
    client: Client,
    /// The kernel's link events about this interface (none for a release with no daemon).
    link_events: Option<LinkWatch>,
    carrier: Carrier,
    /// The interface is not there: waiting for it to appear.
    missing: bool,
    /// This process's claim on the interface ([`crate::shell::claim`]), while it is there,
    /// and the registry to claim it in again (when it comes back under a new index).
    claim: Option<Claim>,
    claims: Option<Registry>,
    left_out: LeftOut,
}

impl Driver {
    /// A driver to run the interface: claims it (unless `claim` is its claim already), brings
    /// it up if it is down and opens its packet socket. With `allow_missing`, an interface that
    /// is not there is waited for.
    pub async fn new(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
        monitor: &LinkMonitor,
        (registry, claim): (Registry, Option<Claim>),
    ) -> Result<Driver, RunError> {
        // Watched before it is looked up, so that no event between the two is missed.
        let events = monitor.watch(&opts.name);
        let mut driver = match prepare_link(&net, &opts.name, true).await {
            Ok(link) => {
                let claim = registry.for_link(&link, claim)?;
                let inform = inform_from(&opts, &net, &link).await?;
                let sock = port::open(&link)?;
                let mut d = Driver::with(opts, link, (net, files), Some(sock), inform);
                d.claim = claim;
                d
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
                let mut d = Driver::with(opts, link, (net, files), None, None);
                d.missing = true;
                d
            }
            Err(e) => return Err(e),
        };
        driver.link_events = Some(events);
        driver.claims = Some(registry);
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
        Ok(Driver::with(opts, link, (net, files), None, None))
    }

    /// The driver of `link`; `inform`: options only, from that address set by hand.
    fn with(
        opts: IfaceOptions,
        link: Link,
        (net, files): (Netlink, Files),
        sock: Option<RawSocket>,
        inform: Option<Source>,
    ) -> Driver {
        let name: Arc<str> = opts.name.as_str().into();
        let store = Store::new(name.clone(), opts.common.clone(), files.clone());
        let duid = || store.duid(link.mac);
        let config = opts.core_config(&link, duid, inform);
        let mut client = Client::new(config, opts.seed(link.mac));
        let mut port = Port::new(name.clone(), link.mac, sock);
        // Options only: no lease, saved or left, is looked at.
        let found = match opts.inform {
            None => store.load(&link.mac),
            Some(_) => Default::default(),
        };
        if let Some((saved, server_mac)) = found.usable {
            client = client.with_saved_lease(saved);
            port.set_server_mac(server_mac);
        }
        if let Some(leftover) = found.leftover {
            // Refused here, but maybe still on the interface: the core takes it off.
            client = client.with_leftover(leftover);
        }
        let up = link.up && link.carrier;
        if !up {
            client = client.without_carrier();
        }
        let fx = Effects {
            apply: Apply::new(net.clone(), name, &link, opts.metric, &opts.run_dir),
            notify: Notify::new(&opts),
            port,
            store,
            opts,
            link,
            net,
            files,
        };
        Driver {
            fx,
            client,
            link_events: None,
            carrier: Carrier::new(up),
            missing: false,
            claim: None,
            claims: None,
            left_out: LeftOut::default(),
        }
    }

    /// Asks to be told when the interface first binds (or gives up waiting).
    pub fn notify_ready(&mut self, ready: Ready) {
        self.fx.notify.on_ready(ready);
    }

    /// Asks to be told after every lease event (bind, renewal, removal).
    pub fn notify_changes(&mut self, settled: Arc<tokio::sync::Notify>) {
        self.fx.notify.on_changes(settled);
    }

    /// Asks to tell the service manager the interface's state whenever it changes.
    pub fn notify_status(&mut self, manager: systemd::Status) {
        self.fx.notify.on_status(manager);
    }

    /// Feeds one event to the core.
    fn feed(&mut self, now: crate::time::Instant, event: Event<'_>) -> Vec<Action> {
        self.client.handle(now, event)
    }

    /// Releases the saved lease of an interface no daemon runs for (`dhcpc -r` alone):
    /// DHCPRELEASE to the server, address and route removed, resolv.conf restored, lease file
    /// deleted. Returns the released lease, or None if there was no unexpired saved lease.
    pub async fn release_saved(mut self) -> Result<Option<Lease>, RunError> {
        if self.fx.opts.inform.is_some() {
            // Options only: no lease to give back, whatever an earlier run saved.
            return Ok(None);
        }
        let Some((lease, server_mac)) = self.fx.store.load(&self.fx.link.mac).usable else {
            return Ok(None);
        };
        self.fx.port.set_server_mac(server_mac);
        if self.fx.link.up && !self.fx.port.is_open() {
            // DHCPRELEASE goes out through a packet socket, as every message does.
            self.fx.port.attach(port::open(&self.fx.link)?);
        }
        let config = self.client.config().clone();
        self.client = Client::new(config, fastrand::u64(..)).into_bound(lease.clone());
        let (name, index) = (&self.fx.opts.name, self.fx.link.index);
        self.fx
            .files
            .adopt_dns(name, index, &lease, &self.fx.opts.dns_rules);
        let mut actions = self.feed(clock::now(), Event::Release);
        if !self.fx.link.up {
            info!("the interface is down: DHCPRELEASE is not sent; the lease is dropped here only");
            actions.retain(|a| !matches!(a, Action::Send { .. }));
        }
        self.perform(actions).await?;
        self.fx.files.flush().await;
        self.fx.notify.finish().await;
        Ok(Some(lease))
    }

    /// Runs the interface: until bound in oneshot mode, until released or stopped otherwise.
    /// Returns once the files it changed (lease, resolv.conf) are on disk and the hook
    /// script's queued runs are carried out.
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
                Ok(Ended::Gone) if self.fx.opts.oneshot => {
                    break Err(RunError::NoSuchInterface(self.fx.opts.name.clone()))
                }
                Ok(Ended::Gone) => {
                    self.fx.files.flush().await;
                    self.missing = true;
                }
                other => break other,
            }
        };
        self.fx.files.flush().await;
        self.fx.notify.finish().await;
        drop(commands);
        result
    }

    /// Waits for the interface to appear (again), serving commands meanwhile; then the driver
    /// starts afresh on it (by its new index), asking for the saved lease again. Ok(None)
    /// once it is there; Ok(Some) when told to stop first. An error when another dhcpc
    /// claimed it meanwhile.
    async fn await_interface(
        &mut self,
        commands: &mut cmdq::Receiver<Command>,
    ) -> Result<Option<Ended>, RunError> {
        let waiting = missing::Waiting {
            opts: &self.fx.opts,
            net: &self.fx.net,
            notify: &mut self.fx.notify,
            link_events: self.link_events.as_mut(),
            claims: self.claims.as_ref(),
            claim: &mut self.claim,
        };
        match Box::pin(missing::wait(waiting, commands)).await? {
            Awaited::There { link, sock, claim } => {
                let inform = inform_from(&self.fx.opts, &self.fx.net, &link).await?;
                self.renew_on(link, sock, claim, inform);
                Ok(None)
            }
            Awaited::Ended(end) => Ok(Some(end)),
        }
    }

    /// The driver made afresh on the interface that came (back), keeping who waits for it
    /// and its link events.
    fn renew_on(
        &mut self,
        link: Link,
        sock: RawSocket,
        claim: Option<Claim>,
        inform: Option<Source>,
    ) {
        let (net, files) = (self.fx.net.clone(), self.fx.files.clone());
        let opts = self.fx.opts.clone();
        let fresh = Driver::with(opts, link, (net, files), Some(sock), inform);
        let mut old = std::mem::replace(self, fresh);
        self.claim = claim;
        self.claims = old.claims.take();
        self.fx.notify.keep_waiters(&mut old.fx.notify);
        self.link_events = old.link_events.take();
        if let Some(ev) = &mut self.link_events {
            // What happened before is history; the lookup above is now, unless an event
            // about this very link says more (its carrier may have come since): then it is
            // read at once.
            if let Some(s) = ev.borrow_and_update() {
                self.carrier.seen(&s);
                if s.index == Some(self.fx.link.index) && s.carrier != self.carrier.up {
                    ev.mark_changed();
                }
            }
        }
    }

    /// Stops the driver: the lease stays on the interface and on disk for next time (the
    /// core's STOP tells the hook which). Boxed, like the other rare awaits: its state would
    /// otherwise take room in every driver's future while it rests.
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
        let port = &self.fx.port;
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
        let at = (self.fx.opts.name.as_str(), self.fx.link.index);
        let events = self.link_events.as_mut();
        carrier_changes(events, &mut self.carrier, &self.fx.net, at).await
    }

    async fn drive(&mut self, commands: &mut cmdq::Receiver<Command>) -> Result<Ended, RunError> {
        // One frame at most: the link's MTU plus the Ethernet header (never under the 576-byte
        // minimum every DHCP client must accept). The buffer is made only once a frame is
        // there to read, and freed once it is parsed: a thousand idle interfaces keep none.
        let frame_len = self.fx.link.mtu.unwrap_or(1500).clamp(576, 9000) as usize + 14;
        if !self.carrier.up {
            info!("{}: no carrier yet; waiting for it", self.fx.opts.name);
        }
        let actions = self.feed(clock::now(), Event::Start);
        if let Some(end) = self.perform(actions).await? {
            return Ok(end);
        }
        loop {
            let actions = match self.wait(commands, frame_len).await {
                Woke::Frame(Ok((buf, csum_not_ready))) => {
                    self.fx.port.read_ok();
                    match read_frame(&buf, csum_not_ready) {
                        Some(input) => self.input(clock::now(), input),
                        None => continue,
                    }
                }
                Woke::Frame(Err(e)) => {
                    self.fx.port.read_failed(e);
                    continue;
                }
                Woke::Reopen => {
                    if let Some(index) = Box::pin(self.fx.port.reopen(&self.fx.net)).await {
                        self.fx.link.index = index;
                        self.fx.apply.set_index(index);
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
                    self.fx.port.ack_from(r.from_mac);
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
        if !actions.iter().any(|a| {
            matches!(
                a,
                Action::Deconfigure { .. } | Action::DeconfigureOptions { .. }
            )
        }) {
            info!("nothing to release");
        }
        self.perform(actions).await?;
        Ok(Ended::Released)
    }

    /// The interface was removed: its lease stops here.
    async fn gone(&mut self) -> Result<Ended, RunError> {
        info!("the interface was removed: its lease stops here; waiting for it to come back");
        let actions = self.feed(clock::now(), Event::Gone);
        self.perform(actions).await?;
        Ok(Ended::Gone)
    }

    /// The interface's state for `dhcpc --status`, as JSON.
    fn status(&self) -> serde_json::Value {
        status::json(
            &self.fx.opts.name,
            &self.client,
            self.carrier.up,
            clock::now(),
        )
    }

    /// Carries out the core's actions, each by the value that owns its effect. Returns how
    /// the driver ends, if it does.
    async fn perform(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        // Changes to the interface take turns (never a script's: it may take its time).
        let changes = actions.iter().any(|a| {
            matches!(
                a,
                Action::Configure { .. }
                    | Action::Deconfigure { .. }
                    | Action::Reapply { .. }
                    | Action::ConfigureOptions { .. }
                    | Action::DeconfigureOptions { .. }
            )
        });
        let _turn = if changes && !self.fx.notify.has_script() {
            Some(NETLINK_TURNS.acquire().await)
        } else {
            None
        };
        Box::pin(self.perform_inner(actions)).await
    }

    async fn perform_inner(&mut self, actions: Vec<Action>) -> Result<Option<Ended>, RunError> {
        let mut batch = Batch::default();
        if actions.iter().any(|a| {
            matches!(
                a,
                Action::Configure { .. }
                    | Action::Deconfigure { .. }
                    | Action::ConfigureOptions { .. }
                    | Action::DeconfigureOptions { .. }
            )
        }) {
            self.fx.notify.changed();
        }
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let Some(follow) = self.fx.carry_out(action, &mut batch).await? else {
                continue;
            };
            // Saving and announcing a lease that was not configured are moot; the core says
            // what to do instead.
            drop_followers(&mut queue, follow.lease());
            let now = clock::now();
            match &follow {
                FollowUp::ScriptRefused(lease) => {
                    queue.extend(self.feed(now, Event::ScriptRefused { lease }))
                }
                FollowUp::ConfigureFailed(lease, why) => {
                    let why = why.clone();
                    queue.extend(self.feed(now, Event::ConfigureFailed { lease, why }))
                }
                FollowUp::Moot(_) => {}
            }
        }
        if let Some(e) = batch.fatal.take() {
            return Err(e);
        }
        self.fx.finish(&mut batch).await;
        let client = &self.client;
        self.fx
            .notify
            .status(&self.fx.opts.name, || status::line(client));
        Ok(batch.done)
    }
}

/// Options only (`--inform`): the address of `link`, set by hand, to send DHCPINFORM from, and
/// its prefix, as the kernel holds them now; None for a lease.
async fn inform_from(
    opts: &IfaceOptions,
    net: &Netlink,
    link: &Link,
) -> Result<Option<Source>, RunError> {
    let Some(inform) = opts.inform else {
        return Ok(None);
    };
    let holds = Box::pin(net.ipv4_addresses(link.index))
        .await
        .map_err(io_err(format!("{}: reading its addresses", opts.name)))?;
    inform_source(&opts.name, inform.address, &holds).map(Some)
}
