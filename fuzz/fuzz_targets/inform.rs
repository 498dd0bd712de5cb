#![no_main]
//! The `core` target's walk with options only (DHCPINFORM): see `dhcpc_fuzz::core_model`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    |input: dhcpc_fuzz::core_model::Input| dhcpc_fuzz::core_model::run_inform_input(&input)
);
