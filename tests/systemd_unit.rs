//! The systemd unit file read as text: what systemd must wait for, which exits it must not
//! restart, and that it starts without udev. Plain tier; systemd-analyze's judgement of the
//! unit is in tests/systemd.rs, systemd's own running of it in tests/nspawn/.

mod common;

use common::unit_value;

#[test]
fn unit_waits_for_readiness_and_orders_network_online_after_it() {
    assert_eq!(
        unit_value("Type"),
        ["notify"],
        "the unit must be Type=notify"
    );
    let before = unit_value("Before").join(" ");
    assert!(
        before.split(' ').any(|u| u == "network-online.target"),
        "network-online.target must wait for the lease: Before={before}"
    );
    let exec = unit_value("ExecStart").join(" ");
    assert!(
        exec.contains("--foreground") || exec.contains(" -d "),
        "systemd follows the main process: the daemon must not fork ({exec})"
    );
}

#[test]
fn unit_does_not_restart_what_a_restart_cannot_mend() {
    assert_eq!(unit_value("Restart"), ["on-failure"]);
    let prevent = unit_value("RestartPreventExitStatus").join(" ");
    let codes: Vec<&str> = prevent.split_whitespace().collect();
    // 1: another daemon serves the interface; 2: a bad command line or config file; 4: the
    // system refuses what dhcpc needs (a privilege, a directory, the limit of open files).
    for code in ["1", "2", "4"] {
        assert!(
            codes.contains(&code),
            "status {code} must not be restarted every 2 s: RestartPreventExitStatus={prevent}"
        );
    }
    // 3 (what may pass: netlink or memory failing) is tried again...
    assert!(!codes.contains(&"3"), "RestartPreventExitStatus={prevent}");
}

#[test]
fn unit_gives_up_on_a_status_3_that_keeps_coming() {
    // ... but not for ever: the start limit is reached by restarts RestartSec apart. systemd's
    // default (5 starts in 10 s) is not, with a 2 s pause: the window has passed by the 6th.
    let number = |key: &str| -> u64 {
        let v = unit_value(key);
        assert_eq!(v.len(), 1, "{key}= must be set once: {v:?}");
        v[0].trim_end_matches('s').parse().expect(key)
    };
    let (pause, burst, window) = (
        number("RestartSec"),
        number("StartLimitBurst"),
        number("StartLimitIntervalSec"),
    );
    assert!(
        (burst - 1) * pause < window,
        "{burst} starts {pause} s apart must fall within StartLimitIntervalSec={window}"
    );
}

#[test]
fn unit_starts_without_udev_and_still_on_hotplug() {
    // A unit bound to (or ordered after) the device unit is never started where there is no
    // udev (containers): dhcpc waits for the interface itself.
    for key in ["BindsTo", "Requires", "Requisite", "After", "Wants"] {
        let values = unit_value(key).join(" ");
        assert!(
            !values.contains("sys-subsystem-net-devices"),
            "{key}={values}: the unit must not depend on the interface's device unit"
        );
    }
    let exec = unit_value("ExecStart").join(" ");
    assert!(exec.contains(" --allow-missing "), "{exec}");
    // Where udev announces the interface, its appearing starts the unit.
    let wanted = unit_value("WantedBy").join(" ");
    assert!(
        wanted
            .split(' ')
            .any(|u| u == "sys-subsystem-net-devices-%i.device"),
        "WantedBy={wanted}"
    );
}
