//! What one interface is run with ([`IfaceOptions`]), and why it could not be
//! ([`RunError`]): the shell's side of the command line and dhcpc.conf, which
//! [`crate::daemon::options`] fills in.

use crate::core::{ClientId, Config, Inform, ProbeMode};
use crate::shell::netlink::{Link, Source};
use crate::shell::resolv::DnsRules;
use crate::text::InWords;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// How dhcpc runs one interface: its name, and the settings it shares with every interface
/// configured alike (read through `Deref`). Shared, because a thousand interfaces with one
/// configuration would otherwise keep a thousand copies of it.
#[derive(Debug, Clone)]
pub struct IfaceOptions {
    pub name: String,
    pub common: std::sync::Arc<CommonOptions>,
}

impl std::ops::Deref for IfaceOptions {
    type Target = CommonOptions;
    fn deref(&self) -> &CommonOptions {
        &self.common
    }
}

/// The settings of [`IfaceOptions`] other than the name.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonOptions {
    /// Metric of the default route.
    pub metric: u32,
    pub broadcast_flag: bool,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    /// Option 61.
    pub client_id: ClientId,
    /// The kind of DUID made when none is kept (`--clientid duid`).
    pub duid_type: crate::dhclient::duid::DuidType,
    /// A dhclient lease file to take the DUID from when none is kept (dhclient's -df; DHCPv6
    /// always uses the DUID).
    pub duid_file: Option<PathBuf>,
    /// Option 51: the lease time asked for.
    pub lease_time: Option<u32>,
    /// Option 81.
    pub fqdn: Option<String>,
    /// More options to ask for (option 55).
    pub extra_requests: Vec<u8>,
    /// Ask for rapid commit (option 80).
    pub rapid_commit: bool,
    /// Fall back to an IPv4 link-local address after this long without a lease.
    pub ipv4ll: Option<Duration>,
    /// Stop once bound (leaving the address configured).
    pub oneshot: bool,
    /// Say why there is no lease if none is bound within this time.
    pub timeout: Duration,
    /// Then fall back on the saved lease while it lasts (`--last-lease`).
    pub last_lease: bool,
    /// Address conflict detection (RFC 5227).
    pub probe: ProbeMode,
    /// Where the lease is saved (`IFACE.lease`); None saves nothing.
    pub lease_dir: Option<PathBuf>,
    /// Control sockets, pid file and saved resolv.conf.
    pub run_dir: PathBuf,
    /// An interface not there (yet) is waited for, instead of being an error.
    pub allow_missing: bool,
    /// The hook script, if any.
    pub script: Option<PathBuf>,
    /// The script configures the interface itself (dhclient-script's way); dhcpc does not.
    pub script_configures: bool,
    /// More variables for the script's environment.
    pub script_env: Vec<(String, String)>,
    /// How long one run of the script may take.
    pub script_timeout: Duration,
    /// The lease is kept in this dhclient-format file instead of `lease_dir` (dhclient's -lf).
    pub dhclient_lease_file: Option<PathBuf>,
    /// Local changes to the lease's DNS settings (dhclient.conf's supersede and prepend).
    pub dns_rules: DnsRules,
    /// Options only (`--inform`): DHCPINFORM from the address set by hand, and no lease.
    pub inform: Option<InformOptions>,
    /// Which protocols run, and what DHCPv6 asks for.
    pub v6: V6Options,
}

/// Which protocols run on an interface (`-4`, `-6`), and what DHCPv6 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Options {
    /// DHCPv4 runs.
    pub ipv4: bool,
    /// DHCPv6 runs.
    pub ipv6: bool,
    /// An address (IA_NA).
    pub na: bool,
    /// A delegated prefix (IA_PD), with the length hoped for.
    pub pd: Option<Option<u8>>,
    /// Configuration only (INFORMATION-REQUEST).
    pub stateless: bool,
    /// More options to ask for (option 6).
    pub extra_requests: Vec<u16>,
    /// `--follow-ra`: the router advertisement's M and O flags choose the mode.
    pub follow_ra: bool,
    /// `--initial-delay`: the most the first message on a link waits.
    pub initial_delay: Duration,
    /// `--delegate`: interfaces that get a /64 of each delegated prefix.
    pub delegate: Vec<String>,
    /// What hook scripts are told: `dad_wait_time`, and an address's `ip6_prefixlen`.
    pub dad_wait_time: u32,
    pub address_prefix_len: u8,
}

/// What `--inform[=ADDR]` and `--inform-refresh` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InformOptions {
    /// The address to send DHCPINFORM from; None: the interface's first IPv4 address.
    pub address: Option<Ipv4Addr>,
    /// How long after each answer to ask again; None: never.
    pub refresh: Option<Duration>,
}

/// Options only: the address of the interface `name` (and its prefix, as the interface holds
/// it) to send DHCPINFORM from, among those it `holds`: `asked` when given, else its first
/// IPv4 address that is not link-local. The address is never added: it is set by hand.
pub fn inform_source(
    name: &str,
    asked: Option<Ipv4Addr>,
    holds: &[Source],
) -> Result<Source, RunError> {
    let found = holds.iter().copied().find(|(a, _)| match asked {
        Some(want) => *a == want,
        None => !a.is_link_local() && !a.is_loopback(),
    });
    found.ok_or_else(|| RunError::NoAddress(name.to_string(), asked))
}

/// Why an interface could not be run; each maps to a clear message and an exit status.
#[derive(Debug)]
pub enum RunError {
    NoSuchInterface(String),
    Permission(String, io::Error),
    /// No lease within the timeout: the interface, the timeout, and why.
    NoLease(String, Duration, String),
    /// Options only (`--inform`): no answer to DHCPINFORM within the timeout, and why.
    NoOptions(String, Duration, String),
    /// Another dhcpc serves the interface (its pid, when known), whatever its run directory.
    Claimed(String, Option<u32>),
    /// Options only (`--inform`): the interface does not hold the address to send DHCPINFORM
    /// from (this one, or none at all).
    NoAddress(String, Option<Ipv4Addr>),
    Io(String, io::Error),
}

/// Exit status of an error that may pass, so that starting again may mend it (dhcpc(8), EXIT
/// STATUS): no such interface (yet), netlink or memory failing. dhcpc@.service restarts it.
pub const EXIT_MAY_PASS: u8 = 3;
/// Exit status of a refusal that starting again cannot mend: a missing privilege, a directory
/// dhcpc may not write, the process's limit of open files. dhcpc@.service does not restart it
/// (RestartPreventExitStatus=), which it would otherwise do every 2 s for ever.
pub const EXIT_LASTING: u8 = 4;

impl RunError {
    /// The process exit status for this error (documented in dhcpc(8)).
    pub fn exit_code(&self) -> i32 {
        let code = match self {
            RunError::NoLease(..) | RunError::NoOptions(..) | RunError::Claimed(..) => 1,
            RunError::Permission(..) => EXIT_LASTING,
            RunError::Io(_, e) if lasting(e) => EXIT_LASTING,
            RunError::NoSuchInterface(_) | RunError::NoAddress(..) | RunError::Io(..) => {
                EXIT_MAY_PASS
            }
        };
        i32::from(code)
    }
}

/// The error says what the system is, not what happened to it for a moment: refused for want
/// of privilege (a capability, a system call filter, file permissions), a read-only file
/// system or a file where a directory must be, the process's own limit of open files, an
/// interface dhcpc cannot serve (not Ethernet, no MAC address), or a kernel without what dhcpc
/// uses. Memory, buffers and the system-wide file table may free up; these do not.
pub fn lasting(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(
                libc::EPERM
                    | libc::EACCES
                    | libc::EROFS
                    | libc::ENOTDIR
                    | libc::EMFILE
                    | libc::EAFNOSUPPORT
                    | libc::EPROTONOSUPPORT
                    | libc::ENOSYS
            )
        )
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NoSuchInterface(n) => {
                write!(f, "{n}: no such interface (see `ip link` for the names)")
            }
            RunError::Permission(what, e) => {
                let advice = permission_advice(&Privilege::now());
                write!(f, "{what}: {}: {advice}", InWords(e))
            }
            RunError::NoLease(n, t, why) => write!(
                f,
                "{n}: no lease after {} s: {why} (see --timeout)",
                t.as_secs()
            ),
            RunError::NoOptions(n, t, why) => write!(
                f,
                "{n}: no answer to DHCPINFORM after {} s: {why} (see --timeout)",
                t.as_secs()
            ),
            RunError::Claimed(n, pid) => {
                let pid = pid.map_or(String::new(), |p| format!(" (pid {p})"));
                write!(
                    f,
                    "{n}: already served by another dhcpc{pid}, with another --run-dir; stop \
                     that one first"
                )
            }
            RunError::NoAddress(n, asked) => {
                let what = match asked {
                    Some(a) => format!("{a} is not an address of the interface"),
                    None => "the interface has no IPv4 address".to_string(),
                };
                write!(
                    f,
                    "{n}: --inform: {what}; DHCPINFORM goes from an address set by hand (ip \
                     address add ADDR/LEN dev {n}), which dhcpc never sets"
                )
            }
            RunError::Io(what, e) => write!(f, "{what}: {}", InWords(e)),
        }
    }
}

/// What the process may do, as far as the advice after a refusal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privilege {
    pub root: bool,
    /// Started by systemd (`INVOCATION_ID`): the unit says which user and capabilities.
    pub service: bool,
    /// Which of CAP_NET_RAW and CAP_NET_ADMIN the process has (effective), when known.
    pub net_raw: Option<bool>,
    pub net_admin: Option<bool>,
}

impl Privilege {
    /// This process's.
    pub fn now() -> Privilege {
        // CapEff in /proc/self/status: the effective set, in hex (capabilities(7)).
        let eff = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let hex = s.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
                u64::from_str_radix(hex, 16).ok()
            });
        // Their numbers in linux/capability.h.
        const CAP_NET_ADMIN: u32 = 12;
        const CAP_NET_RAW: u32 = 13;
        let has = |cap: u32| eff.map(|e| e & (1u64 << cap) != 0);
        Privilege {
            root: nix::unistd::geteuid().is_root(),
            service: std::env::var_os("INVOCATION_ID").is_some(),
            net_raw: has(CAP_NET_RAW),
            net_admin: has(CAP_NET_ADMIN),
        }
    }
}

/// What to say after the system refused dhcpc something for want of privilege: the
/// capabilities it needs, which of them the process lacks, and what fits where it runs (a
/// service's unit grants them to its user; root lacks them only where its bounding set or
/// container leaves them out; anyone else is to run it as root).
pub fn permission_advice(p: &Privilege) -> String {
    const NEEDS: &str = "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN";
    let lacks: Vec<&str> = [(p.net_raw, "CAP_NET_RAW"), (p.net_admin, "CAP_NET_ADMIN")]
        .iter()
        .filter(|(has, _)| *has == Some(false))
        .map(|(_, name)| *name)
        .collect();
    let known = p.net_raw.is_some() && p.net_admin.is_some();
    if known && lacks.is_empty() {
        return format!(
            "{NEEDS}, and has them: a security policy (seccomp, AppArmor, SELinux) or the \
             network namespace's owner refused it"
        );
    }
    let lacking = match lacks.as_slice() {
        [one] => format!("; this process lacks {one}"),
        [_, _] => "; this process lacks both".to_string(),
        _ => String::new(),
    };
    if p.service {
        format!(
            "{NEEDS}{lacking}: give the service AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN \
             (and keep them in CapabilityBoundingSet=), as dhcpc@.service does"
        )
    } else if p.root {
        let them = if lacks.len() == 1 { "it" } else { "them" };
        match lacks.is_empty() {
            true => {
                format!("{NEEDS}: its capability bounding set or its container may leave them out")
            }
            false => format!(
                "{NEEDS}{lacking} (its capability bounding set or its container leaves {them} out)"
            ),
        }
    } else {
        // An ordinary user lacks both, as a matter of course: only one lacking is news.
        let lacking = if lacks.len() == 1 { &lacking[..] } else { "" };
        format!("{NEEDS}{lacking}; run it as root")
    }
}

impl std::error::Error for RunError {}

/// Makes an I/O error about `what` a [`RunError`]: a refusal for want of privilege is
/// [`RunError::Permission`].
/// The name DHCPv6 goes by where one name serves each client of an interface (control
/// socket, pid file, DNS record, claims): `eth0:6`. No interface can be so named (the kernel
/// refuses ':' in names), so it never meets a DHCPv4 client's.
pub fn v6_name(iface: &str) -> String {
    format!("{iface}:6")
}

/// The interface a client's name is of (`eth0` for `eth0:6`).
pub fn base_name(name: &str) -> &str {
    name.strip_suffix(":6").unwrap_or(name)
}

pub fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            RunError::Permission(what, e)
        } else {
            RunError::Io(what, e)
        }
    }
}

impl IfaceOptions {
    /// The core's configuration for the interface `link`, from these options; `duid` is the
    /// host's DUID, asked for only with `--clientid duid`; `inform` the address (set by hand)
    /// to send DHCPINFORM from, with options only ([`inform_source`]).
    pub fn core_config(
        &self,
        link: &Link,
        duid: impl FnOnce() -> Vec<u8>,
        inform: Option<Source>,
    ) -> Config {
        let opts = self;
        let mut config = Config::new(link.mac);
        config.broadcast_flag = opts.broadcast_flag;
        config.hostname = opts.hostname.clone();
        let duid = match opts.client_id {
            ClientId::Duid => duid(),
            _ => Vec::new(),
        };
        config.client_id = crate::core::request::client_id(&opts.client_id, link.mac, &duid);
        config.fqdn = opts.fqdn.clone();
        config.extra_requests = opts.extra_requests.clone();
        config.rapid_commit = opts.rapid_commit;
        config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
        config.lease_time = opts.lease_time;
        config.probe = opts.probe;
        config.max_message_size = crate::core::max_message_size(link.mtu);
        config.acquire_timeout = Some(opts.timeout);
        config.last_lease = opts.last_lease;
        config.ipv4ll = opts.ipv4ll;
        config.inform = match (opts.inform, inform) {
            (Some(i), Some((address, prefix_len))) => Some(Inform {
                address,
                prefix_len,
                refresh: i.refresh,
            }),
            _ => None,
        };
        config
    }

    /// The core's seed: random, and different for every interface.
    /// The DHCPv6 core's configuration for the interface with hardware address `mac`, whose
    /// DUID is `duid`: its IAs are numbered by [`crate::v6::iaid`], as dhclient numbers them.
    pub fn core_config6(&self, mac: [u8; 6], duid: Vec<u8>) -> crate::v6::core::Config6 {
        use crate::v6::core::{Config6, Mode6, PdAsk};
        let v6 = &self.v6;
        let hw: &[u8] = if mac == [0; 6] { &[] } else { &mac };
        let iaid = crate::v6::iaid::iaid(hw, &self.name, 0);
        let mode = if v6.stateless {
            Mode6::Stateless
        } else {
            Mode6::Stateful {
                na: if v6.na { vec![iaid] } else { Vec::new() },
                pd: v6.pd.map(|hint| PdAsk { iaid, hint }).into_iter().collect(),
            }
        };
        let mut config = Config6::new(duid, mode);
        config.rapid_commit = self.rapid_commit;
        for code in &v6.extra_requests {
            if !config.oro.contains(code) {
                config.oro.push(*code);
            }
        }
        config.acquire_timeout = Some(self.timeout);
        config.max_delay = v6.initial_delay;
        config
    }

    pub fn seed(&self, mac: [u8; 6]) -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..6].copy_from_slice(&mac);
        fastrand::u64(..) ^ u64::from_le_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(root: bool, service: bool, raw: Option<bool>, admin: Option<bool>) -> Privilege {
        Privilege {
            root,
            service,
            net_raw: raw,
            net_admin: admin,
        }
    }

    #[test]
    fn permission_advice_fits_where_dhcpc_runs() {
        // An ordinary user at a shell.
        assert_eq!(
            permission_advice(&who(false, false, Some(false), Some(false))),
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; run it as root"
        );
        // A service's user without what the unit should grant: not "run it as root".
        let service = permission_advice(&who(false, true, Some(true), Some(false)));
        assert_eq!(
            service,
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_ADMIN: give \
             the service AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN (and keep them in \
             CapabilityBoundingSet=), as dhcpc@.service does"
        );
        // Root without one (a bounding set, a container): root it is already.
        assert_eq!(
            permission_advice(&who(true, false, Some(true), Some(false))),
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_ADMIN (its \
             capability bounding set or its container leaves it out)"
        );
        // Both there, and still refused.
        let policy = permission_advice(&who(true, true, Some(true), Some(true)));
        assert!(policy.contains("and has them"), "{policy}");
        // A user with one of them.
        assert_eq!(
            permission_advice(&who(false, false, Some(true), Some(false))),
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_ADMIN; run it \
             as root"
        );
        // Unknown (no /proc): the need, and the advice for where it runs.
        assert_eq!(
            permission_advice(&who(false, false, None, None)),
            "dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; run it as root"
        );
    }

    #[test]
    fn only_what_may_pass_is_status_3() {
        let io = |errno| io::Error::from_raw_os_error(errno);
        let run = |errno| RunError::Io("x".into(), io(errno));
        // Starting again may mend these: the interface may appear, memory may free up.
        assert_eq!(RunError::NoSuchInterface("eth0".into()).exit_code(), 3);
        for errno in [libc::ENOMEM, libc::ENOBUFS, libc::ENFILE, libc::EBUSY] {
            assert_eq!(run(errno).exit_code(), 3, "errno {errno}");
        }
        // Not these: a unit restarting them would do so every 2 s for ever.
        let eperm = RunError::Permission("x".into(), io(libc::EPERM));
        assert_eq!(eperm.exit_code(), 4);
        for errno in [
            libc::EACCES,
            libc::EROFS,
            libc::ENOTDIR,
            libc::EMFILE,
            libc::ENOSYS,
        ] {
            assert_eq!(run(errno).exit_code(), 4, "errno {errno}");
        }
        let not_ethernet = io::Error::new(io::ErrorKind::Unsupported, "lo is not an Ethernet ...");
        assert_eq!(RunError::Io("lo".into(), not_ethernet).exit_code(), 4);
        assert_eq!(RunError::Claimed("eth0".into(), None).exit_code(), 1);
    }

    #[test]
    fn dhcpinform_goes_from_the_address_set_by_hand() {
        let ll = (Ipv4Addr::new(169, 254, 7, 9), 16);
        let hand = (Ipv4Addr::new(198, 51, 100, 20), 24);
        let second = (Ipv4Addr::new(203, 0, 113, 5), 28);
        let holds = [ll, hand, second];
        // The first that is not link-local; or the one named, with its prefix.
        assert_eq!(inform_source("eth0", None, &holds).unwrap(), hand);
        assert_eq!(
            inform_source("eth0", Some(second.0), &holds).unwrap(),
            second
        );
        let e = inform_source("eth0", Some(Ipv4Addr::new(198, 51, 100, 21)), &holds);
        assert_eq!(
            e.unwrap_err().to_string(),
            "eth0: --inform: 198.51.100.21 is not an address of the interface; DHCPINFORM \
             goes from an address set by hand (ip address add ADDR/LEN dev eth0), which dhcpc \
             never sets"
        );
        let e = inform_source("eth0", None, &[ll]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("eth0: --inform: the interface has no IPv4 address;"),
            "{e}"
        );
        assert_eq!(
            e.exit_code(),
            3,
            "the address may come: the unit tries again"
        );
    }

    #[test]
    fn run_errors_say_io_errors_in_words() {
        let e = RunError::Io(
            "creating /run/x".into(),
            io::Error::from_raw_os_error(libc::ENOTDIR),
        );
        assert_eq!(e.to_string(), "creating /run/x: Not a directory");
        let e = RunError::Permission(
            "eth0: opening a raw socket".into(),
            io::Error::from_raw_os_error(libc::EPERM),
        );
        let text = e.to_string();
        assert!(
            text.starts_with("eth0: opening a raw socket: Operation not permitted: dhcpc needs"),
            "{text}"
        );
        assert!(!text.contains("os error"), "{text}");
    }
}
