//! The `dhcpc` program: reads the command line (dhcpc's, or dhclient's when called as
//! dhclient) and the configuration file, and hands the settings to [`dhcpc::daemon::run`].

use dhcpc::config::{Settings, SettingsError};
use dhcpc::daemon::Exits;
use dhcpc::shell::log::{self, stderr_line as say};
use std::path::Path;
use std::process::ExitCode;
use tracing::Level;

fn init_logging(cli: &dhcpc::cli::Cli) {
    use tracing_subscriber::filter::LevelFilter;
    let mut level = match (cli.quiet, cli.verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0) => LevelFilter::INFO,
        (false, 1) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // DHCPC_LOG=off|error|warn|info|debug|trace overrides -v/-q. A plain level, not a filter
    // expression: that would pull a regex engine into every daemon's memory.
    if let Some(l) = std::env::var("DHCPC_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
    {
        level = l;
    }
    log::init(level);
}

/// A configuration file's text (at most 1 MiB); `Ok(None)` when it is not there.
fn read_text(p: &Path) -> Result<Option<String>, String> {
    match std::fs::read(p) {
        Ok(b) if b.len() > 1 << 20 => Err(format!("{}: larger than 1 MiB", p.display())),
        Ok(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|_| format!("{}: not text", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

/// Whether `p` is a regular file with an execute bit, as dhclient would run it (an empty
/// stand-in bound over it, or a directory, is not one).
fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// dhclient's command line (dhclient(8)) as dhcpc's: the arguments to parse and the exit
/// statuses dhclient's callers expect, or the status to exit with at once (`--version`, a
/// flag dhcpc cannot honour).
fn dhclient_args(
    argv: Vec<std::ffi::OsString>,
) -> Result<(Vec<std::ffi::OsString>, Exits), ExitCode> {
    use dhcpc::dhclient::cli::{translate, Host, Outcome};
    let host = Host {
        read_file: &read_text,
        hostname: &|| {
            nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
        },
        env: &|name| std::env::var(name).ok(),
        executable: &executable,
    };
    match translate(&argv, &host) {
        Ok(Outcome::Version) => {
            let version = env!("CARGO_PKG_VERSION");
            println!("dhcpc {version} (taking dhclient's command line)");
            Err(ExitCode::SUCCESS)
        }
        Ok(Outcome::Run(t)) => {
            for w in &t.warnings {
                say(Level::WARN, &format!("warning: {w}"));
            }
            // dhclient's status without a lease: 2 with -1; 0 without, as dhclient goes on
            // trying in the background.
            let no_lease = if t.once { 2 } else { 0 };
            Ok((t.args, Exits { no_lease }))
        }
        Err(e) => {
            say(Level::ERROR, &e.to_string());
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    dhcpc::daemon::fork::note_inherited();
    dhcpc::shell::trim::one_arena();
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut exits = Exits::default();
    if dhcpc::dhclient::cli::is_dhclient(&argv) {
        (argv, exits) = match dhclient_args(argv) {
            Ok(a) => a,
            Err(code) => return code,
        };
    }
    // The command line over the configuration file (dhcpc.conf(5)); a bad file stops every
    // mode with status 2, as a bad command line does.
    let settings = match Settings::from_args(argv) {
        Ok(s) => s,
        // Under systemd, said at error priority (clap's own lines would be info).
        Err(SettingsError::Cli(e)) if e.use_stderr() && log::stderr_is_journal() => {
            say(Level::ERROR, &e.render().to_string());
            return ExitCode::from(2);
        }
        Err(SettingsError::Cli(e)) => e.exit(),
        Err(SettingsError::Config(e)) => {
            say(Level::ERROR, &e.to_string());
            return ExitCode::from(2);
        }
    };
    if settings.cli.check_config {
        let path = settings.config.path().display();
        if settings.config.found() {
            println!("dhcpc: {path}: ok");
        } else {
            println!("dhcpc: {path}: ok (no such file: the defaults apply)");
        }
        return ExitCode::SUCCESS;
    }
    init_logging(&settings.cli);
    dhcpc::daemon::run(settings, exits)
}
