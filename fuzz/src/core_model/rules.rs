//! The rules the `core` fuzz target checks after every step (listed in the parent module's
//! comment): one function for each part (the actions, the sends, the record, the timers,
//! ARP).

use super::{Model, MAX_ACTIONS, MAX_TIMED_SENDS};
use dhcpc::addr::is_usable_unicast;
use dhcpc::core::{Action, Client, Dest, StateName, Timer, Transition};
use dhcpc::lease::{Informed, Lease};
use dhcpc::time::Instant;
use dhcpc::wire;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Every rule, after one step that returned `actions` at `now`.
/// `tick`: the event was a tick; `stopped`: it was [`Event::Stop`].
pub(super) fn check(
    c: &Client,
    actions: &[Action],
    m: &mut Model,
    at: (Instant, bool, bool),
    ctx: &dyn fmt::Display,
) {
    let (now, tick, stopped) = at;
    assert!(
        actions.len() <= MAX_ACTIONS,
        "{ctx}: {} actions for one event: {actions:?}",
        actions.len()
    );
    let mut sent = 0;
    for a in actions {
        sent += m.apply(a, actions, stopped, ctx);
    }
    check_sends(c, actions, m, (now, tick, stopped), sent, ctx);
    check_record(c, m, stopped, ctx);
    if stopped {
        // Stopped: the lease stays as it is, and nothing more is due.
        assert_eq!(c.timers().next(), None, "{ctx}: timers left after stop");
        return;
    }
    check_timers(c, ctx);
    check_arp(c, m, ctx);
}

impl Model {
    /// Carries out one of `actions` on the model, checking it; returns the packets it sent.
    fn apply(
        &mut self,
        a: &Action,
        actions: &[Action],
        stopped: bool,
        ctx: &dyn fmt::Display,
    ) -> usize {
        if self.inform.is_some() {
            assert!(
                !matches!(
                    a,
                    Action::Configure { .. }
                        | Action::Deconfigure { .. }
                        | Action::Reapply { .. }
                        | Action::SaveLease(_)
                        | Action::ForgetLease
                        | Action::ArpProbe { .. }
                        | Action::ArpAnnounce { .. }
                        | Action::ArpRequest { .. }
                ),
                "{ctx}: options only, and {a:?}"
            );
        }
        match a {
            Action::Configure { .. } => self.configure(a, actions, ctx),
            Action::Deconfigure {
                lease,
                reason,
                transition,
            } => {
                assert_eq!(*transition, reason.transition(), "{ctx}");
                assert_eq!(
                    Some(lease),
                    self.holds.as_ref(),
                    "{ctx}: Deconfigure of something the interface does not hold"
                );
                self.holds = None;
            }
            Action::ConfigureLinkLocal { addr } => self.configure_link_local(*addr, ctx),
            Action::DeconfigureLinkLocal { addr } => {
                assert_eq!(
                    self.link_local,
                    Some(*addr),
                    "{ctx}: removes {addr} not held"
                );
                assert!(
                    self.holds.as_ref().is_none_or(|l| l.address != *addr),
                    "{ctx}: removes {addr}, which the lease holds"
                );
                self.link_local = None;
            }
            Action::ArpDefend(addr) => {
                assert_ne!(addr, &self.defending, "{ctx}: the same defence told twice");
                self.defending = *addr;
            }
            Action::ArpWatch(addrs) => {
                assert_ne!(
                    addrs, &self.watching,
                    "{ctx}: the same watch set told twice"
                );
                self.watching = addrs.clone();
            }
            Action::Send { msg, dest } => {
                self.last_xid = msg.xid();
                let bytes = wire::encode(msg).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                wire::decode(&bytes).unwrap_or_else(|e| panic!("{ctx}: ours: {e}"));
                match dest {
                    Dest::Unicast(to) => assert!(is_usable_unicast(*to), "{ctx}: unicast to {to}"),
                    Dest::BroadcastFrom(from) => {
                        assert_eq!(Some(*from), self.inform, "{ctx}: broadcast from {from}");
                        assert_eq!(msg.ciaddr(), *from, "{ctx}: ciaddr");
                    }
                    Dest::Broadcast => {}
                }
                return 1;
            }
            Action::ArpProbe { target } => {
                if !self.probed.contains(target) {
                    self.probed.push(*target);
                }
                return 1;
            }
            Action::ArpAnnounce { .. } | Action::ArpRequest { .. } => return 1,
            Action::Reapply { lease, transition } => {
                assert_eq!(*transition, Transition::Reboot, "{ctx}");
                assert_eq!(
                    Some(lease),
                    self.holds.as_ref(),
                    "{ctx}: reapplies what is not held"
                )
            }
            Action::Notify { .. } => self.notified(a, actions, stopped, ctx),
            Action::SaveLease(_) | Action::ForgetLease | Action::NoLease(_) => {}
            Action::ConfigureOptions {
                info,
                previous,
                transition,
            } => self.configure_options(info, previous, *transition, ctx),
            Action::DeconfigureOptions {
                info,
                reason,
                transition,
            } => {
                assert_eq!(*transition, reason.transition(), "{ctx}");
                assert_eq!(
                    Some(info),
                    self.options.as_ref(),
                    "{ctx}: DeconfigureOptions of options the interface does not hold"
                );
                self.options = None;
            }
        }
        0
    }

    /// A Configure: of what the interface holds, of a lease that passes the check, named
    /// BOUND for a new address (RENEW, REBIND, REBOOT for the one held), and announced when
    /// the address was probed.
    fn configure(&mut self, a: &Action, actions: &[Action], ctx: &dyn fmt::Display) {
        let Action::Configure {
            lease,
            previous,
            renewal,
            transition,
        } = a
        else {
            return;
        };
        let same = previous.as_ref().map(|p| p.address) == Some(lease.address);
        let named = match transition {
            Transition::Bound => !same && !renewal,
            Transition::Renew | Transition::Rebind => same && *renewal,
            Transition::Reboot => same,
            _ => false,
        };
        assert!(named, "{ctx}: Configure as {transition:?}: {a:?}");
        assert_eq!(
            previous, &self.holds,
            "{ctx}: Configure replaces something else than the interface holds"
        );
        lease
            .check()
            .unwrap_or_else(|e| panic!("{ctx}: configures a bad lease: {e}"));
        assert!(is_usable_unicast(lease.address), "{ctx}");
        if *renewal {
            assert!(same, "{ctx}: a renewal of another address");
        }
        if self.probed.contains(&lease.address) && self.carrier {
            assert!(
                actions.contains(&Action::ArpAnnounce {
                    addr: lease.address
                }),
                "{ctx}: a probed address bound without an announcement"
            );
        }
        self.holds = Some(lease.clone());
        self.last_configured = Some(lease.clone());
        self.probed.clear();
    }

    /// Options only: of the options the interface holds, named INFORM, for the address set
    /// by hand, passing their check.
    fn configure_options(
        &mut self,
        info: &Informed,
        previous: &Option<Informed>,
        transition: Transition,
        ctx: &dyn fmt::Display,
    ) {
        assert!(self.inform.is_some(), "{ctx}: options without --inform");
        assert_eq!(transition, Transition::Inform, "{ctx}");
        assert_eq!(
            previous, &self.options,
            "{ctx}: ConfigureOptions replaces something else than the interface holds"
        );
        assert_eq!(Some(info.address), self.inform, "{ctx}: {info:?}");
        info.check()
            .unwrap_or_else(|e| panic!("{ctx}: configures bad options: {e}"));
        self.options = Some(info.clone());
    }

    /// A link-local address put on: in 169.254.1.0 to 169.254.254.255, and only one.
    fn configure_link_local(&mut self, addr: Ipv4Addr, ctx: &dyn fmt::Display) {
        let o = addr.octets();
        assert!(
            o[0] == 169 && o[1] == 254 && (1..=254).contains(&o[2]),
            "{ctx}: link-local {addr}"
        );
        assert!(
            self.link_local.is_none_or(|held| held == addr),
            "{ctx}: a second link-local address"
        );
        self.link_local = Some(addr);
    }

    /// A Notify: PREINIT once, first of all; STOP only at a stop, with what is held; FAIL
    /// only right after NoLease.
    fn notified(&mut self, a: &Action, actions: &[Action], stopped: bool, ctx: &dyn fmt::Display) {
        let Action::Notify { transition, lease } = a else {
            return;
        };
        match transition {
            Transition::Preinit => {
                assert!(!self.preinit, "{ctx}: PREINIT twice");
                assert!(std::ptr::eq(a, &actions[0]), "{ctx}: PREINIT not first");
                assert_eq!(lease, &None, "{ctx}");
                self.preinit = true;
            }
            Transition::Stop => {
                assert!(stopped, "{ctx}: STOP without a stop");
                assert_eq!(lease, &self.holds, "{ctx}: STOP tells of another lease");
            }
            Transition::Fail => {
                let i = actions.iter().position(|b| std::ptr::eq(a, b));
                let before = i.and_then(|i| i.checked_sub(1)).map(|i| &actions[i]);
                assert!(
                    matches!(before, Some(Action::NoLease(_))),
                    "{ctx}: FAIL not right after NoLease"
                );
                assert_eq!(lease, &None, "{ctx}");
            }
            other => panic!("{ctx}: Notify of {other:?}"),
        }
    }
}

/// Nothing sent without carrier; a stop told as STOP; no more than [`MAX_TIMED_SENDS`]
/// packets sent on timers within a second; nothing due any more after a tick.
fn check_sends(
    c: &Client,
    actions: &[Action],
    m: &mut Model,
    at: (Instant, bool, bool),
    sent: usize,
    ctx: &dyn fmt::Display,
) {
    let (now, tick, stopped) = at;
    if !m.carrier {
        assert_eq!(sent, 0, "{ctx}: sent without carrier: {actions:?}");
    }
    if stopped {
        let told = actions.iter().any(|a| {
            matches!(
                a,
                Action::Notify {
                    transition: Transition::Stop,
                    ..
                }
            )
        });
        assert!(told, "{ctx}: a stop without STOP");
    }
    if tick {
        m.timed_sends
            .retain(|&t| now.saturating_since(t) < Duration::from_secs(1));
        m.timed_sends.extend(std::iter::repeat_n(now, sent));
        assert!(
            m.timed_sends.len() <= MAX_TIMED_SENDS,
            "{ctx}: {} packets sent on timers within a second",
            m.timed_sends.len()
        );
        if let Some(at) = c.poll_at() {
            assert!(at > now, "{ctx}: {at:?} still due after a tick at {now:?}");
        }
    }
}

/// The record: what the actions left is what the core says the interface holds; the lease
/// in force is held, in a state that holds one; the lease in force, and only it, defended.
fn check_record(c: &Client, m: &Model, stopped: bool, ctx: &dyn fmt::Display) {
    use StateName::*;
    let state = c.state();
    if let (Some(l), Some(ll)) = (&m.holds, m.link_local) {
        assert_ne!(
            l.address, ll,
            "{ctx}: the lease and the link-local fallback share {ll}"
        );
    }
    assert_eq!(
        c.applied(),
        m.holds.as_ref(),
        "{ctx}: the record is not what is held"
    );
    assert_eq!(c.link_local(), m.link_local, "{ctx}: link-local record");
    assert_eq!(
        c.informed(),
        m.options.as_ref(),
        "{ctx}: the record of the options is not what is held"
    );
    if c.informed().is_some() {
        assert!(
            matches!(state, Informing | Informed) || stopped,
            "{ctx}: options held in {state}"
        );
    }
    if let Some(l) = c.lease() {
        assert_eq!(
            Some(l),
            c.applied(),
            "{ctx}: the lease in force is not held"
        );
        assert!(matches!(state, Bound | Renewing | Rebinding));
    }
    if c.applied().is_some() {
        assert!(
            matches!(state, Bound | Renewing | Rebinding | Rebooting | Probing),
            "{ctx}: an address held in {state}"
        );
    }
    // RFC 5227 2.4: the lease in force, and only it, is defended.
    if !stopped {
        assert_eq!(
            m.defending,
            c.lease().map(|l| l.address),
            "{ctx}: defends {:?}",
            m.defending
        );
    }
}

/// The timer table: lease timers only while a lease is held, and they are its T1, T2 and
/// expiry, in that order; the lease in force has its expiry set; each state's own step only
/// in that state; nothing left after a release.
fn check_timers(c: &Client, ctx: &dyn fmt::Display) {
    use StateName::*;
    let state = c.state();
    let timers = c.timers();
    let held = c.applied();
    for (t, due) in [
        (Timer::Renew, held.and_then(Lease::renew_at)),
        (Timer::Rebind, held.and_then(Lease::rebind_at)),
        (Timer::Expire, held.and_then(Lease::expires_at)),
    ] {
        if let Some(at) = timers.get(t) {
            assert!(held.is_some(), "{ctx}: {t:?} set with nothing held");
            assert_eq!(Some(at), due, "{ctx}: {t:?} is not the held lease's");
        }
    }
    if let Some(l) = c.lease() {
        if let (Some(t1), Some(t2), Some(end)) = (l.renew_at(), l.rebind_at(), l.expires_at()) {
            assert!(
                t1 < t2 && t2 < end,
                "{ctx}: T1 {t1:?} T2 {t2:?} expiry {end:?}"
            );
            assert_eq!(timers.get(Timer::Expire), Some(end), "{ctx}: no expiry");
        }
    }
    if timers.get(Timer::Retransmit).is_some() {
        assert!(
            matches!(
                state,
                Selecting | Requesting | Rebooting | Renewing | Rebinding | Informing
            ),
            "{ctx}: a retransmission with no exchange"
        );
    }
    assert_eq!(
        timers.get(Timer::Restart).is_some(),
        state == Init,
        "{ctx}: restart"
    );
    assert_eq!(
        timers.get(Timer::Probe).is_some(),
        state == Probing,
        "{ctx}: probe"
    );
    if timers.get(Timer::Inform).is_some() {
        assert_eq!(state, Informed, "{ctx}: a refresh set in {state}");
    }
    if c.config().inform.is_some() {
        assert!(
            matches!(state, Informing | Informed | Released),
            "{ctx}: options only, in {state}"
        );
    }
    if state == Released {
        assert_eq!(timers.next(), None, "{ctx}: timers left after release");
    }
}

/// ARP: watched while an address is probed and while the router is asked whether carrier
/// came back on the same network (RFC 4436); otherwise only for the link-local fallback.
fn check_arp(c: &Client, m: &Model, ctx: &dyn fmt::Display) {
    let others: Vec<&Ipv4Addr> = m
        .watching
        .iter()
        .filter(|a| !(m.ipv4ll && a.octets()[..2] == [169, 254]))
        .collect();
    match c.state() {
        StateName::Probing => assert!(
            !m.watching.is_empty(),
            "{ctx}: probing without watching ARP"
        ),
        StateName::Rebooting => assert!(others.len() <= 1, "{ctx}: watching {others:?}"),
        _ => assert!(others.is_empty(), "{ctx}: watching ARP for {others:?}"),
    }
}
