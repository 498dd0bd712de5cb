//! What one interface is run with ([`IfaceOptions`]), and why it could not be
//! ([`RunError`]): the shell's side of the command line and dhcpc.conf, which
//! [`crate::daemon::options`] fills in.

use crate::core::{ClientId, Config, ProbeMode};
use crate::shell::netlink::Link;
use crate::shell::resolv::DnsRules;
use crate::shell::store::host_duid;
use std::fmt;
use std::io;
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
}

/// Why an interface could not be run; each maps to a clear message and an exit status.
#[derive(Debug)]
pub enum RunError {
    NoSuchInterface(String),
    Permission(String, io::Error),
    /// No lease within the timeout: the interface, the timeout, and why.
    NoLease(String, Duration, String),
    /// Another dhcpc serves the interface (its pid, when known), whatever its run directory.
    Claimed(String, Option<u32>),
    Io(String, io::Error),
}

impl RunError {
    /// The process exit status for this error (documented in dhcpc(8)).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::NoLease(..) | RunError::Claimed(..) => 1,
            _ => 3,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NoSuchInterface(n) => {
                write!(f, "{n}: no such interface (see `ip link` for the names)")
            }
            RunError::Permission(what, e) => write!(
                f,
                "{what}: {e}: dhcpc needs CAP_NET_RAW and CAP_NET_ADMIN; run it as root"
            ),
            RunError::NoLease(n, t, why) => write!(
                f,
                "{n}: no lease after {} s: {why} (see --timeout)",
                t.as_secs()
            ),
            RunError::Claimed(n, pid) => {
                let pid = pid.map_or(String::new(), |p| format!(" (pid {p})"));
                write!(
                    f,
                    "{n} is already served by another dhcpc{pid}, with another --run-dir; \
                     stop that one first"
                )
            }
            RunError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Makes an I/O error about `what` a [`RunError`]: a refusal for want of privilege is
/// [`RunError::Permission`].
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
    /// The core's configuration for the interface `link`, from these options.
    pub fn core_config(&self, link: &Link) -> Config {
        let opts = self;
        let mut config = Config::new(link.mac);
        config.broadcast_flag = opts.broadcast_flag;
        config.hostname = opts.hostname.clone();
        let duid = match opts.client_id {
            ClientId::Duid => host_duid(opts.lease_dir.as_deref(), link.mac),
            _ => Vec::new(),
        };
        config.client_id = crate::core::request::client_id(&opts.client_id, link.mac, &duid);
        config.fqdn = opts.fqdn.clone();
        config.extra_requests = opts.extra_requests.clone();
        config.rapid_commit = opts.rapid_commit;
        config.vendor_class = opts.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
        config.probe = opts.probe;
        config.max_message_size = crate::core::max_message_size(link.mtu);
        config.acquire_timeout = Some(opts.timeout);
        config.ipv4ll = opts.ipv4ll;
        config
    }
}
