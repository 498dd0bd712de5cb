//! Address conflict detection (RFC 5227): probing an address before it is used, announcing
//! it, defending it, and declining one in use; and which addresses' ARP the shell lets
//! through (the one probed, the one defended, the link-local one, the router after carrier).

use super::config::ANNOUNCE_INTERVAL;
use super::linklocal::LinkLocal;
use super::state::{Reboot, State};
use super::{
    mac_text, request, send, Action, Client, Dest, ProbeMode, Reason, Timer, Transition, What,
    DEFEND_INTERVAL, DNA_WAIT,
};
use crate::frame::ArpSeen;
use crate::lease::Lease;
use crate::time::Instant;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn};

impl Client {
    /// Starts probing `lease` (RFC 5227), or binds at once when probing is off.
    pub(super) fn probe_or_bind(&mut self, now: Instant, lease: Arc<Lease>, out: &mut Vec<Action>) {
        let (probes, first) = match self.config.probe {
            ProbeMode::Off => return self.bind(now, lease, false, out),
            ProbeMode::Quick(_) => (2, Duration::ZERO),
            ProbeMode::Rfc5227 => (3, Duration::from_millis(self.rng.u64(0..=1000))),
        };
        debug!("probing {} for conflicts", lease.address);
        let state = State::Probing {
            lease,
            probes_left: probes,
        };
        self.goto(state, Some((Timer::Probe, now + first)));
    }

    /// [`Timer::Probe`]: the next probe, or the address is ours once the last has gone
    /// unanswered.
    pub(super) fn probe_step(&mut self, now: Instant, out: &mut Vec<Action>) {
        let State::Probing { lease, probes_left } = &self.state else {
            return;
        };
        let (lease, mut probes_left) = (lease.clone(), *probes_left);
        if !self.carrier {
            // A probe that cannot go out proves nothing: the check waits for the link, and
            // starts over when it is back.
            probes_left += 1;
        }
        if probes_left == 0 {
            // A short lease with a long probe (RFC 5227's take up to 9 s) may have run out
            // meanwhile: the kernel would refuse an address with no lifetime left.
            if lease.remaining_secs(now) == 0 {
                info!(
                    "the lease of {} ran out while it was checked; starting over",
                    lease.address
                );
                self.deconfigure(Reason::Expired, out);
                return self.discover(now, out);
            }
            return self.bind(now, lease, true, out);
        }
        out.push(Action::ArpProbe {
            target: lease.address,
        });
        let wait = match self.config.probe {
            _ if !self.carrier => DNA_WAIT,
            ProbeMode::Quick(window) => window / 2,
            // PROBE_MIN..PROBE_MAX between probes, ANNOUNCE_WAIT after the last.
            _ if probes_left > 1 => Duration::from_millis(self.rng.u64(1000..=2000)),
            _ => Duration::from_secs(2),
        };
        let state = State::Probing {
            lease,
            probes_left: probes_left - 1,
        };
        self.goto(state, Some((Timer::Probe, now + wait)));
    }

    pub(super) fn arp(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) {
        if let Some(ll) = &mut self.link_local {
            if let Some(next) = ll.arp(now, arp, out) {
                self.timers.set(Timer::LinkLocal, next);
            }
        }
        let ours = arp.sender_mac == self.config.hwaddr;
        if !ours && self.defending == Some(arp.sender_ip) && self.lease().is_some() {
            return self.defend(now, arp, out);
        }
        if let State::Rebooting {
            lease,
            why: Reboot::Carrier { dna: Some(r) },
            ..
        } = &self.state
        {
            if !ours && arp.sender_ip == r.ip {
                let (lease, r) = (lease.clone(), *r);
                return self.dna_answer(now, lease, r, arp.sender_mac, out);
            }
        }
        let State::Probing { lease, .. } = &self.state else {
            return;
        };
        let addr = lease.address;
        // RFC 5227 2.1.1: any ARP packet whose sender is the address, or a probe by another
        // host for it, is a conflict.
        let conflict = !ours
            && (arp.sender_ip == addr || (arp.sender_ip.is_unspecified() && arp.target_ip == addr));
        if !conflict {
            return;
        }
        let lease = lease.clone();
        let mac = mac_text(arp.sender_mac);
        warn!("{addr} is in use by {mac}: declining it");
        self.tally.add(What::InUse, addr, format!("by {mac}"));
        self.decline(now, &lease, out);
    }

    /// DHCPDECLINE of `lease`, what the interface holds removed, and a new start after
    /// the policy's decline wait ([`super::DECLINE_WAIT`], RFC 2131 3.1 step 5).
    pub(super) fn decline(&mut self, now: Instant, lease: &Lease, out: &mut Vec<Action>) {
        let xid = self.rng.u32(..);
        out.push(send(
            request::decline(&self.config, xid, lease),
            Dest::Broadcast,
        ));
        // When the server moved a lease to this address, the old one (which the interface may
        // still hold) is no longer ours either.
        self.deconfigure(Reason::Declined, out);
        let wait = self.config.retry.decline_wait;
        self.goto(State::Init, Some((Timer::Restart, now + wait)));
    }

    /// RFC 5227 2.4 (b) and (c): another host claims the address in use. The first time, one
    /// announcement says it is ours; a second claim within [`DEFEND_INTERVAL`] gives it up:
    /// RELEASE (a DECLINE is only for an address not yet used), deconfigure, start over.
    pub(super) fn defend(&mut self, now: Instant, arp: ArpSeen, out: &mut Vec<Action>) {
        let Some(lease) = self.lease().cloned() else {
            return;
        };
        let mac = mac_text(arp.sender_mac);
        let recent = self
            .last_defence
            .is_some_and(|at| now.saturating_since(at) < DEFEND_INTERVAL);
        if !recent {
            warn!(
                "{} is claimed by {mac}: defending it (RFC 5227)",
                lease.address
            );
            self.last_defence = Some(now);
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
            return;
        }
        warn!(
            "{} is claimed by {mac} again within {} s: giving it up",
            lease.address,
            DEFEND_INTERVAL.as_secs()
        );
        self.last_defence = None;
        self.tally
            .add(What::InUse, lease.address, format!("by {mac}"));
        let xid = self.rng.u32(..);
        out.push(send(
            request::release(&self.config, xid, &lease),
            Dest::Unicast(lease.server_id),
        ));
        self.deconfigure(Reason::Conflict, out);
        self.discover(now, out);
    }

    /// [`Timer::Announce`]: the next ARP announcement of the address held.
    pub(super) fn announce(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(lease) = &self.held {
            out.push(Action::ArpAnnounce {
                addr: lease.address,
            });
        }
        self.announcements = self.announcements.saturating_sub(1);
        if self.announcements > 0 {
            self.timers.set(Timer::Announce, now + ANNOUNCE_INTERVAL);
        }
    }

    /// Tells the shell which addresses' ARP traffic to let through, when that changed: the
    /// address being probed (RFC 5227) and the link-local one being claimed or defended.
    pub(super) fn watch_arp(&mut self, out: &mut Vec<Action>) {
        let mut watch = Vec::new();
        if let State::Probing { lease, .. } = &self.state {
            watch.push(lease.address);
        }
        if let Some(addr) = self.link_local.as_ref().and_then(LinkLocal::watched) {
            watch.push(addr);
        }
        let dna = match &self.state {
            State::Rebooting {
                why: Reboot::Carrier { dna: Some(r) },
                ..
            } => Some(r.ip),
            _ => None,
        };
        if let Some(router) = dna {
            if !watch.contains(&router) {
                watch.push(router);
            }
        }
        let defend = match &self.state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease.address),
            _ => None,
        };
        // First (after PREINIT, which comes before all), so that the filter lets the answers
        // in before anything that asks goes out.
        let first = match out.first() {
            Some(Action::Notify {
                transition: Transition::Preinit,
                ..
            }) => 1,
            _ => 0,
        };
        if defend != self.defending {
            self.defending = defend;
            out.insert(first, Action::ArpDefend(defend));
        }
        if watch != self.watching {
            self.watching = watch.clone();
            out.insert(first, Action::ArpWatch(watch));
        }
    }
}
