//! Warnings about options a server got wrong (a routing or MTU option left out of its
//! reply), said once an hour for each option and sender: a server repeats the same mistake in
//! every reply, and a flood of replies would flood the log. Repeats are said at debug level.

use crate::reply::{Reply, LOUD};
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::time::Instant;
use tracing::{debug, warn};

/// How long a warning stays said.
const QUIET: Duration = Duration::from_secs(3600);
/// A handful of senders at most is remembered: past that, the oldest goes.
const REMEMBERED: usize = 8;

/// The warnings said lately, by option and sender, and when.
#[derive(Default)]
pub struct LeftOut {
    said: Vec<(u8, Ipv4Addr, Instant)>,
}

impl LeftOut {
    /// Says what of `r`'s options were left out, at `now`.
    pub fn say(&mut self, r: &Reply, now: Instant) {
        for bad in r.left_out.iter().filter(|b| LOUD.contains(&b.code)) {
            let (code, from, why) = (bad.code, r.from, &bad.why);
            if self.first_in_a_while(code, from, now) {
                warn!("option {code} from {from} left out: {why}");
            } else {
                debug!("option {code} from {from} left out: {why}");
            }
        }
    }

    /// Whether option `code` from `from` is to be warned of at `now` (and if so, notes it).
    fn first_in_a_while(&mut self, code: u8, from: Ipv4Addr, now: Instant) -> bool {
        match self
            .said
            .iter_mut()
            .find(|(c, f, _)| *c == code && *f == from)
        {
            Some((_, _, at)) if now.duration_since(*at) < QUIET => false,
            Some((_, _, at)) => {
                *at = now;
                true
            }
            None => {
                if self.said.len() >= REMEMBERED {
                    self.said.remove(0);
                }
                self.said.push((code, from, now));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_and_sender_is_warned_of_once_an_hour() {
        let mut l = LeftOut::default();
        let t = Instant::now();
        let a = Ipv4Addr::new(198, 51, 100, 1);
        let b = Ipv4Addr::new(198, 51, 100, 2);
        assert!(l.first_in_a_while(121, a, t));
        assert!(!l.first_in_a_while(121, a, t + Duration::from_secs(60)));
        assert!(l.first_in_a_while(26, a, t));
        assert!(l.first_in_a_while(121, b, t));
        assert!(l.first_in_a_while(121, a, t + QUIET));
    }

    #[test]
    fn only_a_handful_of_senders_is_remembered() {
        let mut l = LeftOut::default();
        let t = Instant::now();
        for i in 0..20 {
            assert!(l.first_in_a_while(121, Ipv4Addr::new(198, 51, 100, i), t));
        }
        assert_eq!(l.said.len(), REMEMBERED);
    }
}
