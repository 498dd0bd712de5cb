//! NetworkManager 1.42 (Debian 12's) with `dhcp=dhclient`: its exact dhclient command line
//! (src/core/dhcp/nm-dhcp-dhclient.c, dhclient_start: `/sbin/dhclient -d -q -sf
//! /usr/lib/NetworkManager/nm-dhcp-helper -pf /run/NetworkManager/dhclient-IF.pid -lf
//! /var/lib/NetworkManager/dhclient-UUID-IF.lease -cf /var/lib/NetworkManager/dhclient-IF.conf
//! [-e DBUS_SYSTEM_BUS_ADDRESS=…] IF`, the paths checked against the package's NetworkManager
//! binary) and the `-cf` file in the form nm-dhcp-dhclient-utils.c writes it (Debian's
//! dhclient.conf merged, a client identifier and host name "added by NetworkManager", option
//! declarations, `request;` then `also request …`), against ISC dhcpd.
//!
//! NM's listener (nm-dhcp-listener.c) drops an event without `interface`, `pid` or `reason`,
//! and nm-dhcp-client.c one whose `pid` is not the process NM started; a BOUND needs the new_*
//! options nm-dhcp-utils.c reads. Two stand-ins for NM hear the events: a script in
//! nm-dhcp-helper's place recording its environment, and the package's real nm-dhcp-helper
//! talking D-Bus to a listener on /run/NetworkManager/private-dhcp (Python, GLib's GDBusServer)
//! that records what it is sent, as NM's listener gets it.

use crate::common::*;
use crate::dhcpd::{self, CLASSLESS_ROUTES, LEASE_SECS, POOL};
use crate::Findings;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const HELPER: &str = "/usr/lib/NetworkManager/nm-dhcp-helper";
const UUID: &str = "0b7a7d4e-5c3f-4e1a-9f2b-3c4d5e6f7a8b";
/// NM's `ipv4.dhcp-client-id=duid`: 0xff, an IAID, a DUID-UUID (type 4) of the UUID above.
const CLIENT_ID: &str = "ff:6c:35:a0:1b:00:04:0b:7a:7d:4e:5c:3f:4e:1a:9f:2b:3c:4d:5e:6f:7a:8b";
/// The host name NM sends (not the sandbox's own).
const NM_HOSTNAME: &str = "nm-client";
const BUS: &str = "unix:path=/run/dbus/system_bus_socket";

/// The paths of NM's command line, with the templates in the NetworkManager binary they come
/// from.
fn paths() -> [(String, &'static str); 5] {
    [
        ("/sbin/dhclient".into(), "/sbin/dhclient"),
        (HELPER.into(), HELPER),
        (
            format!("/run/NetworkManager/dhclient-{CLIENT_IF}.pid"),
            "/run/NetworkManager/dhclient%s-%s.pid",
        ),
        (
            format!("/var/lib/NetworkManager/dhclient-{UUID}-{CLIENT_IF}.lease"),
            "/var/lib/NetworkManager/%s%s-%s-%s.lease",
        ),
        (
            format!("/var/lib/NetworkManager/dhclient-{CLIENT_IF}.conf"),
            "/var/lib/NetworkManager/dhclient%s-%s.conf",
        ),
    ]
}

/// The -cf file NM 1.42 writes for a connection with that client identifier and host name,
/// Debian's stock /etc/dhcp/dhclient.conf merged as nm_dhcp_dhclient_create_config merges it:
/// its lines kept (comments too, blank lines not) but `send host-name` (NM sends its own) and
/// the `request` list (which NM turns into `also request` lines, with its own after them).
fn nm_conf() -> String {
    let mut conf =
        String::from("# Created by NetworkManager\n# Merged from /etc/dhcp/dhclient.conf\n\n");
    let mut in_request = false;
    for line in DEBIAN_DHCLIENT_CONF.lines().map(str::trim) {
        if in_request || line.starts_with("request ") {
            in_request = !line.ends_with(';');
        } else if !line.is_empty() && !line.starts_with("send host-name") {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    conf.push_str(&format!(
        "send dhcp-client-identifier {CLIENT_ID}; # added by NetworkManager\n\
         send host-name \"{NM_HOSTNAME}\"; # added by NetworkManager\n\n\
         option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n\
         option ms-classless-static-routes code 249 = array of unsigned integer 8;\n\
         option wpad code 252 = string;\n\n\
         request; # override dhclient defaults\n"
    ));
    for o in REQUESTED {
        conf.push_str(&format!("also request {o};\n"));
    }
    conf.push('\n');
    conf
}

/// Debian 12's /etc/dhcp/dhclient.conf (isc-dhcp-client 4.4.3-P1).
const DEBIAN_DHCLIENT_CONF: &str = r#"# Configuration file for /sbin/dhclient.
#
# This is a sample configuration file for dhclient. See dhclient.conf's
#	man page for more information about the syntax of this file
#	and a more comprehensive list of the parameters understood by
#	dhclient.
#
# Normally, if the DHCP server provides reasonable information and does
#	not leave anything out (like the domain name, for example), then
#	few changes must be made to this file, if any.
#

option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;

send host-name = gethostname();
request subnet-mask, broadcast-address, time-offset, routers,
	domain-name, domain-name-servers, domain-search, host-name,
	dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
	netbios-name-servers, netbios-scope, interface-mtu,
	rfc3442-classless-static-routes, ntp-servers;

#send dhcp-client-identifier 1:0:a0:24:ab:fb:9c;
#send dhcp-lease-time 3600;
#supersede domain-name "fugue.com home.vix.com";
#prepend domain-name-servers 127.0.0.1;
#require subnet-mask, domain-name-servers;
#timeout 60;
#retry 60;
#reboot 10;
#select-timeout 5;
#initial-interval 2;
#script "/sbin/dhclient-script";
#media "-link0 -link1 -link2", "link0 link1";
#reject 192.33.137.209;

#alias {
#  interface "eth0";
#  fixed-address 192.5.5.213;
#  option subnet-mask 255.255.255.255;
#}

#lease {
#  interface "eth0";
#  fixed-address 192.33.137.200;
#  medium "link0 link1";
#  option host-name "andare.swiftmedia.com";
#  option subnet-mask 255.255.255.0;
#  option broadcast-address 192.33.137.255;
#  option routers 192.33.137.250;
#  option domain-name-servers 127.0.0.1;
#  renew 2 2000/1/12 00:00:01;
#  rebind 2 2000/1/12 00:00:01;
#  expire 2 2000/1/12 00:00:01;
#}
"#;

/// Debian's `request` list, then what NM adds (rfc3442 and ntp-servers being there already).
const REQUESTED: &[&str] = &[
    "subnet-mask",
    "broadcast-address",
    "time-offset",
    "routers",
    "domain-name",
    "domain-name-servers",
    "domain-search",
    "host-name",
    "dhcp6.name-servers",
    "dhcp6.domain-search",
    "dhcp6.fqdn",
    "dhcp6.sntp-servers",
    "netbios-name-servers",
    "netbios-scope",
    "interface-mtu",
    "rfc3442-classless-static-routes",
    "ntp-servers",
    "ms-classless-static-routes",
    "static-routes",
    "wpad",
    "root-path",
];

/// The DHCPv4 options of [`REQUESTED`] by code (the dhcp6.* names are not DHCPv4's).
const REQUESTED_CODES: &[u8] = &[
    1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42, 249, 33, 252, 17,
];

/// A listener like NM's for nm-dhcp-helper: a peer-to-peer D-Bus server at argv[1] whose Notify
/// method (org.freedesktop.nm_dhcp_server, a{sv} of byte arrays) appends each event to argv[2]
/// as a JSON line; argv[3] is created once it listens.
const LISTENER: &str = r#"
import json, sys
from gi.repository import Gio, GLib
XML = ("<node><interface name='org.freedesktop.nm_dhcp_server'>"
       "<method name='Notify'><arg type='a{sv}' name='data' direction='in'/></method>"
       "</interface></node>")
sock, log, ready = sys.argv[1:4]
iface = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
connections = []

def on_call(conn, sender, path, name, method, params, invocation):
    (data,) = params.unpack()
    event = {k: bytes(v).decode("utf-8", "replace") for k, v in data.items()}
    with open(log, "a") as f:
        f.write(json.dumps(event) + "\n")
    invocation.return_value(None)

def on_new(server, conn):
    connections.append(conn)
    conn.register_object("/org/freedesktop/nm_dhcp_server", iface, on_call, None, None)
    return True

server = Gio.DBusServer.new_sync("unix:path=" + sock, Gio.DBusServerFlags.NONE,
                                 Gio.dbus_generate_guid(), None, None)
server.connect("new-connection", on_new)
server.start()
open(ready, "w").close()
GLib.MainLoop().run()
"#;

type Event = BTreeMap<String, String>;

/// A lab with dhcpd and a sandbox with NM's directories, the -cf file and `helper` (a file of
/// the host) in nm-dhcp-helper's place. Fields drop in order: the sandbox before the lab.
struct Nm {
    sandbox: Sandbox,
    lab: Lab,
}

impl Nm {
    fn new(helper: impl FnOnce(&Lab, &Path) -> PathBuf) -> Nm {
        let mut lab = Lab::with_options(LabOptions {
            client_up: false,
            ..LabOptions::default()
        });
        dhcpd::start(&mut lab, true);
        let root = extract_deb(&lab, "network-manager");
        let binary = fs::read(root.join("usr/sbin/NetworkManager")).expect("NetworkManager");
        for (path, template) in paths() {
            assert!(
                contains(&binary, template.as_bytes()),
                "NetworkManager {} has no {template:?}: {path} is not its path",
                deb_version("network-manager")
            );
        }
        let helper = helper(&lab, &root);
        let conf = lab.dir.join("nm-dhclient.conf");
        fs::write(&conf, nm_conf()).expect("writing the -cf file");
        let [_, _, _, _, (conf_path, _)] = paths();
        let sandbox = Sandbox::new(
            &lab,
            &format!(
                "mkdir \"$S/usr-lib\" \"$S/usr-lib.work\"\n\
                 mount -t overlay dhcpc-sandbox-usr-lib \
                 -o \"lowerdir=/usr/lib,upperdir=$S/usr-lib,workdir=$S/usr-lib.work\" /usr/lib\n\
                 mkdir -p /usr/lib/NetworkManager /run/NetworkManager /var/lib/NetworkManager\n\
                 cp {} {HELPER}\ncp {} {conf_path}",
                helper.display(),
                conf.display()
            ),
        );
        Nm { sandbox, lab }
    }

    /// Starts dhclient as NM does; returns its pid in the sandbox (what NM compares `pid` with).
    fn start_dhclient(&mut self) -> u32 {
        let [(dhclient, _), (helper, _), (pid, _), (lease, _), (conf, _)] = paths();
        let mut cmd = self.sandbox.command(&dhclient);
        cmd.args([
            "-d", "-q", "-sf", &helper, "-pf", &pid, "-lf", &lease, "-cf", &conf,
        ])
        .args(["-e", &format!("DBUS_SYSTEM_BUS_ADDRESS={BUS}"), CLIENT_IF]);
        let log = self.lab.dir.join("nm-dhclient.log");
        self.sandbox.spawn(cmd, &log)
    }

    /// Waits until `events()` holds a BOUND; fails showing what there is.
    fn wait_bound(&self, events: impl Fn() -> Vec<Event>) -> Vec<Event> {
        let bound = wait_for(Duration::from_secs(20), || {
            events()
                .iter()
                .any(|e| e.get("reason").is_some_and(|r| r == "BOUND"))
        });
        let got = events();
        assert!(
            bound,
            "no BOUND event: {got:?}\n--- dhclient's output ---\n{}\n{}",
            fs::read_to_string(self.lab.dir.join("nm-dhclient.log")).unwrap_or_default(),
            self.lab.server_logs()
        );
        got
    }

    /// What NM's listener, nm-dhcp-client.c and nm-dhcp-utils.c need of the events, the
    /// daemon's state, and what dhcpd was sent; then stops it as NM does (SIGTERM). Every
    /// difference is reported at once.
    fn check(&self, events: &[Event], pid: u32) {
        let mut f = Findings::default();
        let address = event_findings(&mut f, events, pid);
        self.state_findings(&mut f, address, pid);
        self.sandbox
            .run("kill", &["-TERM", &pid.to_string()], Duration::from_secs(5));
        f.check(
            wait_for(Duration::from_secs(5), || !self.sandbox.alive(pid)),
            || "dhclient did not end on SIGTERM".into(),
        );
        f.finish(|| {
            format!(
                "events: {events:?}\n--- dhclient's output ---\n{}",
                fs::read_to_string(self.lab.dir.join("nm-dhclient.log")).unwrap_or_default()
            )
        });
    }

    /// The daemon's pid and lease files, the request list and the interface (which NM
    /// configures from the event: dhclient's script does not), what dhcpd was sent.
    fn state_findings(&self, f: &mut Findings, address: Ipv4Addr, pid: u32) {
        let [_, _, (pid_file, _), (lease_file, _), _] = paths();
        f.same(&pid_file, self.sandbox.pid_in(&pid_file), Some(pid));
        f.check(self.sandbox.alive(pid), || {
            format!("-d: dhclient ({pid}) did not stay in the foreground")
        });
        // dhclient writes the lease file once its script has returned.
        let leased = format!("fixed-address {address};");
        let has_lease = || {
            self.sandbox
                .read(&lease_file)
                .is_some_and(|l| l.contains(&leased))
        };
        f.check(wait_for(Duration::from_secs(5), has_lease), || {
            format!(
                "{lease_file} has no lease of {address}: {:?}",
                self.sandbox.read(&lease_file)
            )
        });
        // Every statement NM writes is dhclient.conf's: none is left out with a warning.
        let output = fs::read_to_string(self.lab.dir.join("nm-dhclient.log")).unwrap_or_default();
        let conf_name = format!("dhclient-{CLIENT_IF}.conf");
        let left_out: Vec<&str> = output
            .lines()
            .filter(|l| l.contains("warning") && l.contains(&conf_name))
            .collect();
        f.check(left_out.is_empty(), || {
            format!("the -cf file is not all taken: {left_out:?}")
        });
        let asked = dhcpd::request_lists(&self.lab).pop().unwrap_or_default();
        let missing: Vec<u8> = REQUESTED_CODES
            .iter()
            .copied()
            .filter(|c| !asked.contains(c))
            .collect();
        f.check(missing.is_empty(), || {
            format!(
                "options asked for in the -cf file, not on the wire: {missing:?} (sent {asked:?})"
            )
        });
        // NM configures the interface from the event: dhclient (its script) does not.
        let addrs = self.lab.client_addrs();
        f.check(addrs.is_empty(), || {
            format!("{CLIENT_IF} was configured: {addrs:?}")
        });
        let server = dhcpd::lease_of(&self.lab, address).unwrap_or_default();
        f.same(
            "the client identifier dhcpd got (the -cf file's)",
            server.uid.as_deref().map(dhcpd::hex).as_deref(),
            Some(CLIENT_ID),
        );
        f.same(
            "the host name dhcpd got (the -cf file's)",
            server.hostname.as_deref(),
            Some(NM_HOSTNAME),
        );
    }
}

/// What NM's listener and nm-dhcp-client.c need of every event and nm-dhcp-utils.c of a BOUND:
/// the leased address.
fn event_findings(f: &mut Findings, events: &[Event], pid: u32) -> Ipv4Addr {
    let reasons: Vec<&str> = events
        .iter()
        .filter_map(|e| e.get("reason").map(String::as_str))
        .collect();
    f.same("the first event", reasons.first(), Some(&"PREINIT"));
    for e in events {
        let reason = e.get("reason").map_or("?", String::as_str);
        f.same(
            &format!("{reason}'s interface"),
            e.get("interface").map(String::as_str),
            Some(CLIENT_IF),
        );
        f.same(
            &format!("{reason}'s pid (NM drops an event not from the dhclient it started)"),
            e.get("pid").cloned(),
            Some(pid.to_string()),
        );
    }
    let bound = events
        .iter()
        .find(|e| e["reason"] == "BOUND")
        .expect("a BOUND");
    let address: Ipv4Addr = bound
        .get("new_ip_address")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no new_ip_address: {bound:?}"));
    f.check(in_pool(address, POOL), || {
        format!("{address} is not dhcpd's")
    });
    let lease_secs = LEASE_SECS.to_string();
    for (name, value) in [
        ("new_subnet_mask", "255.255.255.0"),
        ("new_routers", "198.51.100.1"),
        ("new_domain_name_servers", "198.51.100.1"),
        ("new_domain_name", "lab.test"),
        ("new_dhcp_lease_time", lease_secs.as_str()),
        ("new_rfc3442_classless_static_routes", CLASSLESS_ROUTES),
        ("new_dhcp_server_identifier", "198.51.100.1"),
        ("new_next_server", "198.51.100.1"),
        ("DBUS_SYSTEM_BUS_ADDRESS", BUS),
    ] {
        f.same(
            &format!("BOUND's {name}"),
            bound.get(name).map(String::as_str),
            Some(value),
        );
    }
    address
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A script in nm-dhcp-helper's place that appends its environment to `log`, one block a run.
fn recorder(lab: &Lab, log: &Path) -> PathBuf {
    let path = lab.dir.join("nm-dhcp-helper-recorder");
    fs::write(
        &path,
        format!(
            "#!/bin/sh\n{{ env | LC_ALL=C sort; echo ----; }} >> {}\n",
            log.display()
        ),
    )
    .expect("writing the recorder");
    sh("chmod", &["755", path.to_str().expect("UTF-8 path")]);
    path
}

/// NM's argv and -cf file; the environment the script in nm-dhcp-helper's place gets.
#[test]
fn networkmanagers_dhclient_gives_its_helper_what_nm_reads() {
    let mut nm = Nm::new(|lab, _| recorder(lab, &lab.dir.join("nm-helper-env.log")));
    let env_log = nm.lab.dir.join("nm-helper-env.log");
    let pid = nm.start_dhclient();
    let events = nm.wait_bound(|| recorded_runs(&env_log));
    nm.check(&events, pid);
}

/// The same through the package's own nm-dhcp-helper and D-Bus, to a listener like NM's.
#[test]
fn networkmanagers_dhclient_reaches_nms_listener_through_the_real_helper() {
    let mut nm = Nm::new(|_, root| root.join("usr/lib/NetworkManager/nm-dhcp-helper"));
    let events_log = nm.lab.dir.join("nm-listener-events.jsonl");
    let ready = nm.lab.dir.join("nm-listener.ready");
    let script = nm.lab.dir.join("nm_listener.py");
    fs::write(&script, LISTENER).expect("writing the listener");
    let mut cmd = nm.sandbox.command("/usr/bin/python3");
    cmd.arg(&script)
        .arg("/run/NetworkManager/private-dhcp")
        .arg(&events_log)
        .arg(&ready);
    let listener_log = nm.lab.dir.join("nm-listener.log");
    nm.sandbox.spawn(cmd, &listener_log);
    assert!(
        wait_for(Duration::from_secs(10), || ready.exists()),
        "the listener did not start (python3-gi?): {}",
        fs::read_to_string(&listener_log).unwrap_or_default()
    );
    let pid = nm.start_dhclient();
    let events = nm.wait_bound(|| {
        fs::read_to_string(&events_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    });
    nm.check(&events, pid);
}
