//! The Debian packaging's files read as text (plain tier): the example /etc/dhcpc.conf the package
//! ships documents every key dhcpc takes, each with a value dhcpc accepts, and changes nothing as
//! shipped; debian/changelog's version is Cargo.toml's; the unit runs the binary where the
//! package puts it. Building and installing the packages is tests/package.rs (root tier).

mod common;

use clap::{ArgAction, CommandFactory};
use common::unit_value;
use dhcpc::cli::{Cli, PROCESS_HEADING};
use std::collections::BTreeSet;
use std::path::Path;

const EXAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/etc/dhcpc.conf"));

/// The heading in etc/dhcpc.conf above the settings of the whole process.
const PROCESS_SECTION: &str = "# --- Settings of the whole process";

/// The keys of the configuration file, from the command line's definition as src/config/ reads
/// them: every option with a long name that is neither a mode nor `-c`/`--json`, and that takes
/// a value or is a flag; with whether it is a setting of the whole process.
fn keys() -> Vec<(String, bool)> {
    let mut cmd = Cli::command();
    cmd.build();
    let modes: BTreeSet<String> = cmd
        .get_groups()
        .filter(|g| g.get_id() == "mode")
        .flat_map(|g| {
            g.get_args()
                .map(|a| a.as_str().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    cmd.get_arguments()
        .filter(|a| !a.is_positional() && !modes.contains(a.get_id().as_str()))
        .filter(|a| !["config", "json"].contains(&a.get_id().as_str()))
        .filter(|a| {
            matches!(
                a.get_action(),
                ArgAction::Set
                    | ArgAction::Append
                    | ArgAction::SetTrue
                    | ArgAction::SetFalse
                    | ArgAction::Count
            )
        })
        .filter_map(|a| {
            let process = a.get_help_heading() == Some(PROCESS_HEADING);
            a.get_long().map(|l| (l.to_string(), process))
        })
        .collect()
}

/// The example's commented settings, `# key = value`, with whether each stands in the process
/// section; the `[interface.NAME]` examples at the end are left out.
fn documented() -> Vec<(String, String, bool)> {
    let mut process = false;
    let mut out = Vec::new();
    for line in EXAMPLE.lines() {
        if line.starts_with(PROCESS_SECTION) {
            process = true;
        }
        if line.starts_with("# [interface.") {
            break;
        }
        let Some(setting) = line.strip_prefix("# ") else {
            continue;
        };
        let Some((key, _)) = setting.split_once(" = ") else {
            continue;
        };
        if !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            out.push((key.to_string(), setting.to_string(), process));
        }
    }
    out
}

#[test]
fn example_config_changes_nothing_as_shipped() {
    for (n, line) in EXAMPLE.lines().enumerate() {
        assert!(
            line.is_empty() || line.starts_with('#'),
            "etc/dhcpc.conf:{}: every line is a comment or blank as shipped: {line:?}",
            n + 1
        );
    }
    let cmd = Cli::command();
    dhcpc::config::parse(&cmd, Path::new("etc/dhcpc.conf"), EXAMPLE)
        .unwrap_or_else(|e| panic!("the example does not read: {e}"));
}

#[test]
fn example_config_documents_every_key_in_its_section() {
    let documented = documented();
    let keys = keys();
    assert!(keys.len() > 20, "too few keys found: {keys:?}");
    for (key, process) in &keys {
        let found: Vec<bool> = documented
            .iter()
            .filter(|(k, _, _)| k == key)
            .map(|(_, _, p)| *p)
            .collect();
        assert!(
            !found.is_empty(),
            "etc/dhcpc.conf does not document the key '{key}': add a commented `# {key} = ...` line"
        );
        let section = if *process {
            "whole process"
        } else {
            "each interface"
        };
        assert!(
            found.iter().all(|p| p == process),
            "etc/dhcpc.conf: '{key}' is a setting of the {section}: move it to that section"
        );
    }
    for (key, _, _) in &documented {
        assert!(
            keys.iter().any(|(k, _)| k == key),
            "etc/dhcpc.conf documents '{key}', which is not a key of dhcpc.conf"
        );
    }
}

#[test]
fn example_config_values_are_accepted_one_by_one() {
    let cmd = Cli::command();
    for (key, setting, _) in documented() {
        dhcpc::config::parse(&cmd, Path::new("etc/dhcpc.conf"), &format!("{setting}\n"))
            .unwrap_or_else(|e| panic!("etc/dhcpc.conf's example for '{key}' is refused: {e}"));
    }
}

#[test]
fn debian_changelog_version_is_the_crates() {
    let changelog = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/debian/changelog"));
    let first = changelog.lines().next().unwrap_or_default();
    let version = first
        .strip_prefix("dhcpc (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(v, _)| v);
    assert_eq!(
        version,
        Some(env!("CARGO_PKG_VERSION")),
        "debian/changelog's first entry ({first:?}) is not Cargo.toml's version: add an entry"
    );
}

#[test]
fn unit_runs_the_binary_where_the_package_installs_it() {
    let exec = unit_value("ExecStart").join(" ");
    assert!(
        exec.starts_with("/usr/sbin/dhcpc "),
        "the unit's ExecStart= must run /usr/sbin/dhcpc, the package's path: {exec}"
    );
    let rules = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/debian/rules"));
    assert!(
        rules.contains("$(BIN) $(D)/usr/sbin/dhcpc"),
        "debian/rules no longer installs the binary as /usr/sbin/dhcpc"
    );
}
