//! The RFC 2131 states: as they are reported ([`StateName`]) and as the client holds them,
//! one variant of data per state ([`State`]).

use crate::lease::Lease;
use crate::time::Instant;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The RFC 2131 states, as they are reported (for status output and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateName {
    Init,
    Selecting,
    Requesting,
    Rebooting,
    /// Checking the offered address for conflicts (RFC 5227) before using it.
    Probing,
    Bound,
    Renewing,
    Rebinding,
    Released,
    /// Options only (RFC 2131 3.4): a DHCPINFORM sent, no ACK yet.
    Informing,
    /// Options only: the options of an ACK to DHCPINFORM are applied.
    Informed,
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateName::Init => "INIT",
            StateName::Selecting => "SELECTING",
            StateName::Requesting => "REQUESTING",
            StateName::Rebooting => "REBOOTING",
            StateName::Probing => "PROBING",
            StateName::Bound => "BOUND",
            StateName::Renewing => "RENEWING",
            StateName::Rebinding => "REBINDING",
            StateName::Released => "RELEASED",
            StateName::Informing => "INFORMING",
            StateName::Informed => "INFORMED",
        })
    }
}

/// One request/reply exchange: its xid and retransmission bookkeeping. When the next
/// retransmission is due is [`Timer::Retransmit`].
#[derive(Debug, Clone)]
pub(super) struct Exchange {
    pub(super) xid: u32,
    /// When the first message of the exchange went out (for `secs`).
    pub(super) started: Instant,
    /// When the latest message went out.
    pub(super) sent: Instant,
    /// Messages sent so far.
    pub(super) attempts: u32,
}

#[derive(Debug, Clone)]
pub(super) enum State {
    /// Waiting for [`Timer::Restart`] to send the first DISCOVER.
    Init,
    Selecting {
        x: Exchange,
    },
    Requesting {
        x: Exchange,
        offered: Ipv4Addr,
        server: Ipv4Addr,
        /// The `secs` of the DISCOVER the offer answered (RFC 2131 4.4.1: REQUEST repeats it).
        secs: u16,
    },
    /// Asking for a lease again with INIT-REBOOT: a saved one at start (the interface may
    /// hold it, an earlier process left it), or the one in force when carrier came back.
    Rebooting {
        x: Exchange,
        lease: Arc<Lease>,
        why: Reboot,
    },
    /// ACKed, checking the address with ARP before using it.
    Probing {
        lease: Arc<Lease>,
        probes_left: u8,
    },
    Bound {
        lease: Arc<Lease>,
    },
    Renewing {
        x: Exchange,
        lease: Arc<Lease>,
    },
    Rebinding {
        x: Exchange,
        lease: Arc<Lease>,
    },
    Released,
    /// Options only: a DHCPINFORM exchange, from the address set by hand.
    Informing {
        x: Exchange,
    },
    /// Options only: the options held (the record) are the latest ACK's; the next DHCPINFORM
    /// is [`Timer::Inform`].
    Informed,
}

/// Why an INIT-REBOOT is under way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Reboot {
    /// A saved lease, at start.
    Saved,
    /// Carrier came back while a lease was in force. With the router's address and MAC
    /// known, RFC 4436's unicast ARP went to it at the same time as the REQUEST: the same
    /// router answering from the same MAC shows the lease still good here.
    Carrier { dna: Option<Router> },
}

/// The router of the lease in force, as ARP showed it (for RFC 4436).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Router {
    pub(super) ip: Ipv4Addr,
    pub(super) mac: [u8; 6],
}

impl State {
    pub(super) fn exchange(&self) -> Option<&Exchange> {
        match self {
            State::Selecting { x }
            | State::Requesting { x, .. }
            | State::Rebooting { x, .. }
            | State::Renewing { x, .. }
            | State::Rebinding { x, .. }
            | State::Informing { x } => Some(x),
            _ => None,
        }
    }

    pub(super) fn name(&self) -> StateName {
        match self {
            State::Init => StateName::Init,
            State::Selecting { .. } => StateName::Selecting,
            State::Requesting { .. } => StateName::Requesting,
            State::Rebooting { .. } => StateName::Rebooting,
            State::Probing { .. } => StateName::Probing,
            State::Bound { .. } => StateName::Bound,
            State::Renewing { .. } => StateName::Renewing,
            State::Rebinding { .. } => StateName::Rebinding,
            State::Released => StateName::Released,
            State::Informing { .. } => StateName::Informing,
            State::Informed => StateName::Informed,
        }
    }
}
