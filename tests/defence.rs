//! RFC 5227 2.4 once bound, in a dnsmasq lab: another host claiming the address in use (ARP
//! announcements with its own MAC, sent from the server's namespace) is answered once; a
//! second claim within 10 s makes dhcpc give the address up (RELEASE, never DECLINE) and
//! start over.

mod common;

use common::*;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ_LAB: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--log-dhcp",
];
const SQUATTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];

/// Sends one ARP announcement of `addr` by SQUATTER_MAC out of the server's end of the veth.
fn claim(lab: &Lab, addr: Ipv4Addr) {
    send_frames(lab, vec![dhcpc::frame::arp_announce(SQUATTER_MAC, addr)]);
}

/// Sends these frames out of the server's end of the veth.
fn send_frames(lab: &Lab, frames: Vec<Vec<u8>>) {
    let text = sh(
        "ip",
        &["-n", &lab.server_ns, "-j", "link", "show", "dev", SERVER_IF],
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let index = v[0]["ifindex"].as_u64().unwrap() as u32;
    let ns = std::fs::File::open(format!("/run/netns/{}", lab.server_ns)).unwrap();
    std::thread::spawn(move || {
        // This thread, and only it, moves into the lab's server namespace.
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sock = dhcpc::shell::rawsock::RawSocket::dhcp(index).unwrap();
            for f in &frames {
                sock.send(f).unwrap();
                // Apart, so that each would wake a reader on its own.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
    })
    .join()
    .unwrap();
}

/// The ARP frames seen on the server's end of the veth, from its start until it is dropped:
/// what dhcpc sends in defence of its address, on the wire.
struct ArpSniffer {
    seen: Arc<Mutex<Vec<dhcpc::frame::ArpSeen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ArpSniffer {
    fn start(lab: &Lab) -> ArpSniffer {
        let ns = std::fs::File::open(format!("/run/netns/{}", lab.server_ns)).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (listening, ready) = std::sync::mpsc::channel();
        let (into, stopped) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // This thread, and only it, moves into the lab's server namespace.
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let arp = socket2::Protocol::from(i32::from((libc::ETH_P_ARP as u16).to_be()));
            let mut sock =
                socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(arp))
                    .expect("a packet socket for ARP");
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            listening.send(()).unwrap();
            let mut buf = [0u8; 1600];
            while !stopped.load(Ordering::SeqCst) {
                if let Ok(n) = sock.read(&mut buf) {
                    if let Some(a) = dhcpc::frame::parse_arp(&buf[..n]) {
                        into.lock().unwrap().push(a);
                    }
                }
            }
        });
        ready.recv().expect("the sniffer started");
        ArpSniffer {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// How many announcements of `addr` (sender and target `addr`) came from `mac`.
    fn announcements(&self, mac: [u8; 6], addr: Ipv4Addr) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|a| a.sender_mac == mac && a.sender_ip == addr && a.target_ip == addr)
            .count()
    }
}

impl Drop for ArpSniffer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The client's MAC, as `ip` shows it.
fn client_mac(lab: &Lab) -> [u8; 6] {
    let text = lab.client_link().mac;
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    bytes.try_into().expect("a MAC of 6 bytes")
}

#[test]
fn a_claimed_address_is_defended_once_then_given_up() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    let (sniffer, mac) = (ArpSniffer::start(&lab), client_mac(&lab));

    // Defended: an announcement of the address from the client's MAC, on the wire.
    claim(&lab, addr);
    assert!(
        wait_for(Duration::from_secs(5), || sniffer.announcements(mac, addr)
            >= 1),
        "no defence of {addr} on the wire\n{}",
        daemon.log_text()
    );
    // The log names who claims it.
    daemon.wait_log(
        &format!("{addr} is claimed by 02:00:00:00:00:66: defending it"),
        Duration::from_secs(5),
    );
    assert_eq!(status_of(&lab, CLIENT_IF)["state"], "BOUND");
    assert_eq!(addresses(&lab, CLIENT_IF), vec![addr]);

    claim(&lab, addr);
    assert!(
        wait_for(Duration::from_secs(5), || lab
            .server_logs()
            .contains("DHCPRELEASE")),
        "dnsmasq saw no release\n{}",
        lab.server_logs()
    );
    assert!(!lab.server_logs().contains("DHCPDECLINE"));
    // Defended once only; and the log says why the address was given up.
    assert_eq!(
        sniffer.announcements(mac, addr),
        1,
        "defended more than once"
    );
    daemon.wait_log("again within 10 s: giving it up", Duration::from_secs(5));
    daemon.wait_log("another host uses the address", Duration::from_secs(5));
    // And a lease again (dnsmasq may hand out the same address: the claimer never held it).
    assert!(wait_for(Duration::from_secs(10), || status_of(
        &lab, CLIENT_IF
    )["state"]
        == "BOUND"));
}

/// Context switches of process `pid`'s main thread (the daemon's event loop) so far.
fn wakeups(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .filter(|l| l.contains("ctxt_switches"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

#[test]
fn arp_about_other_addresses_or_lookups_of_ours_do_not_wake_it() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_LAB);
    let daemon = Daemon::start(&lab, "dhcpc", &["--arp-probe", "0"], &[CLIENT_IF]);
    let addr = wait_address(&lab, CLIENT_IF, POOL);
    wait_state(&lab, CLIENT_IF, "BOUND", Duration::from_secs(5));
    // Settled: no wake-up for 2 s, so past the trim 2 s after binding, and any announcement.
    let pid = daemon.child.id();
    assert!(
        wait_for(Duration::from_secs(15), || {
            let then = wakeups(pid);
            holds_for(Duration::from_secs(2), || wakeups(pid) == then)
        }),
        "the daemon never settled"
    );
    let before = wakeups(pid);
    // A LAN's ARP traffic: other hosts announcing other addresses, and looking ours up
    // (which the kernel answers). The filter drops it all in the kernel.
    let router = Ipv4Addr::new(198, 51, 100, 1);
    let mut frames = Vec::new();
    for i in 0..100u8 {
        frames.push(dhcpc::frame::arp_announce(
            SQUATTER_MAC,
            Ipv4Addr::new(198, 51, 100, 151 + i % 100),
        ));
        frames.push(dhcpc::frame::arp_request(SQUATTER_MAC, router, addr, None));
    }
    send_frames(&lab, frames);
    // Nor in the half second after.
    assert!(
        holds_for(Duration::from_millis(500), || wakeups(pid) - before < 20),
        "200 ARP frames woke the daemon {} times",
        wakeups(pid) - before
    );
}
