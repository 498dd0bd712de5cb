//! The link: carrier lost and back (RFC 4436 detection of network attachment), and the
//! interface removed.

use super::state::{Reboot, Router, State};
use super::{default_router, mac_text, Action, Client, Reason, TimerTable, Transition, DNA_WAIT};
use crate::lease::Lease;
use crate::time::Instant;
use std::sync::Arc;
use tracing::info;

impl Client {
    /// Carrier went or came back. Gone: the lease stays (nothing is sent meanwhile). Back:
    /// whatever the kernel dropped is put back at once, and the lease in force is confirmed
    /// at once, by RFC 4436's unicast ARP to its router and an INIT-REBOOT REQUEST together;
    /// an exchange that was under way starts afresh.
    pub(super) fn link(&mut self, now: Instant, carrier: bool, out: &mut Vec<Action>) {
        if carrier == self.carrier || self.stopped {
            self.carrier = carrier;
            return;
        }
        self.carrier = carrier;
        if !carrier {
            match self.lease().or(self.held.as_deref()) {
                Some(l) => info!("carrier lost; keeping {} meanwhile", l.address),
                None => info!("carrier lost"),
            }
            return;
        }
        self.carrier_up(now, out);
    }

    /// Carrier is back: each state starts its exchange afresh.
    fn carrier_up(&mut self, now: Instant, out: &mut Vec<Action>) {
        let reboot_wait = self.config.retry.reboot_wait;
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. }
            | State::Rebooting {
                lease,
                why: Reboot::Carrier { .. },
                ..
            } => self.confirm(now, lease, out),
            State::Rebooting { lease, .. } => {
                info!("carrier up: asking again for saved lease {}", lease.address);
                self.reboot(now, lease, Reboot::Saved, reboot_wait / 2, out);
            }
            State::Probing { lease, .. } => {
                info!("carrier up: checking {} for conflicts again", lease.address);
                self.state = State::Init;
                self.probe_or_bind(now, lease, out);
            }
            State::Selecting { .. } | State::Requesting { .. } => {
                info!("carrier up: asking for a lease");
                self.discover(now, out);
            }
            State::Informing { .. } | State::Informed => self.inform_after_carrier(now, out),
            other @ (State::Init | State::Released) => {
                info!("carrier up");
                self.state = other;
            }
        }
    }

    /// Carrier is back with a lease in force: what the kernel dropped is put back (REBOOT for
    /// a hook script that configures the interface), and the lease is confirmed by RFC 4436's
    /// unicast ARP to its router (when known) and an INIT-REBOOT REQUEST together.
    fn confirm(&mut self, now: Instant, lease: Arc<Lease>, out: &mut Vec<Action>) {
        out.push(Action::Reapply {
            lease: Lease::clone(&lease),
            transition: Transition::Reboot,
        });
        let dna = self.router.filter(|r| default_router(&lease) == Some(r.ip));
        match dna {
            Some(r) => {
                info!(
                    "carrier up: confirming {} (ARP to router {}, and INIT-REBOOT)",
                    lease.address, r.ip
                );
                out.push(Action::ArpRequest {
                    sender: lease.address,
                    target: r.ip,
                    to: Some(r.mac),
                });
            }
            None => info!("carrier up: confirming {} (INIT-REBOOT)", lease.address),
        }
        let wait = if dna.is_some() {
            DNA_WAIT
        } else {
            self.config.retry.reboot_wait / 2
        };
        self.reboot(now, lease, Reboot::Carrier { dna }, wait, out);
    }

    /// RFC 4436: the router of the lease answered ARP after carrier came back. The same MAC:
    /// the same network, and the lease goes on where it was (a renewal or rebinding that
    /// fell due meanwhile goes out now). Another MAC: another network.
    pub(super) fn dna_answer(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        r: Router,
        mac: [u8; 6],
        out: &mut Vec<Action>,
    ) {
        if mac != r.mac {
            info!(
                "router {} answers from {}, not {}: another network; starting over",
                r.ip,
                mac_text(mac),
                mac_text(r.mac)
            );
            self.router = None;
            self.deconfigure(Reason::Moved, out);
            return self.discover(now, out);
        }
        info!(
            "carrier back on the same network (router {} at {}): {} stays",
            r.ip,
            mac_text(mac),
            lease.address
        );
        let (renew, rebind) = (lease.renew_at(), lease.rebind_at());
        self.goto(
            State::Bound {
                lease: lease.clone(),
            },
            None,
        );
        if rebind.is_some_and(|at| at <= now) {
            self.enter_rebinding(now, lease, out);
        } else if renew.is_some_and(|at| at <= now) {
            self.enter_renewing(now, lease, false, out);
        }
    }

    /// The interface was removed, and what it held with it: the record is cleared (the saved
    /// lease is kept, to be asked for again should the interface come back).
    pub(super) fn gone(&mut self, out: &mut Vec<Action>) {
        self.deconfigure(Reason::Gone, out);
        self.drop_options(Reason::Gone, out);
        if let Some(ll) = &mut self.link_local {
            ll.forget();
        }
        self.router = None;
        self.timers = TimerTable::default();
        self.state = State::Released;
        self.stopped = true;
    }
}
