//! One interface's DHCPv6 driver: the same small loop as the DHCPv4 driver
//! ([`crate::shell::driver`]), around the DHCPv6 core ([`crate::v6::core::Client6`]). It turns
//! what happens (a datagram on port 546, a deadline, a command, a carrier change, an address
//! event of the kernel) into the core's events, and hands each of the core's actions to the
//! value that owns its effect:
//! - [`Port6`]: the UDP socket (messages out to ff02::1:2, replies in);
//! - [`Apply6`]: the kernel (addresses, unreachable routes of delegated prefixes);
//! - [`Store6`]: the lease file; [`Files`]: DNS settings (under the name `IFACE:6`, beside the
//!   interface's DHCPv4 ones);
//! - [`Notify`]: the hook script (runs from [`hooks6`]), whoever waits for the first lease,
//!   the service manager.
//!
//! No protocol decision is made here, and nothing about the lease is remembered here.
//!
//! The one thing the driver waits for of its own: a usable link-local address. A message
//! cannot leave before the interface has one (its duplicate address detection still running
//! after the link came up); the core's message is then kept and sent the moment the kernel
//! reports the address ready, rather than lost to the first retransmission.

use crate::shell::actions6::{Batch6, Effects6, FollowUp6, There};
use crate::shell::apply::NETLINK_TURNS;
use crate::shell::apply6::{addresses, Apply6};
use crate::shell::clock;
use crate::shell::cmdq;
use crate::shell::command::{Command, Ended};
use crate::shell::files::Files;
use crate::shell::hooks6::Told;
use crate::shell::linkwatch::{carrier_changes, Carrier, LinkMonitor, LinkWatch};
use crate::shell::netlink::{Link, Netlink};
use crate::shell::netlink6::{AddrEvent6, AddrMonitor6, Kernel6, RaFlags};
use crate::shell::notify::{Notify, Ready};
use crate::shell::options::{io_err, IfaceOptions, RunError};
use crate::shell::port::prepare_link;
use crate::shell::port6::Port6;
use crate::shell::resolv::Dns;
use crate::shell::status;
use crate::shell::store::Store;
use crate::shell::store6::Store6;
use crate::shell::systemd;
use crate::time::Instant;
use crate::v6::core::config::mode_for_ra;
use crate::v6::core::{Action6, Client6, Event6, Mode6};
use crate::v6::{reply, Lease6};
use std::future::Future as _;
use std::net::SocketAddrV6;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use tracing::{debug, info, warn};

/// What [`Driver6::wait`] saw first.
enum Woke {
    Command(Option<Command>),
    Link,
    Kernel(Option<Kernel6>),
    Tick,
    Datagram(std::io::Result<(Vec<u8>, SocketAddrV6)>),
}

/// The running DHCPv6 state of one interface in the shell.
pub struct Driver6 {
    /// What the driver changes the world with.
    fx: Effects6,
    /// The process's IPv6 address events (its own when it has none to share).
    addrs: Option<AddrMonitor6>,
    client: Client6,
    link_events: Option<LinkWatch>,
    carrier: Carrier,
    /// The core said [`Action6::Done`]: nothing more is due.
    finished: bool,
    /// `--follow-ra`, and no router advertisement with M or O yet: the core is not started.
    ra_wait: bool,
}

/// How long a release waits for the server's REPLY to its RELEASE before the driver ends
/// (the core would retransmit for up to REL_MAX_RC times, 15 s, which a `dhcpc -r` or an
/// `ifdown` should not wait for when the server is gone).
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Driver6 {
    /// A driver to run DHCPv6 on the interface `opts` names: looks it up (brings it up if
    /// down), opens its socket. With `allow_missing`, an interface not there is waited for.
    pub async fn new(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
        (monitor, addrs): (Option<&LinkMonitor>, Option<&AddrMonitor6>),
    ) -> Result<Driver6, RunError> {
        Driver6::make(opts, net, files, (monitor, addrs), true).await
    }

    /// Releases the saved DHCPv6 lease of an interface no daemon runs for (`dhcpc -6 -r`
    /// alone): RELEASE to its server (when the link is up), addresses and routes taken off,
    /// DNS settings dropped, lease file forgotten. The released lease, or None when there was
    /// no unexpired saved lease.
    pub async fn release_saved(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
    ) -> Result<Option<Lease6>, RunError> {
        let mut d = Driver6::make(opts, net, files, (None, None), false).await?;
        let Some(lease) = d.fx.store.load() else {
            return Ok(None);
        };
        let Some(there) = d.fx.there.as_ref() else {
            return Ok(None);
        };
        let (up, index) = (there.link.up, there.link.index);
        let config = d.client.config().clone();
        d.client = Client6::new(config, fastrand::u64(..)).into_bound(lease.clone());
        // Counted as given already, so that dropping them puts back the file they replaced.
        d.fx.files.adopt_dns6(
            &d.fx.dns_key(),
            index,
            Dns::from_v6(&lease.dns, &lease.search),
        );
        let (tx, mut rx) = cmdq::channel();
        if !up {
            info!("the interface is down: RELEASE is not sent; the lease is dropped here only");
            let mut actions = d.feed(clock::now(), Event6::Release);
            actions.retain(|a| !matches!(a, Action6::Send(_)));
            d.perform(actions).await?;
        } else {
            d.release(&mut rx).await?;
        }
        drop(tx);
        d.fx.files.flush().await;
        d.fx.notify.finish().await;
        Ok(Some(lease))
    }

    async fn make(
        opts: IfaceOptions,
        net: Netlink,
        files: Files,
        (monitor, addrs): (Option<&LinkMonitor>, Option<&AddrMonitor6>),
        bring_up: bool,
    ) -> Result<Driver6, RunError> {
        let events = monitor.map(|m| m.watch(&opts.name));
        let store = Store6::new(Store::new(
            opts.name.as_str().into(),
            opts.common.clone(),
            files.clone(),
        ));
        let notify = Notify::new(&opts);
        let told = Told {
            interface: opts.name.clone(),
            dad_wait_time: opts.v6.dad_wait_time,
            address_prefix_len: opts.v6.address_prefix_len,
            client_duid: Vec::new(),
            requested: Vec::new(),
        };
        // Made afresh once the interface is there (its MAC gives the DUID and IAID).
        let client = Client6::new(opts.core_config6([0; 6], Vec::new()), 0);
        let fx = Effects6 {
            opts,
            net,
            files,
            store,
            notify,
            told,
            there: None,
        };
        let mut d = Driver6 {
            fx,
            addrs: addrs.cloned(),
            client,
            link_events: events,
            carrier: Carrier::new(false),
            finished: false,
            ra_wait: false,
        };
        match prepare_link(&d.fx.net, &d.fx.opts.name, bring_up).await {
            Ok(link) => d.on_link(link).await?,
            Err(RunError::NoSuchInterface(name)) if d.fx.opts.allow_missing => {
                info!("{name}: not there yet; waiting for it");
            }
            Err(e) => return Err(e),
        }
        Ok(d)
    }

    /// Makes the driver afresh on `link` (there now): its socket, the core with the saved
    /// lease, the carrier as the kernel says.
    async fn on_link(&mut self, link: Link) -> Result<(), RunError> {
        let name = self.fx.opts.name.clone();
        if self.addrs.is_none() {
            let started = AddrMonitor6::start();
            self.addrs = Some(started.map_err(io_err(format!("{name}: watching IPv6 addresses")))?);
        }
        let addr_events = self.addrs.as_ref().map(|m| m.watch(link.index));
        let addr_events = addr_events.expect("started above");
        let port = Port6::open(&name, link.index).map_err(|e| {
            let hint = match e.raw_os_error() {
                // A unit's RestrictAddressFamilies= without AF_INET6 (dhcpc@.service's).
                Some(libc::EAFNOSUPPORT) => {
                    " (no IPv6 socket allowed here: DHCPv6 runs as dhcpc6@IFACE.service)"
                }
                _ => "",
            };
            io_err(format!(
                "{name}: opening the DHCPv6 socket (UDP port 546){hint}"
            ))(e)
        })?;
        let ll_ready = match self.fx.net.addresses6(link.index).await {
            Ok(a) => a.iter().any(|a| a.is_link_local() && a.is_ready()),
            Err(e) => {
                debug!("{name}: reading its IPv6 addresses: {e}");
                false
            }
        };
        let duid = self.fx.store.duid(link.mac);
        let mut config = self.fx.opts.core_config6(link.mac, duid.clone());
        self.ra_wait = false;
        if self.fx.opts.v6.follow_ra {
            let flags = self.fx.net.ra_flags(link.index).await.unwrap_or_default();
            match mode_for_ra(flags.managed, flags.other, &config.mode) {
                Some(mode) => config.mode = mode,
                None => self.ra_wait = true,
            }
        }
        self.fx.told.client_duid = duid;
        self.fx.told.requested = config.oro.clone();
        let mut client = Client6::new(config, self.fx.opts.seed(link.mac) ^ 0x6);
        if let Some(saved) = self.fx.store.load() {
            client = client.with_saved_lease(saved);
        }
        let up = link.up && link.carrier;
        if !up {
            client = client.without_carrier();
        }
        self.carrier = Carrier::new(up);
        self.client = client;
        let apply = Apply6::new(
            self.fx.net.clone(),
            name.as_str().into(),
            link.index,
            self.fx.opts.metric,
            self.fx.opts.v6.delegate.clone(),
        );
        self.fx.there = Some(There {
            link,
            port,
            apply,
            addr_events,
            ll_ready,
            pending: None,
        });
        Ok(())
    }

    pub fn notify_ready(&mut self, ready: Ready) {
        self.fx.notify.on_ready(ready);
    }

    pub fn notify_changes(&mut self, settled: Arc<tokio::sync::Notify>) {
        self.fx.notify.on_changes(settled);
    }

    pub fn notify_status(&mut self, manager: systemd::Status) {
        self.fx.notify.on_status(manager);
    }

    /// Runs DHCPv6 on the interface until released or stopped (or, oneshot, bound).
    pub async fn run(
        mut self: Box<Self>,
        mut commands: cmdq::Receiver<Command>,
    ) -> Result<Ended, RunError> {
        let result = loop {
            if self.fx.there.is_none() {
                match self.await_interface(&mut commands).await {
                    Ok(None) => {}
                    Ok(Some(end)) => break Ok(end),
                    Err(e) => break Err(e),
                }
            }
            match self.drive(&mut commands).await {
                Ok(Ended::Gone) if self.fx.opts.oneshot => {
                    break Err(RunError::NoSuchInterface(self.fx.opts.name.clone()))
                }
                Ok(Ended::Gone) => {
                    self.fx.files.flush().await;
                    self.fx.there = None;
                }
                other => break other,
            }
        };
        self.fx.files.flush().await;
        self.fx.notify.finish().await;
        drop(commands);
        result
    }

    /// Waits for the interface to appear (again), serving commands meanwhile.
    async fn await_interface(
        &mut self,
        commands: &mut cmdq::Receiver<Command>,
    ) -> Result<Option<Ended>, RunError> {
        let name = self.fx.opts.name.clone();
        loop {
            match prepare_link(&self.fx.net, &name, true).await {
                Ok(link) => {
                    self.on_link(link).await?;
                    return Ok(None);
                }
                Err(RunError::NoSuchInterface(_)) => {}
                Err(e) => return Err(e),
            }
            let events = self.link_events.as_mut();
            tokio::select! {
                _ = async {
                    match events {
                        Some(ev) => ev.changed().await,
                        None => tokio::time::sleep(std::time::Duration::from_secs(5)).await,
                    }
                } => {}
                cmd = commands.recv() => match cmd {
                    Some(Command::Status(reply)) => {
                        let mut v = status::missing(&name);
                        v["protocol"] = "dhcpv6".into();
                        let _ = reply.send(v);
                    }
                    Some(Command::Renew) => {}
                    Some(Command::Release) => return Ok(Some(Ended::Released)),
                    Some(Command::Stop) | None => return Ok(Some(Ended::Stopped)),
                },
            }
        }
    }

    fn feed(&mut self, now: Instant, event: Event6<'_>) -> Vec<Action6> {
        self.client.handle(now, event)
    }

    async fn drive(&mut self, commands: &mut cmdq::Receiver<Command>) -> Result<Ended, RunError> {
        if !self.carrier.up {
            info!("{}: no carrier yet; waiting for it", self.fx.opts.name);
        }
        if self.ra_wait {
            info!(
                "{}: waiting for a router advertisement that asks for DHCPv6 (M or O)",
                self.fx.opts.name
            );
        } else {
            let actions = self.feed(clock::now(), Event6::Start);
            if let Some(end) = self.perform(actions).await? {
                return Ok(end);
            }
        }
        loop {
            let actions = match self.wait(commands).await {
                Woke::Datagram(Ok((bytes, from))) => {
                    let from = *from.ip();
                    let now = clock::now();
                    match reply::parse(&bytes, from) {
                        // What the boundary left out it has said itself.
                        Ok(r) => self.feed(now, Event6::Reply { reply: &r, from }),
                        Err(e) => {
                            let why = e.to_string();
                            debug!("{}: from {from}: {why}", self.fx.opts.name);
                            self.feed(now, Event6::Unreadable { from, why })
                        }
                    }
                }
                Woke::Datagram(Err(e)) => {
                    debug!("{}: reading the DHCPv6 socket: {e}", self.fx.opts.name);
                    continue;
                }
                Woke::Tick => self.feed(clock::now(), Event6::Tick),
                Woke::Kernel(None) => {
                    // The address events stopped (a bug, or out of memory): without them a
                    // message would wait for ever; go on as if the address were ready.
                    if let Some(t) = self.fx.there.as_mut() {
                        t.ll_ready = true;
                    }
                    self.fx.send_pending().await;
                    continue;
                }
                Woke::Kernel(Some(Kernel6::Address(ev))) => match self.address_event(ev).await {
                    Some(actions) => actions,
                    None => continue,
                },
                Woke::Kernel(Some(Kernel6::Ra { index, flags })) => {
                    match self.ra_changed(index, flags).await? {
                        Some(actions) => actions,
                        None => continue,
                    }
                }
                Woke::Command(cmd) => match cmd {
                    Some(Command::Renew) => self.feed(clock::now(), Event6::Renew),
                    Some(Command::Release) => return self.release(commands).await,
                    Some(Command::Stop) | None => {
                        info!("stopping; the DHCPv6 lease stays for next time");
                        let actions = self.feed(clock::now(), Event6::Stop);
                        self.perform(actions).await?;
                        return Ok(Ended::Stopped);
                    }
                    Some(Command::Status(reply)) => {
                        let _ = reply.send(self.status());
                        continue;
                    }
                },
                Woke::Link => match self.link_changed().await {
                    None => {
                        info!("the interface was removed: its DHCPv6 lease stops here");
                        let actions = self.feed(clock::now(), Event6::Gone);
                        self.perform(actions).await?;
                        return Ok(Ended::Gone);
                    }
                    Some(changes) => {
                        for carrier in changes {
                            let actions = self.feed(clock::now(), Event6::Link { carrier });
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

    /// `dhcpc -r`: the core takes the lease off and sends RELEASE; its REPLY is waited for a
    /// little ([`RELEASE_WAIT`]), retransmissions included.
    async fn release(&mut self, commands: &mut cmdq::Receiver<Command>) -> Result<Ended, RunError> {
        let actions = self.feed(clock::now(), Event6::Release);
        if !actions
            .iter()
            .any(|a| matches!(a, Action6::Deconfigure { .. }))
        {
            info!("nothing to release");
        }
        self.perform(actions).await?;
        let deadline = tokio::time::Instant::now() + RELEASE_WAIT;
        while !self.finished {
            let Ok(woke) = tokio::time::timeout_at(deadline, self.wait(commands)).await else {
                match self.fx.there.as_ref().is_some_and(|t| t.pending.is_some()) {
                    true => warn!(
                        "{}: RELEASE not sent: the interface has no usable link-local address; \
                         the lease is dropped here only",
                        self.fx.opts.name
                    ),
                    false => debug!("{}: no REPLY to the RELEASE; done", self.fx.opts.name),
                }
                break;
            };
            let actions = match woke {
                Woke::Datagram(Ok((bytes, from))) => match reply::parse(&bytes, *from.ip()) {
                    Ok(r) => self.feed(
                        clock::now(),
                        Event6::Reply {
                            reply: &r,
                            from: *from.ip(),
                        },
                    ),
                    Err(_) => continue,
                },
                Woke::Tick => self.feed(clock::now(), Event6::Tick),
                Woke::Kernel(Some(Kernel6::Address(ev))) => {
                    self.address_event(ev).await;
                    continue;
                }
                Woke::Command(None) => break,
                _ => continue,
            };
            self.perform(actions).await?;
        }
        Ok(Ended::Released)
    }

    /// `--follow-ra`: a router advertisement changed the interface's M and O flags. The first
    /// that asks for DHCPv6 starts the core in the mode it says; one that says another mode
    /// gives back what the core holds and starts it afresh in that mode. One that asks for
    /// nothing any more leaves the client as it is (a router's advertisements come and go).
    async fn ra_changed(
        &mut self,
        index: u32,
        flags: RaFlags,
    ) -> Result<Option<Vec<Action6>>, RunError> {
        let Some(mac) = self.fx.there.as_ref().map(|t| t.link.mac) else {
            return Ok(None);
        };
        let ours = self
            .fx
            .there
            .as_ref()
            .is_some_and(|t| t.link.index == index);
        if !self.fx.opts.v6.follow_ra || !ours {
            return Ok(None);
        }
        let configured = self
            .fx
            .opts
            .core_config6(mac, self.fx.told.client_duid.clone());
        let Some(mode) = mode_for_ra(flags.managed, flags.other, &configured.mode) else {
            return Ok(None);
        };
        if !self.ra_wait && self.client.config().mode == mode {
            return Ok(None);
        }
        let name = &self.fx.opts.name;
        match (self.ra_wait, &mode) {
            (true, Mode6::Stateless) => info!("{name}: the router says O: DHCPv6 for options"),
            (true, _) => info!("{name}: the router says M: DHCPv6 for addresses"),
            (false, _) => {
                info!("{name}: the router's advertisement asks for another DHCPv6 mode");
                let actions = self.feed(clock::now(), Event6::Release);
                self.perform(actions).await?;
            }
        }
        let mut config = configured;
        config.mode = mode;
        let seed = self.fx.opts.seed(mac) ^ 0x6;
        let mut client = Client6::new(config, seed);
        if !self.carrier.up {
            client = client.without_carrier();
        }
        self.client = client;
        self.finished = false;
        self.ra_wait = false;
        Ok(Some(self.feed(clock::now(), Event6::Start)))
    }

    /// What an address event of the kernel means here: a DAD failure of one of ours is the
    /// core's; the link-local address becoming usable lets the message held back go.
    async fn address_event(&mut self, ev: AddrEvent6) -> Option<Vec<Action6>> {
        let there = self.fx.there.as_mut()?;
        if ev.index != there.link.index {
            return None;
        }
        if let Some(addr) = ev.dad_failed() {
            if !ev.addr.is_link_local() {
                warn!(
                    "{}: {addr} is in use on the link (DAD failed)",
                    self.fx.opts.name
                );
                return Some(self.feed(clock::now(), Event6::DadFailed(addr)));
            }
        }
        if ev.link_local_ready() && !there.ll_ready {
            debug!(
                "{}: link-local address {} ready",
                self.fx.opts.name, ev.addr.addr
            );
            there.ll_ready = true;
            self.fx.send_pending().await;
        }
        None
    }

    /// Waits for what wakes the driver, in this order: a command, a link event, the core's
    /// deadline, an address event, a datagram (so that a flood never holds up the rest).
    async fn wait(&mut self, commands: &mut cmdq::Receiver<Command>) -> Woke {
        let mut tick = self.client.poll_at().map(clock::sleep_until);
        let mut events = self.link_events.as_mut();
        let mut there = self.fx.there.as_mut();
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(cmd) = commands.poll_recv(cx) {
                return Poll::Ready(Woke::Command(cmd));
            }
            if let Some(ev) = events.as_mut() {
                if ev.poll_changed(cx).is_ready() {
                    return Poll::Ready(Woke::Link);
                }
            }
            if let Some(sleep) = tick.as_mut() {
                if Pin::new(sleep).poll(cx).is_ready() {
                    return Poll::Ready(Woke::Tick);
                }
            }
            if let Some(t) = there.as_mut() {
                if let Poll::Ready(ev) = t.addr_events.poll_recv(cx) {
                    return Poll::Ready(Woke::Kernel(ev));
                }
                if let Poll::Ready(r) = t.port.poll_recv(cx) {
                    return Poll::Ready(Woke::Datagram(r));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// The carrier events the kernel's latest link event means for the core; None when the
    /// interface is gone (or made again under a new index).
    async fn link_changed(&mut self) -> Option<Vec<bool>> {
        let index = self.fx.there.as_ref()?.link.index;
        let at = (self.fx.opts.name.as_str(), index);
        let events = self.link_events.as_mut();
        carrier_changes(events, &mut self.carrier, &self.fx.net, at).await
    }

    /// The interface's DHCPv6 state for `dhcpc --status`.
    fn status(&self) -> serde_json::Value {
        let mut v = status::json6(
            &self.fx.opts.name,
            &self.client,
            self.carrier.up,
            clock::now(),
        );
        if self.ra_wait {
            v["state"] = "WAITING-FOR-RA".into();
        }
        v
    }

    /// Carries out the core's actions. Returns how the driver ends, if it does.
    async fn perform(&mut self, actions: Vec<Action6>) -> Result<Option<Ended>, RunError> {
        let changes = actions.iter().any(|a| {
            matches!(
                a,
                Action6::Configure { .. } | Action6::Deconfigure { .. } | Action6::Reapply { .. }
            )
        });
        if changes {
            self.fx.notify.changed();
        }
        let _turn = if changes && !self.fx.notify.has_script() {
            Some(NETLINK_TURNS.acquire().await)
        } else {
            None
        };
        Box::pin(self.perform_inner(actions)).await
    }

    async fn perform_inner(&mut self, actions: Vec<Action6>) -> Result<Option<Ended>, RunError> {
        let mut batch = Batch6::default();
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let up = self.carrier.up;
            let Some(follow) = self.fx.carry_out(action, &mut batch, up).await? else {
                continue;
            };
            // Saving a lease that was not configured is moot; the core says what to do.
            let lease = follow.lease().clone();
            queue.retain(|a| !matches!(a, Action6::SaveLease(l) if *l == lease));
            let now = clock::now();
            match follow {
                // dhclient-script's exit 3: its DAD failed: each address is declined.
                FollowUp6::Dad(lease) => {
                    for a in addresses(&lease) {
                        queue.extend(self.feed(now, Event6::DadFailed(a.addr)));
                    }
                }
                FollowUp6::ConfigureFailed(lease, why) => {
                    let ev = Event6::ConfigureFailed { lease: &lease, why };
                    queue.extend(self.client.handle(now, ev));
                }
            }
        }
        if batch.finished {
            self.finished = true;
        }
        let client = &self.client;
        self.fx.finish(&mut batch, || status::line6(client)).await;
        Ok(batch.done)
    }
}
