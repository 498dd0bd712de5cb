#![no_main]
//! See `dhcpc_fuzz::reply6` for what is checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dhcpc_fuzz::reply6::reply6(data));
