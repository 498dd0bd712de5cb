//! The control socket: how `dhcpc -r/-x/-n/--status` talk to the daemon that runs an
//! interface, and how a second `dhcpc IFACE` finds that one runs it already (and is refused).
//! Each interface has its name, `RUN_DIR/IFACE.sock`, mode 0600, and only root (or the
//! daemon's own user) is served. One request line, one answer.
//!
//! One daemon listens on one socket for all its interfaces: it binds a private name, gives
//! the socket each interface's name as a hard link to the same inode (a Unix socket is
//! reached through any of its names), then drops the private name. A thousand interfaces
//! cost one descriptor. Since every name reaches the same socket, the request line names the
//! interface: `status eth0`.

use crate::shell::cmdq;
use crate::shell::command::Command;
use crate::text::Quoted;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::UnixListener;
use tokio::sync::oneshot;
use tracing::{debug, warn};

/// The answer to a client that is neither root nor the daemon's user.
const NOT_PERMITTED: &str = "error not permitted";

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
    stream.write_all(format!("{line} {iface}\n").as_bytes())?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    if answer.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the daemon closed the connection without answering",
        ));
    }
    if answer.starts_with(NOT_PERMITTED) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the daemon serves root and its own user only",
        ));
    }
    Ok(answer.trim_end().to_string())
}

/// A live daemon serving an interface, as [`served_by`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The daemon's process id (the process that listens on the socket), when known.
    pub pid: Option<u32>,
    pub socket: PathBuf,
}

/// The live daemon that serves `iface` in `run_dir`, if one does: its control socket takes a
/// connection and the daemon does not answer that it no longer serves the interface. A
/// socket nobody listens on (left by a daemon that was killed) is no daemon; so is one this
/// process cannot reach at all (another user's: whatever it is, the start meets it later).
pub fn served_by(run_dir: &Path, iface: &str) -> Option<Served> {
    let socket = socket_path(run_dir, iface);
    let mut stream = StdUnixStream::connect(&socket).ok()?;
    // The process that listens, which is the daemon (it binds its socket after going to the
    // background); its pid file otherwise.
    let pid = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
        .ok()
        .and_then(|c| u32::try_from(c.pid()).ok())
        .filter(|&p| p != 0)
        .or_else(|| {
            std::fs::read_to_string(pid_path(run_dir, iface))
                .ok()
                .and_then(|p| p.trim().parse().ok())
        });
    // Asked whether it still serves the interface (it may be stopping it). A daemon that
    // listens but does not answer is still a daemon.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    if stream
        .write_all(format!("status {iface}\n").as_bytes())
        .is_ok()
    {
        let _ = BufReader::new(stream).read_line(&mut answer);
    }
    if answer.starts_with("error no interface") {
        return None;
    }
    Some(Served { pid, socket })
}

/// True when the error means "no daemon is listening there".
pub fn no_daemon(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// Each served interface's driver, by name.
type Routes = Arc<Mutex<HashMap<String, cmdq::Sender<Command>>>>;

/// The daemon's one control socket.
pub struct Control {
    run_dir: PathBuf,
    /// The private name the socket was bound to, until [`Control::seal`].
    private: Option<PathBuf>,
    routes: Routes,
}

impl Control {
    /// Binds the daemon's control socket (under a private name in `run_dir`) and serves it.
    /// Must be called inside the tokio runtime.
    pub fn start(run_dir: &Path) -> io::Result<Control> {
        let private = run_dir.join(format!(".dhcpc-{}.ctl", std::process::id()));
        // Left by an earlier process of the same pid (killed): nobody can be using it.
        let _ = std::fs::remove_file(&private);
        let listener = UnixListener::bind(&private)?;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600))?;
        let routes = Routes::default();
        listen(listener, routes.clone());
        Ok(Control {
            run_dir: run_dir.to_path_buf(),
            private: Some(private),
            routes,
        })
    }

    /// Gives the socket the name of `iface` (replacing a stale one left by a killed daemon)
    /// and serves its requests until the driver behind `commands` is gone; then the name and
    /// the pid file go (if still this process's).
    pub fn serve(&self, iface: &str, commands: cmdq::Sender<Command>) -> io::Result<()> {
        let path = socket_path(&self.run_dir, iface);
        let pid = pid_path(&self.run_dir, iface);
        let taken = || {
            io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another dhcpc already serves {iface} ({})", path.display()),
            )
        };
        // Two daemons started together for one interface: the run directory's lock makes
        // the test for a live daemon, the removal of a stale name and the new name one step,
        // so that one of them has the name and the other is refused.
        let _lock = lock_dir(&self.run_dir);
        match StdUnixStream::connect(&path) {
            Ok(_) => return Err(taken()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Err(_) => {}
        }
        let linked = match &self.private {
            Some(private) => std::fs::hard_link(private, &path),
            None => Err(io::Error::other("the control socket is sealed")),
        };
        match &linked {
            // The name is someone else's, and not a stale socket: a daemon's, or one this
            // process may not remove.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(taken()),
            _ => {}
        }
        if let Err(e) = linked {
            // A file system without hard links: this interface gets a socket of its own.
            debug!(
                "linking {}: {e}; binding a socket of its own",
                path.display()
            );
            let listener = UnixListener::bind(&path)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            listen(listener, self.routes.clone());
        }
        lock(&self.routes).insert(iface.to_string(), commands.clone());
        let routes = self.routes.clone();
        let name = iface.to_string();
        // Once the driver has gone, its name goes too (no task waits for that).
        commands.on_close(move || {
            lock(&routes).remove(&name);
            remove_own(&path, &pid);
        });
        Ok(())
    }

    /// Drops the private name once every interface has its own: what remains of the socket
    /// is reached through the interfaces' names only.
    pub fn seal(&mut self) {
        if let Some(private) = self.private.take() {
            let _ = std::fs::remove_file(private);
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.seal();
    }
}

/// An exclusive lock on the run directory, held while an interface's name is taken; None
/// (and no lock) where the directory cannot be locked.
fn lock_dir(run_dir: &Path) -> Option<nix::fcntl::Flock<std::fs::File>> {
    let dir = std::fs::File::open(run_dir).ok()?;
    nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockExclusive).ok()
}

fn lock(routes: &Routes) -> std::sync::MutexGuard<'_, HashMap<String, cmdq::Sender<Command>>> {
    routes.lock().unwrap_or_else(|p| p.into_inner())
}

/// Accepts clients on `listener` for as long as the process runs; each is served in a task
/// of its own, so that one that never writes holds up no one else.
fn listen(listener: UnixListener, routes: Routes) {
    let my_uid = nix::unistd::geteuid().as_raw();
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, typically: said, and tried again shortly.
                    warn!("control socket: accepting: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == 0 || cred.uid() == my_uid => {}
                _ => {
                    warn!("control socket: refused a client that is not root");
                    // Told so, rather than left to guess from a closed connection (which
                    // stays open until the client has written its request and gone).
                    tokio::spawn(async move {
                        let (read, mut write) = stream.into_split();
                        let line = format!("{NOT_PERMITTED}\n");
                        let _ = write.write_all(line.as_bytes()).await;
                        let (mut rest, mut read) = (Vec::new(), read.take(256));
                        let drain = read.read_to_end(&mut rest);
                        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
                    });
                    continue;
                }
            }
            let routes = routes.clone();
            tokio::spawn(async move {
                if let Err(e) = answer(stream, routes).await {
                    debug!("control socket: {e}");
                }
            });
        }
    });
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

async fn answer(stream: tokio::net::UnixStream, routes: Routes) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut bytes = Vec::new();
    let mut reader = TokioBufReader::new(read.take(256));
    // A client that connects and never writes is not waited for past a few seconds.
    tokio::time::timeout(Duration::from_secs(5), reader.read_until(b'\n', &mut bytes))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request within 5 s"))??;
    // Bytes that are not text are an unknown request like any other, and answered so.
    let line = String::from_utf8_lossy(&bytes);
    const REQUESTS: [&str; 4] = ["status", "renew", "release", "stop"];
    let reply = match line.trim().split_once(' ') {
        Some((request, iface)) if REQUESTS.contains(&request) => {
            let commands = lock(&routes).get(iface).cloned();
            match commands {
                Some(commands) => perform(request, commands).await?,
                None => format!("error no interface {} here", Quoted(iface)),
            }
        }
        _ => format!("error unknown request {}", Quoted(line.trim())),
    };
    write.write_all(format!("{reply}\n").as_bytes()).await?;
    write.shutdown().await
}

/// Carries out one request for one interface's driver; the answer line.
async fn perform(request: &str, commands: cmdq::Sender<Command>) -> io::Result<String> {
    let gone = |_| io::Error::other("interface stopped");
    Ok(match request {
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
    })
}
