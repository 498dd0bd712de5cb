//! dhcpc@.service where users run it: under a real systemd (Debian 12's, 252) booted as PID 1
//! of a systemd-nspawn container, with this tree's Debian package installed in the container's
//! root and `systemctl enable dhcpc@host0` done before the boot, as an image is made. The
//! container's host0 is one end of a lab's veth pair, dnsmasq serves the other end.
//!
//! Without udev (a minbase root, nspawn's read-only /sys: systemd cannot start device units
//! there, as in LXC and Proxmox containers): the unit starts at boot and binds before
//! network-online.target, stays up while its interface goes away and comes back, does not
//! restart a status 4 and stops restarting a status 3 after 5 starts; `systemctl stop` keeps the
//! lease, `dhcpc -r` releases it.
//!
//! DHCPv6 (dhcpc6@.service), in a boot of its own whose lab speaks IPv6 (dnsmasq serving both
//! protocols' addresses and DNS servers), with no unit enabled at boot: `systemctl enable --now
//! dhcpc6@host0` binds (READY=1 once bound), the unit's exposure, resolv.conf and `--status`;
//! then dhcpc@host0 beside it, two units, two leases, one resolv.conf; `systemctl stop` and
//! `dhcpc -6 -r` give the DHCPv6 lease back and leave the DHCPv4 one alone.
//!
//! With udev (udev in the root, /sys writable so that systemd-udevd runs and processes host0):
//! the same boot, then the interface's device unit and hotplug: the unit stopped, the interface
//! taken away and given back, and its appearing starts the unit. systemd subscribes to udev's
//! events only when udev's control socket exists as it starts, or /dev is a devtmpfs; neither
//! holds in a container, so the test re-executes PID 1 once udevd runs (`systemctl
//! daemon-reexec`), as a later start of systemd on a host would find udev there.
//!
//! Root tier (`--features root-tests`): needs root, debootstrap, systemd-container, dnsmasq and
//! dpkg-dev (`sudo scripts/test` installs them), and Debian's archive the first time (the root
//! is then kept under /var/cache/dhcpc-tests/).

#[path = "../common/mod.rs"]
mod common;

mod machine;
mod root;

use common::{addrs6_in, enable_ipv6_in, exposure_score, in_pool6, parse_addrs, sh, wait_for};
use common::{Addr6Info, Lab, LabOptions, CLIENT_IF, DNS6, SERVER6};
use machine::{Boot, Machine};
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

/// The container's interface (nspawn's name for it).
const IF: &str = "host0";
const UNIT: &str = "dhcpc@host0.service";
const UNIT6: &str = "dhcpc6@host0.service";
const DEVICE: &str = "sys-subsystem-net-devices-host0.device";
const DNSMASQ: &[&str] = &[
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,1h",
    "--dhcp-option=option:router,198.51.100.1",
];
/// The DNS server dnsmasq names in DHCPv4 in the lab that speaks IPv6 too.
const DNS4: &str = "198.51.100.53";
/// How long a lease may take (dhcpc's own retransmissions start at 4 s).
const LEASE_WAIT: Duration = Duration::from_secs(30);

/// A service that needs the network, as any image has: ordered after network-online.target,
/// it writes down the addresses host0 has as it starts.
const NEEDS_NETWORK: &str = "[Unit]
Wants=network-online.target
After=network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip -4 -o addr show dev host0 > /run/needs-network'
[Install]
WantedBy=multi-user.target
";

/// dhcpc@host1 without CAP_NET_RAW: its packet socket is refused, for good (status 4).
const NO_RAW: &str = "[Service]
AmbientCapabilities=~CAP_NET_RAW
CapabilityBoundingSet=~CAP_NET_RAW
";

/// dhcpc@nosuch0 run without --allow-missing, for an interface that never comes: status 3,
/// which may pass (an interface may appear), so it is tried again, but not for ever.
const NOT_WAITING: &str = "[Service]
ExecStart=
ExecStart=/usr/sbin/dhcpc --foreground --resolv-conf /run/dhcpc/resolv.conf %I
";

/// udev in the container triggers the network devices only: the container shares the host's
/// /sys/devices, and an "add" for every device would reach the host's block devices too.
const TRIGGER_NET_ONLY: &str = "[Service]
ExecStart=
ExecStart=-udevadm trigger --type=devices --action=add --subsystem-match=net
";

/// A booted container and its lab. The machine is dropped (halted) before the lab (whose
/// namespaces it runs in): fields drop in this order.
struct Booted {
    machine: Machine,
    lab: Lab,
}

impl Booted {
    /// A lab with dnsmasq, host0 (and host1) in the container's namespace, a root with the
    /// packages `include` and dhcpc's package, `dhcpc@host0` enabled, booted.
    fn new(include: &[&str], udev: bool) -> Booted {
        Booted::boot(include, udev, false)
    }

    /// The same lab speaking IPv6 as well (see [`setup_ipv6`]), dnsmasq naming [`DNS4`] as
    /// DHCPv4's DNS server, and no unit enabled at boot: the test starts them.
    fn new_dual_stack() -> Booted {
        Booted::boot(root::BASE, false, true)
    }

    /// A lab (with IPv6 when `ipv6`), a root with the packages `include` and dhcpc's package
    /// (`dhcpc@host0` enabled unless `ipv6`), booted (udev running when `udev`).
    fn boot(include: &[&str], udev: bool, ipv6: bool) -> Booted {
        let mut lab = Lab::with_options(LabOptions {
            client_up: false,
            ..LabOptions::default()
        });
        let ns = lab.client_ns.clone();
        sh("ip", &["-n", &ns, "link", "set", CLIENT_IF, "name", IF]);
        lab.veth(&lab.server_ns.clone(), "vs1", &ns, "host1");
        let dns4 = format!("--dhcp-option=option:dns-server,{DNS4}");
        let mut dnsmasq = DNSMASQ.to_vec();
        if ipv6 {
            dnsmasq.push(&dns4);
            setup_ipv6(&mut lab);
        }
        lab.start_dnsmasq(&dnsmasq);
        let root = lab.dir.join("root");
        root::make(include, &root);
        configure(&root, udev, !ipv6);
        let name = machine::machine_name(ns.trim_end_matches('c'));
        let machine = Machine::boot(Boot {
            root: &root,
            netns: &ns,
            name: &name,
            writable_sys: udev,
            log: lab.dir.join("console.log"),
        });
        Booted { machine, lab }
    }

    /// The IPv4 addresses on the container's host0 (seen from the host: the container is in
    /// the lab's namespace).
    fn addresses(&self) -> Vec<Ipv4Addr> {
        let ns = &self.lab.client_ns;
        match common::sh_quiet("ip", &["-n", ns, "-j", "-4", "addr", "show", "dev", IF]) {
            Some(text) => parse_addrs(&text).into_iter().map(|a| a.local).collect(),
            None => Vec::new(),
        }
    }

    /// Waits until the unit says host0 is bound; the address it names.
    fn wait_bound(&self) -> Ipv4Addr {
        let mut status = String::new();
        let bound = wait_for(LEASE_WAIT, || {
            status = self.machine.show(UNIT, "StatusText");
            status.starts_with("host0: BOUND ")
        });
        assert!(
            bound,
            "{UNIT} not bound: {status:?}\n{}",
            self.lab.server_logs()
        );
        let address = status["host0: BOUND ".len()..]
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {status:?}"));
        assert!(
            self.addresses().contains(&address),
            "{status}, but host0 has {:?}",
            self.addresses()
        );
        address
    }

    /// The IPv6 addresses on the container's host0, link-local ones left out.
    fn addresses6(&self) -> Vec<Addr6Info> {
        addrs6_in(&self.lab.client_ns, IF)
            .into_iter()
            .filter(|a| !a.is_link_local())
            .collect()
    }

    /// What dnsmasq's DHCPv6 instance logged so far.
    fn dnsmasq6_log(&self) -> String {
        self.lab.server_log("dnsmasq6")
    }

    /// Moves host0 out of the container (into the server's namespace: to the container it is
    /// removed) and, after `meanwhile`, back (it appears again, down).
    fn replug(&self, meanwhile: impl FnOnce()) {
        let (s, c) = (&self.lab.server_ns, &self.lab.client_ns);
        sh("ip", &["-n", c, "link", "set", IF, "netns", s]);
        meanwhile();
        sh("ip", &["-n", s, "link", "set", IF, "netns", c]);
    }
}

/// IPv6 on both ends of host0's veth, set (before the boot) in the namespaces the container
/// and dnsmasq run in: the server's end without DAD, holding 2001:db8:1::1/64 (nodad); host0
/// with DAD. As `Lab::enable_ipv6` does for the lab's own pair, but without waiting for
/// link-local addresses, which come with the carrier: host0 stays down until dhcpc brings it
/// up. Then dnsmasq for DHCPv6 (a second instance, "dnsmasq6"): addresses from
/// 2001:db8:1::100 to ::1ff, 2 min leases, DNS server 2001:db8:1::53.
fn setup_ipv6(lab: &mut Lab) {
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    enable_ipv6_in(&s, lab.server_if, false);
    sh(
        "ip",
        &[
            "-n",
            &s,
            "-6",
            "addr",
            "add",
            &format!("{SERVER6}/64"),
            "dev",
            lab.server_if,
            "nodad",
        ],
    );
    // The server's link-local address comes (at once, no DAD) when dhcpc brings host0 up,
    // before dhcpc sends anything: it waits for DAD on its own link-local address first.
    enable_ipv6_in(&c, IF, true);
    lab.start_dnsmasq6(&[]);
}

/// What the image is given besides the package: the unit enabled for host0 (when
/// `enable_dhcpc`), a service that needs the network, drop-ins for the two instances that must
/// fail, and (with udev) the trigger kept to network devices.
fn configure(root: &Path, udev: bool, enable_dhcpc: bool) {
    if enable_dhcpc {
        root::chroot(root, &["systemctl", "enable", "dhcpc@host0"]);
    }
    root::write(
        root,
        "/etc/systemd/system/needs-network.service",
        NEEDS_NETWORK,
    );
    root::chroot(root, &["systemctl", "enable", "needs-network.service"]);
    let dropin = |unit: &str, text: &str| {
        root::write(
            root,
            &format!("/etc/systemd/system/{unit}.d/test.conf"),
            text,
        );
    };
    dropin("dhcpc@host1.service", NO_RAW);
    dropin("dhcpc@nosuch0.service", NOT_WAITING);
    if udev {
        dropin("systemd-udev-trigger.service", TRIGGER_NET_ONLY);
    }
}

/// The unit started at boot, was bound when systemd took it as started (READY=1), and before
/// network-online.target: a service ordered after that target found the address on host0.
fn assert_bound_before_online(b: &Booted) -> Ipv4Addr {
    let m = &b.machine;
    let address = b.wait_bound();
    let at = |unit: &str| -> u64 {
        let t = m.show(unit, "ActiveEnterTimestampMonotonic");
        t.parse().unwrap_or_else(|_| panic!("{unit}: {t:?}"))
    };
    let (ready, online) = (at(UNIT), at("network-online.target"));
    assert!(
        ready > 0 && online >= ready,
        "{UNIT} ready at {ready} µs, network-online.target reached at {online} µs\n{}",
        m.journal()
    );
    let seen = m.ok(&["cat", "/run/needs-network"]);
    assert!(
        seen.contains(&format!(" {address}/24 ")),
        "a service after network-online.target saw on host0: {seen:?}, not {address}"
    );
    address
}

/// `systemd-analyze security` in the container scores the running `unit` at most 1.5.
fn assert_exposure(m: &Machine, unit: &str) {
    let text = m.ok(&["systemd-analyze", "security", "--no-pager", unit]);
    let score = exposure_score(&text);
    assert!(score <= 1.5, "exposure {score} > 1.5:\n{text}");
}

/// `systemctl stop` keeps the lease on host0; `dhcpc -r host0` then releases it: dnsmasq sees
/// the DHCPRELEASE and the address goes.
fn assert_stop_then_release(b: &Booted, address: Ipv4Addr) {
    let m = &b.machine;
    m.ok(&["systemctl", "stop", UNIT]);
    assert_eq!(m.show(UNIT, "ActiveState"), "inactive");
    assert!(b.addresses().contains(&address), "stop must keep the lease");
    let out = m.ok(&["dhcpc", "-r", IF]);
    assert_eq!(out.trim(), format!("{IF}: released {address}"));
    let log = b.lab.dnsmasq_log();
    let released = wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(&log)
            .is_ok_and(|l| l.contains(&format!("DHCPRELEASE(vs) {address}")))
    });
    assert!(released, "dnsmasq saw no release\n{}", b.lab.server_logs());
    assert!(
        !b.addresses().contains(&address),
        "released, still on host0"
    );
}

#[test]
fn without_udev_the_unit_starts_at_boot_and_binds_before_network_online() {
    let b = Booted::new(root::BASE, false);
    let m = &b.machine;
    // This is the case the unit failed in: systemd cannot start a device unit here.
    let dev = m.run(&["systemctl", "start", DEVICE]);
    assert!(
        !dev.status.success(),
        "device units work here: not the case under test"
    );
    let said = wait_for(Duration::from_secs(5), || {
        m.journal()
            .lines()
            .any(|l| l.contains(&format!("Starting of {DEVICE}")) && l.contains("unsupported"))
    });
    assert!(
        said,
        "no word of the device unit being unsupported\n{}",
        m.journal()
    );
    // Started now, to be looked at once the rest is done (their restarts take 10 s).
    m.ok(&[
        "systemctl",
        "start",
        "--no-block",
        "dhcpc@host1",
        "dhcpc@nosuch0",
    ]);

    let address = assert_bound_before_online(&b);
    assert_exposure(m, UNIT);
    assert_interface_may_go_and_come_back(&b);
    assert_restarts(m);
    assert_stop_then_release(&b, address);
}

/// No BindsTo= the device: host0 taken away and given back, the same dhcpc waits for it and
/// binds again.
fn assert_interface_may_go_and_come_back(b: &Booted) {
    let m = &b.machine;
    let pid = m.show(UNIT, "MainPID");
    b.replug(|| {
        let waiting = wait_for(Duration::from_secs(10), || {
            m.show(UNIT, "StatusText") == "host0: waiting for the interface"
        });
        assert!(waiting, "{}", m.show(UNIT, "StatusText"));
        assert_eq!(m.show(UNIT, "ActiveState"), "active");
    });
    b.wait_bound();
    assert_eq!(
        m.show(UNIT, "MainPID"),
        pid,
        "the same dhcpc, never restarted"
    );
}

/// Status 4 (no CAP_NET_RAW) is not restarted; status 3 (no such interface, without
/// --allow-missing) is, 5 starts in all, then the unit stays failed.
fn assert_restarts(m: &Machine) {
    let settled = |unit: &str, restarts: &str| {
        wait_for(Duration::from_secs(40), || {
            m.show(unit, "ActiveState") == "failed" && m.show(unit, "NRestarts") == restarts
        })
    };
    assert!(settled("dhcpc@host1.service", "0"), "{}", m.journal());
    assert_eq!(m.show("dhcpc@host1.service", "ExecMainStatus"), "4");
    let said = m.ok(&["journalctl", "-u", "dhcpc@host1.service", "--no-pager"]);
    assert!(said.contains("lacks CAP_NET_RAW"), "{said}");
    assert!(settled("dhcpc@nosuch0.service", "5"), "{}", m.journal());
    assert_eq!(m.show("dhcpc@nosuch0.service", "ExecMainStatus"), "3");
    let journal = m.journal();
    assert!(
        journal.contains("dhcpc@nosuch0.service: Start request repeated too quickly."),
        "{journal}"
    );
    // Neither is started again: the unit's limits, not a pause between two tries.
    let more = wait_for(Duration::from_secs(3), || {
        m.show("dhcpc@host1.service", "NRestarts") != "0"
            || m.show("dhcpc@nosuch0.service", "NRestarts") != "5"
    });
    assert!(!more, "restarted again\n{}", m.journal());
}

#[test]
fn with_udev_the_unit_starts_at_boot_and_when_the_interface_appears() {
    let b = Booted::new(root::WITH_UDEV, true);
    let m = &b.machine;
    assert_eq!(m.show("systemd-udevd.service", "ActiveState"), "active");
    m.ok(&["udevadm", "settle", "--timeout=30"]);
    let props = m.ok(&["udevadm", "info", "-q", "property", "/sys/class/net/host0"]);
    assert!(
        props.contains("TAGS=:systemd:"),
        "udev did not process host0: {props}"
    );

    let address = assert_bound_before_online(&b);
    assert_exposure(m, UNIT);

    // systemd hears udev from now on: host0's device unit appears, and wants the unit.
    m.ok(&["systemctl", "daemon-reexec"]);
    let plugged = wait_for(Duration::from_secs(10), || {
        m.show(DEVICE, "ActiveState") == "active"
    });
    assert!(
        plugged,
        "{DEVICE}: {}\n{}",
        m.show(DEVICE, "ActiveState"),
        m.journal()
    );
    assert!(m.show(DEVICE, "Wants").split(' ').any(|u| u == UNIT));

    // Hotplug: the unit stopped, host0 goes and comes back; nothing but its device unit
    // starts the unit again.
    m.ok(&["systemctl", "stop", UNIT]);
    b.replug(|| {
        let gone = wait_for(Duration::from_secs(10), || {
            m.show(DEVICE, "ActiveState") == "inactive"
        });
        assert!(gone, "{DEVICE} still {}", m.show(DEVICE, "ActiveState"));
    });
    let started = wait_for(Duration::from_secs(10), || {
        m.show(UNIT, "ActiveState") == "active"
    });
    assert!(
        started,
        "host0 came back and {UNIT} was not started\n{}",
        m.journal()
    );
    assert_eq!(
        b.wait_bound(),
        address,
        "the same interface, the same lease"
    );
    assert_stop_then_release(&b, address);
}

/// dhcpc6@.service under systemd: started by hand (`systemctl enable --now`), it binds an
/// address from dnsmasq's pool, scores at most 1.5, writes the DNS server to
/// /run/dhcpc/resolv.conf and reports BOUND to `dhcpc --status`. dhcpc@host0 then runs beside
/// it: both leases on host0, both servers in the one resolv.conf. `systemctl stop` keeps the
/// DHCPv6 lease and `dhcpc -6 -r` gives it back (dnsmasq sees the RELEASE), the DHCPv4 lease
/// and its daemon left as they were.
#[test]
fn dhcpv6_unit_binds_and_runs_beside_the_dhcpv4_unit() {
    let b = Booted::new_dual_stack();
    let m = &b.machine;
    for unit in [UNIT, UNIT6] {
        assert_eq!(m.show(unit, "ActiveState"), "inactive", "{unit} at boot");
    }

    // Type=notify: `systemctl start` returns once READY=1 came, and dhcpc sends it once bound
    // (or once --timeout is over, with a status that says so).
    m.ok(&["systemctl", "enable", "--now", "dhcpc6@host0"]);
    assert_eq!(m.show(UNIT6, "ActiveState"), "active");
    let status = m.show(UNIT6, "StatusText");
    let address = bound6_address(&status).unwrap_or_else(|| {
        panic!(
            "{UNIT6} ready but not bound: {status:?}\n{}",
            b.lab.server_logs()
        )
    });
    assert!(in_pool6(address), "{address} is not from dnsmasq's pool");
    assert_holds6(&b, address);
    assert_exposure(m, UNIT6);
    let resolv = resolv_conf(m);
    assert!(resolv.contains(&format!("nameserver {DNS6}\n")), "{resolv}");
    let v6 = status6(m);
    assert_eq!(v6["state"], "BOUND", "{v6}");
    assert_eq!(v6["address"], address.to_string(), "{v6}");

    // DHCPv4 beside it: a unit of its own, a process of its own.
    m.ok(&["systemctl", "enable", "--now", "dhcpc@host0"]);
    let address4 = b.wait_bound();
    for unit in [UNIT, UNIT6] {
        assert_eq!(m.show(unit, "ActiveState"), "active", "{unit}");
    }
    assert_ne!(m.show(UNIT, "MainPID"), m.show(UNIT6, "MainPID"));
    assert_holds6(&b, address);
    assert!(b.addresses().contains(&address4), "{:?}", b.addresses());
    let resolv = resolv_conf(m);
    for server in [DNS4.to_string(), DNS6.to_string()] {
        assert!(
            resolv.contains(&format!("nameserver {server}\n")),
            "{resolv}"
        );
    }
    assert_eq!(status6(m)["state"], "BOUND");

    // The DHCPv6 unit stopped keeps its lease; `dhcpc -6 -r`, as the unit's comment says it,
    // releases it: its DNS settings leave /run/dhcpc/resolv.conf, the file the daemon wrote
    // them to, though the release's own --resolv-conf is the default /etc/resolv.conf.
    let pid4 = m.show(UNIT, "MainPID");
    m.ok(&["systemctl", "stop", "dhcpc6@host0"]);
    assert_eq!(m.show(UNIT6, "ActiveState"), "inactive");
    assert_holds6(&b, address);
    let out = m.ok(&["dhcpc", "-6", "-r", IF]);
    assert!(out.contains(&format!("released {address}/128")), "{out}");
    let released = wait_for(Duration::from_secs(5), || {
        b.dnsmasq6_log().contains("DHCPRELEASE(vs)")
    });
    assert!(released, "dnsmasq saw no release\n{}", b.lab.server_logs());
    assert!(
        !b.addresses6().iter().any(|a| a.local == address),
        "released, still on host0: {:?}",
        b.addresses6()
    );

    // DHCPv4 went on as it was: the same daemon, bound, its address, no release.
    assert_eq!(m.show(UNIT, "ActiveState"), "active");
    assert_eq!(m.show(UNIT, "MainPID"), pid4);
    assert_eq!(b.wait_bound(), address4);
    let log4 = std::fs::read_to_string(b.lab.dnsmasq_log()).unwrap_or_default();
    assert!(!log4.contains("DHCPRELEASE"), "{log4}");
    let resolv = resolv_conf(m);
    assert!(resolv.contains(&format!("nameserver {DNS4}\n")), "{resolv}");
    assert!(!resolv.contains(&DNS6.to_string()), "{resolv}");
}

/// The address in a dhcpc6@ unit's status when bound: `host0:6: DHCPv6 BOUND 2001:db8:1::1a7/128,
/// dns ...`.
fn bound6_address(status: &str) -> Option<Ipv6Addr> {
    status
        .strip_prefix("host0:6: DHCPv6 BOUND ")?
        .split_once("/128")?
        .0
        .parse()
        .ok()
}

/// host0 holds `address` as a /128 with a lifetime (a lease's, not forever).
fn assert_holds6(b: &Booted, address: Ipv6Addr) {
    let held = b.addresses6();
    let a = held
        .iter()
        .find(|a| a.local == address)
        .unwrap_or_else(|| panic!("{address} is not on host0: {held:?}"));
    assert_eq!(a.prefixlen, 128, "{a:?}");
    assert!(a.valid_lft < u64::from(u32::MAX), "{a:?}");
}

/// The resolv.conf the units write.
fn resolv_conf(m: &Machine) -> String {
    m.ok(&["cat", "/run/dhcpc/resolv.conf"])
}

/// The DHCPv6 entry of `dhcpc --status --json -6 host0`, asked in the container.
fn status6(m: &Machine) -> Value {
    let text = m.ok(&["dhcpc", "--status", "--json", "-6", IF]);
    let all: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("--status --json ({e}): {text}"));
    all.as_array()
        .into_iter()
        .flatten()
        .find(|v| v["protocol"] == "dhcpv6")
        .cloned()
        .unwrap_or_else(|| panic!("no DHCPv6 entry in {text}"))
}
