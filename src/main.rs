use clap::Parser;
use dhcpc::cli::Cli;
use dhcpc::shell::netlink::Netlink;
use dhcpc::shell::run::{Driver, IfaceOptions, RunError};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use tracing::{info, Instrument};

fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DHCPC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("dhcpc={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .init();
}

async fn run(cli: Cli) -> Result<(), RunError> {
    let net = Netlink::connect().map_err(|e| RunError::Io("opening rtnetlink".into(), e))?;
    let mut drivers = Vec::new();
    for name in &cli.interfaces {
        let opts = IfaceOptions {
            name: name.clone(),
            metric: cli.metric,
            resolv_conf: (!cli.no_resolv).then(|| cli.resolv_conf.clone()),
            broadcast_flag: cli.broadcast,
            hostname: cli.hostname.clone(),
            vendor_class: cli.vendor_class.clone(),
            oneshot: cli.oneshot,
            timeout: Duration::from_secs(cli.timeout),
        };
        let span = tracing::info_span!("if", name = %name);
        let driver = Driver::new(opts, net.clone()).instrument(span.clone()).await?;
        drivers.push((driver, span));
    }
    let tasks: Vec<_> = drivers
        .into_iter()
        .map(|(d, span)| {
            let name = d.name().to_string();
            (name, tokio::spawn(d.run().instrument(span)))
        })
        .collect();
    let mut first_err = None;
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(Some(lease))) => println!("{name}: {lease}"),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                eprintln!("dhcpc: {e}");
                first_err.get_or_insert(e);
            }
            Err(e) => {
                let e = RunError::Io(
                    format!("{name}: task failed"),
                    std::io::Error::other(e.to_string()),
                );
                eprintln!("dhcpc: {e}");
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dhcpc: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    rt.block_on(async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("dhcpc: cannot watch SIGTERM: {e}");
                    return ExitCode::from(3);
                }
            };
        tokio::select! {
            r = run(cli) => match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(e.exit_code() as u8),
            },
            _ = term.recv() => {
                info!("SIGTERM: stopping; the lease stays configured");
                ExitCode::SUCCESS
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted: stopping; the lease stays configured");
                ExitCode::SUCCESS
            }
        }
    })
}
