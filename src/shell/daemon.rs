//! Going to the background the way dhclient does: the process forks before anything else
//! runs, the child acquires the leases, and the parent waits for the child's word (through a
//! pipe) and exits with the status it sends. Log lines go to syslog once detached.

use nix::unistd::{fork, pipe, setsid, ForkResult};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Level;

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
    /// standard input, output and error go to /dev/null and log lines to syslog.
    pub fn detach(self, status: u8) {
        let mut file = std::fs::File::from(self.pipe);
        let _ = file.write_all(&[status]);
        drop(file);
        SYSLOG.store(true, Ordering::SeqCst);
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            for fd in 0..3 {
                // SAFETY: dup2 onto the standard descriptors, which this process owns.
                unsafe { libc::dup2(null.as_raw_fd(), fd) };
            }
        }
    }
}

/// Where log lines go: stderr, or syslog once the daemon has detached.
static SYSLOG: AtomicBool = AtomicBool::new(false);

/// A tracing writer that sends each line to stderr, or to syslog (/dev/log) when detached.
pub struct LogWriter;

pub struct LineWriter {
    level: Level,
    buf: Vec<u8>,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            level: Level::INFO,
            buf: Vec::new(),
        }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter {
            level: *meta.level(),
            buf: Vec::new(),
        }
    }
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if !SYSLOG.load(Ordering::Relaxed) {
            let _ = io::stderr().write_all(&self.buf);
            return;
        }
        // RFC 3164 over /dev/log, facility daemon (3).
        let severity = match self.level {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        let text = String::from_utf8_lossy(&self.buf);
        let line = format!(
            "<{}>dhcpc[{}]: {}",
            3 * 8 + severity,
            std::process::id(),
            text.trim_end()
        );
        if let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() {
            let _ = sock.send_to(line.as_bytes(), "/dev/log");
        }
    }
}

/// Gives memory the daemon does not need while idle back to the system: freed heap
/// (malloc_trim) and the pages of its own code that start-up or a lease event touched.
pub fn shrink() {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
    release_code_pages();
}

/// Asks the kernel to reclaim the pages of dhcpc's own code and read-only data that start-up
/// touched (argument parsing, the first netlink dumps) and a bound daemon will not need again:
/// they drop out of the resident set and come back from the page cache if ever used.
/// MADV_PAGEOUT is only a reclaim hint: contents never change, whatever the kernel does with it.
fn release_code_pages() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let exe = exe.to_string_lossy();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        // Read-only or executable mappings of our own binary; never writable ones.
        if !line.ends_with(exe.as_ref()) || perms.contains('w') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is one of this process's own mappings, and MADV_PAGEOUT does not
        // change what the memory reads as.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
        }
    }
}
