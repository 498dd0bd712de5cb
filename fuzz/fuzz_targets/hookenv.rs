#![no_main]
//! See `dhcpc_fuzz::checks::hookenv` for what is checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dhcpc_fuzz::checks::hookenv(data));
