//! Any sequence of events, with servers that answer anything (any kind, status, IA, address,
//! lifetime, to our xid or not): the core never panics, never leaves a tick's deadline in
//! the past, and never configures a multicast, loopback, link-local or unspecified address
//! or a prefix of a length outside 1..=128.

use super::*;
use dhcpc::v6::core::Mode6;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Tick,
    /// A message to the xid of the latest message sent (or not: `own_xid` false).
    Message {
        kind: Option<Kind6>,
        own_xid: bool,
        code: StatusCode,
        ias: Vec<Ia>,
        rapid: bool,
    },
    Carrier(bool),
    DadFailed(bool),
    Refused,
    Renew,
    Release,
    Stop,
}

fn address() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        8 => Just(ADDR),
        2 => Just(ADDR2),
        1 => any::<u128>().prop_map(Ipv6Addr::from),
        1 => Just(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9)),
        1 => Just(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2)),
        1 => Just(Ipv6Addr::LOCALHOST),
        1 => Just(Ipv6Addr::UNSPECIFIED),
    ]
}

fn code() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        14 => Just(StatusCode::Success),
        1 => Just(StatusCode::UnspecFail),
        1 => Just(StatusCode::NoAddrsAvail),
        1 => Just(StatusCode::NoBinding),
        1 => Just(StatusCode::NotOnLink),
        1 => Just(StatusCode::UseMulticast),
        1 => Just(StatusCode::NoPrefixAvail),
    ]
}

fn lifetime() -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(0u32), 1 => Just(u32::MAX), 4 => 1u32..5000]
}

fn ia() -> impl Strategy<Value = Ia> {
    let held = (address(), 0u8..=255, 0u32..2500, lifetime());
    (
        prop_oneof![4 => Just(1u32), 1 => Just(2u32), 1 => Just(0u32)],
        lifetime(),
        lifetime(),
        code(),
        prop::bool::weighted(0.35),
        proptest::collection::vec(held, 1..3),
    )
        .prop_map(|(iaid, t1, t2, status, prefixes, held)| {
            let holdings = if prefixes {
                Holdings::Prefixes(
                    held.iter()
                        .map(|&(prefix, len, preferred, valid)| IaPrefix {
                            prefix,
                            len,
                            preferred,
                            valid,
                        })
                        .collect(),
                )
            } else {
                Holdings::Addresses(
                    held.iter()
                        .map(|&(addr, _, preferred, valid)| IaAddr {
                            addr,
                            preferred,
                            valid,
                        })
                        .collect(),
                )
            };
            Ia {
                iaid,
                t1,
                t2,
                status,
                holdings,
            }
        })
}

/// A message kind; None: the answer to the latest message sent (ADVERTISE to a SOLICIT,
/// REPLY to the rest).
fn kind() -> impl Strategy<Value = Option<Kind6>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(Kind6::Reply)),
        1 => Just(Some(Kind6::Advertise)),
        1 => Just(Some(Kind6::Reconfigure)),
        1 => Just(Some(Kind6::Solicit)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Tick),
        6 => (kind(), prop::bool::weighted(0.9), code(), proptest::collection::vec(ia(), 0..3), any::<bool>())
            .prop_map(|(kind, own_xid, code, ias, rapid)| Step::Message { kind, own_xid, code, ias, rapid }),
        1 => any::<bool>().prop_map(Step::Carrier),
        1 => any::<bool>().prop_map(Step::DadFailed),
        1 => Just(Step::Refused),
        1 => Just(Step::Renew),
    ]
}

/// How a run ends: as it is, or with a RELEASE or a STOP (each also checked).
fn last_step() -> impl Strategy<Value = Option<Step>> {
    prop_oneof![
        Just(None),
        Just(Some(Step::Release)),
        Just(Some(Step::Stop))
    ]
}

fn mode() -> impl Strategy<Value = Mode6> {
    prop_oneof![
        Just(Mode6::Stateless),
        Just(Mode6::Stateful {
            na: vec![1],
            pd: vec![]
        }),
        Just(Mode6::Stateful {
            na: vec![1, 2],
            pd: vec![PdAsk {
                iaid: 1,
                hint: Some(60)
            }],
        }),
    ]
}

/// Not multicast, loopback, link-local or unspecified (written out here, not the core's own
/// check, so that the test judges the core).
fn usable(a: Ipv6Addr) -> bool {
    let first = a.segments()[0];
    first & 0xff00 != 0xff00
        && first & 0xffc0 != 0xfe80
        && a != Ipv6Addr::LOCALHOST
        && a != Ipv6Addr::UNSPECIFIED
}

/// Every address and prefix `lease` would put on the link is one the rules allow.
fn sound(lease: &Lease6) -> bool {
    lease.ias.iter().all(|ia| match &ia.holdings {
        Holdings::Addresses(v) => v.iter().all(|a| usable(a.addr) && a.valid > 0),
        Holdings::Prefixes(v) => v
            .iter()
            .all(|p| usable(p.prefix) && (1..=128).contains(&p.len) && p.valid > 0),
    })
}

fn play(mode: Mode6, rapid: bool, seed: u64, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut cfg = Config6::new(DUID.to_vec(), mode);
    cfg.rapid_commit = rapid;
    let mut c = Client6::new(cfg, seed);
    let mut now = t(0.0);
    let (mut xid, mut last) = (0, Kind6::Solicit);
    let mut actions = c.handle(now, Event6::Start);
    for step in steps.iter().chain([&Step::Tick]) {
        for a in &actions {
            match a {
                Action6::Send(m) => (xid, last) = (m.xid, m.kind),
                Action6::Configure { lease, .. } | Action6::Reapply { lease, .. } => {
                    prop_assert!(sound(lease), "{lease:?}")
                }
                _ => {}
            }
        }
        now = now + s(0.3);
        actions = match step {
            Step::Tick => match c.poll_at() {
                Some(at) => {
                    now = now.max(at);
                    let a = c.handle(now, Event6::Tick);
                    prop_assert!(c.poll_at().is_none_or(|p| p > now));
                    a
                }
                None => Vec::new(),
            },
            Step::Message {
                kind,
                own_xid,
                code,
                ias,
                rapid,
            } => {
                let answer = if last == Kind6::Solicit {
                    Kind6::Advertise
                } else {
                    Kind6::Reply
                };
                let kind = kind.unwrap_or(answer);
                let mut r = msg(kind, if *own_xid { xid } else { xid ^ 0x10 }, ias.clone());
                r.status = status(*code);
                r.rapid_commit = *rapid;
                c.handle(now, rx(&r))
            }
            Step::Carrier(up) => c.handle(now, Event6::Link { carrier: *up }),
            Step::DadFailed(ours) => {
                let addr = c
                    .lease()
                    .and_then(|l| addrs(l).first().copied())
                    .filter(|_| *ours);
                c.handle(now, Event6::DadFailed(addr.unwrap_or(ADDR2)))
            }
            Step::Refused => match c.lease().cloned() {
                Some(lease) => c.handle(
                    now,
                    Event6::ConfigureFailed {
                        lease: &lease,
                        why: "no".into(),
                    },
                ),
                None => Vec::new(),
            },
            Step::Renew => c.handle(now, Event6::Renew),
            Step::Release => c.handle(now, Event6::Release),
            Step::Stop => c.handle(now, Event6::Stop),
        };
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn nothing_a_server_sends_breaks_the_core(
        mode in mode(),
        rapid in any::<bool>(),
        seed in any::<u64>(),
        mut steps in proptest::collection::vec(step(), 1..60),
        end in last_step(),
    ) {
        steps.extend(end);
        play(mode, rapid, seed, &steps)?;
    }
}
