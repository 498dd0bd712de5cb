//! The end of a client: giving the lease back (RELEASE, RFC 8415 18.2.7), stopping with the
//! lease kept (STOP6), the interface removed; and the system refusing a lease.

use super::retrans::{self, Exchange};
use super::state::State6;
use super::{message, Action6, Client6, Reason6, TimerTable6, Transition6};
use crate::time::Instant;
use crate::v6::Lease6;
use std::time::Duration;
use tracing::{info, warn};

impl Client6 {
    /// [`super::Event6::Release`]: the lease is taken off first (RFC 8415 18.2.7: the client
    /// stops using it before the exchange begins, as dhclient does), then RELEASE goes to its
    /// server, retransmitted up to REL_MAX_RC times; [`Action6::Done`] once it is answered
    /// or given up. Stateless, or with no lease: the configuration is taken off, done.
    pub(super) fn release(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let lease = self.held.clone();
        self.deconfigure(now, Reason6::Released, out);
        self.timers = TimerTable6::default();
        match lease.filter(|l| !l.ias.is_empty()) {
            Some(lease) => {
                info!("releasing the lease");
                let xid = self.xid();
                let x = Exchange::new(message::release(xid, &lease), retrans::RELEASE, None);
                self.begin(now, State6::Releasing { x }, Duration::ZERO, out);
            }
            None => self.finish(out),
        }
    }

    /// [`super::Event6::Stop`]: done, the interface keeps what it holds (STOP6 tells of it).
    pub(super) fn stop(&mut self, out: &mut Vec<Action6>) {
        out.push(Action6::Notify {
            transition: Transition6::Stop6,
            lease: self.held.clone(),
        });
        self.finish(out);
    }

    /// [`super::Event6::Gone`]: the interface went, and what it held with it.
    pub(super) fn gone(&mut self, out: &mut Vec<Action6>) {
        if let Some(lease) = self.held.take() {
            out.push(Action6::Deconfigure {
                lease,
                reason: Reason6::Gone,
                transition: Reason6::Gone.transition(),
            });
        }
        self.finish(out);
    }

    /// Nothing more is due: [`Action6::Done`].
    pub(super) fn finish(&mut self, out: &mut Vec<Action6>) {
        self.timers = TimerTable6::default();
        self.state = State6::Stopped;
        self.stopped = true;
        out.push(Action6::Done);
    }

    /// [`super::Event6::ConfigureFailed`]: the system would not take the lease held. It is
    /// taken off (EXPIRE6) and asked for again after the refusal wait. Ignored when the
    /// record has moved on.
    pub(super) fn configure_failed(
        &mut self,
        now: Instant,
        lease: &Lease6,
        why: &str,
        out: &mut Vec<Action6>,
    ) {
        if self.held.as_ref() != Some(lease) {
            return info!("a lease no longer held could not be configured: {why}");
        }
        warn!("could not configure the DHCPv6 lease: {why}");
        self.tally
            .refuse(format!("could not configure the lease: {why}"));
        let tally = self.tally.clone();
        self.deconfigure(now, Reason6::NotApplied, out);
        self.tally = tally;
        if self.config.is_stateless() {
            self.refusals = self.refusals.saturating_add(1);
            let wait = super::config::REFUSAL_BACKOFF
                .saturating_mul(1 << self.refusals.saturating_sub(1).min(16))
                .min(self.inf_max_rt);
            return self.inform(now, wait, out);
        }
        self.solicit_later(now, out);
    }
}
