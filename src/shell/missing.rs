//! Waiting for an interface that is not there (`--allow-missing`, or one that was removed):
//! looked for again at each link event (or every 5 s without them), commands served
//! meanwhile, the first-lease waiter told once the timeout passes. When it is there, what
//! [`wait`] returns (its link, packet socket and claim) is what a driver is made afresh from.

use crate::shell::claim::{Claim, Registry};
use crate::shell::cmdq;
use crate::shell::command::{Command, Ended};
use crate::shell::linkwatch::LinkWatch;
use crate::shell::netlink::{Link, Netlink};
use crate::shell::notify::Notify;
use crate::shell::options::{IfaceOptions, RunError};
use crate::shell::port::prepare_link;
use crate::shell::rawsock::RawSocket;
use crate::shell::status;
use std::time::Duration;
use tracing::{info, warn};

/// What ended the wait.
pub enum Awaited {
    /// The interface is there: its link (up), its packet socket, this process's claim on it.
    There {
        link: Link,
        sock: RawSocket,
        claim: Option<Claim>,
    },
    /// Told to stop or release first.
    Ended(Ended),
}

/// What the wait uses of the interface's driver: its options, netlink, who waits to hear of
/// it, its link events, and the registry to claim it in (with the claim held, if any).
pub struct Waiting<'a> {
    pub opts: &'a IfaceOptions,
    pub net: &'a Netlink,
    pub notify: &'a mut Notify,
    pub link_events: Option<&'a mut LinkWatch>,
    pub claims: Option<&'a Registry>,
    pub claim: &'a mut Option<Claim>,
}

/// Waits for the interface to appear (again), serving `commands` meanwhile. An error when
/// another dhcpc claimed it meanwhile.
pub async fn wait(
    mut w: Waiting<'_>,
    commands: &mut cmdq::Receiver<Command>,
) -> Result<Awaited, RunError> {
    let name = w.opts.name.clone();
    let give_up = tokio::time::Instant::now() + w.opts.timeout;
    w.notify
        .status(&name, || "waiting for the interface".to_string());
    loop {
        if let Some(there) = w.look().await? {
            return Ok(there);
        }
        let polling = w.link_events.is_none();
        let events = w.link_events.as_deref_mut();
        tokio::select! {
            _ = link_event(events) => {}
            // Without link events (none could be subscribed), look again now and then.
            _ = tokio::time::sleep(Duration::from_secs(5)), if polling => {}
            _ = tokio::time::sleep_until(give_up), if w.notify.awaits_ready() => {
                let why = "the interface is not there".to_string();
                let err = RunError::NoLease(name.clone(), w.opts.timeout, why);
                warn!("{err}; waiting for it");
                if let Some(ready) = w.notify.take_ready() {
                    let _ = ready.send(Err(err));
                }
            }
            cmd = commands.recv() => match cmd {
                Some(Command::Stop) | None => return Ok(Awaited::Ended(Ended::Stopped)),
                Some(Command::Release) => {
                    info!("{name}: nothing to release: the interface is not there");
                    return Ok(Awaited::Ended(Ended::Released));
                }
                Some(Command::Renew) => info!("{name}: cannot renew: the interface is not there"),
                Some(Command::Status(reply)) => {
                    let _ = reply.send(status::missing(&name));
                }
            },
        }
    }
}

impl Waiting<'_> {
    /// Looks for the interface: `Some` if it is there and its socket opens. An error when
    /// another dhcpc claimed it meanwhile.
    async fn look(&mut self) -> Result<Option<Awaited>, RunError> {
        let name = &self.opts.name;
        let link = match prepare_link(self.net, name, true).await {
            Ok(link) => link,
            Err(RunError::NoSuchInterface(_)) => return Ok(None),
            Err(e) => {
                warn!("{e}; waiting");
                return Ok(None);
            }
        };
        let claim = match self.claims {
            Some(registry) => registry.for_link(&link, self.claim.take())?,
            None => None,
        };
        let sock = match RawSocket::dhcp(link.index) {
            Ok(sock) => sock,
            Err(e) => {
                warn!("{name}: opening a raw socket: {e}; waiting");
                *self.claim = claim;
                return Ok(None);
            }
        };
        info!(
            "the interface is there (index {}): asking for a lease",
            link.index
        );
        Ok(Some(Awaited::There { link, sock, claim }))
    }
}

/// The next change of the interface's link state. Without a watch, never.
async fn link_event(events: Option<&mut LinkWatch>) {
    match events {
        Some(ev) => ev.changed().await,
        None => std::future::pending().await,
    }
}
