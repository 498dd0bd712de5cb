//! Link events from the kernel: one rtnetlink socket per process, subscribed to the link
//! group, tells each interface's driver when its carrier goes or comes back, and when the
//! interface is removed, renamed away or made again (with a new index).
//!
//! Each driver watches its interface by name through a `tokio::sync::watch` channel. A watch
//! keeps only the latest state, so a flap faster than the driver reads (carrier down and up
//! again) is counted in [`LinkState::flaps`], never lost: the kernel drops the link's routes
//! on the way down, and they must come back.

use futures::StreamExt;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::sys::{AsyncSocket, SocketAddr};
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// rtnetlink's multicast group of link events (RTNLGRP_LINK).
const RTNLGRP_LINK: u32 = 1;

/// An interface as the latest event showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkState {
    /// Its index; None once it is removed (or renamed to something else).
    pub index: Option<u32>,
    /// Up, with carrier: it can carry traffic.
    pub carrier: bool,
    /// How many times carrier came back since the driver began watching.
    pub flaps: u64,
}

/// What a driver receives: None until the first event about its interface.
pub type LinkWatch = watch::Receiver<Option<LinkState>>;

#[derive(Default)]
struct Known {
    watched: HashMap<String, watch::Sender<Option<LinkState>>>,
    /// The name of every index seen, to notice renames.
    names: HashMap<u32, String>,
}

/// The process's subscription to link events.
#[derive(Clone)]
pub struct LinkMonitor {
    known: Arc<Mutex<Known>>,
    /// Kept so that the connection (which stops once no handle is left) goes on.
    _handle: rtnetlink::Handle,
}

impl LinkMonitor {
    /// Subscribes to the link events of this network namespace. Must run inside the tokio
    /// runtime.
    pub fn start() -> io::Result<LinkMonitor> {
        let (mut conn, handle, mut messages) = rtnetlink::new_connection()?;
        let socket = conn.socket_mut().socket_mut();
        // Bound (port chosen by the kernel) so that multicast reaches it.
        socket.bind(&SocketAddr::new(0, 0))?;
        socket.add_membership(RTNLGRP_LINK)?;
        tokio::spawn(conn);
        let known = Arc::new(Mutex::new(Known::default()));
        let shared = known.clone();
        tokio::spawn(async move {
            while let Some((msg, _)) = messages.next().await {
                if let Ok(mut k) = shared.lock() {
                    k.event(msg);
                }
            }
        });
        Ok(LinkMonitor {
            known,
            _handle: handle,
        })
    }

    /// Follows the interface called `name`, whatever its index is now or later.
    pub fn watch(&self, name: &str) -> LinkWatch {
        let mut k = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match k.watched.get(name) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = watch::channel(None);
                k.watched.insert(name.to_string(), tx);
                rx
            }
        }
    }
}

impl Known {
    fn event(&mut self, msg: NetlinkMessage<RouteNetlinkMessage>) {
        match msg.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                self.new_link(&link)
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => {
                self.del_link(&link)
            }
            _ => {}
        }
    }

    fn new_link(&mut self, link: &LinkMessage) {
        let index = link.header.index;
        let Some(name) = name_of(link) else {
            return;
        };
        let flags = link.header.flags;
        // RUNNING (operstate up), not LOWER_UP: the kernel sets it once the device can send,
        // after its queue is set up; a frame sent between the two is dropped unseen. (Wi-Fi:
        // once associated.)
        let carrier = flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running);
        if let Some(old) = self.names.insert(index, name.clone()) {
            if old != name {
                self.removed(&old, index);
            }
        }
        if let Some(tx) = self.watched.get(&name) {
            tx.send_modify(|state| {
                let flaps = match state {
                    Some(prev) => prev.flaps + u64::from(carrier && !prev.carrier),
                    None => 0,
                };
                *state = Some(LinkState {
                    index: Some(index),
                    carrier,
                    flaps,
                });
            });
        }
    }

    fn del_link(&mut self, link: &LinkMessage) {
        let index = link.header.index;
        let name = self.names.remove(&index).or_else(|| name_of(link));
        if let Some(name) = name {
            self.removed(&name, index);
        }
    }

    /// The interface `name` at `index` is no more (a later one of that name is not touched).
    fn removed(&self, name: &str, index: u32) {
        if let Some(tx) = self.watched.get(name) {
            tx.send_if_modified(|state| match state {
                Some(s) if s.index != Some(index) => false,
                _ => {
                    let flaps = state.map_or(0, |s| s.flaps);
                    *state = Some(LinkState {
                        index: None,
                        carrier: false,
                        flaps,
                    });
                    true
                }
            });
        }
    }
}

fn name_of(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })
}
