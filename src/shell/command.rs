//! What an interface's driver is told ([`Command`], from the control socket or a signal) and
//! how it ends ([`Ended`]): the words the driver, the wait for a missing interface, the
//! carrying out of actions and the daemon share, in a module below all of them.

use crate::lease::{Informed, Lease};
use std::fmt;
use tokio::sync::oneshot;

/// A request from the control socket (or the signal handler) to one interface's driver.
#[derive(Debug)]
pub enum Command {
    /// Renew now (`dhcpc -n`, or a second `dhcpc IFACE`).
    Renew,
    /// Send DHCPRELEASE, remove the lease and stop (`dhcpc -r`).
    Release,
    /// Stop and keep the lease (`dhcpc -x`, SIGTERM).
    Stop,
    /// Report the state (`dhcpc --status`).
    Status(oneshot::Sender<serde_json::Value>),
}

/// What an interface got from a server: a lease, or (options only) the options of an ACK to
/// DHCPINFORM.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    Lease(Lease),
    Options(Informed),
    /// A DHCPv6 lease (or, stateless, its options).
    Lease6(Box<crate::v6::Lease6>),
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Got::Lease(l) => l.fmt(f),
            Got::Options(i) => i.fmt(f),
            Got::Lease6(l) => write!(f, "DHCPv6 {l}"),
        }
    }
}

/// How a driver ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Oneshot mode: bound with this lease (or, options only, informed with these options).
    Bound(Box<Got>),
    Released,
    Stopped,
    /// The interface was removed (only between the driver's run of the interface and its wait for it to come back).
    Gone,
}
