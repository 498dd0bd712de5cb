//! Getting a lease: the start (PREINIT6, then a saved lease confirmed, an
//! INFORMATION-REQUEST, or a SOLICIT), SOLICIT and the ADVERTISEs it collects (RFC 8415
//! 18.2.1, 18.2.9), REQUEST (18.2.2) and the REPLY that binds (18.2.10.1), Rapid Commit.

use super::config::REFUSAL_BACKOFF;
use super::lease::{self, grants, judge};
use super::retrans::{self, Exchange};
use super::state::{Advert, State6};
use super::{message, Action6, Client6, Timer6, Transition6};
use crate::time::Instant;
use crate::v6::{Lease6, Reply6, StatusCode};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::{debug, info};

/// What a REPLY to a REQUEST (or a Rapid Commit SOLICIT) is.
pub(super) enum Grant {
    /// A lease with something in it.
    Lease(Lease6),
    /// A failure the exchange retransmits past (UnspecFail, UseMulticast: we multicast
    /// already), as RFC 8415 18.2.10 allows.
    Retry(String),
    /// Nothing granted (every IA refused, NoAddrsAvail), or NotOnLink: try elsewhere.
    Refused(String),
}

impl Client6 {
    /// [`super::Event6::Start`]: PREINIT6, then (stateless) an INFORMATION-REQUEST, or the
    /// saved lease confirmed, or a SOLICIT, the first message after a random delay.
    pub(super) fn start(&mut self, now: Instant, out: &mut Vec<Action6>) {
        if !matches!(self.state, State6::Idle) {
            return debug!("DHCPv6 client started already");
        }
        out.push(Action6::Notify {
            transition: Transition6::Preinit6,
            lease: None,
        });
        if let Some(wait) = self.config.acquire_timeout {
            self.timers.set(Timer6::AcquireTimeout, now + wait);
        }
        let delay = self.delay(self.config.max_delay);
        if self.config.is_stateless() {
            return self.inform(now, delay, out);
        }
        match self.saved.take() {
            Some(saved) => self.confirm_saved(now, saved, out),
            None => self.solicit(now, delay, out),
        }
    }

    /// A new SOLICIT exchange, its first message after `delay`.
    pub(super) fn solicit(&mut self, now: Instant, delay: Duration, out: &mut Vec<Action6>) {
        let xid = self.xid();
        let msg = message::solicit(&self.config, xid);
        let x = Exchange::new(msg, retrans::SOLICIT, None);
        let state = State6::Soliciting {
            x,
            adverts: Vec::new(),
        };
        self.begin(now, state, delay, out);
    }

    /// A server (or the system) refused what was asked for: SOLICIT again after a wait
    /// that doubles with each refusal in a row, up to SOL_MAX_RT.
    pub(super) fn solicit_later(&mut self, now: Instant, out: &mut Vec<Action6>) {
        self.refusals = self.refusals.saturating_add(1);
        let doublings = self.refusals.saturating_sub(1).min(16);
        let wait = REFUSAL_BACKOFF
            .saturating_mul(1 << doublings)
            .min(self.sol_max_rt);
        info!("soliciting again in {} s", wait.as_secs());
        self.solicit(now, wait, out);
    }

    /// An ADVERTISE to our SOLICIT (RFC 8415 18.2.9): one that offers no address and no
    /// prefix is ignored; preference 255 is requested at once; otherwise they are collected
    /// until the first RT has passed, and after it the first one is requested at once.
    pub(super) fn advertised(
        &mut self,
        now: Instant,
        reply: &Reply6,
        from: Ipv6Addr,
        out: &mut Vec<Action6>,
    ) {
        let ias = judge(&self.config, reply);
        if !grants(&ias) || reply.status.code != StatusCode::Success {
            let why = format!(
                "ADVERTISE from {from} offers no address and no prefix (status {:?})",
                reply.status.code
            );
            debug!("ignoring an {why}");
            return self.tally.refuse(why);
        }
        let advert = Advert {
            server_id: reply.server_id.clone().unwrap_or_default(),
            preference: reply.preference,
            from,
            ias,
        };
        debug!("ADVERTISE from {from}, preference {}", advert.preference);
        let State6::Soliciting { x, adverts } = &mut self.state else {
            return;
        };
        let at_once = advert.preference == u8::MAX || x.sent > 1;
        adverts.push(advert);
        // Best first; a stable sort keeps the first of equal preference first.
        adverts.sort_by_key(|a| std::cmp::Reverse(a.preference));
        if at_once {
            self.request_best(now, out);
        }
    }

    /// SOLICIT is over: the best ADVERTISE is requested; the others are kept, in order, in
    /// case its server does not answer.
    pub(super) fn request_best(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let State6::Soliciting { adverts, .. } = &mut self.state else {
            return;
        };
        let mut rest = std::mem::take(adverts);
        if rest.is_empty() {
            return;
        }
        let best = rest.remove(0);
        self.request(now, best, rest, out);
    }

    fn request(&mut self, now: Instant, advert: Advert, rest: Vec<Advert>, out: &mut Vec<Action6>) {
        info!(
            "requesting from {} (preference {})",
            advert.from, advert.preference
        );
        let xid = self.xid();
        let msg = message::request(&self.config, xid, &advert.server_id, &advert.ias);
        let x = Exchange::new(msg, retrans::REQUEST, None);
        self.begin(now, State6::Requesting { x, rest }, Duration::ZERO, out);
    }

    /// A REQUEST after a REPLY said NoBinding for an IA (RFC 8415 18.2.10.1): to that
    /// server, for what the lease holds.
    pub(super) fn request_binding(&mut self, now: Instant, out: &mut Vec<Action6>) {
        let Some(lease) = &self.held else {
            return self.solicit(now, Duration::ZERO, out);
        };
        let advert = Advert {
            server_id: lease.server_id.clone(),
            preference: 0,
            from: lease.server_addr.unwrap_or(Ipv6Addr::UNSPECIFIED),
            ias: lease.ias.clone(),
        };
        self.request(now, advert, Vec::new(), out);
    }

    /// REQUEST reached REQ_MAX_RC unanswered: the next ADVERTISE, or SOLICIT again.
    pub(super) fn request_failed(
        &mut self,
        now: Instant,
        x: &Exchange,
        mut rest: Vec<Advert>,
        out: &mut Vec<Action6>,
    ) {
        let why = format!("a server did not answer {} REQUESTs", x.sent);
        info!("{why}");
        self.tally.refuse(why);
        if rest.is_empty() {
            return self.solicit(now, Duration::ZERO, out);
        }
        let next = rest.remove(0);
        self.request(now, next, rest, out);
    }

    /// What a REPLY to a REQUEST or a Rapid Commit SOLICIT grants (RFC 8415 18.2.10,
    /// 18.2.10.1), the lease counted from `started`.
    pub(super) fn grant(&self, reply: &Reply6, from: Ipv6Addr, started: Instant) -> Grant {
        match reply.status.code {
            StatusCode::Success => {}
            StatusCode::UnspecFail | StatusCode::UseMulticast => {
                return Grant::Retry(format!("REPLY from {from}: {:?}", reply.status));
            }
            _ => return Grant::Refused(format!("REPLY from {from}: {:?}", reply.status)),
        }
        let ias = judge(&self.config, reply);
        if !grants(&ias) {
            return Grant::Refused(format!(
                "REPLY from {from} grants no address and no prefix (IA status {:?})",
                ias.iter().map(|ia| ia.status).collect::<Vec<_>>()
            ));
        }
        Grant::Lease(lease::from_reply(reply, from, ias, started))
    }

    /// A REPLY to our REQUEST.
    pub(super) fn requested(
        &mut self,
        now: Instant,
        reply: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        out: &mut Vec<Action6>,
    ) {
        match self.grant(reply, from, started) {
            Grant::Lease(lease) => self.bind(now, lease, out),
            Grant::Retry(why) => {
                debug!("{why}; retransmitting");
                self.tally.refuse(why);
            }
            Grant::Refused(why) => {
                info!("{why}");
                self.tally.refuse(why);
                let State6::Requesting { rest, .. } = &mut self.state else {
                    return;
                };
                let mut rest = std::mem::take(rest);
                if rest.is_empty() {
                    return self.solicit_later(now, out);
                }
                let next = rest.remove(0);
                self.request(now, next, rest, out);
            }
        }
    }

    /// A REPLY to a SOLICIT: taken only when we asked for Rapid Commit and the server says it
    /// committed (option 14, RFC 8415 18.2.1, 18.2.10).
    pub(super) fn rapid(
        &mut self,
        now: Instant,
        reply: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        out: &mut Vec<Action6>,
    ) {
        if !(self.config.rapid_commit && reply.rapid_commit) {
            return debug!("dropping a REPLY to SOLICIT from {from} without Rapid Commit");
        }
        match self.grant(reply, from, started) {
            Grant::Lease(lease) => self.bind(now, lease, out),
            Grant::Retry(why) | Grant::Refused(why) => {
                debug!("ignoring a Rapid Commit {why}");
                self.tally.refuse(why);
            }
        }
    }

    /// A new lease (BOUND6): configured, its timers set.
    fn bind(&mut self, now: Instant, lease: Lease6, out: &mut Vec<Action6>) {
        if let Some(from) = lease.server_addr {
            debug!("bound: {} IA(s) from {from}", lease.ias.len());
        }
        if self.configure(now, lease, Transition6::Bound6, out) {
            self.settle(now, true, out);
        } else {
            self.solicit_later(now, out);
        }
    }
}
