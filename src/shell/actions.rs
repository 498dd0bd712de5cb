//! Carrying out the core's actions: [`Effects`] is what an interface's driver changes the
//! world with (its packet socket, the kernel, its files, its listeners), and hands each action
//! to the one that owns its effect, one method per kind of action. It does not know the core:
//! when an action cannot be carried out as asked (the script refused a lease, the kernel
//! refused an address), it says so as a [`FollowUp`], which the driver tells the core.

use crate::core::{Action, NoLease, Reason};
use crate::hookenv::Reason as HookReason;
use crate::lease::{Informed, Lease};
use crate::shell::apply::Apply;
use crate::shell::command::{Ended, Got};
use crate::shell::files::Files;
use crate::shell::netlink::{Link, Netlink};
use crate::shell::notify::{Notify, Ready};
use crate::shell::options::{io_err, IfaceOptions, RunError};
use crate::shell::port::Port;
use crate::shell::store::Store;
use std::collections::VecDeque;
use tracing::{debug, info, warn};

/// What an interface's driver changes the world with.
pub struct Effects {
    pub opts: IfaceOptions,
    pub link: Link,
    pub net: Netlink,
    /// The writer of lease files and DNS settings.
    pub files: Files,
    pub port: Port,
    pub apply: Apply,
    pub store: Store,
    pub notify: Notify,
}

/// What a batch of actions came to, said and reported once it is carried out.
#[derive(Default)]
pub struct Batch {
    /// The driver ends.
    pub done: Option<Ended>,
    /// The first lease (or options), for whoever waits for it.
    first: Option<(Ready, Got)>,
    /// Or why there is none yet.
    not_first: Option<(Ready, RunError)>,
    /// A oneshot run cannot go on.
    pub fatal: Option<RunError>,
    /// "bound" and "renewed", said once the batch is carried out (the lease saved).
    said: Vec<String>,
}

/// An action that could not be carried out as asked, for the core to hear of.
pub enum FollowUp {
    /// The script that configures the interface refused the lease (a non-zero exit).
    ScriptRefused(Lease),
    /// The kernel did not take the lease's address, and why.
    ConfigureFailed(Lease, String),
    /// The lease could not be configured in a oneshot run, which ends: only what followed
    /// from it (saving, announcing) is dropped.
    Moot(Lease),
}

impl FollowUp {
    /// The lease it is about.
    pub fn lease(&self) -> &Lease {
        match self {
            FollowUp::ScriptRefused(l) | FollowUp::ConfigureFailed(l, _) | FollowUp::Moot(l) => l,
        }
    }
}

/// Drops from the rest of the batch what followed from configuring `lease` (saving and
/// announcing it), once it was refused or failed.
pub fn drop_followers(queue: &mut VecDeque<Action>, lease: &Lease) {
    queue.retain(|a| match a {
        Action::SaveLease(l) => l != lease,
        Action::ArpAnnounce { addr } => *addr != lease.address,
        _ => true,
    });
}

impl Effects {
    /// Hands one action to the value that owns its effect. Each transition's hook reason is
    /// the core's word ([`crate::core::Transition`]), only spelt as dhclient's here.
    pub async fn carry_out(
        &mut self,
        action: Action,
        batch: &mut Batch,
    ) -> Result<Option<FollowUp>, RunError> {
        match action {
            Action::Send { msg, dest } => self.port.send(&msg, dest),
            Action::Configure {
                lease,
                previous,
                renewal,
                transition,
            } => {
                let hook = HookReason::from(transition);
                return Ok(self.configure(lease, previous, renewal, hook, batch).await);
            }
            Action::Deconfigure {
                lease,
                reason,
                transition,
            } => {
                self.deconfigure(&lease, reason, transition.into()).await;
                if reason == Reason::Released {
                    batch.done = Some(Ended::Released);
                }
            }
            Action::SaveLease(lease) => {
                let server_mac = self.port.server_mac();
                self.store.save(&lease, &self.link.mac, server_mac)
            }
            Action::ForgetLease => self.store.forget(),
            Action::ArpWatch(addrs) => self.port.watch_arp(addrs),
            Action::ArpDefend(addr) => self.port.defend(addr),
            Action::ArpProbe { target } => self.port.arp_probe(target),
            Action::ArpAnnounce { addr } => self.port.arp_announce(addr),
            Action::ArpRequest { sender, target, to } => self.port.arp_request(sender, target, to),
            Action::ConfigureLinkLocal { addr } => self.apply.add_link_local(addr).await,
            Action::DeconfigureLinkLocal { addr } => self.apply.del_link_local(addr).await,
            Action::Reapply { lease, transition } => self.reapply(&lease, transition.into()).await,
            Action::NoLease(why) => self.no_lease(why, batch).await?,
            Action::Notify { transition, lease } => {
                let hook = HookReason::from(transition);
                self.notify.hook(hook, None, lease.as_ref()).await;
            }
            Action::ConfigureOptions {
                info,
                previous,
                transition,
            } => {
                let hook = HookReason::from(transition);
                self.configure_options(info, previous, hook, batch).await
            }
            Action::DeconfigureOptions {
                info,
                reason,
                transition,
            } => {
                self.deconfigure_options(&info, reason, transition.into())
                    .await;
                if reason == Reason::Released {
                    batch.done = Some(Ended::Released);
                }
            }
        }
        Ok(None)
    }

    /// Makes the interface hold `lease` (or has the script do it), then tells the hook.
    async fn configure(
        &mut self,
        lease: Lease,
        previous: Option<Lease>,
        renewal: bool,
        hook: HookReason,
        batch: &mut Batch,
    ) -> Option<FollowUp> {
        self.port.ack_taken();
        let applied = if self.notify.script_configures() {
            // dhclient-script's way: the script applies the lease; a non-zero exit after
            // BOUND or REBOOT refuses it.
            let code = self
                .notify
                .hook(hook, Some(&lease), previous.as_ref())
                .await;
            if hook.may_refuse() && code != Some(0) {
                return Some(FollowUp::ScriptRefused(lease));
            }
            Ok(())
        } else {
            let r = self.apply.configure(&lease, previous.as_ref()).await;
            if r.is_ok() {
                self.set_dns(Some(&lease));
                self.notify
                    .hook(hook, Some(&lease), previous.as_ref())
                    .await;
            }
            r
        };
        let e = match applied {
            Ok(()) => {
                batch.said.push(if renewal {
                    let time = crate::lease::human_secs(lease.lease_secs);
                    format!("renewed {}, lease {time}", lease.address)
                } else {
                    format!("bound {lease}")
                });
                self.bound(Got::Lease(lease), batch);
                return None;
            }
            Err(e) => e,
        };
        let (name, address) = (&self.opts.name, lease.address);
        // Said once: by the core as a warning (it starts over), or in oneshot mode as the
        // error dhcpc exits with.
        debug!("{name}: adding address {address}: {e}");
        if self.opts.oneshot {
            batch.fatal = Some(io_err(format!("{name}: adding address {address}"))(e));
            return Some(FollowUp::Moot(lease));
        }
        Some(FollowUp::ConfigureFailed(lease, e.to_string()))
    }

    /// `got` is on the interface (said already): told to whoever waits.
    fn bound(&mut self, got: Got, batch: &mut Batch) {
        if let Some(ready) = self.notify.take_ready() {
            batch.first = Some((ready, got.clone()));
        }
        if self.opts.oneshot {
            batch.done = Some(Ended::Bound(Box::new(got)));
        }
    }

    /// Options only (DHCPINFORM): makes the interface hold `info`'s routes, MTU and DNS
    /// settings instead of `previous`'s (or has the script do it), then tells the hook. The
    /// address is never touched.
    async fn configure_options(
        &mut self,
        info: Informed,
        previous: Option<Informed>,
        hook: HookReason,
        batch: &mut Batch,
    ) {
        // Where the next DHCPINFORM goes, unicast: the MAC the ACK came from.
        self.port.ack_taken();
        if !self.notify.script_configures() {
            self.apply.configure_options(&info, previous.as_ref()).await;
            self.set_dns_options(Some(&info));
        }
        self.notify
            .hook_options(hook, Some(&info), previous.as_ref())
            .await;
        if previous.as_ref() == Some(&info) {
            debug!("{}: the same options again", self.opts.name);
        } else {
            batch.said.push(format!("informed: {info}"));
        }
        self.bound(Got::Options(info), batch);
    }

    /// Options only: takes `info`'s routes, MTU and DNS settings off the interface (or has
    /// the script do it), then tells the hook. The address stays.
    async fn deconfigure_options(&mut self, info: &Informed, reason: Reason, hook: HookReason) {
        if !self.notify.script_configures() {
            let gone = reason == Reason::Gone;
            self.apply.deconfigure_options(info, gone).await;
            self.set_dns_options(None);
            info!(
                "{}: the options of {} taken off ({reason}); the address stays",
                self.opts.name, info.address
            );
        }
        self.notify.hook_options(hook, None, Some(info)).await;
    }

    /// Takes `lease` off the interface (or has the script do it), then tells the hook.
    async fn deconfigure(&mut self, lease: &Lease, reason: Reason, hook: HookReason) {
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
    async fn reapply(&mut self, lease: &Lease, hook: HookReason) {
        if self.notify.script_configures() {
            self.notify.hook(hook, Some(lease), Some(lease)).await;
            return;
        }
        let name = &self.opts.name;
        debug!("{name}: putting {} back", lease.address);
        match self.apply.configure(lease, Some(lease)).await {
            Ok(()) => self.set_dns(Some(lease)),
            Err(e) => warn!("{name}: putting {} back: {e}", lease.address),
        }
    }

    /// No lease within the timeout: said, and told to whoever waits (once the batch, with its
    /// FAIL hook, is carried out); a oneshot run ends.
    async fn no_lease(&mut self, why: NoLease, batch: &mut Batch) -> Result<(), RunError> {
        let name = &self.opts.name;
        let why = if self.apply.carrier().await {
            why.to_string()
        } else if why.causes.is_empty() {
            format!("no carrier on {name}")
        } else {
            format!("no carrier on {name}; {why}")
        };
        let err = match self.opts.inform {
            None => RunError::NoLease(name.clone(), self.opts.timeout, why),
            Some(_) => RunError::NoOptions(name.clone(), self.opts.timeout, why),
        };
        if self.opts.oneshot {
            return Err(err);
        }
        warn!("{err}; still trying");
        if let Some(ready) = self.notify.take_ready() {
            batch.not_first = Some((ready, err));
        }
        Ok(())
    }

    /// The DNS settings of `lease` (None: none of this interface's).
    pub fn set_dns(&self, lease: Option<&Lease>) {
        let (name, index) = (&self.opts.name, self.link.index);
        self.files.set_dns(name, index, lease, &self.opts.dns_rules);
    }

    /// The DNS settings of the options of a DHCPINFORM's ACK (None: none of this interface's).
    fn set_dns_options(&self, info: Option<&Informed>) {
        let (name, index) = (&self.opts.name, self.link.index);
        self.files
            .set_dns_options(name, index, info, &self.opts.dns_rules);
    }

    /// Once a batch is carried out: the first lease is reported once its files are on disk
    /// (whoever waits for it, the shell that started the daemon, may read resolv.conf next),
    /// after the rest of the actions (the ARP announcement) so that the disk does not hold
    /// those up; then what the batch did is said.
    pub async fn finish(&mut self, batch: &mut Batch) {
        if let Some((ready, lease)) = batch.first.take() {
            self.files.flush().await;
            let _ = ready.send(Ok(lease));
        }
        if let Some((ready, err)) = batch.not_first.take() {
            let _ = ready.send(Err(err));
        }
        for line in batch.said.drain(..) {
            info!("{line}");
        }
    }
}
