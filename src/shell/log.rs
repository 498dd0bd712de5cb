//! Where log lines go: stderr, or syslog (/dev/log) once the daemon has detached.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Level;

static SYSLOG: AtomicBool = AtomicBool::new(false);

/// From now on, log lines go to syslog (the daemon has detached from its terminal).
pub fn to_syslog() {
    SYSLOG.store(true, Ordering::SeqCst);
}

/// A tracing writer that sends each line to stderr, or to syslog when detached.
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
