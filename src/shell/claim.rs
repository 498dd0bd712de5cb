//! One client per interface, whatever its options: a dhcpc that serves an interface holds a
//! claim on it, keyed by what identifies the link (its network namespace and index), not by a
//! directory that another `--run-dir` would not see. The claim is a listening Unix socket in
//! the abstract namespace, `@dhcpc/ifindex/N`, which the kernel keeps per network namespace
//! (so namespaces side by side each have their own) and drops with the last process holding
//! it (so a killed daemon leaves no stale claim). A second dhcpc for the link finds the name
//! bound and is refused; connecting to it tells the holder's pid.
//!
//! Written on nix's sockets rather than std's: std's abstract names need a newer toolchain
//! than this crate's minimum, and the probe must connect without blocking (a listener that
//! never accepts has a full queue after a few probes).

use nix::sys::socket::{
    bind, connect, getsockopt, listen, socket, sockopt::PeerCredentials, AddressFamily, Backlog,
    SockFlag, SockType, UnixAddr,
};
use std::io;
use std::os::fd::OwnedFd;

/// A claim on one interface, held for as long as the value lives (inherited by a forked
/// daemon, closed on exec).
#[derive(Debug)]
pub struct Claim {
    _socket: OwnedFd,
    index: u32,
}

/// Why an interface could not be claimed.
#[derive(Debug)]
pub enum Refused {
    /// Another process holds it: its pid, when it could be told.
    Held(Option<u32>),
    /// The claim could not be made at all.
    Io(io::Error),
}

fn name(index: u32) -> Result<UnixAddr, Refused> {
    UnixAddr::new_abstract(format!("dhcpc/ifindex/{index}").as_bytes())
        .map_err(|e| Refused::Io(e.into()))
}

impl Claim {
    /// Claims the interface of index `index` in this network namespace.
    pub fn take(index: u32) -> Result<Claim, Refused> {
        let addr = name(index)?;
        let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
        let sock = socket(AddressFamily::Unix, SockType::Stream, flags, None)
            .map_err(|e| Refused::Io(e.into()))?;
        match bind(std::os::fd::AsRawFd::as_raw_fd(&sock), &addr) {
            Ok(()) => {}
            Err(nix::errno::Errno::EADDRINUSE) => return Err(Refused::Held(holder(index))),
            Err(e) => return Err(Refused::Io(e.into())),
        }
        // A few probes may queue (nobody accepts them); past that, probes are told "busy",
        // which still says the claim is held.
        let backlog = Backlog::new(8).map_err(|e| Refused::Io(e.into()))?;
        listen(&sock, backlog).map_err(|e| Refused::Io(e.into()))?;
        Ok(Claim {
            _socket: sock,
            index,
        })
    }

    /// The index of the interface claimed.
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// The pid of the process that holds the claim on interface `index`, if one does and it can
/// be told.
pub fn holder(index: u32) -> Option<u32> {
    let addr = name(index).ok()?;
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    let sock = socket(AddressFamily::Unix, SockType::Stream, flags, None).ok()?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&sock), &addr).ok()?;
    let cred = getsockopt(&sock, PeerCredentials).ok()?;
    u32::try_from(cred.pid()).ok().filter(|&p| p != 0)
}

/// The index of the interface `name` in this network namespace, if there is one.
pub fn index_of(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_held_once_and_names_its_holder() {
        // An index no interface has: the claim is only a name, and any user may make it.
        let index = 0x7fff_0000 + (std::process::id() & 0xffff);
        let first = Claim::take(index).unwrap();
        assert_eq!(first.index(), index);
        match Claim::take(index) {
            Err(Refused::Held(pid)) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("a second claim was not refused: {other:?}"),
        }
        // Probes past the queue's room still find it held.
        for _ in 0..20 {
            assert!(matches!(Claim::take(index), Err(Refused::Held(_))));
        }
        drop(first);
        assert!(holder(index).is_none());
        Claim::take(index).unwrap();
    }
}
