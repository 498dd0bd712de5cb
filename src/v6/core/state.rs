//! The client's states: as they are reported ([`StateName6`]) and as the client holds them,
//! one variant of data per state ([`State6`]). The lease in force is not in the state: it is
//! the record of what the interface holds (`Client6::held`), the one copy.

use super::retrans::Exchange;
use crate::v6::Ia;
use std::fmt;
use std::net::Ipv6Addr;

/// The states, as they are reported (for status output and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateName6 {
    /// Not started.
    Idle,
    Soliciting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    /// Checking that the lease is still good for the link (CONFIRM, or a REBIND for
    /// prefixes): carrier came back, or a saved lease at start.
    Confirming,
    Declining,
    /// Stateless: asking for configuration (INFORMATION-REQUEST).
    Informing,
    /// Stateless: configured, until the refresh time.
    Informed,
    Releasing,
    Stopped,
}

impl fmt::Display for StateName6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateName6::Idle => "IDLE",
            StateName6::Soliciting => "SOLICITING",
            StateName6::Requesting => "REQUESTING",
            StateName6::Bound => "BOUND",
            StateName6::Renewing => "RENEWING",
            StateName6::Rebinding => "REBINDING",
            StateName6::Confirming => "CONFIRMING",
            StateName6::Declining => "DECLINING",
            StateName6::Informing => "INFORMING",
            StateName6::Informed => "INFORMED",
            StateName6::Releasing => "RELEASING",
            StateName6::Stopped => "STOPPED",
        })
    }
}

/// An ADVERTISE worth requesting: its server, preference, source and the IAs it offers (as
/// judged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Advert {
    pub(super) server_id: Vec<u8>,
    pub(super) preference: u8,
    pub(super) from: Ipv6Addr,
    pub(super) ias: Vec<Ia>,
}

/// Why the lease is being confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Carrier came back with the lease in force.
    Carrier,
    /// A saved lease, at start.
    Saved,
}

#[derive(Debug, Clone)]
pub(super) enum State6 {
    Idle,
    /// SOLICIT under way; ADVERTISEs collected until the first RT has passed.
    Soliciting {
        x: Exchange,
        adverts: Vec<Advert>,
    },
    /// REQUEST to one server; `rest`: the other advertisements, best first, to try next.
    Requesting {
        x: Exchange,
        rest: Vec<Advert>,
    },
    Bound,
    Renewing {
        x: Exchange,
    },
    Rebinding {
        x: Exchange,
    },
    /// CONFIRM, or REBIND with CONFIRM's timing when the lease has prefixes.
    Confirming {
        x: Exchange,
        why: Check,
    },
    /// DECLINE of addresses the kernel found duplicate; the rest of the lease stays.
    Declining {
        x: Exchange,
    },
    Informing {
        x: Exchange,
    },
    Informed,
    /// RELEASE sent; the lease is already off the interface.
    Releasing {
        x: Exchange,
    },
    Stopped,
}

impl State6 {
    pub(super) fn exchange_mut(&mut self) -> Option<&mut Exchange> {
        match self {
            State6::Soliciting { x, .. }
            | State6::Requesting { x, .. }
            | State6::Renewing { x }
            | State6::Rebinding { x }
            | State6::Confirming { x, .. }
            | State6::Declining { x }
            | State6::Informing { x }
            | State6::Releasing { x } => Some(x),
            State6::Idle | State6::Bound | State6::Informed | State6::Stopped => None,
        }
    }

    pub(super) fn exchange(&self) -> Option<&Exchange> {
        match self {
            State6::Soliciting { x, .. }
            | State6::Requesting { x, .. }
            | State6::Renewing { x }
            | State6::Rebinding { x }
            | State6::Confirming { x, .. }
            | State6::Declining { x }
            | State6::Informing { x }
            | State6::Releasing { x } => Some(x),
            State6::Idle | State6::Bound | State6::Informed | State6::Stopped => None,
        }
    }

    pub(super) fn name(&self) -> StateName6 {
        match self {
            State6::Idle => StateName6::Idle,
            State6::Soliciting { .. } => StateName6::Soliciting,
            State6::Requesting { .. } => StateName6::Requesting,
            State6::Bound => StateName6::Bound,
            State6::Renewing { .. } => StateName6::Renewing,
            State6::Rebinding { .. } => StateName6::Rebinding,
            State6::Confirming { .. } => StateName6::Confirming,
            State6::Declining { .. } => StateName6::Declining,
            State6::Informing { .. } => StateName6::Informing,
            State6::Informed => StateName6::Informed,
            State6::Releasing { .. } => StateName6::Releasing,
            State6::Stopped => StateName6::Stopped,
        }
    }
}
