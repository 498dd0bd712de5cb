#![no_main]
//! See `dhcpc_fuzz::core_model` for the events fed and the rules checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: dhcpc_fuzz::core_model::Input| dhcpc_fuzz::core_model::run_input(&input));
