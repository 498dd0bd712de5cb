//! What each message the client sends carries (RFC 8415 18.2 and appendix B): which IAs and
//! what in them, the server id, Rapid Commit, the options asked for. Every message is built
//! here; the exchange sets its elapsed time as it sends it.
//!
//! In everything the client sends, T1, T2 and lifetimes are 0 (RFC 8415 21.4, 21.6, 21.21:
//! the server ignores them); a prefix-length hint is an IA Prefix of `::` with that length.

use super::config::{Config6, Mode6};
use crate::v6::{Holdings, Ia, IaAddr, IaPrefix, Kind6, Lease6, Outgoing6, StatusCode};
use std::net::Ipv6Addr;

/// Option codes the ORO always carries where RFC 8415 says so: SOL_MAX_RT (82, 21.24) and
/// INF_MAX_RT (83, 21.25) in any ORO the client sends; the Information Refresh Time (32,
/// 21.23) in INFORMATION-REQUEST.
const SOL_MAX_RT: u16 = 82;
const INF_MAX_RT: u16 = 83;
const INFORMATION_REFRESH_TIME: u16 = 32;

fn message(kind: Kind6, xid: u32, server_id: Option<Vec<u8>>, ias: Vec<Ia>) -> Outgoing6 {
    Outgoing6 {
        kind,
        xid: xid & 0x00ff_ffff,
        elapsed: 0,
        server_id,
        ias,
        rapid_commit: false,
        oro: Vec::new(),
    }
}

/// The ORO for `kind`: the configured options, and those RFC 8415 requires. CONFIRM,
/// RELEASE and DECLINE carry none.
fn oro(config: &Config6, kind: Kind6) -> Vec<u16> {
    let mut oro = config.oro.clone();
    let extra: &[u16] = match kind {
        Kind6::Solicit | Kind6::Request | Kind6::Renew | Kind6::Rebind => &[SOL_MAX_RT, INF_MAX_RT],
        Kind6::InformationRequest => &[INFORMATION_REFRESH_TIME, SOL_MAX_RT, INF_MAX_RT],
        _ => return Vec::new(),
    };
    for code in extra {
        if !oro.contains(code) {
            oro.push(*code);
        }
    }
    oro
}

/// `ia` as a client sends it: T1, T2 and lifetimes 0, status Success.
fn bare(ia: &Ia) -> Ia {
    let holdings = match &ia.holdings {
        Holdings::Addresses(v) => Holdings::Addresses(
            v.iter()
                .map(|a| IaAddr {
                    addr: a.addr,
                    preferred: 0,
                    valid: 0,
                })
                .collect(),
        ),
        Holdings::Prefixes(v) => Holdings::Prefixes(
            v.iter()
                .map(|p| IaPrefix {
                    prefix: p.prefix,
                    len: p.len,
                    preferred: 0,
                    valid: 0,
                })
                .collect(),
        ),
    };
    Ia {
        iaid: ia.iaid,
        t1: 0,
        t2: 0,
        status: StatusCode::Success,
        holdings,
    }
}

/// Every IA the client asks for, each with what `with` holds for it (a prefix-length hint
/// for an IA_PD with nothing).
fn asked(config: &Config6, with: &[Ia]) -> Vec<Ia> {
    let Mode6::Stateful { na, pd } = &config.mode else {
        return Vec::new();
    };
    let find = |is_pd: bool, iaid| {
        with.iter()
            .find(|ia| super::lease::is_pd(ia) == is_pd && ia.iaid == iaid)
            .map(bare)
    };
    let empty = |iaid, holdings| Ia {
        iaid,
        t1: 0,
        t2: 0,
        status: StatusCode::Success,
        holdings,
    };
    let mut ias: Vec<Ia> = na
        .iter()
        .map(|&iaid| find(false, iaid).unwrap_or(empty(iaid, Holdings::Addresses(vec![]))))
        .collect();
    for p in pd {
        let hint = p.hint.map(|len| IaPrefix {
            prefix: Ipv6Addr::UNSPECIFIED,
            len,
            preferred: 0,
            valid: 0,
        });
        let ia = find(true, p.iaid)
            .filter(|ia| !super::lease::lifetimes(ia).is_empty())
            .unwrap_or(empty(
                p.iaid,
                Holdings::Prefixes(hint.into_iter().collect()),
            ));
        ias.push(ia);
    }
    ias
}

pub(super) fn solicit(config: &Config6, xid: u32) -> Outgoing6 {
    let mut m = message(Kind6::Solicit, xid, None, asked(config, &[]));
    m.rapid_commit = config.rapid_commit;
    m.oro = oro(config, Kind6::Solicit);
    m
}

/// A REQUEST to `server_id` for every IA asked for, with what it advertised (or, after a
/// NoBinding, what the lease holds).
pub(super) fn request(config: &Config6, xid: u32, server_id: &[u8], with: &[Ia]) -> Outgoing6 {
    let mut m = message(
        Kind6::Request,
        xid,
        Some(server_id.to_vec()),
        asked(config, with),
    );
    m.oro = oro(config, Kind6::Request);
    m
}

/// A RENEW to the lease's server, or (no server) a REBIND: every IA asked for, with what
/// the lease holds (RFC 8415 18.2.4: an IA with nothing may be asked for again).
pub(super) fn renew(config: &Config6, xid: u32, lease: &Lease6, rebind: bool) -> Outgoing6 {
    let (kind, server) = if rebind {
        (Kind6::Rebind, None)
    } else {
        (Kind6::Renew, Some(lease.server_id.clone()))
    };
    let mut m = message(kind, xid, server, asked(config, &lease.ias));
    m.oro = oro(config, kind);
    m
}

/// A CONFIRM of the lease's addresses (IA_NA only, RFC 8415 18.2.3), to any server.
pub(super) fn confirm(xid: u32, lease: &Lease6) -> Outgoing6 {
    let ias = lease
        .ias
        .iter()
        .filter(|ia| !super::lease::is_pd(ia))
        .map(bare)
        .collect();
    message(Kind6::Confirm, xid, None, ias)
}

/// A RELEASE of everything the lease holds, to its server (RFC 8415 18.2.7).
pub(super) fn release(xid: u32, lease: &Lease6) -> Outgoing6 {
    let ias = lease.ias.iter().map(bare).collect();
    message(Kind6::Release, xid, Some(lease.server_id.clone()), ias)
}

/// A DECLINE of these addresses (in their IA_NAs), to the server that leased them.
pub(super) fn decline(xid: u32, server_id: &[u8], ias: &[Ia]) -> Outgoing6 {
    let ias = ias.iter().map(bare).collect();
    message(Kind6::Decline, xid, Some(server_id.to_vec()), ias)
}

/// An INFORMATION-REQUEST (RFC 8415 18.2.6): no IA, no server id.
pub(super) fn inform(config: &Config6, xid: u32) -> Outgoing6 {
    let mut m = message(Kind6::InformationRequest, xid, None, Vec::new());
    m.oro = oro(config, Kind6::InformationRequest);
    m
}
