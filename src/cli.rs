//! Command-line interface.

use crate::core::{ClientId, ProbeMode};
use crate::dhclient::duid::DuidType;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The help heading of the options one process applies to all its interfaces (files, logging,
/// the signals). The configuration file takes them at its top level only, not per interface
/// (see [`crate::config`]): a new option of that kind belongs under this heading.
pub const PROCESS_HEADING: &str = "Options for all the interfaces of one process";

/// Where control sockets and pid files go unless `--run-dir` says otherwise.
pub const DEFAULT_RUN_DIR: &str = "/run/dhcpc";

/// A DHCP client daemon (DHCPv4, and DHCPv6 with -6): acquires a lease, configures the
/// interface, keeps the lease alive.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "dhcpc",
    version,
    about,
    after_help = "Without -1, -d or a control option, dhcpc waits until every interface is bound \
                  (or --timeout passes), then goes to the background and keeps the leases.\n\
                  Exit status: 0 lease acquired (or request done); 1 no lease within --timeout \
                  (or no daemon for the interface); 2 bad command line; 3 system error that \
                  may pass (no such interface, netlink failure); 4 refusal that will last \
                  (missing privilege, a directory it may not write).\n\
                  See dhcpc(8) for the full description."
)]
pub struct Cli {
    /// Interfaces to configure (for example eth0).
    #[arg(value_name = "INTERFACE", required_unless_present_any = ["status", "check_config"],
          value_parser = parse_ifname)]
    pub interfaces: Vec<String>,

    /// Read the settings from this file instead of /etc/dhcpc.conf (see dhcpc.conf(5)).
    /// The command line wins over the file.
    #[arg(short = 'c', long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Check the configuration file and exit: status 0 and "ok", or status 2 and one line per
    /// problem.
    #[arg(long, group = "mode")]
    pub check_config: bool,

    /// Oneshot: acquire a lease, configure the interface, print the lease and exit.
    #[arg(short = '1', long = "oneshot", group = "mode")]
    pub oneshot: bool,

    /// Stay in the foreground (log to stderr) instead of detaching once bound.
    #[arg(short = 'd', long, group = "mode")]
    pub foreground: bool,

    /// Release: the running daemon (or, with none, dhcpc itself from the saved lease) sends
    /// DHCPRELEASE, removes the address, routes and DNS settings, and stops.
    #[arg(short = 'r', long, group = "mode")]
    pub release: bool,

    /// Stop the running daemon for these interfaces without releasing (the lease is kept).
    #[arg(short = 'x', long = "exit", group = "mode")]
    pub stop: bool,

    /// Ask the running daemon to renew now.
    #[arg(short = 'n', long, group = "mode")]
    pub renew: bool,

    /// Show each interface's state, address, server and timers (all interfaces if none named).
    #[arg(long, group = "mode")]
    pub status: bool,

    /// With --status: print JSON.
    #[arg(long, requires = "status")]
    pub json: bool,

    /// DHCPv4 (the default, unless -6 is given alone). With -6: both protocols on each
    /// interface, in one process.
    #[arg(short = '4', long = "ipv4")]
    pub ipv4: bool,

    /// DHCPv6 (RFC 8415): an address (IA_NA) by default; see --ia-pd, --no-ia-na,
    /// --stateless. Alone: DHCPv6 only; with -4: both protocols.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,

    /// DHCPv6: ask for a delegated prefix (IA_PD) too.
    #[arg(long)]
    pub ia_pd: bool,

    /// DHCPv6: the length of delegated prefix hoped for (implies --ia-pd).
    #[arg(long, value_name = "LEN", value_parser = clap::value_parser!(u8).range(1..=128))]
    pub prefix_len_hint: Option<u8>,

    /// DHCPv6: ask for no address (with --ia-pd: a delegated prefix only).
    #[arg(long)]
    pub no_ia_na: bool,

    /// DHCPv6: configuration only (INFORMATION-REQUEST: DNS servers, search list, NTP), no
    /// address or prefix.
    #[arg(long, conflicts_with_all = ["ia_pd", "prefix_len_hint", "no_ia_na", "delegate"])]
    pub stateless: bool,

    /// DHCPv6 as the router's advertisements say (their M and O flags, which the kernel keeps):
    /// addresses (and the prefix asked for) when M is set, configuration only when O alone,
    /// nothing before an advertisement with either. No ICMPv6 socket of dhcpc's own.
    #[arg(long, conflicts_with = "stateless")]
    pub follow_ra: bool,

    /// DHCPv6: give each of these interfaces a /64 of every delegated prefix (the first the
    /// prefix's subnet 0, the next subnet 1, ...), its ::1 address with the prefix's
    /// lifetimes (implies --ia-pd).
    #[arg(long, value_name = "IFACE,...", value_delimiter = ',', value_parser = parse_ifname)]
    pub delegate: Vec<String>,

    /// DHCPv6: ask for these options too (codes, comma-separated).
    #[arg(long, value_name = "OPT,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u16).range(1..))]
    pub request6: Vec<u16>,

    /// DHCPv6: wait a random time up to MS milliseconds before the first SOLICIT,
    /// INFORMATION-REQUEST or CONFIRM on a link, so that hosts started together do not all ask
    /// at once (RFC 8415 18.2.1's SOL_MAX_DELAY is 1000). 0 asks at once, as dhcpc's DHCPv4
    /// does.
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub initial_delay: u64,

    /// DHCPv6 hook scripts: the `dad_wait_time` they are told (dhclient's --dad-wait-time).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub dad_wait_time: u32,

    /// DHCPv6 hook scripts: the `ip6_prefixlen` of an address (dhclient's
    /// --address-prefix-len; dhcpc itself puts addresses on as /128).
    #[arg(long, value_name = "LEN", default_value_t = 128,
          value_parser = clap::value_parser!(u8).range(0..=128))]
    pub address_prefix_len: u8,

    /// Send DHCPRELEASE when stopped by SIGTERM (default: keep the lease).
    #[arg(help_heading = PROCESS_HEADING, long)]
    pub release_on_exit: bool,

    /// Address conflict detection: probe window in milliseconds (0 = off), or `rfc5227` for
    /// RFC 5227's full timings.
    #[arg(long, value_name = "MS|rfc5227", default_value = "200", value_parser = parse_probe)]
    pub arp_probe: ProbeMode,

    /// Directory of the saved leases (IFACE.lease).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/dhcpc")]
    pub lease_dir: PathBuf,

    /// Directory of the control sockets, pid files and the saved resolv.conf.
    #[arg(help_heading = PROCESS_HEADING, long, value_name = "DIR", default_value = DEFAULT_RUN_DIR)]
    pub run_dir: PathBuf,

    /// Give up when no lease is bound within SECS seconds (exit status 1).
    #[arg(short = 't', long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: u64,

    /// Metric (priority) of the default route dhcpc adds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub metric: u32,

    /// Where the DNS settings of the leases go: `resolved` (systemd-resolved over D-Bus),
    /// `resolvconf` (resolvconf -a IFACE.dhcpc), `file` (--resolv-conf), `none`; `auto`
    /// takes resolved when it manages DNS, else resolvconf when installed, else file.
    /// Given twice, the last one counts.
    #[arg(help_heading = PROCESS_HEADING, long, value_name = "MODE", value_enum,
          default_value_t = DnsMode::Auto, overrides_with = "dns_mode")]
    pub dns_mode: DnsMode,

    /// The file of `--dns-mode file`: DNS servers (option 6), domain (15) and search list (119).
    #[arg(help_heading = PROCESS_HEADING, long, value_name = "PATH", default_value = "/etc/resolv.conf")]
    pub resolv_conf: PathBuf,

    /// Leave DNS alone: the same as --dns-mode none.
    #[arg(help_heading = PROCESS_HEADING, long, conflicts_with_all = ["resolv_conf", "dns_mode"])]
    pub no_resolv: bool,

    /// Ask servers to broadcast their replies (set the BOOTP broadcast flag).
    #[arg(short = 'B', long)]
    pub broadcast: bool,

    /// Send this host name to the server (option 12).
    #[arg(short = 'H', long, value_name = "NAME", value_parser = parse_hostname)]
    pub hostname: Option<String>,

    /// Send this vendor class identifier (option 60).
    #[arg(long, value_name = "STRING", value_parser = parse_vendor_class)]
    pub vendor_class: Option<String>,

    /// Client identifier (option 61): `mac` (type 1 and the MAC, the default, as dhclient),
    /// `duid` (RFC 4361: an IAID from the MAC and the host's DUID, see --duid-type), `none`, or
    /// HEX bytes.
    #[arg(long = "clientid", value_name = "mac|duid|none|HEX", default_value = "mac", value_parser = parse_client_id)]
    pub client_id: ClientId,

    /// The kind of DUID made for `--clientid duid` and DHCPv6 when none is kept yet: `uuid` (RFC 6355,
    /// random, the default), `llt` (the MAC and the time, as dhclient -i makes it) or `ll` (the
    /// MAC, dhclient's -D LL).
    #[arg(long, value_name = "uuid|llt|ll", value_enum, default_value_t = DuidType::Uuid)]
    pub duid_type: DuidType,

    /// A dhclient lease file whose `default-duid` is the DUID for `--clientid duid` when dhcpc
    /// keeps none yet (dhclient's -df); it is then kept where dhcpc keeps its own.
    #[arg(long, value_name = "PATH")]
    pub duid_file: Option<PathBuf>,

    /// Ask for a lease of SECS seconds (option 51); the server decides.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..))]
    pub lease_time: Option<u32>,

    /// Send this name in option 81 (RFC 4702) so that the server can update DNS.
    /// (Sent instead of option 12, as RFC 4702 requires.)
    #[arg(long, value_name = "NAME", value_parser = parse_fqdn)]
    pub fqdn: Option<String>,

    /// Ask for these options too (option 55), by number: for example 42,119,252.
    #[arg(long, value_name = "OPT,...", value_delimiter = ',', value_parser = parse_option_code)]
    pub request: Vec<u8>,

    /// Do not ask for rapid commit (option 80, RFC 4039: a lease in two messages).
    #[arg(long)]
    pub no_rapid_commit: bool,

    /// Fall back to an IPv4 link-local address (RFC 3927, 169.254.0.0/16) when no lease comes
    /// within SECS seconds (default 10); DHCP goes on in the background, and the link-local
    /// address goes as soon as a lease is bound.
    /// Not with -1: a link-local address needs a daemon to defend it.
    #[arg(long, value_name = "SECS", num_args = 0..=1, require_equals = true,
          default_missing_value = "10", conflicts_with = "oneshot",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ipv4ll: Option<u64>,

    /// Options only (DHCPINFORM, RFC 2131 3.4), for an interface whose IPv4 address is set by
    /// hand: no lease is asked for and the address is never touched; DHCPINFORM goes out from
    /// ADDR (by default the interface's first IPv4 address), and the ACK's routes, DNS
    /// servers, domain, search list, NTP servers and MTU are applied as a lease's are, asked
    /// for again every --inform-refresh seconds. Hook reason INFORM.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, require_equals = true,
          conflicts_with_all = ["ipv4ll", "last_lease", "lease_time", "dhclient_lease_file"])]
    pub inform: Option<Option<std::net::Ipv4Addr>>,

    /// With --inform: ask for the options again SECS seconds after each answer (default a
    /// day, 86400; at least 10; 0: never, as dhcpcd).
    #[arg(long, value_name = "SECS", default_value_t = 86400, value_parser = parse_inform_refresh)]
    pub inform_refresh: u64,

    /// Wait for an interface that is not there (yet) instead of failing; an interface that
    /// is removed is always waited for, and picked up again by its new index.
    #[arg(long)]
    pub allow_missing: bool,

    /// Run PATH on each event with dhclient-script's reasons and environment (PREINIT,
    /// BOUND, RENEW, REBIND, REBOOT, EXPIRE, FAIL, RELEASE, STOP, NAK): only to tell it, or,
    /// with --script-configures, to have it configure the interface as dhclient does.
    #[arg(long, value_name = "PATH")]
    pub script: Option<PathBuf>,

    /// The script configures the interface (address, routes, DNS) itself, as
    /// dhclient-script does; dhcpc does not. A non-zero exit after BOUND or REBOOT declines
    /// the lease.
    #[arg(long, requires = "script")]
    pub script_configures: bool,

    /// Kill a script run that has not finished after SECS seconds (it is logged; never fatal).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub script_timeout: u64,

    /// Pass VAR=VALUE to the script too (as dhclient's -e). May be given more than once.
    #[arg(long, value_name = "VAR=VALUE", value_parser = parse_script_env)]
    pub script_env: Vec<(String, String)>,

    /// Go to the background at once instead of when bound (dhclient's -nw).
    #[arg(long, conflicts_with_all = ["foreground", "oneshot"])]
    pub background: bool,

    /// When no server answers within --timeout, use the saved lease while it lasts, until a
    /// server renews it (dhclient's TIMEOUT; on under dhclient's command line).
    #[arg(long)]
    pub last_lease: bool,

    /// When an interface has no lease within --timeout, stop (exit status 1) instead of going
    /// on trying in the background (dhclient's -1).
    #[arg(long, conflicts_with = "oneshot")]
    pub exit_on_timeout: bool,

    /// Write the daemon's process id to PATH too (removed when it stops), as dhclient's -pf.
    #[arg(help_heading = PROCESS_HEADING, long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,

    /// Keep the lease in dhclient's lease-file format (dhclient.leases(5)) in PATH instead
    /// of dhcpc's own file in --lease-dir; read back from there at start (dhclient's -lf).
    #[arg(long, value_name = "PATH")]
    pub dhclient_lease_file: Option<PathBuf>,

    /// Put these DNS servers in resolv.conf instead of the lease's (dhclient.conf's
    /// `supersede domain-name-servers`).
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub supersede_dns: Vec<std::net::Ipv4Addr>,

    /// Put these DNS servers in resolv.conf before the lease's (dhclient.conf's `prepend
    /// domain-name-servers`).
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub prepend_dns: Vec<std::net::Ipv4Addr>,

    /// Put this domain in resolv.conf instead of the lease's option 15 (dhclient.conf's
    /// `supersede domain-name`).
    #[arg(long, value_name = "NAME", value_parser = parse_hostname)]
    pub supersede_domain: Option<String>,

    /// More log output (-v debug, -vv trace).
    #[arg(help_heading = PROCESS_HEADING, short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only warnings and errors on stderr.
    #[arg(help_heading = PROCESS_HEADING, short, long)]
    pub quiet: bool,
}

/// `VAR=VALUE` for the script's environment: VAR a shell variable name.
fn parse_script_env(s: &str) -> Result<(String, String), String> {
    let (var, value) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not VAR=VALUE"))?;
    let ok = !var.is_empty()
        && !var.as_bytes()[0].is_ascii_digit()
        && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(format!(
            "'{var}' is not a variable name (letters, digits and '_', not starting with a digit)"
        ));
    }
    if value.bytes().any(|b| b == 0) {
        return Err("a value cannot hold a NUL byte".to_string());
    }
    Ok((var.to_string(), value.to_string()))
}

/// Where DNS settings go (`--dns-mode`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsMode {
    /// systemd-resolved when it manages DNS, else resolvconf when installed, else file.
    Auto,
    /// systemd-resolved, over D-Bus (SetLinkDNS, SetLinkDomains, RevertLink).
    Resolved,
    /// resolvconf(8): `resolvconf -a IFACE.dhcpc`, `resolvconf -d IFACE.dhcpc`.
    Resolvconf,
    /// The --resolv-conf file, merged with the other dhcpc daemons of the same --run-dir.
    File,
    /// Leave DNS alone.
    None,
}

impl Cli {
    /// The DNS mode asked for, `--no-resolv` counting as `none`.
    pub fn dns(&self) -> DnsMode {
        if self.no_resolv {
            DnsMode::None
        } else {
            self.dns_mode
        }
    }
}

/// An interface name the kernel could accept: 1 to 15 bytes, no '/', ':' or white space.
pub fn parse_ifname(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a valid interface name (1 to 15 characters, no '/', ':' or spaces)"
        ))
    }
}

fn parse_hostname(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a valid host name (letters, digits, '-' and dots)"
        ))
    }
}

/// A host name, fully qualified when it ends with a dot.
fn parse_fqdn(s: &str) -> Result<String, String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    parse_hostname(name).map(|_| s.to_string())
}

fn parse_vendor_class(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Ok(s.to_string())
    } else {
        Err("the vendor class must be 1 to 255 printable ASCII characters".to_string())
    }
}

fn parse_client_id(s: &str) -> Result<ClientId, String> {
    match s.to_ascii_lowercase().as_str() {
        "mac" => return Ok(ClientId::Mac),
        "duid" => return Ok(ClientId::Duid),
        "none" => return Ok(ClientId::None),
        _ => {}
    }
    let hex: String = s.chars().filter(|c| *c != ':' && *c != '-').collect();
    let bytes: Option<Vec<u8>> = (hex.len() % 2 == 0)
        .then(|| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    match bytes {
        Some(b) if (2..=255).contains(&b.len()) => Ok(ClientId::Raw(b)),
        _ => Err(format!(
            "'{s}' is not a client identifier: give mac, duid, none, or 2 to 255 bytes in hex \
             (for example 01:02:00:00:00:00:01)"
        )),
    }
}

/// The refresh of `--inform`: 0 (never), or at least [`crate::core::MIN_INFORM_REFRESH`].
fn parse_inform_refresh(s: &str) -> Result<u64, String> {
    let min = crate::core::MIN_INFORM_REFRESH.as_secs();
    match s.trim().parse::<u64>() {
        Ok(n) if n == 0 || (min..=u64::from(u32::MAX)).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a refresh: give seconds, at least {min} (0: never)"
        )),
    }
}

fn parse_option_code(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(n) if (1..=254).contains(&n) => Ok(n),
        _ => Err(format!("'{s}' is not a DHCP option number (1 to 254)")),
    }
}

fn parse_probe(s: &str) -> Result<ProbeMode, String> {
    if s.eq_ignore_ascii_case("rfc5227") {
        return Ok(ProbeMode::Rfc5227);
    }
    match s.parse::<u64>() {
        Ok(0) => Ok(ProbeMode::Off),
        Ok(ms) if ms <= 10_000 => Ok(ProbeMode::Quick(Duration::from_millis(ms))),
        _ => Err(format!(
            "'{s}' is not a probe window: give milliseconds (0 to 10000, 0 = off) or rfc5227"
        )),
    }
}
