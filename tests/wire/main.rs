//! The DHCP codec: round trips, exact bytes, the captured dnsmasq exchange, malformed input,
//! RFC 3396 long options, option overload, and a deterministic fuzz loop.

#[path = "../common/mod.rs"]
mod common;

mod bytes;
mod fuzz;
mod helpers;
mod malformed;
mod overload;
mod round_trips;
