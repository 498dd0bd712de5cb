//! Stateless DHCPv6 (RFC 8415 18.2.6): INFORMATION-REQUEST, and its REPLY's configuration
//! (DNS, search list, NTP…) applied (INFORM6) until the Information Refresh Time (option 32,
//! RFC 8415 21.23: IRT_DEFAULT when absent, never under IRT_MINIMUM, INFINITY never) asks
//! again.

use super::config::{IRT_DEFAULT, IRT_MINIMUM};
use super::lease;
use super::retrans::{self, Exchange};
use super::state::State6;
use super::{message, Action6, Client6, Timer6, Transition6};
use crate::time::Instant;
use crate::v6::{Reply6, StatusCode, INFINITY};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::{debug, info};

/// The refresh time a REPLY sets, in seconds.
fn refresh_secs(r: &Reply6) -> u32 {
    r.info_refresh.unwrap_or(IRT_DEFAULT).max(IRT_MINIMUM)
}

impl Client6 {
    /// A new INFORMATION-REQUEST exchange, its first message after `delay`.
    pub(super) fn inform(&mut self, now: Instant, delay: Duration, out: &mut Vec<Action6>) {
        let xid = self.xid();
        let x = Exchange::new(message::inform(&self.config, xid), retrans::INFORM, None);
        self.begin(now, State6::Informing { x }, delay, out);
    }

    /// The REPLY to our INFORMATION-REQUEST: its configuration applied (INFORM6), the next
    /// request at the refresh time.
    pub(super) fn informed(
        &mut self,
        now: Instant,
        r: &Reply6,
        from: Ipv6Addr,
        started: Instant,
        out: &mut Vec<Action6>,
    ) {
        if r.status.code != StatusCode::Success {
            let why = format!("REPLY from {from}: {:?}", r.status);
            debug!("{why}; retransmitting");
            return self.tally.refuse(why);
        }
        let refresh = refresh_secs(r);
        let mut info = lease::from_reply(r, from, Vec::new(), started);
        info.info_refresh = Some(refresh);
        info!("configuration from {from}; asking again in {refresh} s");
        self.configure(now, info, Transition6::Inform6, out);
        self.goto(State6::Informed, None);
        let next = (refresh != INFINITY).then(|| now + Duration::from_secs(u64::from(refresh)));
        self.timers.set_or_stop(Timer6::Refresh, next);
    }
}
