//! File operations a crash cannot tear: a snapshot is written under a
//! temporary name, synced, and renamed into place; `CURRENT` names the
//! snapshot to load and is replaced the same way. A process killed at any
//! point leaves either the old snapshot or the new one current.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file naming the current snapshot.
pub const CURRENT: &str = "CURRENT";
/// Held (flock) while a devnet uses the directory.
pub const LOCK: &str = "lock";
pub const SNAPSHOT_PREFIX: &str = "snap-";
pub const TMP_SUFFIX: &str = ".tmp";

pub fn io_err(what: impl std::fmt::Display, path: &Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

/// Writes `bytes` to a new file at `path` and syncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f = File::create(path).map_err(|e| io_err("cannot create", path, e))?;
    f.write_all(bytes).map_err(|e| io_err("cannot write", path, e))?;
    f.sync_all().map_err(|e| io_err("cannot sync", path, e))
}

/// Syncs a directory, so that the names created or renamed in it last.
pub fn sync_dir(path: &Path) -> Result<(), String> {
    File::open(path).and_then(|d| d.sync_all()).map_err(|e| io_err("cannot sync directory", path, e))
}

/// Replaces `dir/name` by `bytes` atomically (write, sync, rename, sync).
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    write_synced(&tmp, bytes)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(|e| io_err("cannot rename into", &path, e))?;
    sync_dir(dir)
}

/// The snapshot `CURRENT` names, if any.
pub fn current_snapshot(dir: &Path) -> Result<Option<String>, String> {
    let path = dir.join(CURRENT);
    match fs::read_to_string(&path) {
        Ok(s) => {
            let name = s.trim().to_string();
            let valid = name.starts_with(SNAPSHOT_PREFIX) && !name.contains(['/', '\\']) && !name.contains("..");
            if !valid {
                return Err(format!("{} names no snapshot: {name:?}", path.display()));
            }
            Ok(Some(name))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("cannot read", &path, e)),
    }
}

/// The number in a snapshot's name (`snap-00000042` → 42).
pub fn snapshot_number(name: &str) -> Option<u64> {
    name.strip_prefix(SNAPSHOT_PREFIX)?.parse().ok()
}

pub fn snapshot_name(n: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{n:08}")
}

/// Removes every snapshot and temporary file but `keep`: the leftovers of
/// earlier saves, and of a save a crash interrupted.
pub fn remove_others(dir: &Path, keep: &str) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| io_err("cannot list", dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name != keep && (name.starts_with(SNAPSHOT_PREFIX) || name.ends_with(TMP_SUFFIX));
        if stale {
            let path = entry.path();
            let r = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            r.map_err(|e| io_err("cannot remove", &path, e))?;
        }
    }
    Ok(())
}

/// Links `from` at `to` (the file did not change since the last snapshot),
/// or copies it where hard links are not possible.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<(), String> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).map(|_| ()).map_err(|e| io_err("cannot copy", from, e))
}

/// An exclusive lock on the state directory, held while the value lives:
/// two devnets writing one directory would corrupt it.
pub struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn take(dir: &Path) -> Result<Self, String> {
        use std::os::fd::AsRawFd;
        let path = dir.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("cannot open", &path, e))?;
        // SAFETY: flock on a file descriptor this function owns.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(format!(
                "{} is in use by another devnet (stop it, or use another state directory)",
                dir.display()
            ));
        }
        Ok(DirLock { _file: file })
    }
}

/// `dir/name`, created.
pub fn make_dir(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    fs::create_dir_all(&path).map_err(|e| io_err("cannot create", &path, e))?;
    Ok(path)
}
