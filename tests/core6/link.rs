//! Carrier lost and back: nothing is sent without it; back, the lease is checked by CONFIRM
//! (addresses) or REBIND (prefixes) with CONFIRM's timing (RFC 8415 18.2.3, 18.2.12); and a
//! saved lease at start.

use super::*;

/// Bound, carrier lost at +10 s and back at +20 s: returns the client, the lease, when
/// carrier came back, and the actions then.
fn flapped(cfg: Config6, ias: Vec<Ia>) -> (Client6, Lease6, Instant, Vec<Action6>) {
    let (mut c, lease, start) = bound_with(cfg, ias);
    assert!(c
        .handle(start + s(10.0), Event6::Link { carrier: false })
        .is_empty());
    let back = start + s(20.0);
    let a = c.handle(back, Event6::Link { carrier: true });
    (c, lease, back, a)
}

#[test]
fn nothing_is_sent_without_carrier() {
    let mut c = client().without_carrier();
    let a = c.handle(t(0.0), Event6::Start);
    assert!(sends(&a).is_empty());
    let at = c.poll_at().unwrap();
    assert!(sends(&c.handle(at, Event6::Tick)).is_empty());
    // Back: a fresh SOLICIT, after its random delay.
    c.handle(t(5.0), Event6::Link { carrier: true });
    let (when, sol, _) = next_send(&mut c, t(6.0));
    assert_eq!(sol.kind, Kind6::Solicit);
    assert_eq!(sol.elapsed, 0);
    assert!(when >= t(5.0));
}

#[test]
fn carrier_back_with_addresses_reapplies_and_confirms() {
    let (mut c, lease, back, a) = flapped(config(), vec![the_na()]);
    assert!(a.contains(&Action6::Reapply {
        lease: lease.clone(),
        transition: Transition6::Bound6
    }));
    let conf = match sends(&a).into_iter().next() {
        Some(m) => m,
        None => next_send(&mut c, back + s(1.0)).1,
    };
    assert_eq!(conf.kind, Kind6::Confirm);
    assert_eq!(conf.server_id, None);
    assert!(conf.oro.is_empty());
    assert_eq!(conf.ias, vec![na(IAID, 0, 0, &[(ADDR, 0, 0)])]);
    assert_eq!(c.state(), StateName6::Confirming);
    // Success: the lease stays as it is, no Configure.
    let a = c.handle(back + s(1.5), rx(&reply(conf.xid, vec![])));
    assert!(configured(&a).is_none() && deconfigured(&a).is_none());
    assert_eq!(c.state(), StateName6::Bound);
    assert_eq!(c.lease(), Some(&lease));
}

#[test]
fn not_on_link_to_confirm_takes_the_lease_off_and_solicits() {
    let (mut c, lease, back, _) = flapped(config(), vec![the_na()]);
    let (at, conf, _) = next_send(&mut c, back + s(1.0));
    let mut r = reply(conf.xid, vec![]);
    r.status = status(StatusCode::NotOnLink);
    let a = c.handle(at + s(0.1), rx(&r));
    let (gone, reason, tr) = deconfigured(&a).unwrap();
    assert_eq!(
        (gone, reason, tr),
        (lease, Reason6::NotOnLink, Transition6::Expire6)
    );
    assert_eq!(sent(&a).kind, Kind6::Solicit);
}

#[test]
fn no_answer_to_confirm_within_its_mrd_keeps_the_lease() {
    let (mut c, lease, back, a) = flapped(config(), vec![the_na()]);
    let first = sends(&a)
        .into_iter()
        .next()
        .map(|m| (back, m))
        .unwrap_or_else(|| {
            let (at, m, _) = next_send(&mut c, back + s(1.0));
            (at, m)
        });
    let mut times = vec![first.0];
    while c.state() == StateName6::Confirming {
        let at = c.poll_at().unwrap();
        let a = c.handle(at, Event6::Tick);
        assert!(deconfigured(&a).is_none());
        if !sends(&a).is_empty() {
            times.push(at);
        }
        if c.state() != StateName6::Confirming {
            // CNF_MAX_RD (10 s) from the first CONFIRM.
            assert_eq!(at, first.0 + s(10.0));
        }
    }
    // RT 1, 2, then 4 (CNF_MAX_RT), each ±10 %, until 10 s (CNF_MAX_RD) after the first.
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| w[1].saturating_since(w[0]).as_secs_f64())
        .collect();
    assert!((0.9..=1.1).contains(&gaps[0]), "{gaps:?}");
    assert!((1.7..=2.31).contains(&gaps[1]), "{gaps:?}");
    assert!(
        gaps[2..].iter().all(|g| (3.6..=4.4).contains(g)),
        "{gaps:?}"
    );
    assert!(*times.last().unwrap() < first.0 + s(10.0));
    assert_eq!(c.state(), StateName6::Bound);
    assert_eq!(c.lease(), Some(&lease));
}

#[test]
fn carrier_back_with_a_prefix_rebinds_with_confirms_timing() {
    let prefix = pd(IAID, 1000, 2000, &[(PREFIX, 56, 3000, 4000)]);
    let (mut c, _, back, a) = flapped(pd_config(), vec![prefix.clone()]);
    let reb = match sends(&a).into_iter().next() {
        Some(m) => m,
        None => next_send(&mut c, back + s(1.0)).1,
    };
    assert_eq!((reb.kind, reb.server_id.clone()), (Kind6::Rebind, None));
    assert_eq!(reb.ias, vec![pd(IAID, 0, 0, &[(PREFIX, 56, 0, 0)])]);
    let a = c.handle(back + s(1.5), rx(&reply(reb.xid, vec![prefix])));
    assert_eq!(configured(&a).unwrap().2, Transition6::Rebind6);
    assert_eq!(c.state(), StateName6::Bound);
}

#[test]
fn a_rebind_unanswered_after_carrier_keeps_the_prefix_after_10_s() {
    let prefix = pd(IAID, 1000, 2000, &[(PREFIX, 56, 3000, 4000)]);
    let (mut c, lease, back, _) = flapped(pd_config(), vec![prefix]);
    while c.state() == StateName6::Confirming {
        let at = c.poll_at().unwrap();
        assert!(at <= back + s(11.0));
        assert!(deconfigured(&c.handle(at, Event6::Tick)).is_none());
    }
    assert_eq!(c.lease(), Some(&lease));
}

#[test]
fn a_saved_lease_is_confirmed_at_start_and_bound6_when_kept() {
    let (_, lease, _) = bound();
    let mut c = client().with_saved_lease(lease.clone());
    let now = lease.start + s(100.0);
    let a = c.handle(now, Event6::Start);
    assert_eq!(notified(&a)[0].0, Transition6::Preinit6);
    let (at, conf) = match sends(&a).into_iter().next() {
        Some(m) => (now, m),
        None => {
            let (at, m, _) = next_send(&mut c, now + s(1.0));
            (at, m)
        }
    };
    assert_eq!(conf.kind, Kind6::Confirm);
    let a = c.handle(at, rx(&reply(conf.xid, vec![])));
    let (bound, previous, tr) = configured(&a).unwrap();
    assert_eq!((bound, tr), (lease.clone(), Transition6::Bound6));
    assert_eq!(
        previous,
        Some(lease),
        "the saved lease may be on the interface"
    );
}

#[test]
fn a_saved_lease_run_out_is_taken_off_and_a_solicit_starts() {
    let (_, lease, _) = bound();
    let mut c = client().with_saved_lease(lease.clone());
    let a = c.handle(lease.start + s(5000.0), Event6::Start);
    let (gone, reason, _) = deconfigured(&a).unwrap();
    assert_eq!((gone, reason), (lease, Reason6::Expired));
    assert!(a.contains(&Action6::ForgetLease));
    assert_eq!(c.state(), StateName6::Soliciting);
}

#[test]
fn the_same_carrier_state_told_again_changes_nothing() {
    let (mut c, _, start) = bound();
    let before = c.poll_at();
    assert!(c
        .handle(start + s(1.0), Event6::Link { carrier: true })
        .is_empty());
    assert_eq!(c.poll_at(), before);
}
