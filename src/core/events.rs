//! What crosses between the core and the shell: the events it is told ([`Event`]) and the
//! actions it returns ([`Action`]). Every action that changes what the interface holds, or
//! that tells of a change, names its [`Transition`].

use super::report::NoLease;
use super::transition::{Reason, Transition};
use crate::frame::ArpSeen;
use crate::lease::{Informed, Lease};
use crate::reply::Reply;
use dhcproto::v4::Message;
use std::net::Ipv4Addr;

/// What happened, as the shell tells the core.
#[derive(Debug)]
pub enum Event<'a> {
    /// Begin acquiring a lease (from a saved lease when one was given, else from INIT).
    Start,
    /// A DHCP message arrived on the interface, parsed into a typed reply.
    Reply(&'a Reply),
    /// A DHCP message arrived that could not be read at all (a framing error); it only counts
    /// toward the report of why no lease was taken.
    Unreadable { from: Ipv4Addr, why: String },
    /// `poll_at()` was reached. Calling it early is harmless.
    Tick,
    /// The user asked to renew now.
    Renew,
    /// Give the lease back (DHCPRELEASE) and stop.
    Release,
    /// Stop, keeping the lease (a link-local address, which nobody would defend, goes).
    Stop,
    /// An ARP packet seen on the interface while probing.
    Arp(ArpSeen),
    /// The shell could not apply [`Action::Configure`] of this lease (the kernel refused it);
    /// the text says why.
    ConfigureFailed { lease: &'a Lease, why: String },
    /// The link can carry traffic (`true`: up, with carrier) or no longer can. Told on every
    /// change; telling the same state again is harmless.
    Link { carrier: bool },
    /// The interface was removed: what it held went with it. The client is done.
    Gone,
    /// The hook script that configures the interface (`--script-configures`) refused this
    /// lease, which it was given to apply: decline it.
    ScriptRefused { lease: &'a Lease },
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// From 0.0.0.0:68 to 255.255.255.255:67 on the raw socket.
    Broadcast,
    /// From the leased address (the message's ciaddr) to this server, port 67.
    Unicast(Ipv4Addr),
    /// From this address (ours, set by hand: the message's ciaddr) to 255.255.255.255:67, as
    /// a DHCPINFORM goes to whichever server answers (RFC 2131 4.4.3).
    BroadcastFrom(Ipv4Addr),
}

/// What the shell must do.
// A batch of actions lives for one event; boxing the leases would cost an allocation each
// for no saving worth having.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send {
        msg: Box<Message>,
        dest: Dest,
    },
    /// Make the interface hold `lease` (address, routes, DNS). `previous` is what it holds now
    /// (as the core last told it): whatever of it `lease` does not keep goes.
    Configure {
        lease: Lease,
        previous: Option<Lease>,
        /// A renewal (an ACK in RENEWING or REBINDING, or after carrier came back, for the
        /// address held), not a new binding: for the log line.
        renewal: bool,
        /// BOUND, RENEW, REBIND or REBOOT.
        transition: Transition,
    },
    /// Remove everything `lease` put on the interface; it then holds nothing of ours.
    Deconfigure {
        lease: Lease,
        reason: Reason,
        /// EXPIRE, NAK, RELEASE, STOP or FAIL: [`Reason::transition`].
        transition: Transition,
    },
    /// A transition that changes nothing on the interface, for whoever watches (the hook
    /// script): PREINIT first of all at [`Event::Start`]; STOP at [`Event::Stop`], with the
    /// lease the interface keeps; FAIL right after [`Action::NoLease`].
    Notify {
        transition: Transition,
        /// The lease the interface holds, which stays (STOP); None otherwise.
        lease: Option<Lease>,
    },
    /// Save this lease (IFACE.lease), so that a restart asks for it again.
    SaveLease(Lease),
    /// Delete the saved lease.
    ForgetLease,
    /// Listen for ARP about exactly these addresses on the interface (the one being probed,
    /// the link-local one being claimed or defended); none: no ARP at all.
    ArpWatch(Vec<Ipv4Addr>),
    /// Listen also for ARP whose sender claims this address: the leased address in use,
    /// defended (RFC 5227 2.4); None: not.
    ArpDefend(Option<Ipv4Addr>),
    /// Send an ARP probe for this address (sender IP 0.0.0.0, RFC 5227 2.1.1).
    ArpProbe {
        target: Ipv4Addr,
    },
    /// Send an ARP announcement for this address (sender = target = address, RFC 5227 2.3).
    ArpAnnounce {
        addr: Ipv4Addr,
    },
    /// No lease within the acquire timeout, and why. The client goes on trying.
    NoLease(NoLease),
    /// Put this IPv4 link-local address (RFC 3927) on the interface: 169.254.0.0/16, scope
    /// link, no lifetime.
    ConfigureLinkLocal {
        addr: Ipv4Addr,
    },
    /// Take the link-local address off the interface.
    DeconfigureLinkLocal {
        addr: Ipv4Addr,
    },
    /// Send an ARP request for `target` with `sender` as the sender protocol address,
    /// broadcast, or to the MAC `to` alone (RFC 4436's reachability test of the router).
    ArpRequest {
        sender: Ipv4Addr,
        target: Ipv4Addr,
        to: Option<[u8; 6]>,
    },
    /// Put back on the interface whatever of `lease` (which it is meant to hold already) the
    /// kernel dropped while the link was down: the address, its routes, its MTU. The record
    /// does not change. For a hook script that configures the interface itself, this is the
    /// lease confirmed again: REBOOT.
    Reapply {
        lease: Lease,
        transition: Transition,
    },
    /// Options only (DHCPINFORM, RFC 2131 3.4): make the interface hold `info`'s routes, MTU
    /// and DNS settings, replacing `previous`'s (what it holds now, as the core last told
    /// it). The address, set by hand, is never touched. Transition INFORM.
    ConfigureOptions {
        info: Informed,
        previous: Option<Informed>,
        transition: Transition,
    },
    /// Options only: take off what `info` put on the interface (its routes, MTU and DNS
    /// settings; never the address). RELEASE (`-r`), or STOP when the interface was removed.
    DeconfigureOptions {
        info: Informed,
        reason: Reason,
        transition: Transition,
    },
}
