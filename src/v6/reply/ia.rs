//! IA_NA (RFC 8415 21.4) and IA_PD (21.21), with their IAADDR (21.6) and IAPREFIX (21.22)
//! options and their status (21.13). An IA whose framing or times fail is left out whole; an
//! address or prefix that fails its rule is left out alone, and said in `dropped`.

use super::rules::{self, lifetimes, prefix, unicast6};
use super::tlv::{self, addr_at, u32_at};
use crate::v6::{Holdings, Ia, IaAddr, IaPrefix, StatusCode};

/// The option codes inside an IA.
const IAADDR: u16 = 5;
const STATUS: u16 = 13;
const IAPREFIX: u16 = 26;

/// What kind of IA an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IaKind {
    Na,
    Pd,
}

impl IaKind {
    pub fn name(self) -> &'static str {
        match self {
            IaKind::Na => "IA_NA",
            IaKind::Pd => "IA_PD",
        }
    }
}

/// Which kind an IA's holdings make it.
pub fn kind_of(ia: &Ia) -> IaKind {
    match ia.holdings {
        Holdings::Addresses(_) => IaKind::Na,
        Holdings::Prefixes(_) => IaKind::Pd,
    }
}

/// RFC 8415 21.4 (IA_NA) and 21.21 (IA_PD): "If a client receives an IA_NA with T1 greater
/// than T2, and both T1 and T2 are greater than 0, the client discards the IA_NA option and
/// processes the remainder of the message as though the server had not included the invalid
/// IA_NA option." T1 or T2 of 0 leaves the time to the client.
pub fn times(t1: u32, t2: u32) -> Result<(), String> {
    if t1 > t2 && t2 > 0 {
        Err(format!("T1 {t1} is over T2 {t2} (RFC 8415 21.4)"))
    } else {
        Ok(())
    }
}

/// An IAADDR option: an address, then preferred and valid lifetimes (24 bytes), then options
/// of its own, which the client does not use.
pub fn address(data: &[u8]) -> Result<IaAddr, String> {
    let (Some(addr), Some(preferred), Some(valid)) =
        (addr_at(data, 0), u32_at(data, 16), u32_at(data, 20))
    else {
        return Err(format!("length {}, should be 24 or more", data.len()));
    };
    unicast6(addr)?;
    lifetimes(preferred, valid).map_err(|why| format!("{addr}: {why}"))?;
    Ok(IaAddr {
        addr,
        preferred,
        valid,
    })
}

/// An IAPREFIX option: preferred and valid lifetimes, prefix length and prefix (25 bytes),
/// then options of its own, which the client does not use.
pub fn prefix_option(data: &[u8]) -> Result<IaPrefix, String> {
    let (Some(preferred), Some(valid), Some(&len), Some(p)) = (
        u32_at(data, 0),
        u32_at(data, 4),
        data.get(8),
        addr_at(data, 9),
    ) else {
        return Err(format!("length {}, should be 25 or more", data.len()));
    };
    prefix(p, len)?;
    lifetimes(preferred, valid).map_err(|why| format!("{p}/{len}: {why}"))?;
    Ok(IaPrefix {
        prefix: p,
        len,
        preferred,
        valid,
    })
}

/// Reads an IA_NA (`Na`) or IA_PD (`Pd`) option: IAID, T1 and T2 (12 bytes), then its
/// options. The IA is left out when it is shorter, its T1 and T2 fail [`times`], its options
/// do not frame, or its status code cannot be read (then what it holds cannot be judged). Each
/// address or prefix is judged on its own, a repeat left out, what fails said in `dropped`.
/// Options of another kind of IA inside it are not taken. The first status code counts; what
/// an IA with a status other than Success holds is kept as sent, for the core to judge (RFC
/// 8415 18.2.10.1).
pub fn read(kind: IaKind, data: &[u8], dropped: &mut Vec<String>) -> Result<Ia, String> {
    let (Some(iaid), Some(t1), Some(t2)) = (u32_at(data, 0), u32_at(data, 4), u32_at(data, 8))
    else {
        return Err(format!("length {}, should be 12 or more", data.len()));
    };
    times(t1, t2)?;
    let options = tlv::options(&data[12..]).map_err(|e| format!("its options: {e}"))?;
    let mut status: Option<StatusCode> = None;
    let mut addrs: Vec<IaAddr> = Vec::new();
    let mut prefixes: Vec<IaPrefix> = Vec::new();
    let name = kind.name();
    for (code, d) in options {
        match (kind, code) {
            (_, STATUS) => {
                let s = rules::status(d).map_err(|why| format!("its status code: {why}"))?;
                status.get_or_insert(s.code);
            }
            (IaKind::Na, IAADDR) => match address(d) {
                Ok(a) if addrs.iter().any(|b| b.addr == a.addr) => {
                    dropped.push(format!("{name} {iaid}: {} repeated", a.addr))
                }
                Ok(a) => addrs.push(a),
                Err(why) => dropped.push(format!("{name} {iaid}: address left out: {why}")),
            },
            (IaKind::Pd, IAPREFIX) => match prefix_option(d) {
                Ok(p)
                    if prefixes
                        .iter()
                        .any(|q| (q.prefix, q.len) == (p.prefix, p.len)) =>
                {
                    dropped.push(format!("{name} {iaid}: {}/{} repeated", p.prefix, p.len))
                }
                Ok(p) => prefixes.push(p),
                Err(why) => dropped.push(format!("{name} {iaid}: prefix left out: {why}")),
            },
            (_, IAADDR | IAPREFIX) => dropped.push(format!(
                "{name} {iaid}: option {code} does not belong in it"
            )),
            _ => {}
        }
    }
    let holdings = match kind {
        IaKind::Na => Holdings::Addresses(addrs),
        IaKind::Pd => Holdings::Prefixes(prefixes),
    };
    Ok(Ia {
        iaid,
        t1,
        t2,
        status: status.unwrap_or(StatusCode::Success),
        holdings,
    })
}
