//! What crosses between the DHCPv6 core and the shell: the events it is told ([`Event6`]) and
//! the actions it returns ([`Action6`]). Every action that changes what the interface holds,
//! or that tells of a change, names its [`Transition6`].

use super::report::NoLease6;
use super::transition::{Reason6, Transition6};
use crate::v6::{Lease6, Outgoing6, Reply6};
use std::net::Ipv6Addr;

/// What happened, as the shell tells the core.
#[derive(Debug)]
pub enum Event6<'a> {
    /// Begin: PREINIT6, then a saved lease is confirmed, or a SOLICIT (or, stateless, an
    /// INFORMATION-REQUEST) goes out after its random delay.
    Start,
    /// `poll_at()` was reached. Calling it early is harmless.
    Tick,
    /// A server's message arrived on port 546, parsed into a typed reply; `from` is its IPv6
    /// source (the server's or a relay's link-local address).
    Reply { reply: &'a Reply6, from: Ipv6Addr },
    /// A message arrived that could not be read at all; it only counts toward the report of
    /// why no lease was taken.
    Unreadable { from: Ipv6Addr, why: String },
    /// The link can carry traffic (`true`: up, with carrier) or no longer can. Told on every
    /// change; telling the same state again is harmless.
    Link { carrier: bool },
    /// The kernel flagged this address of ours IFA_F_DADFAILED: another host uses it. It is
    /// declined (RFC 8415 18.2.8).
    DadFailed(Ipv6Addr),
    /// The shell could not apply [`Action6::Configure`] of this lease; the text says why.
    ConfigureFailed { lease: &'a Lease6, why: String },
    /// The user asked to renew now (stateless: to ask for the configuration again).
    Renew,
    /// Give the lease back (RELEASE) and finish.
    Release,
    /// Stop, the interface keeping what it holds.
    Stop,
    /// The interface was removed: what it held went with it. The client is done.
    Gone,
}

/// What the shell must do.
// A batch of actions lives for one event; boxing the leases would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action6 {
    /// Send this message from the link-local address, port 546, to
    /// All_DHCP_Relay_Agents_and_Servers (ff02::1:2), port 547, on the interface. The core
    /// always uses multicast: it never unicasts to a server, even one that sent option 12
    /// (RFC 8415 18.2.10 allows a client that; multicast always reaches the same servers).
    /// The encoder adds the client's DUID (option 1).
    Send(Outgoing6),
    /// Make the interface hold `lease`: each IA_NA address as a /128 with its preferred and
    /// valid lifetimes, each delegated prefix (its unreachable route), DNS, search list.
    /// `previous` is what it holds now (as the core last told it): whatever of it `lease`
    /// does not keep goes. BOUND6, RENEW6, REBIND6, INFORM6; or EXPIRE6 when some addresses
    /// or prefixes ran out (or were declined) and the rest stay.
    Configure {
        lease: Lease6,
        previous: Option<Lease6>,
        transition: Transition6,
    },
    /// Remove everything `lease` put on the interface; it then holds nothing of ours.
    /// EXPIRE6, RELEASE6 or STOP6 ([`Reason6::transition`]).
    Deconfigure {
        lease: Lease6,
        reason: Reason6,
        transition: Transition6,
    },
    /// Put back on the interface whatever of `lease` (which it is meant to hold already) the
    /// kernel dropped while the link was down; the record does not change. Carrier came back
    /// and the lease is being confirmed. For a hook script that configures the interface
    /// itself this is BOUND6 (the word dhclient uses for a lease confirmed again).
    Reapply {
        lease: Lease6,
        transition: Transition6,
    },
    /// A transition that changes nothing the core holds, for whoever watches: PREINIT6 at
    /// [`Event6::Start`] (no lease); DEPREF6 with the addresses and prefixes whose preferred
    /// lifetime just passed (only those, within their IAs: the kernel deprecates them itself);
    /// STOP6 with what the interface keeps.
    Notify {
        transition: Transition6,
        lease: Option<Lease6>,
    },
    /// Save this lease (dhclient's lease6 file), so that a restart confirms it.
    SaveLease(Lease6),
    /// Delete the saved lease.
    ForgetLease,
    /// No lease (stateless: no answer) within the acquire timeout, and why. The client goes on
    /// trying.
    NoLease(NoLease6),
    /// The client has finished (released, stopped, or its interface went): nothing more is
    /// due, the shell may let it go.
    Done,
}
