//! dhcpc run with ISC dhclient's command line (dhclient(8)), as ifupdown and cloud-init run
//! it, in network namespaces against dnsmasq: the address, the route, the pid file, the lease
//! file (read by a parser written here from dhclient.leases(5), not dhcpc's), `-cf` reaching
//! resolv.conf, refusals with status 2, and the `dhclient` symlink. Every file (pid, lease,
//! conf, resolv.conf) is in the lab's dir; dhcpc's own long options put its run and lease
//! dirs there too. `cargo test --test dhclient_cli`.

mod common;

use common::{
    assert_exit, assert_no_panic, describe, netns_dhcp_dir, ns_resolv, require_program, stderr,
    stdout, wait_for, Lab, CLIENT_IF, DHCLIENT_SCRIPT,
};
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1,198.51.100.2",
    "--dhcp-option=option:domain-name,lab.test",
    "--log-dhcp",
];

fn in_pool(a: Ipv4Addr) -> bool {
    (Ipv4Addr::new(198, 51, 100, 50)..=Ipv4Addr::new(198, 51, 100, 150)).contains(&a)
}

/// A lab with dnsmasq, and /etc/dhcp of the client namespace its own (empty) directory, so
/// that dhclient's default /etc/dhcp/dhclient.conf is not the host's.
fn lab() -> Lab {
    let mut lab = Lab::new();
    if Path::new("/etc/dhcp").is_dir() {
        let own = Path::new("/etc/netns").join(&lab.client_ns).join("dhcp");
        fs::create_dir_all(&own).expect("the namespace's /etc/dhcp");
    }
    lab.start_dnsmasq(DNSMASQ_LAB);
    lab
}

fn p(lab: &Lab, name: &str) -> PathBuf {
    lab.dir.join(name)
}

/// `program` in the client namespace, in a private mount namespace where `script` (or, by
/// default, an empty file that is not executable: no script) stands for dhclient's default
/// script (isc-dhcp-client's /sbin/dhclient-script, which dhcpc runs when called as dhclient
/// without `-sf`), so that the host's runs only when a test asks for it; and in a UTS
/// namespace of its own, as a script may set the host name.
fn client_cmd(lab: &Lab, program: &Path, script: Option<&Path>) -> std::process::Command {
    if !Path::new(DHCLIENT_SCRIPT).exists() {
        assert!(
            script.is_none(),
            "{DHCLIENT_SCRIPT} is missing: install isc-dhcp-client"
        );
        return lab.client_command(program);
    }
    let none = p(lab, "no-dhclient-script");
    if script.is_none() {
        fs::write(&none, "").unwrap();
    }
    let mut cmd = lab.client_command("unshare");
    cmd.args(["--uts", "--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount --bind \"$0\" {DHCLIENT_SCRIPT} && exec \"$@\""
        ))
        .arg(script.unwrap_or(&none))
        .arg(program);
    cmd
}

/// Runs `program args <the lab's dirs>` in the client namespace, with no default script.
fn run(lab: &Lab, program: &Path, args: &[&str]) -> Output {
    run_with_script(lab, program, args, None)
}

/// [`run`], `script` standing for dhclient's default script.
fn run_with_script(lab: &Lab, program: &Path, args: &[&str], script: Option<&Path>) -> Output {
    let mut cmd = client_cmd(lab, program, script);
    cmd.args(args)
        .args(lab.dhcpc_dir_args())
        .env_remove("DHCPC_LOG");
    let out = common::run_with_deadline(cmd, common::DHCPC_DEADLINE);
    assert_no_panic(&out);
    out
}

fn dhclient(lab: &Lab, args: &[&str]) -> Output {
    run(lab, &common::dhcpc_bin(), args)
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// The pid in a pid file, which must be a running dhcpc.
fn pid_of(file: &Path) -> u32 {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let pid: u32 = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("pid file holds {text:?}"));
    assert!(text.ends_with('\n'), "one line: {text:?}");
    assert!(alive(pid), "pid {pid} of {} is not running", file.display());
    let exe = fs::read_link(format!("/proc/{pid}/exe")).expect("the pid's program");
    assert!(
        exe.to_string_lossy().contains("dhcpc"),
        "pid {pid} runs {exe:?}"
    );
    pid
}

fn addresses(lab: &Lab) -> Vec<Ipv4Addr> {
    lab.client_addrs().iter().map(|a| a.local).collect()
}

// --- dhclient.leases(5), read as the man page describes it -----------------------------------

/// One `lease { }` block: its statements by keyword (`option NAME` for options), values as
/// written (quotes kept), the last one of a keyword winning.
type Block = BTreeMap<String, String>;

/// The lease blocks of a dhclient lease file. Each statement ends with `;`; a block is
/// `lease {` ... `}`; `#` starts a comment.
fn parse_leases(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line == "lease {" {
            assert!(current.is_none(), "nested lease block: {text}");
            current = Some(Block::new());
        } else if line == "}" {
            out.push(current.take().expect("'}' outside a lease"));
        } else if let Some(b) = current.as_mut() {
            let stmt = line
                .strip_suffix(';')
                .unwrap_or_else(|| panic!("no ';': {raw:?}"));
            let (key, value) = stmt.split_once(' ').unwrap_or((stmt, ""));
            let (key, value) = if key == "option" {
                let (name, v) = value.split_once(' ').expect("option NAME VALUE");
                (format!("option {name}"), v.to_string())
            } else {
                (key.to_string(), value.to_string())
            };
            b.insert(key, value);
        }
    }
    assert!(current.is_none(), "unclosed lease block: {text}");
    out
}

/// `W YYYY/MM/DD HH:MM:SS` (UTC, weekday 0 = Sunday) as Unix time; checks the weekday.
fn lease_time(v: &str) -> u64 {
    let parts: Vec<&str> = v.split([' ', '/', ':']).collect();
    let n: Vec<i64> = parts.iter().map(|p| p.parse().expect("a number")).collect();
    let [wd, y, m, d, hh, mm, ss] = n[..] else {
        panic!("not a dhclient time: {v:?}");
    };
    // Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    assert_eq!((days + 4).rem_euclid(7), wd, "weekday of {v:?}");
    (days * 86400 + hh * 3600 + mm * 60 + ss) as u64
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The file's one lease for the lab's client, checked against what the kernel has (when
/// dhcpc configured the interface: `configured`).
fn check_lease_file(lab: &Lab, path: &Path, configured: bool) -> Block {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let blocks = parse_leases(&text);
    assert_eq!(blocks.len(), 1, "{text}");
    let b = blocks[0].clone();
    assert_eq!(b["interface"], format!("\"{CLIENT_IF}\""), "{text}");
    let addr: Ipv4Addr = b["fixed-address"].parse().expect("fixed-address");
    if configured {
        assert_eq!(addresses(lab), vec![addr], "{text}");
    }
    assert_eq!(b["option subnet-mask"], "255.255.255.0");
    assert_eq!(b["option routers"], "198.51.100.1");
    assert_eq!(
        b["option domain-name-servers"],
        "198.51.100.1, 198.51.100.2"
    );
    assert_eq!(b["option domain-name"], "\"lab.test\"");
    assert_eq!(b["option dhcp-server-identifier"], "198.51.100.1");
    assert_eq!(b["option dhcp-lease-time"], "3600");
    assert_eq!(b["option dhcp-message-type"], "5");
    let (renew, rebind, expire) = (
        lease_time(&b["renew"]),
        lease_time(&b["rebind"]),
        lease_time(&b["expire"]),
    );
    let t = now();
    assert!(renew < rebind && rebind < expire, "{text}");
    assert!(
        (t + 3590..=t + 3601).contains(&expire),
        "expire {expire} vs now {t}: {text}"
    );
    // T1 is half the lease, within RFC 2131 4.4.5's fuzz (5 %, 90 s, and a second).
    assert!(
        (t + 1780 - 91..=t + 1801 + 91).contains(&renew),
        "renew {renew} vs now {t}: {text}"
    );
    b
}

// --- client identifiers and DUIDs, read as dhclient writes them ---------------------------------

/// A string as dhclient quotes it (quotify_buf: `\ooo` octal escapes, `\"`, `\\`), unquoted.
fn unquote(q: &str) -> Vec<u8> {
    let inner = q
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not quoted: {q:?}"));
    let b = inner.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b[i + 1].is_ascii_digit() {
            let oct = std::str::from_utf8(&b[i + 1..i + 4]).unwrap();
            out.push(u8::from_str_radix(oct, 8).expect("three octal digits"));
            i += 4;
        } else {
            out.push(b[i + 1]);
            i += 2;
        }
    }
    out
}

/// The DUID of the lease file's `default-duid` line, which must be its first.
fn default_duid(lf: &Path) -> Vec<u8> {
    let text = fs::read_to_string(lf).unwrap_or_else(|e| panic!("{}: {e}", lf.display()));
    let first = text.lines().next().unwrap_or("");
    let q = first
        .strip_prefix("default-duid ")
        .and_then(|q| q.strip_suffix(';'))
        .unwrap_or_else(|| panic!("no default-duid line first: {text}"));
    unquote(q)
}

/// The lab client's MAC as bytes.
fn mac_bytes(lab: &Lab) -> Vec<u8> {
    let mac = lab.client_link().mac;
    mac.split(':')
        .map(|o| u8::from_str_radix(o, 16).unwrap())
        .collect()
}

/// The client id dnsmasq's lease database holds for `addr` (its fifth field, hex octets).
fn server_client_id(lab: &Lab, addr: Ipv4Addr) -> Vec<u8> {
    let db = lab.dnsmasq_leasefile();
    let mut line = None;
    wait_for(Duration::from_secs(5), || {
        line = fs::read_to_string(&db)
            .unwrap_or_default()
            .lines()
            .find(|l| l.split(' ').nth(2) == Some(&addr.to_string()))
            .map(str::to_string);
        line.is_some()
    });
    let line = line.unwrap_or_else(|| panic!("{addr} not in {}", db.display()));
    let id = line.split(' ').nth(4).expect("a client id field");
    id.split(':')
        .map(|o| u8::from_str_radix(o, 16).unwrap_or_else(|_| panic!("{line}")))
        .collect()
}

// --- the tests --------------------------------------------------------------------------------

/// ifupdown 0.8.41's `dhclient -4 -v -i -pf ... -lf ... -I -df ... IF -e IF_METRIC=N`, then
/// ifdown's `-i -r`: address, route with the metric, pid file while it runs, all gone after
/// the release; RFC 4361's client id (type 255, IAID, a DUID-LLT made as dhclient makes it) on
/// the wire, and the DUID kept first in the -lf file as `default-duid`, also after the release.
#[test]
fn ifupdown_invocation_and_its_release() {
    let lab = lab();
    let (pf, lf, df) = (
        p(&lab, "dhclient.vc.pid"),
        p(&lab, "dhclient.vc.leases"),
        p(&lab, "dhclient6.vc.leases"),
    );
    let (pf, lf, df) = (
        pf.to_str().unwrap(),
        lf.to_str().unwrap(),
        df.to_str().unwrap(),
    );
    let out = dhclient(
        &lab,
        &[
            "-4",
            "-v",
            "-i",
            "-pf",
            pf,
            "-lf",
            lf,
            "-I",
            "-df",
            df,
            CLIENT_IF,
            "-e",
            "IF_METRIC=100",
        ],
    );
    assert_exit(&out, 0);
    let pid = pid_of(Path::new(pf));
    let b = check_lease_file(&lab, Path::new(lf), true);
    let addr: Ipv4Addr = b["fixed-address"].parse().unwrap();
    let duid = default_duid(Path::new(lf));
    let mac = mac_bytes(&lab);
    assert_eq!(
        duid[..4],
        [0, 1, 0, 1],
        "a DUID-LLT, hardware type 1: {duid:02x?}"
    );
    assert_eq!(duid[8..], mac, "{duid:02x?}");
    let made = u64::from(u32::from_be_bytes(duid[4..8].try_into().unwrap())) + 946_684_800;
    assert!(made.abs_diff(now()) < 60, "made at {made}, now {}", now());
    let id = server_client_id(&lab, addr);
    assert_eq!(
        id,
        [&[0xff][..], &mac[2..], &duid].concat(),
        "{}",
        lab.server_logs()
    );
    assert!(in_pool(addr));
    let routes = lab.client_routes();
    assert!(
        routes.iter().any(|r| r.is_default()
            && r.gateway == Some(Ipv4Addr::new(198, 51, 100, 1))
            && r.metric == 100),
        "default route via 198.51.100.1 metric 100: {routes:#?}"
    );
    assert!(
        !Path::new(df).exists(),
        "-df is accepted and not written for DHCPv4"
    );

    let out = dhclient(
        &lab,
        &[
            "-4", "-v", "-i", "-r", "-pf", pf, "-lf", lf, "-I", "-df", df, CLIENT_IF,
        ],
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!("released {addr}")),
        "{}",
        describe(&out)
    );
    assert!(
        wait_for(Duration::from_secs(5), || !alive(pid)),
        "the daemon stopped"
    );
    assert!(!Path::new(pf).exists(), "the pid file is removed");
    assert!(
        addresses(&lab).is_empty(),
        "address released: {:?}",
        lab.client_addrs()
    );
    assert!(
        !lab.client_routes().iter().any(|r| r.is_default()),
        "route removed"
    );
    assert!(
        parse_leases(&fs::read_to_string(lf).unwrap_or_default()).is_empty(),
        "a released lease is not kept in the lease file"
    );
    assert!(
        lab.server_logs().contains("DHCPRELEASE"),
        "{}",
        lab.server_logs()
    );
    assert_eq!(default_duid(Path::new(lf)), duid, "the DUID stays");
    lab.assert_netns_resolv_untouched();
}

/// cloud-init's `dhclient -1 -v -lf F -pf F -sf /bin/true IF`: status 0 once bound, the
/// lease file as cloud-init parses it, the pid to kill; a later start with the same lease
/// file asks for the address again (INIT-REBOOT) instead of discovering.
#[test]
fn cloud_init_invocation() {
    let lab = lab();
    let (pf, lf) = (p(&lab, "dhclient.pid"), p(&lab, "dhclient.lease"));
    let (pf, lf) = (pf.to_str().unwrap(), lf.to_str().unwrap());
    let out = dhclient(
        &lab,
        &[
            "-1",
            "-v",
            "-lf",
            lf,
            "-pf",
            pf,
            "-sf",
            "/bin/true",
            CLIENT_IF,
        ],
    );
    assert_exit(&out, 0);
    let b = check_lease_file(&lab, Path::new(lf), false);
    // -sf hands the configuration to the script, as dhclient does: /bin/true does nothing.
    assert!(addresses(&lab).is_empty(), "{:?}", addresses(&lab));
    assert!(
        !p(&lab, "lease").join(format!("{CLIENT_IF}.lease")).exists(),
        "with -lf the lease is kept in that file only"
    );
    let pid = pid_of(Path::new(pf));
    // As cloud-init does once it has the lease.
    nix_kill(pid);
    assert!(wait_for(Duration::from_secs(5), || !alive(pid)), "killed");
    let discovers = || lab.server_logs().matches("DHCPDISCOVER").count();
    assert_eq!(discovers(), 1, "{}", lab.server_logs());

    let out = run(
        &lab,
        &common::dhcpc_bin(),
        &["-1", "--dhclient-lease-file", lf, CLIENT_IF],
    );
    assert_exit(&out, 0);
    assert_eq!(
        discovers(),
        1,
        "the saved lease was asked for again: {}",
        lab.server_logs()
    );
    assert_eq!(
        addresses(&lab),
        vec![b["fixed-address"].parse::<Ipv4Addr>().unwrap()]
    );
}

fn nix_kill(pid: u32) {
    common::sh("kill", &["-TERM", &pid.to_string()]);
}

/// `-cf FILE` with `supersede domain-name-servers` and `supersede domain-name`: resolv.conf
/// has those, not the lease's; a statement dhcpc does not take is a warning naming its line.
#[test]
fn conf_file_supersede_reaches_resolv_conf() {
    let lab = lab();
    let conf = p(&lab, "dhclient.conf");
    fs::write(
        &conf,
        "# a test\nsupersede domain-name-servers 203.0.113.53, 203.0.113.54;\n\
         supersede domain-name \"corp.test\";\nreject 198.51.100.7;\ntimeout 20;\n",
    )
    .unwrap();
    let pf = p(&lab, "pid");
    let out = dhclient(
        &lab,
        &[
            "-1",
            "-cf",
            conf.to_str().unwrap(),
            "-pf",
            pf.to_str().unwrap(),
            CLIENT_IF,
        ],
    );
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(&format!("warning: {}: line 4: 'reject", conf.display())),
        "{}",
        describe(&out)
    );
    let resolv = fs::read_to_string(p(&lab, "resolv.conf")).expect("resolv.conf");
    let lines: Vec<&str> = resolv.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "domain corp.test",
            "nameserver 203.0.113.53",
            "nameserver 203.0.113.54"
        ],
        "{resolv}"
    );
    // -x: stop without releasing; the pid file goes, the address stays.
    let pid = pid_of(&pf);
    let out = dhclient(&lab, &["-x", "-pf", pf.to_str().unwrap(), CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || !alive(pid)));
    assert!(!pf.exists());
    assert_eq!(addresses(&lab).len(), 1);
    lab.assert_netns_resolv_untouched();
}

/// Flags dhcpc cannot honour, and unknown ones, are status 2 with a message; nothing runs.
#[test]
fn unknown_and_refused_flags_exit_2() {
    let lab = Lab::new();
    for (args, needle) in [
        (
            &["-pf", "/nonexistent/x", "-Z", CLIENT_IF][..],
            "-Z: not a dhclient option",
        ),
        // -4 and -6 are dhcpc's own flags too: -nw and -I say that this is dhclient's line.
        (&["-nw", "-n", CLIENT_IF], "OMAPI"),
        (
            &["-I", "-6", "-T", CLIENT_IF],
            "temporary addresses (IA_TA)",
        ),
        (
            &["-I", "-4", "-s", "198.51.100.1", CLIENT_IF],
            "-s is not supported",
        ),
        (&["-I", "-4"], "name the interface"),
    ] {
        let out = dhclient(&lab, args);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(needle),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(addresses(&lab).is_empty());
    }
    assert!(!p(&lab, "run").exists(), "nothing started");
}

/// Run as `dhclient` through a symlink: dhclient's command line without any flag only it has;
/// `--version`; and `-1` with no server: status 2, no daemon left.
#[test]
fn invoked_through_a_symlink_named_dhclient() {
    let mut lab = Lab::new();
    let link = p(&lab, "dhclient");
    std::os::unix::fs::symlink(common::dhcpc_bin(), &link).unwrap();
    let out = run(&lab, &link, &["--version"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("dhclient"), "{}", describe(&out));

    // No server yet: -1 gives up after the timeout with dhclient's status 2.
    let pf = p(&lab, "pid");
    let started = std::time::Instant::now();
    let out = run(
        &lab,
        &link,
        &[
            "-1",
            "-pf",
            pf.to_str().unwrap(),
            CLIENT_IF,
            "--timeout",
            "2",
        ],
    );
    assert_exit(&out, 2);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        wait_for(Duration::from_secs(5), || !pf.exists()),
        "no daemon left behind"
    );

    lab.start_dnsmasq(DNSMASQ_LAB);
    // -d with no flag only dhclient has: the name alone makes it dhclient's command line
    // (dhcpc's -d would go on the same, but -1 -d would be refused by dhcpc's own parser).
    let lf = p(&lab, "leases");
    let mut cmd = client_cmd(&lab, &link, None);
    cmd.args(["-1", "-d", "-lf", lf.to_str().unwrap(), CLIENT_IF])
        .args(lab.dhcpc_dir_args());
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Bound, and the lease file written (just after the address, by the files thread).
    let bound = wait_for(Duration::from_secs(15), || {
        addresses(&lab).len() == 1 && lf.exists()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(bound, "dhclient -1 -d bound in the foreground");
    check_lease_file(&lab, &lf, true);
}

/// The DUID dhcpc keeps in the -lf file is the one ISC dhclient -i reads from it: dhclient run
/// on the same file sends the same client id (dnsmasq keeps one lease for it) and rewrites the
/// same `default-duid` line. A DUID in the -df file (the DHCPv6 side's) is taken when the -lf
/// file has none, and moves there.
#[test]
fn isc_dhclient_sends_the_same_client_id_from_the_same_files() {
    let dhclient_bin = require_program(
        "dhclient",
        "install isc-dhcp-client (sudo scripts/test does): ISC dhclient reads dhcpc's file",
    );
    let lab = lab();
    let (lf, df, pf) = (p(&lab, "v4.leases"), p(&lab, "v6.leases"), p(&lab, "pid"));
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (lf_s, df_s, pf_s) = (s(&lf), s(&df), s(&pf));
    let args = [
        "-4",
        "-v",
        "-i",
        "-1",
        "-sf",
        "/bin/true",
        "-pf",
        &pf_s,
        "-lf",
        &lf_s,
    ];
    let mut with_df = args.to_vec();
    with_df.extend(["-df", &df_s, CLIENT_IF]);
    let out = dhclient(&lab, &with_df);
    assert_exit(&out, 0);
    let first_line = |p: &Path| {
        fs::read_to_string(p)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let ours = first_line(&lf);
    let addr: Ipv4Addr = check_lease_file(&lab, &lf, false)["fixed-address"]
        .parse()
        .unwrap();
    let id = server_client_id(&lab, addr);
    nix_kill(pid_of(&pf));
    assert!(wait_for(Duration::from_secs(5), || !pf.exists()));

    // ISC dhclient, the same flags and files: -sf /bin/true, so nothing is configured.
    let mut cmd = lab.client_command(&dhclient_bin);
    cmd.args(&with_df);
    let out = common::run_with_deadline(cmd, Duration::from_secs(30));
    assert_exit(&out, 0);
    if let Ok(pid) = fs::read_to_string(&pf) {
        nix_kill(pid.trim().parse().unwrap());
    }
    assert_eq!(
        first_line(&lf),
        ours,
        "ISC dhclient rewrote the same default-duid line"
    );
    let db = fs::read_to_string(lab.dnsmasq_leasefile()).unwrap();
    assert_eq!(db.lines().count(), 1, "one client to dnsmasq: {db}");
    assert_eq!(server_client_id(&lab, addr), id, "{db}");

    // A DUID-LL in the -df file, none in a new -lf file: taken, sent, and kept in the -lf.
    let (lf2, lf2_s) = (p(&lab, "other.leases"), s(&p(&lab, "other.leases")));
    let ll = "default-duid \"\\000\\003\\000\\001\\002\\000\\000\\000\\000\\011\";";
    fs::write(&df, format!("{ll}\n")).unwrap();
    let mut args2 = args.to_vec();
    args2[9] = &lf2_s;
    args2.extend(["-df", &df_s, CLIENT_IF]);
    let out = dhclient(&lab, &args2);
    assert_exit(&out, 0);
    assert_eq!(first_line(&lf2), ll);
    let addr2: Ipv4Addr = check_lease_file(&lab, &lf2, false)["fixed-address"]
        .parse()
        .unwrap();
    let mac = mac_bytes(&lab);
    let want = [&[0xff][..], &mac[2..], &[0, 3, 0, 1, 2, 0, 0, 0, 0, 9]].concat();
    assert_eq!(server_client_id(&lab, addr2), want);
}

/// NetworkManager's -cf file (as NM 1.42 writes it over Debian's stock dhclient.conf) with its
/// `send dhcp-client-identifier 01:52:54:00:12:34:56;` and `send host-name "myhost";`: both
/// reach the server as written, and no line draws a warning.
#[test]
fn network_managers_conf_file_client_id_reaches_the_server() {
    let lab = lab();
    let cf = p(&lab, "dhclient-vc.conf");
    let nm = include_str!("../src/dhclient/testdata/nm-dhclient-eth0-stock.conf");
    fs::write(&cf, nm).unwrap();
    let (lf, pf) = (p(&lab, "leases"), p(&lab, "pid"));
    let out = dhclient(
        &lab,
        &[
            "-1",
            "-cf",
            cf.to_str().unwrap(),
            "-lf",
            lf.to_str().unwrap(),
            "-pf",
            pf.to_str().unwrap(),
            CLIENT_IF,
        ],
    );
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("warning"), "{}", describe(&out));
    let addr: Ipv4Addr = check_lease_file(&lab, &lf, true)["fixed-address"]
        .parse()
        .unwrap();
    assert_eq!(
        server_client_id(&lab, addr),
        [1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]
    );
    let db = fs::read_to_string(lab.dnsmasq_leasefile()).unwrap();
    assert!(
        db.contains(&format!("{addr} myhost 01:52:54:00:12:34:56")),
        "{db}"
    );
}

/// Without -sf, dhclient's default script runs when it is there, and configures the
/// interface, as under dhclient: here a stand-in that records its reasons and configures
/// nothing, so dhcpc configures nothing either.
#[test]
fn without_sf_dhclients_default_script_runs_and_configures() {
    let lab = lab();
    let log = p(&lab, "script.log");
    let script = p(&lab, "dhclient-script");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$reason $new_ip_address\" >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let pf = p(&lab, "pid");
    let out = run_with_script(
        &lab,
        &common::dhcpc_bin(),
        &["-1", "-pf", pf.to_str().unwrap(), CLIENT_IF],
        Some(&script),
    );
    assert_exit(&out, 0);
    let runs = fs::read_to_string(&log).unwrap_or_default();
    let reasons: Vec<&str> = runs.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(reasons, ["PREINIT", "BOUND"], "{runs}");
    assert!(addresses(&lab).is_empty(), "the script configures: {runs}");
    assert!(
        !p(&lab, "resolv.conf").exists(),
        "nor does dhcpc write resolv.conf"
    );
    // The same without the script there: dhcpc configures the interface itself.
    let out = dhclient(&lab, &["-x", "-pf", pf.to_str().unwrap(), CLIENT_IF]);
    assert_exit(&out, 0);
    assert!(wait_for(Duration::from_secs(5), || !pf.exists()));
    let runs = fs::read_to_string(&log).unwrap_or_default();
    let out = dhclient(&lab, &["-1", "-pf", pf.to_str().unwrap(), CLIENT_IF]);
    assert_exit(&out, 0);
    assert_eq!(addresses(&lab).len(), 1);
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        runs,
        "the stand-in ran no more"
    );
}

/// ifupdown's stanza options, from the IF_* environment ifupdown runs `inet dhcp`'s command
/// with: `hostname`, `vendor` and `leasetime` reach the server; `client` in hex is the client
/// id, over `-i`.
#[test]
fn ifupdown_stanza_options_reach_the_server() {
    let lab = lab();
    let (lf, pf) = (p(&lab, "leases"), p(&lab, "pid"));
    let mut cmd = client_cmd(&lab, &common::dhcpc_bin(), None);
    cmd.args(["-4", "-v", "-i", "-1", "-pf", pf.to_str().unwrap(), "-lf"])
        .arg(&lf)
        .arg(CLIENT_IF)
        .args(lab.dhcpc_dir_args())
        .env_remove("DHCPC_LOG")
        .envs([
            ("IFACE", CLIENT_IF),
            ("ADDRFAM", "inet"),
            ("METHOD", "dhcp"),
            ("MODE", "start"),
            ("IF_HOSTNAME", "stanzahost"),
            ("IF_VENDOR", "acme-stanza"),
            ("IF_LEASETIME", "1800"),
            ("IF_CLIENT", "01:02:03:04:05:06:07"),
        ]);
    let out = common::run_with_deadline(cmd, common::DHCPC_DEADLINE);
    assert_no_panic(&out);
    assert_exit(&out, 0);
    let text = fs::read_to_string(&lf).unwrap();
    let b = &parse_leases(&text)[0];
    assert_eq!(b["option dhcp-lease-time"], "1800", "{text}");
    let addr: Ipv4Addr = b["fixed-address"].parse().unwrap();
    assert_eq!(server_client_id(&lab, addr), [1, 2, 3, 4, 5, 6, 7]);
    let db = fs::read_to_string(lab.dnsmasq_leasefile()).unwrap();
    assert!(db.contains(&format!("{addr} stanzahost ")), "{db}");
    let logs = lab.server_logs();
    assert!(logs.contains("vendor class: acme-stanza"), "{logs}");
    assert!(!text.contains("default-duid"), "no DUID used: {text}");
}

/// Called as dhclient without `-sf`, dhcpc runs Debian's own /sbin/dhclient-script as dhclient
/// does: the script configures the interface and resolv.conf (the namespace's) and runs the
/// exit hooks of /etc/dhcp/dhclient-exit-hooks.d (the namespace's own), for BOUND and, at
/// ifdown's `-r`, RELEASE.
#[test]
fn debians_dhclient_script_and_its_hooks_run_without_sf() {
    assert!(
        Path::new(DHCLIENT_SCRIPT).exists(),
        "{DHCLIENT_SCRIPT} is missing (isc-dhcp-client; sudo scripts/test installs it)"
    );
    let host_resolv = fs::read("/etc/resolv.conf").unwrap_or_default();
    let lab = lab();
    let hooks = p(&lab, "exit-hooks.log");
    netns_dhcp_dir(&lab, &hooks);
    let (lf, pf) = (p(&lab, "leases"), p(&lab, "pid"));
    let args = [
        "-4",
        "-v",
        "-pf",
        pf.to_str().unwrap(),
        "-lf",
        lf.to_str().unwrap(),
    ];
    let script = Some(Path::new(DHCLIENT_SCRIPT));
    let dhcpc = common::dhcpc_bin();
    let out = run_with_script(
        &lab,
        &dhcpc,
        &[&args[..], &["-1", CLIENT_IF]].concat(),
        script,
    );
    assert_exit(&out, 0);
    let addr: Ipv4Addr = check_lease_file(&lab, &lf, true)["fixed-address"]
        .parse()
        .unwrap();
    let log = || fs::read_to_string(&hooks).unwrap_or_default();
    assert!(
        wait_for(Duration::from_secs(5), || log()
            .contains(&format!("BOUND {addr} lab.test"))),
        "{}",
        log()
    );
    let resolv = fs::read_to_string(ns_resolv(&lab)).unwrap();
    assert!(resolv.contains("nameserver 198.51.100.1"), "{resolv}");
    assert!(
        !p(&lab, "resolv.conf").exists(),
        "dhcpc wrote no resolv.conf: the script did"
    );
    let out = run_with_script(
        &lab,
        &dhcpc,
        &[&args[..], &["-r", CLIENT_IF]].concat(),
        script,
    );
    assert_exit(&out, 0);
    assert!(
        wait_for(Duration::from_secs(5), || log().contains("RELEASE")),
        "{}",
        log()
    );
    assert!(
        addresses(&lab).is_empty(),
        "the script took the address off"
    );
    assert_eq!(
        fs::read("/etc/resolv.conf").unwrap_or_default(),
        host_resolv
    );
}
