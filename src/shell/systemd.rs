//! Telling the service manager how the daemon is doing (sd_notify(3), through the sd-notify
//! crate): `READY=1` once every interface named is bound or has given up waiting (so that a
//! unit of `Type=notify` holds network-online.target until then), `STATUS=` with each
//! interface's state whenever one changes, and `STOPPING=1` when the daemon shuts down.
//!
//! Without `NOTIFY_SOCKET` in the environment (not started by systemd, or `Type=` other than
//! notify) nothing is sent and nothing is formatted.

use sd_notify::NotifyState;
use std::sync::{Arc, Mutex};
use tracing::debug;

/// Each interface's name and state line, in command-line order.
type Lines = Vec<(String, String)>;

/// The state line of every interface of this process; each change is sent as one `STATUS=`
/// (`eth0: BOUND 198.51.100.10/24; eth1: SELECTING`).
#[derive(Clone)]
pub struct Status {
    lines: Option<Arc<Mutex<Lines>>>,
}

impl Status {
    /// A status for these interfaces; inert when no service manager listens.
    pub fn new(names: &[String]) -> Status {
        let listening = std::env::var_os("NOTIFY_SOCKET").is_some();
        Status {
            lines: listening.then(|| {
                Arc::new(Mutex::new(
                    names.iter().map(|n| (n.clone(), String::new())).collect(),
                ))
            }),
        }
    }

    /// Whether a service manager listens (and so whether state lines are worth making).
    pub fn enabled(&self) -> bool {
        self.lines.is_some()
    }

    /// `iface` is now in the state `text` describes; says so when that changed.
    pub fn set(&self, iface: &str, text: String) {
        let Some(lines) = &self.lines else { return };
        let joined = {
            let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
            match lines.iter_mut().find(|(name, _)| name == iface) {
                Some((_, old)) if *old == text => return,
                Some((_, old)) => *old = text,
                None => lines.push((iface.to_string(), text)),
            }
            summary(&lines)
        };
        send(&[NotifyState::Status(&joined)]);
    }

    /// Every interface is bound or has given up waiting: the start is over. `why` says what
    /// is still missing, if anything.
    pub fn ready(&self, why: Option<&str>) {
        let Some(lines) = &self.lines else { return };
        let text = match why {
            Some(why) => why.to_string(),
            None => summary(&lines.lock().unwrap_or_else(|e| e.into_inner())),
        };
        send(&[NotifyState::Ready, NotifyState::Status(&text)]);
    }

    /// The daemon is shutting down.
    pub fn stopping(&self) {
        if self.lines.is_some() {
            send(&[NotifyState::Stopping]);
        }
    }
}

fn summary(lines: &[(String, String)]) -> String {
    lines
        .iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(name, text)| format!("{name}: {text}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        debug!("telling the service manager: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_interfaces_in_order_and_skips_unknown_ones() {
        let lines = vec![
            ("eth0".to_string(), "BOUND 198.51.100.10/24".to_string()),
            ("eth1".to_string(), String::new()),
            ("eth2".to_string(), "SELECTING".to_string()),
        ];
        assert_eq!(
            summary(&lines),
            "eth0: BOUND 198.51.100.10/24; eth2: SELECTING"
        );
    }
}
