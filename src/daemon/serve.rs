//! Serving interfaces: `dhcpc IFACE…` in the foreground (`-d`), oneshot (`-1`), or forked to
//! the background ([`crate::daemon::fork`]) once every interface is bound or has given up
//! waiting. One process, one thread, one [`Driver`] task per interface, one control socket,
//! one file writer; SIGTERM and SIGINT stop every interface (releasing with `--release`).

use crate::cli::Cli;
use crate::config::Settings;
use crate::daemon::fork::{self, Notifier};
use crate::daemon::options::client_names;
use crate::daemon::{options, runtime, start_files, Exits};
use crate::shell::claim::{self, Claim, Held, Registry};
use crate::shell::cmdq;
use crate::shell::command::{Command, Ended, Got};
use crate::shell::control::{self, Control};
use crate::shell::driver::Driver;
use crate::shell::driver6::Driver6;
use crate::shell::files::Files;
use crate::shell::linkwatch::LinkMonitor;
use crate::shell::log::{self, in_iface};
use crate::shell::netlink::Netlink;
use crate::shell::netlink6::AddrMonitor6;
use crate::shell::options::{base_name, v6_name, RunError};
use crate::shell::{systemd, trim};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// Starts serving the interfaces the settings name: refuses those a live daemon serves,
/// forks to the background unless `-1` or `-d`, and runs them.
pub fn start(settings: Settings, exits: Exits) -> ExitCode {
    let cli = &settings.cli;
    // An interface a live daemon serves is not started again: two clients would fight over
    // its address. Nothing is started then, not even the other interfaces named with it.
    if let Err(code) = refuse_served(&settings) {
        return code;
    }
    let notifier = if !cli.oneshot && !cli.foreground {
        match fork::fork_and_wait() {
            Ok(n) => Some(n),
            Err(e) => {
                let e = RunError::Io("going to the background".into(), e);
                return exits.fail(&cli.interfaces, &e);
            }
        }
    } else {
        None
    };
    match runtime() {
        Ok(rt) => rt.block_on(serve(settings, notifier, exits)),
        Err(code) => code,
    }
}

/// What the process holds for all its interfaces.
struct Process {
    net: Netlink,
    term: Signal,
    files: Files,
    /// Where DNS settings go, said once the interfaces are open.
    dns: String,
    monitor: LinkMonitor,
    /// IPv6 address events, when an interface runs DHCPv6.
    addrs6: Option<AddrMonitor6>,
    control: Option<Control>,
    /// This process's claims on its interfaces.
    claims: Registry,
    /// Not oneshot: the interfaces are kept, with a control socket and a pid file.
    daemon: bool,
}

/// The interfaces' drivers, running.
struct Running {
    tasks: Vec<(String, JoinHandle<Result<Ended, RunError>>)>,
    senders: Vec<cmdq::Sender<Command>>,
    /// Each interface's first lease (or why there is none), in a daemon.
    readies: Vec<(String, oneshot::Receiver<Result<Got, RunError>>)>,
    settled: Arc<tokio::sync::Notify>,
    manager: systemd::Status,
}

/// Runs the interfaces the settings name in this process: oneshot, foreground or (after
/// `fork`) as the background daemon, until they end or a signal stops them.
pub async fn serve(settings: Settings, mut notifier: Option<Notifier>, exits: Exits) -> ExitCode {
    let cli = &settings.cli;
    let names = cli.interfaces.clone();
    // Before anything else: another dhcpc (whatever its run directory) may serve one of the
    // interfaces.
    let registry = match Registry::start(&cli.run_dir) {
        Ok(r) => r,
        Err(e) => {
            let e = RunError::Io("binding the claims socket".into(), e);
            return start_failed(&names, &e, notifier, exits);
        }
    };
    let claims = match claim_all(&settings, &registry) {
        Ok(c) => c,
        Err(()) => {
            if let Some(n) = notifier.take() {
                n.detach(1);
            }
            return ExitCode::from(1);
        }
    };
    let v6 = client_names(&settings, &names)
        .iter()
        .any(|k| base_name(k) != k);
    let mut process = match Process::open(cli, &names, registry, v6).await {
        Ok(p) => p,
        Err(e) => return start_failed(&names, &e, notifier, exits),
    };
    let opened = open_drivers(&settings, &names, claims, &process).await;
    let (started, not_started) = match opened {
        Ok(d) => d,
        Err(e) => return start_failed(&names, &e, notifier, exits),
    };
    info!("{}", process.dns);
    if started.is_empty() && !not_started.is_empty() {
        let status = worst(&not_started);
        if let Some(n) = notifier {
            n.failed(status);
        }
        return ExitCode::from(status);
    }
    let keys = client_names(&settings, &names);
    let mut running = match spawn(cli, &keys, started, &mut process, &mut notifier, exits) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let daemon = process.daemon;
    let tasks = std::mem::take(&mut running.tasks);
    let readies = std::mem::take(&mut running.readies);
    let running = &running;
    let work = async {
        if daemon {
            let waited = ready(&settings, running, readies, not_started, notifier, exits);
            if let Some(code) = waited.await {
                return code;
            }
        }
        wait_all(tasks, exits).await
    };
    let limit = stop_limit(&settings);
    let code = tokio::select! {
        code = work => {
            running.manager.stopping();
            code
        }
        why = shutdown(&mut process.term) => {
            running.manager.stopping();
            stop_all(&running.senders, cli.release_on_exit, why, limit).await;
            ExitCode::SUCCESS
        }
    };
    process.files.flush().await;
    if daemon {
        for key in &keys {
            control::cleanup(&cli.run_dir, key);
        }
        if let Some(path) = &cli.pid_file {
            let _ = std::fs::remove_file(path);
        }
    }
    code
}

/// Says why the start failed ([`Exits::fail`]) and gives a parent waiting for the daemon
/// the status to exit with, so that it adds nothing; the status.
fn start_failed(
    names: &[String],
    e: &RunError,
    notifier: Option<Notifier>,
    exits: Exits,
) -> ExitCode {
    let code = exits.fail(names, e);
    if let Some(n) = notifier {
        n.failed(exits.of(e));
    }
    code
}

impl Process {
    /// Opens what every interface shares, before any interface runs, so that no error path
    /// leaves files half written.
    /// `v6`: an interface runs DHCPv6.
    async fn open(
        cli: &Cli,
        names: &[String],
        claims: Registry,
        v6: bool,
    ) -> Result<Process, RunError> {
        raise_nofile();
        let net = Netlink::connect().map_err(|e| RunError::Io("opening rtnetlink".into(), e))?;
        let term = signal(SignalKind::terminate())
            .map_err(|e| RunError::Io("watching SIGTERM".into(), e))?;
        let daemon = !cli.oneshot;
        if daemon {
            std::fs::create_dir_all(&cli.run_dir).map_err(|e| {
                let what = format!("the run directory {} (--run-dir)", cli.run_dir.display());
                RunError::Io(what, e)
            })?;
        }
        let (files, dns) = start_files(cli, names).await?;
        let monitor = LinkMonitor::start()
            .map_err(|e| RunError::Io("subscribing to link events".into(), e))?;
        let addrs6 = match v6 {
            true => Some(
                AddrMonitor6::start()
                    .map_err(|e| RunError::Io("subscribing to IPv6 address events".into(), e))?,
            ),
            false => None,
        };
        // The process's own descriptors (timer, control socket) before the interfaces': at
        // the limit of open files, it is interfaces that cannot start, each said.
        crate::shell::clock::start().map_err(|e| RunError::Io("creating the timer".into(), e))?;
        let control = match daemon {
            true => Some(Control::start(&cli.run_dir).map_err(|e| {
                let what = format!("the control socket in {}", cli.run_dir.display());
                RunError::Io(what, e)
            })?),
            false => None,
        };
        Ok(Process {
            net,
            term,
            files,
            dns,
            monitor,
            addrs6,
            control,
            claims,
            daemon,
        })
    }
}

/// An interface that could not start for want of descriptors: why, and its exit status.
type NotStarted = (String, u8);

/// One protocol's client of an interface: DHCPv4's or DHCPv6's driver, each run in a task of
/// its own under its name (`eth0`, `eth0:6`).
enum AnyDriver {
    V4(Box<Driver>),
    V6(Box<Driver6>),
}

impl AnyDriver {
    fn notify_ready(&mut self, ready: crate::shell::notify::Ready) {
        match self {
            AnyDriver::V4(d) => d.notify_ready(ready),
            AnyDriver::V6(d) => d.notify_ready(ready),
        }
    }

    fn notify_changes(&mut self, settled: Arc<tokio::sync::Notify>) {
        match self {
            AnyDriver::V4(d) => d.notify_changes(settled),
            AnyDriver::V6(d) => d.notify_changes(settled),
        }
    }

    fn notify_status(&mut self, manager: systemd::Status) {
        match self {
            AnyDriver::V4(d) => d.notify_status(manager),
            AnyDriver::V6(d) => d.notify_status(manager),
        }
    }

    /// Runs the driver in a task of its own, named `key` in the log.
    fn spawn(self, key: &str, rx: cmdq::Receiver<Command>) -> JoinHandle<Result<Ended, RunError>> {
        match self {
            AnyDriver::V4(d) => tokio::spawn(in_iface(key, d.run(rx))),
            AnyDriver::V6(d) => tokio::spawn(in_iface(key, d.run(rx))),
        }
    }
}

/// The exit status for the interfaces that could not start: the highest of theirs, 0 for none.
fn worst(not_started: &[NotStarted]) -> u8 {
    not_started.iter().map(|(_, code)| *code).max().unwrap_or(0)
}

/// Every interface's driver, looked up and opened at once (their netlink requests share one
/// socket), so that a hundred interfaces start together rather than one after another. An
/// interface that could not start for want of descriptors is named (each one, with the
/// limit) and the others go on; any other error stops the whole start.
async fn open_drivers(
    settings: &Settings,
    names: &[String],
    mut claims: Vec<(String, Claim)>,
    p: &Process,
) -> Result<(Vec<(String, AnyDriver)>, Vec<NotStarted>), RunError> {
    let opts = options::all_iface_options(settings, names);
    let drivers = futures::future::join_all(opts.into_iter().filter(|o| o.v6.ipv4).map(|opts| {
        let name = opts.name.clone();
        let claim = claims
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| claims.swap_remove(i).1);
        let (net, files) = (p.net.clone(), p.files.clone());
        let claims = (p.claims.clone(), claim);
        let driver = Driver::new(opts, net, files, &p.monitor, claims);
        in_iface(&name, driver)
    }))
    .await;
    let mut started = Vec::new();
    let mut not_started = Vec::new();
    let opts6 = options::all_iface_options(settings, names)
        .into_iter()
        .filter(|o| o.v6.ipv6);
    let drivers6 = futures::future::join_all(opts6.map(|opts| {
        let key = v6_name(&opts.name);
        let (net, files) = (p.net.clone(), p.files.clone());
        async move {
            let monitors = (Some(&p.monitor), p.addrs6.as_ref());
            let d = in_iface(&key, Driver6::new(opts, net, files, monitors)).await;
            (key, d.map(|d| AnyDriver::V6(Box::new(d))))
        }
    }))
    .await;
    let drivers4 = names
        .iter()
        .filter(|n| {
            let cli = settings.interface(n);
            cli.ipv4 || !cli.ipv6
        })
        .cloned()
        .zip(drivers)
        .map(|(n, d)| (n, d.map(|d| AnyDriver::V4(Box::new(d)))));
    let mut all: Vec<(String, Result<AnyDriver, RunError>)> = drivers4.chain(drivers6).collect();
    // In command-line order, each interface's DHCPv4 client first.
    let order = client_names(settings, names);
    all.sort_by_key(|(k, _)| order.iter().position(|o| o == k));
    for (name, driver) in all {
        match driver {
            Ok(d) => started.push((name.clone(), d)),
            Err(e) if out_of_descriptors(&e) => {
                let why = format!(
                    "{e}; not run: the process is at its limit of open files ({}); raise it \
                     (ulimit -n, LimitNOFILE=)",
                    nofile_limit()
                );
                log::iface_span(&name).in_scope(|| error!("{why}"));
                not_started.push((why, e.exit_code() as u8));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((started, not_started))
}

/// Gives each driver its name on the control socket and its pid file (in a daemon), and runs
/// it in a task of its own.
fn spawn(
    cli: &Cli,
    names: &[String],
    started: Vec<(String, AnyDriver)>,
    p: &mut Process,
    notifier: &mut Option<Notifier>,
    exits: Exits,
) -> Result<Running, ExitCode> {
    let mut running = Running {
        tasks: Vec::new(),
        senders: Vec::new(),
        readies: Vec::new(),
        settled: Arc::new(tokio::sync::Notify::new()),
        manager: systemd::Status::new(names),
    };
    for (name, mut driver) in started {
        let (tx, rx) = cmdq::channel();
        if let Some(control) = &p.control {
            if let Err(e) = control.serve(&name, tx.clone()) {
                // Names taken so far are this process's, and go with it.
                for n in names {
                    control::cleanup(&cli.run_dir, n);
                }
                if e.kind() != std::io::ErrorKind::AddrInUse {
                    let e = RunError::Io(format!("{name}: control socket"), e);
                    return Err(start_failed(names, &e, notifier.take(), exits));
                }
                // Another daemon started for it at the same moment, and was first.
                let served = control::served_by(&cli.run_dir, &name);
                log::fatal(Some(&name), &already_served(cli, &name, served.as_ref()));
                if let Some(n) = notifier.take() {
                    n.detach(1);
                }
                return Err(ExitCode::from(1));
            }
            write_pid(&control::pid_path(&cli.run_dir, &name));
            let (ready_tx, ready_rx) = oneshot::channel();
            driver.notify_ready(ready_tx);
            driver.notify_changes(running.settled.clone());
            running.readies.push((name.clone(), ready_rx));
        }
        driver.notify_status(running.manager.clone());
        running.senders.push(tx);
        let task = driver.spawn(&name, rx);
        running.tasks.push((name, task));
    }
    if let Some(c) = p.control.as_mut() {
        c.seal();
    }
    if p.daemon {
        if let Some(path) = &cli.pid_file {
            write_pid(path);
        }
        // --background (dhclient's -nw): the parent goes now, not once bound.
        if cli.background {
            if let Some(n) = notifier.take() {
                n.detach(0);
            }
        }
    }
    Ok(running)
}

/// In a daemon: waits until every interface is bound or has given up waiting, then says so
/// (to systemd, and to the parent waiting to exit) and detaches. Some(status) when the
/// daemon is to end here (`--exit-on-timeout` with an interface without a lease).
async fn ready(
    settings: &Settings,
    running: &Running,
    readies: Vec<(String, oneshot::Receiver<Result<Got, RunError>>)>,
    not_started: Vec<NotStarted>,
    notifier: Option<Notifier>,
    exits: Exits,
) -> Option<ExitCode> {
    let cli = &settings.cli;
    let mut status = worst(&not_started);
    let mut missing: Vec<String> = not_started.into_iter().map(|(why, _)| why).collect();
    for (name, ready) in readies {
        match ready.await {
            Ok(Ok(got)) => print_lease(&name, &got),
            // The interface's driver has said why (once, as a warning).
            Ok(Err(e)) => {
                status = status.max(exits.of(&e));
                missing.push(if cli.exit_on_timeout {
                    e.to_string()
                } else {
                    format!("{e}; still trying")
                });
            }
            Err(_) => status = 3,
        }
    }
    let missing = missing.join("; ");
    running
        .manager
        .ready((!missing.is_empty()).then_some(missing.as_str()));
    if let Some(n) = notifier {
        n.detach(status);
    }
    if cli.exit_on_timeout && !missing.is_empty() {
        let why = "no lease within the timeout";
        stop_all(&running.senders, false, why, stop_limit(settings)).await;
        return Some(ExitCode::from(status.max(1)));
    }
    trim::shrink();
    tokio::spawn(shrink_when_settled(running.settled.clone()));
    None
}

/// Waits for every interface's driver to end; the exit status.
async fn wait_all(
    tasks: Vec<(String, JoinHandle<Result<Ended, RunError>>)>,
    exits: Exits,
) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(Ended::Bound(lease))) => print_lease(&name, &lease),
            Ok(Ok(_)) => {}
            // Once detached, stderr may be gone: log::fatal says it where the log goes.
            Ok(Err(e)) => {
                log::fatal(Some(&name), &e);
                code = ExitCode::from(exits.of(&e));
            }
            Err(e) => {
                log::fatal(Some(&name), &e);
                code = ExitCode::from(3);
            }
        }
    }
    code
}

/// `eth0: 198.51.100.23/24 ...`: the lease (or the options of DHCPINFORM) on stdout, for
/// whoever started dhcpc, unless stdout is where the log (which said `bound` already) goes:
/// the journal, or the terminal.
fn print_lease(name: &str, lease: &Got) {
    if !log::stdout_is_log() {
        println!("{name}: {lease}");
    }
}

/// A signal to stop: SIGTERM or SIGINT, honoured at once in every state, while the leases
/// are still being acquired as much as once they are bound. Its name.
async fn shutdown(term: &mut Signal) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "interrupted",
    }
}

/// Refuses to start (status 1, one line per interface) when a live dhcpc of the same run
/// directory serves any of the named interfaces; a socket left by a killed daemon is none.
fn refuse_served(settings: &Settings) -> Result<(), ExitCode> {
    let cli = &settings.cli;
    let keys = client_names(settings, &cli.interfaces);
    let served: Vec<_> = keys
        .iter()
        .filter_map(|key| control::served_by(&cli.run_dir, key).map(|s| (key, s)))
        .collect();
    if served.is_empty() {
        return Ok(());
    }
    for (key, s) in &served {
        log::fatal(Some(key), &already_served(cli, key, Some(s)));
    }
    let others: Vec<&str> = keys
        .iter()
        .filter(|n| !served.iter().any(|(s, _)| s == n))
        .map(String::as_str)
        .collect();
    if !others.is_empty() {
        let others = others.join(", ");
        log::fatal(
            None,
            &format_args!("{others} not started either: name only the interfaces no dhcpc serves"),
        );
    }
    Err(ExitCode::from(1))
}

/// Claims every named interface that is there ([`crate::shell::claim`]); Err (with one line
/// on stderr for each) when another dhcpc, whatever its run directory, serves any of them.
/// A claim is DHCPv4's: DHCPv6 clients of an interface are told apart by their control
/// socket (`IFACE:6.sock`), so that dhclient's callers may run `dhclient` and `dhclient -6`
/// on one interface as two processes.
fn claim_all(settings: &Settings, registry: &Registry) -> Result<Vec<(String, Claim)>, ()> {
    let cli = &settings.cli;
    let present: Vec<(&String, u32)> = cli
        .interfaces
        .iter()
        .filter(|n| {
            let c = settings.interface(n);
            c.ipv4 || !c.ipv6
        })
        .filter_map(|n| Some((n, claim::index_of(n)?)))
        .collect();
    let indexes: Vec<u32> = present.iter().map(|(_, i)| *i).collect();
    let mut claims = Vec::new();
    let mut refused = false;
    for ((name, _), claimed) in present.into_iter().zip(registry.claim(&indexes)) {
        match claimed {
            Ok(c) => claims.push((name.clone(), c)),
            Err(held) => {
                log::fatal(Some(name), &already_claimed(cli, name, &held));
                refused = true;
            }
        }
    }
    match refused {
        true => Err(()),
        false => Ok(claims),
    }
}

/// Why a start for `name` is refused when another daemon's claim on it is `held`, and what
/// to run instead: as [`already_served`], with that daemon's run directory.
fn already_claimed(cli: &Cli, name: &str, held: &Held) -> String {
    let served = control::Served {
        pid: Some(held.pid),
        socket: control::socket_path(held.run_dir.as_deref().unwrap_or(&cli.run_dir), name),
    };
    match &held.run_dir {
        Some(dir) => {
            let theirs = Cli {
                run_dir: dir.clone(),
                ..cli.clone()
            };
            already_served(&theirs, name, Some(&served))
        }
        None => RunError::Claimed(name.to_string(), Some(held.pid)).to_string(),
    }
}

/// `eth0: already served by dhcpc (pid 812, /run/dhcpc/eth0.sock); use ...`: why a start
/// for `name` is refused, and what to run instead.
pub fn already_served(cli: &Cli, name: &str, served: Option<&control::Served>) -> String {
    let socket = control::socket_path(&cli.run_dir, name);
    let pid = served
        .and_then(|s| s.pid)
        .map_or(String::new(), |p| format!("pid {p}, "));
    // The commands must reach the same daemon: its run directory, when not the default.
    let run_dir = if cli.run_dir == Path::new(crate::cli::DEFAULT_RUN_DIR) {
        String::new()
    } else {
        format!("--run-dir {} ", cli.run_dir.display())
    };
    format!(
        "{name}: already served by dhcpc ({pid}{}); use `dhcpc {run_dir}-n {name}` to renew, \
         `dhcpc {run_dir}-x {name}` to stop it",
        socket.display()
    )
}

/// Writes the daemon's pid to `path` (an interface's in the run directory, or `--pid-file`,
/// dhclient's -pf, as ifupdown and cloud-init read it).
fn write_pid(path: &Path) {
    let written = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, format!("{}\n", std::process::id())));
    if let Err(e) = written {
        warn!("writing {}: {e}", path.display());
    }
}

/// Raises the soft limit of open files to the hard limit: each interface holds a packet
/// socket, and the common soft limit of 1024 would stop a big host's interfaces short.
fn raise_nofile() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                warn!("raising the limit of open files from {soft} to {hard}: {e}");
            }
        }
        Ok(_) => {}
        Err(e) => warn!("reading the limit of open files: {e}"),
    }
}

/// The limit of open files now, for messages.
fn nofile_limit() -> String {
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => soft.to_string(),
        Err(_) => "unknown".to_string(),
    }
}

/// The error is the process (or the system) running out of file descriptors.
fn out_of_descriptors(e: &RunError) -> bool {
    let io = match e {
        RunError::Io(_, io) | RunError::Permission(_, io) => io,
        _ => return false,
    };
    matches!(io.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// Shrinks the daemon 2 s after the last lease event (bind, renewal, removal), so that the
/// memory a renewal touched is given back while the daemon sits idle until the next one.
async fn shrink_when_settled(settled: Arc<tokio::sync::Notify>) {
    const QUIET: Duration = Duration::from_secs(2);
    loop {
        settled.notified().await;
        while tokio::time::timeout(QUIET, settled.notified())
            .await
            .is_ok()
        {}
        trim::shrink();
    }
}

/// How long a stop waits for the interfaces: 5 s, and the script's timeout more for its last
/// runs.
fn stop_limit(settings: &Settings) -> Duration {
    let names = &settings.cli.interfaces;
    let script_limit = names
        .iter()
        .map(|n| settings.interface(n))
        .filter(|c| c.script.is_some())
        .map(|c| c.script_timeout)
        .max();
    Duration::from_secs(5 + script_limit.unwrap_or(0))
}

/// Stops every interface (releasing first if asked) and waits for them, for at most `limit`.
async fn stop_all(senders: &[cmdq::Sender<Command>], release: bool, why: &str, limit: Duration) {
    let how = match release {
        true => " and releasing",
        false => "; the leases stay configured",
    };
    info!("{why}: stopping{how}");
    for tx in senders {
        let command = match release {
            true => Command::Release,
            false => Command::Stop,
        };
        let _ = tx.send(command).await;
    }
    let deadline = tokio::time::Instant::now() + limit;
    for tx in senders {
        let _ = tokio::time::timeout_at(deadline, tx.closed()).await;
    }
}
