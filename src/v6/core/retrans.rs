//! Retransmission by RFC 8415 section 15, one [`Exchange`] per message exchange, with each
//! message kind's parameters from the table of section 7.6 ([`Params`]).
//!
//! RT for the first message is IRT + RAND*IRT (for SOLICIT, RAND > 0 so that the first RT is
//! strictly greater than IRT); each next one is 2*RTprev + RAND*RTprev; past MRT it is MRT +
//! RAND*MRT. RAND is uniform in -0.1..=0.1. The exchange fails once MRC messages were sent
//! and the last one's RT has passed, or once MRD has passed since the first message.

use crate::time::Instant;
use crate::v6::Outgoing6;
use std::time::Duration;

/// One message kind's retransmission parameters (RFC 8415 7.6, 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Initial retransmission time.
    pub irt: Duration,
    /// Maximum retransmission time; zero: none.
    pub mrt: Duration,
    /// Maximum number of messages sent; 0: no limit.
    pub mrc: u32,
    /// Maximum retransmission duration from the first message; None: none (RENEW and REBIND
    /// have a deadline of their own instead: T2, and the end of the last valid lifetime).
    pub mrd: Option<Duration>,
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// SOL_TIMEOUT, SOL_MAX_RT (a server may change the latter: option 82).
pub const SOLICIT: Params = Params {
    irt: secs(1),
    mrt: secs(3600),
    mrc: 0,
    mrd: None,
};
/// REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC.
pub const REQUEST: Params = Params {
    irt: secs(1),
    mrt: secs(30),
    mrc: 10,
    mrd: None,
};
/// CNF_TIMEOUT, CNF_MAX_RT, CNF_MAX_RD; also a REBIND sent to check the link (RFC 8415
/// 18.2.12: "the retransmission parameters should be set as for the Confirm message").
pub const CONFIRM: Params = Params {
    irt: secs(1),
    mrt: secs(4),
    mrc: 0,
    mrd: Some(secs(10)),
};
/// REN_TIMEOUT, REN_MAX_RT; MRD: the time left to T2.
pub const RENEW: Params = Params {
    irt: secs(10),
    mrt: secs(600),
    mrc: 0,
    mrd: None,
};
/// REB_TIMEOUT, REB_MAX_RT; MRD: the time left to the end of the last valid lifetime.
pub const REBIND: Params = Params {
    irt: secs(10),
    mrt: secs(600),
    mrc: 0,
    mrd: None,
};
/// INF_TIMEOUT, INF_MAX_RT (a server may change the latter: option 83).
pub const INFORM: Params = Params {
    irt: secs(1),
    mrt: secs(3600),
    mrc: 0,
    mrd: None,
};
/// REL_TIMEOUT, REL_MAX_RC.
pub const RELEASE: Params = Params {
    irt: secs(1),
    mrt: Duration::ZERO,
    mrc: 4,
    mrd: None,
};
/// DEC_TIMEOUT, DEC_MAX_RC.
pub const DECLINE: Params = Params {
    irt: secs(1),
    mrt: Duration::ZERO,
    mrc: 4,
    mrd: None,
};

/// What the exchange does when its timer falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Send this message; the next step is due at that instant.
    Send(Outgoing6, Instant),
    /// MRC or MRD reached: the exchange failed.
    Failed,
}

/// One message exchange: the message (the same xid every time), and its retransmission
/// bookkeeping. When the next step is due is [`super::Timer6::Retransmit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Exchange {
    pub(super) msg: Outgoing6,
    params: Params,
    /// When the first message went out; None while it waits for its random delay.
    pub(super) started: Option<Instant>,
    rt: Duration,
    /// Messages sent so far.
    pub(super) sent: u32,
    /// MRD as an instant (set at the first message when `params.mrd` is), or the deadline
    /// the exchange was given.
    deadline: Option<Instant>,
}

impl Exchange {
    pub(super) fn new(msg: Outgoing6, params: Params, deadline: Option<Instant>) -> Exchange {
        Exchange {
            msg,
            params,
            started: None,
            rt: Duration::ZERO,
            sent: 0,
            deadline,
        }
    }

    pub(super) fn xid(&self) -> u32 {
        self.msg.xid
    }

    /// The step due at `now`: the first message, a retransmission, or the failure.
    pub(super) fn step(&mut self, now: Instant, mrt: Duration, rng: &mut fastrand::Rng) -> Step {
        if self.sent > 0 {
            let counted_out = self.params.mrc != 0 && self.sent >= self.params.mrc;
            if counted_out || self.deadline.is_some_and(|d| now >= d) {
                return Step::Failed;
            }
        }
        if self.sent == 0 {
            self.started = Some(now);
            if let Some(mrd) = self.params.mrd {
                self.deadline = Some(self.deadline.map_or(now + mrd, |d| d.min(now + mrd)));
            }
            // RFC 8415 15: SOLICIT's first RT is strictly greater than IRT.
            let positive = self.msg.kind == crate::v6::Kind6::Solicit;
            self.rt = jittered(self.params.irt, positive, rng);
        } else {
            // 2*RTprev + RAND*RTprev.
            let prev = self.rt;
            self.rt = prev + jittered(prev, false, rng);
            if !mrt.is_zero() && self.rt > mrt {
                self.rt = jittered(mrt, false, rng);
            }
        }
        self.sent += 1;
        self.msg.elapsed = elapsed(self.started, now);
        let mut next = now + self.rt;
        if let Some(d) = self.deadline {
            next = next.min(d);
        }
        Step::Send(self.msg.clone(), next)
    }

    /// The exchange's parameters' MRT (before a server's SOL_MAX_RT or INF_MAX_RT).
    pub(super) fn mrt(&self) -> Duration {
        self.params.mrt
    }
}

/// `rt` + RAND * `rt`, RAND uniform in -0.1..=0.1 (`positive`: in 0..=0.1 and never 0), to
/// a ten-thousandth of `rt` and the microsecond.
pub(super) fn jittered(rt: Duration, positive: bool, rng: &mut fastrand::Rng) -> Duration {
    let per_10k = if positive {
        rng.i64(1..=1000)
    } else {
        rng.i64(-1000..=1000)
    };
    let us = rt.as_micros().min(u128::from(u64::MAX)) as i128;
    let moved = us + us * i128::from(per_10k) / 10_000;
    let moved = Duration::from_micros(moved.clamp(0, i128::from(u64::MAX)) as u64);
    // A RAND > 0 of less than a microsecond still makes RT strictly greater.
    if positive && moved <= rt {
        rt + Duration::from_micros(1)
    } else {
        moved
    }
}

/// RFC 8415 21.9: hundredths of a second since the exchange's first message, at most 0xffff.
pub(super) fn elapsed(started: Option<Instant>, now: Instant) -> u16 {
    let Some(started) = started else {
        return 0;
    };
    let cs = now.saturating_since(started).as_millis() / 10;
    cs.min(u128::from(u16::MAX)) as u16
}
