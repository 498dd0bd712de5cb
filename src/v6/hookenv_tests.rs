//! Unit tests of [`super`], in a file of their own to keep the module short. The fixtures are
//! what ISC dhclient 4.4.3 -6 gave its script in a namespace lab against ISC dhcpd -6
//! (`testdata/record.sh`).

use super::*;
use crate::time::Instant;
use crate::v6::StatusCode;
use std::net::Ipv6Addr;

const RUNS: &str = include_str!("testdata/dhclient6-runs.env");
const TIMED: &str = include_str!("testdata/dhclient6-timed.env");
/// What Debian's dhclient.conf asks for: dhcp6.name-servers, domain-search, fqdn, sntp-servers.
const DEBIAN_ORO: &[u16] = &[23, 24, 39, 31];
const SERVER_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const IAID: u32 = 0x00aa_bbcc;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// The recorded runs: (reason, variables sorted), without dhclient's own PATH.
fn recorded(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut runs: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        if let Some(reason) = line.strip_prefix("== ") {
            runs.push((reason.to_string(), Vec::new()));
        } else if let (Some((k, v)), Some(run)) = (line.split_once('='), runs.last_mut()) {
            if k != "PATH" {
                run.1.push((k.to_string(), v.to_string()));
            }
        }
    }
    runs
}

/// The lab's lease: an address (and a prefix when `prefix`), DNS, search list and SNTP.
fn lab_lease(addr: &str, preferred: u32, valid: u32, prefix: bool) -> Lease6 {
    let ia = |holdings| Ia {
        iaid: IAID,
        t1: 0,
        t2: 0,
        status: StatusCode::Success,
        holdings,
    };
    let mut ias = vec![ia(Holdings::Addresses(vec![IaAddr {
        addr: a(addr),
        preferred,
        valid,
    }]))];
    if prefix {
        ias.push(ia(Holdings::Prefixes(vec![IaPrefix {
            prefix: a("2001:db8:1ff::"),
            len: 56,
            preferred,
            valid,
        }])));
    }
    Lease6 {
        server_id: SERVER_DUID.to_vec(),
        server_addr: Some(a("fe80::1")),
        ias,
        dns: vec![a("2001:db8:1::53"), a("2001:db8:1::54")],
        search: vec!["example.com".into(), "lab.example.org".into()],
        ntp: vec![],
        sntp: vec![a("2001:db8:1::123")],
        info_refresh: None,
        options: vec![(14, vec![])],
        start: Instant::ZERO,
    }
}

fn client_duid(time: [u8; 4]) -> Vec<u8> {
    [&[0, 1, 0, 1][..], &time, &[2, 0, 0, 0xaa, 0xbb, 0xcc]].concat()
}

fn event<'a>(reason: Reason6, pid: u32, duid: &'a [u8]) -> Event6Env<'a> {
    Event6Env {
        reason,
        interface: "v6rec-c0",
        pid,
        dad_wait_time: 0,
        address_prefix_len: 128,
        client_duid: duid,
        requested: DEBIAN_ORO,
        new: None,
        old: None,
    }
}

fn sorted(ev: &Event6Env<'_>) -> Vec<(String, String)> {
    let (mut env, withheld) = environment(ev);
    assert_eq!(withheld, vec![], "{:?}", ev.reason);
    env.sort();
    env
}

fn check(expected: &(String, Vec<(String, String)>), ev: &Event6Env<'_>) {
    assert_eq!(expected.0, ev.reason.as_str());
    assert_eq!(sorted(ev), expected.1, "{}", expected.0);
}

#[test]
fn bound_and_released_as_dhclient_runs_the_script() {
    let runs = recorded(RUNS);
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    let expect = [
        "PREINIT6", "BOUND6", "BOUND6", "RELEASE6", "RELEASE6", "RENEW6", "STOP6",
    ];
    assert_eq!(names, expect);
    let duid = client_duid([0x32, 0xa4, 0x49, 0xc2]);
    let lease = lab_lease("2001:db8:1::1f3", 300, 600, true);
    let starts = 1_796_312_388;
    check(&runs[0], &event(Reason6::Preinit6, 17875, &duid));
    let bound = bound_sides(&lease, starts, None);
    assert_eq!(bound.len(), 2);
    for (run, (new, old)) in runs[1..3].iter().zip(bound) {
        let ev = event(Reason6::Bound6, 17875, &duid);
        check(
            run,
            &Event6Env {
                new: Some(new),
                old,
                ..ev
            },
        );
    }
    let gone = unconfigure_sides(&lease, starts);
    assert_eq!(gone.len(), 2);
    for (run, old) in runs[3..5].iter().zip(gone) {
        let ev = event(Reason6::Release6, 17900, &duid);
        check(
            run,
            &Event6Env {
                old: Some(old),
                ..ev
            },
        );
    }
    // Stateless (-S): RENEW6 with the options only, then STOP6 (-x).
    let stateless = Lease6 {
        ias: vec![],
        ..lease.clone()
    };
    let (new, old) = bound_sides(&stateless, starts, Some((&stateless, starts)))[0];
    let ev = event(Reason6::Renew6, 17924, &duid);
    check(
        &runs[5],
        &Event6Env {
            new: Some(new),
            old,
            ..ev
        },
    );
    let old = unconfigure_sides(&stateless, starts)[0];
    let ev = event(Reason6::Stop6, 17939, &duid);
    check(
        &runs[6],
        &Event6Env {
            old: Some(old),
            ..ev
        },
    );
}

#[test]
fn renewed_deprecated_and_expired_as_dhclient_says() {
    let runs = recorded(TIMED);
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    let expect = [
        "PREINIT6", "BOUND6", "DEPREF6", "RENEW6", "DEPREF6", "EXPIRE6", "STOP6",
    ];
    assert_eq!(names, expect);
    let duid = client_duid([0x32, 0xa4, 0x49, 0xc7]);
    let lease = lab_lease("2001:db8:1::169", 6, 20, false);
    let (first, second) = (1_796_312_393, 1_796_312_403);
    let at = |starts| Side {
        lease: &lease,
        starts,
        ia: Some(0),
        item: Some(0),
    };
    check(&runs[0], &event(Reason6::Preinit6, 17969, &duid));
    let (new, old) = bound_sides(&lease, first, None)[0];
    let ev = event(Reason6::Bound6, 17969, &duid);
    check(
        &runs[1],
        &Event6Env {
            new: Some(new),
            old,
            ..ev
        },
    );
    let ev = event(Reason6::Depref6, 17969, &duid);
    check(
        &runs[2],
        &Event6Env {
            new: Some(at(first)),
            ..ev
        },
    );
    let (new, old) = bound_sides(&lease, second, Some((&lease, first)))[0];
    let ev = event(Reason6::Renew6, 17969, &duid);
    check(
        &runs[3],
        &Event6Env {
            new: Some(new),
            old,
            ..ev
        },
    );
    let ev = event(Reason6::Depref6, 17969, &duid);
    check(
        &runs[4],
        &Event6Env {
            new: Some(at(second)),
            ..ev
        },
    );
    let ev = event(Reason6::Expire6, 17969, &duid);
    check(
        &runs[5],
        &Event6Env {
            old: Some(at(second)),
            ..ev
        },
    );
    let ev = event(Reason6::Stop6, 19165, &duid);
    check(
        &runs[6],
        &Event6Env {
            old: Some(at(second)),
            ..ev
        },
    );
}

#[test]
fn old_sides_follow_the_same_ia_and_address() {
    let old = lab_lease("2001:db8:1::10", 300, 600, true);
    let mut new = lab_lease("2001:db8:1::20", 300, 600, true);
    // A second address, which the old lease had.
    if let Holdings::Addresses(v) = &mut new.ias[0].holdings {
        v.push(IaAddr {
            addr: a("2001:db8:1::10"),
            preferred: 1,
            valid: 2,
        });
    }
    // The new lease lists its IAs the other way round.
    new.ias.reverse();
    let runs = bound_sides(&new, 5, Some((&old, 1)));
    let pairs: Vec<_> = runs
        .iter()
        .map(|(n, o)| ((n.ia, n.item), o.map(|o| (o.ia, o.item))))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ((Some(0), Some(0)), Some((Some(1), Some(0)))),
            ((Some(1), Some(0)), Some((Some(0), None))),
            ((Some(1), Some(1)), Some((Some(0), Some(0)))),
        ]
    );
    // An IA that holds nothing: one run, the old IA's first address beside it.
    let mut empty = old.clone();
    empty.ias[0].holdings = Holdings::Addresses(vec![]);
    let runs = bound_sides(&empty, 5, Some((&old, 1)));
    assert_eq!(runs[0].0.item, None);
    assert_eq!(runs[0].1.map(|o| (o.ia, o.item)), Some((Some(0), Some(0))));
    assert!(unconfigure_sides(&empty, 1).len() == 1);
}

#[test]
fn a_prefix_length_and_the_cur_prefix() {
    let lease = lab_lease("2001:db8:1::1", u32::MAX, u32::MAX, false);
    let duid = client_duid([0; 4]);
    let side = Side {
        lease: &lease,
        starts: 7,
        ia: Some(0),
        item: Some(0),
    };
    let ev = Event6Env {
        address_prefix_len: 64,
        dad_wait_time: 2,
        new: Some(side),
        ..event(Reason6::Depref6, 1, &duid)
    };
    let env = sorted(&ev);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("cur_ip6_prefixlen"), Some("64"));
    assert_eq!(get("cur_max_life"), Some("4294967295"));
    assert_eq!(get("dad_wait_time"), Some("2"));
    assert_eq!(get("new_ip6_address"), None);
}

/// The environment of a lease whose options are `options`, as `new_*`.
fn with_options(options: Vec<(u16, Vec<u8>)>) -> (Vec<(String, String)>, Vec<Withheld>) {
    let lease = Lease6 {
        options,
        search: vec![],
        ..lab_lease("2001:db8:1::1", 1, 2, false)
    };
    let side = Side::lease_wide(&lease, 0);
    let ev = Event6Env {
        new: Some(side),
        requested: &[23, 23, 56, 24, 9999],
        ..event(Reason6::Renew6, 1, &[0, 3, 0, 1, 1, 2, 3, 4, 5, 6])
    };
    environment(&ev)
}

#[test]
fn options_print_as_isc_prints_them() {
    let (env, withheld) = with_options(vec![
        (1, b"echoed-duid\0".to_vec()),
        (7, vec![255]),
        (12, a("2001:db8::1").octets().to_vec()),
        (13, b"\0\0All good".to_vec()),
        (32, vec![0xff; 4]),
        (
            56,
            vec![
                0, 1, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x23,
            ],
        ),
        (64, b"\x04aftr\x07example\0".to_vec()),
        (82, vec![0, 0, 0, 60]),
        (61, vec![0, 7, 0, 9]),
        (4242, vec![0xde, 0xad]),
    ]);
    assert_eq!(withheld, vec![]);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("new_dhcp6_client_id"), Some("echoed-duid"));
    assert_eq!(get("new_dhcp6_preference"), None);
    assert_eq!(get("new_dhcp6_unicast"), Some("2001:db8::1"));
    assert_eq!(get("new_dhcp6_status_code"), Some("success All good"));
    assert_eq!(get("new_dhcp6_info_refresh_time"), Some("infinite"));
    assert_eq!(
        get("new_dhcp6_unknown_56"),
        Some("0:1:0:10:20:1:d:b8:0:0:0:0:0:0:0:0:0:0:1:23")
    );
    assert_eq!(get("new_dhcp6_aftr_name"), Some("aftr.example."));
    assert_eq!(get("new_dhcp6_solmax_rt"), Some("60"));
    assert_eq!(get("new_dhcp6_client_arch_type"), Some("7 9"));
    assert_eq!(get("new_dhcp6_unknown_4242"), Some("de:ad"));
    assert_eq!(get("new_dhcp6_rapid_commit"), None);
    let requested: Vec<&str> = env
        .iter()
        .filter(|(n, _)| n.starts_with("requested_"))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        requested,
        [
            "requested_dhcp6_name_servers",
            "requested_dhcp6_domain_search"
        ]
    );
}

#[test]
fn what_is_unsafe_or_malformed_is_withheld() {
    let (env, withheld) = with_options(vec![
        (1, b"id; $(reboot)".to_vec()),
        (13, b"\0\x01`id`".to_vec()),
        (21, b"\x03a b\x00".to_vec()),
        (22, vec![0; 15]),
        (29, b"\x03abc".to_vec()),
        (32, vec![0, 1]),
        (41, b"EST5EDT\n".to_vec()),
        (42, b"Europe/Paris".to_vec()),
    ]);
    let names: Vec<(&str, &str)> = withheld.iter().map(|w| (w.name.as_str(), w.why)).collect();
    assert_eq!(
        names,
        vec![
            ("new_dhcp6_client_id", UNSAFE_TEXT),
            ("new_dhcp6_status_code", UNSAFE_TEXT),
            ("new_dhcp6_sip_servers_names", NOT_A_NAME),
            ("new_dhcp6_sip_servers_addresses", MALFORMED),
            ("new_dhcp6_nis_domain_name", MALFORMED),
            ("new_dhcp6_info_refresh_time", MALFORMED),
            ("new_dhcp6_new_posix_timezone", UNSAFE_TEXT),
        ]
    );
    for w in &withheld {
        assert!(env.iter().all(|(n, _)| *n != w.name), "{}", w.name);
    }
    let tz = env.iter().find(|(n, _)| n == "new_dhcp6_new_tzdb_timezone");
    assert_eq!(tz.map(|(_, v)| v.as_str()), Some("Europe/Paris"));
}

#[test]
fn random_options_never_panic() {
    let mut rng = fastrand::Rng::with_seed(20);
    for _ in 0..3_000 {
        let options = (0..rng.usize(0..6))
            .map(|_| {
                let code = rng.u16(0..150);
                let len = rng.usize(0..40);
                (code, (0..len).map(|_| rng.u8(..)).collect())
            })
            .collect();
        let (env, _) = with_options(options);
        for (k, v) in env {
            assert!(!k.contains('=') && !v.contains('\n'), "{k}={v}");
        }
    }
}

#[test]
fn dhclient_reads_our_lease_file_as_we_read_it() {
    // dhclient -6 -x on the lease file dhcpc writes (testdata/dhcpc6.leases): STOP6 for each
    // address and prefix in it, with what it read.
    let runs = recorded(include_str!("testdata/dhclient6-reads-ours.env"));
    let file = include_str!("testdata/dhcpc6.leases");
    let block = &crate::dhclient::leases6::parse_all(file, Instant::ZERO).unwrap()[0];
    let sides = unconfigure_sides(&block.lease, block.starts);
    assert_eq!((runs.len(), sides.len()), (3, 3));
    let pid = runs[0]
        .1
        .iter()
        .find(|(k, _)| k == "pid")
        .unwrap()
        .1
        .parse()
        .unwrap();
    for (run, side) in runs.iter().zip(sides) {
        let ev = Event6Env {
            old: Some(side),
            ..event(Reason6::Stop6, pid, &[])
        };
        let (mut ours, withheld) = environment(&ev);
        ours.sort();
        // The server's DUID and the status message are text with quotes and `$`: dhclient
        // passes them escaped, dhcpc withholds them. dhclient 4.4.3 cannot read back the
        // info-refresh-time and aftr-name it writes ("parse_option_param: Bad format T",
        // "... d"): dhcpc can.
        let only_theirs = ["old_dhcp6_server_id", "old_dhcp6_status_code"];
        let held: Vec<&str> = withheld.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(held, only_theirs);
        let theirs: Vec<_> = run
            .1
            .iter()
            .filter(|(k, _)| !only_theirs.contains(&k.as_str()))
            .cloned()
            .collect();
        let only_ours = ["old_dhcp6_aftr_name", "old_dhcp6_info_refresh_time"];
        ours.retain(|(k, _)| !only_ours.contains(&k.as_str()));
        assert_eq!(ours, theirs);
    }
}
