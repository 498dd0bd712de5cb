//! dhclient's command line (dhclient(8)) as dhcpc's: a pure translation from dhclient's
//! arguments to dhcpc's, so that ifupdown, cloud-init and scripts that run `dhclient ...` run
//! dhcpc unchanged. A flag dhcpc cannot honour is an error (exit status 2), never a silent
//! difference. dhcpc's own long options (`--run-dir DIR`, ...) may be mixed in and pass through.

use super::conf::{self, HostName};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The configuration file dhclient reads when `-cf` is not given.
pub const DEFAULT_CONF: &str = "/etc/dhcp/dhclient.conf";

/// Flags that only dhclient has: one of them on a command line makes it dhclient's.
const ONLY_DHCLIENT: &[&str] = &[
    "-pf", "-lf", "-cf", "-sf", "-df", "-nw", "-4", "-6", "-I", "-e", "-w", "--no-pid",
];

/// Whether `argv` (program name first) is dhclient's command line: the program is called
/// `dhclient`, or a flag only dhclient has is there.
pub fn is_dhclient(argv: &[OsString]) -> bool {
    let named = argv
        .first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == "dhclient");
    named
        || argv
            .iter()
            .skip(1)
            .any(|a| a.to_str().is_some_and(|a| ONLY_DHCLIENT.contains(&a)))
}

/// What dhclient's command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `--version`.
    Version,
    /// Run dhcpc with these arguments (program name first).
    Run(Translation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub args: Vec<OsString>,
    /// `-1`: a lease not had within the timeout ends dhcpc with status 2, as dhclient.
    pub once: bool,
    /// What the configuration file holds that dhcpc does not take, one line each.
    pub warnings: Vec<String>,
}

/// Why dhclient's flags have no dhcpc equivalent, for the flags dhclient(8) documents.
fn refused(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "-6"
        | "-S"
        | "-T"
        | "-P"
        | "-N"
        | "-D"
        | "--prefix-len-hint"
        | "--address-prefix-len"
        | "--dad-wait-time" => "it is for DHCPv6, and dhcpc is a DHCPv4 client",
        "-n" => {
            "dhclient starts no interface then and waits for OMAPI commands, which dhcpc has not"
        }
        "-p" => "dhcpc uses the standard ports 67 and 68 only",
        "-s" => "dhcpc broadcasts to every server and takes the first good offer",
        "-g" => "dhcpc does not set a relay address (giaddr)",
        "-i" => "it is for DHCPv6 (DUID in DHCPv4 is --clientid duid)",
        "-m" => "dhcpc does not take the MAC address of replies to stand in for its own",
        "-C" | "--request-options" => "use request/also request in dhclient.conf or --request",
        "--decline-wait-time" => "dhcpc waits RFC 5227's 10 s after a DECLINE",
        "-nc" => "dhcpc keeps the capabilities it needs only and has no option for it",
        "-R" => "use request/also request in dhclient.conf or --request",
        _ => return None,
    })
}

/// Translates dhclient's `argv` (program name first). `read_conf` reads a file (`Ok(None)`
/// when it is not there); `hostname` is the system's host name, for `send host-name =
/// gethostname();`. An error is the message for status 2.
pub fn translate(
    argv: &[OsString],
    read_conf: &dyn Fn(&Path) -> Result<Option<String>, String>,
    hostname: &dyn Fn() -> Option<String>,
) -> Result<Outcome, String> {
    let mut out: Vec<OsString> = vec!["dhcpc".into()];
    let mut ifaces: Vec<String> = Vec::new();
    let mut conf_path: Option<PathBuf> = None;
    let (mut once, mut foreground, mut background, mut no_pid) = (false, false, false, false);
    let mut pid_file = None;
    let mut mode: Option<&str> = None;
    let mut given_hostname = false;
    let mut metric_given = false;
    let mut pass = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        let Some(s) = a.to_str() else {
            return Err(format!("{}: not UTF-8", a.to_string_lossy()));
        };
        let mut value = |what: &str| -> Result<String, String> {
            match args.next().and_then(|v| v.to_str()) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => Err(format!("dhclient's {s} needs {what}")),
            }
        };
        match s {
            "--version" => return Ok(Outcome::Version),
            // DHCPv4 is what dhcpc does; -v: dhcpc logs what dhclient -v does by default.
            "-4" | "-v" => {}
            "-1" => once = true,
            "-d" => foreground = true,
            "-nw" => background = true,
            "-q" => out.push("--quiet".into()),
            "-w" => out.push("--allow-missing".into()),
            "-B" => out.push("--broadcast".into()),
            "-r" | "-x" => {
                let m = if s == "-r" { "--release" } else { "--exit" };
                if mode.is_some_and(|old| old != m) {
                    return Err("dhclient's -r and -x do not go together".into());
                }
                mode = Some(m);
            }
            // -I: the standard DDNS scheme for the client's own DNS updates, which dhcpc does
            // not make; nothing to change. -df: the DHCPv6 DUID file.
            "-I" => {}
            "-df" => {
                value("a file")?;
            }
            "--no-pid" => no_pid = true,
            "-pf" => pid_file = Some(value("a file")?),
            "-lf" => {
                out.push("--dhclient-lease-file".into());
                out.push(value("a file")?.into());
            }
            "-cf" => conf_path = Some(PathBuf::from(value("a file")?)),
            // dhclient hands the configuration to its script: so does dhcpc here (cloud-init's
            // `-sf /bin/true` configures nothing). Without -sf, dhcpc configures the interface
            // itself, as the default dhclient-script would.
            "-sf" => {
                out.push("--script".into());
                out.push(value("a file")?.into());
                out.push("--script-configures".into());
            }
            "-e" => {
                let v = value("VAR=VALUE")?;
                let Some((name, val)) = v.split_once('=') else {
                    return Err(format!("dhclient's -e takes VAR=VALUE, not '{v}'"));
                };
                let ok_name = !name.is_empty()
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok_name {
                    return Err(format!("dhclient's -e: '{name}' is not a variable name"));
                }
                // dhclient-script sets the route metric from IF_METRIC; dhcpc sets its own.
                if name == "IF_METRIC" {
                    let m: u32 = val
                        .parse()
                        .map_err(|_| format!("dhclient's -e IF_METRIC={val}: not a number"))?;
                    out.push("--metric".into());
                    out.push(m.to_string().into());
                    metric_given = true;
                }
                out.push("--script-env".into());
                out.push(v.into());
            }
            "-H" => {
                out.push("--hostname".into());
                out.push(value("a host name")?.into());
                given_hostname = true;
            }
            "-F" => {
                out.push("--fqdn".into());
                out.push(value("a name")?.into());
                given_hostname = true;
            }
            "-V" => {
                out.push("--vendor-class".into());
                out.push(value("a vendor class")?.into());
            }
            _ if refused(s).is_some() => {
                return Err(format!(
                    "dhclient's {s} is not supported by dhcpc: {}",
                    refused(s).unwrap_or_default()
                ));
            }
            "--" => {}
            _ if s.starts_with("--") => {
                // dhcpc's own option, and its value when it takes one (clap checks it).
                pass.push(a.clone());
                if !s.contains('=') && takes_value(s) {
                    if let Some(v) = args.next() {
                        pass.push(v.clone());
                    }
                }
            }
            _ if s.starts_with('-') => {
                return Err(format!(
                    "{s}: not a dhclient option dhcpc knows (see \"DHCLIENT COMPATIBILITY\" in dhcpc(8))"
                ));
            }
            _ => ifaces.push(crate::cli::parse_ifname(s)?),
        }
    }
    if metric_given && pass.iter().any(|p| p == "--metric") {
        return Err("-e IF_METRIC and --metric both set the metric".into());
    }
    if ifaces.is_empty() {
        return Err(
            "name the interface: dhcpc does not configure every interface as dhclient does \
             without one"
                .into(),
        );
    }
    if let Some(m) = mode {
        out.push(m.into());
    } else if foreground {
        out.push("--foreground".into());
    } else if background {
        out.push("--background".into());
    }
    if once && mode.is_none() {
        out.push("--exit-on-timeout".into());
    }
    if let Some(p) = pid_file.filter(|_| !no_pid) {
        out.push("--pid-file".into());
        out.push(p.into());
    }

    let mut warnings = Vec::new();
    let (path, required) = match conf_path {
        Some(p) => (p, true),
        None => (PathBuf::from(DEFAULT_CONF), false),
    };
    match read_conf(&path)? {
        None if required => return Err(format!("{}: no such file", path.display())),
        None => {}
        Some(text) => {
            let c = conf::parse(&text, &ifaces).map_err(|e| format!("{}: {e}", path.display()))?;
            for w in &c.warnings {
                warnings.push(format!("{}: {w}", path.display()));
            }
            match (&c.hostname, given_hostname) {
                (Some(HostName::Name(n)), false) => {
                    out.push("--hostname".into());
                    out.push(n.into());
                }
                (Some(HostName::System), false) => {
                    // Only a name dhcpc would send: not "localhost", nor one with dots.
                    match hostname().map(|h| h.split('.').next().unwrap_or("").to_string()) {
                        Some(h) if !h.is_empty() && h != "localhost" => {
                            out.push("--hostname".into());
                            out.push(h.into());
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            if !c.requests.is_empty() {
                let codes: Vec<String> = c.requests.iter().map(u8::to_string).collect();
                out.push("--request".into());
                out.push(codes.join(",").into());
            }
            // dhclient's `timeout` is how long to try before giving up (-1) or going on in
            // the background: dhcpc's --timeout. `retry` is the pause before trying again
            // after that: dhcpc does not pause, it keeps trying on RFC 2131's schedule
            // (retransmissions at most 64 s apart), so a retry of 64 s or more is met.
            if let Some(t) = c
                .timeout
                .filter(|_| !pass.iter().any(|p| p == "--timeout" || p == "-t"))
            {
                out.push("--timeout".into());
                out.push(t.to_string().into());
            }
            if let Some(r) = c.retry.filter(|&r| r < 64) {
                warnings.push(format!(
                    "{}: retry {r}: dhcpc tries again on RFC 2131's schedule, up to 64 s \
                     between attempts, not every {r} s",
                    path.display()
                ));
            }
            let list = |v: &[std::net::Ipv4Addr]| {
                v.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            if let Some(s) = &c.dns_supersede {
                out.push("--supersede-dns".into());
                out.push(list(s).into());
            }
            if !c.dns_prepend.is_empty() {
                out.push("--prepend-dns".into());
                out.push(list(&c.dns_prepend).into());
            }
            if let Some(d) = &c.domain_supersede {
                out.push("--supersede-domain".into());
                out.push(d.into());
            }
        }
    }
    out.extend(pass);
    out.extend(ifaces.into_iter().map(OsString::from));
    Ok(Outcome::Run(Translation {
        args: out,
        once,
        warnings,
    }))
}

/// Whether dhcpc's long option `name` takes a value (so that the next argument is its).
fn takes_value(name: &str) -> bool {
    use clap::CommandFactory;
    let long = name.trim_start_matches('-');
    crate::cli::Cli::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .is_some_and(|a| {
            a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    fn run_with(s: &str, conf: Option<&str>) -> Result<Translation, String> {
        let conf = conf.map(str::to_string);
        let read = move |p: &Path| -> Result<Option<String>, String> {
            Ok(if p == Path::new("/c") || p == Path::new(DEFAULT_CONF) {
                conf.clone()
            } else {
                None
            })
        };
        match translate(&argv(s), &read, &|| Some("myhost.lab".into()))? {
            Outcome::Run(t) => Ok(t),
            Outcome::Version => Err("version".into()),
        }
    }

    fn args(s: &str) -> String {
        let t = run_with(s, None).unwrap();
        t.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn recognised_by_name_or_by_flags() {
        assert!(is_dhclient(&argv("/sbin/dhclient eth0")));
        assert!(is_dhclient(&argv("dhcpc -pf /x eth0")));
        assert!(!is_dhclient(&argv("dhcpc -n eth0")));
        assert!(!is_dhclient(&argv("/usr/sbin/dhcpc -1 -d eth0")));
    }

    #[test]
    fn ifupdown() {
        assert_eq!(
            args("dhclient -4 -v -pf /run/dhclient.eth0.pid -lf /var/lib/dhcp/dhclient.eth0.leases -I -df /var/lib/dhcp/dhclient6.eth0.leases eth0 -e IF_METRIC=100"),
            "dhcpc --dhclient-lease-file /var/lib/dhcp/dhclient.eth0.leases --metric 100 \
             --script-env IF_METRIC=100 --pid-file /run/dhclient.eth0.pid eth0"
        );
        assert_eq!(
            args("dhclient -4 -v -r -pf /run/p -lf /l -I -df /d eth0"),
            "dhcpc --dhclient-lease-file /l --release --pid-file /run/p eth0"
        );
        assert_eq!(args("dhclient -x eth0"), "dhcpc --exit eth0");
    }

    #[test]
    fn cloud_init() {
        let t = run_with("dhclient -1 -v -lf /l -pf /p -sf /bin/true eth0", None).unwrap();
        assert!(t.once);
        assert_eq!(
            t.args,
            argv("dhcpc --dhclient-lease-file /l --script /bin/true --script-configures --exit-on-timeout --pid-file /p eth0")
        );
    }

    #[test]
    fn modes_and_passthrough() {
        assert_eq!(args("dhclient -d -nw eth0"), "dhcpc --foreground eth0");
        assert_eq!(args("dhclient -nw eth0"), "dhcpc --background eth0");
        assert_eq!(
            args("dhclient -w -q eth0"),
            "dhcpc --allow-missing --quiet eth0"
        );
        assert_eq!(
            args("dhclient --no-pid -pf /p eth0 --run-dir /r --lease-dir=/l --no-resolv"),
            "dhcpc --run-dir /r --lease-dir=/l --no-resolv eth0"
        );
    }

    #[test]
    fn refusals_are_errors() {
        for (cmd, needle) in [
            ("dhclient -6 eth0", "DHCPv6"),
            ("dhclient -n eth0", "OMAPI"),
            ("dhclient -p 1067 eth0", "ports"),
            ("dhclient --bogus-flag eth0", ""),
            ("dhclient -Z eth0", "not a dhclient option"),
            ("dhclient -pf", "needs a file"),
            ("dhclient -r -x eth0", "together"),
            ("dhclient -e 1X=2 eth0", "variable name"),
            ("dhclient -e IF_METRIC=abc eth0", "not a number"),
            ("dhclient -v", "name the interface"),
            ("dhclient -cf /nope eth0", "no such file"),
            ("dhclient eth0/x", "not a valid interface"),
        ] {
            match run_with(cmd, None) {
                // An unknown long option passes through to dhcpc's parser, which refuses it.
                Ok(t) if needle.is_empty() => assert!(t.args.contains(&"--bogus-flag".into())),
                Ok(t) => panic!("{cmd}: {:?}", t.args),
                Err(e) => assert!(e.contains(needle), "{cmd}: {e}"),
            }
        }
        assert_eq!(
            translate(&argv("dhclient --version"), &|_| Ok(None), &|| None),
            Ok(Outcome::Version)
        );
    }

    #[test]
    fn the_conf_file_becomes_options() {
        let conf = "send host-name = gethostname();\nrequest subnet-mask, ntp-servers;\ntimeout 9;\n\
                    supersede domain-name-servers 198.51.100.53;\nprepend domain-name-servers 203.0.113.1;\n\
                    supersede domain-name \"lab.test\";\nretry 10;\nbogus 1;\n";
        let t = run_with("dhclient -cf /c eth0", Some(conf)).unwrap();
        let a: Vec<String> = t
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            a.join(" "),
            "dhcpc --hostname myhost --request 1,42 --timeout 9 --prepend-dns 203.0.113.1 \
             --supersede-domain lab.test eth0"
        );
        assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
        assert!(t.warnings[0].starts_with("/c: line 8:"), "{:?}", t.warnings);
        // Without -cf, dhclient's own file is read when it is there.
        let t = run_with("dhclient eth0 -H given", Some("send host-name \"x\";")).unwrap();
        assert_eq!(t.args, argv("dhcpc --hostname given eth0"));
        assert!(run_with("dhclient -cf /c eth0", Some("timeout \""))
            .unwrap_err()
            .contains("/c: line 1"));
    }
}
