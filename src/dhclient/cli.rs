//! dhclient's command line (dhclient(8)) as dhcpc's: a pure translation from dhclient's
//! arguments to dhcpc's, so that ifupdown, NetworkManager, cloud-init and scripts that run
//! `dhclient ...` run dhcpc unchanged. A flag dhcpc cannot honour is an error (exit status 2),
//! never a silent difference. dhcpc's own long options (`--run-dir DIR`, ...) may be mixed in
//! and pass through. What the configuration file, ifupdown's environment and dhclient's
//! defaults add is [`super::args`]'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The configuration file dhclient reads when `-cf` is not given.
pub const DEFAULT_CONF: &str = "/etc/dhcp/dhclient.conf";

/// The script dhclient runs when neither `-sf` nor the configuration file names one.
pub const DEFAULT_SCRIPT: &str = "/sbin/dhclient-script";

/// Flags that only dhclient has: one of them on a command line makes it dhclient's.
const ONLY_DHCLIENT: &[&str] = &[
    "-pf", "-lf", "-cf", "-sf", "-df", "-nw", "-I", "-e", "-w", "--no-pid",
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

/// What the translation asks of the system, given by the caller so that it stays pure.
pub struct Host<'a> {
    /// A file's text; `Ok(None)` when it is not there.
    pub read_file: &'a dyn Fn(&Path) -> Result<Option<String>, String>,
    /// The system's host name (`send host-name = gethostname();`).
    pub hostname: &'a dyn Fn() -> Option<String>,
    /// A variable of dhcpc's environment (ifupdown's `IF_*`).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Whether a file is there to be run (dhclient's default script).
    pub executable: &'a dyn Fn(&Path) -> bool,
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
    /// What the configuration file or the environment holds that dhcpc does not take, one
    /// line each.
    pub warnings: Vec<String>,
}

/// Why dhclient's flags have no dhcpc equivalent, for the flags dhclient(8) documents (and
/// those distributions' patches add).
fn refused(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "-T" => {
            "it asks for DHCPv6 temporary addresses (IA_TA), which dhcpc does not; the kernel's \
             privacy addresses (use_tempaddr) serve instead"
        }
        "-R" => "dhcpc asks for the DHCPv6 options it uses and takes every option sent",
        "-4o6" => "it runs DHCPv4 over DHCPv6 (RFC 7341), which dhcpc does not do",
        "-n" => {
            "dhclient starts no interface then and waits for OMAPI commands, which dhcpc has not"
        }
        "-p" => "dhcpc uses the standard ports 67 and 68 only",
        "-s" => "dhcpc broadcasts to every server and takes the first good offer",
        "-g" => "dhcpc does not set a relay address (giaddr)",
        "-m" => "dhcpc does not take the MAC address of replies to stand in for its own",
        "-C" | "--request-options" => "use request/also request in dhclient.conf or --request",
        "--decline-wait-time" => "dhcpc waits RFC 5227's 10 s after a DECLINE",
        "-nc" => "dhcpc keeps the capabilities it needs only and has no option for it",
        _ => return None,
    })
}

/// What dhclient's flags said, gathered as they are read.
#[derive(Default)]
pub(super) struct Flags {
    /// dhcpc's arguments so far, program name first, in the order of the flags.
    pub out: Vec<OsString>,
    pub ifaces: Vec<String>,
    pub conf_path: Option<PathBuf>,
    once: bool,
    foreground: bool,
    background: bool,
    no_pid: bool,
    pid_file: Option<String>,
    /// `--release` (-r) or `--exit` (-x).
    mode: Option<&'static str>,
    /// -H or -F: the configuration file's host name is not taken then.
    pub given_hostname: bool,
    /// -V.
    pub given_vendor: bool,
    /// -e IF_METRIC=N.
    metric_given: bool,
    /// -i or -D: an RFC 4361 client identifier from the host's DUID.
    pub duid_v4: bool,
    /// -D LL or LLT (dhcpc's --duid-type); dhclient makes an LLT without it.
    pub duid_type: Option<&'static str>,
    /// -df FILE.
    pub duid_file: Option<String>,
    /// -sf FILE.
    pub script: Option<String>,
    /// dhcpc's own long options, passed through after the translation.
    pub pass: Vec<OsString>,
    /// -6, and what it asks for: -S (configuration only), -N (an address), -P (a prefix).
    pub v6: bool,
    stateless: bool,
    want_na: bool,
    want_pd: bool,
}

/// Translates dhclient's `argv` (program name first), asking `host` for what it needs. An
/// error is the message for status 2.
pub fn translate(argv: &[OsString], host: &Host) -> Result<Outcome, String> {
    let Some(mut f) = Flags::read(argv)? else {
        return Ok(Outcome::Version);
    };
    if f.out.last().is_some_and(|a| a == "--help") {
        return Ok(Outcome::Run(Translation {
            args: f.out,
            once: false,
            warnings: Vec::new(),
        }));
    }
    f.check()?;
    f.push_mode();
    let mut warnings = Vec::new();
    let conf = f.read_conf(host.read_file, &mut warnings)?;
    super::args::add(&mut f, conf.as_ref(), host, &mut warnings);
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
            match s {
                "--version" => return Ok(None),
                // dhclient's usage; dhcpc's own, which says more.
                "-h" | "--help" => {
                    f.out.truncate(1);
                    f.out.push("--help".into());
                    return Ok(Some(f));
                }
                _ => f.flag(s, a, &mut args)?,
            }
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
            // -v: dhcpc logs what dhclient -v does by default.
            "-4" | "-v" => {}
            "-6" => self.v6 = true,
            "-S" => self.stateless = true,
            "-N" => self.want_na = true,
            "-P" => self.want_pd = true,
            "--prefix-len-hint" => self.push("--prefix-len-hint", value("a length")?),
            "--address-prefix-len" => self.push("--address-prefix-len", value("a length")?),
            "--dad-wait-time" => self.push("--dad-wait-time", value("seconds")?),
            "-1" => self.once = true,
            "-d" => self.foreground = true,
            "-nw" => self.background = true,
            "-q" => self.out.push("--quiet".into()),
            "-w" => self.out.push("--allow-missing".into()),
            "-B" => self.out.push("--broadcast".into()),
            "-r" => self.set_mode("--release")?,
            "-x" => self.set_mode("--exit")?,
            // -I: the standard DDNS scheme for the client's own DNS updates, which dhcpc does
            // not make; nothing to change.
            "-I" => {}
            // -i: RFC 4361's client identifier (type 255, IAID, DUID); -D too, with the
            // kind of DUID made when there is none.
            "-i" => self.duid_v4 = true,
            "-D" => {
                let kind = value("LL or LLT")?;
                self.duid_type = Some(match kind.to_ascii_uppercase().as_str() {
                    "LL" => "ll",
                    "LLT" => "llt",
                    _ => return Err(format!("dhclient's -D takes LL or LLT, not '{kind}'")),
                });
                self.duid_v4 = true;
            }
            "-df" => self.duid_file = Some(value("a file")?),
            "--no-pid" => self.no_pid = true,
            "-pf" => self.pid_file = Some(value("a file")?),
            "-lf" => self.push("--dhclient-lease-file", value("a file")?),
            "-cf" => self.conf_path = Some(PathBuf::from(value("a file")?)),
            "-sf" => self.script = Some(value("a file")?),
            "-e" => self.script_env(value("VAR=VALUE")?)?,
            "-H" => {
                self.push("--hostname", value("a host name")?);
                self.given_hostname = true;
            }
            "-F" => {
                self.push("--fqdn", value("a name")?);
                self.given_hostname = true;
            }
            "-V" => {
                self.push("--vendor-class", value("a vendor class")?);
                self.given_vendor = true;
            }
            _ => return self.other(s, a, args),
        }
        Ok(())
    }

    /// A flag of no arm of [`Flags::flag`]'s: refused, dhcpc's own long option, unknown, or
    /// an interface.
    fn other<'a>(
        &mut self,
        s: &str,
        a: &OsString,
        args: &mut impl Iterator<Item = &'a OsString>,
    ) -> Result<(), String> {
        if let Some(why) = refused(s) {
            return Err(format!("dhclient's {s} is not supported by dhcpc: {why}"));
        }
        if s == "--" {
        } else if s.starts_with("--") {
            // dhcpc's own option, and its value when it takes one (clap checks it).
            self.pass.push(a.clone());
            if !s.contains('=') && takes_value(s) {
                if let Some(v) = args.next() {
                    self.pass.push(v.clone());
                }
            }
        } else if s.starts_with('-') {
            return Err(format!(
                "{s}: not a dhclient option dhcpc knows (see \"MOVING FROM DHCLIENT\" in dhcpc(8))"
            ));
        } else {
            self.ifaces.push(crate::cli::parse_ifname(s)?);
        }
        Ok(())
    }

    /// dhcpc's option `name` with `value`.
    pub fn push(&mut self, name: &str, value: impl Into<OsString>) {
        self.out.push(name.into());
        self.out.push(value.into());
    }

    /// Whether dhcpc is run to release or stop a daemon (-r, -x), not to get a lease.
    pub fn controls(&self) -> bool {
        self.mode.is_some()
    }

    /// Whether dhcpc's own long option `name` (`--timeout`) is among those passed through.
    pub fn passes(&self, name: &str) -> bool {
        self.pass.iter().any(|p| {
            p.to_str().is_some_and(|p| {
                p == name || p.strip_prefix(name).is_some_and(|r| r.starts_with('='))
            })
        })
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
        if !self.v6 && (self.stateless || self.want_na || self.want_pd) {
            return Err("dhclient's -S, -N and -P go with -6".into());
        }
        if self.stateless && (self.want_na || self.want_pd) {
            return Err("dhclient's -S (configuration only) does not go with -N or -P".into());
        }
        if self.metric_given && self.passes("--metric") {
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

    /// DHCPv6 (-6) and what it asks for: as dhclient, an address unless -P alone (or -S) says
    /// otherwise; the DUID is made as dhclient makes it (DUID-LLT, or DUID-LL with -S, unless
    /// -D says), taken from -df's file when -lf holds none.
    fn push_v6(&mut self) {
        if !self.v6 {
            return;
        }
        self.out.push("-6".into());
        if self.stateless {
            self.out.push("--stateless".into());
        } else if self.want_pd {
            self.out.push("--ia-pd".into());
            if !self.want_na {
                self.out.push("--no-ia-na".into());
            }
        }
        if !self.passes("--duid-type") {
            let made = if self.stateless { "ll" } else { "llt" };
            self.push("--duid-type", self.duid_type.unwrap_or(made));
        }
        if let Some(df) = self
            .duid_file
            .clone()
            .filter(|_| !self.passes("--duid-file"))
        {
            self.push("--duid-file", df);
        }
    }

    /// How dhcpc runs: release or exit, in the foreground or background, once, its pid file.
    fn push_mode(&mut self) {
        self.push_v6();
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

    /// The configuration file (-cf, or dhclient's default when it is there), read, its
    /// warnings added to `warnings`; None when there is none.
    fn read_conf(
        &mut self,
        read_file: &dyn Fn(&Path) -> Result<Option<String>, String>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<super::conf::Conf>, String> {
        let (path, required) = match self.conf_path.take() {
            Some(p) => (p, true),
            None => (PathBuf::from(DEFAULT_CONF), false),
        };
        match read_file(&path)? {
            None if required => Err(format!("{}: no such file", path.display())),
            None => Ok(None),
            Some(text) => {
                let c = super::conf::parse(&text, &self.ifaces)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                for w in &c.warnings {
                    warnings.push(format!("{}: {w}", path.display()));
                }
                self.conf_path = Some(path);
                Ok(Some(c))
            }
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
#[path = "cli_tests.rs"]
mod tests;
