//! Where log lines go, and how they read.
//!
//! - **The journal**, natively (`tracing-journald`), when stderr is the journal (systemd's
//!   `JOURNAL_STREAM` names stderr's device and inode, as it does for the unit's `dhcpc -d`),
//!   and in a daemon that has detached when journald's socket is there. Each entry carries
//!   `INTERFACE=` (the field systemd-networkd uses, so `journalctl INTERFACE=eth0` shows both),
//!   `SYSLOG_IDENTIFIER=dhcpc`, `SYSLOG_FACILITY=3` and a `PRIORITY` from the level.
//! - **syslog** (`syslog-tracing`, that is glibc's syslog(3) over /dev/log: facility daemon,
//!   ident `dhcpc`, with the pid) in a detached daemon when there is no journal but /dev/log.
//! - **stderr** otherwise, in the foreground.
//! - **Nowhere** in a detached daemon that has neither journal nor syslog: it keeps none of
//!   its caller's descriptors (a caller that reads the starting process's output through a
//!   pipe, as cloud-init does, waits for that pipe to close), so there is nowhere to write.
//!
//! A line reads `IFACE: message` inside an interface's span (see [`iface_span`]), and on
//! stderr `dhcpc: IFACE: message`, as every line dhcpc writes there (see [`line`]), with a
//! level's word first where it adds something (`dhcpc: warning: IFACE: ...`; `debug`,
//! `trace`), none for info and errors (an error says what failed). Levels map to priorities as error 3, warn 4, info
//! 6, debug and trace 7, in the journal and syslog alike. No line carries io::Error's
//! ` (os error N)`: the system's words are enough.
//!
//! The reason dhcpc stops, or could not start, is said once by [`fatal`]: in the journal (or
//! syslog) at error priority with the interface's field when the log goes there, else on
//! stderr ([`stderr_line`]). A lease line on stdout that would only repeat the log's own is
//! left out ([`stdout_is_log`]).
//!
//! Filtering is by one level only (`-q`, `-v`, `DHCPC_LOG`): a filter expression
//! (`EnvFilter`) would pull a regex engine into every daemon's memory.

use crate::text::without_os_error;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;
use tracing::field::{Field, FieldSet, Visit};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::metadata::Kind;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

const STDERR: u8 = 0;
const JOURNAL: u8 = 1;
const SYSLOG: u8 = 2;
/// A detached daemon with neither journal nor syslog: lines are dropped.
const NOWHERE: u8 = 3;

/// Where lines go now: [`STDERR`], [`JOURNAL`] or [`SYSLOG`].
static SINK: AtomicU8 = AtomicU8::new(STDERR);
/// Whether the journal layer exists (journald answered when logging started).
static JOURNAL_THERE: AtomicBool = AtomicBool::new(false);
/// Lines on stderr start with journald's `<N>` (stderr is the journal's stream, and journald
/// took no native entry).
static STREAM_PRIORITY: AtomicBool = AtomicBool::new(false);
static SYSLOG_WRITER: OnceLock<syslog_tracing::Syslog> = OnceLock::new();

/// journald's native socket.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// The span field that names the interface, and the journal field it becomes.
const IFACE_FIELD: &str = "interface";

/// The span every line about interface `name` is logged in. Its level is ERROR so that it is
/// enabled at every verbosity: even with `-q` a warning names its interface.
pub fn iface_span(name: &str) -> tracing::Span {
    tracing::error_span!("if", interface = %name)
}

pin_project_lite::pin_project! {
    /// A future whose every poll runs inside interface `name`'s span ([`in_iface`]).
    pub struct InIface<F> {
        name: Box<str>,
        #[pin]
        future: F,
    }
}

/// Runs `future` inside interface `name`'s span, made afresh for each poll rather than held
/// for the future's life (as `Instrument` does). A live span costs about 400 bytes (its slot
/// in the registry, its extensions map, the name kept for each sink), which at a thousand
/// interfaces is 5 % of the process; a daemon at rest polls nothing, and a span per poll
/// costs a microsecond.
pub fn in_iface<F: std::future::Future>(name: &str, future: F) -> InIface<F> {
    InIface {
        name: name.into(),
        future,
    }
}

impl<F: std::future::Future> std::future::Future for InIface<F> {
    type Output = F::Output;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let span = iface_span(this.name);
        let _entered = span.enter();
        this.future.poll(cx)
    }
}

/// Starts logging at `level`: to the journal if stderr is the journal, else to stderr.
pub fn init(level: LevelFilter) {
    let journal = journal_layer();
    let to_journal = stderr_is_journal();
    if journal.is_some() {
        JOURNAL_THERE.store(true, Ordering::SeqCst);
        if to_journal {
            SINK.store(JOURNAL, Ordering::SeqCst);
        }
    } else if to_journal {
        // journald takes the stream but not a native entry: each line says its priority.
        STREAM_PRIORITY.store(true, Ordering::SeqCst);
    }
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(Lines)
        .with(journal.map(Journal))
        .try_init();
}

/// The daemon detaches from its terminal: from now on lines go to the journal when journald's
/// socket is there, else to syslog when /dev/log is, else nowhere (the daemon's standard
/// streams are about to become /dev/null). Returns whether the log still goes somewhere.
pub fn detach() -> bool {
    if SINK.load(Ordering::SeqCst) == JOURNAL {
        return true;
    }
    if JOURNAL_THERE.load(Ordering::SeqCst) {
        SINK.store(JOURNAL, Ordering::SeqCst);
        return true;
    }
    if syslog_there() {
        let options = syslog_tracing::Options::LOG_PID | syslog_tracing::Options::LOG_NDELAY;
        if let Some(s) =
            syslog_tracing::Syslog::new(c"dhcpc", options, syslog_tracing::Facility::Daemon)
        {
            let _ = SYSLOG_WRITER.set(s);
            SINK.store(SYSLOG, Ordering::SeqCst);
            return true;
        }
    }
    SINK.store(NOWHERE, Ordering::SeqCst);
    false
}

/// The journal layer, when systemd is about (`JOURNAL_STREAM` set, or journald's socket
/// there) and journald takes a message.
fn journal_layer() -> Option<tracing_journald::Layer> {
    if std::env::var_os("JOURNAL_STREAM").is_none()
        && !std::path::Path::new(JOURNAL_SOCKET).exists()
    {
        return None;
    }
    let layer = tracing_journald::Layer::new().ok()?;
    Some(
        layer
            // Only the span's `interface` field and the message are sent: unprefixed, the
            // former is INTERFACE=.
            .with_field_prefix(None)
            .with_syslog_identifier("dhcpc".to_string())
            .with_custom_fields([("SYSLOG_FACILITY", "3")])
            .with_priority_mappings(tracing_journald::PriorityMappings {
                error: tracing_journald::Priority::Error,
                warn: tracing_journald::Priority::Warning,
                info: tracing_journald::Priority::Informational,
                debug: tracing_journald::Priority::Debug,
                trace: tracing_journald::Priority::Debug,
            }),
    )
}

/// Whether stderr is the journal: `JOURNAL_STREAM` is `DEVICE:INODE` of the stream systemd
/// connected stdout and stderr to (systemd.exec(5)); a stderr redirected since is not it.
pub fn stderr_is_journal() -> bool {
    is_journal_stream(io::stderr())
}

/// Whether `fd` is the journal's stream that `JOURNAL_STREAM` names.
fn is_journal_stream(fd: impl AsFd) -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<libc::dev_t>(), ino.parse::<libc::ino_t>()) else {
        return false;
    };
    nix::sys::stat::fstat(fd).is_ok_and(|st| st.st_dev == dev && st.st_ino == ino)
}

/// Whether a line on stdout would only repeat the log (the lease line after the log's
/// `bound`): stdout is the journal's stream (under systemd both stdout and stderr are, and
/// the log's line is in the journal already), or the terminal stderr is too while the log
/// goes there. Only when the log says info lines: with `-q` the stdout line is the only one.
pub fn stdout_is_log() -> bool {
    if LevelFilter::current() < LevelFilter::INFO {
        return false;
    }
    if is_journal_stream(io::stdout()) {
        return true;
    }
    let same_terminal = || {
        let (out, err) = (io::stdout(), io::stderr());
        let (Ok(o), Ok(e)) = (nix::sys::stat::fstat(&out), nix::sys::stat::fstat(&err)) else {
            return false;
        };
        nix::unistd::isatty(&out).unwrap_or(false) && (o.st_dev, o.st_ino) == (e.st_dev, e.st_ino)
    };
    SINK.load(Ordering::SeqCst) == STDERR && same_terminal()
}

/// Says why dhcpc stops, or why a start failed (`message`, about interface `iface` if it is
/// about one), once and where it is read: in the journal at error priority with the
/// interface's field when the log goes there (as under systemd, whose stream would take a
/// line on stderr at info priority and without the field), in syslog once detached there,
/// else on stderr as `dhcpc: IFACE: message`, whatever the log's level.
pub fn fatal(iface: Option<&str>, message: &dyn fmt::Display) {
    if SINK.load(Ordering::SeqCst) == STDERR {
        return stderr_line(Level::ERROR, &line(iface, None, &message.to_string()));
    }
    let span = iface.map(iface_span);
    let _entered = span.as_ref().map(|s| s.enter());
    tracing::error!("{message}");
}

/// Writes `dhcpc: text` on stderr (each line of it), outside the log: for what is said before
/// logging starts (a bad command line or configuration file) or whatever its level. When
/// stderr is the journal's stream, each line starts with its level's syslog priority (`<3>`),
/// which journald takes as the line's priority (SyslogLevelPrefix=, on by default) instead of
/// info.
pub fn stderr_line(level: Level, text: &str) {
    let prefix = match stderr_is_journal() {
        true => format!("<{}>", priority(level)),
        false => String::new(),
    };
    let mut out = String::with_capacity(text.len() + 16);
    for l in without_os_error(text).lines() {
        let _ = writeln!(out, "{prefix}dhcpc: {l}");
    }
    let _ = io::stderr().write_all(out.as_bytes());
}

/// The syslog priority of a level, in the journal and syslog alike.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// The word a line on stderr gives its level, where it adds something: none for info (most
/// lines) and errors (which say what failed).
fn level_word(level: Level) -> Option<&'static str> {
    match level {
        Level::WARN => Some("warning"),
        Level::DEBUG => Some("debug"),
        Level::TRACE => Some("trace"),
        _ => None,
    }
}

/// A line as it reads after `dhcpc: ` (on stderr) or syslog's tag: `IFACE: message` about
/// interface `iface` (a message that names it first already, as the shell's errors do, is
/// not given the name twice), after a level's `word` if any (`warning: eth0: ...`, so that
/// what follows reads as in the journal and syslog), and no ` (os error N)` anywhere.
pub fn line(iface: Option<&str>, word: Option<&str>, message: &str) -> String {
    let message = without_os_error(message);
    let mut out = String::with_capacity(message.len() + 24);
    if let Some(word) = word {
        out.push_str(word);
        out.push_str(": ");
    }
    let mut rest: &str = &message;
    if let Some(name) = iface {
        out.push_str(name);
        out.push_str(": ");
        rest = rest
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// Whether a syslog daemon listens on /dev/log (datagram or stream, as syslog(3) tries).
fn syslog_there() -> bool {
    const DEV_LOG: &str = "/dev/log";
    std::os::unix::net::UnixDatagram::unbound().is_ok_and(|s| s.connect(DEV_LOG).is_ok())
        || std::os::unix::net::UnixStream::connect(DEV_LOG).is_ok()
}

/// The interface a span stands for, kept in the span by [`Lines`].
struct Iface(String);

/// The interface of the innermost interface span around `event`.
fn iface_of<S>(ctx: &Context<'_, S>, event: &Event<'_>) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.event_scope(event)?
        .find_map(|span| span.extensions().get::<Iface>().map(|i| i.0.clone()))
}

/// An event's text, `IFACE: message` inside an interface's span (see [`line`]), with `word`.
fn text(iface: Option<String>, word: Option<&str>, event: &Event<'_>) -> String {
    let mut message = String::with_capacity(128);
    event.record(&mut Text(&mut message));
    line(iface.as_deref(), word, &message)
}

/// Writes an event's message (and any other field, as `name=value`) as text.
struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // A message is `format_args!`, whose Debug form is its text; other fields are given
        // as `%value` (a Display value, whose Debug form is its Display form).
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

/// Finds the `interface` field of a span.
struct IfaceField(Option<String>);

impl Visit for IfaceField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == IFACE_FIELD {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Recorded as `%name`: the Debug form of a Display value is its Display form.
        if field.name() == IFACE_FIELD {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// Lines for stderr and syslog; also keeps each interface span's name for every sink.
struct Lines;

impl<S> Layer<S> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut name = IfaceField(None);
        attrs.record(&mut name);
        if let (Some(name), Some(span)) = (name.0, ctx.span(id)) {
            span.extensions_mut().insert(Iface(name));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let sink = SINK.load(Ordering::Relaxed);
        if sink == JOURNAL || sink == NOWHERE {
            return;
        }
        let level = *event.metadata().level();
        let mut line = String::with_capacity(128);
        if sink == STDERR {
            if STREAM_PRIORITY.load(Ordering::Relaxed) {
                let _ = write!(line, "<{}>", priority(level));
            }
            line.push_str("dhcpc: ");
            line.push_str(&text(iface_of(&ctx, event), level_word(level), event));
        } else {
            line.push_str(&text(iface_of(&ctx, event), None, event));
        }
        if sink == SYSLOG {
            if let Some(syslog) = SYSLOG_WRITER.get() {
                let mut w = syslog.make_writer_for(syslog_level(level));
                let _ = w.write_all(line.as_bytes());
                let _ = w.flush();
                return;
            }
        }
        line.push('\n');
        let _ = io::stderr().write_all(line.as_bytes());
    }
}

/// The journal layer, given events whose message starts with the interface, as in syslog.
struct Journal(tracing_journald::Layer);

impl<S> Layer<S> for Journal
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Spans are always seen, also before the daemon turns to the journal: the journal layer
    // keeps each span's fields from its start.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.0.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        self.0.on_record(id, values, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if SINK.load(Ordering::Relaxed) != JOURNAL {
            return;
        }
        let meta = event.metadata();
        let fields = meta.fields();
        let (Some(message), 1) = (fields.field("message"), fields.len()) else {
            return self.0.on_event(event, ctx);
        };
        // The same event with `IFACE: ` before its message and no ` (os error N)` in it
        // (tracing-journald sends the message as it is given).
        let text = text(iface_of(&ctx, event), None, event);
        let text: &str = &text;
        let values = [(&message, Some(&text as &dyn tracing::Value))];
        let values = fields.value_set(&values);
        let event = if event.is_contextual() {
            Event::new(meta, &values)
        } else {
            Event::new_child_of(event.parent().cloned(), meta, &values)
        };
        self.0.on_event(&event, ctx);
    }
}

/// The metadata to hand syslog-tracing for a line at `level`. It maps INFO to LOG_NOTICE and
/// DEBUG to LOG_INFO, and takes the level from an event's metadata; dhcpc's state changes
/// are LOG_INFO, as in the journal (and as dhclient and dhcpcd log them), so INFO and DEBUG
/// are handed on as the stand-ins below, one level further down.
fn syslog_level(level: Level) -> &'static Metadata<'static> {
    macro_rules! stand_in {
        ($level:expr) => {
            Metadata::new(
                "syslog",
                "dhcpc",
                $level,
                None,
                None,
                None,
                FieldSet::new(&[], Identifier(&STAND_IN)),
                Kind::EVENT,
            )
        };
    }
    static AS_ERROR: Metadata<'static> = stand_in!(Level::ERROR);
    static AS_WARN: Metadata<'static> = stand_in!(Level::WARN);
    static AS_INFO: Metadata<'static> = stand_in!(Level::DEBUG);
    static AS_DEBUG: Metadata<'static> = stand_in!(Level::TRACE);
    match level {
        Level::ERROR => &AS_ERROR,
        Level::WARN => &AS_WARN,
        Level::INFO => &AS_INFO,
        _ => &AS_DEBUG,
    }
}

/// The callsite the stand-in metadata names; never registered, never called.
struct StandIn;
static STAND_IN: StandIn = StandIn;

impl Callsite for StandIn {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        syslog_level(Level::INFO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_stderr(iface: Option<&str>, level: Level, message: &str) -> String {
        format!("dhcpc: {}", line(iface, level_word(level), message))
    }

    #[test]
    fn every_line_on_stderr_is_dhcpc_then_the_interface_then_the_message() {
        let bound = "bound 198.51.100.23/24, lease 1h";
        assert_eq!(
            on_stderr(Some("eth0"), Level::INFO, bound),
            "dhcpc: eth0: bound 198.51.100.23/24, lease 1h"
        );
        // The level's word where it adds something, before the rest (which reads as in the
        // journal).
        assert_eq!(
            on_stderr(
                Some("eth0"),
                Level::WARN,
                "sending REQUEST: Network is down"
            ),
            "dhcpc: warning: eth0: sending REQUEST: Network is down"
        );
        assert_eq!(
            on_stderr(Some("eth0"), Level::DEBUG, "sent DISCOVER"),
            "dhcpc: debug: eth0: sent DISCOVER"
        );
        assert_eq!(
            on_stderr(Some("eth0"), Level::TRACE, "x"),
            "dhcpc: trace: eth0: x"
        );
        assert_eq!(
            on_stderr(
                None,
                Level::ERROR,
                "binding the control socket: Permission denied"
            ),
            "dhcpc: binding the control socket: Permission denied"
        );
        assert_eq!(
            on_stderr(None, Level::WARN, "writing /x: y"),
            "dhcpc: warning: writing /x: y"
        );
    }

    #[test]
    fn the_interface_is_named_once() {
        // A message that names its interface first (an error made outside the span).
        assert_eq!(
            on_stderr(Some("eth0"), Level::ERROR, "eth0: no such interface"),
            "dhcpc: eth0: no such interface"
        );
        assert_eq!(
            on_stderr(Some("eth0"), Level::WARN, "eth0: opening a raw socket: x"),
            "dhcpc: warning: eth0: opening a raw socket: x"
        );
        // Another interface's name, or the name as a word of its own, is the message's.
        assert_eq!(
            line(Some("eth0"), None, "eth0.5: gone"),
            "eth0: eth0.5: gone"
        );
        assert_eq!(
            line(Some("eth0"), None, "eth0 is there"),
            "eth0: eth0 is there"
        );
        assert_eq!(line(None, None, "eth0: x"), "eth0: x");
    }

    #[test]
    fn no_line_says_the_os_error_number() {
        let e = io::Error::from_raw_os_error(libc::ENOTDIR);
        assert_eq!(
            line(None, None, &format!("creating /run/x: {e}")),
            "creating /run/x: Not a directory"
        );
        assert_eq!(
            on_stderr(Some("vc"), Level::WARN, &format!("sending ARP: {e}")),
            "dhcpc: warning: vc: sending ARP: Not a directory"
        );
    }

    #[test]
    fn levels_have_syslog_priorities() {
        assert_eq!(priority(Level::ERROR), 3);
        assert_eq!(priority(Level::WARN), 4);
        assert_eq!(priority(Level::INFO), 6);
        assert_eq!(priority(Level::DEBUG), 7);
        assert_eq!(priority(Level::TRACE), 7);
    }
}
