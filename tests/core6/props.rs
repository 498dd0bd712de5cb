//! Whatever lifetimes and T1/T2 a server sends, in whatever order, and however late or
//! seldom it answers: the client never renews or rebinds a lease that has run out, never
//! configures what has run out, and never loops (each tick leaves its next deadline in the
//! future, and messages stay few per second).

use super::*;
use dhcpc::v6::core::lease::{lifetimes, schedule};
use dhcpc::v6::INFINITY;
use proptest::prelude::*;

/// What the server grants in one answer, and whether and how late it answers.
#[derive(Debug, Clone)]
struct Answer {
    t1: u32,
    t2: u32,
    preferred: u32,
    valid: u32,
    answers: bool,
    delay_ms: u64,
    /// With both IAs asked for: 0 answers both, 1 the IA_NA only, 2 the IA_PD only.
    which: u8,
}

/// A T1 or T2: 0 (the client's choice) most often, tiny ones often.
fn time() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => Just(0),
        1 => Just(1),
        1 => Just(INFINITY),
        1 => 1u32..40,
        1 => 40u32..4000,
    ]
}

/// A preferred lifetime: 0 and 1 (a client's T1 of nearly nothing) often.
fn preferred() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => Just(0),
        2 => Just(1),
        1 => Just(INFINITY),
        1 => 1u32..40,
        1 => 40u32..4000,
    ]
}

/// A valid lifetime: from nothing to for ever.
fn valid() -> impl Strategy<Value = u32> {
    prop_oneof![
        1 => Just(0),
        1 => Just(1),
        1 => Just(INFINITY),
        2 => 1u32..40,
        2 => 40u32..4000,
    ]
}

fn delay() -> impl Strategy<Value = u64> {
    prop_oneof![2 => Just(0u64), 1 => 0u64..50, 1 => 0u64..3000]
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        (time(), time(), preferred(), valid()),
        prop::bool::weighted(0.875),
        delay(),
        0u8..3,
    )
        .prop_map(
            |((t1, t2, preferred, valid), answers, delay_ms, which)| Answer {
                t1,
                t2,
                preferred,
                valid,
                answers,
                delay_ms,
                which,
            },
        )
}

/// The IAs of answer `a`: the IA_NA, and with `both` the IA_PD, as `a.which` says.
fn granted(a: &Answer, both: bool) -> Vec<Ia> {
    let addr = na(IAID, a.t1, a.t2, &[(ADDR, a.preferred, a.valid)]);
    if !both {
        return vec![addr];
    }
    let prefix = pd(IAID, a.t1, a.t2, &[(PREFIX, 56, a.preferred, a.valid)]);
    match a.which {
        1 => vec![addr],
        2 => vec![prefix],
        _ => vec![addr, prefix],
    }
}

/// The server's answer to `m` by `a`, if it answers, and when it arrives.
fn answer_to(m: &Outgoing6, a: &Answer, both: bool, now: Instant) -> Option<(Instant, Reply6)> {
    let asks = matches!(
        m.kind,
        Kind6::Solicit | Kind6::Request | Kind6::Renew | Kind6::Rebind
    );
    if !(a.answers && asks) {
        return None;
    }
    let ias = granted(a, both);
    let r = if m.kind == Kind6::Solicit {
        advertise(m.xid, 255, ias)
    } else {
        reply(m.xid, ias)
    };
    Some((now + Duration::from_millis(a.delay_ms), r))
}

/// What `actions` did at `now`: no RENEW or REBIND of a lease that has run out, no
/// Configure of what has run out.
fn check(c: &Client6, actions: &[Action6], now: Instant) -> Result<(), TestCaseError> {
    for m in sends(actions) {
        if matches!(m.kind, Kind6::Renew | Kind6::Rebind) {
            let end = schedule(c.lease().expect("renewing a lease held")).end;
            prop_assert!(
                end.is_none_or(|e| now < e),
                "{:?} at {now:?} after {end:?}",
                m.kind
            );
        }
    }
    for a in actions {
        if let Action6::Configure { lease, .. } = a {
            for (_, valid) in lease.ias.iter().flat_map(lifetimes) {
                let end = lease.start + s(f64::from(valid));
                prop_assert!(valid == INFINITY || end > now, "configured what ran out");
            }
        }
    }
    Ok(())
}

/// Two hours of a client against a server that answers by `answers`, in turn.
fn run(answers: &[Answer], seed: u64, both: bool) -> Result<(), TestCaseError> {
    let mut cfg = config();
    if both {
        cfg.mode = dhcpc::v6::core::Mode6::Stateful {
            na: vec![IAID],
            pd: vec![PdAsk {
                iaid: IAID,
                hint: None,
            }],
        };
    }
    let mut c = Client6::new(cfg, seed);
    let mut pending: Vec<(Instant, Reply6)> = Vec::new();
    let (mut turn, mut count, mut now) = (0usize, 0u64, t(0.0));
    let mut actions = c.handle(now, Event6::Start);
    loop {
        check(&c, &actions, now)?;
        for m in sends(&actions) {
            count += 1;
            pending.extend(answer_to(&m, &answers[turn % answers.len()], both, now));
            turn += 1;
        }
        prop_assert!(
            count <= 20 + 5 * now.as_duration().as_secs(),
            "{count} by {now:?}"
        );
        pending.sort_by_key(|(at, _)| *at);
        let next_reply = pending.first().map(|(at, _)| *at);
        let Some(at) = [c.poll_at(), next_reply].into_iter().flatten().min() else {
            return Ok(());
        };
        if at > t(7200.0) {
            return Ok(());
        }
        // A deadline already passed (a REPLY handled late: DEPREF6 due) is due now.
        now = at.max(now);
        if next_reply == Some(at) {
            let (_, r) = pending.remove(0);
            actions = c.handle(now, rx(&r));
        } else {
            actions = c.handle(now, Event6::Tick);
            let next = c.poll_at();
            prop_assert!(
                next.is_none_or(|p| p > now),
                "a tick left {next:?} at {now:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn lifetimes_and_times_never_renew_after_the_end_nor_loop(
        answers in proptest::collection::vec(answer(), 1..5),
        seed in any::<u64>(),
        both in any::<bool>(),
    ) {
        run(&answers, seed, both)?;
    }
}
