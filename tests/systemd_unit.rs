//! The systemd unit file read as text: what systemd must wait for, and which exits it must not
//! restart. Plain tier; systemd-analyze's judgement of the unit is in tests/systemd.rs.

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
    // 1: another daemon serves the interface; 2: a bad command line or config file.
    for code in ["1", "2"] {
        assert!(
            codes.contains(&code),
            "status {code} must not be restarted every 2 s: RestartPreventExitStatus={prevent}"
        );
    }
    // 3 (a system error, netlink failing) may pass: it is tried again.
    assert!(!codes.contains(&"3"), "RestartPreventExitStatus={prevent}");
}
