//! Which messages the client takes, in one place:
//!
//! 1. a RECONFIGURE is ignored, whoever sends it (RFC 8415 18.2.11 requires authentication,
//!    which is not supported); a client's message seen on the link is not for us;
//! 2. [`header`]: an exchange is under way and has sent, the message carries its xid, echoes
//!    our DUID (option 1: RFC 8415 16.10 and 16.11 have the client discard one that does
//!    not) and names its server (option 2). One with another xid is another client's:
//!    dropped with a debug line, not counted; the rest are counted toward the report of why
//!    no lease was taken;
//! 3. SOL_MAX_RT and INF_MAX_RT (options 82, 83) are taken from any message that passed,
//!    even an ADVERTISE then ignored (RFC 8415 18.2.9);
//! 4. one handler per state: SOLICIT takes ADVERTISEs (and a Rapid Commit REPLY), REQUEST,
//!    RENEW, DECLINE and RELEASE a REPLY from the server they went to, REBIND, CONFIRM and
//!    INFORMATION-REQUEST a REPLY from any server.
//!
//! Everything the message says option by option was judged before, by the parser.

use super::config::MAX_RT_RANGE;
use super::retrans::Exchange;
use super::state::State6;
use super::{Action6, Client6};
use crate::time::Instant;
use crate::v6::{Kind6, Reply6};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::{debug, info};

/// Option codes of SOL_MAX_RT and INF_MAX_RT (RFC 8415 21.24, 21.25).
const SOL_MAX_RT: u16 = 82;
const INF_MAX_RT: u16 = 83;

/// The check every message passes first, against the exchange `x` and our `duid`. Err: why
/// it is not taken, and whether that counts (false: another client's).
pub(super) fn header(r: &Reply6, x: &Exchange, duid: &[u8]) -> Result<(), (String, bool)> {
    if x.sent == 0 {
        return Err(("nothing sent yet".into(), false));
    }
    if r.xid != x.xid() {
        return Err((
            format!("xid {:#08x}, expected {:#08x}", r.xid, x.xid()),
            false,
        ));
    }
    if r.client_id.as_deref() != Some(duid) {
        return Err(("it does not carry our client id".into(), true));
    }
    if r.server_id.is_none() {
        return Err(("it carries no server id".into(), true));
    }
    Ok(())
}

/// A server's SOL_MAX_RT or INF_MAX_RT (option `code`), when it is within 60..=86400 s.
fn max_rt(r: &Reply6, code: u16) -> Option<Duration> {
    let (_, data) = r.options.iter().find(|(c, _)| *c == code)?;
    let secs = u32::from_be_bytes(data.as_slice().try_into().ok()?);
    MAX_RT_RANGE
        .contains(&secs)
        .then(|| Duration::from_secs(u64::from(secs)))
}

impl Client6 {
    /// A server's message, parsed: taken or dropped, in one place.
    pub(super) fn receive(
        &mut self,
        now: Instant,
        r: &Reply6,
        from: Ipv6Addr,
        out: &mut Vec<Action6>,
    ) {
        match r.kind {
            Kind6::Advertise | Kind6::Reply => {}
            Kind6::Reconfigure => {
                self.reconfigures = self.reconfigures.saturating_add(1);
                if self.reconfigures == 1 {
                    info!("ignoring RECONFIGURE from {from}: no authentication (RFC 8415 18.2.11)");
                } else {
                    debug!("ignoring RECONFIGURE from {from}");
                }
                return;
            }
            other => return debug!("dropping a {other} from {from}: a client's message"),
        }
        let Some(x) = self.state.exchange() else {
            return debug!("dropping a {} from {from}: no exchange under way", r.kind);
        };
        if let Err((why, counts)) = header(r, x, &self.config.duid) {
            debug!("dropping a {} from {from}: {why}", r.kind);
            if counts {
                self.tally
                    .drop_one(format!("{} from {from}: {why}", r.kind));
            }
            return;
        }
        if let Some(rt) = max_rt(r, SOL_MAX_RT) {
            self.sol_max_rt = rt;
        }
        if let Some(rt) = max_rt(r, INF_MAX_RT) {
            self.inf_max_rt = rt;
        }
        self.dispatch(now, r, from, out);
    }

    /// The state's handler, for a message that passed [`header`].
    fn dispatch(&mut self, now: Instant, r: &Reply6, from: Ipv6Addr, out: &mut Vec<Action6>) {
        let Some(x) = self.state.exchange() else {
            return;
        };
        let started = x.started.unwrap_or(now);
        let kind = x.msg.kind;
        let same_server = x.msg.server_id.is_none() || x.msg.server_id == r.server_id;
        if r.kind == Kind6::Advertise && kind != Kind6::Solicit {
            return debug!("dropping an ADVERTISE from {from}: not soliciting");
        }
        if !same_server {
            debug!("dropping a REPLY from {from}: another server than the one asked");
            return self
                .tally
                .drop_one(format!("REPLY from {from} of another server"));
        }
        match &self.state {
            State6::Soliciting { .. } if r.kind == Kind6::Advertise => {
                self.advertised(now, r, from, out)
            }
            State6::Soliciting { .. } => self.rapid(now, r, from, started, out),
            State6::Requesting { .. } => self.requested(now, r, from, started, out),
            State6::Renewing { .. } | State6::Rebinding { .. } => {
                self.renewed(now, r, from, started, out)
            }
            State6::Confirming { why, .. } => {
                let why = *why;
                self.confirmed(now, r, from, started, why, out)
            }
            State6::Declining { .. } => self.declined(now, out),
            State6::Informing { .. } => self.informed(now, r, from, started, out),
            State6::Releasing { .. } => {
                info!("release acknowledged by {from}");
                self.finish(out)
            }
            State6::Idle | State6::Bound | State6::Informed | State6::Stopped => {}
        }
    }
}
