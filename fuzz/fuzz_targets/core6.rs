#![no_main]
//! See `dhcpc_fuzz::core6_model` for the events fed and the rules checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: dhcpc_fuzz::core6_model::Input| dhcpc_fuzz::core6_model::run_input(&input));
