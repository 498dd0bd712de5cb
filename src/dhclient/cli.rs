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

/// What dhclient's flags said, gathered as they are read.
#[derive(Default)]
struct Flags {
    /// dhcpc's arguments so far, program name first, in the order of the flags.
    out: Vec<OsString>,
    ifaces: Vec<String>,
    conf_path: Option<PathBuf>,
    once: bool,
    foreground: bool,
    background: bool,
    no_pid: bool,
    pid_file: Option<String>,
    /// `--release` (-r) or `--exit` (-x).
    mode: Option<&'static str>,
    /// -H or -F: the configuration file's host name is not taken then.
    given_hostname: bool,
    /// -e IF_METRIC=N.
    metric_given: bool,
    /// dhcpc's own long options, passed through after the translation.
    pass: Vec<OsString>,
}

/// Translates dhclient's `argv` (program name first). `read_conf` reads a file (`Ok(None)`
/// when it is not there); `hostname` is the system's host name, for `send host-name =
/// gethostname();`. An error is the message for status 2.
pub fn translate(
    argv: &[OsString],
    read_conf: &dyn Fn(&Path) -> Result<Option<String>, String>,
    hostname: &dyn Fn() -> Option<String>,
) -> Result<Outcome, String> {
    let Some(mut f) = Flags::read(argv)? else {
        return Ok(Outcome::Version);
    };
    f.check()?;
    f.push_mode();
    let mut warnings = Vec::new();
    f.read_conf(read_conf, hostname, &mut warnings)?;
    let Flags {
        mut out,
        pass,
        ifaces,
        once,
        ..
    } = f;
    out.extend(pass);
    out.extend(ifaces.into_iter().map(OsString::from));
    Ok(Outcome::Run(Translation {
        args: out,
        once,
        warnings,
    }))
}

impl Flags {
    /// Reads dhclient's flags (program name first); `None` for `--version`.
    fn read(argv: &[OsString]) -> Result<Option<Flags>, String> {
        let mut f = Flags {
            out: vec!["dhcpc".into()],
            ..Flags::default()
        };
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            let Some(s) = a.to_str() else {
                return Err(format!("{}: not UTF-8", a.to_string_lossy()));
            };
            if s == "--version" {
                return Ok(None);
            }
            f.flag(s, a, &mut args)?;
        }
        Ok(Some(f))
    }

    /// The table of dhclient's flags: one arm for each, saying what it becomes in dhcpc's
    /// arguments. `args` are the arguments after `s` (`a`), for a flag's value.
    fn flag<'a>(
        &mut self,
        s: &str,
        a: &OsString,
        args: &mut impl Iterator<Item = &'a OsString>,
    ) -> Result<(), String> {
        let mut value = |what: &str| -> Result<String, String> {
            match args.next().and_then(|v| v.to_str()) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => Err(format!("dhclient's {s} needs {what}")),
            }
        };
        match s {
            // DHCPv4 is what dhcpc does; -v: dhcpc logs what dhclient -v does by default.
            "-4" | "-v" => {}
            "-1" => self.once = true,
            "-d" => self.foreground = true,
            "-nw" => self.background = true,
            "-q" => self.out.push("--quiet".into()),
            "-w" => self.out.push("--allow-missing".into()),
            "-B" => self.out.push("--broadcast".into()),
            "-r" => self.set_mode("--release")?,
            "-x" => self.set_mode("--exit")?,
            // -I: the standard DDNS scheme for the client's own DNS updates, which dhcpc does
            // not make; nothing to change. -df: the DHCPv6 DUID file.
            "-I" => {}
            "-df" => {
                value("a file")?;
            }
            "--no-pid" => self.no_pid = true,
            "-pf" => self.pid_file = Some(value("a file")?),
            "-lf" => self.push("--dhclient-lease-file", value("a file")?),
            "-cf" => self.conf_path = Some(PathBuf::from(value("a file")?)),
            // dhclient hands the configuration to its script: so does dhcpc here (cloud-init's
            // `-sf /bin/true` configures nothing). Without -sf, dhcpc configures the interface
            // itself, as the default dhclient-script would.
            "-sf" => {
                self.push("--script", value("a file")?);
                self.out.push("--script-configures".into());
            }
            "-e" => self.script_env(value("VAR=VALUE")?)?,
            "-H" => {
                self.push("--hostname", value("a host name")?);
                self.given_hostname = true;
            }
            "-F" => {
                self.push("--fqdn", value("a name")?);
                self.given_hostname = true;
            }
            "-V" => self.push("--vendor-class", value("a vendor class")?),
            _ if refused(s).is_some() => {
                return Err(format!(
                    "dhclient's {s} is not supported by dhcpc: {}",
                    refused(s).unwrap_or_default()
                ));
            }
            "--" => {}
            _ if s.starts_with("--") => {
                // dhcpc's own option, and its value when it takes one (clap checks it).
                self.pass.push(a.clone());
                if !s.contains('=') && takes_value(s) {
                    if let Some(v) = args.next() {
                        self.pass.push(v.clone());
                    }
                }
            }
            _ if s.starts_with('-') => {
                return Err(format!(
                    "{s}: not a dhclient option dhcpc knows (see \"DHCLIENT COMPATIBILITY\" in dhcpc(8))"
                ));
            }
            _ => self.ifaces.push(crate::cli::parse_ifname(s)?),
        }
        Ok(())
    }

    /// dhcpc's option `name` with `value`.
    fn push(&mut self, name: &str, value: impl Into<OsString>) {
        self.out.push(name.into());
        self.out.push(value.into());
    }

    /// -r or -x: `m` is dhcpc's `--release` or `--exit`.
    fn set_mode(&mut self, m: &'static str) -> Result<(), String> {
        if self.mode.is_some_and(|old| old != m) {
            return Err("dhclient's -r and -x do not go together".into());
        }
        self.mode = Some(m);
        Ok(())
    }

    /// -e VAR=VALUE: a variable for the script (and IF_METRIC, dhcpc's metric).
    fn script_env(&mut self, v: String) -> Result<(), String> {
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
            self.push("--metric", m.to_string());
            self.metric_given = true;
        }
        self.push("--script-env", v);
        Ok(())
    }

    /// What the flags cannot say together or must say.
    fn check(&self) -> Result<(), String> {
        if self.metric_given && self.pass.iter().any(|p| p == "--metric") {
            return Err("-e IF_METRIC and --metric both set the metric".into());
        }
        if self.ifaces.is_empty() {
            return Err(
                "name the interface: dhcpc does not configure every interface as dhclient does \
                 without one"
                    .into(),
            );
        }
        Ok(())
    }

    /// How dhcpc runs: release or exit, in the foreground or background, once, its pid file.
    fn push_mode(&mut self) {
        if let Some(m) = self.mode {
            self.out.push(m.into());
        } else if self.foreground {
            self.out.push("--foreground".into());
        } else if self.background {
            self.out.push("--background".into());
        }
        if self.once && self.mode.is_none() {
            self.out.push("--exit-on-timeout".into());
        }
        if let Some(p) = self.pid_file.take().filter(|_| !self.no_pid) {
            self.push("--pid-file", p);
        }
    }

    /// Reads the configuration file (-cf, or dhclient's default when it is there) and adds
    /// what it says to dhcpc's arguments, and what dhcpc does not take to `warnings`.
    fn read_conf(
        &mut self,
        read_conf: &dyn Fn(&Path) -> Result<Option<String>, String>,
        hostname: &dyn Fn() -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        let (path, required) = match self.conf_path.take() {
            Some(p) => (p, true),
            None => (PathBuf::from(DEFAULT_CONF), false),
        };
        match read_conf(&path)? {
            None if required => Err(format!("{}: no such file", path.display())),
            None => Ok(()),
            Some(text) => {
                let c = conf::parse(&text, &self.ifaces)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                for w in &c.warnings {
                    warnings.push(format!("{}: {w}", path.display()));
                }
                self.conf_hostname(&c, hostname);
                self.conf_args(&c, &path, warnings);
                Ok(())
            }
        }
    }

    /// `send host-name`, unless -H or -F named one.
    fn conf_hostname(&mut self, c: &conf::Conf, hostname: &dyn Fn() -> Option<String>) {
        match (&c.hostname, self.given_hostname) {
            (Some(HostName::Name(n)), false) => self.push("--hostname", n),
            (Some(HostName::System), false) => {
                // Only a name dhcpc would send: not "localhost", nor one with dots.
                match hostname().map(|h| h.split('.').next().unwrap_or("").to_string()) {
                    Some(h) if !h.is_empty() && h != "localhost" => self.push("--hostname", h),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The configuration file's requests, timeout and DNS statements (`path` is its name).
    fn conf_args(&mut self, c: &conf::Conf, path: &Path, warnings: &mut Vec<String>) {
        if !c.requests.is_empty() {
            let codes: Vec<String> = c.requests.iter().map(u8::to_string).collect();
            self.push("--request", codes.join(","));
        }
        // dhclient's `timeout` is how long to try before giving up (-1) or going on in
        // the background: dhcpc's --timeout. `retry` is the pause before trying again
        // after that: dhcpc does not pause, it keeps trying on RFC 2131's schedule
        // (retransmissions at most 64 s apart), so a retry of 64 s or more is met.
        if let Some(t) = c
            .timeout
            .filter(|_| !self.pass.iter().any(|p| p == "--timeout" || p == "-t"))
        {
            self.push("--timeout", t.to_string());
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
            self.push("--supersede-dns", list(s));
        }
        if !c.dns_prepend.is_empty() {
            self.push("--prepend-dns", list(&c.dns_prepend));
        }
        if let Some(d) = &c.domain_supersede {
            self.push("--supersede-domain", d);
        }
    }
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
