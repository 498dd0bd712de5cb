//! dhcpc: a DHCPv4 client for Linux.
//!
//! The crate is split the way `design.md` describes: a sans-IO protocol core that takes
//! `(now, event)` and returns actions, and a thin tokio shell ([`shell`]) that owns sockets,
//! netlink, files and timers.
//!
//! The core's side, from the wire inwards: [`frame`] (Ethernet/IPv4/UDP and ARP frames),
//! [`wire`] (DHCP framing and encoding, on dhcproto), [`addr`] (addresses, prefixes, routes and
//! names, below both of the next two), [`reply`] (the typed reply, option by option),
//! [`lease`] (what a lease is and the one check it passes), [`leasefile`] (the saved lease),
//! [`core`] (the RFC 2131 state machine and its timers) and [`time`].

pub mod addr;
pub mod cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod dhclient;
pub mod frame;
pub mod hookenv;
pub mod lease;
pub mod leasefile;
pub mod reply;
pub mod shell;
pub mod text;
pub mod time;
pub mod timers;
pub mod v6;
pub mod wire;
