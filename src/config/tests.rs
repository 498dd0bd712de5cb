//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;

fn check(text: &str) -> Result<Config, ConfigError> {
    parse(&Cli::command(), Path::new("test.conf"), text)
}

fn problems(text: &str) -> Vec<(Option<usize>, String)> {
    check(text)
        .expect_err("the file should be refused")
        .problems
        .into_iter()
        .map(|p| (p.line, p.message))
        .collect()
}

fn settings(text: &str, cmdline: &[&str]) -> Settings {
    let cmd = Cli::command();
    let config = parse(&cmd, Path::new("test.conf"), text).expect("a good file");
    let cmdline: Vec<OsString> = cmdline.iter().map(OsString::from).collect();
    let given = cmd
        .clone()
        .try_get_matches_from(&cmdline)
        .expect("a good command line");
    Settings::new(&cmd, config, &cmdline, &given).expect("settings")
}

#[test]
fn every_option_but_the_modes_is_a_key() {
    let cmd = prepared(&Cli::command());
    let keys = Keys { cmd: &cmd };
    let mut names: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !keys.is_mode(a) && Shape::of(a).is_some())
        .filter_map(|a| a.get_long())
        .collect();
    names.sort();
    for want in [
        "arp-probe",
        "broadcast",
        "clientid",
        "fqdn",
        "hostname",
        "ipv4ll",
        "last-lease",
        "lease-dir",
        "metric",
        "no-rapid-commit",
        "no-resolv",
        "dns-mode",
        "quiet",
        "release-on-exit",
        "request",
        "resolv-conf",
        "run-dir",
        "timeout",
        "vendor-class",
        "verbose",
        "allow-missing",
    ] {
        assert!(names.contains(&want), "{want} is not a key: {names:?}");
    }
    for mode in [
        "oneshot",
        "foreground",
        "release",
        "exit",
        "renew",
        "status",
        "json",
    ] {
        assert!(!names.contains(&mode), "{mode} is a key");
    }
    assert!(!names.contains(&"config") && !names.contains(&"check-config"));
}

#[test]
fn file_values_fill_in_what_the_command_line_leaves() {
    let s = settings(
        "metric = 100\nbroadcast = true\nrequest = [42, 119]\nipv4ll = true\n\
         arp-probe = \"rfc5227\"\nclientid = \"duid\"\nverbose = 2\n",
        &["dhcpc", "eth0"],
    );
    let c = s.interface("eth0");
    assert_eq!(c.metric, 100);
    assert!(c.broadcast);
    assert_eq!(c.request, vec![42, 119]);
    assert_eq!(c.ipv4ll, Some(10));
    assert_eq!(c.arp_probe, crate::core::ProbeMode::Rfc5227);
    assert_eq!(c.client_id, crate::core::ClientId::Duid);
    assert_eq!(s.cli.verbose, 2);
}

#[test]
fn the_command_line_wins_option_by_option() {
    let file = "metric = 100\nrequest = [42]\nverbose = 2\nno-resolv = true\nipv4ll = 30\n\
                timeout = 20\n";
    let s = settings(
        file,
        &[
            "dhcpc",
            "--metric",
            "7",
            "--request",
            "119",
            "-v",
            "--resolv-conf",
            "/tmp/x",
            "-1",
            "eth0",
        ],
    );
    let c = s.interface("eth0");
    assert_eq!(c.metric, 7);
    assert_eq!(
        c.request,
        vec![119],
        "a list on the command line replaces the file's"
    );
    assert_eq!(s.cli.verbose, 1);
    assert!(!s.cli.no_resolv, "--resolv-conf drops the file's no-resolv");
    assert_eq!(s.cli.resolv_conf, Path::new("/tmp/x"));
    assert_eq!(
        c.ipv4ll, None,
        "-1 drops the file's ipv4ll, which it excludes"
    );
    assert_eq!(
        c.timeout, 20,
        "what the command line does not give comes from the file"
    );
}

#[test]
fn an_interface_table_wins_over_the_top_level() {
    let file = "metric = 100\nhostname = \"top\"\nbroadcast = true\n\
                [interface.eth1]\nmetric = 200\nbroadcast = false\nrequest = [42]\n\
                [interface.eth2]\n";
    let s = settings(file, &["dhcpc", "eth0", "eth1", "eth2"]);
    assert_eq!(s.interface("eth0").metric, 100);
    assert_eq!(s.interface("eth1").metric, 200);
    assert!(
        !s.interface("eth1").broadcast,
        "false in a table undoes the top's true"
    );
    assert_eq!(s.interface("eth1").hostname.as_deref(), Some("top"));
    assert_eq!(s.interface("eth1").request, vec![42]);
    assert!(s.interface("eth0").request.is_empty());
    assert_eq!(s.interface("eth2").metric, 100);
    let s = settings(file, &["dhcpc", "--metric", "5", "eth1"]);
    assert_eq!(
        s.interface("eth1").metric,
        5,
        "the command line beats the table"
    );
}

#[test]
fn underscores_name_the_same_keys() {
    let s = settings("vendor_class = \"acme\"\n", &["dhcpc", "eth0"]);
    assert_eq!(s.interface("eth0").vendor_class.as_deref(), Some("acme"));
}

#[test]
fn problems_name_their_lines() {
    let p = problems(
        "# a comment\nmetrc = 1\nmetric = \"ten\"\nbroadcast = 1\narp-probe = \"slow\"\n\
         oneshot = true\nrequest = 42\ntimeout = 0\n",
    );
    assert_eq!(p.len(), 7, "{p:?}");
    assert_eq!(p[0].0, Some(2));
    assert!(
        p[0].1
            .contains("unknown key 'metrc' (did you mean 'metric'?)"),
        "{p:?}"
    );
    assert_eq!(
        p[1],
        (Some(3), "'metric' takes an integer, not a string".into())
    );
    assert_eq!(
        p[2],
        (
            Some(4),
            "'broadcast' takes true or false, not an integer".into()
        )
    );
    assert_eq!(p[3].0, Some(5));
    assert!(
        p[3].1.contains("invalid value 'slow' for '--arp-probe"),
        "{p:?}"
    );
    assert!(p[3].1.contains("not a probe window"), "{p:?}");
    assert_eq!(p[4].0, Some(6));
    assert!(p[4].1.contains("command line only"), "{p:?}");
    assert_eq!(p[5].0, Some(7));
    assert!(p[5].1.contains("array of integers"), "{p:?}");
    assert_eq!(p[6].0, Some(8));
    assert!(p[6].1.contains("invalid value '0' for '--timeout"), "{p:?}");
}

#[test]
fn the_same_message_as_the_flag() {
    let cmd = Cli::command();
    let flag = cmd
        .try_get_matches_from(["dhcpc", "--hostname=bad_name", "eth0"])
        .expect_err("a bad host name");
    let p = problems("hostname = \"bad_name\"\n");
    assert_eq!(p, vec![(Some(1), clap_message(&flag))]);
}

#[test]
fn syntax_errors_name_their_lines() {
    let p = problems("metric = 1\n\nbroadcast = tru\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, Some(3));
    assert!(p[0].1.starts_with("TOML syntax"), "{p:?}");
    let p = problems("metric = 1\nmetric = 2\n");
    assert_eq!(p[0].0, Some(2), "{p:?}");
}

/// fuzz/regressions/config/newline-in-a-key: a key, or an interface's name, with a
/// newline was a problem of two lines.
#[test]
fn a_name_with_a_newline_is_named_on_one_line() {
    let p = problems("\"a\\nb\" = 1\n[interface.\"c\\td\"]\nmetric = 1\n");
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0], (Some(1), "unknown key 'a\\u{a}b'".to_string()));
    assert_eq!(p[1].0, Some(2));
    assert!(
        p[1].1
            .starts_with("[interface.c\\u{9}d]: 'c\\u{9}d' is not"),
        "{p:?}"
    );
    let e = check("\"a\\nb\" = 1\n").unwrap_err();
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
}

#[test]
fn interface_tables_are_checked() {
    let p = problems("interface = 3\n");
    assert_eq!(p[0].0, Some(1));
    let p = problems(
        "[interface.eth0]\nresolv-conf = \"/x\"\n[interface.\"a/b\"]\n[interface]\nwlan0 = 1\n",
    );
    assert_eq!(p.len(), 3, "{p:?}");
    assert_eq!(p[0].0, Some(2));
    assert!(p[0].1.contains("top level"), "{p:?}");
    assert_eq!(p[1].0, Some(3));
    assert!(p[1].1.contains("not a valid interface name"), "{p:?}");
    assert_eq!(p[2].0, Some(5));
}

#[test]
fn exclusive_keys_together_are_refused() {
    let p = problems("verbose = 1\nquiet = true\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].1.contains("cannot be used with"), "{p:?}");
    assert!(p[0].0.is_some());
}

#[test]
fn a_new_option_is_a_key_with_no_code_here() {
    // An option another part of the program adds later (as --dns-mode was).
    let cmd = Cli::command().arg(
        Arg::new("example_mode")
            .long("example-mode")
            .value_parser(["auto", "resolved", "file", "none"]),
    );
    let config = parse(
        &cmd,
        Path::new("t"),
        "[interface.eth0]\nexample-mode = \"file\"\n",
    )
    .expect("example-mode is a key");
    let cmdline: Vec<OsString> = ["dhcpc", "eth0"].iter().map(OsString::from).collect();
    let given = cmd.clone().try_get_matches_from(&cmdline).unwrap();
    let m = config.apply(&cmd, &cmdline, &given, Some("eth0")).unwrap();
    assert_eq!(
        m.get_one::<String>("example_mode").map(String::as_str),
        Some("file")
    );
    let e = parse(&cmd, Path::new("t"), "example-mode = \"dhcp\"\n").expect_err("a bad value");
    assert!(
        e.problems[0].message.contains("invalid value 'dhcp'"),
        "{e}"
    );
}

#[test]
fn random_bytes_never_panic() {
    let cmd = Cli::command();
    let mut rng = fastrand::Rng::with_seed(10);
    let pieces: &[&[u8]] = &[
        b"metric",
        b" = ",
        b"\"",
        b"[interface.",
        b"]",
        b"\n",
        b"[",
        b"true",
        b"-1",
        b"0x1f",
        b"request",
        b"ipv4ll",
        b"verbose",
        b"=",
        b"{",
        b"}",
        b",",
        b"'",
        b"#",
        b"\xff",
        b"9999999999999999999999",
        b"interface",
        b".",
        b"e\xcc\x81",
    ];
    for _ in 0..3000 {
        let mut bytes = Vec::new();
        for _ in 0..rng.usize(0..24) {
            if rng.bool() {
                bytes.extend_from_slice(pieces[rng.usize(..pieces.len())]);
            } else {
                bytes.push(rng.u8(..));
            }
        }
        if let Err(e) = parse_bytes(&cmd, Path::new("fuzz"), &bytes) {
            assert!(!e.problems.is_empty());
            let _ = e.to_string();
        }
    }
}

#[test]
fn a_missing_default_file_is_empty_but_a_named_one_is_an_error() {
    let cmd = Cli::command();
    let missing = Path::new("/nonexistent/dhcpc-test.conf");
    assert!(load(&cmd, missing, false).is_ok());
    let e = load(&cmd, missing, true).expect_err("a named file must exist");
    assert_eq!(e.problems[0].line, None);
    assert!(e
        .to_string()
        .starts_with("/nonexistent/dhcpc-test.conf: cannot read"));
}

/// `ipv4` and `ipv6` are one choice: a command line naming a protocol (as each unit's does)
/// is not widened by the file's, and an interface's table chooses for it alone.
#[test]
fn the_protocols_are_chosen_as_one_setting() {
    let file = "ipv4 = true\nipv6 = true\n[interface.wan0]\nipv6 = true\n";
    let s = settings(file, &["dhcpc", "eth0", "wan0"]);
    assert!(s.interface("eth0").ipv4 && s.interface("eth0").ipv6);
    let wan = s.interface("wan0");
    assert!(wan.ipv6 && !wan.ipv4, "the table chooses DHCPv6 alone");
    let s = settings(file, &["dhcpc", "-6", "eth0"]);
    assert!(s.interface("eth0").ipv6 && !s.interface("eth0").ipv4);
    let s = settings(file, &["dhcpc", "-4", "eth0"]);
    assert!(s.interface("eth0").ipv4 && !s.interface("eth0").ipv6);
}
