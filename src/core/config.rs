//! The settings of one client: what the shell tells the core at start ([`Config`]), how it
//! retries and spreads its timers ([`RetryPolicy`]), and the protocol's fixed waits.

use super::request::{self, max_message_size, ClientId};
use std::net::Ipv4Addr;
use std::time::Duration;

/// How often a host with an address set by hand asks again for its options with DHCPINFORM
/// ([`Inform::refresh`]) unless told otherwise: a day. No lease time comes back to say when
/// (RFC 2131 4.3.5 forbids one); dhcpcd asks once and never again, which leaves a host with
/// the DNS servers of its boot for ever. A day is RFC 8415's default Information Refresh Time
/// (21.23) for the same thing in DHCPv6, stateless DHCPv6's schedule.
pub const DEFAULT_INFORM_REFRESH: Duration = Duration::from_secs(86400);

/// The shortest refresh [`Inform::refresh`] takes: asking a server more often than this is a
/// mistake in the settings, not a schedule.
pub const MIN_INFORM_REFRESH: Duration = Duration::from_secs(10);

/// How long INIT-REBOOT waits for an answer before giving the saved address up: two REQUESTs,
/// at 0 and at half of it. A server that does not know the lease stays silent (RFC 2131
/// 4.3.2), so this wait is paid at every boot on such networks; 5 s is dhcpcd's default too.
/// [`RetryPolicy::reboot_wait`]'s default.
pub const REBOOT_WAIT: Duration = Duration::from_secs(5);

/// The default probe window: a host that holds the address answers an ARP probe on a LAN in
/// well under a millisecond, and within a few tens of milliseconds over slow bridges and
/// Wi-Fi; 200 ms covers that with margin while keeping time to lease far under a second.
/// RFC 5227's full timings (up to 9 s) are there for who wants them (`--arp-probe rfc5227`).
pub const DEFAULT_PROBE_WINDOW: Duration = Duration::from_millis(200);
/// When carrier comes back, how long the router has to answer RFC 4436's unicast ARP (or a
/// server the INIT-REBOOT) before the link is taken to be another network. A router on the
/// same segment answers ARP in well under a millisecond; a second covers slow bridges.
pub const DNA_WAIT: Duration = Duration::from_secs(1);
/// RFC 5227 ANNOUNCE_NUM and ANNOUNCE_INTERVAL.
pub(super) const ANNOUNCE_NUM: u8 = 2;
pub(super) const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
/// RFC 5227 DEFEND_INTERVAL: a second conflict over a bound address within this long gives
/// the address up.
pub const DEFEND_INTERVAL: Duration = Duration::from_secs(10);
/// RFC 2131 3.1 step 5: after a DECLINE, wait this long before starting over.
/// [`RetryPolicy::decline_wait`]'s default.
pub const DECLINE_WAIT: Duration = Duration::from_secs(10);

/// How the client retries, and how much it spreads its renewal times: values, so that a test
/// (or, one day, an option) can change them. [`RetryPolicy::default`] is RFC 2131's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before the first retransmission of an exchange (RFC 2131 4.1: 4 s); it
    /// doubles with each retransmission, up to [`RetryPolicy::backoff_cap`]. Also the first
    /// pause after a second NAK in a row, or after the system refused a lease.
    pub backoff_base: Duration,
    /// The longest wait between retransmissions (RFC 2131 4.1: 64 s).
    pub backoff_cap: Duration,
    /// Each retransmission wait is moved by a random amount of up to this much either way
    /// (RFC 2131 4.1: ±1 s).
    pub jitter: Duration,
    /// REQUESTs sent in REQUESTING before going back to INIT (4: 4 + 8 + 16 + 32 s, about a
    /// minute). Also how many unanswered renewals of an infinite lease are tried before it is
    /// kept as it is.
    pub requests: u32,
    /// In RENEWING and REBINDING, retransmit at half the time left to T2 (or expiry), but
    /// never sooner than this (RFC 2131 4.4.5: 60 s).
    pub renew_floor: Duration,
    /// How long INIT-REBOOT waits for an answer ([`REBOOT_WAIT`]).
    pub reboot_wait: Duration,
    /// How long to wait after a DECLINE before starting over ([`DECLINE_WAIT`]).
    pub decline_wait: Duration,
    /// RFC 2131 4.4.5: T1 and T2 "SHOULD be chosen with some random fuzz around a fixed
    /// value", so that clients that got their leases together do not all renew together.
    /// Each is moved by a random whole number of seconds of up to this share of itself, in
    /// per cent, either way (5: a T1 of 1800 s falls between 1710 and 1890 s), and T1 < T2 <
    /// lease is kept. A time under 20 s is thus left as it is. It applies to the times the
    /// server sent (options 58 and 59) as to the defaults: nearly every server sends them, and
    /// the same figure to every client. 0 turns the fuzz off.
    pub timer_fuzz_percent: u8,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            backoff_base: Duration::from_secs(4),
            backoff_cap: Duration::from_secs(64),
            jitter: Duration::from_secs(1),
            requests: 4,
            renew_floor: Duration::from_secs(60),
            reboot_wait: REBOOT_WAIT,
            decline_wait: DECLINE_WAIT,
            timer_fuzz_percent: 5,
        }
    }
}

impl RetryPolicy {
    /// The wait before retransmission number `attempt` (1-based), before jitter: the base,
    /// doubled at each attempt, up to the cap (4, 8, 16, 32, 64, 64… seconds by default).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(1 << doublings)
            .min(self.backoff_cap)
    }
}

/// Per-interface settings the core needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The interface's Ethernet address (chaddr).
    pub hwaddr: [u8; 6],
    /// Option 61 (see [`request::client_id`]); None sends none. Default: hardware type 1
    /// followed by the MAC (RFC 2132 9.14).
    pub client_id: Option<Vec<u8>>,
    /// Option 12, sent when set.
    pub hostname: Option<String>,
    /// Option 81 (RFC 4702), sent when set (instead of option 12): the name the server may
    /// put in DNS.
    pub fqdn: Option<String>,
    /// Options asked for (option 55) beyond [`super::REQUESTED_OPTIONS`].
    pub extra_requests: Vec<u8>,
    /// Ask for rapid commit (RFC 4039): a server may answer the DISCOVER with an ACK.
    pub rapid_commit: bool,
    /// Option 60, sent when set.
    pub vendor_class: Option<Vec<u8>>,
    /// Option 51 in DISCOVER and REQUEST, the lease time asked for, sent when set.
    pub lease_time: Option<u32>,
    /// Ask servers to broadcast their replies (`--broadcast`); off by default since the raw
    /// socket receives unicast replies too.
    pub broadcast_flag: bool,
    /// Option 57 (see [`max_message_size`]).
    pub max_message_size: u16,
    /// Address conflict detection before using an offered address (RFC 5227).
    pub probe: ProbeMode,
    /// How long to wait for the first lease before [`super::Action::NoLease`] says why there
    /// is none (`--timeout`); the client goes on trying. None waits silently.
    pub acquire_timeout: Option<Duration>,
    /// When the acquire timeout passes with no lease, fall back to the saved lease while it
    /// lasts (dhclient's TIMEOUT; `--last-lease`, on under dhclient's command line): a saved
    /// lease no server confirmed at start is kept for that, not taken off.
    pub last_lease: bool,
    /// Fall back to an IPv4 link-local address (RFC 3927) when no lease comes within this
    /// long (`--ipv4ll`); None never does.
    pub ipv4ll: Option<Duration>,
    /// Backoff, jitter, renewal floor, REQUEST count, T1/T2 fuzz.
    pub retry: RetryPolicy,
    /// Options only (`--inform`): no lease is asked for, the address set by hand stays as it
    /// is, and the server's options come with DHCPINFORM (RFC 2131 3.4). None: a lease.
    pub inform: Option<Inform>,
}

/// DHCPINFORM's settings (RFC 2131 3.4): for a host whose address was set by other means,
/// the options of a server, asked for from that address, and again on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inform {
    /// The interface's address, set by hand: the DHCPINFORM's ciaddr and IP source.
    pub address: Ipv4Addr,
    /// Its prefix length on the interface (what is on-link for the routes).
    pub prefix_len: u8,
    /// How long after an ACK the options are asked for again (fuzzed by the retry policy's
    /// [`RetryPolicy::timer_fuzz_percent`], as T1 is); None: never.
    pub refresh: Option<Duration>,
}

/// How an offered address is checked for conflicts before it is used (RFC 5227).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeMode {
    /// Use the address at once.
    Off,
    /// Two ARP probes, half the window apart, then the address is used when the window has
    /// passed with no answer. The default window is [`DEFAULT_PROBE_WINDOW`].
    Quick(Duration),
    /// RFC 5227's own timings: wait 0-1 s, three probes 1-2 s apart, then 2 s more.
    Rfc5227,
}

impl Config {
    pub fn new(hwaddr: [u8; 6]) -> Config {
        Config {
            hwaddr,
            client_id: request::client_id(&ClientId::Mac, hwaddr, &[]),
            hostname: None,
            fqdn: None,
            extra_requests: Vec::new(),
            rapid_commit: true,
            vendor_class: None,
            lease_time: None,
            broadcast_flag: false,
            max_message_size: max_message_size(None),
            probe: ProbeMode::Quick(DEFAULT_PROBE_WINDOW),
            acquire_timeout: None,
            last_lease: false,
            ipv4ll: None,
            retry: RetryPolicy::default(),
            inform: None,
        }
    }
}
