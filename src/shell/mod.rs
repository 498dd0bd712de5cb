//! The I/O shell: sockets, netlink, files and timers around the sans-IO core.

pub mod clock;
pub mod control;
pub mod daemon;
pub mod files;
pub mod netlink;
pub mod rawsock;
pub mod resolv;
pub mod run;
