//! cloud-init (Debian 12's 22.4), its own DHCP discovery imported from the package by Debian's
//! /usr/bin/python3, in a sandbox with no journald and no /dev/log (a container, a minimal
//! image), against dnsmasq sending option 121 and Azure's option 245.
//!
//! cloud-init runs `dhclient -1 -v -lf /run/dhclient.lease -pf /run/dhclient.pid IF -sf
//! /bin/true` through pipes and waits for the command to end, then for the daemon to be the
//! child of pid 1, kills it and reads the lease file with its own parser. Each run is under a
//! deadline: a discovery that does not return fails the test (it does not hang it), and the
//! failure names the descriptors the daemon left behind still holds.

use crate::common::*;
use crate::{exit_hook, hook_runs};
use serde_json::Value;
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// How long cloud-init's discovery may take (it takes well under a second when it works).
const LIMIT_SECS: u64 = 20;
const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
const DNSMASQ: &[&str] = &[
    "--no-ping",
    "--dhcp-range=198.51.100.50,198.51.100.150,255.255.255.0,10m",
    "--dhcp-option=option:router,198.51.100.1",
    "--dhcp-option=option:dns-server,198.51.100.1",
    "--dhcp-option=option:domain-name,lab.test",
    "--dhcp-option=option:classless-static-route,203.0.113.0/24,198.51.100.1,0.0.0.0/0,198.51.100.1",
    // Azure's wireserver address, sent whether asked for or not, as Azure's server does.
    "--dhcp-option-force=245,203.0.113.245",
];

/// The driver: cloud-init's code, called as its datasources call it. Prints one JSON object.
const DRIVER: &str = r#"
import json, logging, signal, socket, subprocess, sys, time
pkg, nic, limit, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, pkg)

def reachable_logs():
    """The syslog and journal sockets a logger could reach here (none, in this sandbox)."""
    found = []
    for path in ("/dev/log", "/run/systemd/journal/socket", "/run/systemd/journal/dev-log"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.connect(path)
            found.append(path)
        except OSError:
            pass
        finally:
            s.close()
    return found

def ip(*args):
    return json.loads(subprocess.run(["ip", "-j", "-4"] + list(args), check=True,
                                     capture_output=True, text=True).stdout or "[]")

class Deadline(BaseException):
    """Not an OSError (which cloud-init's subp wraps): nothing in cloud-init catches it."""

def on_alarm(signum, frame):
    raise Deadline("cloud-init's DHCP discovery did not return within %d s" % limit)

from cloudinit.net import dhcp, ephemeral
from cloudinit.sources.helpers import azure
# After cloud-init's imports, which set up logging of their own.
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True)

result = {"logs": reachable_logs()}
signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(limit)
start = time.monotonic()
try:
    if mode == "discovery":
        leases = dhcp.maybe_perform_dhcp_discovery(nic)
        result["secs"] = time.monotonic() - start
        result["leases"] = leases
        lease = leases[-1]
        result["routes"] = dhcp.parse_static_routes(lease.get("rfc3442-classless-static-routes", ""))
        if "unknown-245" in lease:
            result["wireserver"] = azure.get_ip_from_lease_value(lease["unknown-245"])
    else:
        with ephemeral.EphemeralDHCPv4(nic) as lease:
            result["secs"] = time.monotonic() - start
            result["lease"] = lease
            result["inside"] = {"addr": ip("addr", "show", "dev", nic),
                                "route": ip("route", "show", "dev", nic)}
except Deadline as e:
    result["timeout"] = str(e)
signal.alarm(0)
print(json.dumps(result))
"#;

/// A lab with dnsmasq and a sandbox; fields drop in order, the sandbox before the lab.
struct CloudInit {
    sandbox: Sandbox,
    lab: Lab,
    packages: PathBuf,
    driver: PathBuf,
}

impl CloudInit {
    fn new() -> CloudInit {
        let mut lab = Lab::with_options(LabOptions {
            client_up: false,
            ..LabOptions::default()
        });
        lab.start_dnsmasq(DNSMASQ);
        let root = extract_deb(&lab, "cloud-init");
        let packages = root.join("usr/lib/python3/dist-packages");
        assert!(packages.join("cloudinit/net/dhcp.py").exists(), "{root:?}");
        let driver = lab.dir.join("cloud_init_driver.py");
        fs::write(&driver, DRIVER).expect("writing the driver");
        let sandbox = Sandbox::new(&lab, &exit_hook(&lab.dir.join("exit-hook.log")));
        CloudInit {
            sandbox,
            lab,
            packages,
            driver,
        }
    }

    /// Runs the driver in `mode` ("discovery" or "ephemeral"): its JSON and its stderr (the
    /// log cloud-init wrote).
    fn run(&self, mode: &str) -> (Value, String) {
        let limit = LIMIT_SECS.to_string();
        let args = [
            self.driver.to_str().expect("UTF-8 path"),
            self.packages.to_str().expect("UTF-8 path"),
            CLIENT_IF,
            &limit,
            mode,
        ];
        let out = self.sandbox.run(
            "/usr/bin/python3",
            &args,
            Duration::from_secs(LIMIT_SECS + 15),
        );
        let result: Value = serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| {
            panic!(
                "the driver printed no result ({e}): is Debian's python3 there with \
                 python3-yaml, python3-configobj, python3-requests? (sudo scripts/test \
                 installs them)\n{}",
                describe(&out)
            )
        });
        let log = stderr(&out);
        assert_eq!(
            result["logs"],
            Value::Array(vec![]),
            "the sandbox has a logger"
        );
        if let Some(why) = result["timeout"].as_str() {
            panic!(
                "{why} (cloud-init {}): {}\n{log}",
                deb_version("cloud-init"),
                self.left_behind()
            );
        }
        (result, log)
    }

    /// What the daemon cloud-init started still holds, for the timeout's message.
    fn left_behind(&self) -> String {
        let Some(pid) = self.sandbox.pid_in("/run/dhclient.pid") else {
            return "no pid in /run/dhclient.pid".into();
        };
        format!(
            "the daemon (pid {pid} in the sandbox, parent {:?}) still holds: {}",
            self.sandbox.parent_of(pid),
            self.sandbox.descriptors(pid).join(", ")
        )
    }

    /// The address dnsmasq leased (its lease file: `expiry mac address name client-id`).
    fn leased(&self) -> Ipv4Addr {
        let text = fs::read_to_string(self.lab.dnsmasq_leasefile()).unwrap_or_default();
        let addrs: Vec<Ipv4Addr> = text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
            .collect();
        *addrs
            .last()
            .unwrap_or_else(|| panic!("dnsmasq leased nothing: {text:?}"))
    }
}

fn addresses_in(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| Some(format!("{}/{}", a["local"].as_str()?, a["prefixlen"])))
        .collect()
}

/// `maybe_perform_dhcp_discovery`: returns the lease, read by cloud-init's parser from the lease
/// file dhcpc wrote (routes from option 121, Azure's wireserver from option 245), after killing
/// the daemon it found reparented to pid 1; nothing configured on the interface (`-sf /bin/true`).
#[test]
fn cloud_inits_discovery_returns_the_lease_with_no_journal_or_syslog() {
    let t = CloudInit::new();
    let (result, log) = t.run("discovery");
    let lease = result["leases"]
        .as_array()
        .and_then(|a| a.last())
        .unwrap_or_else(|| panic!("no lease returned: {result}"));
    let address = t.leased();
    assert_eq!(lease["interface"], CLIENT_IF, "{result}");
    assert_eq!(lease["fixed-address"], address.to_string(), "{result}");
    assert!(in_pool(address, POOL));
    assert_eq!(lease["subnet-mask"], "255.255.255.0", "{result}");
    assert_eq!(lease["routers"], "198.51.100.1", "{result}");
    assert_eq!(lease["domain-name-servers"], "198.51.100.1", "{result}");
    assert_eq!(lease["domain-name"], "lab.test", "{result}");
    assert_eq!(
        result["routes"],
        serde_json::json!([
            ["203.0.113.0/24", "198.51.100.1"],
            ["0.0.0.0/0", "198.51.100.1"]
        ]),
        "{result}"
    );
    assert_eq!(result["wireserver"], "203.0.113.245", "{result}");
    assert!(
        log.contains("killing dhclient with pid") && !log.contains("failed to daemonize"),
        "cloud-init did not find the daemon under pid 1:\n{log}"
    );
    assert!(
        result["secs"].as_f64().is_some_and(|s| s < 10.0),
        "{result}"
    );
    let pid = t
        .sandbox
        .pid_in("/run/dhclient.pid")
        .expect("/run/dhclient.pid");
    assert!(
        !t.sandbox.alive(pid),
        "the daemon cloud-init killed still runs"
    );
    assert!(
        t.lab.client_addrs().is_empty(),
        "-sf /bin/true, yet {CLIENT_IF} was configured: {:?}",
        t.lab.client_addrs()
    );
    // -sf replaces dhclient-script: no hook ran, resolv.conf is untouched.
    let hooks = t.lab.dir.join("exit-hook.log");
    assert!(hook_runs(&hooks).is_empty(), "{:?}", hook_runs(&hooks));
    assert_eq!(
        t.sandbox.read("/etc/resolv.conf"),
        fs::read_to_string("/etc/resolv.conf").ok(),
        "the sandbox's resolv.conf was written"
    );
}

/// `EphemeralDHCPv4`, what the datasources use: inside it the interface has the lease's address
/// and option 121's routes (cloud-init sets them itself); after it, nothing is left.
#[test]
fn cloud_inits_ephemeral_dhcp_leaves_nothing_behind() {
    let t = CloudInit::new();
    let (result, _) = t.run("ephemeral");
    let address = t.leased();
    assert_eq!(
        result["lease"]["fixed-address"],
        address.to_string(),
        "{result}"
    );
    assert_eq!(
        addresses_in(&result["inside"]["addr"]),
        [format!("{address}/24")],
        "{result}"
    );
    let routes = result["inside"]["route"].to_string();
    assert!(
        routes.contains("203.0.113.0/24") && routes.contains("\"default\""),
        "{result}"
    );
    assert!(
        t.lab.client_addrs().is_empty(),
        "left on {CLIENT_IF}: {:?}",
        t.lab.client_addrs()
    );
    let left: Vec<_> = t
        .lab
        .client_routes()
        .into_iter()
        .filter(|r| r.dev.as_deref() == Some(CLIENT_IF))
        .collect();
    assert!(left.is_empty(), "routes left: {left:?}");
}
