//! Link events from the kernel: one rtnetlink socket per process, subscribed to the link
//! group, tells each interface's driver when its carrier goes or comes back, and when the
//! interface is removed, renamed away or made again (with a new index).
//!
//! Each driver watches its interface by name through a slot that keeps only the latest state
//! (a `tokio::sync::watch` in all but name, at a third of its size: a thousand interfaces
//! keep one each), so a flap faster than the driver reads (carrier down and up
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
use std::task::{Context, Poll, Waker};

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

/// The latest state of one interface (None until the first event about it), and how many
/// times it changed.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    link: Option<LinkState>,
    version: u64,
    /// The watchers waiting for the next change (one, the interface's driver, as a rule).
    waiting: Vec<Waker>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state with `f`; the watchers are told when `f` says it changed.
    fn modify(&self, f: impl FnOnce(&mut Option<LinkState>) -> bool) {
        let waiting = {
            let mut st = self.lock();
            if !f(&mut st.link) {
                return;
            }
            st.version += 1;
            std::mem::take(&mut st.waiting)
        };
        for w in waiting {
            w.wake();
        }
    }
}

/// What a driver receives: the latest state of its interface.
pub struct LinkWatch {
    slot: Arc<Slot>,
    /// The version of the state last read.
    seen: u64,
}

impl LinkWatch {
    /// Waits until the state changes from the one last read.
    pub async fn changed(&mut self) {
        std::future::poll_fn(|cx| self.poll_changed(cx)).await
    }

    /// [`LinkWatch::changed`] as a poll: the waker is kept in the slot until the next change,
    /// so that a driver waiting on it keeps no future for it.
    pub fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.slot.lock();
        if st.version != self.seen {
            return Poll::Ready(());
        }
        if !st.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            st.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The latest state, which counts as read.
    pub fn borrow_and_update(&mut self) -> Option<LinkState> {
        let st = self.slot.lock();
        self.seen = st.version;
        st.link
    }

    /// Makes the next [`LinkWatch::changed`] return at once.
    pub fn mark_changed(&mut self) {
        self.seen = self.seen.wrapping_sub(1);
    }
}

#[derive(Default)]
struct Known {
    watched: HashMap<String, Arc<Slot>>,
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
        let slot = k.watched.entry(name.to_string()).or_default().clone();
        let seen = slot.lock().version;
        LinkWatch { slot, seen }
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
        if let Some(slot) = self.watched.get(&name) {
            slot.modify(|state| {
                let flaps = match state {
                    Some(prev) => prev.flaps + u64::from(carrier && !prev.carrier),
                    None => 0,
                };
                *state = Some(LinkState {
                    index: Some(index),
                    carrier,
                    flaps,
                });
                // Every event is told, as it was: the driver compares for itself.
                true
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
        if let Some(slot) = self.watched.get(name) {
            slot.modify(|state| match state {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn state(carrier: bool, flaps: u64) -> Option<LinkState> {
        Some(LinkState {
            index: Some(7),
            carrier,
            flaps,
        })
    }

    #[tokio::test]
    async fn a_watch_sees_the_latest_state_once_and_every_watcher_is_woken() {
        let slot = Arc::new(Slot::default());
        let mut a = LinkWatch {
            slot: slot.clone(),
            seen: 0,
        };
        let mut b = LinkWatch {
            slot: slot.clone(),
            seen: 0,
        };
        let wait_b = tokio::spawn(async move {
            b.changed().await;
            b.borrow_and_update()
        });
        tokio::task::yield_now().await;
        // Two changes before anyone reads: only the latest is seen.
        slot.modify(|s| {
            *s = state(false, 0);
            true
        });
        slot.modify(|s| {
            *s = state(true, 1);
            true
        });
        a.changed().await;
        assert_eq!(a.borrow_and_update(), state(true, 1));
        assert_eq!(wait_b.await.unwrap(), state(true, 1));
        // Read: the next wait waits; an unchanged state wakes no one.
        slot.modify(|_| false);
        let quiet = tokio::time::timeout(Duration::from_millis(30), a.changed()).await;
        assert!(quiet.is_err(), "nothing changed");
        a.mark_changed();
        tokio::time::timeout(Duration::from_millis(30), a.changed())
            .await
            .expect("marked as changed");
    }
}

/// The carrier as the core was last told, and the flaps seen so far: what the latest
/// [`LinkState`] means as carrier events for the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carrier {
    /// The link could carry traffic, as the core was last told.
    pub up: bool,
    /// [`LinkState::flaps`] as last seen.
    flaps: u64,
}

impl Carrier {
    pub fn new(up: bool) -> Carrier {
        Carrier { up, flaps: 0 }
    }

    /// Takes `state`'s flaps as seen (what happened before is history).
    pub fn seen(&mut self, state: &LinkState) {
        self.flaps = state.flaps;
    }

    /// The carrier events to tell the core, in order, for `state` (often none: another
    /// attribute changed). A flap too quick to see is told as both.
    pub fn changes(&mut self, state: &LinkState) -> Vec<bool> {
        let flapped = state.flaps > self.flaps;
        self.flaps = state.flaps;
        let mut events = Vec::new();
        if flapped && self.up && state.carrier {
            events.push(false);
        }
        if flapped || state.carrier != self.up {
            events.push(state.carrier);
        }
        events.dedup();
        if events.first() == Some(&self.up) {
            events.remove(0);
        }
        if let Some(&last) = events.last() {
            self.up = last;
        }
        events
    }
}

#[cfg(test)]
mod carrier_tests {
    use super::*;

    fn state(carrier: bool, flaps: u64) -> LinkState {
        LinkState {
            index: Some(2),
            carrier,
            flaps,
        }
    }

    #[test]
    fn carrier_lost_and_back_is_told_in_order() {
        let mut c = Carrier::new(true);
        assert_eq!(c.changes(&state(false, 0)), vec![false]);
        assert!(!c.up);
        assert_eq!(c.changes(&state(true, 1)), vec![true]);
        assert_eq!(c.changes(&state(true, 1)), Vec::<bool>::new());
    }

    #[test]
    fn a_flap_too_quick_to_see_is_told_as_both() {
        let mut c = Carrier::new(true);
        assert_eq!(c.changes(&state(true, 1)), vec![false, true]);
        let mut c = Carrier::new(true);
        c.seen(&state(true, 3));
        assert_eq!(c.changes(&state(true, 3)), Vec::<bool>::new());
    }
}

/// The carrier events the kernel's latest link event (`events`) means for a client of the
/// interface `name` at index `index`, whose carrier as last told is `carrier`; None when the
/// interface is gone (or made again under a new index). The kernel is asked when the event is
/// about another index, so that an event older than the link the client runs (its
/// predecessor's removal, read late) is not taken for its end.
pub async fn carrier_changes(
    events: Option<&mut LinkWatch>,
    carrier: &mut Carrier,
    net: &crate::shell::netlink::Netlink,
    (name, index): (&str, u32),
) -> Option<Vec<bool>> {
    let Some(state) = events.and_then(|ev| ev.borrow_and_update()) else {
        return Some(Vec::new());
    };
    if state.index != Some(index) {
        return match Box::pin(net.link(name)).await {
            Ok(link) if link.index == index => Some(Vec::new()),
            _ => None,
        };
    }
    Some(carrier.changes(&state))
}
