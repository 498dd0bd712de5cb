//! The daemon against a live Kea server in namespace labs: renewal at T1, rebinding and expiry
//! when the server goes away, NAK after a server restart with another pool, INIT-REBOOT after
//! SIGKILL, release, ARP conflict detection, two interfaces in one daemon, `--status --json`,
//! signals, link flaps, and a daemon without the privileges it wants.
//!
//! Kea accepts lifetimes of a few seconds, so hours of lease life fit in seconds here.

#[path = "../common/mod.rs"]
mod common;

mod kea;
mod lease_life;
mod links;
mod privileges;
mod two_hosts;
