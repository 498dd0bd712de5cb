//! The files dhcpc keeps: saved leases and the DNS settings (resolv.conf, or resolvconf's
//! records; systemd-resolved is told on a task of its own, [`crate::shell::resolved`]).
//!
//! They are written by a thread of their own, so that a slow disk never holds up the protocol:
//! an fsync takes from a fraction of a millisecond to seconds (a busy disk, an SD card), and
//! the daemon runs every interface on one thread. Interfaces queue what they want written and
//! go on; the writer takes everything queued at once, so that a burst of leases (many
//! interfaces binding together) costs one resolv.conf write and one directory sync, not one
//! of each per interface. Every file is still written atomically and durably: temporary file,
//! fsync, rename, fsync of the directory. The queue is first in, first out, and `flush` waits
//! until everything queued before it is on disk.
//!
//! A lease file that cannot be written (a read-only or full file system) costs only the file:
//! the lease is kept in memory, the error is said once, and the write is tried again (after
//! 5 s, then twice as long each time up to 5 minutes, and at every change of the lease) until
//! it is done. A file another process has changed meanwhile is not written over.

use crate::lease::{Informed, Lease};
use crate::shell::atomic::{replace, sync_dir};
use crate::shell::dns::Chosen;
use crate::shell::resolv::{self, Dns, DnsRules};
use crate::shell::resolvconf;
use crate::shell::resolved::Resolved;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

enum Op {
    SaveLease(PathBuf, String),
    RemoveLease(PathBuf),
    Dns(String, Option<Dns>),
    AdoptDns(String, Dns),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// A handle on the writer thread (and on the systemd-resolved task, in that mode). Cloned
/// into every interface's driver.
#[derive(Clone)]
pub struct Files {
    tx: mpsc::Sender<Op>,
    resolved: Option<Resolved>,
}

impl Files {
    /// Starts the writer, and where DNS settings go. `order` is the interfaces in the order
    /// given on the command line: their DNS servers appear in resolv.conf in that order.
    /// With systemd-resolved, the task that talks to it is started on the current runtime.
    pub fn start(dns: Chosen, order: Vec<String>) -> io::Result<Files> {
        let (tx, rx) = mpsc::channel();
        let (sink, resolved) = match dns {
            Chosen::None => (None, None),
            Chosen::File { path, run_dir } => (
                Some(Sink::File(resolv::Merged::new(path, run_dir, order))),
                None,
            ),
            Chosen::Resolvconf(program) => (
                Some(Sink::Resolvconf(resolvconf::Feeder::new(program))),
                None,
            ),
            Chosen::Resolved(conn) => (None, Some(Resolved::start(conn))),
        };
        let mut state = Writer::new(sink);
        std::thread::Builder::new()
            .name("dhcpc-files".into())
            // Formatting a few small files and a log line: a small stack is plenty.
            .stack_size(128 * 1024)
            .spawn(move || state.run(rx))?;
        Ok(Files { tx, resolved })
    }

    fn send(&self, op: Op) {
        // The writer only ends when every handle is gone, or if it died (a bug: it has nothing
        // that can panic on a file's or a server's input); say so rather than lose files quietly.
        if self.tx.send(op).is_err() {
            warn!("the file writer has stopped: lease file and resolv.conf are not updated");
        }
    }

    /// Saves `text` to `path` (atomically, durably), creating the directory if needed.
    pub fn save_lease(&self, path: PathBuf, text: String) {
        self.send(Op::SaveLease(path, text));
    }

    /// Deletes a saved lease (if it is there).
    pub fn remove_lease(&self, path: PathBuf) {
        self.send(Op::RemoveLease(path));
    }

    /// Sets the DNS settings `iface` (interface index `ifindex`) contributes from its lease (a
    /// lease with none takes back what an earlier one set), or drops them when the lease is
    /// gone (None). `rules` are the local changes to the lease's settings (dhclient.conf's
    /// supersede and prepend).
    pub fn set_dns(&self, iface: &str, ifindex: u32, lease: Option<&Lease>, rules: &DnsRules) {
        self.put_dns(iface, ifindex, lease.map(|l| Dns::from_lease(l, rules)));
    }

    /// [`Files::set_dns`] for options only: the DNS settings of the options of an ACK to
    /// DHCPINFORM (None: none of this interface's), to the same place a lease's go.
    pub fn set_dns_options(
        &self,
        iface: &str,
        ifindex: u32,
        info: Option<&Informed>,
        rules: &DnsRules,
    ) {
        let dns = info.map(|i| Dns::from_options(&i.dns, i.domain.as_ref(), &i.search, rules));
        self.put_dns(iface, ifindex, dns);
    }

    /// A DHCPv6 lease's DNS settings (None: none), under `key` (`IFACE:6`), beside the
    /// interface's DHCPv4 ones in the same place.
    pub fn set_dns6(&self, key: &str, ifindex: u32, dns: Option<Dns>) {
        self.put_dns(key, ifindex, dns);
    }

    /// [`Files::adopt_dns`] for a DHCPv6 lease's settings, under `key` (`IFACE:6`).
    pub fn adopt_dns6(&self, key: &str, ifindex: u32, dns: Dns) {
        match &self.resolved {
            Some(r) => r.adopt(key, ifindex, dns),
            None => self.send(Op::AdoptDns(key.to_string(), dns)),
        }
    }

    /// `dns` is what `iface` contributes now (one with no settings takes back what an earlier
    /// one set; None: nothing).
    fn put_dns(&self, iface: &str, ifindex: u32, dns: Option<Dns>) {
        let dns = dns.filter(|d| !d.is_empty());
        match &self.resolved {
            Some(r) => r.set(iface, ifindex, dns),
            None => self.send(Op::Dns(iface.to_string(), dns)),
        }
    }

    /// Counts `lease`'s DNS settings as given already (by an earlier process: `dhcpc -r` with
    /// no daemon), so that dropping them takes them away (and puts back the resolv.conf that
    /// was there).
    pub fn adopt_dns(&self, iface: &str, ifindex: u32, lease: &Lease, rules: &DnsRules) {
        let dns = Dns::from_lease(lease, rules);
        match &self.resolved {
            Some(r) => r.adopt(iface, ifindex, dns),
            None => self.send(Op::AdoptDns(iface.to_string(), dns)),
        }
    }

    /// Waits until everything queued so far has been written (and said to resolved).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Op::Flush(tx));
        let _ = rx.await;
        if let Some(r) = &self.resolved {
            r.flush().await;
        }
    }
}

/// Where the writer puts DNS settings.
enum Sink {
    File(resolv::Merged),
    Resolvconf(resolvconf::Feeder),
}

impl Sink {
    fn set(&mut self, iface: &str, dns: Option<Dns>) {
        match self {
            Sink::File(m) => {
                m.set(iface, dns);
            }
            Sink::Resolvconf(f) => f.set(iface, dns),
        }
    }

    fn adopt(&mut self, iface: &str, dns: Dns) {
        match self {
            Sink::File(m) => m.adopt(iface, dns),
            Sink::Resolvconf(f) => f.adopt(iface, dns),
        }
    }

    fn dirty(&self) -> bool {
        match self {
            Sink::File(m) => m.dirty(),
            Sink::Resolvconf(f) => f.dirty(),
        }
    }

    /// Writes the settings; why not (the file's error names its cause: the file, or the run
    /// directory its records are kept in).
    fn write(&mut self) -> Result<(), String> {
        match self {
            Sink::File(m) => m.write().map_err(|e| e.to_string()),
            Sink::Resolvconf(f) => f.write().map_err(|e| format!("resolvconf: {e}")),
        }
    }
}

/// The first pause before a failed lease file is tried again, and the longest.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

struct Writer {
    dns: Option<Sink>,
    /// Why the DNS settings could not be written last time: said once, until it changes.
    dns_failing: Option<String>,
    /// Lease files whose last write failed (a read-only or full disk), with what is still to
    /// be done to each: said once, until a write of that file succeeds again. The lease stays
    /// in memory meanwhile.
    failing: BTreeMap<PathBuf, Pending>,
    /// When the failing files are tried again, and the pause that led there.
    retry: Option<(Instant, Duration)>,
}

/// What a lease file that could not be written is still to become.
struct Pending {
    /// Its contents, or None: it is to be removed.
    text: Option<String>,
    /// The file as it was when the write failed: it is tried again only while it stays so.
    seen: Option<Stamp>,
}

/// Enough of a file's metadata to tell that someone wrote it: device, inode, size, mtime.
type Stamp = (u64, u64, u64, i64, i64);

fn stamp(path: &Path) -> Option<Stamp> {
    fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

impl Writer {
    fn new(dns: Option<Sink>) -> Writer {
        Writer {
            dns,
            dns_failing: None,
            failing: BTreeMap::new(),
            retry: None,
        }
    }

    fn run(&mut self, rx: mpsc::Receiver<Op>) {
        loop {
            let first = match self.retry {
                None => match rx.recv() {
                    Ok(op) => op,
                    Err(_) => return,
                },
                Some((at, _)) => {
                    match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(op) => op,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.retry();
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            };
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            self.apply(batch);
        }
    }

    /// Tries the failing lease files again, those nobody else has written since; the next
    /// try waits twice as long, if one is needed.
    fn retry(&mut self) {
        let mut due = Vec::new();
        self.failing.retain(|path, pending| {
            if stamp(path) == pending.seen {
                due.push((path.clone(), pending.text.clone()));
                true
            } else {
                info!(
                    "{} was changed by someone else since it could not be written: it is left \
                     as it is, and written at the lease's next change",
                    path.display()
                );
                false
            }
        });
        let pause = self
            .retry
            .map_or(RETRY_FIRST, |(_, p)| (p * 2).min(RETRY_MAX));
        self.write_leases(due);
        self.retry = (!self.failing.is_empty()).then(|| (Instant::now() + pause, pause));
    }

    /// Carries out one batch: per lease file only the last request counts, resolv.conf is
    /// rendered once from the final state, each directory is synced once.
    fn apply(&mut self, batch: Vec<Op>) {
        let mut leases: Vec<(PathBuf, Option<String>)> = Vec::new();
        let mut acks = Vec::new();
        for op in batch {
            match op {
                Op::SaveLease(path, text) => last_wins(&mut leases, path, Some(text)),
                Op::RemoveLease(path) => last_wins(&mut leases, path, None),
                Op::Dns(iface, dns) => {
                    if let Some(r) = self.dns.as_mut() {
                        r.set(&iface, dns);
                    }
                }
                Op::AdoptDns(iface, dns) => {
                    if let Some(r) = self.dns.as_mut() {
                        r.adopt(&iface, dns);
                    }
                }
                Op::Flush(ack) => acks.push(ack),
            }
        }
        self.write_leases(leases);
        // Written when the settings changed, and tried again at every later request until a
        // write succeeds (a read-only /etc early at boot, a full disk, a failing resolvconf).
        if let Some(r) = self.dns.as_mut().filter(|r| r.dirty()) {
            match r.write() {
                Ok(()) => self.dns_failing = None,
                Err(e) if self.dns_failing.as_ref() == Some(&e) => debug!("{e}"),
                Err(e) => {
                    warn!("{e}");
                    self.dns_failing = Some(e);
                }
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }

    /// Writes (Some) or removes (None) lease files, syncing each directory once; a file that
    /// fails is kept for [`Writer::retry`], and said the first time.
    fn write_leases(&mut self, leases: Vec<(PathBuf, Option<String>)>) {
        let mut dirs = BTreeSet::new();
        for (path, text) in leases {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let result = match &text {
                Some(text) => fs::create_dir_all(&dir)
                    .and_then(|_| replace(&path, text.as_bytes()))
                    .map(|_| true)
                    .map_err(|e| format!("saving the lease to {}: {e}", path.display())),
                None => match fs::remove_file(&path) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(format!("removing {}: {e}", path.display())),
                },
            };
            match result {
                Ok(written) => {
                    if self.failing.remove(&path).is_some() {
                        info!("{} is written again", path.display());
                    }
                    if written {
                        dirs.insert(dir);
                    }
                }
                Err(e) => {
                    let seen = stamp(&path);
                    if self.failing.insert(path, Pending { text, seen }).is_none() {
                        warn!(
                            "{e}; the lease is kept in memory, and the file written as soon as \
                             it can be"
                        );
                    } else {
                        debug!("{e}");
                    }
                }
            }
        }
        for dir in dirs {
            if let Err(e) = sync_dir(&dir) {
                warn!("syncing {}: {e}", dir.display());
            }
        }
        if self.failing.is_empty() {
            self.retry = None;
        } else if self.retry.is_none() {
            self.retry = Some((Instant::now() + RETRY_FIRST, RETRY_FIRST));
        }
    }
}

fn last_wins(list: &mut Vec<(PathBuf, Option<String>)>, path: PathBuf, text: Option<String>) {
    list.retain(|(p, _)| *p != path);
    list.push((path, text));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dhcpc-files-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn later_requests_for_a_file_win_within_a_batch() {
        let d = tempdir("batch");
        let mut w = Writer::new(None);
        let a = d.join("sub/a.lease");
        let b = d.join("b.lease");
        fs::write(&b, "old").unwrap();
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        w.apply(vec![
            Op::SaveLease(a.clone(), "one".into()),
            Op::RemoveLease(b.clone()),
            Op::SaveLease(a.clone(), "two".into()),
            Op::SaveLease(b.clone(), "new".into()),
            Op::RemoveLease(b.clone()),
            Op::Flush(tx),
        ]);
        assert_eq!(fs::read_to_string(&a).unwrap(), "two");
        assert!(!b.exists());
        assert!(rx.try_recv().is_ok(), "flush acknowledged after the batch");
        let left: Vec<_> = fs::read_dir(d.join("sub")).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_lease_file_that_cannot_be_written_is_tried_again_until_it_is() {
        let d = tempdir("retry");
        let mut w = Writer::new(None);
        // A regular file where the lease directory should be: no write can succeed.
        let blocker = d.join("lease");
        fs::write(&blocker, "").unwrap();
        let p = blocker.join("x.lease");
        w.apply(vec![Op::SaveLease(p.clone(), "one".into())]);
        let (at, pause) = w.retry.expect("a retry is due");
        assert_eq!(pause, RETRY_FIRST);
        assert!(at > Instant::now());
        // Still failing: the next try waits longer; a newer lease replaces what is pending.
        w.retry();
        assert_eq!(w.retry.map(|(_, p)| p), Some(RETRY_FIRST * 2));
        w.apply(vec![Op::SaveLease(p.clone(), "two".into())]);
        assert_eq!(w.retry.map(|(_, p)| p), Some(RETRY_FIRST * 2));
        // The directory can be written: the next try writes the latest lease, and no more
        // try is due.
        fs::remove_file(&blocker).unwrap();
        w.retry();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        assert!(w.failing.is_empty() && w.retry.is_none());
        assert_eq!(
            fs::read_dir(&blocker).unwrap().count(),
            1,
            "a temporary file is left"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_pause_between_tries_grows_to_five_minutes() {
        let d = tempdir("pause");
        let mut w = Writer::new(None);
        fs::write(d.join("lease"), "").unwrap();
        w.apply(vec![Op::RemoveLease(d.join("lease/x.lease"))]);
        w.apply(vec![Op::SaveLease(d.join("lease/x.lease"), "x".into())]);
        for _ in 0..10 {
            w.retry();
        }
        assert_eq!(w.retry.map(|(_, p)| p), Some(RETRY_MAX));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_someone_else_wrote_meanwhile_is_not_written_over() {
        let d = tempdir("theirs");
        let mut w = Writer::new(None);
        let blocker = d.join("lease");
        fs::write(&blocker, "").unwrap();
        let p = blocker.join("x.lease");
        w.apply(vec![Op::SaveLease(p.clone(), "mine".into())]);
        assert!(w.retry.is_some());
        // Another process (this interface's daemon since) writes the file.
        fs::remove_file(&blocker).unwrap();
        fs::create_dir(&blocker).unwrap();
        fs::write(&p, "theirs").unwrap();
        w.retry();
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs");
        assert!(w.failing.is_empty() && w.retry.is_none());
        // This process's next lease is written as usual.
        w.apply(vec![Op::SaveLease(p.clone(), "mine again".into())]);
        assert_eq!(fs::read_to_string(&p).unwrap(), "mine again");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_thread_writes_in_order_and_flush_waits_for_it() {
        let d = tempdir("thread");
        let files = Files::start(Chosen::None, vec![]).unwrap();
        let p = d.join("x.lease");
        for i in 0..50 {
            files.save_lease(p.clone(), format!("{i}"));
        }
        files.remove_lease(p.clone());
        files.save_lease(p.clone(), "last".into());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(files.flush());
        assert_eq!(fs::read_to_string(&p).unwrap(), "last");
        fs::remove_dir_all(&d).unwrap();
    }
}
