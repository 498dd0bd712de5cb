//! dhcpc run with ISC dhclient's command line (dhclient(8)), as ifupdown and cloud-init run
//! it, in network namespaces against dnsmasq: the address, the route, the pid file, the lease
//! file (read by a parser written here from dhclient.leases(5), not dhcpc's), `-cf` reaching
//! resolv.conf, refusals with status 2, and the `dhclient` symlink. Every file (pid, lease,
//! conf, resolv.conf) is in the lab's dir; dhcpc's own long options put its run and lease
//! dirs there too. `cargo test --test dhclient_cli`.

mod common;

use common::{assert_exit, assert_no_panic, describe, stderr, stdout, wait_for, Lab, CLIENT_IF};
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

/// Runs `program args <the lab's dirs>` in the client namespace.
fn run(lab: &Lab, program: &Path, args: &[&str]) -> Output {
    let mut cmd = lab.client_command(program);
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

// --- the tests --------------------------------------------------------------------------------

/// ifupdown's `dhclient -4 -v -pf ... -lf ... -I -df ... IF -e IF_METRIC=N`, then the same with
/// `-r`: address, route with the metric, pid file while it runs, all gone after the release.
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
            "-4", "-v", "-r", "-pf", pf, "-lf", lf, "-I", "-df", df, CLIENT_IF,
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
        (&["-4", "-n", CLIENT_IF], "OMAPI"),
        (&["-6", CLIENT_IF], "DHCPv6"),
        (
            &["-4", "-s", "198.51.100.1", CLIENT_IF],
            "-s is not supported",
        ),
        (&["-4"], "name the interface"),
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
    let mut cmd = lab.client_command(&link);
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
