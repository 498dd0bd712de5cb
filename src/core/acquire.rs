//! Getting a lease: INIT, SELECTING, REQUESTING and INIT-REBOOT, and the retransmission
//! schedule of every exchange.

use super::*;

impl Client {
    pub(super) fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(wait) = self.config.acquire_timeout {
            self.acquiring = Some(now + wait);
            self.timers.set(Timer::AcquireTimeout, now + wait);
        }
        match self.saved.take().map(|b| *b) {
            Some(lease) if lease.expires_at().is_none_or(|end| end > now) => {
                info!(
                    "asking again for saved lease {} (INIT-REBOOT)",
                    lease.address
                );
                // An earlier process may have left it on the interface: it counts as held,
                // so that a NAK or silence removes it.
                let lease = Arc::new(lease);
                self.held = Some(lease.clone());
                self.reboot(now, lease, Reboot::Saved, REBOOT_WAIT / 2, out);
            }
            _ => self.discover(now, out),
        }
    }

    /// Asks for `lease` again with INIT-REBOOT (a broadcast REQUEST for its address, with no
    /// server identifier); the next step after `wait`.
    pub(super) fn reboot(
        &mut self,
        now: Instant,
        lease: Arc<Lease>,
        why: Reboot,
        wait: Duration,
        out: &mut Vec<Action>,
    ) {
        let x = self.new_exchange(now);
        let msg = request::request_reboot(&self.config, x.xid, 0, lease.address);
        out.push(send(msg, Dest::Broadcast));
        self.goto(
            State::Rebooting { x, lease, why },
            Some((Timer::Retransmit, now + wait)),
        );
    }

    pub(super) fn new_exchange(&mut self, now: Instant) -> Exchange {
        Exchange {
            xid: self.rng.u32(..),
            started: now,
            sent: now,
            attempts: 1,
        }
    }

    /// A backoff randomised by ±1 s (RFC 2131 4.1).
    pub(super) fn jittered(&mut self, base: Duration) -> Duration {
        let jitter = self.rng.i64(-1000..=1000);
        let ms = base.as_millis() as i64 + jitter;
        Duration::from_millis(ms.max(0) as u64)
    }

    pub(super) fn discover(&mut self, now: Instant, out: &mut Vec<Action>) {
        let x = self.new_exchange(now);
        out.push(send(
            request::discover(&self.config, x.xid, 0),
            Dest::Broadcast,
        ));
        let at = now + self.jittered(backoff_base(1));
        self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
    }

    /// [`Timer::Retransmit`]: the exchange in progress sends again, or gives up.
    pub(super) fn retransmit(&mut self, now: Instant, out: &mut Vec<Action>) {
        let state = std::mem::replace(&mut self.state, State::Released);
        match state {
            State::Selecting { mut x } => {
                x.attempts += 1;
                x.sent = now;
                let msg = request::discover(&self.config, x.xid, secs_since(x.started, now));
                out.push(send(msg, Dest::Broadcast));
                debug!("no offer yet; DISCOVER #{}", x.attempts);
                let at = now + self.jittered(backoff_base(x.attempts));
                self.goto(State::Selecting { x }, Some((Timer::Retransmit, at)));
            }
            State::Requesting {
                mut x,
                offered,
                server,
                secs,
            } => {
                if x.attempts >= MAX_REQUESTS {
                    info!(
                        "no answer from {server} to {} REQUESTs; starting over",
                        x.attempts
                    );
                    self.tally.add(What::Unanswered, server, "");
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let msg = request::request_selecting(&self.config, x.xid, secs, offered, server);
                out.push(send(msg, Dest::Broadcast));
                let at = now + self.jittered(backoff_base(x.attempts));
                let state = State::Requesting {
                    x,
                    offered,
                    server,
                    secs,
                };
                self.goto(state, Some((Timer::Retransmit, at)));
            }
            State::Rebooting {
                x,
                lease,
                why: Reboot::Carrier { dna: Some(r) },
            } if now >= x.started + DNA_WAIT => {
                info!(
                    "no answer from router {} nor from a server within {} s of carrier: \
                     another network; starting over",
                    r.ip,
                    DNA_WAIT.as_secs()
                );
                let _ = (x, lease);
                self.deconfigure(Reason::Moved, out);
                self.discover(now, out);
            }
            State::Rebooting { mut x, lease, why } => {
                if now >= x.started + REBOOT_WAIT {
                    info!("no answer for saved lease {}; starting over", lease.address);
                    self.deconfigure(Reason::Unconfirmed, out);
                    self.discover(now, out);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_reboot(&self.config, x.xid, secs, lease.address);
                out.push(send(msg, Dest::Broadcast));
                let at = match why {
                    Reboot::Carrier { dna: Some(_) } => x.started + DNA_WAIT,
                    _ => x.started + REBOOT_WAIT,
                };
                self.goto(
                    State::Rebooting { x, lease, why },
                    Some((Timer::Retransmit, at)),
                );
            }
            State::Renewing { mut x, lease } => {
                if lease.is_infinite() && x.attempts >= MAX_REQUESTS {
                    info!(
                        "no answer to the renewal of {}; the infinite lease stays",
                        lease.address
                    );
                    self.goto(State::Bound { lease }, None);
                    return;
                }
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_bound(&self.config, x.xid, secs, &lease);
                out.push(send(msg, Dest::Unicast(lease.server_id)));
                let step = renew_retry(now, lease.rebind_at()).map(|at| (Timer::Retransmit, at));
                self.goto(State::Renewing { x, lease }, step);
            }
            State::Rebinding { mut x, lease } => {
                x.attempts += 1;
                x.sent = now;
                let secs = secs_since(x.started, now);
                let msg = request::request_bound(&self.config, x.xid, secs, &lease);
                out.push(send(msg, Dest::Broadcast));
                let step = renew_retry(now, lease.expires_at()).map(|at| (Timer::Retransmit, at));
                self.goto(State::Rebinding { x, lease }, step);
            }
            other => self.state = other,
        }
    }

    /// Why no lease yet: the tally, and what the state is waiting for.
    pub(super) fn no_lease(&self) -> NoLease {
        let mut why = self.tally.report();
        let waiting = match &self.state {
            State::Requesting {
                offered, server, ..
            } => Some(format!("{offered} offered by {server}, no ACK yet")),
            State::Probing { lease, .. } => {
                Some(format!("still checking {} for conflicts", lease.address))
            }
            _ => None,
        };
        if let Some(w) = waiting {
            why.causes.push(w);
        }
        why
    }
}
