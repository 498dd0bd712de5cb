//! The daemon's modes tested in-process, with no root and no network: `--status` and the
//! requests against a daemon played by a thread on a control socket in a temporary run
//! directory, and the lines they print.

use crate::cli::Cli;
use crate::config::Settings;
use crate::daemon::request::{control_request, what_was_done, Request};
use crate::daemon::status::{human_status, status};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;

fn settings(args: &str, run_dir: &Path) -> Settings {
    use clap::CommandFactory;
    let mut argv: Vec<std::ffi::OsString> = args.split_whitespace().map(Into::into).collect();
    argv.insert(1, "--run-dir".into());
    argv.insert(2, run_dir.into());
    let config = crate::config::parse(&Cli::command(), "/x".as_ref(), "").unwrap();
    Settings::with_config(config, &argv).ok().unwrap()
}

/// A daemon for `iface` in `run_dir` that answers `answers` (by request word), one
/// connection each, then stops; the request lines it got.
fn fake_daemon(
    run_dir: &Path,
    iface: &str,
    answers: &'static [(&'static str, &'static str)],
) -> std::thread::JoinHandle<Vec<String>> {
    let listener = UnixListener::bind(run_dir.join(format!("{iface}.sock"))).unwrap();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..answers.len() {
            let (stream, _) = listener.accept().unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let word = line.split_whitespace().next().unwrap_or("").to_string();
            let answer = answers.iter().find(|(w, _)| *w == word).map_or("", |a| a.1);
            writeln!(&stream, "{answer}").unwrap();
            got.push(line.trim().to_string());
        }
        got
    })
}

const BOUND: &str = r#"{"interface":"eth0","state":"BOUND","carrier":true,"address":"198.51.100.23","prefix_len":24,"server":"198.51.100.1","renew_in":1800,"rebind_in":3150,"expires_in":3600}"#;

#[test]
fn status_with_no_daemon_says_not_running_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("dhcpc --status eth0", dir.path());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(status(&s.cli, &mut out, &mut err), 1);
    assert_eq!(String::from_utf8(out).unwrap(), "eth0: NOT RUNNING\n");
    let s = settings("dhcpc --status", dir.path());
    let mut out = Vec::new();
    assert_eq!(status(&s.cli, &mut out, &mut err), 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "no dhcpc daemon is running\n"
    );
}

#[test]
fn status_asks_each_daemon_and_prints_json_or_lines() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = fake_daemon(dir.path(), "eth0", &[("status", BOUND)]);
    let s = settings("dhcpc --status --json", dir.path());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(status(&s.cli, &mut out, &mut err), 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v[0]["address"], "198.51.100.23");
    assert_eq!(daemon.join().unwrap(), ["status eth0"]);
    let v: serde_json::Value = serde_json::from_str(BOUND).unwrap();
    assert_eq!(
        human_status(&v),
        "eth0: BOUND 198.51.100.23/24 from 198.51.100.1\n  renew in 30m, rebind in 52m30s, \
         expires in 1h"
    );
}

#[test]
fn a_request_says_what_it_did_to_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = fake_daemon(
        dir.path(),
        "eth0",
        &[("status", BOUND), ("renew", "ok renewing")],
    );
    let s = settings("dhcpc -n eth0", dir.path());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(control_request(&s, Request::Renew, &mut out, &mut err), 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "eth0: asked the daemon to renew 198.51.100.23\n"
    );
    assert_eq!(daemon.join().unwrap(), ["status eth0", "renew eth0"]);
}

#[test]
fn a_request_with_no_daemon_says_so_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("dhcpc -x eth0", dir.path());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(control_request(&s, Request::Stop, &mut out, &mut err), 1);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "dhcpc: eth0: no dhcpc daemon runs for this interface\n"
    );
}

#[test]
fn a_refusal_by_the_daemon_is_status_3() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = fake_daemon(
        dir.path(),
        "eth0",
        &[("status", BOUND), ("stop", "error no interface eth0 here")],
    );
    let s = settings("dhcpc -x eth0", dir.path());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(control_request(&s, Request::Stop, &mut out, &mut err), 3);
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "dhcpc: eth0: error no interface eth0 here\n"
    );
    daemon.join().unwrap();
}

#[test]
fn what_each_request_did_in_words() {
    let v: serde_json::Value = serde_json::from_str(BOUND).unwrap();
    let none = serde_json::json!({"state": "SELECTING"});
    let cases = [
        (
            Request::Release,
            Some(&v),
            "eth0: released 198.51.100.23; the daemon has stopped",
        ),
        (
            Request::Release,
            Some(&none),
            "eth0: the daemon held no lease to release (SELECTING); it has stopped",
        ),
        (
            Request::Stop,
            Some(&v),
            "eth0: stopped the daemon; 198.51.100.23 stays configured",
        ),
        (
            Request::Stop,
            None,
            "eth0: stopped the daemon (UNKNOWN, no lease)",
        ),
        (
            Request::Renew,
            Some(&none),
            "eth0: asked the daemon to renew; it holds no lease yet (SELECTING)",
        ),
    ];
    for (request, before, said) in cases {
        assert_eq!(what_was_done("eth0", request, before), said);
    }
}

#[test]
fn options_only_are_shown_and_said_as_such() {
    let v = serde_json::json!({
        "interface": "eth0", "state": "INFORMED", "inform_address": "198.51.100.20",
        "prefix_len": 24, "server": "198.51.100.1", "refresh_in": 86000
    });
    assert_eq!(
        human_status(&v),
        "eth0: INFORMED options for 198.51.100.20/24 from 198.51.100.1\n  asked again in \
         23h53m20s"
    );
    let done = |r| crate::daemon::request::what_was_done("eth0", r, Some(&v));
    assert_eq!(
        done(Request::Renew),
        "eth0: asked the daemon for the options of 198.51.100.20 again"
    );
    assert_eq!(
        done(Request::Release),
        "eth0: took the options of 198.51.100.20 off (the address stays); the daemon has stopped"
    );
    assert_eq!(
        done(Request::Stop),
        "eth0: stopped the daemon; the options of 198.51.100.20 stay"
    );
}
