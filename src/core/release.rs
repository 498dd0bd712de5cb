//! The end of a client: giving the lease back (DHCPRELEASE), or stopping with the lease kept.

use super::state::State;
use super::{request, send, Action, Client, Dest, Reason, TimerTable, Transition};

impl Client {
    /// Gives back whatever lease the server thinks is ours, and removes what the interface
    /// holds. The client is done.
    pub(super) fn release(&mut self, out: &mut Vec<Action>) {
        if self.config.inform.is_some() {
            // Nothing is leased: no DHCPRELEASE, and no saved lease to forget; what the
            // options put on the interface goes.
            self.drop_options(Reason::Released, out);
            self.timers = TimerTable::default();
            return;
        }
        let state = std::mem::replace(&mut self.state, State::Released);
        let granted = match &state {
            State::Bound { lease }
            | State::Renewing { lease, .. }
            | State::Rebinding { lease, .. }
            | State::Rebooting { lease, .. }
            | State::Probing { lease, .. } => Some(lease),
            _ => None,
        };
        if let Some(lease) = granted {
            // Unicast from the address when the interface holds it (RFC 2131 4.4.6); one being
            // probed, or a saved one that may be gone, has no address to send from: broadcast.
            let holds_it = matches!(
                state,
                State::Bound { .. } | State::Renewing { .. } | State::Rebinding { .. }
            );
            let dest = if holds_it {
                Dest::Unicast(lease.server_id)
            } else {
                Dest::Broadcast
            };
            let xid = self.rng.u32(..);
            out.push(send(request::release(&self.config, xid, lease), dest));
        }
        if let Some(ll) = &mut self.link_local {
            ll.stop(out);
        }
        let held = self.held.is_some();
        self.deconfigure(Reason::Released, out);
        if !held {
            out.push(Action::ForgetLease);
        }
        self.timers = TimerTable::default();
    }

    /// [`super::Event::Stop`]: done, the lease stays as it is (a link-local address, which
    /// nobody would defend, goes) and nothing more is due; STOP tells of it, with the lease
    /// the interface keeps.
    pub(super) fn stop(&mut self, out: &mut Vec<Action>) {
        if let Some(ll) = &mut self.link_local {
            ll.stop(out);
        }
        self.stopped = true;
        self.timers = TimerTable::default();
        out.push(Action::Notify {
            transition: Transition::Stop,
            lease: self.held.as_deref().cloned(),
        });
    }
}
