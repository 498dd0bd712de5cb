//! Carrying out the DHCPv6 core's actions: [`Effects6`] is what an interface's DHCPv6 driver
//! changes the world with (its socket, the kernel, its lease file and DNS settings, its
//! listeners), one method per kind of action, as [`crate::shell::actions`] is for DHCPv4. It
//! does not know the core: an action that cannot be carried out as asked (the script says an
//! address failed DAD, the kernel refused an address) comes back as a [`FollowUp6`], which the
//! driver tells the core.

use crate::shell::apply6::Apply6;
use crate::shell::command::{Ended, Got};
use crate::shell::files::Files;
use crate::shell::hooks6::{self, Told};
use crate::shell::netlink::{Link, Netlink};
use crate::shell::netlink6::Kernel6;
use crate::shell::notify::Notify;
use crate::shell::options::{v6_name, IfaceOptions, RunError};
use crate::shell::port6::Port6;
use crate::shell::resolv::Dns;
use crate::shell::store6::Store6;
use crate::v6::core::{Action6, NoLease6, Reason6, Transition6};
use crate::v6::{encode, Lease6};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, info, warn};

/// What the interface runs on while it is there.
pub struct There {
    pub link: Link,
    pub port: Port6,
    pub apply: Apply6,
    /// The kernel's IPv6 events (DAD outcomes, the link-local address, RA flags).
    pub addr_events: UnboundedReceiver<Kernel6>,
    /// The interface has a link-local address DAD has passed: messages can go out.
    pub ll_ready: bool,
    /// A message the core sent before that: sent once it is.
    pub pending: Option<Vec<u8>>,
}

/// What an interface's DHCPv6 driver changes the world with.
pub struct Effects6 {
    pub opts: IfaceOptions,
    pub net: Netlink,
    /// The writer of the lease file and DNS settings.
    pub files: Files,
    pub store: Store6,
    pub notify: Notify,
    /// What hook runs are told besides the lease (the DUID, the options asked for).
    pub told: Told,
    /// The interface, while it is there.
    pub there: Option<There>,
}

/// What a batch of actions came to, said and reported once it is carried out.
#[derive(Default)]
pub struct Batch6 {
    /// The driver ends.
    pub done: Option<Ended>,
    /// The core said [`Action6::Done`].
    pub finished: bool,
    /// The lease just released, for the file's `released;` mark.
    released: Option<Lease6>,
    /// The first lease (or why there is none), for whoever waits for it.
    first: Option<Result<Got, RunError>>,
    /// What the batch did, said once it is carried out.
    said: Vec<String>,
}

/// An action that could not be carried out as asked, for the core to hear of.
pub enum FollowUp6 {
    /// The script that configures the interface says an address of the lease failed DAD
    /// (dhclient-script's exit 3 after BOUND6).
    Dad(Lease6),
    /// The kernel did not take the lease, and why.
    ConfigureFailed(Lease6, String),
}

impl FollowUp6 {
    /// The lease it is about.
    pub fn lease(&self) -> &Lease6 {
        match self {
            FollowUp6::Dad(l) | FollowUp6::ConfigureFailed(l, _) => l,
        }
    }
}

impl Effects6 {
    /// Hands one action to the value that owns its effect; `carrier`: the link has it. Each
    /// transition's hook reason is the core's word, spelt as dhclient's by [`hooks6`].
    pub async fn carry_out(
        &mut self,
        action: Action6,
        batch: &mut Batch6,
        carrier: bool,
    ) -> Result<Option<FollowUp6>, RunError> {
        match action {
            Action6::Send(msg) => self.send(&msg).await,
            Action6::Configure {
                lease,
                previous,
                transition,
            } => match self.configure(&lease, previous.as_ref(), transition).await {
                Ok(()) => {
                    batch.said.push(match transition {
                        Transition6::Bound6 => format!("DHCPv6 bound {lease}"),
                        Transition6::Inform6 => format!("DHCPv6 options: {lease}"),
                        Transition6::Expire6 => format!("DHCPv6 now holds {lease}"),
                        t => format!("DHCPv6 {} {lease}", t.word().to_lowercase()),
                    });
                    if self.notify.awaits_ready() && batch.first.is_none() {
                        batch.first = Some(Ok(Got::Lease6(Box::new(lease.clone()))));
                    }
                    if self.opts.oneshot {
                        batch.done = Some(Ended::Bound(Box::new(Got::Lease6(Box::new(lease)))));
                    }
                }
                Err(Refused::Dad) => return Ok(Some(FollowUp6::Dad(lease))),
                Err(Refused::Kernel(why)) if self.opts.oneshot => {
                    return Err(RunError::Io(
                        format!("{}: adding the DHCPv6 address", self.opts.name),
                        std::io::Error::other(why),
                    ))
                }
                Err(Refused::Kernel(why)) => {
                    return Ok(Some(FollowUp6::ConfigureFailed(lease, why)))
                }
            },
            Action6::Deconfigure {
                lease,
                reason,
                transition,
            } => {
                self.deconfigure(&lease, reason, transition).await;
                if reason == Reason6::Released {
                    batch.done = Some(Ended::Released);
                    batch.released = Some(lease);
                }
            }
            Action6::Reapply { lease, transition } => self.reapply(&lease, transition).await,
            Action6::Notify { transition, lease } => {
                let (new, old) = match transition {
                    Transition6::Stop6 => (None, lease.as_ref()),
                    _ => (lease.as_ref(), None),
                };
                let runs = hooks6::runs(&self.told, transition, new, old);
                self.notify.hook6(runs).await;
            }
            Action6::SaveLease(lease) => self.store.save(&lease, &self.told.client_duid, false),
            // A released lease stays in dhclient's file marked `released;`, as dhclient
            // writes it (and then never asks for it again); dhcpc's own file goes.
            Action6::ForgetLease => match batch.released.take() {
                Some(l) if self.opts.dhclient_lease_file.is_some() => {
                    self.store.save(&l, &self.told.client_duid, true)
                }
                _ => self.store.forget(),
            },
            Action6::NoLease(why) => self.no_lease(why, carrier, batch)?,
            Action6::Done => batch.finished = true,
        }
        Ok(None)
    }

    /// Once a batch is carried out: the first lease (or why there is none) is reported once
    /// the files are on disk, what the batch did is said, and the service manager is told
    /// the state (`line`, made only when asked for).
    pub async fn finish(&mut self, batch: &mut Batch6, line: impl FnOnce() -> String) {
        if let Some(first) = batch.first.take() {
            if let Some(ready) = self.notify.take_ready() {
                self.files.flush().await;
                let _ = ready.send(first);
            }
        }
        for l in batch.said.drain(..) {
            info!("{l}");
        }
        self.notify.status(&v6_name(&self.opts.name), line);
    }

    /// The name the interface's DHCPv6 DNS settings go by.
    pub fn dns_key(&self) -> String {
        v6_name(&self.opts.name)
    }

    fn set_dns(&self, lease: Option<&Lease6>) {
        let Some(there) = &self.there else { return };
        let dns = lease.map(|l| Dns::from_v6(&l.dns, &l.search));
        self.files.set_dns6(&self.dns_key(), there.link.index, dns);
    }

    /// Sends the message held back for want of a link-local address.
    pub async fn send_pending(&mut self) {
        let Some(there) = self.there.as_mut() else {
            return;
        };
        if let Some(bytes) = there.pending.take() {
            if let Err(e) = there.port.send_all(&bytes).await {
                debug!("{}: sending: {e}", self.opts.name);
            }
        }
    }

    /// Sends the core's message to every server on the link; held back until the link-local
    /// address is usable.
    pub async fn send(&mut self, msg: &crate::v6::Outgoing6) {
        let bytes = encode::encode(msg, &self.told.client_duid);
        let name = self.opts.name.clone();
        let Some(there) = self.there.as_mut() else {
            return;
        };
        if !there.ll_ready {
            debug!(
                "{name}: {} held until the link-local address is ready",
                msg.kind
            );
            there.pending = Some(bytes);
            return;
        }
        if let Err(e) = there.port.send_all(&bytes).await {
            // Left to the core's retransmission.
            debug!("{name}: sending {}: {e}", msg.kind);
            if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) {
                there.ll_ready = false;
                there.pending = Some(bytes);
            }
        }
    }

    /// Makes the interface hold `lease` (or has the script do it), then tells the hook.
    async fn configure(
        &mut self,
        lease: &Lease6,
        previous: Option<&Lease6>,
        transition: Transition6,
    ) -> Result<(), Refused> {
        let runs = hooks6::runs(&self.told, transition, Some(lease), previous);
        if self.notify.script_configures() {
            let code = self.notify.hook6(runs).await;
            if transition == Transition6::Bound6
                && code == Some(crate::v6::hookenv::DAD_FAILED_EXIT)
            {
                return Err(Refused::Dad);
            }
            return Ok(());
        }
        let Some(there) = &self.there else {
            return Err(Refused::Kernel("the interface is not there".into()));
        };
        if let Err(e) = there.apply.configure(lease, previous).await {
            debug!("{}: adding the DHCPv6 lease: {e}", self.opts.name);
            return Err(Refused::Kernel(e.to_string()));
        }
        self.set_dns(Some(lease));
        self.notify.hook6(runs).await;
        Ok(())
    }

    /// Takes `lease` off the interface (or has the script do it), then tells the hook.
    async fn deconfigure(&mut self, lease: &Lease6, reason: Reason6, transition: Transition6) {
        let runs = hooks6::runs(&self.told, transition, None, Some(lease));
        if !self.notify.script_configures() {
            if let Some(there) = &self.there {
                there
                    .apply
                    .deconfigure(lease, reason == Reason6::Gone)
                    .await;
            }
            self.set_dns(None);
        }
        info!("DHCPv6: removed {lease} ({reason})");
        self.notify.hook6(runs).await;
    }

    /// Puts back what of `lease` the kernel dropped while the link was down.
    async fn reapply(&mut self, lease: &Lease6, transition: Transition6) {
        if self.notify.script_configures() {
            let runs = hooks6::runs(&self.told, transition, Some(lease), None);
            self.notify.hook6(runs).await;
            return;
        }
        if let Some(there) = &self.there {
            if let Err(e) = there.apply.configure(lease, Some(lease)).await {
                warn!("{}: putting the DHCPv6 lease back: {e}", self.opts.name);
            }
        }
        self.set_dns(Some(lease));
    }

    /// No lease within the timeout (`carrier`: the link had it): said, told to whoever waits
    /// (once the batch is carried out); a oneshot run ends.
    fn no_lease(
        &mut self,
        why: NoLease6,
        carrier: bool,
        batch: &mut Batch6,
    ) -> Result<(), RunError> {
        let name = &self.opts.name;
        let why = if carrier {
            why.to_string()
        } else {
            format!("no carrier on {name}; {why}")
        };
        let err = RunError::NoLease(name.clone(), self.opts.timeout, format!("DHCPv6: {why}"));
        if self.opts.oneshot {
            return Err(err);
        }
        warn!("{err}; still trying");
        if self.notify.awaits_ready() && batch.first.is_none() {
            batch.first = Some(Err(err));
        }
        Ok(())
    }
}

/// Why a lease was not put on the interface.
enum Refused {
    /// The script that configures the interface says an address failed DAD (exit 3).
    Dad,
    /// The kernel refused it; why.
    Kernel(String),
}
