//! The control socket: how `dhcpc -r/-x/-n/--status` (and a second `dhcpc IFACE`) talk to the
//! daemon that runs an interface. One Unix stream socket per interface, `RUN_DIR/IFACE.sock`,
//! mode 0600 and only root (or the daemon's own user) is served. One request line, one answer.

use crate::shell::run::Command;
use crate::text::Quoted;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

pub fn socket_path(run_dir: &Path, iface: &str) -> PathBuf {
    run_dir.join(format!("{iface}.sock"))
}

pub fn pid_path(run_dir: &Path, iface: &str) -> PathBuf {
    run_dir.join(format!("{iface}.pid"))
}

/// Sends one request to the daemon serving `iface` and returns its answer. Err(NotFound or
/// ConnectionRefused) when no daemon runs for it.
pub fn request(run_dir: &Path, iface: &str, line: &str) -> io::Result<String> {
    let mut stream = StdUnixStream::connect(socket_path(run_dir, iface))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(format!("{line}\n").as_bytes())?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    if answer.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the daemon closed the connection without answering",
        ));
    }
    Ok(answer.trim_end().to_string())
}

/// True when the error means "no daemon is listening there".
pub fn no_daemon(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// Binds the control socket of `iface` (replacing a stale one left by a killed daemon) and
/// serves it until the driver behind `commands` is gone.
pub fn serve(run_dir: &Path, iface: &str, commands: mpsc::Sender<Command>) -> io::Result<()> {
    let path = socket_path(run_dir, iface);
    let pid = pid_path(run_dir, iface);
    match StdUnixStream::connect(&path) {
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another dhcpc already serves {iface} ({})", path.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(&path)?;
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let my_uid = nix::unistd::geteuid().as_raw();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = commands.closed() => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == 0 || cred.uid() == my_uid => {}
                _ => {
                    warn!("control socket: refused a client that is not root");
                    continue;
                }
            }
            let commands = commands.clone();
            tokio::spawn(async move {
                if let Err(e) = answer(stream, commands).await {
                    debug!("control socket: {e}");
                }
            });
        }
        remove_own(&path, &pid);
    });
    Ok(())
}

/// Removes an interface's control socket and pid file when the pid file is this process's:
/// a daemon started for the interface since (`dhcpc -r eth0; dhcpc eth0`) keeps its own.
fn remove_own(socket: &Path, pid: &Path) {
    let mine =
        std::fs::read_to_string(pid).is_ok_and(|p| p.trim() == std::process::id().to_string());
    if mine {
        let _ = std::fs::remove_file(socket);
        let _ = std::fs::remove_file(pid);
    }
}

/// [`remove_own`] for `iface` in `run_dir`, at the daemon's exit.
pub fn cleanup(run_dir: &Path, iface: &str) {
    remove_own(&socket_path(run_dir, iface), &pid_path(run_dir, iface));
}

async fn answer(stream: tokio::net::UnixStream, commands: mpsc::Sender<Command>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut bytes = Vec::new();
    let mut reader = TokioBufReader::new(read.take(256));
    // A client that connects and never writes is not waited for past a few seconds.
    tokio::time::timeout(Duration::from_secs(5), reader.read_until(b'\n', &mut bytes))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request within 5 s"))??;
    // Bytes that are not text are an unknown request like any other, and answered so.
    let line = String::from_utf8_lossy(&bytes);
    let gone = |_| io::Error::other("interface stopped");
    let reply = match line.trim() {
        "status" => {
            let (tx, rx) = oneshot::channel();
            commands.send(Command::Status(tx)).await.map_err(gone)?;
            rx.await
                .map_err(|_| io::Error::other("no status"))?
                .to_string()
        }
        "renew" => {
            commands.send(Command::Renew).await.map_err(gone)?;
            "ok renewing".to_string()
        }
        cmd @ ("release" | "stop") => {
            let c = if cmd == "release" {
                Command::Release
            } else {
                Command::Stop
            };
            commands.send(c).await.map_err(gone)?;
            // Answer when the interface's driver has finished (address gone, for release).
            let _ = tokio::time::timeout(Duration::from_secs(10), commands.closed()).await;
            format!("ok {cmd}")
        }
        other => format!("error unknown request {}", Quoted(other)),
    };
    write.write_all(format!("{reply}\n").as_bytes()).await?;
    write.shutdown().await
}
