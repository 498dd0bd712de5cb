//! ifupdown (Debian 12's 0.8.41) on `iface vc inet6 dhcp` stanzas: its own `ifup` and `ifdown`
//! from the package, with the package's /etc/network and /lib/ifupdown (wait-for-ll6.sh), in
//! the sandbox, against Kea or ISC dhcpd -6. ifupdown brings the link up, waits for its
//! link-local address and runs `dhclient -6` with its method table's command line (`-P -N` with
//! `request_prefix 1`); dhcpc answers it and, without -sf, runs Debian's /sbin/dhclient-script,
//! which adds the leased address (`ip -6 addr replace ADDR dev vc`, a /128) and writes the
//! sandbox's resolv.conf.
//!
//! After ifup: the command line dhcpc was given, the address from the server's pool on vc,
//! the script's exit hooks seeing BOUND6 (and the delegated prefix), the pid file naming a
//! running dhcpc, the lease file's `lease6` block with its `default-duid`, the DUID the server
//! recorded being that one, the sandbox's resolv.conf, the server's database holding the lease.
//! After `ifdown` (`dhclient -6 -r`): the server's database shows the release, the hooks saw
//! RELEASE6, the daemon, its pid file and the address are gone. The link starts down, as at
//! boot, so that ifupdown's wait for the link-local address is what makes it usable.
//!
//! With an `inet dhcp` stanza for the same interface as well (against ISC dhcpd), ifupdown gives
//! each dhclient the other's lease file as `-df`: one DUID serves both protocols.

use crate::common::*;
use crate::dhcpd::{self, bytes_of, hex};
use crate::Findings;
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// What ifupdown's files are called for the stanza's interface.
const PID_FILE: &str = "/run/dhclient6.vc.pid";
const LEASE_FILE: &str = "/var/lib/dhcp/dhclient6.vc.leases";
const DUID_FILE: &str = "/var/lib/dhcp/dhclient.vc.leases";

/// The DHCPv6 server of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Kea,
    Dhcpd,
}

impl Server {
    /// The search domain the lab's server sends.
    fn domain(self) -> &'static str {
        match self {
            Server::Kea => "kea.test",
            Server::Dhcpd => "dhcpd.test",
        }
    }
}

/// The stanzas of the interfaces file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stanzas {
    /// `iface vc inet6 dhcp` alone.
    Inet6,
    /// `iface vc inet dhcp` (against ISC dhcpd), then `iface vc inet6 dhcp`.
    InetFirst,
    /// `iface vc inet6 dhcp`, then `iface vc inet dhcp` (against ISC dhcpd).
    Inet6First,
}

/// A lab with a DHCPv6 server, a sandbox with ifupdown's files, and a stanza. Fields drop in
/// order: the sandbox before the lab.
struct Ifupdown6 {
    sandbox: Sandbox,
    lab: Lab,
    root: PathBuf,
    interfaces: PathBuf,
    state: PathBuf,
    server: Server,
    /// Whether the stanza has `request_prefix 1` (and the server delegates prefixes).
    pd: bool,
    stanzas: Stanzas,
    /// What the sandbox's dhclient exit hook recorded.
    hooks: PathBuf,
}

/// What one ifup brought.
struct Up6 {
    address: Ipv6Addr,
    /// The delegated prefix, with `request_prefix 1`.
    prefix: Option<String>,
    pid: u32,
    duid: Vec<u8>,
}

/// One run of dhclient-script as the exit hook recorded it: its reason and the variables.
#[derive(Debug)]
struct HookRun {
    reason: String,
    vars: Vec<(String, String)>,
}

impl HookRun {
    fn var(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// An exit hook for dhclient-script (which sources it after its own work): appends to `log`
/// the reason, the variables that name the lease's address and prefix, and `on_link=`, the
/// global addresses on the interface then (comma-separated, with their lengths).
fn exit_hook6(log: &std::path::Path) -> String {
    format!(
        "dhcpc_test_on_link=$(ip -6 -o addr show dev \"$interface\" scope global |\n\
         \twhile read -r _ _ _ a _; do printf '%s,' \"$a\"; done)\n\
         echo \"$reason new_ip6_address=$new_ip6_address old_ip6_address=$old_ip6_address \
         new_ip6_prefix=$new_ip6_prefix old_ip6_prefix=$old_ip6_prefix \
         on_link=$dhcpc_test_on_link\" >> {}\n",
        log.display()
    )
}

impl Ifupdown6 {
    /// `iface vc inet6 dhcp` (with `request_prefix 1` when `pd`) against `server`, which
    /// delegates /56s when `pd`.
    fn new(server: Server, pd: bool) -> Ifupdown6 {
        Ifupdown6::with(server, pd, Stanzas::Inet6)
    }

    /// `iface vc inet dhcp` against ISC dhcpd and `iface vc inet6 dhcp` against `server`, in
    /// the order `stanzas` says.
    fn dual_stack(server: Server, stanzas: Stanzas) -> Ifupdown6 {
        Ifupdown6::with(server, false, stanzas)
    }

    fn with(server: Server, pd: bool, stanzas: Stanzas) -> Ifupdown6 {
        require_root();
        let mut lab = Lab::new6();
        if stanzas != Stanzas::Inet6 {
            dhcpd::start(&mut lab, false);
        }
        match server {
            Server::Kea => lab.start_kea6_with(&Kea6Config {
                pd,
                ..Kea6Config::default()
            }),
            Server::Dhcpd => lab.start_dhcpd6(600, 450, pd),
        }
        // Down, as at boot: its link-local address goes with it, and ifupdown has to wait for
        // the next one (DAD on) before dhclient can send from it.
        sh(
            "ip",
            &["-n", &lab.client_ns, "link", "set", CLIENT_IF, "down"],
        );
        let root = extract_deb(&lab, "ifupdown");
        let hooks = lab.dir.join("exit-hook6.log");
        let hook = lab.dir.join("zz-dhcpc-test6");
        fs::write(&hook, exit_hook6(&hooks)).expect("writing the exit hook");
        // The package's /etc/network and /lib/ifupdown where installing it would put them: in
        // the sandbox's overlays only (/lib is /usr/lib).
        let sandbox = Sandbox::new(
            &lab,
            &format!(
                "cp -a {root}/etc/network /etc/network\n\
                 mkdir \"$S/usr-lib\" \"$S/usr-lib.work\"\n\
                 mount -t overlay dhcpc-sandbox-usr-lib \
                 -o \"lowerdir=/usr/lib,upperdir=$S/usr-lib,workdir=$S/usr-lib.work\" /usr/lib\n\
                 cp -a {root}/lib/ifupdown /lib/ifupdown\n\
                 mkdir -p /etc/dhcp/dhclient-exit-hooks.d\n\
                 cp {hook} /etc/dhcp/dhclient-exit-hooks.d/",
                root = root.display(),
                hook = hook.display(),
            ),
        );
        let interfaces = lab.dir.join("interfaces");
        let inet = format!("iface {CLIENT_IF} inet dhcp\n\n");
        let mut inet6 = format!("iface {CLIENT_IF} inet6 dhcp\n");
        if pd {
            inet6.push_str("    request_prefix 1\n");
        }
        let stanza = match stanzas {
            Stanzas::Inet6 => inet6,
            Stanzas::InetFirst => inet + &inet6,
            Stanzas::Inet6First => inet6 + "\n" + &inet,
        };
        fs::write(&interfaces, stanza).expect("writing the interfaces file");
        let state = lab.dir.join("ifstate");
        fs::create_dir_all(&state).expect("ifupdown's state dir");
        Ifupdown6 {
            sandbox,
            lab,
            root,
            interfaces,
            state,
            server,
            pd,
            stanzas,
            hooks,
        }
    }

    /// Runs the package's `ifup` or `ifdown` (`-v`: it prints each command) on the stanza.
    fn run(&self, verb: &str) -> Output {
        let files = (
            self.root.as_path(),
            self.interfaces.as_path(),
            self.state.as_path(),
        );
        crate::ifupdown::run_ifupdown(&self.sandbox, &self.lab, files, verb)
    }

    /// The command line ifupdown's method table gives dhclient for the stanza (`-r` for
    /// ifdown), as dhclient's argv.
    fn method_argv(&self, release: bool) -> Vec<String> {
        let mut argv = vec!["dhclient", "-6", "-v"];
        if release {
            argv.push("-r");
        }
        argv.extend(["-pf", PID_FILE, "-lf", LEASE_FILE, "-I"]);
        if self.pd && !release {
            argv.extend(["-P", "-N"]);
        }
        argv.extend(["-df", DUID_FILE, CLIENT_IF]);
        argv.into_iter().map(String::from).collect()
    }

    /// What dhclient-script's exit hooks recorded so far.
    fn hook_runs(&self) -> Vec<HookRun> {
        fs::read_to_string(&self.hooks)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let mut words = l.split(' ');
                HookRun {
                    reason: words.next().unwrap_or_default().to_string(),
                    vars: words
                        .filter_map(|w| w.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                }
            })
            .collect()
    }

    /// The global addresses on vc.
    fn global_addrs(&self) -> Vec<Addr6Info> {
        self.lab
            .client_addrs6()
            .into_iter()
            .filter(|a| !a.is_link_local())
            .collect()
    }

    /// The argv of the sandbox's process `pid`.
    fn argv_of(&self, pid: u32) -> Vec<String> {
        fs::read(self.sandbox.path(&format!("/proc/{pid}/cmdline")))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    /// `ifup`, and everything it must have brought.
    fn ifup(&self) -> Up6 {
        let out = self.run("ifup");
        let said = format!("{}{}", stdout(&out), stderr(&out));
        let mut f = Findings::default();
        let context = || {
            format!(
                "{}\n--- hooks ---\n{:?}\n--- {LEASE_FILE} ---\n{}\n{}",
                describe(&out),
                self.hook_runs(),
                self.sandbox.read(LEASE_FILE).unwrap_or_default(),
                self.lab.server_logs()
            )
        };
        // ifupdown waited for the link-local address before it ran dhclient.
        f.check(said.contains("/lib/ifupdown/wait-for-ll6.sh"), || {
            "ifup did not run /lib/ifupdown/wait-for-ll6.sh".into()
        });
        let left_out: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("warning") && l.contains("dhclient.conf"))
            .collect();
        f.same("dhclient.conf lines left out", left_out, vec![]);

        let addrs = self.global_addrs();
        let [ref leased] = addrs[..] else {
            panic!(
                "not one global address on {CLIENT_IF} after ifup: {addrs:?}\n{}",
                context()
            );
        };
        let address = leased.local;
        f.check(in_pool6(address), || {
            format!("{address} is not the server's")
        });
        // Debian's dhclient-script adds it without a prefix length.
        f.same("the address's prefix length", leased.prefixlen, 128);

        // The script added it (its exit hooks run after): it was on the link then.
        let bound =
            |r: &HookRun| r.reason == "BOUND6" && r.var("new_ip6_address") == address.to_string();
        f.check(
            wait_for(Duration::from_secs(5), || {
                self.hook_runs().iter().any(bound)
            }),
            || format!("dhclient-script's exit hooks did not see BOUND6 of {address}"),
        );
        let on_link = self
            .hook_runs()
            .iter()
            .rfind(|r| bound(r))
            .map(|r| r.var("on_link").to_string());
        f.check(
            on_link
                .as_deref()
                .is_some_and(|l| l.split(',').any(|a| a == format!("{address}/128"))),
            || format!("{address} was not on the link when the script's BOUND6 ended: {on_link:?}"),
        );
        let prefix = self.pd.then(|| {
            let runs = self.hook_runs();
            let p = runs
                .iter()
                .filter(|r| r.reason == "BOUND6")
                .map(|r| r.var("new_ip6_prefix"))
                .rfind(|p| !p.is_empty())
                .unwrap_or_default()
                .to_string();
            let parsed = p
                .split_once('/')
                .and_then(|(a, l)| Some((a.parse::<Ipv6Addr>().ok()?, l.parse::<u8>().ok()?)));
            f.check(parsed.is_some_and(|(a, l)| in_pd_pool6(a, l)), || {
                format!("the hooks' new_ip6_prefix {p:?} is not a /56 of the server's")
            });
            p
        });

        let pid = self
            .sandbox
            .pid_in(PID_FILE)
            .unwrap_or_else(|| panic!("no pid in {PID_FILE}: {:?}", self.sandbox.read(PID_FILE)));
        f.check(
            self.sandbox.alive(pid) && self.sandbox.runs_dhcpc(pid),
            || format!("{PID_FILE} names {pid}, which is not a running dhcpc"),
        );
        f.same(
            "the daemon's command line",
            self.argv_of(pid),
            self.method_argv(false),
        );

        let leases = self.sandbox.read(LEASE_FILE).unwrap_or_default();
        f.check(leases.contains("lease6 {"), || {
            format!("no lease6 block in {LEASE_FILE}")
        });
        f.check(leases.contains(&format!("iaaddr {address} {{")), || {
            format!("{LEASE_FILE} does not hold {address}")
        });
        if let Some(p) = &prefix {
            f.check(
                leases.contains("ia-pd ") && leases.contains(&format!("iaprefix {p} {{")),
                || format!("{LEASE_FILE} has no ia-pd holding {p}"),
            );
        }
        let duid = leases
            .lines()
            .find_map(|l| l.trim().strip_prefix("default-duid "))
            .map(|d| bytes_of(d.trim_end_matches(';')))
            .unwrap_or_default();
        f.check(duid.len() >= 4, || {
            format!("no default-duid in {LEASE_FILE}")
        });

        // Debian's dhclient-script writes the whole file at each BOUND(6): the last stanza's
        // lease is what it holds.
        let (nameserver, search) = match self.stanzas {
            Stanzas::Inet6First => ("198.51.100.1".to_string(), "lab.test"),
            _ => (DNS6.to_string(), self.server.domain()),
        };
        let resolv = self.sandbox.read("/etc/resolv.conf").unwrap_or_default();
        f.check(
            resolv.contains(&format!("nameserver {nameserver}\n"))
                && resolv.contains(&format!("search {search}")),
            || format!("the sandbox's resolv.conf: {resolv:?}"),
        );

        let held = self.server_holds(address, prefix.as_deref(), &duid);
        f.check(held.is_ok(), || held.unwrap_err());
        f.finish(context);
        Up6 {
            address,
            prefix,
            pid,
            duid,
        }
    }

    /// `ifdown`, and what it must have undone.
    fn ifdown(&self, up: &Up6) {
        let out = self.run("ifdown");
        let mut f = Findings::default();
        let context = || {
            format!(
                "{}\n--- hooks ---\n{:?}\n{}",
                describe(&out),
                self.hook_runs(),
                self.lab.server_logs()
            )
        };
        let seen = |var: &str, what: &str| {
            wait_for(Duration::from_secs(5), || {
                self.hook_runs()
                    .iter()
                    .any(|r| r.reason == "RELEASE6" && r.var(var) == what)
            })
        };
        let address = up.address.to_string();
        f.check(seen("old_ip6_address", &address), || {
            format!("dhclient-script's exit hooks did not see RELEASE6 of {address}")
        });
        // The script took the address off (before ifupdown set the link down, which would).
        let runs = self.hook_runs();
        let on_link = runs
            .iter()
            .rfind(|r| r.reason == "RELEASE6" && r.var("old_ip6_address") == address)
            .map(|r| r.var("on_link"));
        f.check(
            on_link.is_some_and(|l| !l.split(',').any(|a| a.starts_with(&format!("{address}/")))),
            || {
                format!(
                    "{address} was still on the link when the script's RELEASE6 ended: {on_link:?}"
                )
            },
        );
        if let Some(p) = &up.prefix {
            f.check(seen("old_ip6_prefix", p), || {
                format!("dhclient-script's exit hooks did not see RELEASE6 of {p}")
            });
        }
        // ifdown takes the stanzas down in order, each ending with `ip link set dev vc down`:
        // with the inet stanza first, the link is down and the link-local address the RELEASE
        // would be sent from gone when dhclient -6 -r runs: no RELEASE can reach the server,
        // whichever the client.
        if self.stanzas != Stanzas::InetFirst {
            let released = wait_for(Duration::from_secs(5), || {
                self.server_released(up.address, up.prefix.as_deref())
                    .is_ok()
            });
            f.check(released, || {
                self.server_released(up.address, up.prefix.as_deref())
                    .unwrap_err()
            });
        }
        f.check(
            wait_for(Duration::from_secs(5), || !self.sandbox.alive(up.pid)),
            || format!("dhcpc ({}) is still running after ifdown", up.pid),
        );
        f.check(!self.sandbox.path(PID_FILE).exists(), || {
            format!("{PID_FILE} is left")
        });
        let left: Vec<Ipv6Addr> = self.global_addrs().iter().map(|a| a.local).collect();
        f.same("global addresses left on vc", left, vec![]);
        f.finish(context);
    }

    /// Whether the server's database holds `address` (and `prefix`) for the client `duid`,
    /// in use; why not.
    fn server_holds(
        &self,
        address: Ipv6Addr,
        prefix: Option<&str>,
        duid: &[u8],
    ) -> Result<(), String> {
        match self.server {
            Server::Kea => {
                let rows = self.lab.kea6_leases();
                let last = |a: Ipv6Addr, len: u8| {
                    rows.iter()
                        .rfind(|r| r.address == a && r.prefix_len == len)
                        .cloned()
                };
                let mut wanted = vec![(address, 128u8, 0u8)];
                if let Some(p) = prefix {
                    let (a, l) = split_prefix(p);
                    wanted.push((a, l, 2));
                }
                for (a, len, kind) in wanted {
                    match last(a, len) {
                        Some(r)
                            if r.valid > 0
                                && r.state == 0
                                && r.lease_type == kind
                                && r.duid == hex(duid) => {}
                        other => {
                            return Err(format!(
                                "Kea has no lease of {a}/{len} in use by DUID {}: {other:?}",
                                hex(duid)
                            ))
                        }
                    }
                }
                Ok(())
            }
            Server::Dhcpd => {
                let bindings = self.lab.dhcpd6_bindings();
                let mut wanted = vec![("ia-na", address.to_string())];
                if let Some(p) = prefix {
                    wanted.push(("ia-pd", p.to_string()));
                }
                for (kind, what) in wanted {
                    let ok = bindings
                        .iter()
                        .any(|b| b.kind == kind && b.what == what && b.state == "active");
                    if !ok {
                        return Err(format!("dhcpd has no active {kind} {what}: {bindings:?}"));
                    }
                }
                let duids = self.dhcpd6_duids();
                if duids.is_empty() || duids.iter().any(|d| d != duid) {
                    return Err(format!(
                        "dhcpd's IAs are of DUIDs {:?}, the lease file's is {}",
                        duids.iter().map(|d| hex(d)).collect::<Vec<_>>(),
                        hex(duid)
                    ));
                }
                Ok(())
            }
        }
    }

    /// Whether the server's database shows `address` (and `prefix`) released; why not.
    fn server_released(&self, address: Ipv6Addr, prefix: Option<&str>) -> Result<(), String> {
        match self.server {
            Server::Kea => {
                // Kea deletes a released lease: its memfile appends the lease with a valid
                // lifetime of 0.
                let rows = self.lab.kea6_leases();
                let mut wanted = vec![(address, 128u8)];
                if let Some(p) = prefix {
                    wanted.push(split_prefix(p));
                }
                for (a, len) in wanted {
                    let last = rows.iter().rfind(|r| r.address == a && r.prefix_len == len);
                    if last.is_none_or(|r| r.valid != 0) {
                        return Err(format!(
                            "Kea's database does not show {a}/{len} released: {last:?}"
                        ));
                    }
                }
                Ok(())
            }
            Server::Dhcpd => {
                let bindings = self.lab.dhcpd6_bindings();
                let mut wanted = vec![address.to_string()];
                wanted.extend(prefix.map(str::to_string));
                for what in wanted {
                    if !bindings
                        .iter()
                        .any(|b| b.what == what && b.state == "released")
                    {
                        return Err(format!(
                            "dhcpd's database does not show {what} released: {bindings:?}"
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// The client DUIDs of the IAs in dhcpd's lease file (each IA is named by its IAID, 4
    /// bytes, then the client's DUID).
    fn dhcpd6_duids(&self) -> Vec<Vec<u8>> {
        let text = fs::read_to_string(self.lab.dhcpd6_leasefile()).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let l = l.trim();
                let rest = l
                    .strip_prefix("ia-na ")
                    .or_else(|| l.strip_prefix("ia-pd "))?;
                let name = rest.trim_end_matches('{').trim();
                Some(bytes_of(name).get(4..)?.to_vec())
            })
            .collect()
    }
}

/// "2001:db8:ff00:100::/56" as (address, length).
fn split_prefix(p: &str) -> (Ipv6Addr, u8) {
    p.split_once('/')
        .and_then(|(a, l)| Some((a.parse().ok()?, l.parse().ok()?)))
        .unwrap_or_else(|| panic!("not a prefix: {p:?}"))
}

/// `iface vc inet6 dhcp` against Kea: an address, released at ifdown; the second ifup sends
/// the DUID the first saved in the lease file.
#[test]
fn ifup_and_ifdown_an_inet6_dhcp_stanza() {
    let t = Ifupdown6::new(Server::Kea, false);
    let up = t.ifup();
    assert_eq!(up.prefix, None);
    t.ifdown(&up);
    let again = t.ifup();
    assert_eq!(
        hex(&again.duid),
        hex(&up.duid),
        "the second ifup has another DUID"
    );
    t.ifdown(&again);
}

/// `request_prefix 1` against Kea: an address and a delegated /56, both released at ifdown.
#[test]
fn ifup_inet6_dhcp_with_request_prefix_from_kea() {
    let t = Ifupdown6::new(Server::Kea, true);
    let up = t.ifup();
    assert!(up.prefix.is_some());
    t.ifdown(&up);
}

/// `request_prefix 1` against dhcpd -6: ifupdown adds `-P -N`; an address and a delegated /56,
/// both released at ifdown.
#[test]
fn ifup_inet6_dhcp_with_request_prefix_gets_a_delegated_prefix() {
    let t = Ifupdown6::new(Server::Dhcpd, true);
    let up = t.ifup();
    assert!(up.prefix.is_some());
    t.ifdown(&up);
}

/// `iface vc inet dhcp` and `iface vc inet6 dhcp` together: ifupdown gives each dhclient the
/// other's lease file as `-df`, so that the host has one DUID: the inet stanza's dhclient runs
/// first and makes it, the inet6 one takes it from there. The DUID in DHCPv4's RFC 4361 client
/// identifier (0xff, IAID, DUID) is the one DHCPv6 sends. ifdown releases the DHCPv4 lease at
/// dhcpd. (Only the first stanza's: ifdown sets the link down after it, see
/// [`Ifupdown6::ifdown`].)
#[test]
fn ifup_of_inet_then_inet6_sends_one_duid_in_dhcpv4_and_dhcpv6() {
    one_duid_in_dhcpv4_and_dhcpv6(Stanzas::InetFirst);
}

/// [`ifup_of_inet_then_inet6_sends_one_duid_in_dhcpv4_and_dhcpv6`] the other way round: the
/// DUID made by DHCPv6's dhclient is taken by DHCPv4's from its `-df` file; ifdown releases
/// the DHCPv6 lease at Kea.
#[test]
fn ifup_of_inet6_then_inet_sends_one_duid_in_dhcpv4_and_dhcpv6() {
    one_duid_in_dhcpv4_and_dhcpv6(Stanzas::Inet6First);
}

fn one_duid_in_dhcpv4_and_dhcpv6(stanzas: Stanzas) {
    let t = Ifupdown6::dual_stack(Server::Kea, stanzas);
    let up = t.ifup();
    let v4: Vec<Ipv4Addr> = t.lab.client_addrs().iter().map(|a| a.local).collect();
    let [address4] = v4[..] else {
        panic!("not one IPv4 address on {CLIENT_IF} after ifup: {v4:?}");
    };
    let lease4 = dhcpd::lease_of(&t.lab, address4)
        .filter(|l| l.state == "active")
        .unwrap_or_else(|| panic!("dhcpd has no active lease of {address4}"));
    let uid = lease4
        .uid
        .unwrap_or_else(|| panic!("no client identifier reached dhcpd"));
    assert!(
        uid.len() > 1 + 4 && uid[0] == 0xff,
        "not an RFC 4361 client identifier (0xff, IAID, DUID): {}",
        hex(&uid)
    );
    assert_eq!(
        hex(&uid[5..]),
        hex(&up.duid),
        "DHCPv4's client identifier carries another DUID than DHCPv6's"
    );
    t.ifdown(&up);
    if stanzas == Stanzas::InetFirst {
        let released = wait_for(Duration::from_secs(5), || {
            dhcpd::lease_of(&t.lab, address4)
                .is_some_and(|l| l.state == "free" || l.state == "released")
        });
        assert!(
            released,
            "dhcpd's database does not show {address4} released: {:?}",
            dhcpd::lease_of(&t.lab, address4)
        );
    }
    assert!(
        t.lab.client_addrs().is_empty(),
        "{:?}",
        t.lab.client_addrs()
    );
}
