//! Running the hook script (`--script PATH`): a direct exec of the program with the
//! environment [`crate::hookenv`] builds (and the `--script-env` variables), nothing else
//! inherited but a fixed PATH; never through a shell. A script that hangs is killed after
//! `--script-timeout` (30 s by default); its failure is logged and is never fatal. Its output goes to the log,
//! line by line, cut to a few lines.
//!
//! When the script only hears of events (the default), its runs are queued and carried out
//! in order by a task of their own, so that a slow script never holds up the protocol. When
//! the interface's driver ends (release, stop, oneshot bound, …) it [`Queue::finish`]es the
//! queue: the runs still in it (the RELEASE or STOP just queued, a RENEW before it) are
//! carried out before the driver, and so the process, ends; only a script that takes longer
//! than its timeout loses what is left, and that is said. When the script configures the
//! interface itself (`--script-configures`, as dhclient-script does), each run is waited
//! for, since what happens next depends on it.

use crate::hookenv::{self, Reason};
use crate::lease::{Informed, Lease};
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

/// One run of the script, owned, for the queue: a DHCPv4 event, whose environment
/// [`hookenv`] builds when it runs, or a run whose environment is made already (DHCPv6's,
/// by [`crate::v6::hookenv`]).
#[derive(Debug, Clone)]
pub enum Run {
    V4(Box<Run4>),
    Ready {
        /// The reason's word, for the log.
        reason: &'static str,
        env: Vec<(String, String)>,
    },
}

impl Run {
    /// The reason the script runs, as it is told.
    pub fn reason(&self) -> &'static str {
        match self {
            Run::V4(r) => r.reason.as_str(),
            Run::Ready { reason, .. } => reason,
        }
    }
}

/// A DHCPv4 run: the event as [`hookenv`] takes it.
#[derive(Debug, Clone)]
pub struct Run4 {
    pub reason: Reason,
    pub new: Option<Lease>,
    pub old: Option<Lease>,
    pub new_expiry: Option<u64>,
    pub old_expiry: Option<u64>,
    /// Options only (DHCPINFORM): the options now and before, in place of a lease.
    pub new_options: Option<Informed>,
    pub old_options: Option<Informed>,
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

/// Up to [`MAX_LINES`] lines of a script's output stream, read to its end.
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

impl Script {
    /// Runs the script once and waits for it; its exit code (None: it could not be run, was
    /// killed, or died by a signal).
    pub async fn run(&self, run: &Run) -> Option<i32> {
        let env = self.environment(run);
        let mut child = self.spawn(env, run)?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let mut lines = Vec::new();
        // Both streams are read at once: a script that fills one pipe while the other is
        // read would otherwise hang.
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
        self.outcome(run, waited)
    }

    /// The run's environment from [`hookenv`]; what it withholds is logged.
    fn environment(&self, run: &Run) -> Vec<(String, String)> {
        let run = match run {
            Run::V4(r) => r,
            Run::Ready { env, .. } => return env.clone(),
        };
        let event = hookenv::Event {
            reason: run.reason,
            interface: &self.interface,
            pid: std::process::id(),
            new: run.new.as_ref(),
            old: run.old.as_ref(),
            new_expiry: run.new_expiry,
            old_expiry: run.old_expiry,
            new_options: run.new_options.as_ref(),
            old_options: run.old_options.as_ref(),
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
        env
    }

    /// Starts the script with `env` (and the `--script-env` variables), its output piped;
    /// None (logged) when it cannot be run.
    fn spawn(&self, env: Vec<(String, String)>, run: &Run) -> Option<tokio::process::Child> {
        let mut cmd = tokio::process::Command::new(&self.path);
        cmd.env_clear()
            .env("PATH", PATH)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        match cmd.spawn() {
            Ok(c) => Some(c),
            Err(e) => {
                warn!(
                    "{}: running {} ({}): {e}",
                    self.interface,
                    self.path.display(),
                    run.reason()
                );
                None
            }
        }
    }

    /// The exit code of a run that was waited for (`Err`: it timed out), a failure logged.
    fn outcome(
        &self,
        run: &Run,
        waited: Result<std::io::Result<std::process::ExitStatus>, tokio::time::error::Elapsed>,
    ) -> Option<i32> {
        let name = self.path.display();
        match waited {
            Ok(Ok(status)) => {
                if !status.success() {
                    warn!(
                        "{}: {name} ({}) exited with {status}",
                        self.interface,
                        run.reason()
                    );
                }
                status.code()
            }
            Ok(Err(e)) => {
                warn!("{}: {name} ({}): {e}", self.interface, run.reason());
                None
            }
            Err(_) => {
                warn!(
                    "{}: {name} ({}) did not finish within {} s: killed",
                    self.interface,
                    run.reason(),
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
        let (tx, rx) = mpsc::unbounded_channel::<Box<Run>>();
        let limit = self.timeout;
        let mut carrier = Carrier {
            script: self,
            rx,
            running: None,
        };
        let task = tokio::spawn(async move {
            while let Some(run) = carrier.rx.recv().await {
                carrier.running = Some(run.reason());
                Box::pin(carrier.script.run(&run)).await;
                carrier.running = None;
            }
        });
        Queue { tx, task, limit }
    }
}

/// The task's side of a [`Queue`]: the script, the runs still to carry out, and the reason of
/// the one running.
struct Carrier {
    script: Script,
    rx: mpsc::UnboundedReceiver<Box<Run>>,
    running: Option<&'static str>,
}

impl Drop for Carrier {
    /// Dropped before the queue was empty (given up by [`Queue::finish`], or the process
    /// ending without it): what was not carried out is said, never lost silently.
    fn drop(&mut self) {
        let (interface, name) = (&self.script.interface, self.script.path.display());
        if let Some(reason) = self.running.take() {
            warn!("{interface}: {name} ({reason}) killed: dhcpc is stopping");
        }
        self.rx.close();
        let mut left = Vec::new();
        while let Ok(run) = self.rx.try_recv() {
            left.push(run.reason());
        }
        if !left.is_empty() {
            warn!(
                "{interface}: {name} not run for {}: dhcpc is stopping",
                left.join(", ")
            );
        }
    }
}

/// The runs of one interface's script, carried out in order without holding anyone up.
pub struct Queue {
    tx: mpsc::UnboundedSender<Box<Run>>,
    task: tokio::task::JoinHandle<()>,
    /// The script's timeout: how long [`Queue::finish`] waits at most.
    limit: Duration,
}

impl Queue {
    pub fn push(&self, run: Run) {
        let _ = self.tx.send(Box::new(run));
    }

    /// Closes the queue and waits until the runs in it are carried out, in order, so that the
    /// last ones (RELEASE, STOP) are not lost when the process ends next. Each run is bounded
    /// by the script's timeout, and so is the whole wait: a script still busy then is killed
    /// and the runs left are named in a warning.
    pub async fn finish(self) {
        let Queue {
            tx,
            mut task,
            limit,
        } = self;
        drop(tx);
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::Lease;
    use std::net::Ipv4Addr;
    use std::path::Path;

    /// A lease whose only purpose is to carry `new_expiry` (the run's number) to the script.
    fn lease() -> Lease {
        let a = Ipv4Addr::new(198, 51, 100, 10);
        Lease {
            address: a,
            prefix_len: 24,
            broadcast: Ipv4Addr::new(198, 51, 100, 255),
            server_id: Ipv4Addr::new(198, 51, 100, 1),
            next_server: None,
            routers: Vec::new(),
            dns: Vec::new(),
            domain: None,
            mtu: None,
            classless_routes: Vec::new(),
            search: Vec::new(),
            ntp: Vec::new(),
            options: Vec::new().into(),
            lease_secs: 120,
            t1_secs: 60,
            t2_secs: 105,
            start: crate::time::Instant::ZERO,
        }
    }

    /// A script in `dir` that sleeps `pause` and appends "REASON NUMBER" to `dir/log`.
    fn recorder(dir: &Path, pause: &str, timeout: Duration) -> Script {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("record.sh");
        let log = dir.join("log");
        let text = format!(
            "#!/bin/sh\nsleep {pause}\necho \"$reason $new_expiry\" >> '{}'\n",
            log.display()
        );
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Script {
            path,
            interface: "vc".into(),
            env: Vec::new(),
            requested: Vec::new(),
            timeout,
        }
    }

    fn run(reason: Reason, n: u64) -> Run {
        Run::V4(Box::new(Run4 {
            reason,
            new: Some(lease()),
            old: None,
            new_expiry: Some(n),
            old_expiry: None,
            new_options: None,
            old_options: None,
        }))
    }

    fn logged(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The runs still queued when the driver ends are all carried out, in order, before
    /// `finish` returns (and so before the process may end): none is lost, the last one
    /// (a RELEASE) included.
    #[tokio::test]
    async fn finish_carries_out_every_queued_run_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let queue = recorder(dir.path(), "0", Duration::from_secs(30)).queue();
        for n in 0..49 {
            queue.push(run(Reason::Renew, n));
        }
        queue.push(run(Reason::Release, 49));
        queue.finish().await;
        let mut want: Vec<String> = (0..49).map(|n| format!("RENEW {n}")).collect();
        want.push("RELEASE 49".into());
        assert_eq!(logged(dir.path()), want);
    }

    /// A script slower than its timeout does not hold the end up for longer than that
    /// timeout: the run under way is killed and the runs left are not started.
    #[tokio::test]
    async fn finish_gives_up_after_the_scripts_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let queue = recorder(dir.path(), "0.3", Duration::from_secs(1)).queue();
        for n in 0..20 {
            queue.push(run(Reason::Renew, n));
        }
        let started = std::time::Instant::now();
        queue.finish().await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "finish took {took:?}");
        let done = logged(dir.path());
        assert!(!done.is_empty() && done.len() < 20, "{done:?}");
        let want: Vec<String> = (0..done.len()).map(|n| format!("RENEW {n}")).collect();
        assert_eq!(done, want);
    }
}
