//! The sans-IO DHCPv4 client state machine (RFC 2131 section 4.4).
//!
//! `Client::handle(now, event)` returns the actions the shell must carry out, and
//! `Client::poll_at()` says when the shell must call back with [`Event::Tick`]. The core never
//! reads a clock, sleeps, opens a socket or touches the interface; its randomness (xid, backoff
//! jitter, T1/T2 fuzz) comes from a seed, so every test is deterministic.
//!
//! The core holds the only record of what the interface holds ([`Client::applied`]). Every
//! change is one whole transition it emits: [`Action::Configure`] (this lease, replacing that
//! one) or [`Action::Deconfigure`] (this lease, for this reason), each naming its
//! [`Transition`] (BOUND, RENEW, EXPIRE…), as [`Action::Notify`] does for PREINIT, STOP and
//! FAIL. The shell applies them, keeps no copy and infers nothing.
//!
//! The layout, one module for each part of the protocol:
//! - this file: the [`Client`], its constructors, and [`Client::handle`], which hands each
//!   event to the part below that owns it, and every timer that falls due to its part;
//! - [`config`]: the settings and the [`RetryPolicy`]; [`events`]: what goes in and out;
//!   `transition`: [`Transition`] and [`Reason`]; `state`: one variant of data per RFC 2131
//!   state;
//! - `record`: the record of what the interface holds, and the one place each Configure and
//!   Deconfigure is emitted; entering a state;
//! - `acquire`: INIT, SELECTING, REQUESTING, INIT-REBOOT, and the retransmission schedule;
//! - `accept`: which replies are taken, in one place: the header check, then one handler per
//!   state (as systemd's `client_verify_message_header` and `client_handle_*`);
//! - `acd`: address conflict detection (RFC 5227): probe, announce, defend, decline;
//! - `bind`: the address is ours (and the transition it is), or the system refuses it;
//! - `renewal`: RENEWING, REBINDING, expiry, and the T1/T2 fuzz;
//! - `link`: carrier lost and back (RFC 4436), the interface removed;
//! - `release`: DHCPRELEASE, and stopping;
//! - `inform`: options only (DHCPINFORM, RFC 2131 3.4) for an address set by hand: INFORMING
//!   and INFORMED, the options' own record ([`Client::informed`]) and their refresh;
//! - [`request`]: what each message we send carries (options 50, 54, 55, 57, 61…);
//! - [`timer`]: every deadline, in one named table; [`report`]: why no lease was taken;
//!   [`linklocal`]: the RFC 3927 fallback.
//!
//! Beside the core: what a reply says, option by option: [`crate::reply`]; whether it is a
//! usable lease: [`crate::lease`]; whether a saved lease may be asked for again:
//! [`crate::leasefile`].

mod accept;
mod acd;
mod acquire;
mod bind;
pub mod config;
pub mod events;
mod inform;
mod link;
pub mod linklocal;
mod record;
mod release;
mod renewal;
pub mod report;
pub mod request;
mod state;
pub mod timer;
mod transition;

pub use config::{
    Config, Inform, ProbeMode, RetryPolicy, DECLINE_WAIT, DEFAULT_INFORM_REFRESH,
    DEFAULT_PROBE_WINDOW, DEFEND_INTERVAL, DNA_WAIT, MIN_INFORM_REFRESH, REBOOT_WAIT,
};
pub use events::{Action, Dest, Event};
pub use renewal::fuzz_times;
pub use report::NoLease;
pub use request::{max_message_size, ClientId, REQUESTED_OPTIONS};
pub use state::StateName;
pub use timer::{Timer, TimerTable};
pub use transition::{Reason, Transition};

pub use crate::frame::ArpSeen;
use crate::lease::{Informed, Lease};
use crate::time::Instant;
use dhcproto::v4::Message;
use linklocal::LinkLocal;
use report::{Tally, What};
use state::{Router, State};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tracing::debug;

/// The per-interface DHCP client state machine.
pub struct Client {
    config: Config,
    state: State,
    rng: fastrand::Rng,
    /// A saved lease to ask for again at start (INIT-REBOOT).
    saved: Option<Box<Lease>>,
    /// A lease an earlier run left on the interface, to take off at start.
    leftover: Option<Box<Lease>>,
    /// The saved lease to fall back on when the acquire timeout passes with no lease
    /// ([`Config::last_lease`]); dropped once anything else is learnt of it.
    fallback: Option<Arc<Lease>>,
    /// The lease in force is that fallback (TIMEOUT), not yet confirmed by a server: refused
    /// by the hook script, it is given up without a DECLINE.
    on_fallback: bool,
    /// What the interface holds of ours: the one record. Changed only where a Configure or
    /// Deconfigure is emitted (`record`: `configure`, `deconfigure`), and where a lease an
    /// earlier process applied is adopted: at start, to be confirmed (INIT-REBOOT) or taken
    /// off (a leftover), and by [`Client::into_bound`].
    held: Option<Arc<Lease>>,
    timers: TimerTable,
    /// NAKs in a row, to back off from a server that refuses everything.
    naks: u32,
    /// Failures to configure in a row, to back off from a system that refuses the address.
    failures: u32,
    /// ARP announcements still to send after binding (the next is [`Timer::Announce`]).
    announcements: u8,
    /// What stood in the way of a lease, until there is one.
    tally: Tally,
    /// The acquire timeout's deadline, until the first lease is known to have stuck (it
    /// reached T1) or the timeout has been reported: a first lease the system refuses to
    /// configure sets the timer again.
    acquiring: Option<Instant>,
    /// When the latest lease was bound: T1 at that same moment (a lease that spent its T1
    /// being probed) does not yet show that the system took it.
    bound_at: Instant,
    /// The link-local fallback, when configured.
    link_local: Option<LinkLocal>,
    /// The addresses the shell was last told to watch ARP for.
    watching: Vec<Ipv4Addr>,
    /// Stopped ([`Event::Stop`]): nothing more happens.
    stopped: bool,
    /// The link can carry traffic. While it cannot, nothing is sent: the exchanges keep
    /// their schedule, and start afresh once carrier is back.
    carrier: bool,
    /// The router of the lease in force and its MAC, when the lease came through it (the
    /// router served or relayed the ACK: the source of its frame).
    router: Option<Router>,
    /// The address the shell was last told to defend.
    defending: Option<Ipv4Addr>,
    /// When the address in use was last defended (RFC 5227 2.4).
    last_defence: Option<Instant>,
    /// FORCERENEW messages ignored so far (the first is logged at info, the rest at debug).
    forcerenews: u32,
    /// Options only ([`Config::inform`]): what the interface holds of ours, the options of
    /// the latest ACK to DHCPINFORM (the record, as `held` is for a lease).
    informed: Option<Box<Informed>>,
}

/// Backoff before retransmission number `attempt` (1-based) by the default policy: 4, 8, 16,
/// 32, 64, 64… seconds ([`RetryPolicy::backoff`]).
pub fn backoff_base(attempt: u32) -> Duration {
    RetryPolicy::default().backoff(attempt)
}

impl Client {
    pub fn new(config: Config, seed: u64) -> Client {
        Client {
            config: config.clone(),
            state: State::Init,
            rng: fastrand::Rng::with_seed(seed),
            saved: None,
            leftover: None,
            fallback: None,
            on_fallback: false,
            held: None,
            timers: TimerTable::default(),
            naks: 0,
            failures: 0,
            announcements: 0,
            tally: Tally::default(),
            acquiring: None,
            bound_at: Instant::ZERO,
            link_local: config.ipv4ll.map(|_| LinkLocal::new(config.hwaddr)),
            watching: Vec::new(),
            stopped: false,
            carrier: true,
            router: None,
            defending: None,
            last_defence: None,
            forcerenews: 0,
            informed: None,
        }
    }

    /// A client whose link has no carrier yet: it waits for [`Event::Link`] before it sends.
    pub fn without_carrier(mut self) -> Client {
        self.carrier = false;
        self
    }

    /// A client that holds `lease` already (as applied by an earlier process), so that it can
    /// renew or release it.
    pub fn into_bound(mut self, lease: Lease) -> Client {
        self.set_lease_timers(Some(&lease));
        let lease = Arc::new(lease);
        self.held = Some(lease.clone());
        self.state = State::Bound { lease };
        self
    }

    /// Gives the client a saved lease to try first (INIT-REBOOT) on [`Event::Start`]. The
    /// interface may hold it (an earlier run stopped with `-x` left it there): should a server
    /// NAK it, or none confirm it, or should it have run out by then, it is taken off.
    pub fn with_saved_lease(mut self, lease: Lease) -> Client {
        self.saved = Some(Box::new(lease));
        self
    }

    /// Tells the client of a lease an earlier run may have left on the interface (stopped
    /// with `-x`, the address configured) that is not to be asked for again: its file was
    /// refused (leased to another hardware address) or it has run out. At [`Event::Start`],
    /// right after PREINIT and before anything is sent, it is taken off as any lease that
    /// ends: [`Action::Deconfigure`] (reason [`Reason::Expired`] when it has run out by then,
    /// else [`Reason::Stale`]; transition EXPIRE, as dhclient-script knows it), then
    /// [`Action::ForgetLease`].
    pub fn with_leftover(mut self, lease: Lease) -> Client {
        self.leftover = Some(Box::new(lease));
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> StateName {
        self.state.name()
    }

    /// The lease in force (BOUND, RENEWING, REBINDING), if any.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. } => Some(lease),
            _ => None,
        }
    }

    /// What the interface holds of ours, as the core last told the shell (or, at INIT-REBOOT,
    /// may hold from an earlier process).
    pub fn applied(&self) -> Option<&Lease> {
        self.held.as_deref()
    }

    /// The link-local address the interface holds (RFC 3927), if any.
    pub fn link_local(&self) -> Option<Ipv4Addr> {
        self.link_local.as_ref().and_then(LinkLocal::held)
    }

    /// Every deadline of the client.
    pub fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// When the shell must next call `handle(now, Event::Tick)`; None when nothing is pending.
    pub fn poll_at(&self) -> Option<Instant> {
        self.timers.next().map(|(_, at)| at)
    }

    /// Feeds one event to the state machine and returns what the shell must do.
    pub fn handle(&mut self, now: Instant, event: Event<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start if self.config.inform.is_some() => self.start_inform(now, &mut out),
            Event::Start => self.start(now, &mut out),
            Event::Tick => self.tick(now, &mut out),
            Event::Reply(r) => self.receive(now, r, &mut out),
            Event::Unreadable { from, why } => {
                debug!("dropping an unreadable message from {from}: {why}");
                self.tally.add(What::Unreadable, from, why);
            }
            Event::Renew => match &self.state {
                State::Bound { lease } => {
                    let lease = lease.clone();
                    self.enter_renewing(now, lease, true, &mut out);
                }
                State::Informed => self.refresh(now, &mut out),
                _ => {}
            },
            Event::Release => self.release(&mut out),
            Event::Stop => self.stop(&mut out),
            Event::Arp(arp) => self.arp(now, arp, &mut out),
            Event::ConfigureFailed { lease, why } => {
                self.configure_failed(now, lease, why, &mut out)
            }
            Event::Link { carrier } => self.link(now, carrier, &mut out),
            Event::Gone => self.gone(&mut out),
            Event::ScriptRefused { lease } => self.script_refused(now, lease, &mut out),
        }
        self.arm_link_local(now);
        self.watch_arp(&mut out);
        if !self.carrier {
            // Nothing reaches the wire without carrier (the kernel would refuse it with
            // ENETDOWN); what is due again goes out once the link is back.
            out.retain(|a| {
                !matches!(
                    a,
                    Action::Send { .. }
                        | Action::ArpProbe { .. }
                        | Action::ArpAnnounce { .. }
                        | Action::ArpRequest { .. }
                )
            });
        }
        out
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Expire => self.expire(now, out),
                Timer::Rebind => match &self.state {
                    State::Bound { lease } | State::Renewing { lease, .. } => {
                        let lease = lease.clone();
                        self.enter_rebinding(now, lease, out);
                    }
                    _ => {}
                },
                Timer::Renew => {
                    if let State::Bound { lease } = &self.state {
                        let lease = lease.clone();
                        self.enter_renewing(now, lease, false, out);
                    }
                }
                Timer::Inform => self.refresh(now, out),
                Timer::AcquireTimeout => self.acquire_timeout(now, out),
                Timer::Restart => {
                    if matches!(self.state, State::Init) {
                        self.discover(now, out);
                    }
                }
                Timer::Retransmit => self.retransmit(now, out),
                Timer::Probe => self.probe_step(now, out),
                Timer::Announce => self.announce(now, out),
                Timer::LinkLocal => {
                    if let Some(ll) = &mut self.link_local {
                        let next = ll.step(now, out);
                        self.timers.set_or_stop(Timer::LinkLocal, next);
                    }
                }
            }
        }
    }

    /// With no lease (none yet, or lost) and no link-local address or attempt, the fallback
    /// waits its time (RFC 3927 1.9: a host without a configured address may use one).
    fn arm_link_local(&mut self, now: Instant) {
        let (Some(ll), Some(wait)) = (&self.link_local, self.config.ipv4ll) else {
            return;
        };
        let without_lease = self.held.is_none()
            && matches!(
                self.state,
                State::Init | State::Selecting { .. } | State::Requesting { .. }
            );
        if without_lease
            && !self.stopped
            && ll.is_idle()
            && self.timers.get(Timer::LinkLocal).is_none()
        {
            self.timers.set(Timer::LinkLocal, now + wait);
        }
    }
}

fn send(msg: Message, dest: Dest) -> Action {
    Action::Send {
        msg: Box::new(msg),
        dest,
    }
}

/// The router the lease's default route goes through, if there is one.
fn default_router(lease: &Lease) -> Option<Ipv4Addr> {
    lease
        .routes()
        .iter()
        .find(|r| r.is_default())
        .map(|r| r.gateway)
        .filter(|g| !g.is_unspecified())
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn secs_since(start: Instant, now: Instant) -> u16 {
    now.saturating_since(start)
        .as_secs()
        .min(u64::from(u16::MAX)) as u16
}
