//! `dhcpc -n`, `-x` and `-r`: one request per interface to the daemon that serves it, and a
//! line on stdout for each saying what was done; `-r` with no daemon releases the saved
//! lease itself.

use crate::config::Settings;
use crate::daemon::{options, runtime, start_files, Exits};
use crate::shell::control;
use crate::shell::driver::Driver;
use crate::shell::driver6::Driver6;
use crate::shell::log::in_iface;
use crate::shell::netlink::Netlink;
use crate::shell::options::base_name;
use crate::shell::options::RunError;
use crate::text::InWords;
use std::io::Write;

/// What is asked of a daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Renew,
    Release,
    Stop,
}

impl Request {
    /// The request's word on the control socket.
    pub fn word(self) -> &'static str {
        match self {
            Request::Renew => "renew",
            Request::Release => "release",
            Request::Stop => "stop",
        }
    }
}

/// Asks the daemon of each interface the settings name; says on `out` what was done and on
/// `err` what was not. The exit status: 0; 1 when an interface has no daemon (and, for a
/// release, no saved lease); 3 when a daemon refused or could not be reached.
pub fn control_request(
    settings: &Settings,
    request: Request,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let cli = &settings.cli;
    let mut code = 0;
    let keys: Vec<String> = cli
        .interfaces
        .iter()
        .flat_map(|n| options::clients_of(settings.interface(n), n))
        .collect();
    for name in &keys {
        // What the daemon holds beforehand, to say what the request did to it.
        let before = control::request(&cli.run_dir, name, "status")
            .ok()
            .and_then(|answer| serde_json::from_str::<serde_json::Value>(&answer).ok());
        let _ = match control::request(&cli.run_dir, name, request.word()) {
            Ok(answer) if answer.starts_with("ok") => {
                writeln!(out, "{}", what_was_done(name, request, before.as_ref()))
            }
            Ok(answer) => {
                code = 3;
                writeln!(err, "dhcpc: {name}: {answer}")
            }
            Err(e) if control::no_daemon(&e) && request == Request::Release => {
                code = code.max(release_offline(settings, name, out, err));
                Ok(())
            }
            Err(e) if control::no_daemon(&e) => {
                code = code.max(1);
                writeln!(
                    err,
                    "dhcpc: {name}: no dhcpc daemon runs for this interface"
                )
            }
            Err(e) => {
                code = 3;
                let socket = control::socket_path(&cli.run_dir, name);
                writeln!(err, "dhcpc: {name}: {}", refused(&socket, &e))
            }
        };
    }
    code
}

/// Whether a client's name is DHCPv6's (`eth0:6`).
fn is_v6(name: &str) -> bool {
    crate::shell::options::base_name(name) != name
}

/// Why the daemon's control socket at `socket` could not be asked, and (refused for want of
/// privilege: the socket is its user's alone) who can ask it.
pub fn refused(socket: &std::path::Path, e: &std::io::Error) -> String {
    let socket = socket.display();
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "not permitted to ask the daemon (its control socket {socket} is for root and the \
             daemon's user only): run it as root (or as the daemon's user)"
        ),
        _ => format!(
            "asking the daemon (its control socket {socket}): {}",
            InWords(e)
        ),
    }
}

/// `eth0: released 198.51.100.23`, `eth0: asked the daemon to renew 198.51.100.23`, ...: what
/// `request` did to a daemon whose status was `before`.
pub fn what_was_done(name: &str, request: Request, before: Option<&serde_json::Value>) -> String {
    let address = before.and_then(|v| v["address"].as_str());
    let state = before
        .and_then(|v| v["state"].as_str())
        .unwrap_or("UNKNOWN");
    // Options only (DHCPINFORM): the address is the host's own, and stays.
    if let Some(a) = before.and_then(|v| v["inform_address"].as_str()) {
        return match request {
            Request::Renew => format!("{name}: asked the daemon for the options of {a} again"),
            Request::Release => format!(
                "{name}: took the options of {a} off (the address stays); the daemon has stopped"
            ),
            Request::Stop => format!("{name}: stopped the daemon; the options of {a} stay"),
        };
    }
    match (request, address) {
        (Request::Renew, Some(a)) => format!("{name}: asked the daemon to renew {a}"),
        (Request::Renew, None) => {
            format!("{name}: asked the daemon to renew; it holds no lease yet ({state})")
        }
        (Request::Release, Some(a)) => format!("{name}: released {a}; the daemon has stopped"),
        (Request::Release, None) => {
            format!("{name}: the daemon held no lease to release ({state}); it has stopped")
        }
        (Request::Stop, Some(a)) => format!("{name}: stopped the daemon; {a} stays configured"),
        (Request::Stop, None) => format!("{name}: stopped the daemon ({state}, no lease)"),
    }
}

/// `dhcpc -r IFACE` with no daemon: release from the saved lease. The exit status.
pub fn release_offline(
    settings: &Settings,
    name: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let cli = settings.interface(name);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(_) => return 3,
    };
    let iface = base_name(name);
    let released = rt.block_on(async {
        let net = Netlink::connect().map_err(|e| RunError::Io("rtnetlink".into(), e))?;
        let (files, dns) = start_files(cli, &[iface.to_string()]).await?;
        tracing::debug!("{dns}");
        let opts = options::iface_options(cli, iface);
        if is_v6(name) {
            let released = Driver6::release_saved(opts, net, files);
            return Ok(in_iface(name, released).await?.map(|l| l.to_string()));
        }
        let driver = Driver::for_release(opts, net, files).await?;
        let released = in_iface(name, driver.release_saved()).await?;
        Ok::<_, RunError>(released.map(|l| l.address.to_string()))
    });
    match released {
        Ok(Some(what)) => {
            let _ = writeln!(out, "{name}: released {what}");
            0
        }
        Ok(None) => {
            let _ = writeln!(
                err,
                "dhcpc: {name}: nothing to release: no daemon runs for it and {} holds no \
                 unexpired lease",
                cli.lease_dir.display()
            );
            1
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "dhcpc: {}",
                crate::shell::log::line(Some(name), None, &e.to_string())
            );
            Exits::default().of(&e)
        }
    }
}
