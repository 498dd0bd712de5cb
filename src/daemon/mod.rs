//! The daemon's modes, in the library so that each is tested in-process; `main.rs` only reads
//! the command line (dhcpc's or dhclient's) and calls [`run`].
//!
//! - [`serve`]: runs the named interfaces in this process (oneshot, foreground, or forked to
//!   the background by [`fork`]), one [`crate::shell::driver::Driver`] each, with the control
//!   socket, signals and the service manager around them;
//! - [`status`]: `--status` (and `--json`), asked of each daemon over its control socket;
//! - [`request`]: `-n`, `-x` and `-r`, and `-r` with no daemon (the saved lease released);
//! - [`options`]: the command line and dhcpc.conf made into each interface's options.

pub mod fork;
pub mod options;
pub mod request;
pub mod serve;
pub mod status;

use crate::cli::Cli;
use crate::config::Settings;
use crate::shell::dns::{self, Chosen};
use crate::shell::files::Files;
use crate::shell::log;
use crate::shell::options::RunError;
use crate::text::InWords;
use std::process::ExitCode;
use tracing::warn;

/// Exit statuses that depend on how dhcpc was called.
#[derive(Debug, Clone, Copy)]
pub struct Exits {
    /// "No lease within the timeout": dhcpc's 1, or under dhclient's command line dhclient's
    /// (2 with -1; 0 without, as dhclient goes on trying in the background).
    pub no_lease: u8,
}

impl Default for Exits {
    fn default() -> Exits {
        Exits { no_lease: 1 }
    }
}

impl Exits {
    /// The status to exit with after `e`.
    pub fn of(&self, e: &RunError) -> u8 {
        match e {
            RunError::NoLease(..) | RunError::NoOptions(..) => self.no_lease,
            _ => e.exit_code() as u8,
        }
    }

    /// Says `e` once, where it is read ([`log::fatal`]: in the journal at error priority
    /// under systemd), about the interface among `names` that it names first (as every
    /// [`RunError`] about an interface does); the status to exit with.
    pub fn fail(&self, names: &[String], e: &RunError) -> ExitCode {
        let text = e.to_string();
        let iface = names.iter().find(|n| {
            text.strip_prefix(n.as_str())
                .is_some_and(|rest| rest.starts_with(": "))
        });
        log::fatal(iface.map(String::as_str), &text);
        ExitCode::from(self.of(e))
    }
}

/// Runs the mode the settings ask for: `--status`, `-r`, `-x`, `-n`, or serving the interfaces.
pub fn run(settings: Settings, exits: Exits) -> ExitCode {
    let cli = &settings.cli;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let code = if cli.status {
        status::status(cli, &mut out, &mut err)
    } else if cli.release {
        request::control_request(&settings, request::Request::Release, &mut out, &mut err)
    } else if cli.stop {
        request::control_request(&settings, request::Request::Stop, &mut out, &mut err)
    } else if cli.renew {
        request::control_request(&settings, request::Request::Renew, &mut out, &mut err)
    } else {
        return serve::start(settings, exits);
    };
    ExitCode::from(code)
}

/// The runtime every mode runs on: one thread, as the daemon is one loop of small tasks.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            log::fatal(
                None,
                &format_args!("cannot start the runtime: {}", InWords(&e)),
            );
            ExitCode::from(3)
        })
}

/// Chooses where DNS settings go (`--dns-mode`) and starts the writer of the lease files and
/// DNS settings for these interfaces. With the writer, the line that says where they go: the
/// caller logs it once the start has gone far enough for it to matter (no line of no use
/// before an error that ends the start).
pub async fn start_files(cli: &Cli, names: &[String]) -> Result<(Files, String), RunError> {
    let (chosen, why) = dns::choose(cli.dns(), &cli.resolv_conf, &cli.run_dir).await;
    let said = format!("DNS settings go to {} ({why})", chosen.describe());
    if let Chosen::Resolvconf(p) = &chosen {
        if !p.is_absolute() {
            warn!("--dns-mode resolvconf: no resolvconf program on PATH; DNS settings will not be set");
        }
    }
    let files = Files::start(chosen, names.to_vec())
        .map_err(|e| RunError::Io("starting the file writer".into(), e))?;
    Ok((files, said))
}

#[cfg(test)]
mod tests;
