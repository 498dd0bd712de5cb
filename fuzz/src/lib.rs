//! What the fuzz targets check, one module per kind of input. The targets in `fuzz_targets/`
//! are one line each; the main crate's `tests/fuzz_regressions.rs` includes these same files
//! to replay the corpus and every crash found on the stable toolchain.

pub mod checks;
pub mod core6_model;
pub mod core_model;
pub mod reply6;
