//! The systemd unit file of this tree, read as text.

pub const UNIT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/systemd/dhcpc@.service"
));

/// Every value of `key=` in the unit, in order.
pub fn unit_value(key: &str) -> Vec<String> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}
