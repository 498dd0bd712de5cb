//! The byte-level fuzz checks: what the `reply`, `wire`, `leasefile`, `config` and `hookenv`
//! targets run on each input. Each function panics (a libFuzzer crash) only when a rule below
//! is broken; any input the code refuses is fine, as long as it is refused without a panic.
//!
//! This file is shared: the fuzz crate compiles it as a module, and the main crate's
//! `tests/fuzz_regressions.rs` includes it by path to replay the committed corpus and every
//! crash found, on the stable toolchain.

use clap::CommandFactory;
use dhcpc::addr::{dns_name, is_usable_unicast};
use dhcpc::config;
use dhcpc::frame;
use dhcpc::lease::{self, Lease, INFINITE};
use dhcpc::leasefile;
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::wire;
use dhcproto::Encodable;
use std::net::Ipv4Addr;
use std::time::Duration;

/// The datagram source given to `Reply::parse` for bare payloads.
const FROM: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// `reply` target: the bytes as an Ethernet frame (both checksum modes) and as a bare DHCP
/// payload, through `frame::parse`, `Reply::parse`, and on to `Lease::from_reply` and
/// `Lease::check_offer`.
pub fn reply(data: &[u8]) {
    let mut seen: Option<&[u8]> = None;
    for csum_not_ready in [false, true] {
        match frame::parse(data, csum_not_ready) {
            Ok(d) => {
                assert!(d.payload.len() + frame::HEADERS_LEN <= data.len());
                // Skipping the UDP checksum can only admit more, never change what is read.
                if let Some(p) = seen {
                    assert_eq!(p, d.payload);
                } else {
                    payload(d.payload, d.src_ip);
                }
                seen = Some(d.payload);
            }
            Err(e) => {
                assert!(
                    seen.is_none(),
                    "a frame with a good checksum refused without: {e}"
                );
                let _ = e.to_string();
            }
        }
    }
    let _ = frame::parse_arp(data);
    payload(data, FROM);
}

/// Everything the client does with a DHCP payload from the wire, with the rules every typed
/// reply and every lease read from one keep.
pub fn payload(bytes: &[u8], from: Ipv4Addr) {
    let parts = wire::parts(bytes);
    let r = match Reply::parse(bytes, from) {
        Ok(r) => r,
        Err(e) => {
            assert!(parts.is_err(), "parts read what Reply::parse refused: {e}");
            let _ = e.to_string();
            return;
        }
    };
    assert!(parts.is_ok());
    check_reply(&r);
    let offer = Lease::check_offer(&r);
    let start = Instant::from_secs(1000);
    match Lease::from_reply(&r, start) {
        Ok(l) => {
            assert!(
                offer.is_ok(),
                "an ACK's lease taken whose offer is refused: {offer:?}"
            );
            check_lease(&l);
            assert_eq!(l.start, start);
            assert_eq!(l.address, r.yiaddr);
            assert_eq!(Some(l.server_id), r.server_id);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if offer.is_ok() {
        assert!(is_usable_unicast(r.yiaddr), "offer of {} taken", r.yiaddr);
    }
    if let Err(e) = offer {
        let _ = e.to_string();
    }
}

/// What each typed field of a reply promises (its doc comment in `src/reply.rs`).
pub fn check_reply(r: &Reply) {
    if let Some(s) = r.server_id {
        assert!(is_usable_unicast(s), "server id {s}");
    }
    for list in [&r.routers, &r.dns, &r.ntp] {
        for (i, a) in list.iter().enumerate() {
            assert!(is_usable_unicast(*a), "{a} in a server list");
            assert!(!list[..i].contains(a), "{a} twice in a server list");
        }
    }
    assert_ne!(r.renewal_secs, Some(0));
    assert_ne!(r.rebinding_secs, Some(0));
    if let Some(m) = r.mtu {
        assert!(m >= 68, "mtu {m}");
    }
    for name in r.hostname.iter().chain(&r.domain).chain(&r.search) {
        assert_eq!(
            dns_name(name).as_deref(),
            Some(name.as_str()),
            "name {name:?}"
        );
    }
    if let Some(m) = &r.message {
        assert!(!m.chars().any(char::is_control), "message {m:?}");
    }
    for routes in r.classless_routes.iter().chain(&r.ms_classless_routes) {
        for route in routes {
            lease::check_route(route).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    assert!(r.chaddr.len() <= 16);
    for (code, _) in r.other.iter().chain(&r.options) {
        assert!(*code != 0 && *code != 255, "PAD or END kept as an option");
    }
    for l in &r.left_out {
        assert!(r.options.iter().any(|(c, _)| *c == l.code));
        let _ = l.to_string();
    }
}

/// The rules every lease dhcpc uses keeps: its own check, T1 < T2 < expiry, and nothing that
/// panics on the way to the log and the interface.
pub fn check_lease(l: &Lease) {
    l.check()
        .unwrap_or_else(|e| panic!("a lease that fails its own check: {e}"));
    assert!(is_usable_unicast(l.address));
    if l.lease_secs != INFINITE {
        assert!(1 <= l.t1_secs && l.t1_secs < l.t2_secs && l.t2_secs < l.lease_secs);
        let (t1, t2, end) = (l.renew_at(), l.rebind_at(), l.expires_at());
        assert!(t1 < t2 && t2 < end, "{t1:?} {t2:?} {end:?}");
        assert!(t1 > Some(l.start));
    } else {
        assert_eq!(
            (l.renew_at(), l.rebind_at(), l.expires_at()),
            (None, None, None)
        );
    }
    for r in l.routes() {
        let _ = r.to_string();
    }
    let _ = l.to_string();
    let _ = l.search_domains();
    let _ = l.remaining_secs(l.start + Duration::from_secs(3600));
}

/// `wire` target: a strict decode; what decodes encodes, and decodes again to the same
/// message (less the empty options dhcproto does not encode, see tests/wire.rs), which the
/// client's own parser reads too.
///
/// Option 81 is left out of the round trip: dhcproto 0.15 reads some FQDN options (flag E
/// clear, a name with odd bytes) that it then writes in a form it cannot read back (found by
/// this target; fuzz/regressions/wire/fqdn-dhcproto-asymmetry). dhcpc never re-encodes a
/// received option 81: `Reply::parse` keeps it raw and the client sends its own as raw bytes
/// (`request::fqdn_option`); only tests read it through dhcproto.
pub fn wire(data: &[u8]) {
    let Ok(mut m) = wire::decode(data) else {
        return;
    };
    let _ = m.to_string();
    m.opts_mut().remove(dhcpc::wire::v4::OptionCode::ClientFQDN);
    let bytes = wire::encode(&m).unwrap_or_else(|e| panic!("decoded but cannot encode: {e}"));
    m.opts_mut()
        .retain(|_, o| o.to_vec().map_or(true, |v| !v.is_empty()));
    let again = wire::decode(&bytes).unwrap_or_else(|e| panic!("re-encoded does not decode: {e}"));
    assert_eq!(again, m, "decode(encode(decode(x))) != decode(x)");
    Reply::parse(&bytes, FROM).expect("what decodes strictly parses as a reply");
}

/// The clock the `leasefile` target reads files at: CLOCK_BOOTTIME and the wall clock.
pub fn now() -> Instant {
    Instant::from_secs(100_000)
}
pub const NOW_UNIX: u64 = 1_764_000_000;

/// `leasefile` target: any text; when it parses, its lease passes the lease check, and
/// rendering what was read and reading that back (at the same moment) gives the same.
pub fn leasefile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let now = now();
    let saved = match leasefile::parse(&text, now, NOW_UNIX) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = saved.clone().usable_for("eth0", &[2, 0, 0, 0, 0, 1]);
    let Some(lease) = &saved.lease else {
        return;
    };
    check_lease(lease);
    assert_eq!(lease.start, now, "a saved lease counts from now");
    let hwaddr = saved.hwaddr.unwrap_or([2, 0, 0, 0, 0, 1]);
    let acquired = leasefile::acquired_unix(lease.start, now, NOW_UNIX);
    let text2 =
        leasefile::render_with_peer(&saved.iface, &hwaddr, lease, acquired, saved.server_mac);
    let back = leasefile::parse(&text2, now, NOW_UNIX)
        .unwrap_or_else(|e| panic!("a rendered lease does not parse: {e}\n{text2}"));
    assert_eq!(back.iface, saved.iface);
    assert_eq!(back.hwaddr, Some(hwaddr));
    assert_eq!(back.server_mac, saved.server_mac);
    assert_eq!(back.lease.as_ref(), Some(lease), "round trip:\n{text2}");
}

/// The command line every configuration the `config` target reads is applied under, and the
/// most interfaces of the file's own added to it (each is a parse of the whole command line).
const CONFIG_CMDLINE: &[&str] = &["dhcpc", "eth0"];
const CONFIG_MAX_IFACES: usize = 4;

/// `config` target: the bytes as a configuration file (`config::parse_bytes`, which refuses
/// what is not UTF-8) and, when they are not UTF-8, their lossy text too (`config::parse`).
/// Every refusal names at least one problem, each with a message of one line without control
/// characters (dhcpc.conf(5): "one line per problem") and a line number within the file; a
/// file that is accepted applies under `dhcpc eth0` with its own interfaces added, and under
/// `dhcpc --check-config`, through `Settings::with_config` (what every start of dhcpc does
/// after reading the file).
pub fn config(data: &[u8]) {
    let cmd = dhcpc::cli::Cli::command();
    let path = std::path::Path::new("fuzz.conf");
    let lossy = String::from_utf8_lossy(data);
    let as_bytes = config::parse_bytes(&cmd, path, data);
    if let std::borrow::Cow::Owned(text) = &lossy {
        let e = as_bytes.expect_err("bytes that are not UTF-8 accepted");
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(e.problems[0].message.contains("UTF-8"), "{e}");
        config_problems(&e, data.len());
        config_applies(config::parse(&cmd, path, text), text);
    } else {
        config_applies(as_bytes, &lossy);
    }
}

/// What every refusal of a file promises.
fn config_problems(e: &config::ConfigError, len: usize) {
    assert!(!e.problems.is_empty(), "a refusal without a problem");
    let lines = 1 + len; // at most one line per byte, and one more after the last '\n'.
    for p in &e.problems {
        assert!(!p.message.trim().is_empty(), "a problem without a message");
        assert!(
            !p.message.chars().any(char::is_control),
            "a message with a control character (one line per problem): {:?}",
            p.message
        );
        if let Some(l) = p.line {
            assert!((1..=lines).contains(&l), "line {l} of {len} bytes");
        }
    }
    let shown = e.to_string();
    assert_eq!(shown.lines().count(), e.problems.len(), "{shown}");
}

/// A checked file applies; a refused one says why.
fn config_applies(parsed: Result<config::Config, config::ConfigError>, text: &str) {
    let c = match parsed {
        Ok(c) => c,
        Err(e) => return config_problems(&e, text.len()),
    };
    assert!(c.found());
    let mut cmdline: Vec<std::ffi::OsString> = CONFIG_CMDLINE.iter().map(Into::into).collect();
    let own: Vec<String> = c
        .interfaces()
        .filter(|i| *i != "eth0")
        .take(CONFIG_MAX_IFACES)
        .map(str::to_string)
        .collect();
    // After `--`: a name the kernel takes may start with '-'.
    cmdline.push("--".into());
    cmdline.extend(own.iter().map(Into::into));
    for argv in [cmdline, vec!["dhcpc".into(), "--check-config".into()]] {
        let s = match config::Settings::with_config(c.clone(), &argv) {
            Ok(s) => s,
            Err(config::SettingsError::Config(e)) => {
                panic!("a file that checks does not apply under {argv:?}: {e}\n{text}")
            }
            Err(config::SettingsError::Cli(e)) => {
                panic!("the command line {argv:?} refused: {e}")
            }
        };
        for name in &s.cli.interfaces {
            let own = s.interface(name);
            assert!(own.interfaces.is_empty() || std::ptr::eq(own, &s.cli));
        }
    }
}

/// The interface the `hookenv` target's events are for.
const HOOK_IFACE: &str = "eth0";

/// `hookenv` target: the bytes as an Ethernet frame (checksum not checked) or, when they are
/// not one, as a bare DHCP payload, through `Reply::parse` and `Lease::from_reply` as the core
/// takes an ACK (the kind is not checked: the environment never looks at it). The options
/// asked for are dhcpc's own and, as `--request`, the message's option 55. For each reason, with
/// the lease (when there is one) as `new`, `old`, both and neither, the environment of
/// `hookenv::environment` has names that a shell takes ([A-Za-z_][A-Za-z0-9_]*), each once;
/// values without NUL, and (but the interface's) printable ASCII without shell metacharacters;
/// what is withheld is named and absent; and its size is bounded by the message's.
pub fn hookenv(data: &[u8]) {
    use dhcpc::hookenv::{environment, Event, Reason};
    let (payload, from) = match frame::parse(data, true) {
        Ok(d) => (d.payload, d.src_ip),
        Err(_) => (data, FROM),
    };
    let Ok(r) = Reply::parse(payload, from) else {
        return;
    };
    let lease = Lease::from_reply(&r, Instant::from_secs(1000)).ok();
    let expiry = lease
        .as_ref()
        .filter(|l| l.lease_secs != INFINITE)
        .map(|l| NOW_UNIX + u64::from(l.lease_secs));
    // As the driver builds it (`shell::run`): dhcpc's list, then the `--request` codes.
    let mut requested: Vec<u8> = dhcpc::core::REQUESTED_OPTIONS
        .iter()
        .map(|&c| u8::from(c))
        .collect();
    if let Some((_, codes)) = r.options.iter().find(|(c, _)| *c == 55) {
        requested.extend(codes);
    }
    let reasons = [
        Reason::Preinit,
        Reason::Bound,
        Reason::Renew,
        Reason::Rebind,
        Reason::Reboot,
        Reason::Expire,
        Reason::Fail,
        Reason::Release,
        Reason::Stop,
        Reason::Nak,
    ];
    let leases: &[(Option<&Lease>, Option<&Lease>)] = match &lease {
        Some(l) => &[
            (None, None),
            (Some(l), None),
            (None, Some(l)),
            (Some(l), Some(l)),
        ],
        None => &[(None, None)],
    };
    for (i, reason) in reasons.into_iter().enumerate() {
        let (new, old) = leases[i % leases.len()];
        let ev = Event {
            reason,
            interface: HOOK_IFACE,
            pid: 1,
            new,
            old,
            new_expiry: new.and(expiry),
            old_expiry: old.and(expiry),
            new_options: None,
            old_options: None,
            requested: &requested,
        };
        let (env, withheld) = environment(&ev);
        check_hookenv(&ev, &env, &withheld, payload.len());
    }
    // Options only: the same ACK as the answer to a DHCPINFORM from an address set by hand.
    let informed = dhcpc::lease::Informed::from_reply(&r, Ipv4Addr::new(198, 51, 100, 77), 24);
    if let Ok(info) = &informed {
        for (reason, new, old) in [
            (Reason::Inform, Some(info), None),
            (Reason::Inform, Some(info), Some(info)),
            (Reason::Release, None, Some(info)),
        ] {
            let ev = Event {
                reason,
                interface: HOOK_IFACE,
                pid: 1,
                new: None,
                old: None,
                new_expiry: None,
                old_expiry: None,
                new_options: new,
                old_options: old,
                requested: &requested,
            };
            let (env, withheld) = environment(&ev);
            check_hookenv(&ev, &env, &withheld, payload.len());
        }
    }
}

/// A name a POSIX shell takes for a variable.
fn is_shell_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// What one environment promises (src/hookenv.rs's module doc).
fn check_hookenv(
    ev: &dhcpc::hookenv::Event<'_>,
    env: &[(String, String)],
    withheld: &[dhcpc::hookenv::Withheld],
    payload_len: usize,
) {
    let mut names = std::collections::BTreeSet::new();
    let mut size = 0;
    for (name, value) in env {
        assert!(is_shell_name(name), "variable name {name:?}");
        assert!(names.insert(name.as_str()), "{name} twice: {env:?}");
        assert!(!value.contains('\0'), "{name}={value:?}: NUL");
        if name != "interface" {
            assert!(
                value.bytes().all(|b| b == b' '
                    || b.is_ascii_graphic() && !b"$`\\\"'|&;<>(){}[]*?!~#".contains(&b)),
                "{name}={value:?}"
            );
        }
        size += name.len() + value.len() + 2; // "=" and the NUL of execve's "NAME=value".
    }
    assert_eq!(env[0], ("reason".into(), ev.reason.as_str().into()));
    assert_eq!(env[1], ("interface".into(), ev.interface.into()));
    for w in withheld {
        assert!(is_shell_name(&w.name), "withheld {:?}", w.name);
        assert!(
            !names.contains(w.name.as_str()),
            "{} withheld and set",
            w.name
        );
        assert!(!w.why.is_empty());
    }
    for (prefix, l) in [("new", ev.new), ("old", ev.old)] {
        let ip = env
            .iter()
            .find(|(n, _)| *n == format!("{prefix}_ip_address"));
        assert_eq!(ip.map(|(_, v)| v.clone()), l.map(|l| l.address.to_string()));
    }
    // Per lease: about 40 variables of fixed kinds (each option once), and at most 4 characters
    // per byte of the message (RFC 3442 routes as decimal bytes and a space); the `requested_*`
    // ones, each at most once.
    let leases = usize::from(ev.new.is_some() || ev.new_options.is_some())
        + usize::from(ev.old.is_some() || ev.old_options.is_some());
    let bound = 256 + leases * (4096 + 4 * payload_len) + 256 * 48;
    assert!(
        size <= bound,
        "{size} bytes of environment from {payload_len}"
    );
    if payload_len <= 4096 {
        assert!(size < 64 * 1024, "{size} bytes of environment");
    }
}
