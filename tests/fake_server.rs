//! A scripted DHCP server, in Rust, for the faults real servers will not make: malformed
//! replies, wrong xids and chaddrs, non-unicast offers, answers from the wrong server, NAK
//! storms. It adds to the real servers of the other tests; it runs in the lab's server
//! namespace (a thread that enters it) and answers by UDP broadcast to port 68.

mod common;

use common::*;
use dhcpc::wire::{self, v4};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use v4::{DhcpOption, Message, MessageType, Opcode};

const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const GOOD: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 66);

/// What the fake server saw: the message type of every request, in order.
type Seen = Arc<Mutex<Vec<MessageType>>>;

/// Decides the answers (raw DHCP payloads) to one client message.
type Script = Box<dyn FnMut(&Message) -> Vec<Vec<u8>> + Send>;

struct FakeServer {
    stop: Arc<AtomicBool>,
    seen: Seen,
    /// Datagrams sent, answers and flood alike.
    sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(lab: &Lab, script: Script) -> FakeServer {
        FakeServer::launch(lab, None, script)
    }

    /// Like [`FakeServer::start`], and the last answers are sent again every `every` until the
    /// next request comes: a flood of whatever the script answers.
    fn flooding(lab: &Lab, every: Duration, script: Script) -> FakeServer {
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

    fn seen(&self) -> Vec<MessageType> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, t: MessageType) -> usize {
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
fn reply(
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
fn oneshot(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = lab.dhcpc_dir_args();
    all.extend(args.iter().map(|a| a.to_string()));
    all.push(CLIENT_IF.to_string());
    let out = lab.run_dhcpc(&all);
    assert_no_panic(&out);
    out
}

/// `dhcpc <lab dirs> ARGS vc` started in the background, its stderr in the returned log file.
/// The caller kills it.
fn start_daemon(lab: &Lab, args: &[&str]) -> (std::process::Child, std::path::PathBuf) {
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

fn bytes(m: &Message) -> Vec<u8> {
    wire::encode(m).unwrap()
}

/// Every kind of bad answer to `req`: none of them may crash the client, and none may put
/// anything but `GOOD` on the interface. (A truncation that cuts only trailing options leaves a
/// well-formed reply for `GOOD` with a `lease`-second lease, which may be taken.)
fn garbage(req: &Message, kind: MessageType, lease: u32) -> Vec<Vec<u8>> {
    let good = reply(req, kind, GOOD, SERVER, lease);
    let raw = bytes(&good);
    let mut out = Vec::new();
    // Truncated at several points, including inside the header.
    for n in [0, 1, 100, 239, 240, 241, raw.len() - 20] {
        out.push(raw[..n].to_vec());
    }
    // Bad magic cookie.
    let mut b = raw.clone();
    b[236] ^= 0xff;
    out.push(b);
    // An option running past the end: the last option's length made huge.
    let mut b = raw[..raw.iter().rposition(|&x| x == 255).unwrap()].to_vec();
    b.extend_from_slice(&[3, 200, 198, 51]);
    out.push(b);
    // Malformed known options (subnet mask of 3 bytes, message type of 0 bytes).
    let mut b = raw[..240].to_vec();
    b.extend_from_slice(&[
        53,
        1,
        kind.into(),
        54,
        4,
        198,
        51,
        100,
        1,
        1,
        3,
        255,
        255,
        255,
        255,
    ]);
    out.push(b);
    let mut b = raw[..240].to_vec();
    b.extend_from_slice(&[53, 0, 255]);
    out.push(b);
    // hlen over 16.
    let mut b = raw.clone();
    b[2] = 200;
    out.push(b);
    // Another xid, another chaddr, a BOOTREQUEST.
    let mut m = good.clone();
    m.set_xid(req.xid().wrapping_add(1));
    out.push(bytes(&m));
    let mut m = good.clone();
    m.set_chaddr(&[2, 9, 9, 9, 9, 9]);
    out.push(bytes(&m));
    let mut m = good.clone();
    m.set_opcode(Opcode::BootRequest);
    out.push(bytes(&m));
    // Addresses that must never reach the interface.
    for bad in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 251),
        Ipv4Addr::new(240, 1, 2, 3),
    ] {
        out.push(bytes(&reply(req, kind, bad, SERVER, 60)));
    }
    // Random bytes (deterministic).
    let mut rng = fastrand::Rng::with_seed(u64::from(req.xid()));
    for len in [10, 300, 576] {
        out.push((0..len).map(|_| rng.u8(..)).collect());
    }
    out
}

#[test]
fn malformed_and_misdirected_replies_are_dropped_and_the_good_one_taken() {
    let lab = Lab::new();
    let _server = FakeServer::start(
        &lab,
        Box::new(|req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            let mut out = garbage(req, kind, 3600);
            if kind == MessageType::Ack {
                // An ACK from a server that was not chosen.
                out.push(bytes(&reply(
                    req,
                    kind,
                    GOOD,
                    Ipv4Addr::new(198, 51, 100, 9),
                    60,
                )));
            }
            out.push(bytes(&reply(req, kind, GOOD, SERVER, 3600)));
            out
        }),
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{}", describe(&out));
    assert!(stderr(&out).contains("dropping"), "drops are logged at -v");
}

#[test]
fn garbage_while_renewing_does_not_lose_the_lease() {
    let lab = Lab::new();
    let renewals = Arc::new(Mutex::new(0u32));
    let r2 = renewals.clone();
    let server = FakeServer::start(
        &lab,
        Box::new(move |req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 6))]
            }
            Some(MessageType::Request) if req.ciaddr().is_unspecified() => {
                vec![bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6))]
            }
            // Renewals (ciaddr set): garbage, a NAK from the wrong server, an ACK of another
            // address from the wrong server, and only every other time a good ACK.
            Some(MessageType::Request) => {
                let mut n = r2.lock().unwrap();
                *n += 1;
                let mut out = garbage(req, MessageType::Ack, 6);
                out.push(bytes(&reply(
                    req,
                    MessageType::Nak,
                    GOOD,
                    Ipv4Addr::new(198, 51, 100, 9),
                    0,
                )));
                out.push(bytes(&reply(
                    req,
                    MessageType::Ack,
                    Ipv4Addr::new(198, 51, 100, 99),
                    Ipv4Addr::new(198, 51, 100, 9),
                    6,
                )));
                if *n % 2 == 0 {
                    out.push(bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6)));
                }
                out
            }
            _ => Vec::new(),
        }),
    );
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // A 6 s lease renewed at 2 s: four renewals, each answered with garbage (every other one
    // with a good ACK too), and nothing but GOOD on the interface all along.
    let mut held = true;
    wait_for(Duration::from_secs(20), || {
        let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
        if addrs.len() > 1 || addrs.iter().any(|a| *a != GOOD) {
            held = false;
        }
        *renewals.lock().unwrap() >= 4
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(held, "another address reached the interface\n{text}");
    assert!(
        *renewals.lock().unwrap() >= 2,
        "no renewals seen: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        watch.removed(),
        Vec::<String>::new(),
        "the lease was lost\n{text}"
    );
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{text}");
}

#[test]
fn a_nak_storm_is_met_with_backoff_not_a_flood() {
    let lab = Lab::new();
    let server = FakeServer::start(
        &lab,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 60))]
            }
            Some(MessageType::Request) => {
                vec![bytes(&reply(req, MessageType::Nak, GOOD, SERVER, 0))]
            }
            _ => Vec::new(),
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "8"]);
    assert_exit(&out, 1);
    // NAK pauses of 0, 4, 8 s: at most four rounds in 8 s, not hundreds.
    let discovers = server.count(MessageType::Discover);
    assert!(
        (2..=5).contains(&discovers),
        "{discovers} DISCOVERs in 8 s: {:?}",
        server.seen()
    );
    assert!(lab.client_addrs().is_empty());
}

/// `m` encoded, with `extra` raw option bytes put in front of its END option.
fn bytes_with(m: &Message, extra: &[u8]) -> Vec<u8> {
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
fn plain_server(lab: &Lab, lease: u32, extra: &'static [u8]) -> FakeServer {
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

#[test]
fn a_garbled_option_the_client_does_not_need_costs_nothing() {
    let lab = Lab::new();
    // An FQDN (81) whose name runs past its end and a host name (12) that is not UTF-8.
    let _server = plain_server(
        &lab,
        3600,
        &[81, 6, 0, 0, 0, 9, b'a', b'b', 12, 3, b'a', 0xff, b'b'],
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
    assert_eq!(addrs, vec![GOOD], "{}", describe(&out));
    assert!(
        stderr(&out).contains("option 12 from 198.51.100.1 left out"),
        "the bad option is named at -v\n{}",
        describe(&out)
    );
}

#[test]
fn a_nak_with_text_that_is_not_utf8_still_ends_the_lease() {
    let lab = Lab::new();
    let server = FakeServer::start(
        &lab,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 6))]
            }
            Some(MessageType::Request) if req.ciaddr().is_unspecified() => {
                vec![bytes(&reply(req, MessageType::Ack, GOOD, SERVER, 6))]
            }
            // The renewal: revoked, with a message that is not UTF-8.
            Some(MessageType::Request) => vec![bytes_with(
                &reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0),
                &[56, 5, b'g', b'o', 0xff, 0xfe, b'!'],
            )],
            _ => Vec::new(),
        }),
    );
    let watch = NetWatch::addresses(&lab, &lab.client_ns);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // Renewal at T1 = 2 s, NAKed: the address goes and the next message is a DISCOVER (a NAK
    // not taken would leave the lease to a rebinding REQUEST at 5 s, and to expiry at 6 s).
    let revoked = wait_for(Duration::from_secs(10), || {
        watch
            .removed()
            .iter()
            .any(|l| l.contains(&format!(" {GOOD}/")))
            && server.seen().len() >= 4
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        revoked,
        "the NAK was not taken: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        server.seen()[..4],
        [
            MessageType::Discover,
            MessageType::Request,
            MessageType::Request,
            MessageType::Discover
        ],
        "the NAK was not taken\n{text}"
    );
}

#[test]
fn a_server_granting_zero_second_leases_cannot_stop_the_daemon() {
    let lab = Lab::new();
    let server = plain_server(&lab, 0, &[]);
    // One-shot: no lease, and the timeout says why.
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "3"]);
    assert_exit(&out, 1);
    assert_stderr_contains(
        &out,
        "from 198.51.100.1 dropped: lease time 0 s is under the minimum of 4 s",
    );
    assert!(lab.client_addrs().is_empty());

    // The daemon: still running long after, still trying (a DISCOVER after its 2 s timeout,
    // the second at 4 s), nothing on the interface.
    let discovers = server.count(MessageType::Discover);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0", "-t", "2"]);
    let started = std::time::Instant::now();
    let trying = wait_for(Duration::from_secs(15), || {
        server.count(MessageType::Discover) >= discovers + 2
    });
    let after = started.elapsed();
    let running = daemon.try_wait().unwrap().is_none();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(running, "the daemon ended:\n{text}");
    assert!(
        trying && after > Duration::from_secs(2),
        "no DISCOVER after the timeout ({after:?}): {:?}\n{text}",
        server.seen()
    );
    assert!(
        text.contains("lease time 0 s is under the minimum"),
        "{text}"
    );
    assert!(lab.client_addrs().is_empty());
}

#[test]
fn option_57_is_at_least_576_on_a_small_mtu_link() {
    let lab = Lab::new();
    sh(
        "ip",
        &["-n", &lab.client_ns, "link", "set", CLIENT_IF, "mtu", "576"],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            if let Some(DhcpOption::MaxMessageSize(n)) =
                req.opts().get(v4::OptionCode::MaxMessageSize)
            {
                seen2.lock().unwrap().push(*n);
            }
            Vec::new()
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "1"]);
    let sizes = seen.lock().unwrap().clone();
    assert!(!sizes.is_empty(), "no DISCOVER seen\n{}", describe(&out));
    assert!(sizes.iter().all(|&n| n == 576), "option 57: {sizes:?}");
}

#[test]
fn a_malformed_option_121_is_ignored_whole_and_option_3_used() {
    let lab = Lab::new();
    // A prefix width of 40: the whole option is ignored, and option 3 (198.51.100.1) used.
    let _server = plain_server(
        &lab,
        3600,
        &[121, 10, 40, 10, 0, 0, 0, 0, 198, 51, 100, 254, 0, 0],
    );
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    let routes = lab.client_routes();
    let default = routes.iter().find(|r| r.is_default());
    assert_eq!(default.and_then(|r| r.gateway), Some(SERVER), "{routes:#?}");
    assert!(
        stderr(&out).contains("option 121 from 198.51.100.1 left out: prefix width 40 is over 32"),
        "{}",
        describe(&out)
    );
}

#[test]
fn client_identity_fqdn_and_extra_requests_reach_the_server() {
    let lab = Lab::new();
    let seen: Arc<Mutex<Vec<Message>>> = Arc::default();
    let seen2 = seen.clone();
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            seen2.lock().unwrap().push(req.clone());
            Vec::new()
        }),
    );
    let mac: Vec<u8> = lab
        .client_link()
        .mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let run = |extra: &[&str]| {
        seen.lock().unwrap().clear();
        let mut args = vec!["-1", "--arp-probe", "0", "-t", "1"];
        args.extend_from_slice(extra);
        oneshot(&lab, &args);
        let all = seen.lock().unwrap().clone();
        all.into_iter().next().expect("the server saw a DISCOVER")
    };
    let opt = |m: &Message, code: v4::OptionCode| m.opts().get(code).cloned();
    let d = run(&[]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier([&[1u8][..], &mac].concat()))
    );
    // RFC 4361: the host's DUID, made once and kept in the lease directory (a DUID-UUID),
    // behind this interface's IAID; the same at the next start.
    let d = run(&["--clientid", "duid"]);
    let kept = std::fs::read_to_string(lab.dir.join("lease/duid")).expect("the DUID is kept");
    let duid: Vec<u8> = (0..kept.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&kept.trim()[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!((duid.len(), &duid[..2]), (18, &[0u8, 4][..]), "{kept}");
    let want = [&[255u8][..], &mac[2..], &duid].concat();
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(want.clone()))
    );
    let d = run(&["--clientid", "duid"]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(want))
    );
    let d = run(&["--clientid", "none"]);
    assert_eq!(opt(&d, v4::OptionCode::ClientIdentifier), None);
    let d = run(&["--clientid", "00:11:22:33"]);
    assert_eq!(
        opt(&d, v4::OptionCode::ClientIdentifier),
        Some(DhcpOption::ClientIdentifier(vec![0, 0x11, 0x22, 0x33]))
    );
    let d = run(&[
        "--fqdn",
        "box.lab.test",
        "-H",
        "box",
        "--request",
        "252,150",
    ]);
    match opt(&d, v4::OptionCode::ClientFQDN) {
        Some(DhcpOption::ClientFQDN(f)) => {
            assert_eq!(f.domain().to_utf8(), "box.lab.test.");
            assert!(f.flags().s() && f.flags().e() && !f.flags().o() && !f.flags().n());
        }
        other => panic!("option 81: {other:?}"),
    }
    // RFC 4702 3.1: no option 12 beside option 81.
    assert_eq!(opt(&d, v4::OptionCode::Hostname), None);
    let h = run(&["-H", "box"]);
    assert_eq!(
        opt(&h, v4::OptionCode::Hostname),
        Some(DhcpOption::Hostname("box".into()))
    );
    match opt(&d, v4::OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(l)) => {
            let l: Vec<u8> = l.iter().map(|c| u8::from(*c)).collect();
            for code in [121, 249, 119, 42, 26, 252, 150] {
                assert!(l.contains(&code), "{code}: {l:?}");
            }
        }
        other => panic!("option 55: {other:?}"),
    }
    assert_eq!(
        opt(&d, v4::OptionCode::RapidCommit),
        Some(DhcpOption::RapidCommit)
    );
    let d = run(&["--no-rapid-commit"]);
    assert_eq!(opt(&d, v4::OptionCode::RapidCommit), None);
}

#[test]
fn an_mtu_under_68_or_one_the_device_will_not_take_is_ignored() {
    let lab = Lab::new();
    // Under RFC 2132's minimum: left out of the reply, the MTU stays.
    let _server = plain_server(&lab, 3600, &[26, 2, 0, 60]);
    let out = oneshot(&lab, &["-1", "-v", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(
        stderr(&out).contains("option 26 from 198.51.100.1 left out"),
        "{}",
        describe(&out)
    );
    drop(_server);

    // A macvlan cannot go above its lower device's MTU: the kernel refuses 9000.
    let lab = Lab::new();
    let c = lab.client_ns.clone();
    sh("ip", &["-n", &c, "link", "set", CLIENT_IF, "name", "low"]);
    sh(
        "ip",
        &[
            "-n", &c, "link", "add", CLIENT_IF, "link", "low", "type", "macvlan", "mode", "bridge",
        ],
    );
    sh("ip", &["-n", &c, "link", "set", CLIENT_IF, "up"]);
    let _server = plain_server(&lab, 3600, &[26, 2, 0x23, 0x28]);
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "10"]);
    assert_exit(&out, 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(
        stderr(&out).contains("option 26 asks for MTU 9000, which the device does not take"),
        "{}",
        describe(&out)
    );
}

/// The routes of protocol dhcp in the client namespace.
fn dhcp_routes(lab: &Lab) -> Vec<RouteInfo> {
    lab.client_routes()
        .into_iter()
        .filter(|r| matches!(r.protocol.as_deref(), Some("dhcp" | "16")))
        .collect()
}

/// (Expiry takes them the same way, but cannot be told apart here: the kernel drops the
/// address, and the routes from it, at the same moment, its lifetime being the lease's.)
#[test]
fn classless_routes_go_with_a_nak() {
    // Default via .254, 10.0.0.0/8 via .253.
    const ROUTES: &[u8] = &[121, 11, 0, 198, 51, 100, 254, 8, 10, 198, 51, 100, 253];
    let lab = Lab::new();
    let answered = Arc::new(Mutex::new(0u32));
    let server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            // The first lease; then a NAK to its renewal, and silence after that.
            let mut later = answered.lock().unwrap();
            if req.ciaddr().is_unspecified() && *later == 0 {
                return vec![bytes_with(&reply(req, kind, GOOD, SERVER, 6), ROUTES)];
            }
            *later += 1;
            if *later > 1 {
                return Vec::new();
            }
            let nak = reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0);
            vec![bytes(&nak)]
        }),
    );
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0"]);
    assert!(
        wait_for(Duration::from_secs(5), || dhcp_routes(&lab).len() == 2),
        "routes never came: {:#?}",
        lab.client_routes()
    );
    // T1 = 2 s: the renewal is NAKed; taken, it sends the client back to DISCOVER (not taken,
    // a rebinding REQUEST would come at 5 s), and the lease goes, with its routes.
    let gone = wait_for(Duration::from_secs(6), || {
        server.seen().len() >= 4 && dhcp_routes(&lab).is_empty() && lab.client_addrs().is_empty()
    });
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        gone,
        "the lease was not removed: {:?}\n{text}",
        server.seen()
    );
    assert_eq!(
        server.seen()[3],
        MessageType::Discover,
        "the NAK was not taken: {:?}",
        server.seen()
    );
    assert!(dhcp_routes(&lab).is_empty(), "{:#?}", lab.client_routes());
    assert!(lab.client_addrs().is_empty());
}

#[test]
fn the_mtu_comes_back_even_from_a_release_with_no_daemon() {
    let lab = Lab::new();
    let _server = plain_server(&lab, 3600, &[26, 2, 0x05, 0x78]);
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0"]);
    assert!(
        wait_for(Duration::from_secs(5), || lab.client_link().raw["mtu"]
            == 1400),
        "MTU not set\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Stopped, the lease (and its MTU) stays; a release with no daemon puts the MTU back.
    assert_exit(&oneshot(&lab, &["-x"]), 0);
    let _ = daemon.wait();
    assert_eq!(lab.client_link().raw["mtu"], 1400);
    assert_exit(&oneshot(&lab, &["-r"]), 0);
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    assert!(lab.client_addrs().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Hostile servers. Each answer below is sent again and again until the next request (a flood),
// and through it all the daemon must stay up, leave the interface untouched (or configured
// from what was good in the reply), say in its log what it dropped, and stay idle.

/// How often a hostile server sends its answers again: some 40 replies at a time, about 170 a
/// second. (The debug build the tests run spends some 0.1 ms of CPU on each reply it reads and
/// logs at -v; a faster flood measures the build, not the daemon.)
const FLOOD: Duration = Duration::from_millis(250);

/// The share of one CPU a daemon under fire may use.
const CALM: f64 = 0.05;

/// A reply to `req` of type `kind` for `yiaddr` with only a message type and server id; a case
/// adds the rest as raw options ([`bytes_with`]).
fn bare(req: &Message, kind: MessageType, yiaddr: Ipv4Addr) -> Message {
    let mut m = Message::default();
    m.set_opcode(Opcode::BootReply)
        .set_xid(req.xid())
        .set_yiaddr(yiaddr)
        .set_chaddr(req.chaddr());
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    m
}

/// Option bytes: `code`, the length of `data`, `data`.
fn opt(code: u8, data: &[u8]) -> Vec<u8> {
    [&[code, data.len() as u8][..], data].concat()
}

/// CPU time (user and system) process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let hz = *HZ.get_or_init(|| sh("getconf", &["CLK_TCK"]).trim().parse().unwrap());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The fields after the command name (in parentheses, and it could hold anything):
    // state is the first, utime the 12th and stime the 13th.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 1000 / hz)
}

/// What a daemon did under fire.
struct Ordeal {
    log: String,
    /// Whether it was still running at the end.
    running: bool,
    /// Its CPU time over the window, as a share of the window's wall time.
    cpu: f64,
    /// Every address seen on the interface during the window.
    addrs: Vec<Ipv4Addr>,
}

/// Starts `dhcpc -d -v --arp-probe 0 vc`, waits (at most 5 s) for the start of the window
/// (`ready`), then watches it for `window` while the server goes on, and stops it.
fn ordeal(lab: &Lab, ready: Start, window: Duration) -> Ordeal {
    ordeal_then(lab, ready, window, || ()).0
}

/// Where the window of an [`ordeal`] starts.
enum Start<'a> {
    /// Once the daemon reports BOUND.
    Bound,
    /// Once the log has this line: the flood reached the daemon and is refused (the lines that
    /// say so are what these tests check).
    Logged(&'a str),
}

/// [`ordeal`], and `at_end` called at the end of the window, before the daemon is stopped.
fn ordeal_then<T>(
    lab: &Lab,
    ready: Start,
    window: Duration,
    at_end: impl FnOnce() -> T,
) -> (Ordeal, T) {
    let (mut daemon, log) = start_daemon(lab, &["-d", "-v", "--arp-probe", "0"]);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let started = wait_for(Duration::from_secs(5), || match ready {
        Start::Bound => try_status_of(lab, CLIENT_IF).is_some_and(|s| s["state"] == "BOUND"),
        Start::Logged(line) => read().contains(line),
    });
    if !started {
        let _ = daemon.kill();
        let _ = daemon.wait();
        let what = match ready {
            Start::Bound => "BOUND".to_string(),
            Start::Logged(line) => format!("{line:?} logged"),
        };
        panic!("dhcpc was not {what} within 5 s\n{}", tail(&read()));
    }
    let pid = daemon.id();
    let (cpu0, t0) = (cpu_time(pid), std::time::Instant::now());
    let mut addrs = Vec::new();
    while t0.elapsed() < window {
        for a in lab.client_addrs() {
            if !addrs.contains(&a.local) {
                addrs.push(a.local);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = (cpu_time(pid) - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let running = daemon.try_wait().unwrap().is_none();
    eprintln!("dhcpc used {:.2} % of a CPU under fire", cpu * 100.0);
    let found = at_end();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let o = Ordeal {
        log: read(),
        running,
        cpu,
        addrs,
    };
    (o, found)
}

/// The last lines of a log (a flooded one is long).
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Ordeal {
    /// It lived through it without a panic, idle.
    fn assert_calm(&self) {
        assert!(!self.log.contains("panicked"), "{}", self.log);
        assert!(self.running, "the daemon ended\n{}", tail(&self.log));
        assert!(
            self.cpu < CALM,
            "the daemon used {:.1} % of a CPU\n{}",
            self.cpu * 100.0,
            tail(&self.log)
        );
    }

    /// Each of `lines` is in the log.
    fn assert_logged<S: AsRef<str>>(&self, lines: &[S]) {
        let missing: Vec<&str> = lines
            .iter()
            .map(|l| l.as_ref())
            .filter(|l| !self.log.contains(l))
            .collect();
        assert!(
            missing.is_empty(),
            "not logged: {missing:#?}\n{}",
            tail(&self.log)
        );
    }

    /// Every line is one the daemon wrote: a level, then its text; none begins with what a
    /// server sent, and no NUL is there.
    fn assert_lines_unforged(&self, forged: &str) {
        assert!(!self.log.contains('\0'), "a NUL reached the log");
        for line in self.log.lines() {
            let level = line.trim_start().split(' ').next().unwrap_or("");
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
                "a line the daemon did not write: {line:?}"
            );
            assert!(!line.trim_start().starts_with(forged), "{line:?}");
        }
    }
}

/// Replies of `kind` to `req` that no client may take, each with the reason dhcpc gives when it
/// refuses it (as in "dropping OFFER from 198.51.100.1: REASON").
fn unusable(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let mask24 = opt(1, &[255, 255, 255, 0]);
    let lease = |secs: u32| opt(51, &secs.to_be_bytes());
    let with = |yiaddr: Ipv4Addr, extra: &[u8]| bytes_with(&bare(req, kind, yiaddr), extra);
    let mut out = Vec::new();
    // yiaddr in every class an interface may not hold.
    for a in [
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.254",
        "255.255.255.255",
    ] {
        let a: Ipv4Addr = a.parse().unwrap();
        out.push((
            with(a, &[&mask24[..], &lease(3600)].concat()),
            format!("address {a} is not a unicast address"),
        ));
    }
    // The subnet's own network and broadcast addresses (no mask: the classful /24).
    for (a, mask, prefix, what) in [
        ("198.51.100.0", Some([255, 255, 255, 0]), 24, "network"),
        ("198.51.100.255", Some([255, 255, 255, 0]), 24, "broadcast"),
        ("198.51.100.255", None, 24, "broadcast"),
        (
            "198.51.100.127",
            Some([255, 255, 255, 128]),
            25,
            "broadcast",
        ),
        ("198.51.100.128", Some([255, 255, 255, 128]), 25, "network"),
    ] {
        let a: Ipv4Addr = a.parse().unwrap();
        let mask = mask.map(|m| opt(1, &m)).unwrap_or_default();
        out.push((
            with(a, &[&mask[..], &lease(3600)].concat()),
            format!("address {a} is the {what} address of its /{prefix}"),
        ));
    }
    // Masks that are not masks, and the mask of everything.
    for m in [[255, 0, 255, 0], [255, 255, 255, 1], [0, 255, 255, 255]] {
        out.push((
            with(GOOD, &[&opt(1, &m)[..], &lease(3600)].concat()),
            format!("subnet mask {} is not contiguous", Ipv4Addr::from(m)),
        ));
    }
    out.push((
        with(GOOD, &[&opt(1, &[0, 0, 0, 0])[..], &lease(3600)].concat()),
        "prefix length /0 is not usable".into(),
    ));
    // Leases too short to keep.
    for secs in [0, 1, 2, 3] {
        out.push((
            with(GOOD, &[&mask24[..], &lease(secs)].concat()),
            format!("lease time {secs} s is under the minimum of 4 s"),
        ));
    }
    // A server identifier that cannot be one. (An offer is refused by the lease check, which
    // names the option; an ACK before it, when it is not from the server chosen.)
    let option54 = if kind == MessageType::Offer {
        " (option 54)"
    } else {
        ""
    };
    for sid in [
        [0, 0, 0, 0],
        [224, 0, 0, 1],
        [255, 255, 255, 255],
        [127, 0, 0, 1],
    ] {
        let mut m = bare(req, kind, GOOD);
        m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
        out.push((
            bytes_with(&m, &[&opt(54, &sid)[..], &mask24, &lease(3600)].concat()),
            format!(
                "no server identifier{} (server identifier {} is not a unicast address)",
                option54,
                Ipv4Addr::from(sid)
            ),
        ));
    }
    let mut m = bare(req, kind, GOOD);
    m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
    out.push((
        bytes_with(&m, &[&opt(54, &[])[..], &mask24, &lease(3600)].concat()),
        format!("no server identifier{option54} (malformed"),
    ));
    // A message type of no bytes, of two, and of a number that is none.
    for (data, why) in [
        (&[][..], "malformed: length 0, should be 1"),
        (&[2, 5][..], "malformed: length 2, should be 1"),
        (&[99][..], "unknown message type 99"),
    ] {
        let mut m = bare(req, kind, GOOD);
        m.opts_mut().remove(v4::OptionCode::MessageType);
        out.push((
            bytes_with(&m, &[&opt(53, data)[..], &mask24, &lease(3600)].concat()),
            format!("no message type ({why})"),
        ));
    }
    out
}

/// Messages whose framing is broken, with the reason dhcpc gives (as in "dropping an unreadable
/// message from 198.51.100.1: REASON"): options running past the end of their field, among
/// them those that option 52 (overload) says the sname and file fields hold.
fn unreadable(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let good = reply(req, kind, GOOD, SERVER, 3600);
    let mut out = Vec::new();
    // The options field: a length past the end, with no END after it.
    let mut b = bytes(&good);
    let end = b.iter().rposition(|&x| x == 255).unwrap();
    b.truncate(end);
    b.extend_from_slice(&[3, 200, 198, 51]);
    out.push((b, "option 3 runs past the end".to_string()));
    // Overload 1: the file field is garbage (an option 200 of 250 bytes in 128).
    let mut b = bytes_with(&good, &opt(52, &[1]));
    b[108..236].fill(0xc8);
    b[109] = 250;
    out.push((b, "option 200 runs past the end".into()));
    // Overload 3: file empty (PAD) and the sname field holding text, not options.
    let mut b = bytes_with(&good, &opt(52, &[3]));
    b[108..236].fill(0);
    b[44..108].fill(b'x');
    b[44..44 + 15].copy_from_slice(b"evil$(reboot)\n;");
    out.push((b, "option 101 runs past the end".into()));
    out
}

/// Replies for another client or from another server, and ACKs without a usable lease time,
/// each with the line dhcpc logs when it drops it.
fn misdirected(req: &Message, kind: MessageType) -> Vec<(Vec<u8>, String)> {
    let name = dhcpc::reply::kind_name(kind);
    let good = reply(req, kind, GOOD, SERVER, 3600);
    let mut out = Vec::new();
    let mut m = good.clone();
    m.set_xid(req.xid() ^ 0x8000_0000);
    out.push((bytes(&m), "dropping a reply with xid".to_string()));
    let mut m = good.clone();
    m.set_chaddr(&[2, 9, 9, 9, 9, 9]);
    out.push((bytes(&m), "dropping a reply for another chaddr".into()));
    let mut m = good.clone();
    m.set_opcode(Opcode::BootRequest);
    out.push((bytes(&m), "dropping a BOOTREQUEST seen on the wire".into()));
    if kind != MessageType::Ack {
        return out;
    }
    // An ACK and NAKs from servers not chosen.
    let other = Ipv4Addr::new(198, 51, 100, 9);
    let chose = format!("from 198.51.100.1 (server {other}): we chose server {SERVER}");
    out.push((
        bytes(&reply(req, MessageType::Ack, GOOD, other, 3600)),
        format!("dropping ACK {chose}"),
    ));
    out.push((
        bytes(&reply(req, MessageType::Nak, GOOD, other, 0)),
        format!("dropping NAK {chose}"),
    ));
    let mut m = bare(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED);
    m.opts_mut().remove(v4::OptionCode::ServerIdentifier);
    out.push((bytes(&m), format!("dropping NAK {chose}")));
    // No lease time, or one of no bytes or of eight.
    let mask = opt(1, &[255, 255, 255, 0]);
    for (lease, why) in [
        (&[][..], ""),
        (&[51, 0][..], " (malformed: length 0, should be 4)"),
        (
            &[51, 8, 0, 0, 14, 16, 0, 0, 14, 16][..],
            " (malformed: length 8, should be 4)",
        ),
    ] {
        out.push((
            bytes_with(&bare(req, kind, GOOD), &[&mask[..], lease].concat()),
            format!("dropping {name} from 198.51.100.1: no lease time (option 51){why}"),
        ));
    }
    out
}

/// A server that floods replies no client may take, answering OFFER or ACK as `answer` (and
/// never with anything good); and the lines dhcpc must log as it drops them.
fn hostile(lab: &Lab, answer: MessageType) -> (FakeServer, Vec<String>) {
    let all = |req: &Message, kind: MessageType| {
        let name = dhcpc::reply::kind_name(kind);
        let refused = unusable(req, kind).into_iter().map(move |(b, w)| {
            let what = if w.starts_with("no message type") {
                "reply".to_string()
            } else {
                name.clone()
            };
            (b, format!("dropping {what} from 198.51.100.1: {w}"))
        });
        let unread = unreadable(req, kind).into_iter().map(|(b, w)| {
            let line = format!("dropping an unreadable message from 198.51.100.1: {w}");
            (b, line)
        });
        let all: Vec<(Vec<u8>, String)> = refused
            .chain(unread)
            .chain(misdirected(req, kind))
            .collect();
        all
    };
    // The lines are the same for every request: learn them from a stand-in.
    let mut probe = Message::default();
    probe.set_xid(1).set_chaddr(&[2, 0, 0, 0, 0, 1]);
    let why = all(&probe, answer).into_iter().map(|(_, w)| w).collect();
    let server = FakeServer::flooding(
        lab,
        FLOOD,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) if answer == MessageType::Offer => MessageType::Offer,
                Some(MessageType::Discover) => {
                    return vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 3600))]
                }
                Some(MessageType::Request) if answer == MessageType::Ack => MessageType::Ack,
                _ => return Vec::new(),
            };
            all(req, kind).into_iter().map(|(b, _)| b).collect()
        }),
    );
    (server, why)
}

#[test]
fn a_flood_of_offers_no_client_may_take_is_refused_one_by_one() {
    let lab = Lab::new();
    let (server, why) = hostile(&lab, MessageType::Offer);
    let o = ordeal(
        &lab,
        Start::Logged("dropping OFFER"),
        Duration::from_secs(4),
    );
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?} reached the interface", o.addrs);
    assert_eq!(server.count(MessageType::Request), 0, "an offer was taken");
    o.assert_logged(&why);
    assert!(server.sent.load(Ordering::Relaxed) > 500, "not a flood");
    // Nothing sent for each reply: DISCOVER at 0 s and 4 s (RFC 2131 backoff), no more.
    assert!(
        server.count(MessageType::Discover) <= 3,
        "{:?}",
        server.seen()
    );
}

#[test]
fn a_flood_of_acks_no_client_may_take_is_refused_one_by_one() {
    let lab = Lab::new();
    let (server, why) = hostile(&lab, MessageType::Ack);
    let o = ordeal(&lab, Start::Logged("dropping ACK"), Duration::from_secs(4));
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?} reached the interface", o.addrs);
    // The REQUEST was answered, and sent again after 4 s, not for each reply.
    let requests = server.count(MessageType::Request);
    assert!((1..=3).contains(&requests), "{:?}", server.seen());
    o.assert_logged(&why);
}

/// A server answering OFFER and ACK for GOOD with `extra` raw options, flooding; its ACK comes
/// with a NAK behind it (for the same xid), which a bound client must ignore.
fn flooding_server(lab: &Lab, extra: Vec<u8>) -> FakeServer {
    FakeServer::flooding(
        lab,
        FLOOD,
        Box::new(move |req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes_with(&bare(req, MessageType::Offer, GOOD), &extra)]
            }
            Some(MessageType::Request) => vec![
                bytes_with(&bare(req, MessageType::Ack, GOOD), &extra),
                bytes(&reply(req, MessageType::Nak, GOOD, SERVER, 0)),
            ],
            _ => Vec::new(),
        }),
    )
}

#[test]
fn a_reply_good_but_for_its_garbled_options_is_taken_without_them() {
    let lab = Lab::new();
    let mut extra = [
        // A mask of no bytes: left out, and the classful /24 used.
        opt(1, &[]),
        // Routers: two that cannot be, then one outside the subnet (reached on-link).
        opt(3, &[224, 0, 0, 1, 127, 0, 0, 1, 203, 0, 113, 1]),
        // DNS servers in 5 bytes; an MTU in 4; a broadcast address not the subnet's.
        opt(6, &[203, 0, 113, 53, 9]),
        opt(26, &[0, 0, 5, 220]),
        opt(28, &[198, 51, 100, 127]),
        // T1 > T2 > lease.
        opt(51, &60u32.to_be_bytes()),
        opt(58, &100u32.to_be_bytes()),
        opt(59, &80u32.to_be_bytes()),
        // A classless route cut short: the whole option ignored, option 3 used.
        opt(121, &[24, 10, 0, 0, 198, 51, 100]),
        // An unknown option of no bytes, and one of 765 in three parts (RFC 3396).
        opt(224, &[]),
    ]
    .concat();
    for _ in 0..3 {
        extra.extend(opt(250, &[0xab; 255]));
    }
    let server = flooding_server(&lab, extra);
    let (o, status) = ordeal_then(&lab, Start::Bound, Duration::from_secs(3), || {
        status_of(&lab, CLIENT_IF)
    });
    o.assert_calm();
    o.assert_logged(&[
        "option 1 from 198.51.100.1 left out: malformed",
        "option 3: 224.0.0.1 is not a unicast address, skipped",
        "option 3: 127.0.0.1 is not a unicast address, skipped",
        "option 6 from 198.51.100.1 left out: malformed",
        "option 26 from 198.51.100.1 left out: malformed: length 4, should be 2",
        "option 28 198.51.100.127 is not the broadcast address of 198.51.100.66/24: ignored",
        "T1 100 s and T2 80 s (options 58, 59) do not fit 1 s <= T1 < T2 < lease 60 s: \
         T1 30 s and T2 52 s used instead",
        "option 121 from 198.51.100.1 left out: a route is cut short",
        // The NAK behind the ACK, and the flood of both, find the client bound.
        "dropping a reply from 198.51.100.1: not expecting one in BOUND",
    ]);
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    assert!(!o.log.contains("NAK from"), "{}", tail(&o.log));
    // Routing and MTU options left out are warned of once per sender, not per reply: the
    // flood's repeats are at debug level.
    for code in [26, 121] {
        let text = format!("option {code} from 198.51.100.1 left out");
        let at = |level: &str| {
            o.log
                .lines()
                .filter(|l| l.trim_start().starts_with(level) && l.contains(&text))
                .count()
        };
        assert_eq!(at("WARN"), 1, "{text}\n{}", tail(&o.log));
        assert!(at("DEBUG") >= 10, "{text}: the repeats\n{}", tail(&o.log));
    }
    let addr = &lab.client_addrs()[0];
    assert_eq!(
        (addr.prefixlen, addr.broadcast),
        (24, Some(Ipv4Addr::new(198, 51, 100, 255)))
    );
    let routes = dhcp_routes(&lab);
    assert_eq!(routes.len(), 1, "{routes:#?}");
    assert!(routes[0].is_default(), "{routes:#?}");
    assert_eq!(routes[0].gateway, Some(Ipv4Addr::new(203, 0, 113, 1)));
    assert!(
        routes[0].raw["flags"].to_string().contains("onlink"),
        "{routes:#?}"
    );
    assert_eq!(lab.client_link().raw["mtu"], 1500);
    let resolv = std::fs::read_to_string(lab.dir.join("resolv.conf")).unwrap_or_default();
    assert!(!resolv.contains("nameserver"), "{resolv}");
    // The times used; the unknown options kept as sent.
    let secs = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {status}"))
    };
    assert!((25..=30).contains(&secs("renew_in")), "{status}");
    assert!((47..=52).contains(&secs("rebind_in")), "{status}");
    assert!((55..=60).contains(&secs("expires_in")), "{status}");
    assert_eq!(status["options"]["224"], "");
    assert_eq!(status["options"]["250"], "ab".repeat(765));
    assert_eq!(server.count(MessageType::Request), 1, "{:?}", server.seen());
}

/// Labels as DNS writes them (RFC 1035 3.1), for option 119.
fn dns_names(names: &[&[&[u8]]]) -> Vec<u8> {
    let mut out = Vec::new();
    for labels in names {
        for l in labels.iter() {
            out.push(l.len() as u8);
            out.extend_from_slice(l);
        }
        out.push(0);
    }
    out
}

/// A name resolv.conf may hold: RFC 1123 2.1 labels (and '_').
fn is_rfc1123(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[test]
fn names_with_shell_metacharacters_newlines_and_nul_reach_neither_resolv_conf_nor_the_log() {
    let lab = Lab::new();
    let search = dns_names(&[
        &[b"good", b"test"],
        &[b"a$(reboot)", b"test"],
        &[b"`id`", b"test"],
        &[b"x;y|z&w", b"test"],
        &[b"x\nWARN vc: forged", b"test"],
        &[b"nul\0byte", b"test"],
        &[b"-rf", b"test"],
        &[b"ok", b"lab", b"test"],
    ]);
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &3600u32.to_be_bytes()),
        opt(6, &[203, 0, 113, 53]),
        opt(12, b"box$(reboot)`id`;|&\nWARN vc: forged\0x"),
        opt(15, b"lab.test;rm -rf /\nnameserver 192.0.2.66\0"),
        opt(119, &search),
    ]
    .concat();
    let _server = flooding_server(&lab, extra);
    let o = ordeal(&lab, Start::Bound, Duration::from_secs(3));
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    o.assert_logged(&[
        "option 12 from 198.51.100.1 left out: is not a valid host name",
        "option 15 from 198.51.100.1 left out: is not a valid domain name",
    ]);
    let skipped = o
        .log
        .lines()
        .filter(|l| l.contains("option 119: ") && l.contains("is not a plausible domain name"))
        .count();
    assert!(
        skipped >= 6,
        "six names skipped, each said\n{}",
        tail(&o.log)
    );
    o.assert_lines_unforged("WARN vc: forged");
    let resolv = std::fs::read_to_string(lab.dir.join("resolv.conf")).unwrap();
    let lines: Vec<&str> = resolv.lines().skip(1).collect();
    assert_eq!(
        lines,
        ["search good.test ok.lab.test", "nameserver 203.0.113.53"],
        "{resolv}"
    );
    for name in lines[0].split(' ').skip(1) {
        assert!(is_rfc1123(name), "{name:?}");
    }
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_nak_flood_is_met_with_backoff_and_its_text_cannot_forge_a_line() {
    let lab = Lab::new();
    let server = FakeServer::flooding(
        &lab,
        FLOOD,
        Box::new(|req| match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                vec![bytes(&reply(req, MessageType::Offer, GOOD, SERVER, 3600))]
            }
            Some(MessageType::Request) => {
                let nak = bytes_with(
                    &reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, SERVER, 0),
                    &opt(56, b"go away\nWARN vc: forged\0\r"),
                );
                vec![nak; 20]
            }
            _ => Vec::new(),
        }),
    );
    let o = ordeal(&lab, Start::Logged("NAK from"), Duration::from_secs(5));
    o.assert_calm();
    assert!(o.addrs.is_empty(), "{:?}", o.addrs);
    o.assert_logged(&[
        "NAK from 198.51.100.1: go awayWARN vc: forged; starting over",
        "not expecting one in",
    ]);
    o.assert_lines_unforged("WARN vc: forged");
    // One NAK restarts at once, the next after 4 s: not a DISCOVER for each NAK.
    let discovers = server.count(MessageType::Discover);
    assert!((2..=4).contains(&discovers), "{:?}", server.seen());
}

#[test]
fn a_link_local_address_from_a_server_is_refused() {
    // RFC 3927 1.6: 169.254/16 is the host's own to pick (and dhcpc's link-local fallback
    // may hold one); a server that hands one out is not taken.
    let lab = Lab::new();
    let ll = Ipv4Addr::new(169, 254, 7, 9);
    let _server = FakeServer::start(
        &lab,
        Box::new(move |req| {
            let kind = match req.opts().msg_type() {
                Some(MessageType::Discover) => MessageType::Offer,
                Some(MessageType::Request) => MessageType::Ack,
                _ => return Vec::new(),
            };
            let mut m = reply(req, kind, ll, SERVER, 3600);
            m.opts_mut()
                .insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 0, 0)));
            vec![bytes(&m)]
        }),
    );
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "3"]);
    assert_exit(&out, 1);
    assert!(lab.client_addrs().is_empty(), "{}", describe(&out));
    assert!(stderr(&out).contains("169.254.7.9"), "{}", describe(&out));
}

#[test]
fn routers_that_are_the_lease_s_own_network_or_broadcast_address_are_skipped() {
    let lab = Lab::new();
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &3600u32.to_be_bytes()),
        // The leased address itself, the subnet's network and broadcast addresses, then the
        // router.
        opt(
            3,
            &[
                198, 51, 100, 66, 198, 51, 100, 0, 198, 51, 100, 255, 198, 51, 100, 1,
            ],
        ),
    ]
    .concat();
    let _server = flooding_server(&lab, extra);
    let o = ordeal(&lab, Start::Bound, Duration::from_secs(2));
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    let routes = dhcp_routes(&lab);
    let default: Vec<_> = routes.iter().filter(|r| r.is_default()).collect();
    assert_eq!(default.len(), 1, "{routes:#?}\n{}", tail(&o.log));
    assert_eq!(default[0].gateway, Some(SERVER), "{routes:#?}");
    assert!(!o.log.contains("adding route"), "{}", tail(&o.log));
    o.assert_logged(&[
        "option 3: 198.51.100.66 is the lease's own address, skipped",
        "option 3: 198.51.100.0 is the network address of 198.51.100.66/24, skipped",
        "option 3: 198.51.100.255 is the broadcast address of 198.51.100.66/24, skipped",
    ]);
}

#[test]
fn a_lease_a_second_short_of_infinite_with_t1_and_t2_past_it_is_kept_quietly() {
    let lab = Lab::new();
    let extra = [
        opt(1, &[255, 255, 255, 0]),
        opt(51, &(u32::MAX - 1).to_be_bytes()),
        opt(58, &u32::MAX.to_be_bytes()),
        opt(59, &u32::MAX.to_be_bytes()),
    ]
    .concat();
    let server = flooding_server(&lab, extra);
    let (o, status) = ordeal_then(&lab, Start::Bound, Duration::from_secs(2), || {
        status_of(&lab, CLIENT_IF)
    });
    o.assert_calm();
    assert_eq!(o.addrs, vec![GOOD], "{}", tail(&o.log));
    o.assert_logged(&[
        "T1 4294967295 s and T2 4294967295 s (options 58, 59) do not fit 1 s <= T1 < T2 < \
         lease 4294967294 s",
    ]);
    // 50 % and 87.5 % of 4294967294 s; nothing renewed meanwhile.
    let secs = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {status}"))
    };
    assert!(secs("renew_in") > 2_147_483_000, "{status}");
    assert!(secs("rebind_in") > 3_758_096_000, "{status}");
    assert!(secs("expires_in") > 4_294_967_000, "{status}");
    assert_eq!(server.count(MessageType::Request), 1, "{:?}", server.seen());
    assert!(lab.client_addrs()[0].valid_lft > 4_294_967_000);
}
