//! Who hears of an interface's transitions, as one value the driver owns: the hook script
//! (`--script`, with dhclient's reasons and variables), whoever waits for the first lease (the
//! parent that started the daemon), the daemon's memory trimmer (told after every change),
//! and the service manager (`STATUS=`). It is told what happened; what that is (which hook
//! reason) is the core's word, carried in its actions.

use crate::hookenv::Reason as HookReason;
use crate::lease::{Informed, Lease};
use crate::shell::clock;
use crate::shell::command::Got;
use crate::shell::hooks::{self, Script};
use crate::shell::options::{IfaceOptions, RunError};
use crate::shell::store::unix_now;
use crate::shell::systemd;
use std::sync::Arc;
use tokio::sync::oneshot;

/// What a driver reports once, when it first binds or when it gives up waiting.
pub type Ready = oneshot::Sender<Result<Got, RunError>>;

/// One interface's listeners.
#[derive(Default)]
pub struct Notify {
    /// The hook script: run and waited for when it configures the interface, else queued.
    /// Boxed: most interfaces have none.
    script: Option<Box<Script>>,
    queue: Option<hooks::Queue>,
    configures: bool,
    ready: Option<Ready>,
    /// Told after every change to the interface, so that the daemon can shrink once quiet.
    settled: Option<Arc<tokio::sync::Notify>>,
    manager: Option<systemd::Status>,
}

impl Notify {
    /// The listeners `opts` name (the hook script, if any).
    pub fn new(opts: &IfaceOptions) -> Notify {
        let Some(path) = opts.script.clone() else {
            return Notify::default();
        };
        // The options the client asks for: the script's `requested_*` variables.
        let mut requested: Vec<u8> = crate::core::REQUESTED_OPTIONS
            .iter()
            .map(|&c| u8::from(c))
            .collect();
        requested.extend(&opts.extra_requests);
        let script = Script {
            path,
            interface: opts.name.clone(),
            env: opts.script_env.clone(),
            requested,
            timeout: opts.script_timeout,
        };
        Notify {
            queue: (!opts.script_configures).then(|| script.clone().queue()),
            configures: opts.script_configures,
            script: Some(Box::new(script)),
            ..Notify::default()
        }
    }

    /// Takes over `from`'s waiters (a driver made afresh for the interface come back), and its
    /// script's queue, so that the runs still queued there (the old lease's STOP) go before
    /// the new ones (PREINIT).
    pub fn keep_waiters(&mut self, from: &mut Notify) {
        self.ready = from.ready.take();
        self.settled = from.settled.take();
        self.manager = from.manager.take();
        if from.queue.is_some() {
            self.queue = from.queue.take();
        }
    }

    /// Waits until the script's queued runs are carried out (at most the script's timeout):
    /// the driver is ending, and a run left in the queue would die with the process.
    pub async fn finish(&mut self) {
        if let Some(q) = self.queue.take() {
            Box::pin(q.finish()).await;
        }
    }

    /// The script configures the interface itself (dhclient-script's way): dhcpc leaves
    /// address, routes, MTU and DNS to it.
    pub fn script_configures(&self) -> bool {
        self.script.is_some() && self.configures
    }

    /// Whether there is a script (changes to the interface then do not take turns: a script
    /// may take its time).
    pub fn has_script(&self) -> bool {
        self.script.is_some()
    }

    /// Tells the script of a transition: waits for it when it configures the interface (its
    /// exit code), queues it otherwise (Some(0)); None without a script.
    pub async fn hook(
        &self,
        reason: HookReason,
        new: Option<&Lease>,
        old: Option<&Lease>,
    ) -> Option<i32> {
        // Boxed (as are the driver's other rare, deep awaits): a future's size is its largest
        // await's, and the driver's future lives for as long as the interface does.
        Box::pin(async {
            let script = self.script.as_ref()?;
            let run = hooks::Run::V4(Box::new(hooks::Run4 {
                reason,
                new: new.cloned(),
                old: old.cloned(),
                new_expiry: new.and_then(expiry_unix),
                old_expiry: old.and_then(expiry_unix),
                new_options: None,
                old_options: None,
            }));
            self.run(script, run).await
        })
        .await
    }

    /// [`Notify::hook`] for options only (DHCPINFORM): the options now and before in place
    /// of a lease.
    pub async fn hook_options(
        &self,
        reason: HookReason,
        new: Option<&Informed>,
        old: Option<&Informed>,
    ) -> Option<i32> {
        Box::pin(async {
            let script = self.script.as_ref()?;
            let run = hooks::Run::V4(Box::new(hooks::Run4 {
                reason,
                new: None,
                old: None,
                new_expiry: None,
                old_expiry: None,
                new_options: new.cloned(),
                old_options: old.cloned(),
            }));
            self.run(script, run).await
        })
        .await
    }

    /// Tells the script of a DHCPv6 transition, one run after another (as
    /// [`crate::shell::hooks6::runs`] makes them): waited for when it configures the
    /// interface (the first non-zero exit code, else 0), queued otherwise (Some(0)); None
    /// without a script.
    pub async fn hook6(&self, runs: Vec<hooks::Run>) -> Option<i32> {
        Box::pin(async {
            let script = self.script.as_ref()?;
            let mut code = Some(0);
            for run in runs {
                let c = self.run(script, run).await;
                if code == Some(0) {
                    code = c;
                }
            }
            code
        })
        .await
    }

    /// Runs the script (waited for when it configures the interface) or queues the run.
    async fn run(&self, script: &Script, run: hooks::Run) -> Option<i32> {
        match &self.queue {
            Some(q) => {
                q.push(run);
                Some(0)
            }
            None => script.run(&run).await,
        }
    }

    /// Asks to be told when the interface first binds (or gives up waiting).
    pub fn on_ready(&mut self, ready: Ready) {
        self.ready = Some(ready);
    }

    /// Whether someone still waits for the first lease.
    pub fn awaits_ready(&self) -> bool {
        self.ready.is_some()
    }

    /// The one who waits for the first lease, if still waiting.
    pub fn take_ready(&mut self) -> Option<Ready> {
        self.ready.take()
    }

    /// Asks to be told after every change to the interface.
    pub fn on_changes(&mut self, settled: Arc<tokio::sync::Notify>) {
        self.settled = Some(settled);
    }

    /// The interface changed (a lease bound, renewed or removed).
    pub fn changed(&self) {
        if let Some(n) = &self.settled {
            n.notify_one();
        }
    }

    /// Asks to tell the service manager the interface's state whenever it changes.
    pub fn on_status(&mut self, manager: systemd::Status) {
        self.manager = Some(manager);
    }

    /// Tells the service manager the interface's state (`line`, made only when asked for).
    pub fn status(&self, name: &str, line: impl FnOnce() -> String) {
        if let Some(m) = self.manager.as_ref().filter(|m| m.enabled()) {
            m.set(name, line());
        }
    }
}

/// When `lease` runs out, in Unix time (for the script's `*_expiry`).
fn expiry_unix(lease: &Lease) -> Option<u64> {
    let left = lease.expires_at()?.saturating_since(clock::now());
    Some(unix_now() + left.as_secs())
}
