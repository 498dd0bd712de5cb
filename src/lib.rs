//! dhcpc: a DHCPv4 client for Linux.
//!
//! The crate is split the way `design.md` describes: a sans-IO protocol core
//! ([`core`], [`lease`], [`wire`], [`time`]) that takes `(now, event)` and returns actions,
//! and a thin tokio shell ([`shell`]) that owns sockets, netlink, files and timers.

pub mod cli;
pub mod core;
pub mod frame;
pub mod lease;
pub mod leasefile;
pub mod shell;
pub mod time;
pub mod wire;
