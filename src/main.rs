use dhcpc::cli::Cli;
use dhcpc::config::{Settings, SettingsError};
use dhcpc::shell::cmdq;
use dhcpc::shell::control;
use dhcpc::shell::daemon::{self, Notifier};
use dhcpc::shell::dns::{self, Chosen};
use dhcpc::shell::files::Files;
use dhcpc::shell::linkwatch::LinkMonitor;
use dhcpc::shell::log::in_iface;
use dhcpc::shell::netlink::Netlink;
use dhcpc::shell::run::{Command, CommonOptions, Driver, Ended, IfaceOptions, RunError};
use dhcpc::shell::systemd;
use dhcpc::shell::trim;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::oneshot;
use tracing::{error, info, warn};

fn init_logging(cli: &Cli) {
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
    dhcpc::shell::log::init(level);
}

fn iface_options(cli: &Cli, name: &str) -> IfaceOptions {
    IfaceOptions {
        name: name.to_string(),
        common: std::sync::Arc::new(common_options(cli)),
    }
}

/// The options of each interface, those configured alike sharing one copy of their settings.
fn all_iface_options(settings: &Settings, names: &[String]) -> Vec<IfaceOptions> {
    let mut made: Vec<std::sync::Arc<CommonOptions>> = Vec::new();
    names
        .iter()
        .map(|name| {
            let common = common_options(settings.interface(name));
            let common = match made.iter().find(|c| ***c == common) {
                Some(c) => c.clone(),
                None => {
                    let c = std::sync::Arc::new(common);
                    made.push(c.clone());
                    c
                }
            };
            IfaceOptions {
                name: name.clone(),
                common,
            }
        })
        .collect()
}

fn common_options(cli: &Cli) -> CommonOptions {
    CommonOptions {
        metric: cli.metric,
        broadcast_flag: cli.broadcast,
        hostname: cli.hostname.clone(),
        vendor_class: cli.vendor_class.clone(),
        client_id: cli.client_id.clone(),
        fqdn: cli.fqdn.clone(),
        extra_requests: cli.request.clone(),
        rapid_commit: !cli.no_rapid_commit,
        ipv4ll: cli.ipv4ll.map(Duration::from_secs),
        oneshot: cli.oneshot,
        timeout: Duration::from_secs(cli.timeout),
        probe: cli.arp_probe,
        lease_dir: Some(cli.lease_dir.clone()),
        run_dir: cli.run_dir.clone(),
        allow_missing: cli.allow_missing,
        script: cli.script.clone(),
        script_configures: cli.script_configures,
        script_env: cli.script_env.clone(),
        script_timeout: Duration::from_secs(cli.script_timeout),
        dhclient_lease_file: cli.dhclient_lease_file.clone(),
        dns_rules: dhcpc::shell::resolv::DnsRules {
            supersede_servers: cli.supersede_dns.clone(),
            prepend_servers: cli.prepend_dns.clone(),
            supersede_domain: cli.supersede_domain.clone(),
        },
    }
}

/// Chooses where DNS settings go (`--dns-mode`) and starts the writer of the lease files and
/// DNS settings for these interfaces.
async fn files(cli: &Cli, names: &[String]) -> Result<Files, ExitCode> {
    let (chosen, why) = dns::choose(cli.dns(), &cli.resolv_conf, &cli.run_dir).await;
    info!("DNS settings go to {} ({why})", chosen.describe());
    if let Chosen::Resolvconf(p) = &chosen {
        if !p.is_absolute() {
            warn!("--dns-mode resolvconf: no resolvconf program on PATH; DNS settings will not be set");
        }
    }
    Files::start(chosen, names.to_vec())
        .map_err(|e| fail(&RunError::Io("starting the file writer".into(), e)))
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("dhcpc: cannot start the runtime: {e}");
            ExitCode::from(3)
        })
}

/// The exit status of "no lease within the timeout": dhcpc's 1, or under dhclient's command
/// line dhclient's (2 with -1; 0 without, as dhclient goes on trying in the background).
static NO_LEASE_STATUS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

fn status_of(e: &RunError) -> u8 {
    match e {
        RunError::NoLease(..) => NO_LEASE_STATUS.load(std::sync::atomic::Ordering::Relaxed),
        _ => e.exit_code() as u8,
    }
}

fn fail(e: &RunError) -> ExitCode {
    eprintln!("dhcpc: {e}");
    ExitCode::from(status_of(e))
}

/// `--status`: asks each daemon for its interfaces' state.
fn status(cli: &Cli) -> ExitCode {
    let mut names = cli.interfaces.clone();
    if names.is_empty() {
        if let Ok(dir) = std::fs::read_dir(&cli.run_dir) {
            for entry in dir.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(iface) = name.strip_suffix(".sock") {
                    names.push(iface.to_string());
                }
            }
        }
        names.sort();
    }
    let mut all = Vec::new();
    let mut missing = false;
    for name in &names {
        let v = match control::request(&cli.run_dir, name, "status") {
            Ok(answer) => serde_json::from_str(&answer)
                .unwrap_or_else(|_| serde_json::json!({"interface": name, "state": "UNKNOWN"})),
            Err(e) if control::no_daemon(&e) => {
                missing = true;
                serde_json::json!({"interface": name, "state": "NOT RUNNING"})
            }
            Err(e) => {
                missing = true;
                serde_json::json!({"interface": name, "state": "UNKNOWN", "error": e.to_string()})
            }
        };
        all.push(v);
    }
    if cli.json {
        println!("{}", serde_json::Value::Array(all));
    } else if all.is_empty() {
        println!("no dhcpc daemon is running");
    } else {
        for v in &all {
            println!("{}", human_status(v));
        }
    }
    if missing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn human_status(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    let mut out = format!("{}: {}", s("interface"), s("state"));
    if v.get("address").is_some() {
        out.push_str(&format!(
            " {}/{} from {}",
            s("address"),
            v["prefix_len"],
            s("server")
        ));
        let when = |k: &str| match v[k].as_u64() {
            Some(secs) => dhcpc::lease::human_secs(secs.min(u64::from(u32::MAX - 1)) as u32),
            None => "never".to_string(),
        };
        out.push_str(&format!(
            "\n  renew in {}, rebind in {}, expires in {}",
            when("renew_in"),
            when("rebind_in"),
            when("expires_in")
        ));
    }
    out
}

/// `-x` and `-n`, and `-r` with a daemon: one request per interface, and a line on stdout
/// for each saying what was done.
fn control_request(settings: &Settings, request: &str) -> ExitCode {
    let cli = &settings.cli;
    let mut code = ExitCode::SUCCESS;
    for name in &cli.interfaces {
        // What the daemon holds beforehand, to say what the request did to it.
        let before = control::request(&cli.run_dir, name, "status")
            .ok()
            .and_then(|answer| serde_json::from_str::<serde_json::Value>(&answer).ok());
        match control::request(&cli.run_dir, name, request) {
            Ok(answer) if answer.starts_with("ok") => {
                println!("{}", what_was_done(name, request, before.as_ref()));
            }
            Ok(answer) => {
                eprintln!("dhcpc: {name}: {answer}");
                code = ExitCode::from(3);
            }
            Err(e) if control::no_daemon(&e) && request == "release" => {
                if let Err(c) = release_offline(settings, name) {
                    code = c;
                }
            }
            Err(e) if control::no_daemon(&e) => {
                eprintln!("dhcpc: {name}: no dhcpc daemon runs for this interface");
                code = ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("dhcpc: {name}: control socket: {e}");
                code = ExitCode::from(3);
            }
        }
    }
    code
}

/// `eth0: released 198.51.100.23`, `eth0: asked the daemon to renew 198.51.100.23`, ...: what
/// `request` did to a daemon whose status was `before`.
fn what_was_done(name: &str, request: &str, before: Option<&serde_json::Value>) -> String {
    let address = before.and_then(|v| v["address"].as_str());
    let state = before
        .and_then(|v| v["state"].as_str())
        .unwrap_or("UNKNOWN");
    match (request, address) {
        ("renew", Some(a)) => format!("{name}: asked the daemon to renew {a}"),
        ("renew", None) => {
            format!("{name}: asked the daemon to renew; it holds no lease yet ({state})")
        }
        ("release", Some(a)) => format!("{name}: released {a}; the daemon has stopped"),
        ("release", None) => {
            format!("{name}: the daemon held no lease to release ({state}); it has stopped")
        }
        (_, Some(a)) => format!("{name}: stopped the daemon; {a} stays configured"),
        (_, None) => format!("{name}: stopped the daemon ({state}, no lease)"),
    }
}

/// `dhcpc -r IFACE` with no daemon: release from the saved lease.
fn release_offline(settings: &Settings, name: &str) -> Result<(), ExitCode> {
    let cli = &settings.cli;
    let rt = runtime()?;
    let opts = iface_options(settings.interface(name), name);
    rt.block_on(async {
        let net = Netlink::connect().map_err(|e| fail(&RunError::Io("rtnetlink".into(), e)))?;
        let files = files(cli, &[name.to_string()]).await?;
        let driver = Driver::for_release(opts, net, files)
            .await
            .map_err(|e| fail(&e))?;
        match in_iface(name, driver.release_saved()).await {
            Ok(Some(lease)) => {
                println!("{name}: released {}", lease.address);
                Ok(())
            }
            Ok(None) => {
                eprintln!(
                    "dhcpc: {name}: nothing to release: no daemon runs for it and {} holds no \
                     unexpired lease",
                    settings.interface(name).lease_dir.display()
                );
                Err(ExitCode::from(1))
            }
            Err(e) => Err(fail(&e)),
        }
    })
}

/// Refuses to start (status 1, one line per interface) when a live dhcpc of the same run
/// directory serves any of the named interfaces; a socket left by a killed daemon is none.
fn refuse_served(cli: &Cli) -> Result<(), ExitCode> {
    let served: Vec<_> = cli
        .interfaces
        .iter()
        .filter_map(|name| control::served_by(&cli.run_dir, name).map(|s| (name, s)))
        .collect();
    if served.is_empty() {
        return Ok(());
    }
    for (name, s) in &served {
        eprintln!("dhcpc: {}", already_served(cli, name, Some(s)));
    }
    let others: Vec<&str> = cli
        .interfaces
        .iter()
        .filter(|n| !served.iter().any(|(s, _)| s == n))
        .map(String::as_str)
        .collect();
    if !others.is_empty() {
        eprintln!(
            "dhcpc: {} not started either: name only the interfaces no dhcpc serves",
            others.join(", ")
        );
    }
    Err(ExitCode::from(1))
}

/// `eth0 is already served by dhcpc (pid 812, /run/dhcpc/eth0.sock); use ...`: why a start
/// for `name` is refused, and what to run instead.
fn already_served(cli: &Cli, name: &str, served: Option<&control::Served>) -> String {
    let socket = control::socket_path(&cli.run_dir, name);
    let pid = served
        .and_then(|s| s.pid)
        .map_or(String::new(), |p| format!("pid {p}, "));
    // The commands must reach the same daemon: its run directory, when not the default.
    let run_dir = if cli.run_dir == Path::new(dhcpc::cli::DEFAULT_RUN_DIR) {
        String::new()
    } else {
        format!("--run-dir {} ", cli.run_dir.display())
    };
    format!(
        "{name} is already served by dhcpc ({pid}{}); use `dhcpc {run_dir}-n {name}` to renew, \
         `dhcpc {run_dir}-x {name}` to stop it",
        socket.display()
    )
}

/// `--pid-file PATH` (dhclient's -pf): the daemon's pid, as ifupdown and cloud-init read it.
fn write_pid_file(path: &Path) {
    let written = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, format!("{}\n", std::process::id())));
    if let Err(e) = written {
        warn!("writing {}: {e}", path.display());
    }
}

fn write_pid(run_dir: &Path, iface: &str) {
    let path = control::pid_path(run_dir, iface);
    if let Err(e) = std::fs::write(&path, format!("{}\n", std::process::id())) {
        warn!("writing {}: {e}", path.display());
    }
}

/// Runs the named interfaces in this process: oneshot, foreground or (after `fork`) as the
/// background daemon.
async fn serve(settings: Settings, names: Vec<String>, mut notifier: Option<Notifier>) -> ExitCode {
    let cli = &settings.cli;
    raise_nofile();
    let net = match Netlink::connect() {
        Ok(n) => n,
        Err(e) => return fail(&RunError::Io("opening rtnetlink".into(), e)),
    };
    // Before any interface runs, so that no error path leaves files half written.
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => return fail(&RunError::Io("watching SIGTERM".into(), e)),
    };
    let daemon = !cli.oneshot;
    if daemon {
        if let Err(e) = std::fs::create_dir_all(&cli.run_dir) {
            return fail(&RunError::Io(
                format!("creating {}", cli.run_dir.display()),
                e,
            ));
        }
    }
    let files = match files(cli, &names).await {
        Ok(f) => f,
        Err(code) => return code,
    };
    let monitor = match LinkMonitor::start() {
        Ok(m) => m,
        Err(e) => return fail(&RunError::Io("subscribing to link events".into(), e)),
    };
    // The process's own descriptors (timer, control socket) before the interfaces': at the
    // limit of open files, it is interfaces that cannot start, each said.
    if let Err(e) = dhcpc::shell::clock::start() {
        return fail(&RunError::Io("creating the timer".into(), e));
    }
    let mut control = None;
    if daemon {
        match control::Control::start(&cli.run_dir) {
            Ok(c) => control = Some(c),
            Err(e) => return fail(&RunError::Io("binding the control socket".into(), e)),
        }
    }
    // Every interface is looked up and opened at once (their netlink requests share one
    // socket), so that a hundred interfaces start together rather than one after another.
    let drivers = futures::future::join_all(all_iface_options(&settings, &names).into_iter().map(
        |opts| {
            let name = opts.name.clone();
            in_iface(
                &name,
                Driver::new(opts, net.clone(), files.clone(), &monitor),
            )
        },
    ))
    .await;
    let mut tasks = Vec::new();
    let mut senders = Vec::new();
    let mut readies = Vec::new();
    let settled = std::sync::Arc::new(tokio::sync::Notify::new());
    let manager = systemd::Status::new(&names);
    // An interface that could not start for want of descriptors is named (each one, with the
    // limit) and the others go on; any other error stops the whole start, as before.
    let mut started = Vec::new();
    let mut not_started = Vec::new();
    for (name, driver) in names.iter().zip(drivers) {
        match driver {
            Ok(d) => started.push((name.clone(), d)),
            Err(e) if out_of_descriptors(&e) => {
                let why = format!(
                    "{e}: {name} is not run: the process is at its limit of open files ({}); \
                     raise it (ulimit -n, LimitNOFILE=)",
                    nofile_limit()
                );
                error!("{why}");
                not_started.push(why);
            }
            Err(e) => return fail(&e),
        }
    }
    if started.is_empty() && !not_started.is_empty() {
        return ExitCode::from(3);
    }
    for (name, mut driver) in started {
        let name = &name;
        let (tx, rx) = cmdq::channel();
        if let Some(control) = &control {
            if let Err(e) = control.serve(name, tx.clone()) {
                // Names taken so far are this process's, and go with it.
                for n in &names {
                    control::cleanup(&cli.run_dir, n);
                }
                if e.kind() != std::io::ErrorKind::AddrInUse {
                    return fail(&RunError::Io(format!("{name}: control socket"), e));
                }
                // Another daemon started for it at the same moment, and was first.
                let served = control::served_by(&cli.run_dir, name);
                eprintln!("dhcpc: {}", already_served(cli, name, served.as_ref()));
                if let Some(n) = notifier.take() {
                    n.detach(1);
                }
                return ExitCode::from(1);
            }
            write_pid(&cli.run_dir, name);
            let (ready_tx, ready_rx) = oneshot::channel();
            driver.notify_ready(ready_tx);
            driver.notify_changes(settled.clone());
            readies.push((name.clone(), ready_rx));
        }
        driver.notify_status(manager.clone());
        senders.push(tx);
        tasks.push((
            name.clone(),
            tokio::spawn(in_iface(name, Box::new(driver).run(rx))),
        ));
    }
    if let Some(c) = control.as_mut() {
        c.seal();
    }
    if daemon {
        if let Some(path) = &cli.pid_file {
            write_pid_file(path);
        }
        // --background (dhclient's -nw): the parent goes now, not once bound.
        if cli.background {
            if let Some(n) = notifier.take() {
                n.detach(0);
            }
        }
    }

    // A stop waits 5 s for the interfaces, and the script's timeout more for its last runs.
    let scripts = names.iter().map(|n| settings.interface(n));
    let script_limit = scripts
        .filter(|c| c.script.is_some())
        .map(|c| c.script_timeout)
        .max();
    let stop_limit = Duration::from_secs(5 + script_limit.unwrap_or(0));
    // Signals are honoured at once, in every state: while the leases are still being
    // acquired as much as once they are bound.
    let shutdown = async {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "interrupted",
        }
    };
    let all = async {
        let mut code = ExitCode::SUCCESS;
        for (name, task) in tasks.iter_mut() {
            match task.await {
                Ok(Ok(Ended::Bound(lease))) => println!("{name}: {lease}"),
                Ok(Ok(_)) => {}
                // Once detached, stderr is gone: the log (syslog) carries the error.
                Ok(Err(e)) if daemon => {
                    error!("{e}");
                    code = ExitCode::from(status_of(&e));
                }
                Ok(Err(e)) => code = fail(&e),
                Err(e) => {
                    error!("{name}: {e}");
                    code = ExitCode::from(3);
                }
            }
        }
        code
    };
    let work = async {
        // Daemon: wait until every interface is bound or has given up waiting, then say so
        // (to systemd, and to the parent waiting to exit) and detach.
        if daemon {
            let mut status = if not_started.is_empty() { 0u8 } else { 3 };
            let mut missing = not_started;
            for (name, ready) in readies {
                match ready.await {
                    Ok(Ok(lease)) => println!("{name}: {lease}"),
                    // The interface's driver has said why (once, as a warning).
                    Ok(Err(e)) => {
                        status = status.max(status_of(&e));
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
            manager.ready((!missing.is_empty()).then_some(missing.as_str()));
            if let Some(n) = notifier {
                n.detach(status);
            }
            if cli.exit_on_timeout && !missing.is_empty() {
                stop_all(&senders, false, "no lease within the timeout", stop_limit).await;
                return ExitCode::from(status.max(1));
            }
            trim::shrink();
            tokio::spawn(shrink_when_settled(settled));
        }
        all.await
    };
    let code = tokio::select! {
        code = work => {
            manager.stopping();
            code
        }
        why = shutdown => {
            manager.stopping();
            stop_all(&senders, cli.release_on_exit, why, stop_limit).await;
            ExitCode::SUCCESS
        }
    };
    files.flush().await;
    if daemon {
        for name in &names {
            control::cleanup(&cli.run_dir, name);
        }
        if let Some(path) = &cli.pid_file {
            let _ = std::fs::remove_file(path);
        }
    }
    code
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
async fn shrink_when_settled(settled: std::sync::Arc<tokio::sync::Notify>) {
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

/// Stops every interface (releasing first if asked) and waits for them, for at most `limit`.
async fn stop_all(senders: &[cmdq::Sender<Command>], release: bool, why: &str, limit: Duration) {
    info!(
        "{why}: stopping{}",
        if release {
            " and releasing"
        } else {
            "; the leases stay configured"
        }
    );
    for tx in senders {
        let _ = tx
            .send(if release {
                Command::Release
            } else {
                Command::Stop
            })
            .await;
    }
    let deadline = tokio::time::Instant::now() + limit;
    for tx in senders {
        let _ = tokio::time::timeout_at(deadline, tx.closed()).await;
    }
}

/// dhclient's command line (dhclient(8)) as dhcpc's: the arguments to parse, or the status
/// to exit with at once (`--version`, a flag dhcpc cannot honour).
fn dhclient_args(argv: Vec<std::ffi::OsString>) -> Result<Vec<std::ffi::OsString>, ExitCode> {
    use dhcpc::dhclient::cli::{translate, Outcome};
    let read = |p: &Path| -> Result<Option<String>, String> {
        match std::fs::read(p) {
            Ok(b) if b.len() > 1 << 20 => Err(format!("{}: larger than 1 MiB", p.display())),
            Ok(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| format!("{}: not text", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    };
    let hostname = || {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
    };
    match translate(&argv, &read, &hostname) {
        Ok(Outcome::Version) => {
            println!(
                "dhcpc {} (taking dhclient's command line)",
                env!("CARGO_PKG_VERSION")
            );
            Err(ExitCode::SUCCESS)
        }
        Ok(Outcome::Run(t)) => {
            for w in &t.warnings {
                eprintln!("dhcpc: warning: {w}");
            }
            let status = if t.once { 2 } else { 0 };
            NO_LEASE_STATUS.store(status, std::sync::atomic::Ordering::Relaxed);
            Ok(t.args)
        }
        Err(e) => {
            eprintln!("dhcpc: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    trim::one_arena();
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if dhcpc::dhclient::cli::is_dhclient(&argv) {
        argv = match dhclient_args(argv) {
            Ok(a) => a,
            Err(code) => return code,
        };
    }
    // The command line over the configuration file (dhcpc.conf(5)); a bad file stops every
    // mode with status 2, as a bad command line does.
    let settings = match Settings::from_args(argv) {
        Ok(s) => s,
        Err(SettingsError::Cli(e)) => e.exit(),
        Err(SettingsError::Config(e)) => {
            for line in e.to_string().lines() {
                eprintln!("dhcpc: {line}");
            }
            return ExitCode::from(2);
        }
    };
    let cli = &settings.cli;
    if cli.check_config {
        let path = settings.config.path().display();
        if settings.config.found() {
            println!("dhcpc: {path}: ok");
        } else {
            println!("dhcpc: {path}: ok (no such file: the defaults apply)");
        }
        return ExitCode::SUCCESS;
    }
    init_logging(cli);
    if cli.status {
        return status(cli);
    }
    if cli.release {
        return control_request(&settings, "release");
    }
    if cli.stop {
        return control_request(&settings, "stop");
    }
    if cli.renew {
        return control_request(&settings, "renew");
    }

    // An interface a live daemon serves is not started again: two clients would fight over
    // its address. Nothing is started then, not even the other interfaces named with it.
    if let Err(code) = refuse_served(cli) {
        return code;
    }
    let names = cli.interfaces.clone();

    let notifier = if !cli.oneshot && !cli.foreground {
        match daemon::fork_and_wait() {
            Ok(n) => Some(n),
            Err(e) => return fail(&RunError::Io("going to the background".into(), e)),
        }
    } else {
        None
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(serve(settings, names, notifier))
}
