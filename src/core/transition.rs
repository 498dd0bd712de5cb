//! The transitions the core names, and why a lease is taken off.
//!
//! Every action that changes what the interface holds ([`super::Action::Configure`],
//! [`super::Action::Deconfigure`], [`super::Action::Reapply`]) or only tells of a change
//! ([`super::Action::Notify`]) carries its [`Transition`], decided here in the core. The shell
//! maps it to dhclient-script's word ([`crate::hookenv::Reason`]) and infers nothing itself:
//! not from the state it saw before, nor from the addresses of the leases.

use std::fmt;

/// A transition of the client, in dhclient-script's terms (RFC 2131's states seen from
/// outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The client starts, before anything is sent: the interface is to be made ready.
    Preinit,
    /// A new lease is bound (a new address, or the first one).
    Bound,
    /// The lease was renewed with its server (RENEWING).
    Renew,
    /// The lease was renewed with another server (REBINDING).
    Rebind,
    /// A lease the interface held was confirmed again with INIT-REBOOT: a saved one at start,
    /// or the one in force when carrier came back (and put back on the interface then).
    Reboot,
    /// The lease ended: it ran out, the link is on another network, another host uses the
    /// address, the server moved the lease to an address in use; or an earlier run left it on
    /// the interface and it is not asked for again.
    Expire,
    /// A server refused the lease (DHCPNAK).
    Nak,
    /// The lease was given back (DHCPRELEASE).
    Release,
    /// The client stops and the interface keeps the lease; or the interface was removed.
    Stop,
    /// No lease within the acquire timeout; or the one held could not be used: a saved lease
    /// no server confirmed, or one the system refused to configure.
    Fail,
    /// No server answered within the acquire timeout, and the saved lease, still valid, is
    /// used instead ([`super::Config::last_lease`]); a script that configures the interface
    /// may refuse it (dhclient-script does when the lease's router does not answer a ping).
    Timeout,
    /// Options only (RFC 2131 3.4): a server's ACK to our DHCPINFORM gave the options of a
    /// host whose address was set by hand (dhcpcd's reason INFORM; dhclient has none).
    Inform,
}

/// Why a lease is taken off the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Expired,
    Nak,
    Released,
    /// A saved lease that no server confirmed at start (INIT-REBOOT unanswered).
    Unconfirmed,
    /// The server moved the lease to another address, and another host holds that one.
    Declined,
    /// The system refused to configure it.
    NotApplied,
    /// The saved lease fallen back on at the acquire timeout was refused by the hook script.
    NotConfirmed,
    /// Carrier came back on another network: the router or a server said so, or nothing
    /// there answered (RFC 4436).
    Moved,
    /// The interface was removed (the kernel took the address and routes with it).
    Gone,
    /// Another host kept claiming the address in use (RFC 5227 2.4).
    Conflict,
    /// A lease an earlier run left on the interface (the daemon stopped with `-x`), which is
    /// not asked for again: it was leased to another hardware address, or it has run out.
    Stale,
}

impl Reason {
    /// The transition that taking a lease off for this reason is.
    pub fn transition(self) -> Transition {
        match self {
            Reason::Nak => Transition::Nak,
            Reason::Released => Transition::Release,
            Reason::Unconfirmed | Reason::NotApplied | Reason::NotConfirmed => Transition::Fail,
            Reason::Gone => Transition::Stop,
            Reason::Expired
            | Reason::Moved
            | Reason::Declined
            | Reason::Conflict
            | Reason::Stale => Transition::Expire,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Expired => "lease expired",
            Reason::Nak => "server sent NAK",
            Reason::Released => "released",
            Reason::Unconfirmed => "saved lease not confirmed",
            Reason::Declined => "the new address offered is in use",
            Reason::NotApplied => "could not be configured",
            Reason::NotConfirmed => "the saved lease fallen back on was refused by the hook script",
            Reason::Moved => "the link is on another network now",
            Reason::Gone => "the interface was removed",
            Reason::Conflict => "another host uses the address",
            Reason::Stale => "left by an earlier run, not asked for again",
        })
    }
}
