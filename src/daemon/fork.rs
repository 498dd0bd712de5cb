//! Going to the background the way dhclient does: the process forks before anything else
//! runs, the child acquires the leases, and the parent waits for the child's word (through a
//! pipe) and exits with the status it sends. Once detached, log lines go to the journal or
//! syslog, or on to stderr when there is neither ([`crate::shell::log::detach`]).

use nix::unistd::{fork, pipe, setsid, ForkResult};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

/// Held by the child: tells the waiting parent how the start went, then detaches.
pub struct Notifier {
    pipe: OwnedFd,
}

/// Forks. Returns in the child only; the parent waits for the child's status and exits with
/// it (3 if the child died without a word).
pub fn fork_and_wait() -> io::Result<Notifier> {
    let (read, write) = pipe()?;
    // SAFETY: called from main before the tokio runtime or any other thread exists, so the
    // child is a faithful single-threaded copy.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            drop(write);
            let mut code = [0u8; 1];
            let mut file = std::fs::File::from(read);
            let status = match file.read(&mut code) {
                Ok(1) => i32::from(code[0]),
                _ => {
                    eprintln!("dhcpc: the daemon stopped before it was ready");
                    3
                }
            };
            std::process::exit(status);
        }
        ForkResult::Child => {
            drop(read);
            setsid()?;
            Ok(Notifier { pipe: write })
        }
    }
}

impl Notifier {
    /// Sends `status` to the parent (which exits with it) and detaches from the terminal:
    /// log lines go to the journal or syslog, standard input and output to /dev/null, and
    /// standard error too unless it still carries the log (there is neither journal nor
    /// syslog: a log sent nowhere would be lost).
    pub fn detach(self, status: u8) {
        let mut file = std::fs::File::from(self.pipe);
        let _ = file.write_all(&[status]);
        drop(file);
        let keep_stderr = crate::shell::log::detach();
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            let _ = nix::unistd::dup2_stdin(&null);
            let _ = nix::unistd::dup2_stdout(&null);
            if !keep_stderr {
                let _ = nix::unistd::dup2_stderr(&null);
            }
        }
    }
}
