//! Every transition is named by the core, one test per name: the shell maps it to
//! dhclient-script's word and infers nothing (not from the state before, nor from the
//! addresses). Also the leases an earlier run left on the interface, taken off at start.

use super::*;

/// Every transition a batch of actions names, in order.
fn named(actions: &[Action]) -> Vec<Transition> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Configure { transition, .. }
            | Action::Deconfigure { transition, .. }
            | Action::Reapply { transition, .. }
            | Action::Notify { transition, .. } => Some(*transition),
            _ => None,
        })
        .collect()
}

/// The transition and renewal flag of the one Configure in `actions`.
fn configure_of(actions: &[Action]) -> (Transition, bool) {
    let found: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Configure {
                transition,
                renewal,
                ..
            } => Some((*transition, *renewal)),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{actions:?}");
    found[0]
}

/// The reason and transition of the one Deconfigure in `actions`.
fn deconfigure_of(actions: &[Action]) -> (Lease, Reason, Transition) {
    let found: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Deconfigure {
                lease,
                reason,
                transition,
            } => Some((lease.clone(), *reason, *transition)),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{actions:?}");
    found[0].clone()
}

/// A client bound to a one-hour lease, renewing at T1: the REQUEST's xid, and the lease.
fn renewing() -> (Client, u32, Lease) {
    let (mut c, _, lease) = bound(3600);
    let (r, _) = sent(&c.handle(lease.renew_at().unwrap(), Event::Tick));
    assert_eq!(c.state(), StateName::Renewing);
    (c, r.xid(), lease)
}

#[test]
fn preinit_is_told_first_at_start() {
    for mut c in [
        client(),
        client().with_saved_lease(saved_lease(t(0.0), 3600)),
        client().without_carrier(),
    ] {
        let a = c.handle(t(1.0), Event::Start);
        assert_eq!(
            a.first(),
            Some(&Action::Notify {
                transition: Transition::Preinit,
                lease: None
            }),
            "{a:?}"
        );
        assert_eq!(named(&a), [Transition::Preinit], "{a:?}");
    }
}

#[test]
fn a_first_lease_is_bound() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.01), Event::Reply(&rx(&offer(d.xid()))));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert_eq!(configure_of(&a), (Transition::Bound, false));
}

#[test]
fn a_rapid_commit_lease_is_bound() {
    let mut c = client();
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let a = c.handle(t(0.01), Event::Reply(&rx(&rapid_ack(d.xid()))));
    assert_eq!(configure_of(&a), (Transition::Bound, false));
}

#[test]
fn a_renewal_with_its_server_is_renew() {
    let (mut c, xid, lease) = renewing();
    let at = lease.renew_at().unwrap() + Duration::from_millis(5);
    let a = c.handle(at, Event::Reply(&rx(&ack(xid, 3600))));
    assert_eq!(configure_of(&a), (Transition::Renew, true));
}

#[test]
fn a_renewal_with_another_server_is_rebind() {
    let (mut c, _, lease) = renewing();
    let t2 = lease.rebind_at().unwrap();
    // No answer to the renewals: REBINDING at T2, a broadcast REQUEST any server may answer.
    let mut last = None;
    while c.state() == StateName::Renewing {
        let at = c.poll_at().unwrap();
        last = Some((at, sent(&c.handle(at, Event::Tick)).0));
    }
    let (at, r) = last.unwrap();
    assert_eq!((c.state(), at), (StateName::Rebinding, t2));
    let a = c.handle(
        at,
        Event::Reply(&rx(&ack_from(r.xid(), OTHER_SERVER, 3600))),
    );
    assert_eq!(configure_of(&a), (Transition::Rebind, true));
}

#[test]
fn a_saved_lease_confirmed_is_reboot_probed_or_not() {
    // Without conflict detection: the ACK binds at once.
    let mut c = client().with_saved_lease(saved_lease(t(0.0), 3600));
    let (r, _) = sent(&c.handle(t(100.0), Event::Start));
    let a = c.handle(t(100.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert_eq!(configure_of(&a), (Transition::Reboot, false));

    // With it: the address is probed first, then bound, still REBOOT (the address held).
    let mut cfg = Config::new(MAC);
    cfg.probe = ProbeMode::Quick(Duration::from_millis(200));
    let mut c = Client::new(cfg, 42).with_saved_lease(saved_lease(t(0.0), 3600));
    let (r, _) = sent(&c.handle(t(100.0), Event::Start));
    let a = c.handle(t(100.1), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert_eq!(c.state(), StateName::Probing, "{a:?}");
    let mut a = Vec::new();
    while c.state() == StateName::Probing {
        a = c.handle(c.poll_at().unwrap(), Event::Tick);
    }
    assert_eq!(configure_of(&a), (Transition::Reboot, false));
}

#[test]
fn carrier_back_is_reboot() {
    let (mut c, _, lease) = bound(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    let a = c.handle(t(20.0), Event::Link { carrier: true });
    // What the kernel dropped is put back: REBOOT, for a script that configures.
    assert_eq!(named(&a), [Transition::Reboot], "{a:?}");
    assert!(a.contains(&Action::Reapply {
        lease,
        transition: Transition::Reboot
    }));
    // The server confirms it: REBOOT again, a renewal.
    let (r, _) = sent(&a);
    let a = c.handle(t(20.01), Event::Reply(&rx(&ack(r.xid(), 3600))));
    assert_eq!(configure_of(&a), (Transition::Reboot, true));
}

#[test]
fn another_address_at_renewal_is_bound() {
    let (mut c, xid, old) = renewing_with_probe();
    let at = c.poll_at().unwrap();
    c.handle(at, Event::Reply(&rx(&ack_of(xid, NEW_ADDR))));
    assert_eq!(c.state(), StateName::Probing);
    let mut a = Vec::new();
    while c.state() == StateName::Probing {
        a = c.handle(c.poll_at().unwrap(), Event::Tick);
    }
    let (new, previous) = configured(&a).unwrap();
    assert_eq!((new.address, previous), (NEW_ADDR, Some(old)));
    assert_eq!(configure_of(&a), (Transition::Bound, false));
}

#[test]
fn a_lease_that_runs_out_is_expire() {
    let (mut c, _, lease) = bound(3600);
    let end = lease.expires_at().unwrap();
    let mut a = Vec::new();
    while c.applied().is_some() {
        let at = c.poll_at().unwrap();
        assert!(at <= end);
        a = c.handle(at, Event::Tick);
    }
    assert_eq!(
        deconfigure_of(&a),
        (lease, Reason::Expired, Transition::Expire)
    );
}

#[test]
fn a_nak_is_nak_whatever_the_state() {
    // RENEWING.
    let (mut c, xid, lease) = renewing();
    let at = lease.renew_at().unwrap() + Duration::from_secs(1);
    let a = c.handle(at, Event::Reply(&rx(&nak(xid, SERVER))));
    assert_eq!(deconfigure_of(&a), (lease, Reason::Nak, Transition::Nak));

    // REBOOTING: the saved lease an earlier run may have left is taken off.
    let saved = saved_lease(t(0.0), 3600);
    let mut c = client().with_saved_lease(saved.clone());
    let (r, _) = sent(&c.handle(t(1.0), Event::Start));
    let a = c.handle(t(1.1), Event::Reply(&rx(&nak(r.xid(), SERVER))));
    assert_eq!(deconfigure_of(&a), (saved, Reason::Nak, Transition::Nak));
    assert_eq!(c.applied(), None);
}

#[test]
fn a_release_is_release() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(10.0), Event::Release);
    assert_eq!(
        deconfigure_of(&a),
        (lease, Reason::Released, Transition::Release)
    );
}

#[test]
fn a_stop_is_stop_with_the_lease_kept() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(10.0), Event::Stop);
    assert_eq!(
        a,
        [Action::Notify {
            transition: Transition::Stop,
            lease: Some(lease.clone())
        }]
    );
    assert_eq!(c.applied(), Some(&lease), "the lease stays");

    // With nothing held, STOP tells of nothing.
    let mut c = client();
    c.handle(t(0.0), Event::Start);
    let a = c.handle(t(1.0), Event::Stop);
    assert_eq!(named(&a), [Transition::Stop]);
    assert!(a.contains(&Action::Notify {
        transition: Transition::Stop,
        lease: None
    }));
}

#[test]
fn the_interface_removed_is_stop() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(10.0), Event::Gone);
    assert_eq!(deconfigure_of(&a), (lease, Reason::Gone, Transition::Stop));
}

#[test]
fn the_acquire_timeout_is_fail_right_after_no_lease() {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(10));
    let mut c = Client::new(cfg, 42);
    c.handle(t(0.0), Event::Start);
    let (a, now) = loop {
        let now = c.poll_at().unwrap();
        let a = c.handle(now, Event::Tick);
        if no_lease(&a).is_some() {
            break (a, now);
        }
    };
    assert_eq!(now, t(10.0));
    let i = a
        .iter()
        .position(|a| matches!(a, Action::NoLease(_)))
        .unwrap();
    assert_eq!(
        a.get(i + 1),
        Some(&Action::Notify {
            transition: Transition::Fail,
            lease: None
        }),
        "{a:?}"
    );
    assert_eq!(named(&a), [Transition::Fail]);
}

#[test]
fn a_saved_lease_no_server_confirms_is_fail() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = client().with_saved_lease(saved.clone());
    c.handle(t(1.0), Event::Start);
    let mut a = Vec::new();
    while c.state() == StateName::Rebooting {
        a = c.handle(c.poll_at().unwrap(), Event::Tick);
    }
    assert_eq!(
        deconfigure_of(&a),
        (saved, Reason::Unconfirmed, Transition::Fail)
    );
}

#[test]
fn a_lease_the_system_refuses_is_fail() {
    let (mut c, _, lease) = bound(3600);
    let a = c.handle(t(0.03), refused(&lease));
    assert_eq!(
        deconfigure_of(&a),
        (lease, Reason::NotApplied, Transition::Fail)
    );
}

#[test]
fn every_reason_to_take_a_lease_off_is_one_transition() {
    use Transition::*;
    for (reason, transition) in [
        (Reason::Expired, Expire),
        (Reason::Nak, Nak),
        (Reason::Released, Release),
        (Reason::Unconfirmed, Fail),
        (Reason::Declined, Expire),
        (Reason::NotApplied, Fail),
        (Reason::NotConfirmed, Fail),
        (Reason::Moved, Expire),
        (Reason::Gone, Stop),
        (Reason::Conflict, Expire),
        (Reason::Stale, Expire),
    ] {
        assert_eq!(reason.transition(), transition, "{reason:?}");
    }
}

#[test]
fn another_network_after_carrier_is_expire() {
    let (mut c, lease) = bound_knowing_router(3600);
    c.handle(t(10.0), Event::Link { carrier: false });
    c.handle(t(20.0), Event::Link { carrier: true });
    let a = c.handle(t(20.001), from_router([0x02, 0, 0, 0, 0, 0x66]));
    assert_eq!(
        deconfigure_of(&a),
        (lease, Reason::Moved, Transition::Expire)
    );
}

#[test]
fn a_lease_life_is_told_as_dhclient_tells_it() {
    let mut c = client();
    let mut told = Vec::new();
    let a = c.handle(t(0.0), Event::Start);
    told.extend(named(&a));
    let xid = sent(&a).0.xid();
    c.handle(t(0.01), Event::Reply(&rx(&offer(xid))));
    let a = c.handle(t(0.02), Event::Reply(&rx(&ack(xid, 3600))));
    told.extend(named(&a));
    let lease = c.lease().unwrap().clone();
    let t1 = lease.renew_at().unwrap();
    let (r, _) = sent(&c.handle(t1, Event::Tick));
    let a = c.handle(t1, Event::Reply(&rx(&ack(r.xid(), 3600))));
    told.extend(named(&a));
    c.handle(t1 + Duration::from_secs(60), Event::Link { carrier: false });
    let a = c.handle(t1 + Duration::from_secs(70), Event::Link { carrier: true });
    told.extend(named(&a));
    let (r, _) = sent(&a);
    let a = c.handle(
        t1 + Duration::from_secs(71),
        Event::Reply(&rx(&ack(r.xid(), 3600))),
    );
    told.extend(named(&a));
    let a = c.handle(t1 + Duration::from_secs(80), Event::Release);
    told.extend(named(&a));
    use Transition::*;
    assert_eq!(told, [Preinit, Bound, Renew, Reboot, Reboot, Release]);
}

#[test]
fn a_leftover_lease_is_taken_off_at_start_before_anything_is_sent() {
    // Leased to another hardware address: the file was refused, but an earlier run (stopped
    // with -x) may have left its address and routes on the interface.
    let leftover = saved_lease(t(0.0), 3600);
    let mut c = client().with_leftover(leftover.clone());
    let a = c.handle(t(100.0), Event::Start);
    assert_eq!(
        a[..3],
        [
            Action::Notify {
                transition: Transition::Preinit,
                lease: None
            },
            Action::Deconfigure {
                lease: leftover,
                reason: Reason::Stale,
                transition: Transition::Expire
            },
            Action::ForgetLease,
        ],
        "{a:?}"
    );
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.applied(), None);
    assert_eq!(c.state(), StateName::Selecting);
}

#[test]
fn a_leftover_that_has_run_out_is_taken_off_as_expired() {
    let leftover = saved_lease(t(0.0), 3600);
    let mut c = client().with_leftover(leftover.clone());
    let a = c.handle(t(4000.0), Event::Start);
    assert_eq!(
        deconfigure_of(&a),
        (leftover, Reason::Expired, Transition::Expire)
    );
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
}

#[test]
fn a_saved_lease_that_ran_out_before_start_is_taken_off_not_asked_for() {
    let saved = saved_lease(t(0.0), 3600);
    let mut c = client().with_saved_lease(saved.clone());
    let a = c.handle(t(3600.0), Event::Start);
    assert_eq!(
        deconfigure_of(&a),
        (saved, Reason::Expired, Transition::Expire)
    );
    assert!(a.contains(&Action::ForgetLease));
    assert_eq!(kind(&sent(&a).0), MessageType::Discover);
    assert_eq!(c.applied(), None);
}
