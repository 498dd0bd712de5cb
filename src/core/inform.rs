//! Options only: DHCPINFORM (RFC 2131 3.4), for a host whose address was set by hand. No lease
//! is asked for and the address is never touched: the client sends DHCPINFORM from it (ciaddr
//! and IP source), takes the options of the ACK (routes, DNS, domain, search list, NTP, MTU),
//! has them applied ([`Action::ConfigureOptions`]), and asks again after the configured
//! refresh, since no lease time comes back to say when.
//!
//! The first DHCPINFORM of a refresh (or of `dhcpc -n`) goes to the server that answered the
//! last one, when it named itself (RFC 2131 4.4.3: "unicast, if known"); the first of all,
//! the first after carrier came back (the link may be elsewhere), and every retransmission
//! are broadcast, so that whichever server is there answers. Unanswered, it is
//! sent again with RFC 2131 4.1's backoff (4, 8, 16, 32, 64, 64… s, ±1 s), for ever: the
//! options held meanwhile stay, as nothing ends them.

use super::state::{Exchange, State};
use super::{request, secs_since, send, Action, Client, Dest, Inform, Reason, Timer, Transition};
use crate::lease::Informed;
use crate::time::Instant;
use std::time::Duration;
use tracing::{debug, info};

impl Client {
    /// [`super::Event::Start`] with options only: PREINIT, then the first DHCPINFORM. A saved
    /// lease or one an earlier run left is not looked at: the address is the host's own.
    pub(super) fn start_inform(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Notify {
            transition: Transition::Preinit,
            lease: None,
        });
        self.saved = None;
        self.leftover = None;
        if let Some(wait) = self.config.acquire_timeout {
            self.acquiring = Some(now + wait);
            self.timers.set(Timer::AcquireTimeout, now + wait);
        }
        self.inform(now, false, out);
    }

    /// A new DHCPINFORM exchange: to the server of the options held when it is known and
    /// `unicast` says so, else broadcast; the first retransmission after RFC 2131 4.1's first
    /// wait.
    fn inform(&mut self, now: Instant, unicast: bool, out: &mut Vec<Action>) {
        let Some(inform) = self.config.inform else {
            return;
        };
        let x = self.new_exchange(now);
        let msg = request::inform(&self.config, x.xid, 0, inform.address);
        let known = self.informed.as_ref().and_then(|i| i.server_id);
        let dest = match known.filter(|_| unicast) {
            Some(server) => Dest::Unicast(server),
            None => Dest::BroadcastFrom(inform.address),
        };
        info!("asking for the options of {} (DHCPINFORM)", inform.address);
        out.push(send(msg, dest));
        let at = now + self.backoff(1);
        self.timers.stop(Timer::Inform);
        self.goto(State::Informing { x }, Some((Timer::Retransmit, at)));
    }

    /// INFORMING's retransmission: broadcast, with a growing wait, for ever.
    pub(super) fn resend_inform(&mut self, now: Instant, mut x: Exchange, out: &mut Vec<Action>) {
        let Some(inform) = self.config.inform else {
            return;
        };
        x.attempts += 1;
        x.sent = now;
        let secs = secs_since(x.started, now);
        let msg = request::inform(&self.config, x.xid, secs, inform.address);
        out.push(send(msg, Dest::BroadcastFrom(inform.address)));
        debug!("no answer yet; DHCPINFORM #{}", x.attempts);
        let at = now + self.backoff(x.attempts);
        self.goto(State::Informing { x }, Some((Timer::Retransmit, at)));
    }

    /// An ACK to our DHCPINFORM: its options replace those held (INFORM), and the next
    /// DHCPINFORM is due after the refresh.
    pub(super) fn take_informed(&mut self, now: Instant, info: Informed, out: &mut Vec<Action>) {
        self.tally.clear();
        self.acquiring = None;
        self.timers.stop(Timer::AcquireTimeout);
        let previous = self.informed.replace(Box::new(info.clone()));
        out.push(Action::ConfigureOptions {
            info,
            previous: previous.map(|b| *b),
            transition: Transition::Inform,
        });
        let next = self.config.inform.and_then(|i| self.refresh_wait(&i));
        self.goto(State::Informed, None);
        self.timers
            .set_or_stop(Timer::Inform, next.map(|wait| now + wait));
    }

    /// The wait before the next DHCPINFORM: the configured refresh, moved by a random whole
    /// number of seconds of up to the policy's fuzz share of itself either way (as T1 is), so
    /// that hosts started together do not all ask together.
    fn refresh_wait(&mut self, inform: &Inform) -> Option<Duration> {
        let secs = inform.refresh?.as_secs().max(1);
        let percent = u64::from(self.config.retry.timer_fuzz_percent.min(100));
        let spread = (secs * percent / 100).min(i64::MAX as u64) as i64;
        let moved = if spread == 0 {
            secs
        } else {
            (secs as i64).saturating_add(self.rng.i64(-spread..=spread)) as u64
        };
        Some(Duration::from_secs(moved.max(1)))
    }

    /// [`Timer::Inform`], or a renewal asked for (`dhcpc -n`): the options are asked for
    /// again, unless an exchange is under way.
    pub(super) fn refresh(&mut self, now: Instant, out: &mut Vec<Action>) {
        if matches!(self.state, State::Informed) {
            self.inform(now, true, out);
        }
    }

    /// Carrier came back: the link may be on another network, whose server (whichever it
    /// is: broadcast) says what holds there; the options held stay until it answers.
    pub(super) fn inform_after_carrier(&mut self, now: Instant, out: &mut Vec<Action>) {
        info!("carrier up: asking for the options again");
        self.inform(now, false, out);
    }

    /// The end of options only: `reason` [`Reason::Released`] (`dhcpc -r`: no DHCPRELEASE,
    /// as nothing is leased) or [`Reason::Gone`]; what the options put on the interface goes.
    pub(super) fn drop_options(&mut self, reason: Reason, out: &mut Vec<Action>) {
        if let Some(info) = self.informed.take() {
            out.push(Action::DeconfigureOptions {
                info: *info,
                reason,
                transition: reason.transition(),
            });
        }
        self.state = State::Released;
    }

    /// The options of the latest ACK to DHCPINFORM, as the interface holds them.
    pub fn informed(&self) -> Option<&Informed> {
        self.informed.as_deref()
    }
}
