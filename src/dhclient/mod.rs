//! ISC dhclient's command line, configuration file and lease file, for running dhcpc where
//! dhclient was (`dhclient` as a symlink to dhcpc, or dhclient's flags): [`cli`] turns
//! dhclient's arguments into dhcpc's, [`conf`] reads the common subset of dhclient.conf(5),
//! [`leases`] writes and reads dhclient.leases(5), [`duid`] its `default-duid` line. All are
//! pure.

mod args;
pub mod cli;
pub mod conf;
pub mod duid;
pub mod leases;
pub mod leases6;
mod lex;
pub mod names;
pub mod names6;
mod send;
