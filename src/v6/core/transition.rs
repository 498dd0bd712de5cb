//! The transitions the DHCPv6 core names, in dhclient-script's DHCPv6 words, and why a lease
//! is taken off.
//!
//! dhclient 4.4 has no FAIL for DHCPv6: its DHCPv6 client never runs the script with FAIL
//! (dhc6.c; FAIL is in its DHCPv4 paths only), and dhclient-script's DHCPv6 cases are
//! PREINIT6, BOUND6|RENEW6|REBIND6, DEPREF6 and EXPIRE6|RELEASE6|STOP6. So there is none here:
//! no lease within the acquire timeout is [`super::Action6::NoLease`], a report, and a lease
//! the system refused is taken off as EXPIRE6 (what dhclient-script's EXPIRE6 does is
//! exactly taking the address off).

use std::fmt;

/// A transition of the client, as a hook script knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition6 {
    /// PREINIT6: the client starts, before anything is sent.
    Preinit6,
    /// BOUND6: a lease from a REQUEST (or a Rapid Commit SOLICIT), or a saved lease
    /// confirmed at start (dhclient's "pretend we got bound").
    Bound6,
    /// RENEW6: the lease was renewed with its server.
    Renew6,
    /// REBIND6: the lease was extended by a REBIND (any server).
    Rebind6,
    /// DEPREF6: the preferred lifetime of addresses or prefixes passed.
    Depref6,
    /// EXPIRE6: addresses or prefixes were taken off: their valid lifetime passed, the link
    /// is another (NotOnLink), an address was a duplicate, the system refused the lease.
    Expire6,
    /// RELEASE6: the lease was given back.
    Release6,
    /// STOP6: the client stops, the interface keeps what it holds; or the interface went.
    Stop6,
    /// INFORM6: stateless configuration (INFORMATION-REQUEST) received. dhclient 4.4 itself
    /// runs RENEW6 for it (dhc6.c `start_informed`); the hook environment may map it so.
    Inform6,
}

impl Transition6 {
    /// dhclient-script's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Transition6::Preinit6 => "PREINIT6",
            Transition6::Bound6 => "BOUND6",
            Transition6::Renew6 => "RENEW6",
            Transition6::Rebind6 => "REBIND6",
            Transition6::Depref6 => "DEPREF6",
            Transition6::Expire6 => "EXPIRE6",
            Transition6::Release6 => "RELEASE6",
            Transition6::Stop6 => "STOP6",
            Transition6::Inform6 => "INFORM6",
        }
    }
}

impl fmt::Display for Transition6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// Why a lease is taken off the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason6 {
    /// Every valid lifetime passed.
    Expired,
    /// Given back (RELEASE).
    Released,
    /// The last address was a duplicate (DAD failed) and was declined.
    Declined,
    /// A server said the lease is not for this link (NotOnLink to a CONFIRM, REBIND or
    /// REQUEST): the link is another network now.
    NotOnLink,
    /// The system refused to configure it.
    NotApplied,
    /// The interface was removed (the kernel took the addresses and routes with it).
    Gone,
}

impl Reason6 {
    /// The transition that taking a lease off for this reason is.
    pub fn transition(self) -> Transition6 {
        match self {
            Reason6::Released => Transition6::Release6,
            Reason6::Gone => Transition6::Stop6,
            Reason6::Expired | Reason6::Declined | Reason6::NotOnLink | Reason6::NotApplied => {
                Transition6::Expire6
            }
        }
    }
}

impl fmt::Display for Reason6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason6::Expired => "lease expired",
            Reason6::Released => "released",
            Reason6::Declined => "the address is in use on the link (DAD failed), declined",
            Reason6::NotOnLink => "a server says the lease is not for this link",
            Reason6::NotApplied => "could not be configured",
            Reason6::Gone => "the interface was removed",
        })
    }
}
