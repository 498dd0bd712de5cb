//! Replacing a file atomically and durably: the new contents go to a fresh temporary file in the
//! same directory (created by `tempfile`: O_EXCL with a random name, so a planted file or
//! symlink is never followed), which is synced and renamed over the target. Readers see the old
//! file or the new one, never a part.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file, fsync and rename, mode 0644. The
/// directory is not synced (see [`write_atomic`] and [`sync_dir`]).
pub fn replace(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_with(path, contents, true)
}

/// [`replace`] without the fsync: for files in /run (memory), which a crash takes anyway,
/// where readers still see the old file or the new one, never a part.
pub fn replace_volatile(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_with(path, contents, false)
}

fn replace_with(path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dhcpc-tmp-")
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)?;
    // The mode given at creation passes through the umask (the unit's is 0077): set it again,
    // so that resolv.conf stays readable by every user.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o644))?;
    // Through the file itself: an error (ENOSPC) is then the system's alone, not decorated
    // with the name of a temporary file that is gone with it.
    tmp.as_file_mut().write_all(contents)?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    match tmp.persist(path) {
        Ok(_) => Ok(()),
        // A bind-mounted file (as `ip netns exec` and containers do for /etc/resolv.conf)
        // cannot be replaced by rename: write it in place instead. The temporary file is
        // removed when it is dropped.
        Err(e) if e.error.raw_os_error() == Some(libc::EBUSY) => {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)?;
            f.write_all(contents)?;
            f.sync_all()
        }
        Err(e) => Err(e.error),
    }
}

/// Syncs a directory, so that a rename or removal in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs::File::open(dir)?.sync_all()
}

/// Writes `contents` to `path` atomically and durably: temporary file, fsync, rename over the
/// target, fsync of the directory.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents)?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn tempdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("dhcpc-atomic-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replaces_leaves_no_temporary_file_and_is_world_readable() {
        let d = tempdir("replace");
        let p = d.join("f");
        fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let d = tempdir("symlink");
        let victim = d.join("victim");
        fs::write(&victim, "keep").unwrap();
        let p = d.join("f");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!fs::symlink_metadata(&p).unwrap().file_type().is_symlink());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn fails_cleanly_in_a_missing_directory() {
        let d = tempdir("missing");
        assert!(write_atomic(&d.join("no/such/dir/file"), b"x").is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
