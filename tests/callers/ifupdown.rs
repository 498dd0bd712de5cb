//! ifupdown (Debian 12's 0.8.41), its own `ifup` and `ifdown` from the package with the
//! package's /etc/network hook directories, on `iface vc inet dhcp` stanzas, against ISC dhcpd.
//! Each test runs `ifup -i FILE --state-dir DIR vc` and `ifdown` likewise; ifupdown runs
//! `dhclient` with its method table's command line, and dhcpc answers it.
//!
//! After ifup: the address from the pool, option 121's routes (the default route with the
//! stanza's metric), the sandbox's resolv.conf, the pid file naming a running dhcpc, the lease
//! file, and what dhcpd recorded of what was sent (client identifier, host name, vendor class).
//! After ifdown: dhcpd's database shows the lease released, the daemon and the address gone.
//! The link starts down, as at boot.
//!
//! ifupdown's table passes `hostname`, `vendor` and `leasetime` on the command line for dhcpcd,
//! pump and udhcpc only; for dhclient it passes `client` (no `-i` with `client no`) and
//! `metric` (`-e IF_METRIC=N`). Every option is also in the command's environment
//! (`IF_HOSTNAME`, `IF_VENDOR`, ...), which is what dhclient has of the others.

use crate::common::*;
use crate::dhcpd::{self, ServerLease, POOL};
use crate::{exit_hook, hook_runs};
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Longer than dhclient's own 60 s for a lease (ifup waits for it).
const DEADLINE: Duration = Duration::from_secs(90);
/// The sandbox's host name (the base sandbox sets it), which `send host-name = gethostname();`
/// in Debian's dhclient.conf sends.
const SANDBOX_HOSTNAME: &str = "dhcpc-sandbox";

/// A lab with dhcpd, a sandbox with ifupdown's /etc/network, and a stanza. Fields drop in order:
/// the sandbox before the lab.
struct Ifupdown {
    sandbox: Sandbox,
    lab: Lab,
    root: PathBuf,
    interfaces: PathBuf,
    state: PathBuf,
    /// Whether dhcpd sends option 121.
    classless: bool,
    /// What the sandbox's dhclient exit hook recorded.
    hooks: PathBuf,
}

/// What one ifup brought.
struct Up {
    address: Ipv4Addr,
    pid: u32,
    server: ServerLease,
}

impl Ifupdown {
    /// `iface vc inet dhcp` with `options` (lines such as `metric 7`), against a dhcpd that sends
    /// option 121.
    fn new(options: &[&str]) -> Ifupdown {
        Ifupdown::with_server(options, true)
    }

    /// [`Ifupdown::new`], option 121 sent only when `classless`.
    fn with_server(options: &[&str], classless: bool) -> Ifupdown {
        let mut lab = Lab::with_options(LabOptions {
            client_up: false,
            ..LabOptions::default()
        });
        dhcpd::start(&mut lab, classless);
        let root = extract_deb(&lab, "ifupdown");
        // The package's /etc/network (if-up.d and the rest), where installing it would put it:
        // in the sandbox's /etc only.
        let hooks = lab.dir.join("exit-hook.log");
        let sandbox = Sandbox::new(
            &lab,
            &format!(
                "cp -a {}/etc/network /etc/network\n{}",
                root.display(),
                exit_hook(&hooks)
            ),
        );
        let interfaces = lab.dir.join("interfaces");
        let mut stanza = format!("iface {CLIENT_IF} inet dhcp\n");
        for o in options {
            stanza.push_str(&format!("    {o}\n"));
        }
        fs::write(&interfaces, stanza).expect("writing the interfaces file");
        let state = lab.dir.join("ifstate");
        fs::create_dir_all(&state).expect("ifupdown's state dir");
        Ifupdown {
            sandbox,
            lab,
            root,
            interfaces,
            state,
            classless,
            hooks,
        }
    }

    /// Runs the package's `ifup` or `ifdown` on the stanza.
    fn run(&self, verb: &str) -> Output {
        let files = (
            self.root.as_path(),
            self.interfaces.as_path(),
            self.state.as_path(),
        );
        run_ifupdown(&self.sandbox, &self.lab, files, verb)
    }

    /// `ifup`, and what it must have brought whatever the options.
    fn ifup(&self) -> Up {
        let out = self.run("ifup");
        // Debian's stock dhclient.conf is dhclient.conf: none of it is left out with a warning.
        let left_out: Vec<String> = stderr(&out)
            .lines()
            .filter(|l| l.contains("warning") && l.contains("dhclient.conf"))
            .map(str::to_string)
            .collect();
        assert!(left_out.is_empty(), "{left_out:?}");
        let addrs: Vec<Ipv4Addr> = self.lab.client_addrs().iter().map(|a| a.local).collect();
        let [address] = addrs[..] else {
            panic!(
                "not one address on {CLIENT_IF} after ifup: {addrs:?}\n{}",
                describe(&out)
            );
        };
        assert!(in_pool(address, POOL), "{address} is not dhcpd's");
        // Without -sf, dhclient runs /sbin/dhclient-script, and it its hooks.
        let bound = |l: &String| {
            (l.starts_with("BOUND ") || l.starts_with("REBOOT "))
                && l.contains(&address.to_string())
        };
        assert!(
            wait_for(Duration::from_secs(5), || hook_runs(&self.hooks)
                .iter()
                .any(bound)),
            "dhclient-script's exit hooks did not run for {address}: {:?}",
            hook_runs(&self.hooks)
        );
        let routes = self.lab.client_routes();
        let via = |dst: &str| {
            routes
                .iter()
                .any(|r| r.dst == dst && r.gateway == Some(Ipv4Addr::new(198, 51, 100, 1)))
        };
        assert!(
            via("default"),
            "no default route via dhcpd's router: {routes:?}"
        );
        assert!(
            via("203.0.113.0/24") == self.classless,
            "option 121's route (sent: {}): {routes:?}",
            self.classless
        );
        let resolv = self.sandbox.read("/etc/resolv.conf").unwrap_or_default();
        assert!(
            resolv.contains("nameserver 198.51.100.1") && resolv.contains("lab.test"),
            "the sandbox's resolv.conf: {resolv:?}"
        );
        let pid_file = format!("/run/dhclient.{CLIENT_IF}.pid");
        let pid = self
            .sandbox
            .pid_in(&pid_file)
            .unwrap_or_else(|| panic!("no pid in {pid_file}: {:?}", self.sandbox.read(&pid_file)));
        assert!(
            self.sandbox.alive(pid) && self.sandbox.runs_dhcpc(pid),
            "{pid_file} names {pid}, which is not a running dhcpc"
        );
        let lease_file = format!("/var/lib/dhcp/dhclient.{CLIENT_IF}.leases");
        let leases = self.sandbox.read(&lease_file).unwrap_or_default();
        assert!(
            leases.contains(&format!("fixed-address {address};")),
            "{lease_file}: {leases:?}"
        );
        let server = dhcpd::lease_of(&self.lab, address)
            .filter(|l| l.state == "active")
            .unwrap_or_else(|| panic!("dhcpd has no active lease of {address}"));
        Up {
            address,
            pid,
            server,
        }
    }

    /// `ifdown`, and what it must have undone.
    fn ifdown(&self, up: &Up) {
        self.run("ifdown");
        let released =
            |l: &String| l.starts_with("RELEASE ") && l.contains(&up.address.to_string());
        assert!(
            wait_for(Duration::from_secs(5), || hook_runs(&self.hooks)
                .iter()
                .any(released)),
            "dhclient-script's exit hooks did not see the release: {:?}",
            hook_runs(&self.hooks)
        );
        let released = wait_for(Duration::from_secs(5), || {
            dhcpd::lease_of(&self.lab, up.address)
                .is_some_and(|l| l.state == "free" || l.state == "released")
        });
        assert!(
            released
                && self
                    .lab
                    .server_logs()
                    .contains(&format!("DHCPRELEASE of {}", up.address)),
            "dhcpd's database does not show {} released: {:?}\n{}",
            up.address,
            dhcpd::lease_of(&self.lab, up.address),
            self.lab.server_logs()
        );
        assert!(
            wait_for(Duration::from_secs(5), || !self.sandbox.alive(up.pid)),
            "dhcpc ({}) is still running after ifdown",
            up.pid
        );
        assert!(
            self.lab.client_addrs().is_empty(),
            "{:?}",
            self.lab.client_addrs()
        );
        let pid_file = format!("/run/dhclient.{CLIENT_IF}.pid");
        assert!(!self.sandbox.path(&pid_file).exists(), "{pid_file} is left");
    }

    /// The `default-duid` dhclient keeps in the lease file (`-lf`) or the DUID file (`-df`).
    fn saved_duid(&self) -> Option<Vec<u8>> {
        ["dhclient", "dhclient6"].iter().find_map(|f| {
            let text = self
                .sandbox
                .read(&format!("/var/lib/dhcp/{f}.{CLIENT_IF}.leases"))?;
            let line = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("default-duid "))?;
            Some(dhcpd::bytes_of(line.trim_end_matches(';')))
        })
    }
}

/// Without options ifupdown passes `-i`: an RFC 4361 client identifier (0xff, a 4-byte IAID, the
/// DUID) whose DUID dhclient saves as `default-duid` and sends again on the next ifup; and
/// Debian's dhclient.conf sends the host name.
#[test]
fn ifup_and_ifdown_a_plain_dhcp_stanza() {
    let t = Ifupdown::new(&[]);
    let up = t.ifup();
    let uid = up
        .server
        .uid
        .clone()
        .expect("no client identifier reached dhcpd");
    assert!(
        uid.len() >= 1 + 4 + 4 && uid[0] == 0xff,
        "not an RFC 4361 client identifier (0xff, IAID, DUID): {}",
        dhcpd::hex(&uid)
    );
    let duid = t
        .saved_duid()
        .unwrap_or_else(|| panic!("no default-duid in the lease file or the DUID file after ifup"));
    assert_eq!(
        dhcpd::hex(&uid[5..]),
        dhcpd::hex(&duid),
        "the DUID sent is not the one saved"
    );
    assert_eq!(up.server.hostname.as_deref(), Some(SANDBOX_HOSTNAME));
    let metric = t
        .lab
        .client_routes()
        .iter()
        .find(|r| r.is_default())
        .map(|r| r.metric);
    assert_eq!(metric, Some(0), "no metric given, none set");
    t.ifdown(&up);
    let again = t.ifup();
    assert_eq!(
        again.server.uid.as_deref().map(dhcpd::hex),
        Some(dhcpd::hex(&uid)),
        "the second ifup sent another client identifier"
    );
    t.ifdown(&again);
}

/// `hostname X`: the server is told X (ifupdown has it in IF_HOSTNAME).
#[test]
fn ifup_sends_the_stanzas_hostname() {
    let t = Ifupdown::new(&["hostname ifup-host"]);
    let up = t.ifup();
    assert_eq!(
        up.server.hostname.as_deref(),
        Some("ifup-host"),
        "dhcpd's record: {:?}",
        up.server
    );
    t.ifdown(&up);
}

/// `metric 7`: ifupdown passes `-e IF_METRIC=7`; the default route has that metric. (From the
/// router option: the routes of option 121 are set by Debian's rfc3442-classless-routes hook,
/// which has no metric, under dhclient as under dhcpc.)
#[test]
fn ifup_sets_the_stanzas_metric() {
    let t = Ifupdown::with_server(&["metric 7"], false);
    let up = t.ifup();
    let defaults: Vec<u32> = t
        .lab
        .client_routes()
        .iter()
        .filter(|r| r.is_default())
        .map(|r| r.metric)
        .collect();
    assert_eq!(defaults, [7], "{:?}", t.lab.client_routes());
    t.ifdown(&up);
}

/// `client no`: ifupdown drops `-i`, so no DUID-based identifier is sent (ISC dhclient then
/// sends none; the hardware address is what identifies the client).
#[test]
fn ifup_with_client_no_sends_no_duid() {
    let t = Ifupdown::new(&["client no"]);
    let up = t.ifup();
    let mac: Vec<u8> = t
        .lab
        .client_link()
        .mac
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    let hardware = [&[1u8][..], &mac].concat();
    assert!(
        up.server.uid.as_ref().is_none_or(|u| *u == hardware),
        "client no, yet the client identifier is {}",
        dhcpd::hex(up.server.uid.as_deref().unwrap_or_default())
    );
    t.ifdown(&up);
}

/// `vendor V`: the server is told the vendor class V (ifupdown has it in IF_VENDOR).
#[test]
fn ifup_sends_the_stanzas_vendor_class() {
    let t = Ifupdown::new(&["vendor ifup-vendor"]);
    let up = t.ifup();
    assert_eq!(
        up.server.vendor.as_deref(),
        Some("ifup-vendor"),
        "dhcpd's record: {:?}",
        up.server
    );
    t.ifdown(&up);
}

/// `leasetime 300`: the lease time asked for (ifupdown has it in IF_LEASETIME), which dhcpd
/// grants within its maximum.
#[test]
fn ifup_asks_for_the_stanzas_lease_time() {
    let t = Ifupdown::new(&["leasetime 300"]);
    let up = t.ifup();
    let lease_file = format!("/var/lib/dhcp/dhclient.{CLIENT_IF}.leases");
    let leases = t.sandbox.read(&lease_file).unwrap_or_default();
    assert!(
        leases.contains("option dhcp-lease-time 300;"),
        "{lease_file}: {leases}"
    );
    t.ifdown(&up);
}

/// Runs ifupdown's `verb` (`ifup`, `ifdown`) of the package unpacked at `root` in `sandbox`,
/// `-v` (it prints each command) on the client's interface, with its interfaces file and state
/// directory; fails the test (with the servers' logs) unless it exits 0.
pub fn run_ifupdown(
    sandbox: &Sandbox,
    lab: &Lab,
    (root, interfaces, state): (&Path, &Path, &Path),
    verb: &str,
) -> Output {
    let args = [
        "-v",
        "-i",
        interfaces.to_str().expect("UTF-8 path"),
        "--state-dir",
        state.to_str().expect("UTF-8 path"),
        CLIENT_IF,
    ];
    let out = sandbox.run(root.join("sbin").join(verb), &args, DEADLINE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{verb} (ifupdown {}) failed\n{}\n{}",
        deb_version("ifupdown"),
        describe(&out),
        lab.server_logs()
    );
    out
}
