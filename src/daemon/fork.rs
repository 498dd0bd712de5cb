//! Going to the background the way dhclient does: the process forks before anything else
//! runs, the child acquires the leases, and the parent waits for the child's word (through a
//! pipe) and exits with the status it sends. Once detached, the daemon keeps none of its
//! caller's descriptors: standard input, output and error are /dev/null, and every other
//! descriptor it inherited is closed, so that a caller reading the starting process's output
//! through a pipe (cloud-init) sees it end when that process exits. Log lines go to the
//! journal or syslog, or nowhere when there is neither ([`crate::shell::log::detach`]).
//!
//! A parent told to stop while it waits (Ctrl-C, SIGTERM from a service manager, SIGHUP when
//! its terminal goes) stops the attempt: it passes SIGTERM on to the daemon, waits for it to
//! end, says so, and exits as the signal would have ended it (128 + its number).

use nix::sys::signal::{self, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, setsid, ForkResult, Pid};
use std::io::{self, Read, Write};
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The descriptors above standard error that the process was started with.
static INHERITED: OnceLock<Vec<RawFd>> = OnceLock::new();

/// Notes the descriptors above standard error the caller left open: called first thing in
/// `main`, before dhcpc opens any of its own. A daemon closes them when it detaches.
pub fn note_inherited() {
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<RawFd>().ok())
                .filter(|&fd| fd > 2)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    // The directory's own descriptor is in the list, and closed by now: closing it again
    // later must not hit one dhcpc opened since, so only those still open now are kept.
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let open: Vec<RawFd> = fds
        .into_iter()
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .collect();
    let _ = INHERITED.set(open);
}

/// Held by the child: tells the waiting parent how the start went, then detaches.
pub struct Notifier {
    pipe: OwnedFd,
}

/// The signals that stop a waiting parent.
const STOPS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The signal the waiting parent got (0: none yet).
static GOT: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(signo: libc::c_int) {
    GOT.store(signo, Ordering::SeqCst);
}

fn stops() -> SigSet {
    let mut set = SigSet::empty();
    for s in STOPS {
        set.add(s);
    }
    set
}

/// Forks. Returns in the child only; the parent waits for the child's status and exits with
/// it (3 if the child died without a word).
pub fn fork_and_wait() -> io::Result<Notifier> {
    let (read, write) = pipe()?;
    // Held until each side is ready for them: the parent's handlers are set before it takes
    // any, and the child starts with the defaults (its runtime sets its own).
    signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&stops()), None)?;
    // SAFETY: called from main before the tokio runtime or any other thread exists, so the
    // child is a faithful single-threaded copy.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => {
            drop(write);
            std::process::exit(wait_for_word(read, child));
        }
        ForkResult::Child => {
            drop(read);
            signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&stops()), None)?;
            setsid()?;
            Ok(Notifier { pipe: write })
        }
    }
}

/// The parent's wait: the status the child sends, or, told to stop first, the child stopped
/// and the status of the signal.
fn wait_for_word(read: OwnedFd, child: Pid) -> i32 {
    // No SA_RESTART: the read below returns when a signal comes.
    let action = signal::SigAction::new(
        SigHandler::Handler(note),
        signal::SaFlags::empty(),
        SigSet::empty(),
    );
    for s in STOPS {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { signal::sigaction(s, &action) };
    }
    let _ = signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&stops()), None);
    let mut file = std::fs::File::from(read);
    let mut code = [0u8; 1];
    loop {
        match file.read(&mut code) {
            Ok(1) => return i32::from(code[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                let signo = GOT.load(Ordering::SeqCst);
                if signo != 0 {
                    return stop_child(child, signo);
                }
            }
            _ => {
                crate::shell::log::fatal(None, &"the daemon stopped before it was ready");
                return 3;
            }
        }
    }
}

/// Stops the daemon `child` (which has no lease yet for at least one interface) and waits for
/// it to end; the status of signal `signo`.
fn stop_child(child: Pid, signo: i32) -> i32 {
    let what = Signal::try_from(signo).map_or("a signal", |s| match s {
        Signal::SIGINT => "interrupted",
        Signal::SIGHUP => "hung up",
        _ => "SIGTERM",
    });
    let why = format!("{what}: stopping the daemon (pid {child}) before it has every lease");
    crate::shell::log::fatal(None, &why);
    let _ = signal::kill(child, Signal::SIGTERM);
    // The daemon stops its interfaces (leases already bound stay configured) and exits.
    let _ = waitpid(child, None);
    128 + signo
}

impl Notifier {
    /// Sends `status` to the parent, which exits with it and says nothing more: the start
    /// failed, and the child has said why on the stderr they share.
    pub fn failed(self, status: u8) {
        let _ = std::fs::File::from(self.pipe).write_all(&[status]);
    }

    /// Sends `status` to the parent (which exits with it) and detaches from the terminal: log
    /// lines go to the journal or syslog (or nowhere when there is neither), standard input,
    /// output and error become /dev/null, and the descriptors the caller left open are closed.
    pub fn detach(self, status: u8) {
        let mut file = std::fs::File::from(self.pipe);
        let _ = file.write_all(&[status]);
        drop(file);
        crate::shell::log::detach();
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            let _ = nix::unistd::dup2_stdin(&null);
            let _ = nix::unistd::dup2_stdout(&null);
            let _ = nix::unistd::dup2_stderr(&null);
        }
        for &fd in INHERITED.get().map(Vec::as_slice).unwrap_or_default() {
            // SAFETY: these were open before dhcpc opened anything, and nothing in dhcpc
            // owns them.
            unsafe { libc::close(fd) };
        }
    }
}
