//! Why no lease was taken: while it waits for its first lease the DHCPv6 core counts what
//! stood in the way, so that the acquire timeout says more than "no answer".

use std::fmt;

/// What stood in the way of a lease, until there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoLease6 {
    /// Messages from servers to us that were refused (an ADVERTISE with nothing in it, a
    /// REPLY that granted nothing, a status code of failure).
    pub refused: u32,
    /// Messages dropped unread or not for us (another xid, another client, no server id).
    pub dropped: u32,
    /// The latest of them, and why.
    pub last: Option<String>,
}

impl NoLease6 {
    pub(super) fn refuse(&mut self, why: String) {
        self.refused = self.refused.saturating_add(1);
        self.last = Some(why);
    }

    pub(super) fn drop_one(&mut self, why: String) {
        self.dropped = self.dropped.saturating_add(1);
        self.last = Some(why);
    }
}

impl fmt::Display for NoLease6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.last {
            None => f.write_str("no DHCPv6 server answered"),
            Some(last) => write!(
                f,
                "no usable answer: {} refused, {} dropped; the last: {last}",
                self.refused, self.dropped
            ),
        }
    }
}
