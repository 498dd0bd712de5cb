//! The man pages are `mandoc -Tlint` clean. Root tier (`--features root-tests`): it needs
//! mandoc, which `sudo scripts/test` installs.

mod common;

use common::{require_program, stderr, stdout};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn man_pages_are_mandoc_lint_clean() {
    let mandoc = require_program(
        "mandoc",
        "run the tests with `sudo scripts/test`, which installs it (Debian package mandoc)",
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.len() == 1))
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"dhcpc.8".to_string()) && names.contains(&"dhcpc.conf.5".to_string()),
        "{names:?}"
    );
    for page in &pages {
        let out = Command::new(&mandoc)
            .args(["-Tlint", "-Wall"])
            .arg(page)
            .output()
            .expect("running mandoc");
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            out.status.success() && text.trim().is_empty(),
            "mandoc -Tlint {}: {}\n{text}",
            page.display(),
            out.status
        );
    }
}
