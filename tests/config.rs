//! The configuration file (dhcpc.conf(5)): `--check-config` on good and bad files, and, in a
//! namespace lab with dnsmasq, the file's settings applied per interface with the command line
//! winning over them. `cargo test --test config`.
//!
//! `--check-config` runs exit before anything touches the network, so those run the binary on
//! files in a temp dir; everything that gets a lease runs inside a lab.

mod common;

use common::{
    assert_exit, assert_no_panic, assert_stderr_contains, describe, dhcpc_bin, parse_routes,
    require_program, sh, stderr, stdout, wait_address, Lab, CLIENT_IF,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temp dir for config files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(what: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("dhcpc-config-{what}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `dhcpc -c PATH --check-config`.
fn check(path: &Path) -> Output {
    let out = Command::new(dhcpc_bin())
        .arg("-c")
        .arg(path)
        .arg("--check-config")
        .env_remove("DHCPC_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("running dhcpc --check-config");
    assert_no_panic(&out);
    out
}

/// Every key dhcpc.conf(5) lists, at the top level and in an interface's table.
const GOOD: &str = r#"# dhcpc.conf: every key
timeout = 20
arp-probe = "rfc5227"
lease-dir = "/tmp/dhcpc-test-leases"
run-dir = "/tmp/dhcpc-test-run"
dns-mode = "file"
resolv-conf = "/tmp/dhcpc-test-resolv.conf"
broadcast = false
hostname = "box"
vendor_class = "acme 1.0"
clientid = "duid"
request = [42, 119]
no-rapid-commit = true
release-on-exit = true
verbose = 1

[interface.eth0]
metric = 100
allow-missing = true
ipv4ll = 30
fqdn = "box.example."
arp-probe = 0

[interface."eth0.100"]
metric = 200
ipv4ll = true
clientid = "01:02:03"
request = []
"#;

#[test]
fn check_config_accepts_a_good_file() {
    let dir = Dir::new("good");
    for (name, text) in [("good.conf", GOOD), ("empty.conf", "")] {
        let out = check(&dir.file(name, text));
        assert_exit(&out, 0);
        assert_eq!(
            stdout(&out),
            format!("dhcpc: {}: ok\n", dir.0.join(name).display()),
            "{}",
            describe(&out)
        );
        assert!(stderr(&out).is_empty(), "{}", describe(&out));
    }
}

#[test]
fn check_config_names_the_line_of_each_problem() {
    let dir = Dir::new("bad");
    // (file, the line and message each problem must give)
    let cases: &[(&str, &[(usize, &str)])] = &[
        (
            "metric = 1\n\nmetrc = 2\n",
            &[(3, "unknown key 'metrc' (did you mean 'metric'?)")],
        ),
        (
            "# bad value\ntimeout = 0\n",
            &[(
                2,
                "invalid value '0' for '--timeout <SECS>': 0 is not in 1..=86400",
            )],
        ),
        (
            "hostname = \"a b\"\n",
            &[(
                1,
                "invalid value 'a b' for '--hostname <NAME>': 'a b' is not a valid host name",
            )],
        ),
        (
            "metric = \"100\"\nbroadcast = \"yes\"\nrequest = 42\n",
            &[
                (1, "'metric' takes an integer, not a string"),
                (2, "'broadcast' takes true or false, not a string"),
                (3, "'request' takes an array of integers, not an integer"),
            ],
        ),
        ("metric = 1\nbroadcast = tru\n", &[(2, "TOML syntax")]),
        (
            "[interface.eth0]\nmetric = 1\nresolv-conf = \"/x\"\noneshot = true\n",
            &[
                (
                    3,
                    "'resolv-conf' applies to all the interfaces of a process",
                ),
                (4, "'oneshot' is not a setting"),
            ],
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.file(&format!("bad{i}.conf"), text);
        let out = check(&path);
        assert_exit(&out, 2);
        assert!(stdout(&out).is_empty(), "{}", describe(&out));
        let lines: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
        assert_eq!(
            lines.len(),
            want.len(),
            "one line per problem\n{}",
            describe(&out)
        );
        for (got, (line, message)) in lines.iter().zip(want.iter()) {
            let prefix = format!("dhcpc: {}:{line}: ", path.display());
            assert!(
                got.starts_with(&prefix) && got.contains(message),
                "expected {prefix}...{message}\n{}",
                describe(&out)
            );
        }
    }
}

#[test]
fn a_named_file_must_exist() {
    let dir = Dir::new("missing");
    let path = dir.0.join("nothing.conf");
    let out = check(&path);
    assert_exit(&out, 2);
    assert_stderr_contains(&out, &format!("{}: cannot read the file", path.display()));
    let out = check(&dir.0);
    assert_exit(&out, 2);
    assert_stderr_contains(&out, "is a directory");
}

#[test]
fn check_config_survives_random_files() {
    let dir = Dir::new("random");
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..20 {
        let mut bytes: Vec<u8> = GOOD.as_bytes().to_vec();
        for _ in 0..rng.usize(1..8) {
            let at = rng.usize(..bytes.len());
            bytes[at] = rng.u8(..);
        }
        let path = dir.0.join(format!("r{i}.conf"));
        fs::write(&path, &bytes).unwrap();
        let out = check(&path);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}",
            describe(&out)
        );
    }
}

/// The lab of these tests: dnsmasq serving the client's veth (198.51.100.0/24), and a second
/// dnsmasq a second pair, vs2/vc2 (203.0.113.0/24); each gives its own address as the router
/// and keeps the clients' host names in its lease file.
fn two_interface_lab() -> Lab {
    let mut lab = Lab::new();
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, "vs2", &c, "vc2");
    sh(
        "ip",
        &["-n", &s, "addr", "add", "203.0.113.1/24", "dev", "vs2"],
    );
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    ]);
    let dnsmasq = require_program("dnsmasq", "install dnsmasq-base (sudo scripts/test does)");
    let file = |name: &str| lab.dir.join(name).display().to_string();
    let args: Vec<String> = vec![
        "--no-daemon".into(),
        "--conf-file=/dev/null".into(),
        "--port=0".into(),
        "--bind-interfaces".into(),
        "--interface=vs2".into(),
        "--log-facility=-".into(),
        format!("--pid-file={}", file("dnsmasq2.pid")),
        format!("--dhcp-leasefile={}", file("dnsmasq2.leases")),
        "--no-ping".into(),
        "--dhcp-range=203.0.113.50,203.0.113.150,255.255.255.0,1h".into(),
    ];
    lab.start_server_in(&s, "dnsmasq2", &dnsmasq, &args, "sockets bound");
    lab
}

/// The metric of the default route through `dev` in the client namespace.
fn default_metric(lab: &Lab, dev: &str) -> Option<u32> {
    parse_routes(&sh(
        "ip",
        &[
            "-n",
            &lab.client_ns,
            "-j",
            "-4",
            "route",
            "show",
            "table",
            "main",
        ],
    ))
    .into_iter()
    .find(|r| r.is_default() && r.dev.as_deref() == Some(dev))
    .map(|r| r.metric)
}

/// `dhcpc <lab dirs> args` in the client namespace; fails on a panic.
fn dhcpc(lab: &Lab, args: &[&str]) -> Output {
    let mut all = lab.dhcpc_dir_args();
    all.extend(args.iter().map(|a| a.to_string()));
    let out = lab.run_dhcpc(&all);
    assert_no_panic(&out);
    out
}

/// The host name a dnsmasq lease file has for the lease of `addr`.
fn leased_name(leases: &Path, addr: std::net::Ipv4Addr) -> Option<String> {
    let leases = fs::read_to_string(leases).unwrap_or_default();
    leases.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(2) == Some(&addr.to_string().as_str())).then(|| f.get(3).unwrap_or(&"").to_string())
    })
}

#[test]
fn interface_tables_win_over_the_top_level_and_the_command_line_over_both() {
    let lab = two_interface_lab();
    lab.write_config(
        "# the lab's dhcpc.conf\n\
         metric = 100\n\
         hostname = \"top\"\n\
         arp-probe = 0\n\
         timeout = 15\n\
         \n\
         [interface.vc2]\n\
         metric = 200\n\
         hostname = \"second\"\n\
         \n\
         [interface.other]\n\
         metric = 999\n",
    );
    // Both interfaces in one process: vc takes the top level, vc2 its own table.
    let out = dhcpc(&lab, &["-1", CLIENT_IF, "vc2"]);
    assert_exit(&out, 0);
    let a = wait_address(&lab, CLIENT_IF, ("198.51.100.50", "198.51.100.150"));
    let b = wait_address(&lab, "vc2", ("203.0.113.50", "203.0.113.150"));
    assert_eq!(
        default_metric(&lab, CLIENT_IF),
        Some(100),
        "{}",
        describe(&out)
    );
    assert_eq!(default_metric(&lab, "vc2"), Some(200), "{}", describe(&out));
    let (first, second) = (lab.dnsmasq_leasefile(), lab.dir.join("dnsmasq2.leases"));
    assert!(
        common::wait_for(std::time::Duration::from_secs(5), || {
            leased_name(&first, a).as_deref() == Some("top")
                && leased_name(&second, b).as_deref() == Some("second")
        }),
        "host names sent: {:?} {:?}",
        leased_name(&first, a),
        leased_name(&second, b),
    );

    // Given back, then asked for again with flags: the command line beats both.
    assert_exit(&dhcpc(&lab, &["-r", CLIENT_IF, "vc2"]), 0);
    assert_eq!(default_metric(&lab, "vc2"), None, "released");
    // (One run each: two default routes of one metric would replace each other.)
    for (iface, metric) in [(CLIENT_IF, 7), ("vc2", 8)] {
        let out = dhcpc(&lab, &["-1", "--metric", &metric.to_string(), iface]);
        assert_exit(&out, 0);
        assert_eq!(
            default_metric(&lab, iface),
            Some(metric),
            "{}",
            describe(&out)
        );
    }
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_bad_file_stops_a_start_with_status_2() {
    let lab = Lab::new();
    lab.write_config("metric = 1\nmetric-x = 2\n");
    let out = dhcpc(&lab, &["-1", "-t", "5", CLIENT_IF]);
    assert_exit(&out, 2);
    assert_stderr_contains(
        &out,
        &format!("{}:2: unknown key 'metric-x'", lab.config_path().display()),
    );
    assert!(lab.client_addrs().is_empty(), "nothing may be configured");
    // The daemon's start as well, before it goes to the background.
    let out = dhcpc(&lab, &["-t", "5", CLIENT_IF]);
    assert_exit(&out, 2);
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    assert!(!lab
        .dir
        .join("run")
        .join(format!("{CLIENT_IF}.sock"))
        .exists());
    // -c naming a file that is not there.
    let mut args = lab.dhcpc_dir_args();
    let last = args.len() - 1;
    args[last] = lab.dir.join("absent.conf").display().to_string();
    args.extend(["-1".to_string(), CLIENT_IF.to_string()]);
    let out = lab.run_dhcpc(&args);
    assert_no_panic(&out);
    assert_exit(&out, 2);
    assert_stderr_contains(&out, "absent.conf: cannot read the file");
}

#[test]
fn man_pages_are_mandoc_lint_clean() {
    let mandoc = require_program(
        "mandoc",
        "run the tests with `sudo scripts/test`, which installs it (Debian package mandoc)",
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.len() == 1))
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"dhcpc.8".to_string()) && names.contains(&"dhcpc.conf.5".to_string()),
        "{names:?}"
    );
    for page in &pages {
        let out = Command::new(&mandoc)
            .args(["-Tlint", "-Wall"])
            .arg(page)
            .output()
            .expect("running mandoc");
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            out.status.success() && text.trim().is_empty(),
            "mandoc -Tlint {}: {}\n{text}",
            page.display(),
            out.status
        );
    }
}
