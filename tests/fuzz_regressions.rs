//! The fuzz targets' own checks (fuzz/src/*.rs, included by path) on the stable toolchain:
//! every input of the committed seed corpus (fuzz/corpus/TARGET) and every crash the fuzzers
//! found (fuzz/regressions/TARGET, each named for what it found) must pass them. A crash
//! input that fails here again is a regression of its fix.
//!
//! The fuzzing itself (coverage-guided, on nightly) is `fuzz/run SECONDS`; see the README.

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;
#[allow(dead_code)]
#[path = "../fuzz/src/core6_model.rs"]
mod core6_model;
#[allow(dead_code)]
#[path = "../fuzz/src/core_model.rs"]
mod core_model;
#[allow(dead_code)]
#[path = "../fuzz/src/reply6.rs"]
mod reply6;

use std::path::{Path, PathBuf};

/// A fuzz target's check of one input.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 8] = [
    ("reply", checks::reply),
    ("wire", checks::wire),
    ("leasefile", checks::leasefile),
    ("core", core_model::run),
    ("config", checks::config),
    ("hookenv", checks::hookenv),
    ("reply6", reply6::reply6),
    ("core6", core6_model::run),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(d) => d
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        // A target that never crashed has no regressions directory (git keeps no empty one).
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && dir.parent().is_some_and(|p| p.ends_with("regressions")) =>
        {
            Vec::new()
        }
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    out.sort();
    out
}

/// Runs `check` on every file under fuzz/`kind`/TARGET; returns how many there were.
fn replay(kind: &str, target: &str, check: Check) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let files = files(&dir);
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "{target}: {} fails the checks", f.display());
    }
    files.len()
}

#[test]
fn every_seed_input_passes_the_fuzz_checks() {
    for (target, check) in TARGETS {
        let n = replay("corpus", target, check);
        assert!(n > 0, "no seed corpus for {target}");
    }
}

#[test]
fn every_crash_found_by_fuzzing_stays_fixed() {
    let mut n = 0;
    for (target, check) in TARGETS {
        n += replay("regressions", target, check);
    }
    assert!(n >= 2, "the regression inputs are missing");
}

/// The `inform` target (the `core` walk with options only, DHCPINFORM) has the `core`
/// target's seeds for its own: every one, and every `core` crash input, walks with options
/// only too; and its own crash inputs, once it has some, stay fixed.
#[test]
fn every_core_input_passes_the_checks_with_options_only() {
    let n = replay("corpus", "core", core_model::run_inform);
    assert!(n > 0, "no seed corpus for core");
    replay("regressions", "core", core_model::run_inform);
    replay("regressions", "inform", core_model::run_inform);
}

/// The captured dnsmasq frames are in the seed corpus, as frames and as payloads.
#[test]
fn the_captured_frames_seed_the_reply_wire_and_hookenv_targets() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for f in files(&data)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "eth"))
    {
        let frame = std::fs::read(&f).unwrap();
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let corpus = |t: &str, ext: &str| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/corpus")
                .join(t)
                .join(format!("{name}.{ext}"));
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        assert_eq!(corpus("reply", "eth"), frame);
        assert_eq!(corpus("reply", "dhcp"), frame[42..]);
        assert_eq!(corpus("wire", "dhcp"), frame[42..]);
        assert_eq!(corpus("hookenv", "eth"), frame);
        assert_eq!(corpus("hookenv", "dhcp"), frame[42..]);
    }
}
