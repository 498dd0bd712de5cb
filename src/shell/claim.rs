//! One client per interface, whatever its options: a dhcpc that serves an interface holds a
//! claim on it, keyed by what identifies the link (its network namespace and index), not by a
//! directory that another `--run-dir` would not see.
//!
//! Each daemon has one [`Registry`]: a Unix socket in the abstract namespace,
//! `@dhcpc/daemon/TOKEN` (random: daemons in other PID namespaces may share the network
//! namespace, and their pids), which the kernel keeps per network namespace (namespaces side by side
//! each have their own) and drops with the process (a killed daemon leaves nothing stale),
//! and the set of interface indexes the daemon serves. To claim interfaces, a daemon asks
//! every other daemon of its namespace (found in /proc/net/unix) which of them it serves;
//! asking and noting are one step under a namespace-wide lock, the abstract name
//! `@dhcpc/claiming`, so that two daemons started together for one interface do not both
//! take it. One descriptor per daemon, not one per interface: a thousand interfaces still fit
//! under a limit of 1024 open files.

use crate::shell::netlink::Link;
use crate::shell::options::RunError;
use nix::sys::socket::sockopt::PeerCredentials;
use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// The prefix of every daemon's registry socket.
const PREFIX: &str = "dhcpc/daemon/";
/// The namespace-wide lock held while claiming.
const LOCK: &str = "dhcpc/claiming";
/// How long a claim waits for the lock, and for another daemon's answer.
const WAIT: Duration = Duration::from_secs(3);

type Served = Arc<Mutex<BTreeSet<u32>>>;

fn lock(s: &Served) -> std::sync::MutexGuard<'_, BTreeSet<u32>> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// This daemon's claims, and the socket others ask.
#[derive(Clone)]
pub struct Registry {
    served: Served,
    run_dir: Arc<Path>,
    /// The name of this daemon's socket (after the prefix).
    token: Arc<str>,
}

/// A claim on one interface, dropped with the value.
#[derive(Debug)]
pub struct Claim {
    served: Served,
    index: u32,
}

impl Drop for Claim {
    fn drop(&mut self) {
        lock(&self.served).remove(&self.index);
    }
}

impl Claim {
    /// The index of the interface claimed.
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// Why an interface could not be claimed: another daemon serves it, with this pid and run
/// directory (where its control socket is, for the commands that reach it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub pid: u32,
    pub run_dir: Option<PathBuf>,
}

impl Registry {
    /// Binds this daemon's registry socket and answers other daemons' questions on it (in a
    /// task of the current runtime). `run_dir` is told to them, for their messages.
    pub fn start(run_dir: &Path) -> io::Result<Registry> {
        let token: Arc<str> = format!("{:016x}", fastrand::u64(..)).into();
        let name = format!("{PREFIX}{token}");
        let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name)?)?;
        listener.set_nonblocking(true)?;
        let listener = tokio::net::UnixListener::from_std(listener)?;
        let served = Served::default();
        let answering = served.clone();
        let run_dir: Arc<Path> = run_dir.into();
        let told = run_dir.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let (served, run_dir) = (answering.clone(), told.clone());
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, served, &run_dir).await {
                        debug!("claims: {e}");
                    }
                });
            }
        });
        Ok(Registry {
            served,
            run_dir,
            token,
        })
    }

    /// Claims the interfaces of these indexes: a claim for each, or the pid of the daemon that
    /// serves it already.
    pub fn claim(&self, indexes: &[u32]) -> Vec<Result<Claim, Held>> {
        let _lock = NamespaceLock::take();
        let others = other_daemons(&self.token);
        let mut held: Vec<(u32, Held)> = Vec::new();
        for token in others {
            let Some((pid, run_dir, theirs)) = ask(&token, indexes) else {
                continue;
            };
            for index in theirs {
                let run_dir = run_dir.clone();
                held.push((index, Held { pid, run_dir }));
            }
        }
        let mut served = lock(&self.served);
        let mine = || Held {
            pid: std::process::id(),
            run_dir: Some(self.run_dir.to_path_buf()),
        };
        indexes
            .iter()
            .map(|&index| match held.iter().find(|(i, _)| *i == index) {
                Some((_, h)) => Err(h.clone()),
                None if served.contains(&index) => Err(mine()),
                None => {
                    served.insert(index);
                    Ok(Claim {
                        served: self.served.clone(),
                        index,
                    })
                }
            })
            .collect()
    }
}

impl Registry {
    /// The claim on `link`: `held` if it is that link's already, else a new one; an error
    /// when another dhcpc holds it.
    pub fn for_link(&self, link: &Link, held: Option<Claim>) -> Result<Option<Claim>, RunError> {
        if let Some(c) = held.filter(|c| c.index() == link.index) {
            return Ok(Some(c));
        }
        match self.claim(&[link.index]).pop() {
            Some(Ok(c)) => Ok(Some(c)),
            Some(Err(Held { pid, .. })) => Err(RunError::Claimed(link.name.clone(), Some(pid))),
            None => Ok(None),
        }
    }
}

/// Answers one question: `serves I J K` is answered with this daemon's run directory on one
/// line, and those of the indexes it serves on the next.
async fn answer(stream: tokio::net::UnixStream, served: Served, run_dir: &Path) -> io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read.take(64 * 1024));
    tokio::time::timeout(WAIT, reader.read_line(&mut line))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no question"))??;
    let asked = line.trim().strip_prefix("serves").unwrap_or("");
    let mine: Vec<String> = {
        let served = lock(&served);
        asked
            .split_whitespace()
            .filter_map(|i| i.parse::<u32>().ok())
            .filter(|i| served.contains(i))
            .map(|i| i.to_string())
            .collect()
    };
    let run_dir = run_dir.as_os_str().as_encoded_bytes();
    let text = [run_dir, b"\n", mine.join(" ").as_bytes(), b"\n"].concat();
    write.write_all(&text).await
}

/// The pid (as this process sees it) and run directory of the daemon whose socket is named
/// `token`, and which of `indexes` it serves; None if it cannot be asked.
fn ask(token: &str, indexes: &[u32]) -> Option<(u32, Option<PathBuf>, Vec<u32>)> {
    let asked = || -> io::Result<(u32, Option<PathBuf>, Vec<u32>)> {
        let addr = SocketAddr::from_abstract_name(format!("{PREFIX}{token}"))?;
        let mut stream = UnixStream::connect_addr(&addr)?;
        let pid = nix::sys::socket::getsockopt(&stream, PeerCredentials)
            .map(|c| u32::try_from(c.pid()).unwrap_or(0))
            .unwrap_or(0);
        stream.set_read_timeout(Some(WAIT))?;
        stream.set_write_timeout(Some(WAIT))?;
        let list: Vec<String> = indexes.iter().map(u32::to_string).collect();
        stream.write_all(format!("serves {}\n", list.join(" ")).as_bytes())?;
        let mut reader = BufReader::new(stream);
        let mut dir = Vec::new();
        reader.read_until(b'\n', &mut dir)?;
        let dir = dir
            .strip_suffix(b"\n")
            .map(|d| PathBuf::from(std::ffi::OsStr::from_bytes(d)));
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let theirs: Vec<u32> = line
            .split_whitespace()
            .filter_map(|i| i.parse().ok())
            .collect();
        Ok((pid, dir, theirs))
    };
    asked()
        .inspect_err(|e| debug!("claims: asking dhcpc {token}: {e}"))
        .ok()
}

/// The other dhcpc daemons of this network namespace, by their sockets' tokens, from the
/// abstract names in /proc/net/unix (which lists the reader's namespace's sockets).
fn other_daemons(me: &str) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    daemons_in(&text, me)
}

/// The tokens of the registry sockets in /proc/net/unix's `text`, other than `me`.
fn daemons_in(text: &str, me: &str) -> Vec<String> {
    let mut tokens: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(7))
        .filter_map(|path| path.strip_prefix('@')?.strip_prefix(PREFIX))
        .filter(|&token| token != me && !token.is_empty())
        .map(str::to_string)
        .collect();
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// The namespace-wide lock, held for as long as the value lives (a socket bound to
/// `@dhcpc/claiming`); not held when it could not be had within a few seconds (a daemon
/// stuck while claiming), which is said.
struct NamespaceLock {
    _held: Option<UnixListener>,
}

impl NamespaceLock {
    fn take() -> NamespaceLock {
        let Ok(addr) = SocketAddr::from_abstract_name(LOCK) else {
            return NamespaceLock { _held: None };
        };
        let give_up = Instant::now() + WAIT;
        loop {
            match UnixListener::bind_addr(&addr) {
                Ok(l) => return NamespaceLock { _held: Some(l) },
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && Instant::now() < give_up => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => {
                    warn!("claiming interfaces: {e}; going on without the lock");
                    return NamespaceLock { _held: None };
                }
            }
        }
    }
}

/// The index of the interface `name` in this network namespace, if there is one.
pub fn index_of(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_sockets_are_found_in_proc_net_unix() {
        let text = "Num       RefCount Protocol Flags    Type St Inode Path\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 1234 @dhcpc/daemon/812\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 1235 @dhcpc/daemon/99\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 1236 @dhcpc/claiming\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 1237 /run/dhcpc/eth0.sock\n\
             0000000000000000: 00000003 00000000 00000000 0001 03 1238\n";
        assert_eq!(daemons_in(text, "99"), vec!["812".to_string()]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_interface_is_claimed_once_and_released_with_its_claim() {
        let registry = Registry::start(Path::new("/run/dhcpc")).unwrap();
        // Indexes no interface has: a claim is only a number.
        let (a, b) = (0x7fff_0001, 0x7fff_0002);
        let mut first = registry.claim(&[a, b]);
        assert!(first.iter().all(Result::is_ok));
        let again = registry.claim(&[a]);
        let held = again[0].as_ref().err().unwrap();
        assert_eq!(held.pid, std::process::id());
        assert_eq!(held.run_dir.as_deref(), Some(Path::new("/run/dhcpc")));
        first.truncate(1);
        assert!(registry.claim(&[b])[0].is_ok());
    }
}
