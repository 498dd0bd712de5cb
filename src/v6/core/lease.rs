//! What a reply grants, judged once more at the core's door, and what a lease's lifetimes
//! mean in time: T1 and T2 (RFC 8415 21.4, with the client's own choice when the server sent
//! 0), the next preferred and valid lifetime to run out, the end of the last.
//!
//! The parser already dropped what fails the wire's rules; the core checks again what it
//! must never configure, by the parser's own rules (multicast, loopback, link-local,
//! unspecified, IPv4-mapped addresses; prefixes of a length outside 1..=128 or overlapping
//! those), and what RFC 8415 says the client discards: an address or prefix whose preferred
//! lifetime exceeds its valid one (21.6, 21.22), one of valid lifetime 0 (withdrawn,
//! 18.2.10.1), an IA whose T1 exceeds its T2 (21.4, 21.21), an IA the client did not ask for.

use super::config::{Config6, MIN_CHOSEN_T1};
use crate::time::Instant;
use crate::v6::reply::rules;
use crate::v6::{Holdings, Ia, Lease6, Reply6, StatusCode, INFINITY};
use std::net::Ipv6Addr;
use std::time::Duration;
use tracing::debug;

/// An address the core may put on the interface: by the parser's own rule, none of
/// multicast, loopback, unspecified, IPv4-mapped or -compatible, link-local (fe80::/10). The
/// same rule as the boundary's, so that a lease built elsewhere (a saved one) is held to it.
pub fn usable(a: Ipv6Addr) -> bool {
    rules::is_usable_unicast6(a)
}

/// A prefix the core may route: by the parser's own rule, 1 to 128 bits, no bit set past its
/// length, overlapping none of the ranges [`usable`] refuses (an unreachable route for
/// fe00::/7 would take link-local and multicast from the link).
pub fn usable_prefix(p: Ipv6Addr, len: u8) -> bool {
    rules::prefix(p, len).is_ok()
}

/// Whether this IA is an IA_PD (by what it holds).
pub fn is_pd(ia: &Ia) -> bool {
    matches!(ia.holdings, Holdings::Prefixes(_))
}

/// The (preferred, valid) lifetimes of everything `ia` holds.
pub fn lifetimes(ia: &Ia) -> Vec<(u32, u32)> {
    match &ia.holdings {
        Holdings::Addresses(v) => v.iter().map(|a| (a.preferred, a.valid)).collect(),
        Holdings::Prefixes(v) => v.iter().map(|p| (p.preferred, p.valid)).collect(),
    }
}

fn is_empty(ia: &Ia) -> bool {
    match &ia.holdings {
        Holdings::Addresses(v) => v.is_empty(),
        Holdings::Prefixes(v) => v.is_empty(),
    }
}

/// Keeps, of what `ia` holds, what `keep(preferred, valid)` and the address rules allow.
fn retain(ia: &mut Ia, mut keep: impl FnMut(u32, u32) -> bool) {
    match &mut ia.holdings {
        Holdings::Addresses(v) => v.retain(|a| usable(a.addr) && keep(a.preferred, a.valid)),
        Holdings::Prefixes(v) => {
            v.retain(|p| usable_prefix(p.prefix, p.len) && keep(p.preferred, p.valid))
        }
    }
}

/// The IAs of `reply` the client asked for, each judged: an IA whose T1 exceeds its T2 is
/// dropped whole; of the rest, what they hold passes the address rules, with a preferred
/// lifetime no longer than the valid one, and a valid lifetime above 0. An IA of a failure
/// status keeps its status and nothing else. The first IA of each kind and IAID counts.
pub fn judge(config: &Config6, reply: &Reply6) -> Vec<Ia> {
    let mut out: Vec<Ia> = Vec::new();
    for ia in &reply.ias {
        let pd = is_pd(ia);
        if !config.asks_for(pd, ia.iaid) || out.iter().any(|o| is_pd(o) == pd && o.iaid == ia.iaid)
        {
            debug!("dropping an IA (IAID {}) not asked for, or twice", ia.iaid);
            continue;
        }
        if ia.t1 > ia.t2 && ia.t2 != 0 {
            debug!("dropping IA {}: T1 {} > T2 {}", ia.iaid, ia.t1, ia.t2);
            continue;
        }
        let mut ia = ia.clone();
        if ia.status != StatusCode::Success {
            retain(&mut ia, |_, _| false);
        }
        retain(&mut ia, |preferred, valid| valid > 0 && preferred <= valid);
        out.push(ia);
    }
    out
}

/// Whether a REPLY to a RENEW or REBIND says anything of the lease: an IA (as `judged`
/// kept it) of status Success that names an address or prefix (even to withdraw it, with a
/// valid lifetime of 0), or an IA NotOnLink.
pub fn renews(reply: &Reply6, judged: &[Ia]) -> bool {
    judged.iter().any(|ia| match ia.status {
        StatusCode::NotOnLink => true,
        StatusCode::Success => reply
            .ias
            .iter()
            .any(|raw| is_pd(raw) == is_pd(ia) && raw.iaid == ia.iaid && !is_empty(raw)),
        _ => false,
    })
}

/// Whether any of `ias` holds an address or prefix.
pub fn grants(ias: &[Ia]) -> bool {
    ias.iter().any(|ia| !is_empty(ia))
}

/// The lease `reply` grants from `start` (when the exchange began): its judged IAs that hold
/// something, and its configuration.
pub fn from_reply(reply: &Reply6, from: Ipv6Addr, ias: Vec<Ia>, start: Instant) -> Lease6 {
    Lease6 {
        server_id: reply.server_id.clone().unwrap_or_default(),
        server_addr: Some(from),
        ias: ias.into_iter().filter(|ia| !is_empty(ia)).collect(),
        dns: reply.dns.clone(),
        search: reply.search.clone(),
        ntp: reply.ntp.clone(),
        sntp: reply.sntp.clone(),
        info_refresh: None,
        options: reply.options.clone(),
        start,
    }
}

/// `lease` with every address the rules refuse taken out (and IAs left empty): the core's
/// last check before a Configure, whatever built the lease.
pub fn cleaned(mut lease: Lease6) -> Lease6 {
    for ia in &mut lease.ias {
        retain(ia, |preferred, valid| valid > 0 && preferred <= valid);
    }
    lease.ias.retain(|ia| !is_empty(ia));
    lease
}

/// Whole seconds from `earlier` to `later`, rounded up (a lifetime carried over shrinks by
/// at least the time that passed).
fn secs_between(earlier: Instant, later: Instant) -> u32 {
    let d = later.saturating_since(earlier);
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.min(u64::from(u32::MAX - 1)) as u32
}

/// `lifetime` seconds from an earlier start, counted from a start `passed` seconds later.
fn shrink(lifetime: u32, passed: u32) -> u32 {
    if lifetime == INFINITY {
        INFINITY
    } else {
        lifetime.saturating_sub(passed)
    }
}

/// `ia` as held since `from`, counted from `to`: each lifetime and T1/T2 shrunk by the time
/// that passed (what ran out dropped). T1/T2 that passed become 0: the client's choice.
fn carried(ia: &Ia, from: Instant, to: Instant) -> Ia {
    let passed = secs_between(from, to);
    let mut ia = ia.clone();
    match &mut ia.holdings {
        Holdings::Addresses(v) => v.iter_mut().for_each(|a| {
            a.preferred = shrink(a.preferred, passed);
            a.valid = shrink(a.valid, passed);
        }),
        Holdings::Prefixes(v) => v.iter_mut().for_each(|p| {
            p.preferred = shrink(p.preferred, passed);
            p.valid = shrink(p.valid, passed);
        }),
    }
    ia.t1 = shrink(ia.t1, passed);
    ia.t2 = shrink(ia.t2, passed);
    retain(&mut ia, |_, valid| valid > 0);
    ia
}

/// What a REPLY to a RENEW or REBIND (or a REBIND that checks the link) makes of the lease
/// held (RFC 8415 18.2.10.1): the IAs the reply renewed replace the held ones, keeping what
/// of the held ones the reply left out (and dropping what it gave a valid lifetime of 0);
/// IAs the reply left out or refused stay as they were, counted from the new start (but
/// an IA it says is NotOnLink goes). The configuration is the reply's. `no_binding`: an IA came back NoBinding (a REQUEST is due).
pub struct Merged {
    pub lease: Lease6,
    pub no_binding: bool,
}

/// See [`Merged`]. `judged` are the reply's IAs as [`judge`] left them.
pub fn merge(
    held: &Lease6,
    reply: &Reply6,
    from: Ipv6Addr,
    judged: &[Ia],
    start: Instant,
) -> Merged {
    let mut lease = from_reply(reply, from, Vec::new(), start);
    let mut no_binding = false;
    for old in &held.ias {
        let pd = is_pd(old);
        let new = judged
            .iter()
            .find(|ia| is_pd(ia) == pd && ia.iaid == old.iaid);
        match new {
            Some(new) if new.status == StatusCode::Success => {
                lease.ias.push(renewed(old, new, held.start, start, reply));
            }
            // Not for this link: what it held goes.
            Some(new) if new.status == StatusCode::NotOnLink => {}
            Some(new) => {
                no_binding |= new.status == StatusCode::NoBinding;
                lease.ias.push(carried(old, held.start, start));
            }
            None => lease.ias.push(carried(old, held.start, start)),
        }
    }
    // IAs the reply granted that were not held (asked for again at each renewal).
    for new in judged {
        let held_it = held
            .ias
            .iter()
            .any(|o| is_pd(o) == is_pd(new) && o.iaid == new.iaid);
        no_binding |= new.status == StatusCode::NoBinding && !held_it;
        if !held_it && new.status == StatusCode::Success {
            lease.ias.push(new.clone());
        }
    }
    lease.ias.retain(|ia| !is_empty(ia));
    Merged { lease, no_binding }
}

/// A held IA renewed by `new`: `new`'s holdings and times, and those of `old` that `new`
/// left out (carried); those `new` withdrew (valid lifetime 0 in the reply) go.
fn renewed(old: &Ia, new: &Ia, was: Instant, start: Instant, reply: &Reply6) -> Ia {
    let kept = carried(old, was, start);
    let raw = reply
        .ias
        .iter()
        .find(|ia| is_pd(ia) == is_pd(new) && ia.iaid == new.iaid);
    let mentioned = |addr: Ipv6Addr, len: u8| {
        raw.is_some_and(|ia| match &ia.holdings {
            Holdings::Addresses(v) => v.iter().any(|a| a.addr == addr),
            Holdings::Prefixes(v) => v.iter().any(|p| p.prefix == addr && p.len == len),
        })
    };
    let mut ia = new.clone();
    match (&mut ia.holdings, kept.holdings) {
        (Holdings::Addresses(v), Holdings::Addresses(k)) => {
            v.extend(k.into_iter().filter(|a| !mentioned(a.addr, 128)))
        }
        (Holdings::Prefixes(v), Holdings::Prefixes(k)) => {
            v.extend(k.into_iter().filter(|p| !mentioned(p.prefix, p.len)))
        }
        _ => {}
    }
    ia
}

/// An IA's T1 and T2 in seconds (INFINITY: never): the server's, or when it sent 0 the
/// client's own (RFC 8415 21.4: 0.5 and 0.8 times the shortest preferred lifetime, T1 at
/// least [`MIN_CHOSEN_T1`]); T1 never after T2.
pub fn times(ia: &Ia) -> (u32, u32) {
    let shortest = lifetimes(ia)
        .iter()
        .map(|&(p, _)| p)
        .min()
        .unwrap_or(INFINITY);
    let (c1, c2) = if shortest == INFINITY {
        (INFINITY, INFINITY)
    } else {
        let c1 = (shortest / 2).max(MIN_CHOSEN_T1);
        let c2 = ((u64::from(shortest) * 4 / 5) as u32).max(c1);
        (c1, c2)
    };
    let t1 = if ia.t1 == 0 { c1 } else { ia.t1 };
    let t2 = if ia.t2 == 0 { c2 } else { ia.t2 };
    (t1.min(t2), t2)
}

fn at(start: Instant, secs: u32) -> Option<Instant> {
    (secs != INFINITY).then(|| start + Duration::from_secs(u64::from(secs)))
}

/// When things fall due for a lease: each None is never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// T1 (the earliest of its IAs'), when it comes before T2 and the end.
    pub renew: Option<Instant>,
    /// T2 (the earliest of its IAs'), when it comes before the end.
    pub rebind: Option<Instant>,
    /// The next valid lifetime to run out.
    pub expire: Option<Instant>,
    /// The last valid lifetime to run out: the lease's end.
    pub end: Option<Instant>,
}

/// The [`Schedule`] of `lease`.
pub fn schedule(lease: &Lease6) -> Schedule {
    let all: Vec<(u32, u32)> = lease.ias.iter().flat_map(lifetimes).collect();
    let ends: Vec<Option<Instant>> = all.iter().map(|&(_, v)| at(lease.start, v)).collect();
    let expire = ends.iter().flatten().min().copied();
    let end = if all.is_empty() || ends.iter().any(Option::is_none) {
        None
    } else {
        ends.iter().flatten().max().copied()
    };
    let before_end = |t: Option<Instant>| t.filter(|t| end.is_none_or(|e| *t < e));
    let (t1, t2) = lease
        .ias
        .iter()
        .map(times)
        .fold((INFINITY, INFINITY), |(a, b), (t1, t2)| {
            (a.min(t1), b.min(t2))
        });
    let rebind = before_end(at(lease.start, t2));
    let renew = before_end(at(lease.start, t1)).filter(|r| rebind.is_none_or(|b| *r < b));
    Schedule {
        renew,
        rebind,
        expire,
        end,
    }
}

/// `lease` without what has run out by `now` (None when nothing is left), and whether
/// anything had.
pub fn unexpired(lease: &Lease6, now: Instant) -> (Option<Lease6>, bool) {
    let passed = |valid: u32| at(lease.start, valid).is_some_and(|e| e <= now);
    let mut rest = lease.clone();
    let mut gone = false;
    for ia in &mut rest.ias {
        retain(ia, |_, valid| {
            gone |= passed(valid);
            !passed(valid)
        });
    }
    rest.ias.retain(|ia| !is_empty(ia));
    (
        (!rest.ias.is_empty() || lease.ias.is_empty()).then_some(rest),
        gone,
    )
}

/// The next preferred lifetime of `lease` to pass after `after` (None: from the start).
pub fn next_depref(lease: &Lease6, after: Option<Instant>) -> Option<Instant> {
    lease
        .ias
        .iter()
        .flat_map(lifetimes)
        .filter_map(|(p, _)| at(lease.start, p))
        .filter(|t| after.is_none_or(|a| *t > a))
        .min()
}

/// The part of `lease` whose preferred lifetime passed after `after` and by `now`: only
/// those addresses and prefixes, within their IAs (None when there are none).
pub fn depreferred(lease: &Lease6, after: Option<Instant>, now: Instant) -> Option<Lease6> {
    let mut part = lease.clone();
    for ia in &mut part.ias {
        retain(ia, |preferred, _| {
            at(lease.start, preferred).is_some_and(|t| t <= now && after.is_none_or(|a| t > a))
        });
    }
    part.ias.retain(|ia| !is_empty(ia));
    (!part.ias.is_empty()).then_some(part)
}
