//! The I/O shell: sockets, netlink, files and timers around the sans-IO core.
//!
//! - [`run`]: one interface's driver (events in, the core's actions carried out);
//! - [`rawsock`] and [`bpf`]: the packet socket and the kernel filters it attaches;
//! - [`netlink`]: addresses, routes and links through rtnetlink; [`linkwatch`]: the kernel's
//!   link events (carrier, removal, re-creation);
//! - [`files`] (the writer thread), [`atomic`] (atomic writes) and where DNS settings go
//!   ([`dns`] chooses: [`resolv`] the file, [`resolvconf`], [`resolved`] over D-Bus);
//! - [`control`]: the control socket of `-r`, `-x`, `-n` and `--status`;
//! - [`clock`]: CLOCK_BOOTTIME and its timerfd;
//! - [`systemd`]: readiness and status for the service manager (sd_notify);
//! - [`daemon`] (going to the background), [`log`] (stderr or syslog), [`trim`] (staying small).

pub mod atomic;
pub mod bpf;
pub mod clock;
pub mod cmdq;
pub mod control;
pub mod daemon;
pub mod dns;
pub mod files;
pub mod hooks;
pub mod linkwatch;
pub mod log;
pub mod netlink;
pub mod rawsock;
pub mod resolv;
pub mod resolvconf;
pub mod resolved;
pub mod run;
pub mod systemd;
pub mod trim;
