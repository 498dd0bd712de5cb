//! The configuration file (dhcpc.conf(5)) as `--check-config` reads it: good and bad files,
//! each problem named with its line, random bytes. Those runs exit before anything touches the
//! network, so they run the binary on files in a temp dir, as any user. The file's settings
//! applied in a namespace lab are in tests/config_lab.rs (the root tier).

mod common;

use common::{
    assert_exit, assert_no_panic, assert_stderr_contains, describe, dhcpc_bin, stderr, stdout,
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
duid-type = "llt"
duid-file = "/var/lib/dhcp/dhclient6.eth0.leases"
lease-time = 7200
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
