//! Which replies the client takes, in one place (the shape of systemd's
//! `client_verify_message_header` and `client_handle_offer`/`_ack`/`_nak`):
//!
//! 1. a FORCERENEW is ignored, whoever sends it (RFC 6704's authentication is not supported);
//! 2. [`header`]: an exchange is under way, and the reply is a BOOTREPLY with its xid, for an
//!    Ethernet hardware address of 6 bytes that is ours. A reply that fails it is another
//!    client's (or no reply at all): dropped with a debug line, not counted. (The magic
//!    cookie was checked at the boundary: a message without it never becomes a [`Reply`].)
//! 3. a message type (option 53), or the reply is refused: dropped, and counted toward the
//!    report of why no lease was taken;
//! 4. one handler per state says what the reply is to it ([`Verdict`]): SELECTING takes an
//!    OFFER whose lease passes the lease rules ([`Lease::check_offer`]), or a rapid-commit ACK
//!    when rapid commit is on; REQUESTING an ACK or NAK from the server it chose; RENEWING
//!    from the server of the lease; REBINDING and REBOOTING from any server. An ACK's lease
//!    must pass [`Lease::from_reply`];
//! 5. then what it does: an offer is requested; an ACK's T1 and T2 are fuzzed and its
//!    address probed or bound at once; a NAK takes the lease off and starts over.
//!
//! Everything the reply says option by option was judged before, by [`crate::reply`].

use super::state::{Exchange, Reboot, Router, State};
use super::{default_router, request, secs_since, send, Action, Client, Dest, Reason, Timer, What};
use crate::lease::{Informed, Lease, LeaseError};
use crate::reply::{kind_name, Reply};
use crate::time::Instant;
use dhcproto::v4::{HType, MessageType, Opcode};
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tracing::{debug, info};

/// What a reply is to the state the client is in.
#[derive(Debug)]
enum Verdict {
    /// Not for us, or nothing this state waits for: dropped with this debug line, not
    /// counted.
    Ignore(String),
    /// For us, but refused, and why: dropped and counted.
    Refuse(String),
    /// A FORCERENEW (RFC 3203).
    ForceRenew,
    /// An acceptable offer, from this server.
    Offer(Ipv4Addr),
    /// An acceptable ACK, and its lease.
    Ack(Box<Lease>),
    /// A NAK from a server this state listens to.
    Nak,
    /// Options only: an acceptable ACK to our DHCPINFORM, and its options.
    Informed(Box<Informed>),
}

/// The header check every reply passes first: BOOTREPLY, the exchange's `xid`, hardware
/// type Ethernet, and `hwaddr` as chaddr (hlen 6). Err: why it is not ours, as a debug line.
pub(super) fn header(r: &Reply, xid: u32, hwaddr: &[u8; 6]) -> Result<(), String> {
    if r.op != Opcode::BootReply {
        return Err("dropping a BOOTREQUEST seen on the wire".into());
    }
    if r.xid != xid {
        return Err(format!(
            "dropping a reply with xid {:#010x}, expected {:#010x}",
            r.xid, xid
        ));
    }
    if r.htype != HType::Eth {
        return Err(format!(
            "dropping a reply for hardware type {}",
            u8::from(r.htype)
        ));
    }
    if r.chaddr.len() != hwaddr.len() {
        return Err(format!(
            "dropping a reply with a hardware address of {} bytes",
            r.chaddr.len()
        ));
    }
    if r.chaddr != hwaddr {
        return Err("dropping a reply for another chaddr".into());
    }
    Ok(())
}

impl Client {
    /// Every reply enters here: judged, then handed to what the verdict calls for.
    pub(super) fn receive(&mut self, now: Instant, r: &Reply, out: &mut Vec<Action>) {
        match self.judge(r) {
            Verdict::Ignore(why) => debug!("{why}"),
            Verdict::Refuse(why) => self.refuse(r, why),
            Verdict::ForceRenew => self.forcerenew(r),
            Verdict::Offer(server) => self.take_offer(now, r.yiaddr, server, out),
            Verdict::Ack(lease) => self.take_ack(now, r, *lease, out),
            Verdict::Nak => self.take_nak(now, r, out),
            Verdict::Informed(info) => self.take_informed(now, *info, out),
        }
    }

    /// What `r` is to the state the client is in: steps 1 to 4 of the module's list.
    fn judge(&self, r: &Reply) -> Verdict {
        if r.kind == Some(MessageType::ForceRenew) {
            return Verdict::ForceRenew;
        }
        let not_expecting = || {
            Verdict::Ignore(format!(
                "dropping a reply from {}: not expecting one in {}",
                r.from,
                self.state.name()
            ))
        };
        let Some(x) = self.state.exchange() else {
            return not_expecting();
        };
        if let Err(why) = header(r, x.xid, &self.config.hwaddr) {
            return Verdict::Ignore(why);
        }
        let Some(kind) = r.kind else {
            return Verdict::Refuse(match r.left_out(53) {
                Some(l) => format!("no message type ({})", l.why),
                None => "no message type".to_string(),
            });
        };
        match &self.state {
            State::Selecting { x } => self.selecting(r, kind, x),
            State::Requesting { x, server, .. } => requesting(r, kind, *server, x),
            State::Renewing { x, lease } => renewing(r, kind, lease, x),
            State::Rebinding { x, .. } | State::Rebooting { x, .. } => ack_or_nak(r, kind, x),
            State::Informing { .. } => self.informing(r, kind),
            State::Init
            | State::Probing { .. }
            | State::Bound { .. }
            | State::Released
            | State::Informed => not_expecting(),
        }
    }

    /// SELECTING: the first acceptable OFFER, or a rapid-commit ACK (RFC 4039) when rapid
    /// commit is on.
    fn selecting(&self, r: &Reply, kind: MessageType, x: &Exchange) -> Verdict {
        if kind == MessageType::Ack && r.rapid_commit {
            if !self.config.rapid_commit {
                return Verdict::Ignore("dropping a rapid-commit ACK: rapid commit is off".into());
            }
            return ack_or_nak(r, kind, x);
        }
        if kind != MessageType::Offer {
            return Verdict::Ignore(format!("dropping {} while selecting", kind_name(kind)));
        }
        match (Lease::check_offer(r), r.server_id) {
            (Err(e), _) => Verdict::Refuse(e.to_string()),
            (Ok(()), Some(server)) => Verdict::Offer(server),
            (Ok(()), None) => Verdict::Refuse(LeaseError::NoServerId(None).to_string()),
        }
    }

    /// INFORMING: an ACK from any server (a DHCPINFORM goes to whichever answers), whose
    /// options pass the lease rules that apply to options ([`Informed::from_reply`]). A NAK
    /// is not an answer to DHCPINFORM (RFC 2131 4.3.5: the server sends an ACK, or nothing),
    /// and nothing else is either: dropped.
    fn informing(&self, r: &Reply, kind: MessageType) -> Verdict {
        let Some(inform) = &self.config.inform else {
            return Verdict::Ignore("dropping a reply: not informing".into());
        };
        if kind != MessageType::Ack {
            return Verdict::Ignore(format!(
                "dropping {} from {}: a DHCPINFORM is answered with an ACK",
                kind_name(kind),
                r.from
            ));
        }
        match Informed::from_reply(r, inform.address, inform.prefix_len) {
            Ok(info) => Verdict::Informed(Box::new(info)),
            Err(e) => Verdict::Refuse(e.to_string()),
        }
    }

    /// A reply to us refused: logged, and counted for the report of why no lease was taken.
    fn refuse(&mut self, r: &Reply, why: impl fmt::Display) {
        let kind = r.kind.map(kind_name).unwrap_or_else(|| "reply".into());
        debug!("dropping {kind} from {}: {why}", r.from);
        self.tally.add(What::Refused, r.from, why);
    }

    /// RFC 3203 without RFC 6704's authentication lets anyone on the segment make the client
    /// renew at will; dhcpc does not implement the nonce exchange, so it ignores every
    /// FORCERENEW (and renews at T1 as ever). The first is said at info, the rest at debug.
    fn forcerenew(&mut self, r: &Reply) {
        self.forcerenews = self.forcerenews.saturating_add(1);
        let text = format!(
            "ignoring FORCERENEW from {}: unauthenticated (RFC 6704 is not supported)",
            r.from
        );
        if self.forcerenews == 1 {
            info!("{text}");
        } else {
            debug!("{text}");
        }
    }

    /// An offer of `offered` by `server` taken: REQUEST it (RFC 2131 4.4.1: with the `secs` of
    /// the DISCOVER it answered), and wait in REQUESTING.
    fn take_offer(
        &mut self,
        now: Instant,
        offered: Ipv4Addr,
        server: Ipv4Addr,
        out: &mut Vec<Action>,
    ) {
        let State::Selecting { x } = &self.state else {
            return;
        };
        info!("offered {offered} by {server}");
        let secs = secs_since(x.started, x.sent);
        let x = Exchange {
            attempts: 1,
            sent: now,
            ..x.clone()
        };
        let msg = request::request_selecting(&self.config, x.xid, secs, offered, server);
        out.push(send(msg, Dest::Broadcast));
        let at = now + self.backoff(1);
        let state = State::Requesting {
            x,
            offered,
            server,
            secs,
        };
        self.goto(state, Some((Timer::Retransmit, at)));
    }

    /// An ACK taken: its T1 and T2 fuzzed; a renewal of the address in use (or its
    /// confirmation after carrier came back) binds at once, a new address is probed first.
    fn take_ack(&mut self, now: Instant, r: &Reply, mut lease: Lease, out: &mut Vec<Action>) {
        self.fuzz_renewal(&mut lease);
        self.learn_router(r, &lease);
        let same = match &self.state {
            State::Renewing { lease: cur, .. }
            | State::Rebinding { lease: cur, .. }
            | State::Rebooting {
                lease: cur,
                why: Reboot::Carrier { .. },
                ..
            } => cur.address == lease.address,
            _ => false,
        };
        if same {
            self.bind(now, Arc::new(lease), false, out);
        } else {
            self.probe_or_bind(now, Arc::new(lease), out);
        }
    }

    /// A NAK taken: the lease held (a saved one being confirmed too) is taken off, and the
    /// client starts over: at once the first time, after a growing pause when a server keeps
    /// refusing (so that a NAK storm cannot make it flood the link).
    fn take_nak(&mut self, now: Instant, r: &Reply, out: &mut Vec<Action>) {
        self.naks += 1;
        let text = r.message.clone().unwrap_or_default();
        info!("NAK from {}: {text}; starting over", r.from);
        self.tally.add(What::Nak, r.from, &text);
        self.deconfigure(Reason::Nak, out);
        if self.naks <= 1 {
            self.discover(now, out);
        } else {
            let at = now + self.config.retry.backoff(self.naks - 1);
            self.goto(State::Init, Some((Timer::Restart, at)));
        }
    }

    /// The router of `lease` at the MAC the ACK came from, when the router itself sent it (it
    /// served or relayed the lease: home routers, relay agents on the gateway), for RFC 4436
    /// once carrier comes back. Learned this way it costs no packet; a lease that came some
    /// other way is confirmed with INIT-REBOOT alone.
    fn learn_router(&mut self, r: &Reply, lease: &Lease) {
        let router = default_router(lease);
        self.router = match (router, r.from_mac) {
            (Some(ip), Some(mac)) if ip == r.from => Some(Router { ip, mac }),
            // A renewal answered by a server that is not the router leaves what was learned.
            _ => self.router.filter(|known| router == Some(known.ip)),
        };
    }
}

/// REQUESTING: an ACK or NAK from the server chosen, and no other (a reply that names none
/// because its option 54 was left out is refused, saying why).
fn requesting(r: &Reply, kind: MessageType, server: Ipv4Addr, x: &Exchange) -> Verdict {
    if let (None, Some(bad)) = (r.server_id, r.left_out(54)) {
        return Verdict::Refuse(format!("no server identifier ({})", bad.why));
    }
    if r.server_id != Some(server) {
        return Verdict::Ignore(format!(
            "dropping {} from {} ({}): we chose server {server}",
            kind_name(kind),
            r.from,
            server_of(r)
        ));
    }
    ack_or_nak(r, kind, x)
}

/// RENEWING: an ACK or NAK from the lease's server (one that names no server is taken too).
fn renewing(r: &Reply, kind: MessageType, lease: &Lease, x: &Exchange) -> Verdict {
    if r.server_id.is_some_and(|s| s != lease.server_id) {
        return Verdict::Ignore(format!(
            "dropping {} from {} ({}): renewing with server {}",
            kind_name(kind),
            r.from,
            server_of(r),
            lease.server_id
        ));
    }
    ack_or_nak(r, kind, x)
}

/// An answer to one of our REQUESTs: an ACK whose lease passes the lease rules (it starts
/// when the REQUEST was sent, RFC 2131 4.4.1), or a NAK; anything else is dropped.
fn ack_or_nak(r: &Reply, kind: MessageType, x: &Exchange) -> Verdict {
    match kind {
        MessageType::Ack => match Lease::from_reply(r, x.sent) {
            Ok(lease) => Verdict::Ack(Box::new(lease)),
            Err(e) => Verdict::Refuse(e.to_string()),
        },
        MessageType::Nak => Verdict::Nak,
        other => Verdict::Ignore(format!(
            "dropping {}: expecting ACK or NAK",
            kind_name(other)
        )),
    }
}

/// The server a reply names (option 54), for a log line: its source may be a relay agent.
fn server_of(r: &Reply) -> String {
    match r.server_id {
        Some(s) => format!("server {s}"),
        None => "no server identifier".to_string(),
    }
}
