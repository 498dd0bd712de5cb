//! Whatever lifetimes and T1/T2 a server sends, in whatever order, and however late or
//! seldom it answers: the client never renews or rebinds a lease that has run out, never
//! configures what has run out, and never loops (each tick leaves its next deadline in the
//! future, and messages stay few per second).

use super::*;
use dhcpc::v6::core::lease::schedule;
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

/// Two hours of a client against a server that answers by `answers`, in turn.
fn run(answers: &[Answer], seed: u64, prefixes: bool) -> Result<(), TestCaseError> {
    let mut cfg = config();
    if prefixes {
        cfg.mode = dhcpc::v6::core::Mode6::Stateful {
            na: vec![IAID],
            pd: vec![PdAsk {
                iaid: IAID,
                hint: None,
            }],
        };
    }
    let mut c = Client6::new(cfg, seed);
    let horizon = t(7200.0);
    let mut pending: Vec<(Instant, Reply6)> = Vec::new();
    let mut turn = 0usize;
    let mut sent_count = 0u64;
    let mut actions = c.handle(t(0.0), Event6::Start);
    let mut now = t(0.0);
    loop {
        for m in sends(&actions) {
            sent_count += 1;
            if matches!(m.kind, Kind6::Renew | Kind6::Rebind) {
                let lease = c.lease().expect("renewing a lease held");
                let end = schedule(lease).end;
                prop_assert!(
                    end.is_none_or(|e| now < e),
                    "{:?} at {now:?} after the end {end:?}",
                    m.kind
                );
            }
            let a = &answers[turn % answers.len()];
            turn += 1;
            if !a.answers
                || !matches!(
                    m.kind,
                    Kind6::Solicit | Kind6::Request | Kind6::Renew | Kind6::Rebind
                )
            {
                continue;
            }
            let ias = granted(a, prefixes);
            let r = if m.kind == Kind6::Solicit {
                advertise(m.xid, 255, ias)
            } else {
                reply(m.xid, ias)
            };
            pending.push((now + Duration::from_millis(a.delay_ms), r));
        }
        for a in &actions {
            if let Action6::Configure { lease, .. } = a {
                for ia in &lease.ias {
                    for (_, valid) in dhcpc::v6::core::lease::lifetimes(ia) {
                        let end = lease.start + s(f64::from(valid));
                        prop_assert!(valid == INFINITY || end > now, "configured what ran out");
                    }
                }
            }
        }
        prop_assert!(
            sent_count <= 20 + 5 * now.as_duration().as_secs(),
            "{sent_count} messages by {now:?}"
        );
        pending.sort_by_key(|(at, _)| *at);
        let due = c.poll_at();
        let next_reply = pending.first().map(|(at, _)| *at);
        let at = match (due, next_reply) {
            (Some(d), Some(r)) => d.min(r),
            (d, r) => match d.or(r) {
                Some(x) => x,
                None => return Ok(()),
            },
        };
        if at > horizon {
            return Ok(());
        }
        // A deadline already passed (a REPLY handled late: DEPREF6 due) is due now.
        now = at.max(now);
        if next_reply == Some(at) {
            let (_, r) = pending.remove(0);
            actions = c.handle(now, rx(&r));
        } else {
            actions = c.handle(now, Event6::Tick);
            prop_assert!(
                c.poll_at().is_none_or(|p| p > now),
                "a tick left a deadline at {now:?}"
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
        prefixes in any::<bool>(),
    ) {
        run(&answers, seed, prefixes)?;
    }
}
