//! The scripted server, and what the tests build its answers from.

use super::common::*;
use dhcpc::wire::{self, v4};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use v4::{DhcpOption, Message, MessageType, Opcode};

pub const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const GOOD: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 66);

/// What the fake server saw: the message type of every request, in order.
pub type Seen = Arc<Mutex<Vec<MessageType>>>;

/// Decides the answers (raw DHCP payloads) to one client message.
pub type Script = Box<dyn FnMut(&Message) -> Vec<Vec<u8>> + Send>;

pub struct FakeServer {
    stop: Arc<AtomicBool>,
    seen: Seen,
    /// Datagrams sent, answers and flood alike.
    pub sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(lab: &Lab, script: Script) -> FakeServer {
        FakeServer::launch(lab, None, script)
    }

    /// Like [`FakeServer::start`], and the last answers are sent again every `every` until the
    /// next request comes: a flood of whatever the script answers.
    pub fn flooding(lab: &Lab, every: Duration, script: Script) -> FakeServer {
        FakeServer::launch(lab, Some(every), script)
    }

    fn launch(lab: &Lab, flood: Option<Duration>, mut script: Script) -> FakeServer {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Seen = Arc::default();
        let sent = Arc::new(AtomicUsize::new(0));
        let sent2 = sent.clone();
        let ns = std::fs::File::open(format!("/run/netns/{}", lab.server_ns))
            .expect("the server namespace");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            // This thread, and only it, moves into the lab's server namespace.
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("entering the server namespace");
            let sock = UdpSocket::bind("0.0.0.0:67").expect("binding port 67 in the lab");
            nix::sys::socket::setsockopt(
                &sock,
                nix::sys::socket::sockopt::BindToDevice,
                &std::ffi::OsString::from(SERVER_IF),
            )
            .expect("SO_BINDTODEVICE");
            sock.set_broadcast(true).unwrap();
            let tick = flood.map_or(Duration::from_millis(50), |f| {
                f.min(Duration::from_millis(50))
            });
            sock.set_read_timeout(Some(tick)).unwrap();
            ready_tx.send(()).unwrap();
            let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, 68);
            let mut buf = [0u8; 1500];
            let mut last: Vec<Vec<u8>> = Vec::new();
            let mut sent_at = std::time::Instant::now();
            while !stop2.load(Ordering::Relaxed) {
                if let Ok((n, _)) = sock.recv_from(&mut buf) {
                    if let Ok(msg) = wire::decode(&buf[..n]) {
                        if let Some(t) = msg.opts().msg_type() {
                            seen2.lock().unwrap().push(t);
                        }
                        last = script(&msg);
                        for reply in &last {
                            sock.send_to(reply, to).expect("sending a reply");
                        }
                        sent2.fetch_add(last.len(), Ordering::Relaxed);
                        sent_at = std::time::Instant::now();
                    }
                }
                if flood.is_some_and(|every| sent_at.elapsed() >= every) {
                    for reply in &last {
                        // A full queue (ENOBUFS) only thins the flood.
                        if sock.send_to(reply, to).is_ok() {
                            sent2.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    sent_at = std::time::Instant::now();
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the fake server did not start");
        FakeServer {
            stop,
            seen,
            sent,
            thread: Some(thread),
        }
    }

    pub fn seen(&self) -> Vec<MessageType> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, t: MessageType) -> usize {
        self.seen().iter().filter(|s| **s == t).count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A reply to `req` of type `kind` offering `yiaddr`, from `server`, with a `lease`-second
/// lease (T1 = lease / 3).
pub fn reply(
    req: &Message,
    kind: MessageType,
    yiaddr: Ipv4Addr,
    server: Ipv4Addr,
    lease: u32,
) -> Message {
    let mut m = Message::default();
    m.set_opcode(Opcode::BootReply)
        .set_xid(req.xid())
        .set_yiaddr(yiaddr)
        .set_chaddr(req.chaddr());
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(kind));
    o.insert(DhcpOption::ServerIdentifier(server));
    if kind != MessageType::Nak {
        o.insert(DhcpOption::AddressLeaseTime(lease));
        o.insert(DhcpOption::Renewal(lease / 3));
        o.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
        o.insert(DhcpOption::Router(vec![SERVER]));
    }
    m
}

/// `dhcpc <lab dirs> ARGS vc` run to its end in the lab; fails the test on a panic.
pub fn oneshot(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = lab.dhcpc_dir_args();
    all.extend(args.iter().map(|a| a.to_string()));
    all.push(CLIENT_IF.to_string());
    let out = lab.run_dhcpc(&all);
    assert_no_panic(&out);
    out
}

/// `dhcpc <lab dirs> ARGS vc` started in the background, its stderr in the returned log file.
/// The caller kills it.
pub fn start_daemon(lab: &Lab, args: &[&str]) -> (std::process::Child, std::path::PathBuf) {
    let log = lab.dir.join("dhcpc.log");
    let child = lab
        .client_command(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(args)
        .arg(CLIENT_IF)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (child, log)
}

pub fn bytes(m: &Message) -> Vec<u8> {
    wire::encode(m).unwrap()
}

/// `m` encoded, with `extra` raw option bytes put in front of its END option.
pub fn bytes_with(m: &Message, extra: &[u8]) -> Vec<u8> {
    let mut b = bytes(m);
    let mut i = 240;
    while b[i] != 255 {
        i += if b[i] == 0 {
            1
        } else {
            2 + usize::from(b[i + 1])
        };
    }
    b.splice(i..i, extra.iter().copied());
    b
}

/// A server that offers and ACKs GOOD for `lease` seconds; `extra` raw options ride along.
pub fn plain_server(lab: &Lab, lease: u32, extra: &'static [u8]) -> FakeServer {
    FakeServer::start(
        lab,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            vec![bytes_with(&reply(req, kind, GOOD, SERVER, lease), extra)]
        }),
    )
}

/// The routes of protocol dhcp in the client namespace.
pub fn dhcp_routes(lab: &Lab) -> Vec<RouteInfo> {
    lab.client_routes()
        .into_iter()
        .filter(|r| matches!(r.protocol.as_deref(), Some("dhcp" | "16")))
        .collect()
}

/// Option bytes: `code`, the length of `data`, `data`.
pub fn opt(code: u8, data: &[u8]) -> Vec<u8> {
    [&[code, data.len() as u8][..], data].concat()
}
