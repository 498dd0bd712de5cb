//! The environment of a hook script for DHCPv6, as ISC dhclient 4.4.3 (`dhclient -6`) gives it
//! to dhclient-script(8), so that Debian's /sbin/dhclient-script and the hooks written for it
//! run unchanged.
//!
//! dhclient runs the script once per address and once per delegated prefix (client/dhc6.c,
//! `start_bound`, `unconfigure6`, `do_depref`, `do_expire`), each run told about one of them:
//! [`bound_sides`] and [`unconfigure_sides`] list the runs as dhclient makes them. A run's
//! variables (`dhc6_marshall_values`): the lease's options as `dhcp6_NAME` (the reply's
//! options but its IAs and preference), then for an address `ip6_prefixlen` (dhclient's
//! `--address-prefix-len`, 128 by default) and `ip6_address`, or for a prefix `ip6_prefix`
//! (`2001:db8:1ff::/56`), `life_starts`, `preferred_life` and `max_life`, then the IA's `iaid`
//! (`00:aa:bb:cc`), `starts`, `renew` and `rebind` (T1 and T2 as sent). Values are printed as
//! ISC prints them: addresses space-separated, DUIDs as `%x` bytes (`0:1:0:1:32:a4:...`),
//! search lists as names with their trailing dots. Recorded from a real dhclient in
//! `testdata/` (see `testdata/record.sh`), and checked against it by the tests.
//!
//! Prefixes: `new_` (BOUND6, RENEW6, REBIND6), `cur_` (DEPREF6: the address being deprecated),
//! `old_` (the binding before a change, and EXPIRE6, RELEASE6, STOP6). A stateless lease
//! (INFORMATION-REQUEST) is told with reason RENEW6 and its options only: that is what
//! dhclient says (`start_informed`), and the only one of its words Debian's script acts on.
//!
//! As on the DHCPv4 side ([`crate::hookenv`]), what the server sent goes to the script only
//! when it is safe there: names that are not valid host names, and text with control or shell
//! characters, are withheld (and said), where dhclient passes most of them on escaped.
//! Options whose format ISC prints as a structure (vendor-opts, fqdn, ...) are not exported.
//! Pure: the runner only executes what this builds.

use super::{Holdings, Ia, IaAddr, IaPrefix, Lease6};
use crate::dhclient::names6::{self, Format};
use crate::hookenv::{is_host_name, is_plain_text, Withheld};
use std::fmt;

/// The exit status with which a script says an address failed duplicate address detection:
/// dhclient then declines it (`start_bound`: "When script returns 3, DAD failed").
pub const DAD_FAILED_EXIT: i32 = 3;

/// Why the script is run: dhclient-script's DHCPv6 reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason6 {
    /// Before anything: the interface is to be made ready.
    Preinit6,
    /// A new lease (after SOLICIT, or a saved lease confirmed).
    Bound6,
    /// The lease renewed with its server, or a stateless reply.
    Renew6,
    /// The lease renewed with any server (REBIND).
    Rebind6,
    /// An address's preferred lifetime ran out.
    Depref6,
    /// An address's or prefix's valid lifetime ran out.
    Expire6,
    /// The lease was released (`-r`).
    Release6,
    /// dhcpc stops and keeps the lease (`-x`).
    Stop6,
}

impl Reason6 {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason6::Preinit6 => "PREINIT6",
            Reason6::Bound6 => "BOUND6",
            Reason6::Renew6 => "RENEW6",
            Reason6::Rebind6 => "REBIND6",
            Reason6::Depref6 => "DEPREF6",
            Reason6::Expire6 => "EXPIRE6",
            Reason6::Release6 => "RELEASE6",
            Reason6::Stop6 => "STOP6",
        }
    }
}

impl From<crate::v6::core::Transition6> for Reason6 {
    /// The core's transition as dhclient-script's reason: INFORM6 is RENEW6, as dhclient says
    /// for a stateless reply (and the only one of the two words Debian's script acts on).
    fn from(t: crate::v6::core::Transition6) -> Reason6 {
        use crate::v6::core::Transition6 as T;
        match t {
            T::Preinit6 => Reason6::Preinit6,
            T::Bound6 => Reason6::Bound6,
            T::Renew6 | T::Inform6 => Reason6::Renew6,
            T::Rebind6 => Reason6::Rebind6,
            T::Depref6 => Reason6::Depref6,
            T::Expire6 => Reason6::Expire6,
            T::Release6 => Reason6::Release6,
            T::Stop6 => Reason6::Stop6,
        }
    }
}

impl fmt::Display for Reason6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one side of a run is about: a lease, and which of its IAs and which address or prefix
/// of that IA (`ia` and `item` index `lease.ias` and the IA's holdings; `None`: the lease's
/// options only, or the IA's without an address).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub lease: &'a Lease6,
    /// The Unix time the lease began: `starts` and `life_starts`.
    pub starts: u64,
    pub ia: Option<usize>,
    pub item: Option<usize>,
}

impl<'a> Side<'a> {
    /// The lease's options only (a stateless lease, or dhclient's `old_` of one).
    pub fn lease_wide(lease: &'a Lease6, starts: u64) -> Side<'a> {
        Side {
            lease,
            starts,
            ia: None,
            item: None,
        }
    }
}

/// What one run of the script is told.
#[derive(Debug, Clone)]
pub struct Event6Env<'a> {
    pub reason: Reason6,
    pub interface: &'a str,
    /// The daemon's process id, as `pid`.
    pub pid: u32,
    /// `--dad-wait-time`, exported by every run as `dad_wait_time`.
    pub dad_wait_time: u32,
    /// `--address-prefix-len`: `ip6_prefixlen` of an address (dhclient's default is 128).
    pub address_prefix_len: u8,
    /// The client's DUID: `dhcp6_client_id` when the lease did not keep the server's echo.
    pub client_duid: &'a [u8],
    /// The options asked for (option 6), for `requested_dhcp6_*`.
    pub requested: &'a [u16],
    /// The binding now: `new_*`, or `cur_*` for DEPREF6.
    pub new: Option<Side<'a>>,
    /// The binding before, or the one going: `old_*`.
    pub old: Option<Side<'a>>,
}

/// The environment: `(name, value)` pairs in dhclient's order, and what was withheld.
pub fn environment(ev: &Event6Env<'_>) -> (Vec<(String, String)>, Vec<Withheld>) {
    let mut out = Vars {
        env: vec![
            ("interface".into(), ev.interface.into()),
            ("reason".into(), ev.reason.as_str().into()),
            ("pid".into(), ev.pid.to_string()),
            ("dad_wait_time".into(), ev.dad_wait_time.to_string()),
        ],
        withheld: Vec::new(),
        prefix: "old_",
    };
    if let Some(old) = &ev.old {
        out.side(old, ev);
    }
    if let Some(new) = &ev.new {
        out.prefix = match ev.reason {
            Reason6::Depref6 => "cur_",
            _ => "new_",
        };
        out.side(new, ev);
    }
    // Every run but PREINIT6 says what was asked for (`script_write_requested6`).
    let requested = if ev.reason == Reason6::Preinit6 {
        &[][..]
    } else {
        ev.requested
    };
    for (i, &code) in requested.iter().enumerate() {
        let known = names6::OPTIONS.iter().find(|(c, _, _)| *c == code);
        if let Some((_, name, _)) = known.filter(|_| !requested[..i].contains(&code)) {
            out.env
                .push((format!("requested_dhcp6_{}", var_name(name)), "1".into()));
        }
    }
    (out.env, out.withheld)
}

/// The runs of BOUND6, RENEW6 and REBIND6 for `new` (begun at Unix time `new_starts`), after
/// `old` if there was one: `(new side, old side)` of each, as dhclient's `start_bound` makes
/// them. One per address and per prefix, its old side the same IA (kind and IAID) and the same
/// address or prefix in `old`; one for an IA that holds nothing; one for a lease without IAs.
pub fn bound_sides<'a>(
    new: &'a Lease6,
    new_starts: u64,
    old: Option<(&'a Lease6, u64)>,
) -> Vec<(Side<'a>, Option<Side<'a>>)> {
    let mut runs = Vec::new();
    let old_side = |ia: Option<usize>, item: Option<usize>| {
        old.map(|(lease, starts)| Side {
            lease,
            starts,
            ia,
            item,
        })
    };
    for (i, ia) in new.ias.iter().enumerate() {
        let old_ia = old.and_then(|(o, _)| o.ias.iter().position(|x| same_ia(x, ia)));
        let old_holdings = old_ia.and_then(|j| old.map(|(o, _)| &o.ias[j].holdings));
        let new_side = |item| Side {
            lease: new,
            starts: new_starts,
            ia: Some(i),
            item,
        };
        if count(&ia.holdings) == 0 {
            let first = old_holdings.filter(|h| count(h) > 0).map(|_| 0);
            runs.push((new_side(None), old_side(old_ia, first)));
        }
        for k in 0..count(&ia.holdings) {
            let same = old_holdings.and_then(|h| same_item(h, &ia.holdings, k));
            runs.push((new_side(Some(k)), old_side(old_ia, same)));
        }
    }
    if new.ias.is_empty() {
        let first_ia = old.filter(|(o, _)| !o.ias.is_empty()).map(|_| 0);
        let first_item = old
            .and_then(|(o, _)| o.ias.first())
            .filter(|ia| count(&ia.holdings) > 0)
            .map(|_| 0);
        runs.push((
            Side::lease_wide(new, new_starts),
            old_side(first_ia, first_item),
        ));
    }
    runs
}

/// The runs of RELEASE6 and STOP6 (as `old_`): one per address and per prefix, as dhclient's
/// `unconfigure6`; for a stateless lease (no IAs), one with its options.
pub fn unconfigure_sides(lease: &Lease6, starts: u64) -> Vec<Side<'_>> {
    if lease.ias.is_empty() {
        return vec![Side::lease_wide(lease, starts)];
    }
    let mut runs = Vec::new();
    for (i, ia) in lease.ias.iter().enumerate() {
        for k in 0..count(&ia.holdings) {
            runs.push(Side {
                lease,
                starts,
                ia: Some(i),
                item: Some(k),
            });
        }
    }
    runs
}

fn count(h: &Holdings) -> usize {
    match h {
        Holdings::Addresses(a) => a.len(),
        Holdings::Prefixes(p) => p.len(),
    }
}

fn same_ia(a: &Ia, b: &Ia) -> bool {
    a.iaid == b.iaid
        && matches!(
            (&a.holdings, &b.holdings),
            (Holdings::Addresses(_), Holdings::Addresses(_))
                | (Holdings::Prefixes(_), Holdings::Prefixes(_))
        )
}

/// Where the `k`-th address or prefix of `new` is in `old` (an address by its address, a
/// prefix by its prefix and length, as dhclient's `find_addr` and `find_pref`).
fn same_item(old: &Holdings, new: &Holdings, k: usize) -> Option<usize> {
    match (old, new) {
        (Holdings::Addresses(o), Holdings::Addresses(n)) => {
            let a = n.get(k)?.addr;
            o.iter().position(|x| x.addr == a)
        }
        (Holdings::Prefixes(o), Holdings::Prefixes(n)) => {
            let p = n.get(k)?;
            o.iter()
                .position(|x| x.prefix == p.prefix && x.len == p.len)
        }
        _ => None,
    }
}

/// An option's name as a variable: `-` as `_`.
fn var_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The variables being made.
struct Vars {
    env: Vec<(String, String)>,
    withheld: Vec<Withheld>,
    prefix: &'static str,
}

impl Vars {
    fn put(&mut self, name: &str, value: String) {
        self.env.push((format!("{}{name}", self.prefix), value));
    }

    fn withhold(&mut self, name: &str, why: &'static str) {
        self.withheld.push(Withheld {
            name: format!("{}{name}", self.prefix),
            why,
        });
    }

    /// One side's variables, in `dhc6_marshall_values`'s order.
    fn side(&mut self, s: &Side<'_>, ev: &Event6Env<'_>) {
        for (code, data) in names6::lease_options(s.lease, ev.client_duid) {
            self.option(code, &data);
        }
        let Some(ia) = s.ia.and_then(|i| s.lease.ias.get(i)) else {
            return;
        };
        let (addr, prefix) = match &ia.holdings {
            Holdings::Addresses(a) => (s.item.and_then(|k| a.get(k)), None),
            Holdings::Prefixes(p) => (None, s.item.and_then(|k| p.get(k))),
        };
        if let Some(IaAddr {
            addr,
            preferred,
            valid,
        }) = addr
        {
            self.put("ip6_prefixlen", ev.address_prefix_len.to_string());
            self.put("ip6_address", addr.to_string());
            self.lives(s.starts, *preferred, *valid);
        }
        if let Some(IaPrefix {
            prefix,
            len,
            preferred,
            valid,
        }) = prefix
        {
            self.put("ip6_prefix", format!("{prefix}/{len}"));
            self.lives(s.starts, *preferred, *valid);
        }
        self.put("iaid", super::iaid::text(ia.iaid));
        self.put("starts", s.starts.to_string());
        self.put("renew", ia.t1.to_string());
        self.put("rebind", ia.t2.to_string());
    }

    fn lives(&mut self, starts: u64, preferred: u32, valid: u32) {
        self.put("life_starts", starts.to_string());
        self.put("preferred_life", preferred.to_string());
        self.put("max_life", valid.to_string());
    }

    /// One option as `dhcp6_NAME`, printed as ISC prints it for the environment; withheld
    /// when it is not safe there or does not read.
    fn option(&mut self, code: u16, data: &[u8]) {
        let (name, format) = names6::lookup(code);
        let var = format!("dhcp6_{}", var_name(&name));
        if data.is_empty() || matches!(format, Format::Flag | Format::Other) {
            return;
        }
        match env_value(format, data) {
            Ok(v) => self.put(&var, v),
            Err(why) => self.withhold(&var, why),
        }
    }
}

const MALFORMED: &str = "malformed for its option";
const NOT_A_NAME: &str = "not a valid host or domain name";
const UNSAFE_TEXT: &str = "text with control or shell characters";

/// `data` printed as ISC's `pretty_print_option` prints `format` for the environment (no
/// quotes, spaces between items), or why it is not passed on.
fn env_value(format: Format, data: &[u8]) -> Result<String, &'static str> {
    let num = |n: usize| -> Result<u64, &'static str> {
        let b = data.get(..n).ok_or(MALFORMED)?;
        Ok(b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    };
    match format {
        Format::Bytes if names6::is_text(data) => plain(data),
        Format::Bytes => Ok(names6::hex(data)),
        Format::Addrs | Format::Addr => {
            let list = names6::addrs(data).ok_or(MALFORMED)?;
            if format == Format::Addr && list.len() != 1 {
                return Err(MALFORMED);
            }
            let text: Vec<String> = list.iter().map(|a| a.to_string()).collect();
            Ok(text.join(" "))
        }
        Format::Names | Format::Name => {
            let names = names6::decode_names(data).ok_or(MALFORMED)?;
            if names.is_empty() || (format == Format::Name && names.len() != 1) {
                return Err(MALFORMED);
            }
            if !names.iter().all(|n| is_host_name(n)) {
                return Err(NOT_A_NAME);
            }
            let dotted: Vec<String> = names.iter().map(|n| format!("{n}.")).collect();
            Ok(dotted.join(" "))
        }
        Format::Text => plain(data),
        Format::Secs => match num(4)? {
            0xffff_ffff => Ok("infinite".into()),
            n => Ok(n.to_string()),
        },
        Format::U32 => Ok(num(4)?.to_string()),
        Format::U16 => Ok(num(2)?.to_string()),
        Format::U8 => Ok(num(1)?.to_string()),
        Format::U16s => {
            let list: Vec<String> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]).to_string())
                .collect();
            (!list.is_empty()).then(|| list.join(" ")).ok_or(MALFORMED)
        }
        Format::Status => {
            let name = names6::status_name(num(2)? as u16);
            match &data[2..] {
                [] => Ok(name),
                text => Ok(format!("{name} {}", plain(text)?)),
            }
        }
        Format::Flag | Format::Other => Err(MALFORMED),
    }
}

/// Text that may go to the script as it is: printable, no shell characters (so ISC's escaping
/// would not change it).
fn plain(data: &[u8]) -> Result<String, &'static str> {
    let body = data.strip_suffix(&[0]).unwrap_or(data);
    match std::str::from_utf8(body) {
        Ok(s) if is_plain_text(s) => Ok(s.to_string()),
        _ => Err(UNSAFE_TEXT),
    }
}

#[cfg(test)]
#[path = "hookenv_tests.rs"]
mod tests;
