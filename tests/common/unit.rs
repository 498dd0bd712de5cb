//! The systemd unit file of this tree, read as text.

pub const UNIT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/systemd/dhcpc@.service"
));

/// The DHCPv6 unit of this tree.
pub const UNIT6: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/systemd/dhcpc6@.service"
));

/// Every value of `key=` in the DHCPv6 unit, in order.
pub fn unit6_value(key: &str) -> Vec<String> {
    UNIT6
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

/// Every value of `key=` in the unit, in order.
pub fn unit_value(key: &str) -> Vec<String> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

/// The score in `systemd-analyze security` output ("Overall exposure level for UNIT: 1.4 OK").
pub fn exposure_score(text: &str) -> f64 {
    text.lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .and_then(|rest| rest.split(": ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure score in:\n{text}"))
}
