//! This tree's Debian packages, built by `scripts/package` (a release build, then
//! dpkg-buildpackage) once per test process, for the tests that install them.

use super::{run_with_deadline, stdout};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// The release build of a fresh tree takes minutes on a loaded 2-core machine.
const BUILD_DEADLINE: Duration = Duration::from_secs(40 * 60);

/// The .deb of package `name` (`dhcpc`, `dhcpc-dhclient`) at this crate's version.
pub fn debian_package(name: &str) -> PathBuf {
    let prefix = format!("{name}_{}_", env!("CARGO_PKG_VERSION"));
    let debs = debian_packages();
    debs.iter()
        .find(|d| {
            d.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with(&prefix))
        })
        .cloned()
        .unwrap_or_else(|| panic!("scripts/package built no {prefix}*.deb: {debs:?}"))
}

/// Every .deb `scripts/package` built; it runs once, whichever test asks first.
pub fn debian_packages() -> Vec<PathBuf> {
    static BUILT: Mutex<Option<Result<Vec<PathBuf>, String>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built
        .get_or_insert_with(build)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `scripts/package`: the paths it prints, each an existing .deb, or why not.
fn build() -> Result<Vec<PathBuf>, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package");
    let out = run_with_deadline(Command::new(script), BUILD_DEADLINE);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        return Err(format!("scripts/package failed ({}):\n{tail}", out.status));
    }
    let debs: Vec<PathBuf> = stdout(&out).lines().map(PathBuf::from).collect();
    match debs
        .iter()
        .find(|d| d.extension().is_none_or(|e| e != "deb") || !d.is_file())
    {
        Some(bad) => Err(format!(
            "scripts/package printed {bad:?}, not a .deb it built"
        )),
        None if debs.is_empty() => Err("scripts/package printed no package".into()),
        None => Ok(debs),
    }
}
