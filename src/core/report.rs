//! Why no lease was taken. While it waits for its first lease the core keeps a short tally of
//! what stood in the way (replies refused and why, unreadable messages, NAKs, addresses in
//! use, addresses the system would not take); when the acquire timeout passes it says so in
//! one line instead of a bare "no answer".

use std::fmt;
use std::net::Ipv4Addr;

/// What kind of obstacle a [`Cause`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// A reply to us that was refused.
    Refused,
    /// A message that could not be read at all.
    Unreadable,
    /// A NAK.
    Nak,
    /// A server that offered an address and did not answer the REQUESTs for it.
    Unanswered,
    /// An offered address another host holds (declined).
    InUse,
    /// An address the system refused to configure.
    NotApplied,
}

/// One obstacle, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub what: What,
    /// Who sent it (the IPv4 source), or the address concerned (InUse, NotApplied).
    pub from: Ipv4Addr,
    pub detail: String,
    pub count: u32,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.count;
        let s = |one: &'static str, many: &'static str| if n == 1 { one } else { many };
        match self.what {
            What::Refused => write!(
                f,
                "{n} {} from {} dropped: {}",
                s("reply", "replies"),
                self.from,
                self.detail
            ),
            What::Unreadable => write!(
                f,
                "{n} unreadable {} from {} dropped: {}",
                s("message", "messages"),
                self.from,
                self.detail
            ),
            What::Nak => write!(f, "{n} {} from {}", s("NAK", "NAKs"), self.from).and_then(|_| {
                match self.detail.as_str() {
                    "" => Ok(()),
                    text => write!(f, ": {text}"),
                }
            }),
            What::Unanswered => write!(
                f,
                "{} offered an address, then did not answer {n} {}",
                self.from,
                s("round of REQUESTs", "rounds of REQUESTs")
            ),
            What::InUse => write!(
                f,
                "offered address {} is in use ({}), declined",
                self.from, self.detail
            ),
            What::NotApplied => write!(f, "could not configure {}: {}", self.from, self.detail),
        }
    }
}

/// At most this many different causes are kept; more are only counted.
const MAX_CAUSES: usize = 8;

/// The tally kept until the first lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    causes: Vec<Cause>,
    /// Causes not kept, beyond [`MAX_CAUSES`].
    more: u32,
}

impl Tally {
    /// Counts one obstacle (the same one again only raises its count).
    pub fn add(&mut self, what: What, from: Ipv4Addr, detail: impl fmt::Display) {
        let detail = detail.to_string();
        if let Some(c) = self
            .causes
            .iter_mut()
            .find(|c| c.what == what && c.from == from && c.detail == detail)
        {
            c.count = c.count.saturating_add(1);
        } else if self.causes.len() < MAX_CAUSES {
            self.causes.push(Cause {
                what,
                from,
                detail,
                count: 1,
            });
        } else {
            self.more = self.more.saturating_add(1);
        }
    }

    pub fn clear(&mut self) {
        *self = Tally::default();
    }

    /// What the tally says now.
    pub fn report(&self) -> NoLease {
        let mut causes: Vec<String> = self.causes.iter().map(Cause::to_string).collect();
        if self.more > 0 {
            causes.push(format!("{} more", self.more));
        }
        NoLease { causes }
    }
}

/// Why no lease was taken within the acquire timeout, as told by [`super::Action::NoLease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoLease {
    /// What stood in the way, one sentence each; empty when nothing answered at all.
    pub causes: Vec<String>,
}

impl fmt::Display for NoLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.causes.is_empty() {
            f.write_str("no DHCP server answered")
        } else {
            f.write_str(&self.causes.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

    #[test]
    fn nothing_seen_means_no_server_answered() {
        assert_eq!(
            Tally::default().report().to_string(),
            "no DHCP server answered"
        );
    }

    #[test]
    fn the_same_cause_is_counted_and_others_listed() {
        let mut t = Tally::default();
        for _ in 0..3 {
            t.add(What::Refused, S, "option 54 malformed");
        }
        t.add(What::Nak, S, "no such address");
        t.add(What::Unreadable, S, "bad magic cookie");
        assert_eq!(
            t.report().to_string(),
            "3 replies from 198.51.100.1 dropped: option 54 malformed; \
             1 NAK from 198.51.100.1: no such address; \
             1 unreadable message from 198.51.100.1 dropped: bad magic cookie"
        );
    }

    #[test]
    fn the_tally_stays_small() {
        let mut t = Tally::default();
        for i in 0..100u32 {
            t.add(What::Refused, S, i);
        }
        let r = t.report();
        assert_eq!(r.causes.len(), MAX_CAUSES + 1);
        assert_eq!(r.causes.last().unwrap(), "92 more");
        t.clear();
        assert_eq!(t, Tally::default());
    }
}
