//! Unit tests of [`super`] (and of [`crate::dhclient::args`]): every caller's argv as the
//! caller's own source writes it (ifupdown 0.8.41's method table, NetworkManager 1.42's
//! nm-dhcp-dhclient.c, cloud-init 22.4), ifupdown's stanza options, the configuration file,
//! dhclient's default script and timeout, and the refusals.

use super::*;
use std::collections::HashMap;

/// What the system holds for one translation: files, environment, whether
/// /sbin/dhclient-script is there.
#[derive(Default)]
struct World {
    files: HashMap<String, String>,
    env: HashMap<String, String>,
    script: bool,
}

impl World {
    fn file(mut self, path: &str, text: &str) -> World {
        self.files.insert(path.into(), text.into());
        self
    }

    fn env(mut self, vars: &[(&str, &str)]) -> World {
        for (k, v) in vars {
            self.env.insert(k.to_string(), v.to_string());
        }
        self
    }

    fn with_script(mut self) -> World {
        self.script = true;
        self
    }

    fn run(&self, cmd: &str) -> Result<Translation, String> {
        let read = |p: &Path| Ok(self.files.get(p.to_str().unwrap()).cloned());
        let env = |n: &str| self.env.get(n).cloned();
        let executable = |p: &Path| self.script && p == Path::new(DEFAULT_SCRIPT);
        let host = Host {
            read_file: &read,
            hostname: &|| Some("myhost.lab".into()),
            env: &env,
            executable: &executable,
        };
        match translate(&argv(cmd), &host)? {
            Outcome::Run(t) => Ok(t),
            Outcome::Version => Err("version".into()),
        }
    }

    /// The translated arguments, as one line.
    fn args(&self, cmd: &str) -> String {
        let t = self.run(cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(t.warnings.is_empty(), "{cmd}: {:?}", t.warnings);
        line(&t)
    }
}

fn argv(s: &str) -> Vec<OsString> {
    s.split_whitespace().map(OsString::from).collect()
}

fn line(t: &Translation) -> String {
    let a: Vec<String> = t.args.iter().map(|a| a.to_string_lossy().into()).collect();
    a.join(" ")
}

fn args(cmd: &str) -> String {
    World::default().args(cmd)
}

#[test]
fn recognised_by_name_or_by_flags() {
    assert!(is_dhclient(&argv("/sbin/dhclient eth0")));
    assert!(is_dhclient(&argv("dhcpc -pf /x eth0")));
    assert!(!is_dhclient(&argv("dhcpc -n eth0")));
    assert!(!is_dhclient(&argv("/usr/sbin/dhcpc -1 -d eth0")));
}

/// ifupdown 0.8.41's `inet dhcp` lines for dhclient, as its method table has them, and the
/// environment it runs them with for `iface c0 inet dhcp` (with `metric 100`).
const IFUP: &str = "dhclient -4 -v -i -pf /run/dhclient.c0.pid -lf /var/lib/dhcp/dhclient.c0.leases -I -df /var/lib/dhcp/dhclient6.c0.leases c0 -e IF_METRIC=100";
const IFDOWN: &str = "dhclient -4 -v -i -r -pf /run/dhclient.c0.pid -lf /var/lib/dhcp/dhclient.c0.leases -I -df /var/lib/dhcp/dhclient6.c0.leases c0";
const IFUPDOWN_ENV: &[(&str, &str)] = &[
    ("IFACE", "c0"),
    ("LOGICAL", "c0"),
    ("ADDRFAM", "inet"),
    ("METHOD", "dhcp"),
    ("MODE", "start"),
    ("IF_METRIC", "100"),
];

#[test]
fn ifupdown_default_stanza_and_ifdown() {
    let w = World::default().env(IFUPDOWN_ENV);
    let lf = "--dhclient-lease-file /var/lib/dhcp/dhclient.c0.leases";
    let duid = "--clientid duid --duid-type llt --duid-file /var/lib/dhcp/dhclient6.c0.leases";
    assert_eq!(
        w.args(IFUP),
        format!(
            "dhcpc {lf} --metric 100 --script-env IF_METRIC=100 --pid-file /run/dhclient.c0.pid \
             {duid} --timeout 60 --last-lease c0"
        )
    );
    assert_eq!(
        w.args(IFDOWN),
        format!("dhcpc {lf} --release --pid-file /run/dhclient.c0.pid {duid} --timeout 60 c0")
    );
    // `client no`: ifupdown leaves -i out, and the client id is dhclient's default (the MAC).
    let no_i = IFUP.replace(" -i ", " ");
    assert!(!w.args(&no_i).contains("--clientid"));
    assert_eq!(args("dhclient -x c0"), "dhcpc --exit --timeout 60 c0");
}

/// ifupdown 0.8.41's `inet6` lines for dhclient (its method table, as in the ifup binary):
/// `dhcp`, `dhcp` with `request_prefix 1`, the prefix alone, `auto` with `dhcp 1`, and ifdown.
#[test]
fn ifupdown_inet6_lines() {
    let lf = "--dhclient-lease-file /var/lib/dhcp/dhclient6.c0.leases";
    let pf = "--pid-file /run/dhclient6.c0.pid";
    let df = "--duid-file /var/lib/dhcp/dhclient.c0.leases";
    let tail = "--timeout 60 c0";
    let cases = [
        (
            "dhclient -6 -v -pf /run/dhclient6.c0.pid -lf /var/lib/dhcp/dhclient6.c0.leases -I -df /var/lib/dhcp/dhclient.c0.leases c0",
            format!("dhcpc {lf} -6 --duid-type llt {df} {pf} {tail}"),
        ),
        (
            "dhclient -6 -v -pf /run/dhclient6.c0.pid -lf /var/lib/dhcp/dhclient6.c0.leases -I -P -N -df /var/lib/dhcp/dhclient.c0.leases c0",
            format!("dhcpc {lf} -6 --ia-pd --duid-type llt {df} {pf} {tail}"),
        ),
        (
            "dhclient -6 -v -P -pf /run/dhclient6.c0.pid -lf /var/lib/dhcp/dhclient6.c0.leases -I -df /var/lib/dhcp/dhclient.c0.leases c0",
            format!("dhcpc {lf} -6 --ia-pd --no-ia-na --duid-type llt {df} {pf} {tail}"),
        ),
        (
            "dhclient -6 -1 -v -S -pf /run/dhclient6.c0.pid -lf /var/lib/dhcp/dhclient6.c0.leases -I -df /var/lib/dhcp/dhclient.c0.leases c0",
            format!("dhcpc {lf} -6 --stateless --duid-type ll {df} --exit-on-timeout {pf} {tail}"),
        ),
        (
            "dhclient -6 -v -r -pf /run/dhclient6.c0.pid -lf /var/lib/dhcp/dhclient6.c0.leases -I -df /var/lib/dhcp/dhclient.c0.leases c0",
            format!("dhcpc {lf} -6 --duid-type llt {df} --release {pf} {tail}"),
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(args(cmd), want, "{cmd}");
    }
}

/// dhclient -6's own long options and -D become dhcpc's.
#[test]
fn dhclient6_long_options_and_duid_type() {
    assert_eq!(
        args("dhclient -6 -P --prefix-len-hint 56 --dad-wait-time 2 --address-prefix-len 64 -D LL c0"),
        "dhcpc --prefix-len-hint 56 --dad-wait-time 2 --address-prefix-len 64 -6 --ia-pd \
         --no-ia-na --duid-type ll --timeout 60 c0"
    );
}

#[test]
fn ifupdown_stanza_options_reach_the_server() {
    let mut env = IFUPDOWN_ENV.to_vec();
    env.extend([
        ("IF_HOSTNAME", "box"),
        ("IF_VENDOR", "acme 1.0"),
        ("IF_LEASETIME", "7200"),
        ("IF_CLIENT", "01:02:03:04:05:06:07"),
    ]);
    let w = World::default().env(&env);
    let a = w.args(IFUP);
    for want in [
        "--clientid 01:02:03:04:05:06:07",
        "--hostname box",
        "--vendor-class acme 1.0",
        "--lease-time 7200",
    ] {
        assert!(a.contains(want), "{want}: {a}");
    }
    assert!(!a.contains("duid"), "{a}");
    // Over the configuration file's host name; not for another interface or method.
    let w = World::default()
        .env(&env)
        .file(DEFAULT_CONF, "send host-name = gethostname();\n");
    let a = w.args(IFUP);
    assert!(
        a.contains("--hostname box ") && !a.contains("myhost"),
        "{a}"
    );
    for (k, v) in [("IFACE", "c1"), ("METHOD", "static"), ("ADDRFAM", "inet6")] {
        let mut other = env.clone();
        other.retain(|(n, _)| *n != k);
        other.push((k, v));
        let a = World::default().env(&other).args(IFUP);
        assert!(
            !a.contains("box") && a.contains("--clientid duid"),
            "{k}={v}: {a}"
        );
    }
    // Values dhcpc cannot send are warnings, and the rest goes on.
    let bad = [
        ("IF_HOSTNAME", "a b"),
        ("IF_VENDOR", "\u{1}"),
        ("IF_LEASETIME", "forever"),
        ("IF_CLIENT", "my-id"),
    ];
    let t = World::default()
        .env(IFUPDOWN_ENV)
        .env(&bad)
        .run(IFUP)
        .unwrap();
    assert_eq!(t.warnings.len(), 4, "{:?}", t.warnings);
    assert!(t
        .warnings
        .iter()
        .all(|w| w.starts_with("ifupdown's ") && w.ends_with("ignored")));
    assert!(line(&t).contains("--clientid duid"), "{}", line(&t));
}

/// NetworkManager 1.42's argv (nm-dhcp-dhclient.c, dhclient_start) and the -cf file it writes
/// over Debian's stock dhclient.conf.
#[test]
fn network_manager() {
    let cf = "/var/lib/NetworkManager/dhclient-eth0.conf";
    let w = World::default()
        .file(cf, include_str!("testdata/nm-dhclient-eth0-stock.conf"))
        .with_script();
    let nm = format!(
        "dhclient -d -q -B -sf /usr/lib/NetworkManager/nm-dhcp-helper -pf \
         /run/NetworkManager/dhclient-eth0.pid -lf \
         /var/lib/NetworkManager/dhclient-5f3c-eth0.lease -cf {cf} -e \
         DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket eth0"
    );
    let requests = "--request 1,28,2,3,15,6,119,12,44,47,26,121,42,249,33,252,17";
    let helper = "--script /usr/lib/NetworkManager/nm-dhcp-helper --script-configures";
    assert_eq!(
        w.args(&nm),
        format!(
            "dhcpc --quiet --broadcast --dhclient-lease-file \
             /var/lib/NetworkManager/dhclient-5f3c-eth0.lease --script-env \
             DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket --foreground \
             --pid-file /run/NetworkManager/dhclient-eth0.pid --clientid 01:52:54:00:12:34:56 \
             --hostname myhost {requests} --timeout 60 --last-lease {helper} eth0"
        )
    );
    // Its release: -r, no -pf.
    let release = format!(
        "dhclient -d -q -r -sf /usr/lib/NetworkManager/nm-dhcp-helper -lf /l -cf {cf} eth0"
    );
    assert!(w
        .args(&release)
        .starts_with("dhcpc --quiet --dhclient-lease-file /l --release --clientid 01:52"));
    // The file NM writes with an FQDN, a string client id and a longer timeout.
    let w = World::default().file(cf, include_str!("testdata/nm-dhclient-eth0-fqdn.conf"));
    let t = w
        .run(&format!("dhclient -d -q -sf /h -lf /l -cf {cf} eth0"))
        .unwrap();
    let a = line(&t);
    for want in [
        "--clientid 00:6d:79:69:64",
        "--fqdn myhost.lab.test",
        "--request 121,249,33,252,42,17",
        "--timeout 91",
    ] {
        assert!(a.contains(want), "{want}: {a}");
    }
    assert!(!a.contains("--hostname"), "{a}");
    assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
    assert!(t.warnings[0].starts_with(&format!("{cf}: line 5: 'send mudurl")));
}

/// cloud-init 22.4's argv (cloudinit/net/dhcp.py, dhcp_discovery): the script /bin/true
/// configures nothing, and dhcpc configures nothing either.
#[test]
fn cloud_init() {
    let t = World::default()
        .with_script()
        .run("dhclient -1 -v -lf /run/dhclient.lease -pf /run/dhclient.pid eth0 -sf /bin/true")
        .unwrap();
    assert!(t.once);
    assert_eq!(
        line(&t),
        "dhcpc --dhclient-lease-file /run/dhclient.lease --exit-on-timeout --pid-file \
         /run/dhclient.pid --timeout 60 --last-lease --script /bin/true --script-configures eth0"
    );
}

#[test]
fn without_sf_dhclients_own_script_configures_when_it_is_there() {
    let default = "--script /sbin/dhclient-script --script-configures";
    let there = World::default().with_script();
    assert_eq!(
        there.args("dhclient eth0"),
        format!("dhcpc --timeout 60 --last-lease {default} eth0")
    );
    // Not there (Debian 13 has no isc-dhcp-client): dhcpc configures the interface itself.
    assert_eq!(
        args("dhclient eth0"),
        "dhcpc --timeout 60 --last-lease eth0"
    );
    // dhclient.conf's `script` wins over the default, -sf over both, dhcpc's own --script
    // (without --script-configures: dhcpc configures, the script is told) over all.
    let conf = there.file(DEFAULT_CONF, "script \"/etc/my-script\";\n");
    assert!(conf
        .args("dhclient eth0")
        .contains("--script /etc/my-script --script-configures"));
    assert!(conf
        .args("dhclient -sf /x eth0")
        .contains("--script /x --script-configures"));
    assert_eq!(
        conf.args("dhclient --script /y eth0"),
        "dhcpc --timeout 60 --last-lease --script /y eth0"
    );
}

#[test]
fn the_timeout_is_dhclients_60_unless_said() {
    assert!(args("dhclient eth0").contains("--timeout 60"));
    let w = World::default().file("/c", "timeout 9;\n");
    assert!(w.args("dhclient -cf /c eth0").contains("--timeout 9 "));
    for given in ["--timeout 5", "--timeout=5"] {
        let a = w.args(&format!("dhclient -cf /c eth0 {given}"));
        assert!(a.ends_with(&format!("{given} eth0")), "{a}");
        assert_eq!(a.matches("timeout").count(), 1, "{a}");
    }
}

#[test]
fn client_identifiers_and_duids() {
    assert!(args("dhclient -D LL eth0").contains("--clientid duid --duid-type ll "));
    assert!(args("dhclient -i -D llt eth0").contains("--clientid duid --duid-type llt "));
    assert!(!args("dhclient -df /d eth0").contains("duid"));
    // The configuration file's wins over -i, as in dhclient; dhcpc's own wins over both.
    let w = World::default().file("/c", "send dhcp-client-identifier = hardware;\n");
    assert!(w
        .args("dhclient -i -cf /c eth0")
        .contains("--clientid mac "));
    let a = w.args("dhclient -i -cf /c eth0 --clientid none --duid-type uuid");
    assert!(a.ends_with("--clientid none --duid-type uuid eth0"), "{a}");
    assert_eq!(a.matches("--clientid").count(), 1, "{a}");
    let raw = World::default().file("/c", "send dhcp-client-identifier \"\\000ab\";\n");
    assert!(raw
        .args("dhclient -i -cf /c eth0")
        .contains("--clientid 00:61:62 "));
}

#[test]
fn modes_and_passthrough() {
    assert_eq!(
        args("dhclient -d -nw eth0"),
        "dhcpc --foreground --timeout 60 --last-lease eth0"
    );
    assert_eq!(
        args("dhclient -nw eth0"),
        "dhcpc --background --timeout 60 --last-lease eth0"
    );
    assert_eq!(
        args("dhclient -w -q eth0"),
        "dhcpc --allow-missing --quiet --timeout 60 --last-lease eth0"
    );
    assert_eq!(
        args("dhclient --no-pid -pf /p eth0 --run-dir /r --lease-dir=/l --no-resolv"),
        "dhcpc --timeout 60 --last-lease --run-dir /r --lease-dir=/l --no-resolv eth0"
    );
    assert_eq!(args("dhclient -h"), "dhcpc --help");
    assert_eq!(args("dhclient -v --help eth0"), "dhcpc --help");
}

#[test]
fn refusals_say_what_the_flag_is() {
    for (cmd, needle) in [
        ("dhclient -6 -T eth0", "temporary addresses (IA_TA)"),
        ("dhclient -R eth0", "takes every option"),
        ("dhclient -S eth0", "go with -6"),
        ("dhclient -P eth0", "go with -6"),
        ("dhclient -6 -S -P eth0", "does not go with -N or -P"),
        ("dhclient -6 --prefix-len-hint", "needs a length"),
        ("dhclient -4o6 6767 eth0", "DHCPv4 over DHCPv6"),
        ("dhclient -n eth0", "OMAPI"),
        ("dhclient -p 1067 eth0", "ports"),
        ("dhclient --bogus-flag eth0", ""),
        ("dhclient -Z eth0", "not a dhclient option"),
        ("dhclient -pf", "needs a file"),
        ("dhclient -D", "needs LL or LLT"),
        ("dhclient -D EUI64 eth0", "LL or LLT, not 'EUI64'"),
        ("dhclient -r -x eth0", "together"),
        ("dhclient -e 1X=2 eth0", "variable name"),
        ("dhclient -e IF_METRIC=abc eth0", "not a number"),
        (
            "dhclient -e IF_METRIC=1 eth0 --metric 2",
            "both set the metric",
        ),
        ("dhclient -v", "name the interface"),
        ("dhclient -cf /nope eth0", "no such file"),
        ("dhclient eth0/x", "not a valid interface"),
    ] {
        match World::default().run(cmd) {
            // An unknown long option passes through to dhcpc's parser, which refuses it.
            Ok(t) if needle.is_empty() => assert!(t.args.contains(&"--bogus-flag".into())),
            Ok(t) => panic!("{cmd}: {:?}", t.args),
            Err(e) => assert!(e.contains(needle), "{cmd}: {e}"),
        }
    }
    let none = |_: &Path| Ok(None);
    let host = Host {
        read_file: &none,
        hostname: &|| None,
        env: &|_| None,
        executable: &|_| false,
    };
    assert_eq!(
        translate(&argv("dhclient --version"), &host),
        Ok(Outcome::Version)
    );
}

#[test]
fn the_conf_file_becomes_options() {
    let conf = "send host-name = gethostname();\nrequest subnet-mask, ntp-servers;\ntimeout 9;\n\
                supersede domain-name-servers 198.51.100.53;\nprepend domain-name-servers 203.0.113.1;\n\
                supersede domain-name \"lab.test\";\nretry 10;\nbogus 1;\nsend dhcp-lease-time 600;\n\
                send vendor-class-identifier \"v\";\n";
    let t = World::default()
        .file("/c", conf)
        .run("dhclient -cf /c eth0")
        .unwrap();
    assert_eq!(
        line(&t),
        "dhcpc --hostname myhost --vendor-class v --lease-time 600 --request 1,42 \
         --prepend-dns 203.0.113.1 --supersede-domain lab.test --timeout 9 --last-lease eth0"
    );
    assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
    assert!(t.warnings[0].starts_with("/c: line 8:"), "{:?}", t.warnings);
    assert!(
        t.warnings[1].starts_with("/c: retry 10:"),
        "{:?}",
        t.warnings
    );
    // Without -cf, dhclient's own file is read when it is there; -H and -V win over it.
    let w = World::default().file(
        DEFAULT_CONF,
        "send host-name \"x\";\nsend vendor-class-identifier \"v\";\n",
    );
    assert_eq!(
        w.args("dhclient eth0 -H given -V w"),
        "dhcpc --hostname given --vendor-class w --timeout 60 --last-lease eth0"
    );
    let w = World::default().file("/c", "timeout \"");
    assert!(w
        .run("dhclient -cf /c eth0")
        .unwrap_err()
        .contains("/c: line 1"));
}
