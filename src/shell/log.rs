//! Where log lines go, and how they read.
//!
//! - **The journal**, natively (`tracing-journald`), when stderr is the journal (systemd's
//!   `JOURNAL_STREAM` names stderr's device and inode, as it does for the unit's `dhcpc -d`),
//!   and in a daemon that has detached when journald's socket is there. Each entry carries
//!   `INTERFACE=` (the field systemd-networkd uses, so `journalctl INTERFACE=eth0` shows both),
//!   `SYSLOG_IDENTIFIER=dhcpc`, `SYSLOG_FACILITY=3` and a `PRIORITY` from the level.
//! - **syslog** (`syslog-tracing`, that is glibc's syslog(3) over /dev/log: facility daemon,
//!   ident `dhcpc`, with the pid) in a detached daemon when there is no journal but /dev/log.
//! - **stderr** otherwise: in the foreground, and in a detached daemon that has neither, so
//!   that its log is never lost ([`detach`] says so, and the daemon keeps stderr open).
//!
//! A line reads `IFACE: message` inside an interface's span (see [`iface_span`]), and on
//! stderr starts with its level. Levels map to priorities as error 3, warn 4, info 6,
//! debug and trace 7, in the journal and syslog alike.
//!
//! Filtering is by one level only (`-q`, `-v`, `DHCPC_LOG`): a filter expression
//! (`EnvFilter`) would pull a regex engine into every daemon's memory.

use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
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

/// Where lines go now: [`STDERR`], [`JOURNAL`] or [`SYSLOG`].
static SINK: AtomicU8 = AtomicU8::new(STDERR);
/// Whether the journal layer exists (journald answered when logging started).
static JOURNAL_THERE: AtomicBool = AtomicBool::new(false);
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
    if journal.is_some() {
        JOURNAL_THERE.store(true, Ordering::SeqCst);
        if stderr_is_journal() {
            SINK.store(JOURNAL, Ordering::SeqCst);
        }
    }
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(Lines)
        .with(journal.map(Journal))
        .try_init();
}

/// The daemon detaches from its terminal: from now on lines go to the journal when journald's
/// socket is there, else to syslog when /dev/log is, else still to stderr. Returns whether
/// stderr still carries the log (and must not be pointed at /dev/null).
pub fn detach() -> bool {
    if SINK.load(Ordering::SeqCst) == JOURNAL {
        return false;
    }
    if JOURNAL_THERE.load(Ordering::SeqCst) {
        SINK.store(JOURNAL, Ordering::SeqCst);
        return false;
    }
    if syslog_there() {
        let options = syslog_tracing::Options::LOG_PID | syslog_tracing::Options::LOG_NDELAY;
        if let Some(s) =
            syslog_tracing::Syslog::new(c"dhcpc", options, syslog_tracing::Facility::Daemon)
        {
            let _ = SYSLOG_WRITER.set(s);
            SINK.store(SYSLOG, Ordering::SeqCst);
            return false;
        }
    }
    true
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
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<libc::dev_t>(), ino.parse::<libc::ino_t>()) else {
        return false;
    };
    nix::sys::stat::fstat(io::stderr()).is_ok_and(|st| st.st_dev == dev && st.st_ino == ino)
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

/// An event's text, `IFACE: message` inside an interface's span. A message that names its
/// interface first already (as the shell's do, for the commands that run outside any span)
/// is not given the name twice.
fn text(iface: Option<String>, event: &Event<'_>) -> String {
    let mut message = String::with_capacity(128);
    event.record(&mut Text(&mut message));
    match iface {
        Some(mut line)
            if !message
                .strip_prefix(line.as_str())
                .is_some_and(|rest| rest.starts_with(": ")) =>
        {
            line.push_str(": ");
            line.push_str(&message);
            line
        }
        _ => message,
    }
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
        if sink == JOURNAL {
            return;
        }
        let level = *event.metadata().level();
        let mut line = String::with_capacity(128);
        if sink == STDERR {
            let _ = write!(line, "{:>5} ", level.as_str());
        }
        line.push_str(&text(iface_of(&ctx, event), event));
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

/// The journal layer, given events whose message starts with the interface, as on stderr.
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
        let message = fields.field("message");
        let (Some(iface), Some(message), 1) = (iface_of(&ctx, event), message, fields.len()) else {
            return self.0.on_event(event, ctx);
        };
        // The same event with `IFACE: ` before its message (tracing-journald sends the
        // message as it is given).
        let text = text(Some(iface), event);
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
