//! The settings of one DHCPv6 client ([`Config6`]): who it is (its DUID), what it asks for
//! (IA_NA, IA_PD, or configuration only), and RFC 8415's fixed waits (section 7.6).

use crate::v6::Iaid;
use std::time::Duration;

/// RFC 8415 7.6: SOL_MAX_DELAY, INF_MAX_DELAY, CNF_MAX_DELAY (RFC 3315 18.1.2, which dhclient
/// 4.4 keeps): the first SOLICIT, INFORMATION-REQUEST or CONFIRM on a link waits a random
/// time up to this long, so that hosts powered on together do not all ask at once.
pub const MAX_DELAY: Duration = Duration::from_secs(1);
/// RFC 8415 7.6 IRT_DEFAULT: the Information Refresh Time when the server sends none.
pub const IRT_DEFAULT: u32 = 86_400;
/// RFC 8415 7.6 IRT_MINIMUM: the shortest Information Refresh Time taken.
pub const IRT_MINIMUM: u32 = 600;
/// RFC 8415 21.24 and 21.25: SOL_MAX_RT and INF_MAX_RT as a server may set them (options 82
/// and 83) are taken only within 60..=86400 s.
pub const MAX_RT_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// The shortest T1 the client chooses itself (a server's T1 of 0, RFC 8415 21.4): half of a
/// preferred lifetime of a few seconds would have it renew many times a second, and a lease
/// renewed by halves of what is left would renew ever faster towards its end.
pub const MIN_CHOSEN_T1: u32 = 10;
/// After a server refused every IA it was asked for (or the system refused the lease), the
/// next SOLICIT waits this long, doubled at each refusal in a row, up to SOL_MAX_RT.
pub const REFUSAL_BACKOFF: Duration = Duration::from_secs(10);

/// The options asked for by default (option 6): DNS servers (23), domain search list (24),
/// SNTP servers (31) and NTP servers (56). SOL_MAX_RT (82), INF_MAX_RT (83) and the
/// Information Refresh Time (32) are added where RFC 8415 says they must be.
pub const DEFAULT_ORO: [u16; 4] = [23, 24, 31, 56];

/// One IA_PD asked for: its IAID and, optionally, the prefix length hoped for (sent as an
/// IA Prefix of `::` with that length, RFC 8415 18.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdAsk {
    pub iaid: Iaid,
    pub hint: Option<u8>,
}

/// What the client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode6 {
    /// Leases: addresses (one IA_NA per IAID) and/or delegated prefixes (one IA_PD each).
    /// IA_NA and IA_PD may share an IAID (dhclient's do): an IA is its kind and its IAID.
    Stateful { na: Vec<Iaid>, pd: Vec<PdAsk> },
    /// Configuration only (INFORMATION-REQUEST, RFC 8415 18.2.6): no address, no prefix.
    Stateless,
}

/// Per-interface settings the DHCPv6 core needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config6 {
    /// The client's DUID (option 1): the encoder sends it, and a reply must echo it.
    pub duid: Vec<u8>,
    pub mode: Mode6,
    /// Ask for Rapid Commit (option 14 in SOLICIT, RFC 8415 18.2.1): a server may answer the
    /// SOLICIT with a REPLY at once.
    pub rapid_commit: bool,
    /// Option 6, the options asked for ([`DEFAULT_ORO`] by default).
    pub oro: Vec<u16>,
    /// The most the first SOLICIT, INFORMATION-REQUEST or CONFIRM on a link waits, a random
    /// time up to it ([`MAX_DELAY`] by default, as RFC 8415 18.2.1 says a client SHOULD).
    pub max_delay: Duration,
    /// How long to wait for a first lease (or, stateless, a first answer) before
    /// [`super::Action6::NoLease`] says why there is none; the client goes on trying.
    pub acquire_timeout: Option<Duration>,
}

impl Config6 {
    pub fn new(duid: Vec<u8>, mode: Mode6) -> Config6 {
        Config6 {
            duid,
            mode,
            rapid_commit: false,
            oro: DEFAULT_ORO.to_vec(),
            max_delay: MAX_DELAY,
            acquire_timeout: None,
        }
    }

    /// Stateful, for one IA_NA (`na`) and/or one IA_PD (`pd`).
    pub fn stateful(duid: Vec<u8>, na: Option<Iaid>, pd: Option<PdAsk>) -> Config6 {
        let mode = Mode6::Stateful {
            na: na.into_iter().collect(),
            pd: pd.into_iter().collect(),
        };
        Config6::new(duid, mode)
    }

    pub fn is_stateless(&self) -> bool {
        matches!(self.mode, Mode6::Stateless)
    }

    /// Whether the client asked for this IA: an IA_PD (`pd`) or IA_NA of this IAID.
    pub fn asks_for(&self, pd: bool, iaid: Iaid) -> bool {
        match &self.mode {
            Mode6::Stateless => false,
            Mode6::Stateful { na, pd: pds } => {
                if pd {
                    pds.iter().any(|p| p.iaid == iaid)
                } else {
                    na.contains(&iaid)
                }
            }
        }
    }
}

/// The mode a router advertisement asks for (RFC 4861 4.2's M and O flags, as the kernel keeps
/// them; dhcpcd's and systemd-networkd's default): with M (`managed`), addresses, as the client
/// is configured to ask for them (`stateful`); with O alone (`other`), configuration only;
/// neither, no DHCPv6.
pub fn mode_for_ra(managed: bool, other: bool, stateful: &Mode6) -> Option<Mode6> {
    match (managed, other) {
        (true, _) => Some(stateful.clone()),
        (false, true) => Some(Mode6::Stateless),
        (false, false) => None,
    }
}
