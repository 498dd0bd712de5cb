//! Running the hook script (`--script PATH`): a direct exec of the program with the
//! environment [`crate::hookenv`] builds (and the `--script-env` variables), nothing else
//! inherited but a fixed PATH; never through a shell. A script that hangs is killed after
//! `--script-timeout` (30 s by default); its failure is logged and is never fatal. Its output goes to the log,
//! line by line, cut to a few lines.
//!
//! When the script only hears of events (the default), its runs are queued and carried out
//! in order by a task of their own, so that a slow script never holds up the protocol. When
//! it configures the interface itself (`--script-configures`, as dhclient-script does), each
//! run is waited for, since what happens next depends on it.

use crate::hookenv::{self, Reason};
use crate::lease::Lease;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tracing::{info, warn};

/// The PATH the script runs with (dhclient's own).
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// The most lines of a run's output that are logged.
const MAX_LINES: usize = 20;

/// One run of the script, owned, for the queue.
#[derive(Debug, Clone)]
pub struct Run {
    pub reason: Reason,
    pub new: Option<Lease>,
    pub old: Option<Lease>,
    pub new_expiry: Option<u64>,
    pub old_expiry: Option<u64>,
}

/// The script of one interface.
#[derive(Clone)]
pub struct Script {
    pub path: PathBuf,
    pub interface: String,
    pub env: Vec<(String, String)>,
    pub requested: Vec<u8>,
    pub timeout: Duration,
}

impl Script {
    /// Runs the script once and waits for it; its exit code (None: it could not be run, was
    /// killed, or died by a signal).
    pub async fn run(&self, run: &Run) -> Option<i32> {
        let event = hookenv::Event {
            reason: run.reason,
            interface: &self.interface,
            new: run.new.as_ref(),
            old: run.old.as_ref(),
            new_expiry: run.new_expiry,
            old_expiry: run.old_expiry,
            requested: &self.requested,
        };
        let (env, withheld) = hookenv::environment(&event);
        for w in withheld {
            warn!(
                "{}: {} withheld from {}: {}",
                self.interface,
                w.name,
                self.path.display(),
                w.why
            );
        }
        let mut cmd = tokio::process::Command::new(&self.path);
        cmd.env_clear()
            .env("PATH", PATH)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                warn!(
                    "{}: running {} ({}): {e}",
                    self.interface,
                    self.path.display(),
                    run.reason
                );
                return None;
            }
        };
        // Both streams are read at once: a script that fills one pipe while the other is
        // read would otherwise hang.
        async fn read_lines<R: tokio::io::AsyncRead + Unpin>(r: Option<R>) -> Vec<String> {
            let mut kept = Vec::new();
            if let Some(r) = r {
                let mut r = BufReader::new(r).lines();
                while let Ok(Some(l)) = r.next_line().await {
                    if kept.len() < MAX_LINES {
                        kept.push(l);
                    }
                }
            }
            kept
        }
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let mut lines = Vec::new();
        let collect = async {
            let (a, b) = tokio::join!(read_lines(out), read_lines(err));
            lines.extend(a);
            lines.extend(b);
        };
        let waited = tokio::time::timeout(self.timeout, async {
            collect.await;
            child.wait().await
        })
        .await;
        let name = self.path.display();
        for l in &lines {
            info!("{}: {name}: {}", self.interface, crate::text::Quoted(l));
        }
        match waited {
            Ok(Ok(status)) => {
                if !status.success() {
                    warn!(
                        "{}: {name} ({}) exited with {status}",
                        self.interface, run.reason
                    );
                }
                status.code()
            }
            Ok(Err(e)) => {
                warn!("{}: {name} ({}): {e}", self.interface, run.reason);
                None
            }
            Err(_) => {
                warn!(
                    "{}: {name} ({}) did not finish within {} s: killed",
                    self.interface,
                    run.reason,
                    self.timeout.as_secs()
                );
                None
            }
        }
    }

    /// A queue that runs the script for each event in order, in a task of its own.
    ///
    /// Runs travel boxed and are run in a boxed future: the channel keeps room for 32 items
    /// and the task lives as long as the interface, so inline they cost 17 KiB an interface
    /// at rest.
    pub fn queue(self) -> Queue {
        let (tx, mut rx) = mpsc::unbounded_channel::<Box<Run>>();
        tokio::spawn(async move {
            while let Some(run) = rx.recv().await {
                Box::pin(self.run(&run)).await;
            }
        });
        Queue { tx }
    }
}

/// The runs of one interface's script, carried out in order without holding anyone up.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::UnboundedSender<Box<Run>>,
}

impl Queue {
    pub fn push(&self, run: Run) {
        let _ = self.tx.send(Box::new(run));
    }
}
