//! The rules the `core6` target checks after every step (see `core6_model.rs`).

use super::{DUID, MAX_ACTIONS, MAX_TIMED_SENDS};
use dhcpc::time::Instant;
use dhcpc::v6::core::{Action6, Client6};
use dhcpc::v6::encode::encode;
use dhcpc::v6::reply::{rules, tlv};
use dhcpc::v6::{Holdings, Kind6, Lease6, Outgoing6};
use std::fmt::Display;
use std::time::Duration;

/// The interface as the shell would leave it after the core's actions, and what the walk saw.
#[derive(Default)]
pub struct Model {
    pub holds: Option<Lease6>,
    pub carrier: bool,
    pub last_xid: u32,
    /// Done was told: nothing more may be sent.
    pub done: bool,
    /// When messages went out on timers, for the rate check.
    pub timed_sends: Vec<Instant>,
}

/// Every rule, after one step at `now` (`tick`: the step was a tick) gave `actions`.
pub fn check(
    c: &Client6,
    actions: &[Action6],
    m: &mut Model,
    now: Instant,
    tick: bool,
    ctx: &dyn Display,
) {
    assert!(
        actions.len() <= MAX_ACTIONS,
        "{ctx}: {} actions: {actions:?}",
        actions.len()
    );
    for a in actions {
        check_action(a, m, ctx);
        if let Action6::Send(msg) = a {
            if tick {
                m.timed_sends.push(now);
            }
            m.last_xid = msg.xid;
        }
    }
    assert_eq!(
        c.lease(),
        m.holds.as_ref(),
        "{ctx}: the record is not the link"
    );
    if tick {
        let next = c.poll_at();
        assert!(
            next.is_none_or(|p| p > now),
            "{ctx}: a tick at {now:?} left {next:?} due"
        );
    }
    if m.done {
        assert_eq!(c.poll_at(), None, "{ctx}: timers left after Done");
    }
    m.timed_sends
        .retain(|&t| now.saturating_since(t) < Duration::from_secs(1));
    assert!(
        m.timed_sends.len() <= MAX_TIMED_SENDS,
        "{ctx}: {} messages on timers within a second",
        m.timed_sends.len()
    );
}

fn check_action(a: &Action6, m: &mut Model, ctx: &dyn Display) {
    match a {
        Action6::Send(msg) => {
            assert!(!m.done, "{ctx}: {:?} sent after Done", msg.kind);
            assert!(m.carrier, "{ctx}: {:?} sent without carrier", msg.kind);
            check_send(msg, ctx);
        }
        Action6::Configure {
            lease,
            previous,
            transition: _,
        } => {
            assert_eq!(previous, &m.holds, "{ctx}: Configure's previous");
            check_lease(lease, ctx);
            m.holds = Some(lease.clone());
        }
        Action6::Deconfigure { lease, .. } => {
            assert_eq!(Some(lease), m.holds.as_ref(), "{ctx}: Deconfigure of what");
            m.holds = None;
        }
        Action6::Reapply { lease, .. } => {
            assert_eq!(Some(lease), m.holds.as_ref(), "{ctx}: Reapply of what");
            check_lease(lease, ctx);
        }
        Action6::Done => {
            assert!(!m.done, "{ctx}: Done twice");
            m.done = true;
        }
        Action6::Notify { .. }
        | Action6::SaveLease(_)
        | Action6::ForgetLease
        | Action6::NoLease(_) => {}
    }
}

/// Nothing that must never be on a link, and preferred <= valid.
fn check_lease(lease: &Lease6, ctx: &dyn Display) {
    for ia in &lease.ias {
        match &ia.holdings {
            Holdings::Addresses(v) => {
                for a in v {
                    rules::unicast6(a.addr).unwrap_or_else(|e| panic!("{ctx}: configured {e}"));
                    assert!(a.preferred <= a.valid, "{ctx}: {a:?}");
                    assert!(a.valid > 0, "{ctx}: {a:?} withdrawn but configured");
                }
            }
            Holdings::Prefixes(v) => {
                for p in v {
                    assert!((1..=128).contains(&p.len), "{ctx}: {p:?}");
                    rules::unicast6(p.prefix).unwrap_or_else(|e| panic!("{ctx}: configured {e}"));
                    rules::prefix(p.prefix, p.len)
                        .unwrap_or_else(|e| panic!("{ctx}: configured {e}"));
                    assert!(p.preferred <= p.valid, "{ctx}: {p:?}");
                    assert!(p.valid > 0, "{ctx}: {p:?} withdrawn but configured");
                }
            }
        }
    }
}

/// A message a client sends (RFC 8415 18.2), with our DUID and an Elapsed Time, and a Server
/// Identifier exactly in those that go to one server.
fn check_send(msg: &Outgoing6, ctx: &dyn Display) {
    let to_one = match msg.kind {
        Kind6::Request | Kind6::Renew | Kind6::Release | Kind6::Decline => true,
        Kind6::Solicit | Kind6::Confirm | Kind6::Rebind | Kind6::InformationRequest => false,
        k => panic!("{ctx}: a client sent {k:?}"),
    };
    assert_eq!(msg.server_id.is_some(), to_one, "{ctx}: {msg:?}");
    assert!(msg.xid <= 0xff_ffff, "{ctx}: xid {:#x}", msg.xid);
    let bytes = encode(msg, DUID);
    let opts = tlv::options(&bytes[4..]).unwrap_or_else(|e| panic!("{ctx}: our message: {e}"));
    let elapsed = opts.iter().filter(|(c, d)| *c == 8 && d.len() == 2).count();
    assert_eq!(elapsed, 1, "{ctx}: Elapsed Time in {msg:?}");
    assert!(
        opts.iter().any(|(c, d)| *c == 1 && *d == DUID),
        "{ctx}: no client id in {msg:?}"
    );
    let ias = opts.iter().filter(|(c, _)| *c == 3 || *c == 25).count();
    let stateless = msg.kind == Kind6::InformationRequest;
    assert_eq!(stateless, ias == 0, "{ctx}: {ias} IAs in {msg:?}");
}
