//! The bytes of a message the client sends (RFC 8415 18.2), on dhcproto's v6 types: the
//! core decides what goes in ([`Outgoing6`]), this writes it the way RFC 8415 says a client
//! does.
//!
//! - Client Identifier (1) in every message; Server Identifier (2) when the core set one.
//! - IA_NA and IA_PD with their IAADDR and IAPREFIX options, T1, T2 and every lifetime 0:
//!   RFC 8415 21.4, 21.6, 21.21 and 21.22 ("in a message sent by a client to a server",
//!   these SHOULD be 0). A prefix-length hint is an IAPREFIX of `::` with the hinted length
//!   (18.2.1), written as the core gives it.
//! - Elapsed Time (8) in every message (21.9).
//! - Option Request (6) in SOLICIT, REQUEST, RENEW, REBIND and INFORMATION-REQUEST (21.7),
//!   with what 18.2.1 to 18.2.6 require (SOL_MAX_RT, or INF_MAX_RT and the Information
//!   Refresh Time), the options every lease uses (DNS servers, search list, NTP and SNTP
//!   servers) and the core's own, each once. CONFIRM, RELEASE and DECLINE carry none.
//! - Rapid Commit (14) when the core set it (a SOLICIT, 18.2.1).

use crate::v6::{Holdings, Ia, Kind6, Outgoing6};
use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, IAPrefix, Message, MessageType, OptionCode, IANA, IAPD, ORO,
};
use dhcproto::Encodable;

/// Options every message that carries an ORO asks for: DNS servers and search list (RFC
/// 3646), SNTP (RFC 4075) and NTP (RFC 5908) servers.
pub const ORO_BASE: [u16; 4] = [23, 24, 31, 56];
/// SOL_MAX_RT (RFC 8415 21.24), asked for by 18.2.1, 18.2.2, 18.2.4 and 18.2.5.
pub const SOL_MAX_RT: u16 = 82;
/// INF_MAX_RT (21.25) and the Information Refresh Time (21.23), asked for by 18.2.6.
pub const INF_MAX_RT: u16 = 83;
pub const INFO_REFRESH_TIME: u16 = 32;

/// The message type's code (RFC 8415 7.3).
pub fn kind_code(kind: Kind6) -> u8 {
    u8::from(message_type(kind))
}

fn message_type(kind: Kind6) -> MessageType {
    match kind {
        Kind6::Solicit => MessageType::Solicit,
        Kind6::Advertise => MessageType::Advertise,
        Kind6::Request => MessageType::Request,
        Kind6::Confirm => MessageType::Confirm,
        Kind6::Renew => MessageType::Renew,
        Kind6::Rebind => MessageType::Rebind,
        Kind6::Reply => MessageType::Reply,
        Kind6::Release => MessageType::Release,
        Kind6::Decline => MessageType::Decline,
        Kind6::Reconfigure => MessageType::Reconfigure,
        Kind6::InformationRequest => MessageType::InformationRequest,
    }
}

/// The Option Request option's codes for a message of `kind` that also asks for `extra`, or
/// None for a message that carries no ORO.
pub fn oro(kind: Kind6, extra: &[u16]) -> Option<Vec<u16>> {
    let mandatory: &[u16] = match kind {
        Kind6::Solicit | Kind6::Request | Kind6::Renew | Kind6::Rebind => &[SOL_MAX_RT],
        Kind6::InformationRequest => &[INF_MAX_RT, INFO_REFRESH_TIME],
        _ => return None,
    };
    let mut out: Vec<u16> = Vec::new();
    for &c in mandatory.iter().chain(&ORO_BASE).chain(extra) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Some(out)
}

/// `list` as dhcproto's options, in the order given within each code. dhcproto keeps its
/// options sorted by code and inserts an option before those of its code already there, so
/// they go in from the last.
fn in_order(list: Vec<DhcpOption>) -> DhcpOptions {
    let mut opts = DhcpOptions::new();
    for o in list.into_iter().rev() {
        opts.insert(o);
    }
    opts
}

/// An IA as a client sends it: T1, T2 and lifetimes 0.
fn ia_option(ia: &Ia) -> DhcpOption {
    let (id, t1, t2) = (ia.iaid, 0, 0);
    match &ia.holdings {
        Holdings::Addresses(addrs) => {
            let inner = addrs.iter().map(|a| {
                DhcpOption::IAAddr(IAAddr {
                    addr: a.addr,
                    preferred_life: 0,
                    valid_life: 0,
                    opts: DhcpOptions::new(),
                })
            });
            let opts = in_order(inner.collect());
            DhcpOption::IANA(IANA { id, t1, t2, opts })
        }
        Holdings::Prefixes(prefixes) => {
            let inner = prefixes.iter().map(|p| {
                DhcpOption::IAPrefix(IAPrefix {
                    preferred_lifetime: 0,
                    valid_lifetime: 0,
                    prefix_len: p.len,
                    prefix_ip: p.prefix,
                    opts: DhcpOptions::new(),
                })
            });
            let opts = in_order(inner.collect());
            DhcpOption::IAPD(IAPD { id, t1, t2, opts })
        }
    }
}

/// The bytes of `msg`, with `client_duid` as its Client Identifier.
///
/// dhcproto writes each option's length as a u16 without a check; every length here is far
/// below that (a DUID is at most 130 bytes, RFC 8415 11.1). Its encoder writes into a `Vec`,
/// which cannot fail; an error would be a bug in it, logged, and nothing is sent.
pub fn encode(msg: &Outgoing6, client_duid: &[u8]) -> Vec<u8> {
    let xid = msg.xid.to_be_bytes();
    let mut m = Message::new_with_id(message_type(msg.kind), [xid[1], xid[2], xid[3]]);
    let mut list = vec![DhcpOption::ClientId(client_duid.to_vec())];
    list.extend(msg.server_id.clone().map(DhcpOption::ServerId));
    list.extend(msg.ias.iter().map(ia_option));
    list.push(DhcpOption::ElapsedTime(msg.elapsed));
    if let Some(codes) = oro(msg.kind, &msg.oro) {
        let opts = codes.into_iter().map(OptionCode::from).collect();
        list.push(DhcpOption::ORO(ORO { opts }));
    }
    if msg.rapid_commit {
        list.push(DhcpOption::RapidCommit);
    }
    m.set_opts(in_order(list));
    m.to_vec().unwrap_or_else(|e| {
        tracing::error!("cannot encode a DHCPv6 {:?}: {e}", msg.kind);
        Vec::new()
    })
}
