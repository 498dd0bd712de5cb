//! A scripted DHCP server, in Rust, for the faults real servers will not make: malformed
//! replies, wrong xids and chaddrs, non-unicast offers, answers from the wrong server, NAK
//! storms. It adds to the real servers of the other tests; it runs in the lab's server
//! namespace (a thread that enters it) and answers by UDP broadcast to port 68.

mod common;

use common::*;
use dhcpc::wire::{self, v4};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
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
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(lab: &Lab, mut script: Script) -> FakeServer {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Seen = Arc::default();
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
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 1500];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((n, _)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(msg) = wire::decode(&buf[..n]) else {
                    continue;
                };
                if let Some(t) = msg.opts().msg_type() {
                    seen2.lock().unwrap().push(t);
                }
                for reply in script(&msg) {
                    let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, 68);
                    sock.send_to(&reply, to).expect("sending a reply");
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the fake server did not start");
        FakeServer {
            stop,
            seen,
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
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // A 6 s lease renewed at 2 s: over 10 s, several renewals, each answered with garbage.
    let mut held = true;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let addrs: Vec<Ipv4Addr> = lab.client_addrs().iter().map(|a| a.local).collect();
        if addrs.len() > 1 || addrs.iter().any(|a| *a != GOOD) {
            held = false;
        }
    }
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
    assert!(!text.contains("removed"), "the lease was lost\n{text}");
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
    let _server = FakeServer::start(
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
    let (mut daemon, log) = start_daemon(&lab, &["-d", "-v", "--arp-probe", "0"]);
    // Renewal at T1 = 2 s.
    let revoked = wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&format!("removed {GOOD} (server sent NAK)"))
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(revoked, "the NAK was not taken\n{text}");
}

#[test]
fn a_server_granting_zero_second_leases_cannot_stop_the_daemon() {
    let lab = Lab::new();
    let _server = plain_server(&lab, 0, &[]);
    // One-shot: no lease, and the timeout says why.
    let out = oneshot(&lab, &["-1", "--arp-probe", "0", "-t", "3"]);
    assert_exit(&out, 1);
    assert_stderr_contains(
        &out,
        "from 198.51.100.1 dropped: lease time 0 s is under the minimum of 4 s",
    );
    assert!(lab.client_addrs().is_empty());

    // The daemon: still running long after, still trying, nothing on the interface.
    let (mut daemon, log) = start_daemon(&lab, &["-d", "--arp-probe", "0", "-t", "2"]);
    std::thread::sleep(Duration::from_secs(5));
    let running = daemon.try_wait().unwrap().is_none();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(running, "the daemon ended:\n{text}");
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
    let _server = FakeServer::start(
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
    // T1 = 2 s: the renewal is NAKed.
    let gone = wait_for(Duration::from_secs(6), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("removed 198.51.100.66 (server sent NAK)")
    });
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(gone, "the lease was not removed\n{text}");
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
