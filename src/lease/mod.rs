//! What a lease is, how it is read from a server's reply, and the one sanity check every lease
//! passes before it can reach the interface: from an ACK ([`Lease::from_reply`]) and from the
//! saved lease file alike ([`Lease::check`]).
//!
//! Laid out as: this file, the [`Lease`] and how it is read, its routes and times;
//! [`rules`], each rule of the check and [`LeaseError`]; [`options`], the raw options a lease
//! keeps for hooks and status. Addresses, masks and routes are [`crate::addr`]'s, below both
//! this module and [`crate::reply`].

pub mod informed;
pub mod options;
pub mod rules;

pub use crate::addr::Route;
pub use informed::Informed;
pub use options::{Options, OptionsIter};
pub use rules::{
    check_address, check_broadcast, check_domain, check_host_part, check_lease_time, check_mtu,
    check_prefix, check_route, check_server, check_server_id, check_times, LeaseError,
};

use crate::addr::{broadcast_of, classful_prefix, mask_to_prefix, network_of};
use crate::reply::Reply;
use crate::time::Instant;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Lease time that means "forever" (RFC 2131 section 3.3).
pub const INFINITE: u32 = u32::MAX;

/// The shortest lease dhcpc takes, in seconds. Shorter ones are refused:
/// - the kernel refuses an address lifetime of 0, and with whole-second timers a lease needs
///   3 s for T1 < T2 < expiry to be three different moments (at 0 or 1 s all three are "now"
///   and the client would renew, rebind and expire in one go, over and over);
/// - RFC 2131's first retransmission waits 4 s, so a shorter lease is gone before one lost
///   message could be sent again.
///
/// dhcpcd raises anything under 20 s to 20 s, keeping an address longer than it was granted;
/// systemd-networkd takes any lifetime but 0. Refusing keeps dhcpc to what the server granted,
/// and 4 s still lets test servers hand out leases of a few seconds (Kea does).
pub const MIN_LEASE_SECS: u32 = 4;

/// A lease as granted by a server and as it is applied to the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub broadcast: Ipv4Addr,
    pub server_id: Ipv4Addr,
    /// The ACK's siaddr (the next server to boot from, often 0.0.0.0), when known: not for a
    /// lease read from a dhclient lease file, which does not keep it.
    pub next_server: Option<Ipv4Addr>,
    /// Routers from option 3, in preference order (only unicast ones are kept).
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers from option 6 (only unicast ones are kept).
    pub dns: Vec<Ipv4Addr>,
    /// Domain name from option 15.
    pub domain: Option<String>,
    /// Interface MTU from option 26.
    pub mtu: Option<u16>,
    /// Classless static routes from option 121 (or Microsoft's 249 when there is no 121).
    pub classless_routes: Vec<Route>,
    /// Domain search list from option 119.
    pub search: Vec<String>,
    /// NTP servers from option 42.
    pub ntp: Vec<Ipv4Addr>,
    /// Every option of the reply as received (code, data), for `--status --json` and hooks.
    pub options: Options,
    /// Lease time in seconds; [`INFINITE`] means no expiry.
    pub lease_secs: u32,
    /// Renewal time (T1) in seconds, already clamped below T2.
    pub t1_secs: u32,
    /// Rebinding time (T2) in seconds, already clamped below the lease time.
    pub t2_secs: u32,
    /// When the lease started: the time the REQUEST that earned it was sent (RFC 2131 4.4.1).
    pub start: Instant,
}

/// T1 and T2 (seconds) for a lease, from options 58/59 when they make sense, else 50 % and
/// 87.5 % (RFC 2131 4.4.5). For a finite lease of at least [`MIN_LEASE_SECS`],
/// 1 <= T1 < T2 < lease: the client never renews the moment it binds.
pub fn renewal_times(lease: u32, t1: Option<u32>, t2: Option<u32>) -> (u32, u32) {
    if lease == INFINITE {
        return (INFINITE, INFINITE);
    }
    let default_t2 = (u64::from(lease) * 7 / 8) as u32;
    // A T2 under 2 s would leave no whole second for T1 below it.
    let t2 = t2.filter(|&t| t >= 2 && t < lease).unwrap_or(default_t2);
    let default_t1 = lease / 2;
    let t1 = t1
        .filter(|&t| t >= 1 && t < t2)
        .unwrap_or(if default_t1 < t2 { default_t1 } else { t2 / 2 });
    (t1, t2)
}

impl Lease {
    /// Reads a lease from an ACK (or an OFFER, to know what is offered) and checks it.
    /// `start` is when the REQUEST was sent.
    pub fn from_reply(r: &Reply, start: Instant) -> Result<Lease, LeaseError> {
        let lease_secs = r
            .lease_secs
            .ok_or_else(|| LeaseError::NoLeaseTime(left_out(r, 51)))?;
        Lease::from_reply_for(r, lease_secs, start)
    }

    /// Checks an OFFER: the lease it describes must pass the same rules as an ACK's, but an
    /// offer without a lease time (RFC 2131 says it must have one; not every server agrees)
    /// is judged on the rest and its ACK on the time.
    pub fn check_offer(r: &Reply) -> Result<(), LeaseError> {
        let secs = r.lease_secs.unwrap_or(INFINITE);
        Lease::from_reply_for(r, secs, Instant::ZERO).map(|_| ())
    }

    fn from_reply_for(r: &Reply, lease_secs: u32, start: Instant) -> Result<Lease, LeaseError> {
        let address = r.yiaddr;
        let server_id = r
            .server_id
            .ok_or_else(|| LeaseError::NoServerId(left_out(r, 54)))?;
        let prefix_len = match r.subnet_mask {
            Some(m) => mask_to_prefix(m).ok_or(LeaseError::BadSubnetMask(m))?,
            None => classful_prefix(address),
        };
        // Option 28 is used only when it is the subnet's broadcast address (RFC 2132 5.3
        // allows nothing else); otherwise the subnet's is.
        let broadcast = broadcast_of(address, prefix_len);
        if let Some(b) = r.broadcast.filter(|b| *b != broadcast) {
            tracing::debug!(
                "option 28 {b} is not the broadcast address of {address}/{prefix_len}: ignored"
            );
        }
        let routers = usable_routers(&r.routers, address, prefix_len);
        let (t1_secs, t2_secs) = renewal_times(lease_secs, r.renewal_secs, r.rebinding_secs);
        let sent = |t: Option<u32>, used: u32| t.is_some_and(|t| t != used);
        if lease_secs != INFINITE
            && (sent(r.renewal_secs, t1_secs) || sent(r.rebinding_secs, t2_secs))
        {
            let shown = |t: Option<u32>| t.map_or("none".to_string(), |t| format!("{t} s"));
            tracing::debug!(
                "T1 {} and T2 {} (options 58, 59) do not fit 1 s <= T1 < T2 < lease {lease_secs} s: \
                 T1 {t1_secs} s and T2 {t2_secs} s used instead",
                shown(r.renewal_secs),
                shown(r.rebinding_secs)
            );
        }
        let lease = Lease {
            address,
            prefix_len,
            broadcast,
            server_id,
            next_server: Some(r.siaddr),
            routers,
            dns: r.dns.clone(),
            domain: r.domain.clone(),
            mtu: r.mtu,
            classless_routes: usable_routes(
                r.classless_routes
                    .clone()
                    .or_else(|| r.ms_classless_routes.clone())
                    .unwrap_or_default(),
                address,
                prefix_len,
            ),
            search: r.search.clone(),
            ntp: r.ntp.clone(),
            options: Options::from_pairs(r.options.iter().map(|(c, d)| (*c, d.as_slice()))),
            lease_secs,
            t1_secs,
            t2_secs,
            start,
        };
        lease.check()?;
        Ok(lease)
    }

    /// The one sanity check of a lease, rule by rule: a lease that fails any of them never
    /// reaches the interface.
    pub fn check(&self) -> Result<(), LeaseError> {
        check_address(self.address)?;
        check_server_id(self.server_id)?;
        check_lease_time(self.lease_secs)?;
        check_prefix(self.prefix_len)?;
        check_host_part(self.address, self.prefix_len)?;
        check_broadcast(self.address, self.prefix_len, self.broadcast)?;
        check_times(self.t1_secs, self.t2_secs, self.lease_secs)?;
        for &a in self.routers.iter().chain(&self.dns).chain(&self.ntp) {
            check_server(a)?;
        }
        for r in &self.classless_routes {
            check_route(r)?;
        }
        for d in self.domain.iter().chain(&self.search) {
            check_domain(d)?;
        }
        if let Some(m) = self.mtu {
            check_mtu(m)?;
        }
        Ok(())
    }

    /// The routes this lease puts on the interface ([`routes_of`]).
    pub fn routes(&self) -> Vec<Route> {
        routes_of(
            &self.classless_routes,
            &self.routers,
            self.address,
            self.prefix_len,
        )
    }

    /// The search list resolv.conf gets: the domain (option 15) first, then option 119's names,
    /// each once.
    pub fn search_domains(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.domain.iter().chain(&self.search) {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
        out
    }

    pub fn is_infinite(&self) -> bool {
        self.lease_secs == INFINITE
    }

    fn at(&self, secs: u32) -> Option<Instant> {
        (!self.is_infinite()).then(|| self.start + Duration::from_secs(u64::from(secs)))
    }

    /// When to start renewing (T1); None for an infinite lease.
    pub fn renew_at(&self) -> Option<Instant> {
        self.at(self.t1_secs)
    }

    /// When to start rebinding (T2); None for an infinite lease.
    pub fn rebind_at(&self) -> Option<Instant> {
        self.at(self.t2_secs)
    }

    /// When the lease expires; None for an infinite lease.
    pub fn expires_at(&self) -> Option<Instant> {
        self.at(self.lease_secs)
    }

    /// Seconds of lease left at `now` (u32::MAX for infinite), for address lifetimes.
    pub fn remaining_secs(&self, now: Instant) -> u32 {
        match self.expires_at() {
            None => INFINITE,
            Some(end) => end
                .saturating_since(now)
                .as_secs()
                .min(u64::from(INFINITE - 1)) as u32,
        }
    }
}

/// The routes of a server's options for a host at `address`/`prefix_len` (a lease's, or the
/// options of a DHCPINFORM's ACK): RFC 3442, when the server sent classless static routes,
/// they are the routes and option 3 is ignored; otherwise the default route goes via the first
/// router of option 3. An on-link route to the host's own subnet is left out: the kernel has
/// that one with the address, and replacing it would take it away with the routes.
pub fn routes_of(
    classless: &[Route],
    routers: &[Ipv4Addr],
    address: Ipv4Addr,
    prefix_len: u8,
) -> Vec<Route> {
    if !classless.is_empty() {
        let network = network_of(address, prefix_len);
        return classless
            .iter()
            .filter(|r| {
                !(r.gateway.is_unspecified() && r.prefix_len == prefix_len && r.dest == network)
            })
            .copied()
            .collect();
    }
    routers
        .first()
        .map(|&gateway| Route {
            dest: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            gateway,
        })
        .into_iter()
        .collect()
}

/// Option 3's routers less those that cannot be a next hop from `address`/`prefix_len`
/// ([`not_a_next_hop`]), each one skipped said in a debug line.
pub fn usable_routers(routers: &[Ipv4Addr], address: Ipv4Addr, prefix_len: u8) -> Vec<Ipv4Addr> {
    routers
        .iter()
        .copied()
        .filter(|&g| match not_a_next_hop(g, address, prefix_len) {
            Some(why) => {
                tracing::debug!("option 3: {g} is {why}, skipped");
                false
            }
            None => true,
        })
        .collect()
}

/// Classless routes (option 121 or 249) less those whose router cannot be a next hop from
/// `address`/`prefix_len` ([`not_a_next_hop`]; 0.0.0.0, on-link, is fine), each said.
pub fn usable_routes(routes: Vec<Route>, address: Ipv4Addr, prefix_len: u8) -> Vec<Route> {
    routes
        .into_iter()
        .filter(|r| {
            let why = (!r.gateway.is_unspecified())
                .then(|| not_a_next_hop(r.gateway, address, prefix_len))
                .flatten();
            if let Some(why) = &why {
                tracing::debug!("classless route {r}: the router is {why}, skipped");
            }
            why.is_none()
        })
        .collect()
}

/// Why `g` cannot be a router for `address`/`prefix_len`: it is the address itself (the kernel
/// takes a route via the host's own address, and every packet sent by it is lost), or its
/// subnet's network or broadcast address (but on /31 and /32, which have none).
pub fn not_a_next_hop(g: Ipv4Addr, address: Ipv4Addr, prefix_len: u8) -> Option<String> {
    let network = network_of(address, prefix_len);
    if g == address {
        Some("the lease's own address".to_string())
    } else if prefix_len < 31 && g == network {
        Some(format!("the network address of {address}/{prefix_len}"))
    } else if prefix_len < 31 && g == broadcast_of(address, prefix_len) {
        Some(format!("the broadcast address of {address}/{prefix_len}"))
    } else {
        None
    }
}

fn left_out(r: &Reply, code: u8) -> Option<String> {
    r.left_out(code).map(|l| l.why.clone())
}

/// Human form of a number of seconds: "3600s (1h)".
pub fn human_secs(secs: u32) -> String {
    if secs == INFINITE {
        return "infinite".to_string();
    }
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// What a lease's (or informed options') one-line summary shows after its address: the router
/// and how many more routes, DNS servers, domain, search list and MTU.
struct Shown<'a> {
    routes: &'a [Route],
    dns: &'a [Ipv4Addr],
    domain: Option<&'a str>,
    search: &'a [String],
    mtu: Option<u16>,
}

impl Shown<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.routes.iter().find(|r| r.is_default()) {
            Some(r) if !r.gateway.is_unspecified() => write!(f, ", router {}", r.gateway)?,
            _ => write!(f, ", no router")?,
        }
        let more = self.routes.iter().filter(|r| !r.is_default()).count();
        if more > 0 {
            write!(f, ", {more} more route{}", if more == 1 { "" } else { "s" })?;
        }
        if self.dns.is_empty() {
            write!(f, ", no dns")?;
        } else {
            let dns: Vec<String> = self.dns.iter().map(|a| a.to_string()).collect();
            write!(f, ", dns {}", dns.join(","))?;
        }
        if let Some(d) = self.domain {
            write!(f, ", domain {d}")?;
        }
        if !self.search.is_empty() {
            write!(f, ", search {}", self.search.join(" "))?;
        }
        if let Some(m) = self.mtu {
            write!(f, ", mtu {m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)?;
        write!(f, " brd {}", self.broadcast)?;
        let shown = Shown {
            routes: &self.routes(),
            dns: &self.dns,
            domain: self.domain.as_deref(),
            search: &self.search,
            mtu: self.mtu,
        };
        shown.write(f)?;
        write!(
            f,
            ", lease {}, server {}",
            human_secs(self.lease_secs),
            self.server_id
        )
    }
}
