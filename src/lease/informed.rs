//! What a DHCPACK to a DHCPINFORM gives (RFC 2131 3.4): the local configuration parameters
//! of a host whose address was set by other means (by hand), with no address and no lease.
//! The server's options are judged by the same rules as a lease's ([`super::rules`]), and its
//! routes against the host's own address and prefix, as a lease's are against the leased one.

use super::{check_address, check_domain, check_mtu, check_prefix, check_route, check_server};
use super::{routes_of, usable_routers, usable_routes, LeaseError, Options, Route, Shown};
use crate::reply::Reply;
use std::fmt;
use std::net::Ipv4Addr;

/// The options of a DHCPACK that answered our DHCPINFORM, as they are applied: routes, DNS
/// servers, domain and search list, NTP servers, MTU. Never an address: the host's own
/// ([`Informed::address`]) is the one it had, sent as ciaddr, and it stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Informed {
    /// The host's address, set by hand, from which the DHCPINFORM went (ciaddr).
    pub address: Ipv4Addr,
    /// Its prefix length on the interface: what on-link means for the routes.
    pub prefix_len: u8,
    /// Option 54, the server that answered, when it named itself (RFC 2131 4.3.5 says it
    /// must): the next DHCPINFORM goes to it first.
    pub server_id: Option<Ipv4Addr>,
    /// Routers from option 3, in preference order, those that can be a next hop only.
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers from option 6.
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
    /// Every option of the ACK as received, for `--status --json` and hooks.
    pub options: Options,
}

impl Informed {
    /// Reads the options of `r`, an ACK to the DHCPINFORM sent from `address`/`prefix_len`,
    /// and checks them. What RFC 2131 4.3.5 says the ACK must not carry (a lease time, an
    /// address in yiaddr) is ignored, with a debug line: nothing is leased.
    pub fn from_reply(
        r: &Reply,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> Result<Informed, LeaseError> {
        if !r.yiaddr.is_unspecified() && r.yiaddr != address {
            tracing::debug!(
                "yiaddr {} in an ACK to DHCPINFORM from {address}: ignored (nothing is leased)",
                r.yiaddr
            );
        }
        if let Some(secs) = r.lease_secs {
            tracing::debug!(
                "lease time {secs} s (option 51) in an ACK to DHCPINFORM: ignored (RFC 2131 4.3.5)"
            );
        }
        let routes = r
            .classless_routes
            .clone()
            .or_else(|| r.ms_classless_routes.clone())
            .unwrap_or_default();
        let info = Informed {
            address,
            prefix_len,
            server_id: r.server_id,
            routers: usable_routers(&r.routers, address, prefix_len),
            dns: r.dns.clone(),
            domain: r.domain.clone(),
            mtu: r.mtu,
            classless_routes: usable_routes(routes, address, prefix_len),
            search: r.search.clone(),
            ntp: r.ntp.clone(),
            options: Options::from_pairs(r.options.iter().map(|(c, d)| (*c, d.as_slice()))),
        };
        info.check()?;
        Ok(info)
    }

    /// The lease rules that apply to options alone: the host's address and prefix are ones an
    /// interface may hold, every server and router is unicast, every route and name sound.
    pub fn check(&self) -> Result<(), LeaseError> {
        check_address(self.address)?;
        check_prefix(self.prefix_len)?;
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

    /// The routes these options put on the interface ([`routes_of`]).
    pub fn routes(&self) -> Vec<Route> {
        routes_of(
            &self.classless_routes,
            &self.routers,
            self.address,
            self.prefix_len,
        )
    }
}

impl fmt::Display for Informed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "options for {}/{}", self.address, self.prefix_len)?;
        if let Some(s) = self.server_id {
            write!(f, " from {s}")?;
        }
        let shown = Shown {
            routes: &self.routes(),
            dns: &self.dns,
            domain: self.domain.as_deref(),
            search: &self.search,
            mtu: self.mtu,
        };
        shown.write(f)?;
        Ok(())
    }
}
