//! Why no lease was taken: the acquire timeout's report, and a lease the system refuses.

use super::*;

#[test]
fn the_acquire_timeout_says_why_no_lease_was_taken() {
    // Nobody answers.
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(10));
    let mut c = Client::new(cfg.clone(), 1);
    c.handle(t(0.0), Event::Start);
    let mut report = None;
    while report.is_none() {
        let at = c.poll_at().unwrap();
        assert!(at <= t(10.0));
        report = no_lease(&c.handle(at, Event::Tick));
    }
    assert_eq!(report.unwrap(), "no DHCP server answered");
    assert_eq!(c.state(), StateName::Selecting, "it goes on trying");
    assert!(c.timers().get(Timer::AcquireTimeout).is_none(), "said once");

    // A server whose offers are refused, and an unreadable message.
    let mut c = Client::new(cfg.clone(), 2);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    let mut bad = offer(d.xid());
    bad.opts_mut()
        .insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 0, 255, 0)));
    for _ in 0..3 {
        assert!(c.handle(t(1.0), Event::Reply(&rx(&bad))).is_empty());
    }
    c.handle(
        t(1.0),
        Event::Unreadable {
            from: OTHER_SERVER,
            why: "bad magic cookie".into(),
        },
    );
    let a = c.handle(t(10.0), Event::Tick);
    assert_eq!(
        no_lease(&a).unwrap(),
        "3 replies from 198.51.100.1 dropped: subnet mask 255.0.255.0 is not contiguous; \
         1 unreadable message from 198.51.100.2 dropped: bad magic cookie"
    );

    // A lease bound in time: no report.
    let mut c = Client::new(cfg, 3);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 3600))));
    assert!(c.timers().get(Timer::AcquireTimeout).is_none());
}

#[test]
fn a_first_lease_the_system_refuses_is_reported_at_the_acquire_timeout() {
    let mut cfg = config();
    cfg.acquire_timeout = Some(Duration::from_secs(10));
    let mut c = Client::new(cfg, 4);
    let (d, _) = sent(&c.handle(t(0.0), Event::Start));
    c.handle(t(0.1), Event::Reply(&rx(&offer(d.xid()))));
    let (lease, _) = configured(&c.handle(t(0.2), Event::Reply(&rx(&ack(d.xid(), 3600))))).unwrap();
    assert_eq!(c.timers().get(Timer::AcquireTimeout), None);
    c.handle(t(0.3), refused(&lease));
    // Whoever waits for the first lease is still told, at the deadline, and why.
    assert_eq!(c.timers().get(Timer::AcquireTimeout), Some(t(10.0)));
    let mut why = None;
    while why.is_none() {
        let at = c.poll_at().unwrap();
        assert!(at <= t(10.0));
        let a = c.handle(at, Event::Tick);
        why = no_lease(&a);
        for m in a.iter().filter_map(|a| match a {
            Action::Send { msg, .. } => Some(msg),
            _ => None,
        }) {
            // The server keeps offering; the system keeps refusing.
            let answer = match kind(m) {
                MessageType::Discover => offer(m.xid()),
                _ => ack(m.xid(), 3600),
            };
            if let Some((lease, _)) = configured(&c.handle(at, Event::Reply(&rx(&answer)))) {
                c.handle(at, refused(&lease));
            }
        }
    }
    assert!(
        why.as_deref()
            .unwrap()
            .contains("could not configure 198.51.100.77: Operation not permitted"),
        "{why:?}"
    );
    // Said once.
    assert_eq!(c.timers().get(Timer::AcquireTimeout), None);
}

#[test]
fn a_failed_configure_starts_over_after_a_growing_pause() {
    let (mut c, _, lease) = bound(3600);
    let now = t(1.0);
    let a = c.handle(now, refused(&lease));
    assert_eq!(deconfigured(&a), Some((lease.clone(), Reason::NotApplied)));
    assert_eq!(
        (c.state(), c.poll_at()),
        (StateName::Init, Some(now + backoff_base(1)))
    );
    let at = c.poll_at().unwrap();
    let (d, _) = sent(&c.handle(at, Event::Tick));
    c.handle(at, Event::Reply(&rx(&offer(d.xid()))));
    let (again, _) = configured(&c.handle(at, Event::Reply(&rx(&ack(d.xid(), 3600))))).unwrap();
    c.handle(at, refused(&again));
    assert_eq!(c.poll_at(), Some(at + backoff_base(2)));
    // About a lease the record has moved past: ignored.
    assert!(c.handle(at, refused(&lease)).is_empty());
    assert!(c.handle(at, refused(&again)).is_empty());
}
