//! The sans-IO DHCPv6 client (RFC 8415), of the same shape as the DHCPv4 one
//! ([`crate::core`]): `Client6::handle(now, event)` returns the actions the shell must carry
//! out, and `Client6::poll_at()` says when the shell must call back with [`Event6::Tick`].
//! The core never reads a clock, sleeps, opens a socket or touches the interface; its
//! randomness (xids, the first message's delay, RAND) comes from a seed.
//!
//! The core holds the only record of what the interface holds ([`Client6::lease`]). Every
//! change is one whole transition it emits: [`Action6::Configure`] (this lease, replacing
//! that one) or [`Action6::Deconfigure`] (this lease, for this reason), each naming its
//! [`Transition6`] in dhclient-script's DHCPv6 words, as [`Action6::Notify`] does for
//! PREINIT6, DEPREF6 and STOP6.
//!
//! The layout, one module for each part of the protocol:
//! - this file: the [`Client6`], its constructors, and [`Client6::handle`], which hands each
//!   event to the part that owns it, and every timer that falls due to its part;
//! - [`config`]: the settings; [`events`]: what goes in and out; `transition`:
//!   [`Transition6`] and [`Reason6`]; `state`: one variant of data per state;
//! - [`retrans`]: RFC 8415 section 15's retransmission, each message kind's parameters;
//! - `message`: what each message we send carries;
//! - [`lease`]: what a reply grants, judged, merged into the lease held, and when T1, T2 and
//!   each lifetime fall due;
//! - `record`: the record of what the interface holds, and the one place each Configure and
//!   Deconfigure is emitted; entering a state and running its exchange;
//! - `accept`: which replies are taken, in one place: the header check, then one handler
//!   per state;
//! - `acquire`: the start, SOLICIT, ADVERTISE, REQUEST, Rapid Commit;
//! - `renewal`: RENEW at T1, REBIND at T2, DEPREF6, expiry;
//! - `link`: carrier lost and back: CONFIRM (or REBIND for prefixes), and a saved lease at
//!   start;
//! - `decline`: a duplicate address declined; `release`: RELEASE, stopping, the interface
//!   gone, the system refusing a lease; `inform`: stateless (INFORMATION-REQUEST);
//! - [`timer`]: every deadline, in one named table; [`report`]: why no lease was taken.

mod accept;
mod acquire;
pub mod config;
mod decline;
pub mod events;
mod inform;
pub mod lease;
mod link;
mod message;
mod record;
mod release;
mod renewal;
pub mod report;
pub mod retrans;
mod state;
pub mod timer;
mod transition;

pub use config::{Config6, Mode6, PdAsk};
pub use events::{Action6, Event6};
pub use report::NoLease6;
pub use state::StateName6;
pub use timer::{Timer6, TimerTable6};
pub use transition::{Reason6, Transition6};

use crate::time::Instant;
use crate::v6::Lease6;
use state::State6;
use std::time::Duration;
use tracing::debug;

/// The per-interface DHCPv6 client state machine.
pub struct Client6 {
    config: Config6,
    state: State6,
    rng: fastrand::Rng,
    /// What the interface holds of ours: the one record, and the lease in force. Changed
    /// only where a Configure or Deconfigure is emitted (`record`), and where a lease an
    /// earlier process applied is adopted (a saved lease at start, [`Client6::into_bound`]).
    held: Option<Lease6>,
    /// A saved lease to confirm at [`Event6::Start`].
    saved: Option<Lease6>,
    timers: TimerTable6,
    /// The link can carry traffic. While it cannot, nothing is sent: the exchanges keep their
    /// schedule, and start afresh once carrier is back.
    carrier: bool,
    /// Stopped, released or gone: nothing more happens.
    stopped: bool,
    /// The preferred lifetimes that passed by this instant have been told (DEPREF6); None:
    /// none yet of the lease held.
    depref_mark: Option<Instant>,
    /// SOL_MAX_RT and INF_MAX_RT: RFC 8415's, or as a server set them (options 82, 83).
    sol_max_rt: Duration,
    inf_max_rt: Duration,
    /// Refusals in a row (every IA refused, the system refusing the lease): the next SOLICIT
    /// waits longer each time.
    refusals: u32,
    /// What stood in the way of a lease, until there is one.
    tally: NoLease6,
    /// RECONFIGURE messages ignored so far (the first is logged at info, the rest at debug).
    reconfigures: u32,
}

impl Client6 {
    pub fn new(config: Config6, seed: u64) -> Client6 {
        Client6 {
            config,
            state: State6::Idle,
            rng: fastrand::Rng::with_seed(seed),
            held: None,
            saved: None,
            timers: TimerTable6::default(),
            carrier: true,
            stopped: false,
            depref_mark: None,
            sol_max_rt: retrans::SOLICIT.mrt,
            inf_max_rt: retrans::INFORM.mrt,
            refusals: 0,
            tally: NoLease6::default(),
            reconfigures: 0,
        }
    }

    /// A client whose link has no carrier yet: it sends nothing before [`Event6::Link`].
    pub fn without_carrier(mut self) -> Client6 {
        self.carrier = false;
        self
    }

    /// Gives the client a saved lease to confirm at [`Event6::Start`] (RFC 8415 18.2.3,
    /// 18.2.12: CONFIRM for addresses, REBIND when it has prefixes). The interface may hold
    /// it (an earlier run stopped with `-x`): should a server say it is not for this link,
    /// or should it have run out by then, it is taken off.
    pub fn with_saved_lease(mut self, lease: Lease6) -> Client6 {
        // Held to the rules of what may be configured, as every lease the core takes: it
        // may be put back as it is (Reapply) while being confirmed.
        self.saved = Some(lease::cleaned(lease));
        self
    }

    /// A client that holds `lease` already (as applied by an earlier process), bound, so that
    /// it can renew or release it (`dhclient -6 -r` from the lease file).
    pub fn into_bound(mut self, lease: Lease6) -> Client6 {
        self.held = Some(lease::cleaned(lease));
        self.state = State6::Bound;
        self.set_lease_timers(Instant::ZERO);
        self
    }

    pub fn config(&self) -> &Config6 {
        &self.config
    }

    pub fn state(&self) -> StateName6 {
        self.state.name()
    }

    /// What the interface holds of ours (the lease in force), as the core last told the
    /// shell.
    pub fn lease(&self) -> Option<&Lease6> {
        self.held.as_ref()
    }

    /// Every deadline of the client.
    pub fn timers(&self) -> &TimerTable6 {
        &self.timers
    }

    /// When the shell must next call `handle(now, Event6::Tick)`; None when nothing is due.
    pub fn poll_at(&self) -> Option<Instant> {
        self.timers.next().map(|(_, at)| at)
    }

    /// Feeds one event to the state machine and returns what the shell must do.
    pub fn handle(&mut self, now: Instant, event: Event6<'_>) -> Vec<Action6> {
        let mut out = Vec::new();
        if self.stopped {
            debug!("DHCPv6 client finished; ignoring {event:?}");
            return out;
        }
        match event {
            Event6::Start => self.start(now, &mut out),
            Event6::Tick => self.tick(now, &mut out),
            Event6::Reply { reply, from } => self.receive(now, reply, from, &mut out),
            Event6::Unreadable { from, why } => {
                debug!("dropping an unreadable DHCPv6 message from {from}: {why}");
                self.tally
                    .drop_one(format!("unreadable message from {from}: {why}"));
            }
            Event6::Link { carrier } => self.link(now, carrier, &mut out),
            Event6::DadFailed(addr) => self.dad_failed(now, addr, &mut out),
            Event6::ConfigureFailed { lease, why } => {
                self.configure_failed(now, lease, &why, &mut out)
            }
            Event6::Renew => self.renew_now(now, &mut out),
            Event6::Release => self.release(now, &mut out),
            Event6::Stop => self.stop(&mut out),
            Event6::Gone => self.gone(&mut out),
        }
        if !self.carrier {
            // Nothing reaches the wire without carrier; what is due again goes out once the
            // link is back.
            out.retain(|a| !matches!(a, Action6::Send(_)));
        }
        out
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action6>) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer6::Expire => self.expire(now, out),
                Timer6::Depref => self.depref(now, out),
                Timer6::Rebind => {
                    if matches!(self.state, State6::Bound | State6::Renewing { .. }) {
                        self.enter_rebinding(now, out);
                    }
                }
                Timer6::Renew => {
                    if matches!(self.state, State6::Bound) {
                        self.enter_renewing(now, out);
                    }
                }
                Timer6::Refresh => {
                    if matches!(self.state, State6::Informed) {
                        self.inform(now, Duration::ZERO, out);
                    }
                }
                Timer6::AcquireTimeout => {
                    if self.held.is_none() {
                        out.push(Action6::NoLease(self.tally.clone()));
                    }
                }
                Timer6::Retransmit => self.step(now, out),
            }
        }
    }

    /// [`Event6::Renew`]: renew now (stateless: ask for the configuration again).
    fn renew_now(&mut self, now: Instant, out: &mut Vec<Action6>) {
        match self.state {
            State6::Bound => self.enter_renewing(now, out),
            State6::Informed => self.inform(now, Duration::ZERO, out),
            _ => debug!("renew asked for in {}: nothing to renew now", self.state()),
        }
    }
}
