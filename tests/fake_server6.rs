//! A hostile DHCPv6 server (tests/common/fake6.rs, in the lab's server namespace) against a
//! real `dhcpc -6` daemon in the client namespace. Whatever a server sends, the daemon goes on
//! (it answers `--status`, and binds once a good reply comes), never puts a multicast,
//! loopback, link-local, unspecified or IPv4-mapped address on the link nor routes a prefix of
//! that space, and never loses a lease it holds to a reply it may not take.
//!
//! Each test names the rule of RFC 8415 (or the core's, src/v6/reply and src/v6/core) it holds
//! dhcpc to. What reached the kernel is read from its own record: `ip -6 monitor` from before
//! dhcpc starts ([`Watch6`]), so an address that came and went is seen too; what the client
//! sent, from the fake's record. Nothing is asserted after a fixed sleep: a test waits on the
//! daemon's status, the fake's record, or (for "nothing happened") a bounded window.
//!
//! Root tier: needs root (`sudo -E cargo test --features root-tests --test fake_server6`).

mod common;

use common::*;
use dhcproto::v6::MessageType;
use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The address a good server gives ([`Plan6`]'s).
const GOOD: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x66);
/// The prefix a good server delegates ([`Plan6`]'s).
const GOOD_PREFIX: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0x6600, 0, 0, 0, 0), 56);
/// An address of the link's subnet that a hostile reply offers: usable, were the reply taken.
const BAD: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0xbad);
/// A prefix a hostile reply delegates: usable, were the reply taken.
const BAD_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0xba00, 0, 0, 0, 0);
/// Another client's DUID.
const OTHER_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 0x99];
/// Another server's DUID.
const OTHER_SERVER: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 0x77];
/// How long a bind (or a step of the protocol) may take, retransmissions and a refusal's
/// back-off (10 s) included, on a loaded machine.
const LIMIT: Duration = Duration::from_secs(45);

/// Addresses no server may put on the link: multicast (RFC 4291 2.7), loopback, unspecified,
/// IPv4-compatible (2.5.5.1), IPv4-mapped (2.5.5.2), link-local (2.5.6).
fn special_addresses() -> Vec<Ipv6Addr> {
    [
        "ff02::1",
        "ff05::1:3",
        "ff0e::1",
        "::1",
        "::",
        "::c633:6407",
        "::ffff:198.51.100.7",
        "fe80::bad",
        "febf::1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

// ---------------------------------------------------------------------------------------------
// The lab, the daemon, and what they show.

/// A DHCPv6 lab (no DAD on the client's veth: a leased address is usable at once).
fn lab6() -> Lab {
    require_root();
    let lab = Lab::new6();
    lab.set_client_dad(false);
    lab
}

/// `dhcpc -6 -d -v EXTRA vc` in the lab (see [`Daemon::start`]).
fn dhcpc6(lab: &Lab, extra: &[&str]) -> Daemon {
    let mut args = vec!["-6"];
    args.extend_from_slice(extra);
    Daemon::start(lab, "dhcpc6", &args, &[CLIENT_IF])
}

/// The kernel's record of the client namespace's IPv6 addresses and routes as they change
/// (`ip -6 monitor address route`), from the moment the watch is made. Stopped on drop.
struct Watch6 {
    child: Child,
    out: PathBuf,
    ns: String,
    probes: u32,
}

/// The table the watch's own probe routes go to.
const PROBE_TABLE: &str = "77";

impl Watch6 {
    fn start(lab: &Lab) -> Watch6 {
        let out = lab.dir.join("monitor6.txt");
        let file = fs::File::create(&out).expect("the watch's record");
        let child = Command::new("ip")
            .args(["-6", "-n", &lab.client_ns, "monitor", "address", "route"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("starting ip monitor");
        let mut w = Watch6 {
            child,
            out,
            ns: lab.client_ns.clone(),
            probes: 0,
        };
        w.barrier();
        w
    }

    /// Adds a route of the watch's own (in [`PROBE_TABLE`]) and waits until the monitor
    /// reports it: the kernel reports changes in order, so every change made before is in the
    /// record then. (Made again until the monitor, which may not listen yet, reports one.)
    fn barrier(&mut self) {
        for _ in 0..50 {
            self.probes += 1;
            let probe = format!("2001:db8:77::{:x}", self.probes);
            sh(
                "ip",
                &[
                    "-n",
                    &self.ns,
                    "-6",
                    "route",
                    "replace",
                    "blackhole",
                    &format!("{probe}/128"),
                    "table",
                    PROBE_TABLE,
                ],
            );
            let shown = |l: &str| l.contains(&format!("blackhole {probe} "));
            if wait_for(Duration::from_millis(500), || {
                self.text().lines().any(shown)
            }) {
                return;
            }
        }
        panic!("ip monitor reported none of its probes");
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Every change reported so far (one line each, the watch's own left out), after a
    /// [`Watch6::barrier`].
    fn changes(&mut self) -> Vec<String> {
        self.barrier();
        self.text()
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace) && !l.trim().is_empty())
            .filter(|l| !l.contains(&format!(" table {PROBE_TABLE} ")))
            .map(str::to_string)
            .collect()
    }

    /// Every address the kernel reported added (or changed) on any interface.
    fn added_addresses(&mut self) -> Vec<Ipv6Addr> {
        self.changes()
            .iter()
            .filter(|l| !l.starts_with("Deleted"))
            .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet6").nth(1))
            .filter_map(|a| a.split('/').next()?.parse().ok())
            .collect()
    }

    /// The lines of what was removed.
    fn deleted(&mut self) -> Vec<String> {
        self.changes()
            .into_iter()
            .filter(|l| l.starts_with("Deleted"))
            .collect()
    }

    /// The routes dhcpc added or changed (protocol dhcp).
    fn dhcp_routes(&mut self) -> Vec<String> {
        self.changes()
            .into_iter()
            .filter(|l| !l.starts_with("Deleted") && l.contains(" proto dhcp "))
            .collect()
    }

    /// Fails unless every address that reached the kernel since the watch began is one of
    /// `allowed`.
    fn assert_only(&mut self, allowed: &[Ipv6Addr]) {
        let added = self.added_addresses();
        let stray: Vec<&Ipv6Addr> = added.iter().filter(|a| !allowed.contains(a)).collect();
        assert!(
            stray.is_empty(),
            "addresses other than {allowed:?} reached the interface: {stray:?}\n{}",
            self.changes().join("\n")
        );
    }

    /// Fails if `addr` was ever removed since the watch began.
    fn assert_never_removed(&mut self, addr: Ipv6Addr) {
        let gone: Vec<String> = self
            .deleted()
            .into_iter()
            .filter(|l| l.contains(&format!(" inet6 {addr}/")))
            .collect();
        assert!(gone.is_empty(), "{addr} was taken off: {gone:?}");
    }
}

impl Drop for Watch6 {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- ip -6 monitor ---\n{}", self.text());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The addresses of a DHCPv6 status.
fn status_addrs(s: &Value) -> Vec<Ipv6Addr> {
    s["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["address"].as_str()?.parse().ok())
        .collect()
}

/// The delegated prefixes of a DHCPv6 status, as "prefix/len".
fn status_prefixes(s: &Value) -> Vec<String> {
    s["prefixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["prefix"].as_str().map(String::from))
        .collect()
}

fn prefix_text((p, l): (Ipv6Addr, u8)) -> String {
    format!("{p}/{l}")
}

/// Waits until the daemon is BOUND holding exactly `addrs` and `prefixes`; returns the status.
fn wait_bound(lab: &Lab, addrs: &[Ipv6Addr], prefixes: &[(Ipv6Addr, u8)]) -> Value {
    let prefixes: Vec<String> = prefixes.iter().copied().map(prefix_text).collect();
    wait_status(
        lab,
        CLIENT_IF,
        LIMIT,
        &format!("BOUND with {addrs:?} and {prefixes:?}"),
        |s| {
            s["protocol"] == "dhcpv6"
                && s["state"] == "BOUND"
                && status_addrs(s) == addrs
                && status_prefixes(s) == prefixes
        },
    )
}

/// The addresses on the client's veth other than its link-local ones.
fn leased_on_link(lab: &Lab) -> Vec<Ipv6Addr> {
    lab.client_addrs6()
        .iter()
        .filter(|a| !a.is_link_local())
        .map(|a| a.local)
        .collect()
}

/// Fails unless the daemon still runs (a server's message may not end it).
fn assert_alive(d: &mut Daemon) {
    let exited = d.child.try_wait().expect("asking after dhcpc");
    assert!(exited.is_none(), "dhcpc exited: {exited:?}");
}

/// The index in `seen` of the `n`-th (from 0) message of type `t`.
fn nth(seen: &[Received], t: MessageType, n: usize) -> Option<usize> {
    seen.iter()
        .enumerate()
        .filter(|(_, r)| r.is(t))
        .nth(n)
        .map(|(i, _)| i)
}

/// Every address the client's messages of type `t` named in their IA_NAs.
fn named(seen: &[Received], t: MessageType) -> Vec<Ipv6Addr> {
    seen.iter()
        .filter(|r| r.is(t))
        .flat_map(|r| r.ia_na.iter().flat_map(|ia| ia.addrs.iter().map(|a| a.0)))
        .collect()
}

/// The IAID of the first IA_NA of `req` (the client's).
fn na_iaid(req: &Received) -> u32 {
    req.ia_na
        .first()
        .expect("an IA_NA in the client's message")
        .iaid
}

/// A plain server giving [`BAD`] and [`BAD_PREFIX`]/56: the replies a hostile server spoils.
fn bad_plan() -> Plan6 {
    Plan6 {
        addr: BAD,
        prefix: (BAD_PREFIX, 56),
        ..Plan6::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Replies no client may take (RFC 8415 16.3, 16.10): ignored, the exchange goes on.

/// A server whose answer to the first SOLICIT and to the first REQUEST is only what `spoil`
/// makes of a plain answer offering [`BAD`] (the ADVERTISE with preference 255, which a
/// client takes at once), and whose every other answer is a plain server's (offering
/// [`GOOD`]). Had the client taken a spoiled one, it would REQUEST or hold [`BAD`].
fn spoiled_first(
    spoil: impl Fn(Reply6) -> Vec<Reply6> + Send + 'static,
) -> impl FnMut(&Received) -> Vec<Vec<u8>> + Send + 'static {
    let (good, bad) = (Plan6::default(), bad_plan());
    let mut answered: HashSet<u8> = HashSet::new();
    move |req| {
        let first = (req.is(MessageType::Solicit) || req.is(MessageType::Request))
            && answered.insert(req.msg_type);
        if !first {
            return good.answer(req);
        }
        let Some(mut r) = bad.reply_to(req) else {
            return Vec::new();
        };
        if req.is(MessageType::Solicit) {
            r = r.preference(255);
        }
        spoil(r).iter().map(Reply6::build).collect()
    }
}

/// Runs dhcpc against [`spoiled_first`]`(spoil)`: the spoiled ADVERTISE is ignored (the client
/// solicits again and never asks for [`BAD`]), the spoiled REPLY too (the client sends its
/// REQUEST again, no SOLICIT between), and the client binds [`GOOD`] from the plain answers;
/// [`BAD`] never reaches the interface.
fn ignored_then_bound(spoil: impl Fn(Reply6) -> Vec<Reply6> + Send + 'static) {
    let lab = lab6();
    let fake = Fake6::start(&lab, spoiled_first(spoil));
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    wait_bound(&lab, &[GOOD], &[]);
    let seen = fake.received();
    let request1 = nth(&seen, MessageType::Request, 0).expect("a REQUEST");
    let request2 = nth(&seen, MessageType::Request, 1).expect("the REQUEST sent again");
    let solicit2 = nth(&seen, MessageType::Solicit, 1).expect("a second SOLICIT");
    assert!(
        solicit2 < request1,
        "the client did not go on soliciting after the spoiled ADVERTISE"
    );
    assert!(
        !seen[request1..request2]
            .iter()
            .any(|r| r.is(MessageType::Solicit)),
        "the spoiled REPLY made the client start over rather than ask again"
    );
    assert!(
        !named(&seen, MessageType::Request).contains(&BAD),
        "the client asked for the spoiled ADVERTISE's address"
    );
    assert_eq!(leased_on_link(&lab), vec![GOOD]);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// RFC 8415 16.3 and 16.10: an ADVERTISE or REPLY whose transaction id is not the one of the
/// client's message is discarded (here two: the xid off by one, and off in its top bit).
#[test]
fn an_advertise_and_a_reply_of_another_transaction_id_are_ignored() {
    ignored_then_bound(|r| {
        let xid = r.xid;
        vec![r.clone().xid((xid + 1) & 0xff_ffff), r.xid(xid ^ 0x80_0000)]
    });
}

/// RFC 8415 16.3 and 16.10: an ADVERTISE or REPLY whose Client Identifier is not the client's
/// DUID is discarded: another client's DUID, and the client's own with a byte more.
#[test]
fn an_advertise_and_a_reply_for_another_client_id_are_ignored() {
    ignored_then_bound(|r| {
        let mut longer = r
            .options
            .iter()
            .find(|o| u16::from_be_bytes([o[0], o[1]]) == opt6::CLIENT_ID)
            .expect("the client's id echoed")[4..]
            .to_vec();
        longer.push(0);
        vec![r.clone().client_id(&OTHER_DUID), r.client_id(&longer)]
    });
}

/// RFC 8415 16.3 and 16.10: an ADVERTISE or REPLY without a Client Identifier is discarded.
#[test]
fn an_advertise_and_a_reply_without_a_client_id_are_ignored() {
    ignored_then_bound(|r| vec![r.without(opt6::CLIENT_ID)]);
}

/// RFC 8415 16.3 and 16.10: an ADVERTISE or REPLY without a Server Identifier is discarded;
/// so is one whose Server Identifier is too short to be a DUID (RFC 8415 11.1: 3 bytes or
/// more), which could not be echoed.
#[test]
fn an_advertise_and_a_reply_without_a_usable_server_id_are_ignored() {
    ignored_then_bound(|r| vec![r.clone().without(opt6::SERVER_ID), r.server_id(&[0, 3])]);
}

/// RFC 8415 18.2.10: a REPLY of status UseMulticast has the client send its messages by
/// multicast, which it does already: the REQUEST is sent again (not taken as a refusal, and
/// the address the REPLY holds is not taken). Its ADVERTISE counterpart is one of a status
/// other than Success, ignored (RFC 8415 18.2.9).
#[test]
fn use_multicast_has_the_request_sent_again() {
    ignored_then_bound(|r| vec![r.status(opt6::USE_MULTICAST, "use multicast")]);
}

// ---------------------------------------------------------------------------------------------
// Addresses and lifetimes the client may not take (RFC 8415 21.4, 21.6, 18.2.10.1).

/// A server offering `bad` in its IA_NA: alone in the ADVERTISE to the first SOLICIT (an
/// ADVERTISE offering nothing usable: ignored, RFC 8415 18.2.9), then before [`GOOD`] in every
/// ADVERTISE and REPLY. The client solicits again, requests [`GOOD`] only, and binds it only;
/// no `bad` address ever reaches the interface.
fn only_the_good_address_is_taken(bad: Vec<(Ipv6Addr, u32, u32)>) {
    let lab = lab6();
    let plan = Plan6::default();
    let mut solicits = 0;
    let offered = bad.clone();
    let fake = Fake6::start(&lab, move |req| {
        let iaid = |r: &Received| r.ia_na.first().map_or(0, |ia| ia.iaid);
        let with_good = || {
            let mut all = offered.clone();
            all.push((GOOD, plan.preferred, plan.valid));
            all
        };
        let r = match req.kind() {
            MessageType::Solicit => {
                solicits += 1;
                let held = if solicits == 1 {
                    offered.clone()
                } else {
                    with_good()
                };
                Reply6::advertise(req)
                    .preference(255)
                    .ia_na(iaid(req), plan.t1, plan.t2, &held)
            }
            MessageType::Request => {
                Reply6::reply(req).ia_na(iaid(req), plan.t1, plan.t2, &with_good())
            }
            _ => return plan.answer(req),
        };
        vec![r.build()]
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    let s = wait_bound(&lab, &[GOOD], &[]);
    let seen = fake.received();
    let request1 = nth(&seen, MessageType::Request, 0).expect("a REQUEST");
    let solicit2 = nth(&seen, MessageType::Solicit, 1).expect("a second SOLICIT");
    assert!(
        solicit2 < request1,
        "the ADVERTISE offering only {bad:?} was taken"
    );
    assert_eq!(named(&seen, MessageType::Request), [GOOD]);
    assert_eq!(leased_on_link(&lab), vec![GOOD], "{s}");
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// RFC 8415 18.2.10.1: an address of valid lifetime 0 is not taken (it is withdrawn).
#[test]
fn an_address_of_lifetimes_zero_is_not_taken() {
    only_the_good_address_is_taken(vec![(BAD, 0, 0)]);
}

/// RFC 8415 21.6: an address whose preferred lifetime is over its valid lifetime is
/// discarded (the IA's other address is taken).
#[test]
fn an_address_whose_preferred_lifetime_exceeds_its_valid_one_is_dropped() {
    only_the_good_address_is_taken(vec![(BAD, 300, 200), (BAD, 1, 0)]);
}

/// RFC 4291 2.5 and 2.7, the core's rule (src/v6/reply/rules.rs): multicast, loopback,
/// unspecified, IPv4-compatible and -mapped and link-local addresses are never put on the
/// link, whatever their lifetimes, in an ADVERTISE or a REPLY.
#[test]
fn multicast_loopback_link_local_and_ipv4_mapped_addresses_never_reach_the_interface() {
    let bad = special_addresses()
        .into_iter()
        .map(|a| (a, 200, 300))
        .chain([(
            Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2),
            u32::MAX,
            u32::MAX,
        )])
        .collect();
    only_the_good_address_is_taken(bad);
}

/// RFC 8415 21.6, 7.7: lifetimes of 0xffffffff are infinity: the address is taken, the
/// kernel holds it `forever` (valid and preferred), and with T1 and T2 0 (the client's
/// choice, RFC 8415 21.4) nothing is ever renewed or expires.
#[test]
fn infinite_lifetimes_are_taken_and_the_kernel_holds_the_address_forever() {
    let lab = lab6();
    let plan = Plan6 {
        t1: 0,
        t2: 0,
        preferred: u32::MAX,
        valid: u32::MAX,
        ..Plan6::default()
    };
    let _fake = Fake6::start(&lab, move |req| plan.answer(req));
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    let s = wait_bound(&lab, &[GOOD], &[]);
    assert_eq!(s["addresses"][0]["valid"], "infinite", "{s}");
    assert_eq!(s["addresses"][0]["preferred"], "infinite", "{s}");
    assert!(s["renew_in"].is_null() && s["expires_in"].is_null(), "{s}");
    let on = lab.client_addrs6();
    let a = on
        .iter()
        .find(|a| a.local == GOOD)
        .unwrap_or_else(|| panic!("{GOOD} is not on the link: {on:?}"));
    assert_eq!(a.prefixlen, 128);
    assert_eq!(
        (a.valid_lft, a.preferred_lft),
        (u64::from(u32::MAX), u64::from(u32::MAX)),
        "not forever: {:?}",
        a.raw
    );
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// RFC 8415 21.4: an IA_NA whose T1 is over its T2 (both above 0) is discarded, and the rest
/// of the message processed as though it were not there (src/v6/reply/ia.rs `times`, the
/// core's `judge`): the REPLY's IA_PD is taken, its IA_NA (holding [`BAD`]) is not. The IA_NA
/// is asked for again at the next renewal (asked for here with `dhcpc -6 -n`), and taken then.
#[test]
fn an_ia_na_whose_t1_exceeds_its_t2_is_dropped_and_the_rest_of_the_reply_taken() {
    let lab = lab6();
    let plan = Plan6::default();
    let mut requests = 0;
    let fake = Fake6::start(&lab, move |req| {
        if !req.is(MessageType::Request) {
            return plan.answer(req);
        }
        requests += 1;
        let mut r = plan.reply_to(req).expect("a REPLY to a REQUEST");
        if requests == 1 {
            let (p, l) = plan.prefix;
            let pd = req.ia_pd.first().expect("an IA_PD").iaid;
            r = Reply6::reply(req)
                .ia_na(na_iaid(req), 50, 20, &[(BAD, 200, 300)])
                .ia_pd(pd, plan.t1, plan.t2, &[(p, l, 200, 300)]);
        }
        vec![r.build()]
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &["--ia-pd"]);
    let s = wait_bound(&lab, &[], &[GOOD_PREFIX]);
    assert!(leased_on_link(&lab).is_empty(), "{s}");
    // A RENEW asks for the IA_NA too; the plain answer to it gives GOOD.
    let out = dhcpc_run(&lab, &["-6", "-n", CLIENT_IF]);
    assert_exit(&out, 0);
    wait_bound(&lab, &[GOOD], &[GOOD_PREFIX]);
    let seen = fake.received();
    assert_eq!(
        nth(&seen, MessageType::Request, 1),
        None,
        "the REPLY was refused"
    );
    let renew = nth(&seen, MessageType::Renew, 0).expect("a RENEW");
    assert_eq!(
        seen[renew]
            .ia_na
            .iter()
            .map(|ia| ia.addrs.len())
            .collect::<Vec<_>>(),
        [0],
        "the RENEW does not ask for the IA_NA, empty"
    );
    assert_eq!(leased_on_link(&lab), vec![GOOD]);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

// ---------------------------------------------------------------------------------------------
// Status codes (RFC 8415 18.2.9, 18.2.10, 18.2.10.1, 21.13).

/// A server that refuses: its ADVERTISEs to the first two SOLICITs and its REPLY to the
/// first REQUEST are what `refuse` makes of a plain answer offering [`BAD`]; then it answers
/// plainly. The refused ADVERTISEs are ignored (the client keeps soliciting and requests
/// nothing); the refused REPLY makes the client solicit again (after its back-off), and it
/// binds [`GOOD`] in the end. [`BAD`] never reaches the interface.
fn refused_then_bound(refuse: impl Fn(&Received, Reply6) -> Reply6 + Send + 'static) {
    let lab = lab6();
    let (good, bad) = (Plan6::default(), bad_plan());
    let (mut solicits, mut requests) = (0, 0);
    let fake = Fake6::start(&lab, move |req| {
        let count = match req.kind() {
            MessageType::Solicit => &mut solicits,
            MessageType::Request => &mut requests,
            _ => return good.answer(req),
        };
        *count += 1;
        let refused = if req.is(MessageType::Solicit) {
            *count <= 2
        } else {
            *count == 1
        };
        if !refused {
            return good.answer(req);
        }
        let plain = bad.reply_to(req).expect("an answer");
        vec![refuse(req, plain).build()]
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    let s = wait_bound(&lab, &[GOOD], &[]);
    let seen = fake.received();
    let solicit3 = nth(&seen, MessageType::Solicit, 2).expect("a third SOLICIT");
    let request1 = nth(&seen, MessageType::Request, 0).expect("a REQUEST");
    let request2 = nth(&seen, MessageType::Request, 1).expect("a second REQUEST");
    assert!(solicit3 < request1, "a refused ADVERTISE was requested");
    assert!(
        seen[request1..request2]
            .iter()
            .any(|r| r.is(MessageType::Solicit)),
        "the client did not solicit again after the refused REPLY"
    );
    assert!(!named(&seen, MessageType::Request).contains(&BAD));
    assert_eq!(leased_on_link(&lab), vec![GOOD], "{s}");
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// RFC 8415 18.2.9 (and RFC 3315 17.1.3): an ADVERTISE of status NoAddrsAvail is ignored, the
/// address its IA holds all the same too; RFC 8415 18.2.10.1: a REPLY of status NoAddrsAvail
/// grants nothing; the client tries again (another SOLICIT).
#[test]
fn no_addrs_avail_at_the_top_level_grants_nothing_and_the_client_keeps_trying() {
    refused_then_bound(|_, r| r.status(opt6::NO_ADDRS_AVAIL, "none left"));
}

/// RFC 8415 18.2.9, 18.2.10.1: an IA_NA of status NoAddrsAvail holds nothing: the ADVERTISE
/// offering only it is ignored, the REPLY granting only it grants nothing, and the client
/// tries again.
#[test]
fn no_addrs_avail_in_the_ia_grants_nothing_and_the_client_keeps_trying() {
    refused_then_bound(|req, r| {
        r.without(opt6::IA_NA)
            .ia_na_status(na_iaid(req), opt6::NO_ADDRS_AVAIL, "none left")
    });
}

/// RFC 8415 18.2.10.1: "When the client receives a NoBinding status in an IA from the
/// server in response to a Renew message ... the client sends a Request message to reinstate
/// the binding". The client goes on with the address it holds meanwhile: it is never taken
/// off, and the REQUEST (to the lease's server, for that address) binds it again.
#[test]
fn no_binding_to_a_renew_brings_a_request_and_the_address_stays() {
    let lab = lab6();
    let plan = Plan6 {
        t1: 2,
        t2: 100,
        ..Plan6::default()
    };
    let mut renews = 0;
    let fake = Fake6::start(&lab, move |req| {
        if req.is(MessageType::Renew) {
            renews += 1;
            if renews == 1 {
                let r =
                    Reply6::reply(req).ia_na_status(na_iaid(req), opt6::NO_BINDING, "no binding");
                return vec![r.build()];
            }
        }
        plan.answer(req)
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    wait_bound(&lab, &[GOOD], &[]);
    let found = fake.wait_for(LIMIT, |r| r.is(MessageType::Renew));
    assert!(found.is_some(), "no RENEW at T1");
    // A REQUEST after the RENEW, for the address held, to the lease's server.
    let mut seen = Vec::new();
    let reinstated = wait_for(LIMIT, || {
        seen = fake.received();
        let renew = nth(&seen, MessageType::Renew, 0).unwrap_or(usize::MAX);
        seen.iter().skip(renew).any(|r| r.is(MessageType::Request))
    });
    assert!(reinstated, "no REQUEST after NoBinding");
    let renew = nth(&seen, MessageType::Renew, 0).unwrap();
    let request = seen
        .iter()
        .skip(renew)
        .find(|r| r.is(MessageType::Request))
        .unwrap();
    assert_eq!(request.server_id.as_deref(), Some(&FAKE6_DUID[..]));
    assert_eq!(
        named(std::slice::from_ref(request), MessageType::Request),
        [GOOD]
    );
    // Bound again, and renewed at the next T1 as usual.
    let renewed = wait_for(LIMIT, || fake.count(MessageType::Renew) >= 2);
    assert!(renewed, "no RENEW after the binding was reinstated");
    wait_bound(&lab, &[GOOD], &[]);
    watch.assert_never_removed(GOOD);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

// ---------------------------------------------------------------------------------------------
// Delegated prefixes (RFC 8415 21.22).

/// Prefixes no server may have routed: a length over 128 (malformed, RFC 8415 21.22), the
/// whole space, link-local, multicast, loopback, IPv4-mapped space, fe00::/7 (covering
/// link-local and multicast), and a prefix with bits set past its length.
fn bad_prefixes() -> Vec<(Ipv6Addr, u8)> {
    let a = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    vec![
        (a("2001:db8:ff00:7700::"), 129),
        (a("2001:db8:ff00:7800::"), 200),
        (a("::"), 0),
        (a("fe80::"), 64),
        (a("fe80::"), 10),
        (a("ff00::"), 8),
        (a("ff02::"), 16),
        (a("::1"), 128),
        (a("::ffff:0:0"), 96),
        (a("fe00::"), 7),
        (a("2001:db8:ff00:7701::"), 56),
    ]
}

/// The core's rule (src/v6/reply/rules.rs `prefix`): a delegated prefix of a length outside
/// 1..=128, with bits set past its length, or overlapping special space is never routed (no
/// unreachable route for it); an ADVERTISE offering only such prefixes is ignored; the good
/// prefix beside them is delegated and routed.
#[test]
fn malformed_and_special_delegated_prefixes_are_never_routed() {
    let lab = lab6();
    let plan = Plan6::default();
    let mut solicits = 0;
    let fake = Fake6::start(&lab, move |req| {
        let iaid = req.ia_pd.first().map_or(0, |ia| ia.iaid);
        let mut prefixes: Vec<(Ipv6Addr, u8, u32, u32)> = bad_prefixes()
            .into_iter()
            .map(|(p, l)| (p, l, 200, 300))
            .collect();
        let r = match req.kind() {
            MessageType::Solicit => {
                solicits += 1;
                if solicits > 1 {
                    prefixes.push((GOOD_PREFIX.0, GOOD_PREFIX.1, 200, 300));
                }
                Reply6::advertise(req).preference(255)
            }
            MessageType::Request => {
                prefixes.push((GOOD_PREFIX.0, GOOD_PREFIX.1, 200, 300));
                Reply6::reply(req)
            }
            _ => return plan.answer(req),
        };
        vec![r.ia_pd(iaid, plan.t1, plan.t2, &prefixes).build()]
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &["--ia-pd", "--no-ia-na"]);
    wait_bound(&lab, &[], &[GOOD_PREFIX]);
    let seen = fake.received();
    let request1 = nth(&seen, MessageType::Request, 0).expect("a REQUEST");
    let solicit2 = nth(&seen, MessageType::Solicit, 1).expect("a second SOLICIT");
    assert!(
        solicit2 < request1,
        "an ADVERTISE of unusable prefixes only was taken"
    );
    let asked: Vec<(Ipv6Addr, u8)> = seen[request1]
        .ia_pd
        .iter()
        .flat_map(|ia| ia.prefixes.iter().map(|p| (p.0, p.1)))
        .collect();
    assert_eq!(asked, vec![GOOD_PREFIX]);
    let good = format!("unreachable {} ", prefix_text(GOOD_PREFIX));
    let routes = watch.dhcp_routes();
    assert!(routes.iter().any(|r| r.starts_with(&good)), "{routes:?}");
    let stray: Vec<&String> = routes.iter().filter(|r| !r.starts_with(&good)).collect();
    assert!(stray.is_empty(), "routes of unusable prefixes: {stray:?}");
    // The link's own routes are as they were: link-local (main table) and multicast (local
    // table) still on vc, and no unreachable route in any table but the good prefix's.
    let table = lab.client_routes6();
    assert!(
        table
            .iter()
            .any(|r| r.dst == "fe80::/64" && r.dev.as_deref() == Some(CLIENT_IF)),
        "{table:?}"
    );
    let local = parse_routes6(&sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "-j",
            "-6",
            "route",
            "show",
            "table",
            "local",
        ],
    ));
    assert!(
        local
            .iter()
            .any(|r| r.dst == "ff00::/8" && r.dev.as_deref() == Some(CLIENT_IF)),
        "{local:?}"
    );
    let unreachable = sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "-6",
            "route",
            "show",
            "table",
            "all",
            "type",
            "unreachable",
        ],
    );
    let unreachable: Vec<&str> = unreachable
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(unreachable.len(), 1, "{unreachable:?}");
    assert!(unreachable[0].starts_with(&good), "{unreachable:?}");
    watch.assert_only(&[]);
    assert_alive(&mut d);
}

// ---------------------------------------------------------------------------------------------
// A flood.

/// Sets its flag when dropped (at the end of a scope, or as a panic unwinds it).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Datagrams no client may take, built against `req` (the client's latest message): each
/// offers [`BAD`] or a special address, or withdraws [`GOOD`], or is not a message at all.
fn garbage(req: &Received) -> Vec<Vec<u8>> {
    let bad = bad_plan();
    let base = |kind: MessageType| {
        let r = Reply6::to(req, kind);
        match req.ia_na.first() {
            Some(ia) => r.ia_na(ia.iaid, 100, 160, &[(BAD, 200, 300), (GOOD, 0, 0)]),
            None => r,
        }
    };
    let mut out: Vec<Reply6> = Vec::new();
    for kind in [MessageType::Advertise, MessageType::Reply] {
        let r = base(kind).preference(255);
        let xid = r.xid;
        out.push(r.clone().xid((xid + 1) & 0xff_ffff));
        out.push(r.clone().client_id(&OTHER_DUID));
        out.push(r.clone().without(opt6::CLIENT_ID));
        out.push(r.clone().without(opt6::SERVER_ID));
        out.push(r.clone().server_id(&[0]));
        out.push(r.clone().server_id(&[7; 200]));
        out.push(r.clone().status(opt6::NO_ADDRS_AVAIL, "\u{1b}[2J\nnone"));
        // Options that do not frame: the message is unreadable whole.
        out.push(
            r.clone()
                .option(opt6::with_len(opt6::DNS_SERVERS, 64, &[0; 16])),
        );
        out.push(r.clone().option(vec![0, 23, 0]));
    }
    // Special addresses in an otherwise good ADVERTISE (of the right xid, ids and server).
    if let Some(ia) = req.ia_na.first() {
        let held: Vec<(Ipv6Addr, u32, u32)> = special_addresses()
            .into_iter()
            .map(|a| (a, 200, 300))
            .collect();
        out.push(Reply6::advertise(req).ia_na(ia.iaid, 100, 160, &held));
        out.push(Reply6::advertise(req).ia_na(ia.iaid, 50, 20, &[(BAD, 200, 300)]));
    }
    // Types a client never takes, a REPLY to a SOLICIT without Rapid Commit, RECONFIGUREs.
    if let Some(r) = bad.reply_to(req) {
        for t in [1, 3, 12, 13, 255] {
            out.push(r.clone().msg_type(t));
        }
        out.push(r.clone().msg_type(7));
        let reconf = Reply6::to(req, MessageType::Reconfigure)
            .xid(0)
            .option(opt6::raw(19, &[5]));
        out.push(reconf);
    }
    let mut bytes: Vec<Vec<u8>> = out.iter().map(Reply6::build).collect();
    // Not even a header.
    bytes.extend([vec![], vec![7], vec![2, 0, 0]]);
    bytes
}

/// RFC 8415 16 (messages failing validation are discarded, one by one): hundreds of bad
/// replies a second for several seconds neither end the daemon nor stall it (`--status`
/// answers all along), nor make it send a message per reply (its SOLICITs keep their
/// back-off), nor put anything on the link; once a good server answers, amid the flood, it
/// binds.
#[test]
fn a_flood_of_bad_replies_leaves_the_daemon_answering_and_it_binds_after() {
    let lab = lab6();
    let plan = Plan6::default();
    let good = Arc::new(AtomicBool::new(false));
    let good2 = good.clone();
    let fake = Fake6::start(&lab, move |req| {
        if good2.load(Ordering::Relaxed) {
            plan.answer(req)
        } else {
            Vec::new()
        }
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    let first = fake
        .wait_kind(MessageType::Solicit, LIMIT)
        .expect("a SOLICIT");
    let to: SocketAddrV6 = first.from;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (fake, stop) = (&fake, &stop);
        let flood = scope.spawn(move || {
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let latest = fake.received().pop().expect("a message");
                for g in garbage(&latest) {
                    fake.send(&g, to);
                    sent += 1;
                }
                // About 50 rounds a second: well over a thousand datagrams a second.
                std::thread::sleep(Duration::from_millis(20));
            }
            sent
        });
        // Whatever happens here (a failed assertion too), the flood stops, so that the scope
        // can end.
        let _stop = StopOnDrop(stop);
        // The daemon answers while it is flooded (each `--status` is a request to it).
        let mut looks = 0;
        let flooded = wait_for(LIMIT, || {
            let s = try_status_of(&lab, CLIENT_IF).expect("no status amid the flood");
            assert_eq!(s["state"], "SOLICITING", "{s}");
            looks += 1;
            fake.sent() >= 5000 && looks >= 5
        });
        assert!(flooded, "the flood did not reach 5000 datagrams");
        let solicits = fake.count(MessageType::Solicit);
        assert!(
            solicits <= 10,
            "{solicits} SOLICITs for {} replies: not backing off",
            fake.sent()
        );
        // A good server answers from now on, amid the flood.
        good.store(true, Ordering::Relaxed);
        wait_bound(&lab, &[GOOD], &[]);
        stop.store(true, Ordering::Relaxed);
        let sent = flood.join().expect("the flood");
        assert!(sent >= 5000, "{sent}");
    });
    assert!(!named(&fake.received(), MessageType::Request).contains(&BAD));
    assert_eq!(leased_on_link(&lab), vec![GOOD]);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

// ---------------------------------------------------------------------------------------------
// A lease held.

/// What a hostile REPLY to a RENEW may be, each one that would take [`GOOD`] off (a
/// withdrawal: valid lifetime 0) or put [`BAD`] on, were it taken: of another transaction,
/// for another client, without a server id, from a server the RENEW did not go to, an
/// ADVERTISE, unreadable (options that do not frame), with an IA that is malformed (cut
/// short, its options not framing, its status unreadable, T1 over T2), or holding a
/// withdrawal with a preferred lifetime over the valid one.
fn renew_garbage(req: &Received) -> Vec<Vec<u8>> {
    let iaid = na_iaid(req);
    let withdraw = [(GOOD, 0, 0), (BAD, 200, 300)];
    let r = Reply6::reply(req).ia_na(iaid, 2, 100, &withdraw);
    let ia_body = |inner: &[u8]| {
        let mut d = iaid.to_be_bytes().to_vec();
        d.extend_from_slice(&2u32.to_be_bytes());
        d.extend_from_slice(&100u32.to_be_bytes());
        d.extend_from_slice(inner);
        d
    };
    let addr_of = |a: Ipv6Addr, p: u32, v: u32| opt6::ia_addr(a, p, v, &[]);
    let bare = || Reply6::reply(req);
    let out = vec![
        r.clone().xid((r.xid + 1) & 0xff_ffff),
        r.clone().client_id(&OTHER_DUID),
        r.clone().without(opt6::CLIENT_ID),
        r.clone().without(opt6::SERVER_ID),
        r.clone().server_id(&OTHER_SERVER),
        r.clone().msg_type(2),
        r.clone().msg_type(13),
        r.clone()
            .option(opt6::with_len(opt6::DOMAIN_LIST, 300, b"\x04evil\x00")),
        // IA_NA of 6 bytes.
        bare().option(opt6::raw(opt6::IA_NA, &ia_body(&[])[..6])),
        // IA_NA whose IAADDR says 60 bytes and holds 24.
        bare().option(opt6::raw(
            opt6::IA_NA,
            &ia_body(&opt6::with_len(
                opt6::IA_ADDR,
                60,
                &addr_of(GOOD, 0, 0)[4..],
            )),
        )),
        // IA_NA whose IAADDR holds 10 bytes.
        bare().option(opt6::raw(
            opt6::IA_NA,
            &ia_body(&opt6::raw(opt6::IA_ADDR, &GOOD.octets()[..10])),
        )),
        // IA_NA whose status code holds one byte, beside a withdrawal.
        bare().option(opt6::raw(
            opt6::IA_NA,
            &ia_body(&[opt6::raw(opt6::STATUS_CODE, &[0]), addr_of(GOOD, 0, 0)].concat()),
        )),
        // T1 over T2.
        bare().ia_na(iaid, 100, 2, &withdraw),
        // Preferred over valid: the address option is discarded, not a withdrawal.
        bare().ia_na(iaid, 2, 100, &[(GOOD, 100, 0)]),
    ];
    let mut bytes: Vec<Vec<u8>> = out.iter().map(Reply6::build).collect();
    bytes.extend([vec![7, 0], vec![]]);
    bytes
}

/// RFC 8415 16.10 and 18.2.10.1, 21.4, 21.6: a lease held is kept when the REPLYs to its
/// RENEW are garbage: every one is dropped (the address is never taken off, nor is [`BAD`]
/// put on), the client stays RENEWING and sends its RENEW again, and a good REPLY to that
/// renews the lease.
#[test]
fn garbage_replies_to_a_renew_leave_the_lease_held() {
    let lab = lab6();
    let plan = Plan6 {
        t1: 2,
        t2: 100,
        ..Plan6::default()
    };
    let mut renews = 0;
    let fake = Fake6::start(&lab, move |req| {
        if req.is(MessageType::Renew) {
            renews += 1;
            if renews == 1 {
                return renew_garbage(req);
            }
        }
        plan.answer(req)
    });
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    wait_bound(&lab, &[GOOD], &[]);
    assert!(
        fake.wait_kind(MessageType::Renew, LIMIT).is_some(),
        "no RENEW at T1"
    );
    // Still renewing, the address held, until the RENEW is sent again (REN_TIMEOUT 10 s).
    // (The status is read before the count: while the count is 1, the status was read
    // before the second RENEW, whose REPLY is good.)
    let mut last = Value::Null;
    let held = wait_for(LIMIT, || {
        last = try_status_of(&lab, CLIENT_IF).expect("a status");
        let on_link = leased_on_link(&lab);
        if fake.count(MessageType::Renew) >= 2 {
            return true;
        }
        assert_eq!(last["state"], "RENEWING", "{last}");
        assert_eq!(status_addrs(&last), [GOOD], "{last}");
        assert_eq!(on_link, [GOOD]);
        false
    });
    assert!(held, "the RENEW was not sent again: {last}");
    // The good REPLY to it renews the lease.
    let s = wait_bound(&lab, &[GOOD], &[]);
    assert!(
        s["addresses"][0]["valid"].as_u64().is_some_and(|v| v > 280),
        "not renewed: {s}"
    );
    assert_eq!(fake.count(MessageType::Solicit), 1, "the lease was dropped");
    watch.assert_never_removed(GOOD);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// RFC 8415 16.11 and 20.4: a client discards a RECONFIGURE that does not carry an
/// Authentication option it can check (dhcpc does no authentication, so every one): a
/// RECONFIGURE asking for a RENEW, a REBIND or an INFORMATION-REQUEST, of the lease's server,
/// with and without an Authentication option, is logged as ignored and changes nothing;
/// the client stays BOUND and sends nothing until asked to renew (`dhcpc -n`), when it does.
#[test]
fn reconfigure_without_authentication_is_ignored() {
    let lab = lab6();
    let plan = Plan6::default();
    let fake = Fake6::start(&lab, move |req| plan.answer(req));
    let mut watch = Watch6::start(&lab);
    let mut d = dhcpc6(&lab, &[]);
    wait_bound(&lab, &[GOOD], &[]);
    let request = fake
        .wait_kind(MessageType::Request, LIMIT)
        .expect("a REQUEST");
    // Authentication (11): reconfigure key protocol 3, HMAC-MD5, RDM 0, replay detection,
    // type 2 (HMAC-MD5 digest) and a digest no key made.
    let mut auth = vec![3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
    auth.extend_from_slice(&[0x5a; 16]);
    let reconfigures: Vec<Vec<u8>> = [5u8, 6, 11]
        .iter()
        .flat_map(|&what| {
            let r = Reply6::to(&request, MessageType::Reconfigure)
                .xid(0)
                .option(opt6::raw(opt6::RECONF_MSG, &[what]));
            [r.clone(), r.option(opt6::raw(11, &auth))]
        })
        .map(|r| r.build())
        .collect();
    for r in &reconfigures {
        fake.send(r, request.from);
    }
    let n = reconfigures.len();
    let all_ignored = wait_for(LIMIT, || {
        d.log_text().matches("ignoring RECONFIGURE from").count() >= n
    });
    assert!(all_ignored, "not every RECONFIGURE was seen and ignored");
    let before = fake.received().len();
    let calm = holds_for(Duration::from_secs(3), || {
        fake.received().len() == before
            && try_status_of(&lab, CLIENT_IF).is_some_and(|s| s["state"] == "BOUND")
    });
    assert!(
        calm,
        "a RECONFIGURE was acted on: {:?}",
        &fake.received()[before..]
    );
    // The check could fail: a renewal asked for does bring a RENEW.
    let out = dhcpc_run(&lab, &["-6", "-n", CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(
        fake.wait_kind(MessageType::Renew, LIMIT).is_some(),
        "no RENEW when asked"
    );
    watch.assert_never_removed(GOOD);
    watch.assert_only(&[GOOD]);
    assert_alive(&mut d);
}

/// A oneshot run (`-1 -t 5`) against a server whose every answer is one no client may take
/// (another client's, NoAddrsAvail, special addresses only): it ends at its timeout with no
/// lease (exit status 1), says how many answers it refused and dropped, and leaves nothing on
/// the link.
#[test]
fn a_oneshot_run_against_only_hostile_answers_ends_without_a_lease_and_says_why() {
    let lab = lab6();
    let fake = Fake6::start(&lab, |req| {
        if !req.is(MessageType::Solicit) {
            return Vec::new();
        }
        let held: Vec<(Ipv6Addr, u32, u32)> = special_addresses()
            .into_iter()
            .map(|a| (a, 200, 300))
            .collect();
        let r = Reply6::advertise(req).ia_na(na_iaid(req), 100, 160, &held);
        [
            r.clone().client_id(&OTHER_DUID),
            r.clone().status(opt6::NO_ADDRS_AVAIL, "none"),
            r,
        ]
        .iter()
        .map(Reply6::build)
        .collect()
    });
    let mut watch = Watch6::start(&lab);
    let out = dhcpc_run(&lab, &["-6", "-1", "-t", "5", CLIENT_IF]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    let counts = err
        .split("no usable answer: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no reason given: {err}"));
    let number = |word: &str| -> u32 {
        let before = counts.split(word).next().unwrap_or("");
        let n = before.trim_end().rsplit(' ').next().unwrap_or("");
        n.parse()
            .unwrap_or_else(|_| panic!("no count of {word} in {counts:?}"))
    };
    assert!(number(" refused") >= 2, "{err}");
    assert!(number(" dropped") >= 1, "{err}");
    assert!(fake.count(MessageType::Solicit) >= 2);
    assert_eq!(fake.count(MessageType::Request), 0);
    assert!(leased_on_link(&lab).is_empty());
    watch.assert_only(&[]);
}
