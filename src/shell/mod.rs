//! The I/O shell: sockets, netlink, files and timers around the sans-IO core. Nothing here
//! decides anything of the protocol; each module is named for what it touches.
//!
//! One interface is run by a [`driver::Driver`]: a small loop that turns the world into the
//! core's events and hands each of the core's actions to the value that owns its effect:
//! - [`port`]: the packet socket, as [`port::Port`] (DHCP messages and ARP out, frames in),
//!   over [`rawsock`] and the kernel filters of [`bpf`];
//! - [`apply`]: the kernel's side of a lease, as [`apply::Apply`] (address, routes, MTU,
//!   link-local address), over [`netlink`];
//! - [`store`]: the saved lease and the host's DUID, as [`store::Store`]; [`files`] is the
//!   writer thread behind it and behind the DNS settings ([`dns`] chooses where they go:
//!   [`resolv`] the file, [`resolvconf`], [`resolved`] over D-Bus), with [`atomic`] writes;
//! - [`notify`]: who hears of transitions, as [`notify::Notify`]: the hook script
//!   ([`hooks`]), the parent waiting for the first lease, the service manager ([`systemd`]);
//! - [`status`]: the state as `--status` and `STATUS=` show it; [`leftout`]: warnings about
//!   options a server got wrong, once an hour; [`options`]: what an interface runs with.
//!
//! Around the drivers: [`linkwatch`] (the kernel's link events: carrier, removal,
//! re-creation), [`cmdq`] (commands to a driver), [`control`] (the control socket of `-r`,
//! `-x`, `-n` and `--status`), [`clock`] (CLOCK_BOOTTIME and its timerfd), [`log`] (stderr,
//! the journal or syslog) and [`trim`] (staying small). The daemon that runs drivers is
//! [`crate::daemon`].

pub mod actions;
pub mod actions6;
pub mod apply;
pub mod apply6;
pub mod atomic;
pub mod bpf;
pub mod claim;
pub mod clock;
pub mod cmdq;
pub mod command;
pub mod control;
pub mod dns;
pub mod driver;
pub mod driver6;
pub mod files;
pub mod hooks;
pub mod hooks6;
pub mod leftout;
pub mod linkwatch;
pub mod log;
pub mod missing;
pub mod netlink;
pub mod netlink6;
pub mod notify;
pub mod options;
pub mod port;
pub mod port6;
pub mod rawsock;
pub mod resolv;
pub mod resolvconf;
pub mod resolved;
pub mod status;
pub mod store;
pub mod store6;
pub mod systemd;
pub mod trim;
