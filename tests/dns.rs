//! Where the leases' DNS settings go (`--dns-mode`), end to end in namespace labs with dnsmasq:
//! the shared resolv.conf of several daemons, a symlinked resolv.conf, resolvconf (a fake one
//! that records what it is given), systemd-resolved (a fake org.freedesktop.resolve1 on a
//! private D-Bus bus), and what `auto` picks. Need root, dnsmasq and dbus-daemon;
//! `sudo scripts/test` installs them.
//!
//! Nothing here reaches the host's DNS: every dhcpc gets `--resolv-conf` in the lab, a PATH
//! that holds only the lab's own programs, and DBUS_SYSTEM_BUS_ADDRESS naming the lab's bus
//! (or a socket that does not exist).

mod common;

use common::{
    addresses, dhcpc_bin, dhcpc_run, require_program, sh, wait_address, wait_for, Daemon, Lab,
    CLIENT_IF,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POOL_A: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const POOL_B: (&str, &str) = ("203.0.113.50", "203.0.113.150");
const ORIGINAL: &str = "# the lab's own resolv.conf\nnameserver 192.0.2.53\n";

/// dnsmasq on the lab's first link: 198.51.100.0/24, two servers, one domain.
const DNSMASQ_ONE: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1,198.51.100.2",
    "--dhcp-option=option:domain-name,lab.test",
];

/// The lab's own copy of a program the tests need, found in the usual places.
fn program(name: &str, package: &str) -> PathBuf {
    require_program(
        name,
        &format!("run the tests with `sudo scripts/test`, which installs it (package {package})"),
    )
}

/// Starts `dhcpc -d -v` in the client namespace with exactly these environment additions, a
/// PATH of `path` only (the `ip` that enters the namespace is named by its full path), and the
/// lab's directories then `extra` on the command line.
fn daemon(lab: &Lab, name: &str, env: &[(&str, String)], extra: &[&str], iface: &str) -> Daemon {
    let log = lab.dir.join(format!("{name}.log"));
    let file = fs::File::create(&log).expect("dhcpc log");
    let child = Command::new(program("ip", "iproute2"))
        .args(["netns", "exec", &lab.client_ns])
        .arg(dhcpc_bin())
        .args(lab.dhcpc_dir_args())
        .args(["-d", "-v"])
        .args(extra)
        .arg(iface)
        .env_remove("DHCPC_LOG")
        .env("PATH", lab.dir.join("bin"))
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}", lab.dir.join("no-bus").display()),
        )
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("starting dhcpc -d");
    Daemon { child, log }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn nameservers(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver "))
        .map(str::to_string)
        .collect()
}

fn release(lab: &Lab, iface: &str) {
    let out = dhcpc_run(lab, &["-r", iface]);
    common::assert_exit(&out, 0);
}

/// The lab's bin directory (the PATH of the daemons here), empty to begin with.
fn bin_dir(lab: &Lab) -> PathBuf {
    let bin = lab.dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    bin
}

#[test]
fn two_daemons_share_resolv_conf_without_undoing_each_other() {
    let mut lab = Lab::new();
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    lab.veth(&s, "vs2", &c, "vc2");
    sh(
        "ip",
        &["-n", &s, "addr", "add", "203.0.113.1/24", "dev", "vs2"],
    );
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
        "--dhcp-option=option:dns-server,198.51.100.53",
        "--dhcp-option=option:domain-name,a.test",
    ]);
    // A second dnsmasq for the second link (each is bound to its own interface).
    let d = |p: &str| lab.dir.join(p).display().to_string();
    let args = [
        "--no-daemon".to_string(),
        "--conf-file=/dev/null".into(),
        "--port=0".into(),
        "--bind-interfaces".into(),
        "--interface=vs2".into(),
        "--log-facility=-".into(),
        format!("--pid-file={}", d("dnsmasq2.pid")),
        format!("--dhcp-leasefile={}", d("dnsmasq2.leases")),
        "--no-ping".into(),
        "--dhcp-range=203.0.113.50,203.0.113.150,255.255.255.0,1h".into(),
        "--dhcp-option=option:dns-server,203.0.113.53".into(),
        "--dhcp-option=option:domain-name,b.test".into(),
    ];
    let dnsmasq = program("dnsmasq", "dnsmasq-base");
    lab.start_server("dnsmasq2", &dnsmasq, &args, "sockets bound");
    bin_dir(&lab);
    let resolv = lab.dir.join("resolv.conf");
    fs::write(&resolv, ORIGINAL).unwrap();

    let _a = daemon(&lab, "dhcpc-a", &[], &[], CLIENT_IF);
    let _b = daemon(&lab, "dhcpc-b", &[], &[], "vc2");
    wait_address(&lab, CLIENT_IF, POOL_A);
    wait_address(&lab, "vc2", POOL_B);
    assert!(
        wait_for(Duration::from_secs(10), || nameservers(&resolv).len() == 2),
        "both daemons' servers in resolv.conf:\n{}",
        read(&resolv)
    );
    let text = read(&resolv);
    assert!(text.starts_with("# Generated by dhcpc"), "{text}");
    let mut both = nameservers(&resolv);
    both.sort();
    assert_eq!(both, ["198.51.100.53", "203.0.113.53"], "{text}");
    let search = text
        .lines()
        .find(|l| l.starts_with("search "))
        .unwrap_or("");
    assert!(
        search.contains("a.test") && search.contains("b.test"),
        "{text}"
    );

    release(&lab, CLIENT_IF);
    assert_eq!(
        nameservers(&resolv),
        ["203.0.113.53"],
        "the other daemon's server must stay:\n{}",
        read(&resolv)
    );
    assert!(read(&resolv).contains("domain b.test"), "{}", read(&resolv));
    assert!(!lab.dir.join("run/dns/vc.dns").exists());
    assert!(lab.dir.join("run/dns/vc2.dns").exists());

    release(&lab, "vc2");
    assert_eq!(read(&resolv), ORIGINAL, "the original is back");
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_symlinked_resolv_conf_is_written_through_and_stays_a_symlink() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_ONE);
    bin_dir(&lab);
    // The lab's resolv.conf is a symlink to a file in another directory of the lab.
    let other = lab.dir.join("elsewhere");
    fs::create_dir_all(&other).unwrap();
    let target = other.join("resolv.conf");
    fs::write(&target, ORIGINAL).unwrap();
    let link = lab.dir.join("resolv.conf");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let d = daemon(&lab, "dhcpc", &[], &[], CLIENT_IF);
    wait_address(&lab, CLIENT_IF, POOL_A);
    assert!(
        wait_for(Duration::from_secs(10), || nameservers(&target).len() == 2),
        "the target gets the servers:\n{}",
        read(&target)
    );
    assert_eq!(nameservers(&target), ["198.51.100.1", "198.51.100.2"]);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "resolv.conf must stay a symlink"
    );
    d.wait_log("is a symlink to", Duration::from_secs(5));
    d.wait_log("writing through to it", Duration::from_secs(1));

    release(&lab, CLIENT_IF);
    assert_eq!(
        read(&target),
        ORIGINAL,
        "the original is back in the target"
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // Nothing was left beside the target.
    let names: Vec<_> = fs::read_dir(&other)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["resolv.conf"]);
    lab.assert_netns_resolv_untouched();
}

#[test]
fn a_dangling_symlink_is_left_alone_with_a_warning_and_the_lease_is_bound() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_ONE);
    bin_dir(&lab);
    let nowhere = lab.dir.join("nowhere/resolv.conf");
    let link = lab.dir.join("resolv.conf");
    std::os::unix::fs::symlink(&nowhere, &link).unwrap();

    let d = daemon(&lab, "dhcpc", &[], &[], CLIENT_IF);
    wait_address(&lab, CLIENT_IF, POOL_A);
    d.wait_log("which does not exist", Duration::from_secs(10));
    d.wait_log("left alone", Duration::from_secs(1));
    assert!(
        d.log_text().contains("dhcpc: warning: "),
        "{}",
        d.log_text()
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        nowhere,
        "the symlink is kept"
    );
    assert!(!lab.dir.join("nowhere").exists(), "nothing was created");
    lab.assert_netns_resolv_untouched();
}

/// A fake resolvconf in the lab's bin directory that appends its arguments and, for -a, its
/// input to `<lab>/resolvconf.log`.
fn fake_resolvconf(lab: &Lab) -> PathBuf {
    let log = lab.dir.join("resolvconf.log");
    let script = bin_dir(lab).join("resolvconf");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nPATH=/usr/bin:/bin\n{{ echo \"ARGS $*\"; [ \"$1\" = -a ] && cat; \
             echo END; }} >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    log
}

const RESOLVCONF_BIND: &str = "ARGS -a vc.dhcpc\n# Generated by dhcpc for vc\n\
     domain lab.test\nnameserver 198.51.100.1\nnameserver 198.51.100.2\nEND\n";

#[test]
fn resolvconf_mode_feeds_resolvconf_on_bind_and_release() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_ONE);
    let log = fake_resolvconf(&lab);
    let d = daemon(&lab, "dhcpc", &[], &["--dns-mode", "resolvconf"], CLIENT_IF);
    wait_address(&lab, CLIENT_IF, POOL_A);
    assert!(
        wait_for(Duration::from_secs(10), || read(&log).contains("END")),
        "resolvconf was not run:\n{}",
        d.log_text()
    );
    assert_eq!(read(&log), RESOLVCONF_BIND);
    release(&lab, CLIENT_IF);
    assert_eq!(
        read(&log),
        format!("{RESOLVCONF_BIND}ARGS -d vc.dhcpc\nEND\n")
    );
    assert!(
        !lab.dir.join("resolv.conf").exists(),
        "resolvconf mode writes no resolv.conf"
    );
    lab.assert_netns_resolv_untouched();
}

#[test]
fn auto_picks_resolvconf_when_installed_and_file_without_it() {
    let mut lab = Lab::new();
    lab.start_dnsmasq(DNSMASQ_ONE);
    bin_dir(&lab);
    // No bus (DBUS_SYSTEM_BUS_ADDRESS names a socket that is not there) and no resolvconf.
    let mut d = daemon(&lab, "dhcpc-file", &[], &["--dns-mode", "auto"], CLIENT_IF);
    wait_address(&lab, CLIENT_IF, POOL_A);
    let resolv = lab.dir.join("resolv.conf");
    assert!(
        wait_for(Duration::from_secs(10), || nameservers(&resolv).len() == 2),
        "auto should write the file:\n{}",
        d.log_text()
    );
    d.wait_log("DNS settings go to the file", Duration::from_secs(1));
    d.wait_log(
        "no system bus, no resolvconf on PATH",
        Duration::from_secs(1),
    );
    release(&lab, CLIENT_IF);
    d.kill();
    assert!(!resolv.exists(), "no file was there before");

    // With a resolvconf on PATH, auto takes it.
    let log = fake_resolvconf(&lab);
    let d = daemon(&lab, "dhcpc-rc", &[], &["--dns-mode", "auto"], CLIENT_IF);
    assert!(
        wait_for(Duration::from_secs(15), || read(&log).contains("END")),
        "auto should feed resolvconf:\n{}",
        d.log_text()
    );
    d.wait_log("DNS settings go to resolvconf", Duration::from_secs(1));
    assert_eq!(read(&log), RESOLVCONF_BIND);
    assert!(!resolv.exists());
    lab.assert_netns_resolv_untouched();
}

// ---------------------------------------------------------------------------------------------
// systemd-resolved: a private bus and a fake org.freedesktop.resolve1.

/// Starts a dbus-daemon of the lab's own (in the client namespace, listening on a socket in
/// the lab's dir, letting anyone do anything); returns its address.
fn private_bus(lab: &mut Lab) -> String {
    let dbus = program("dbus-daemon", "dbus-daemon");
    let socket = lab.dir.join("bus");
    let config = lab.dir.join("bus.conf");
    fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .unwrap();
    let ns = lab.client_ns.clone();
    lab.start_server_in(
        &ns,
        "dbus-daemon",
        &dbus,
        &[
            format!("--config-file={}", config.display()),
            "--nofork".into(),
            "--nopidfile".into(),
            "--print-address".into(),
        ],
        "unix:path=",
    );
    format!("unix:path={}", socket.display())
}

/// The fake resolved: records every call as one line.
struct FakeResolved {
    calls: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.freedesktop.resolve1.Manager")]
impl FakeResolved {
    #[zbus(name = "SetLinkDNS")]
    fn set_link_dns(&self, ifindex: i32, addresses: Vec<(i32, Vec<u8>)>) {
        let list: Vec<String> = addresses
            .iter()
            .map(|(family, bytes)| format!("{family}:{}", dotted(bytes)))
            .collect();
        self.record(format!("SetLinkDNS {ifindex} {}", list.join(" ")));
    }

    #[zbus(name = "SetLinkDomains")]
    fn set_link_domains(&self, ifindex: i32, domains: Vec<(String, bool)>) {
        let list: Vec<String> = domains.iter().map(|(d, r)| format!("{d}:{r}")).collect();
        self.record(format!("SetLinkDomains {ifindex} {}", list.join(" ")));
    }

    #[zbus(name = "RevertLink")]
    fn revert_link(&self, ifindex: i32) {
        self.record(format!("RevertLink {ifindex}"));
    }
}

impl FakeResolved {
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

fn dotted(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// The fake resolved on `address`, served from a thread of its own until dropped.
struct Fake {
    calls: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    fn start(address: &str) -> Fake {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (address, recorded) = (address.to_string(), calls.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let conn = zbus::connection::Builder::address(address.as_str())
                    .unwrap()
                    .name("org.freedesktop.resolve1")
                    .unwrap()
                    .serve_at(
                        "/org/freedesktop/resolve1",
                        FakeResolved { calls: recorded },
                    )
                    .unwrap()
                    .build()
                    .await;
                match conn {
                    // Served (and the name held) for as long as the connection lives.
                    Ok(_conn) => {
                        ready_tx.send(Ok(())).unwrap();
                        let _ = stopped.await;
                    }
                    Err(e) => ready_tx.send(Err(e.to_string())).unwrap(),
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the fake resolved did not start")
            .expect("the fake resolved could not take its name");
        Fake {
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn ifindex(lab: &Lab) -> i64 {
    lab.client_link().raw["ifindex"]
        .as_i64()
        .expect("ip -j link shows the ifindex")
}

fn resolved_case(mode: &str) {
    let mut lab = Lab::new();
    lab.start_dnsmasq(&[
        "--no-ping",
        "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
        "--dhcp-option=option:router,198.51.100.1",
        "--dhcp-option=option:dns-server,198.51.100.1,198.51.100.2",
        "--dhcp-option=option:domain-name,lab.test",
        "--dhcp-option=option:domain-search,one.test,two.test",
    ]);
    bin_dir(&lab);
    let address = private_bus(&mut lab);
    let fake = Fake::start(&address);
    let resolv = lab.dir.join("resolv.conf");
    fs::write(&resolv, ORIGINAL).unwrap();
    let index = ifindex(&lab);

    let d = daemon(
        &lab,
        "dhcpc",
        &[("DBUS_SYSTEM_BUS_ADDRESS", address)],
        &["--dns-mode", mode],
        CLIENT_IF,
    );
    let addr = wait_address(&lab, CLIENT_IF, POOL_A);
    assert!(
        wait_for(Duration::from_secs(10), || fake.calls().len() >= 2),
        "resolved was not told: {:?}\n{}",
        fake.calls(),
        d.log_text()
    );
    assert_eq!(
        fake.calls(),
        [
            format!("SetLinkDNS {index} 2:198.51.100.1 2:198.51.100.2"),
            format!("SetLinkDomains {index} lab.test:false one.test:false two.test:false"),
        ]
    );
    d.wait_log(
        "DNS settings go to systemd-resolved",
        Duration::from_secs(1),
    );
    assert_eq!(addresses(&lab, CLIENT_IF), [addr]);

    release(&lab, CLIENT_IF);
    assert_eq!(
        fake.calls().last().cloned(),
        Some(format!("RevertLink {index}")),
        "{:?}",
        fake.calls()
    );
    assert_eq!(fake.calls().len(), 3, "{:?}", fake.calls());
    assert_eq!(read(&resolv), ORIGINAL, "resolv.conf is left alone");
    assert!(
        !lab.dir.join("run/dns").exists(),
        "no DNS records in resolved mode"
    );
    lab.assert_netns_resolv_untouched();
}

#[test]
fn resolved_mode_gives_the_link_its_servers_and_domains_over_dbus() {
    resolved_case("resolved");
}

#[test]
fn auto_picks_resolved_when_it_is_on_the_system_bus() {
    resolved_case("auto");
}
