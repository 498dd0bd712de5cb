//! `dhcpc --status [--json] [IFACE…]`: each daemon asked for its interfaces' state over its
//! control socket; with no interface named, every one with a socket in the run directory.

use crate::cli::Cli;
use crate::daemon::request::refused;
use crate::shell::control;
use crate::shell::options::v6_name;
use serde_json::{json, Value};
use std::io::Write;

/// Writes the state of the interfaces `cli` names (or of all served) to `out`, and why a
/// daemon could not be asked to `err` (in JSON, as the entry's `error`); the exit status: 0,
/// or 1 when one of them has no daemon (or did not answer).
pub fn status(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut names: Vec<String> = Vec::new();
    for n in &cli.interfaces {
        // Without -4 or -6: DHCPv6 too where a daemon runs it, and DHCPv4 unless only
        // DHCPv6 runs.
        let v6 = v6_name(n);
        if !cli.ipv4 && !cli.ipv6 && control::socket_path(&cli.run_dir, &v6).exists() {
            if control::socket_path(&cli.run_dir, n).exists() {
                names.push(n.clone());
            }
            names.push(v6);
        } else {
            names.extend(crate::daemon::options::clients_of(cli, n));
        }
    }
    if names.is_empty() {
        names = served(&cli.run_dir);
    }
    let all: Vec<Value> = names.iter().map(|n| ask(&cli.run_dir, n)).collect();
    let missing = all
        .iter()
        .any(|v| v["state"] == "NOT RUNNING" || v.get("error").is_some());
    let _ = if cli.json {
        writeln!(out, "{}", Value::Array(all))
    } else if all.is_empty() {
        writeln!(out, "no dhcpc daemon is running")
    } else {
        all.iter().try_for_each(|v| match v["error"].as_str() {
            Some(e) => writeln!(
                err,
                "dhcpc: {}: {e}",
                v["interface"].as_str().unwrap_or("-")
            ),
            None => writeln!(out, "{}", human_status(v)),
        })
    };
    u8::from(missing)
}

/// The interfaces with a control socket in `run_dir`, by name.
fn served(run_dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".sock").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// The state of `name` as its daemon tells it, or why there is none.
fn ask(run_dir: &std::path::Path, name: &str) -> Value {
    match control::request(run_dir, name, "status") {
        Ok(answer) => serde_json::from_str(&answer)
            .unwrap_or_else(|_| json!({"interface": name, "state": "UNKNOWN"})),
        Err(e) if control::no_daemon(&e) => json!({"interface": name, "state": "NOT RUNNING"}),
        Err(e) => {
            let why = refused(&control::socket_path(run_dir, name), &e);
            json!({"interface": name, "state": "UNKNOWN", "error": why})
        }
    }
}

/// One interface's state for people: `eth0: BOUND 198.51.100.23/24 from 198.51.100.1` (DHCPv6:
/// `eth0 (DHCPv6): BOUND 2001:db8:1::161/128 from fe80::1, prefix 2001:db8:ff00::/56`), and
/// when it renews, rebinds and expires (with options only: `eth0: INFORMED options for
/// 198.51.100.20/24 from 198.51.100.1`, and when they are asked for again).
pub fn human_status(v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    let v6 = v["protocol"] == "dhcpv6";
    let mut out = match v6 {
        true => format!("{} (DHCPv6): {}", s("interface"), s("state")),
        false => format!("{}: {}", s("interface"), s("state")),
    };
    if v.get("address").is_some() {
        out.push_str(&format!(
            " {}/{} from {}",
            s("address"),
            v["prefix_len"],
            s("server")
        ));
    }
    // DHCPv6: the delegated prefixes (a lease may hold prefixes and no address).
    let prefixes: Vec<&str> = v["prefixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["prefix"].as_str())
        .collect();
    if !prefixes.is_empty() {
        if v.get("address").is_none() {
            out.push_str(&format!(" from {}", s("server")));
        }
        out.push_str(&format!(", prefix {}", prefixes.join(", prefix ")));
    }
    if v.get("address").is_some() || !prefixes.is_empty() {
        let when = |k: &str| match v[k].as_u64() {
            Some(secs) => crate::lease::human_secs(secs.min(u64::from(u32::MAX - 1)) as u32),
            None => "never".to_string(),
        };
        out.push_str(&format!(
            "\n  renew in {}, rebind in {}, expires in {}",
            when("renew_in"),
            when("rebind_in"),
            when("expires_in")
        ));
    }
    if v.get("inform_address").is_some() {
        // Options only: the address is the host's own; the options came from the server.
        out.push_str(&format!(
            " options for {}/{} from {}",
            s("inform_address"),
            v["prefix_len"],
            s("server")
        ));
        let again = match v["refresh_in"].as_u64() {
            Some(secs) => crate::lease::human_secs(secs.min(u64::from(u32::MAX - 1)) as u32),
            None => "never".to_string(),
        };
        out.push_str(&format!("\n  asked again in {again}"));
    }
    out
}
