//! Which replies the client takes, and what an ACK or NAK does.

use super::*;

impl Client {
    /// Validation shared by every reply: op, xid, chaddr. Replies that fail it are for another
    /// client (or not replies at all): dropped with a debug line, not counted.
    pub(super) fn is_ours(&self, r: &Reply, xid: u32) -> bool {
        if r.op != Opcode::BootReply {
            debug!("dropping a BOOTREQUEST seen on the wire");
            return false;
        }
        if r.xid != xid {
            debug!(
                "dropping a reply with xid {:#010x}, expected {:#010x}",
                r.xid, xid
            );
            return false;
        }
        if r.chaddr.get(..6) != Some(&self.config.hwaddr[..]) {
            debug!("dropping a reply for another chaddr");
            return false;
        }
        true
    }

    /// A reply to us refused: logged, and counted for the report of why no lease was taken.
    pub(super) fn refuse(&mut self, r: &Reply, why: impl fmt::Display) {
        let kind = r.kind.map(kind_name).unwrap_or_else(|| "reply".into());
        debug!("dropping {kind} from {}: {why}", r.from);
        self.tally.add(What::Refused, r.from, why);
    }

    pub(super) fn receive(&mut self, now: Instant, r: &Reply, out: &mut Vec<Action>) {
        if r.kind == Some(MessageType::ForceRenew) {
            // RFC 3203 without RFC 6704's authentication lets anyone on the segment make the
            // client renew at will; dhcpc does not implement the nonce exchange, so it ignores
            // every FORCERENEW (and renews at T1 as ever).
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
            return;
        }
        let Some(x) = self.state.exchange() else {
            debug!(
                "dropping a reply from {}: not expecting one in {}",
                r.from,
                self.state.name()
            );
            return;
        };
        if !self.is_ours(r, x.xid) {
            return;
        }
        let Some(kind) = r.kind else {
            let why = match r.left_out(53) {
                Some(l) => format!("no message type ({})", l.why),
                None => "no message type".to_string(),
            };
            self.refuse(r, why);
            return;
        };
        match &self.state {
            State::Selecting { .. } if kind == MessageType::Ack && r.rapid_commit => {
                // RFC 4039: the server committed the lease to the DISCOVER.
                if !self.config.rapid_commit {
                    debug!("dropping a rapid-commit ACK: rapid commit is off");
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Selecting { x } => {
                if kind != MessageType::Offer {
                    debug!("dropping {} while selecting", kind_name(kind));
                    return;
                }
                let server = match Lease::check_offer(r).map(|_| r.server_id) {
                    Ok(Some(server)) => server,
                    Ok(None) => return,
                    Err(e) => return self.refuse(r, e),
                };
                info!("offered {} by {server}", r.yiaddr);
                let secs = secs_since(x.started, x.sent);
                let x = Exchange {
                    attempts: 1,
                    sent: now,
                    ..x.clone()
                };
                let msg = request::request_selecting(&self.config, x.xid, secs, r.yiaddr, server);
                out.push(send(msg, Dest::Broadcast));
                let at = now + self.jittered(backoff_base(1));
                let state = State::Requesting {
                    x,
                    offered: r.yiaddr,
                    server,
                    secs,
                };
                self.goto(state, Some((Timer::Retransmit, at)));
            }
            State::Requesting { server, .. } => {
                if let (None, Some(bad)) = (r.server_id, r.left_out(54)) {
                    let why = format!("no server identifier ({})", bad.why);
                    return self.refuse(r, why);
                }
                if r.server_id != Some(*server) {
                    debug!(
                        "dropping {} from {} ({}): we chose server {server}",
                        kind_name(kind),
                        r.from,
                        server_of(r)
                    );
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Renewing { lease, .. } => {
                if r.server_id.is_some_and(|s| s != lease.server_id) {
                    debug!(
                        "dropping {} from {} ({}): renewing with server {}",
                        kind_name(kind),
                        r.from,
                        server_of(r),
                        lease.server_id
                    );
                    return;
                }
                self.answer(now, kind, r, out);
            }
            State::Rebooting { .. } | State::Rebinding { .. } => self.answer(now, kind, r, out),
            _ => {}
        }
    }

    /// An ACK or NAK to one of our REQUESTs.
    pub(super) fn answer(
        &mut self,
        now: Instant,
        kind: MessageType,
        r: &Reply,
        out: &mut Vec<Action>,
    ) {
        match kind {
            MessageType::Ack => {
                let sent = self.state.exchange().map_or(now, |x| x.sent);
                let lease = match Lease::from_reply(r, sent) {
                    Ok(lease) => lease,
                    Err(e) => return self.refuse(r, e),
                };
                self.learn_router(r, &lease);
                // A renewal of the address in use needs no probe; a new address does.
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
                    self.bind(now, lease.into(), false, out);
                } else {
                    self.probe_or_bind(now, lease.into(), out);
                }
            }
            MessageType::Nak => {
                self.naks += 1;
                let text = r.message.clone().unwrap_or_default();
                info!("NAK from {}: {text}; starting over", r.from);
                self.tally.add(What::Nak, r.from, &text);
                self.deconfigure(Reason::Nak, out);
                // The first NAK restarts at once; a server that keeps refusing is asked again
                // only after a growing pause, so a NAK storm cannot make us flood the link.
                if self.naks <= 1 {
                    self.discover(now, out);
                } else {
                    let at = now + backoff_base(self.naks - 1);
                    self.goto(State::Init, Some((Timer::Restart, at)));
                }
            }
            other => debug!("dropping {}: expecting ACK or NAK", kind_name(other)),
        }
    }

    /// The router of `lease` at the MAC the ACK came from, when the router itself sent it (it
    /// served or relayed the lease: home routers, relay agents on the gateway), for RFC 4436
    /// once carrier comes back. Learned this way it costs no packet; a lease that came some
    /// other way is confirmed with INIT-REBOOT alone.
    pub(super) fn learn_router(&mut self, r: &Reply, lease: &Lease) {
        let router = default_router(lease);
        self.router = match (router, r.from_mac) {
            (Some(ip), Some(mac)) if ip == r.from => Some(Router { ip, mac }),
            // A renewal answered by a server that is not the router leaves what was learned.
            _ => self.router.filter(|known| router == Some(known.ip)),
        };
    }
}

/// The server a reply names (option 54), for a log line: its source may be a relay agent.
fn server_of(r: &Reply) -> String {
    match r.server_id {
        Some(s) => format!("server {s}"),
        None => "no server identifier".to_string(),
    }
}
