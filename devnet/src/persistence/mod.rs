//! Persistent state: a devnet saved to a directory and loaded from it, so
//! that canisters, their memories, the root key, finished requests and time
//! survive a restart (`devnet start --state-dir`).
//!
//! Layout of the directory:
//! - `CURRENT`: the name of the snapshot to load;
//! - `snap-<n>/`: one complete snapshot (`snapshot.rs`);
//! - `lock`: held while a devnet uses the directory.
//!
//! A save happens only between messages (no call in flight), writes a new
//! snapshot beside the current one, links what did not change, syncs, and
//! then switches `CURRENT` (`files.rs`). A process killed at any moment
//! leaves the previous snapshot or the new one, never a mix: it loses at
//! most what ran since the last save.
//!
//! What is not kept: messages in flight (there are none at a save), the
//! instruction counters of `counters.rs`, held messages and faults (test
//! controls), and `raw_rand`'s generator, which is seeded again.

mod autosave;
mod files;
pub mod manifest;
mod snapshot;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use autosave::{Autosave, DEFAULT_SAVE_INTERVAL};

use crate::execution::{Devnet, DevnetConfig};
use files::{DirLock, current_snapshot, make_dir, remove_others, replace_file, snapshot_name, snapshot_number};
use snapshot::Written;

/// A state directory in use (it is locked while this value lives).
pub struct StateDir {
    path: PathBuf,
    _lock: DirLock,
    /// What the current snapshot holds (`None`: nothing saved, or the last
    /// save failed, so the next one writes everything).
    written: Option<Written>,
    next_number: u64,
}

/// What `StateDir::save` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved {
        snapshot: String,
        bytes_written: u64,
        took: Duration,
    },
    /// Nothing but time and storage fees changed since the last save.
    Unchanged,
    /// Calls were in flight: the state can be saved only between messages.
    Busy,
}

impl StateDir {
    /// Opens (creating it if needed) and locks the directory.
    pub fn open(path: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(path).map_err(|e| files::io_err("cannot create", path, e))?;
        let lock = DirLock::take(path)?;
        let next_number = match current_snapshot(path)? {
            Some(name) => snapshot_number(&name).map_or(1, |n| n + 1),
            None => 1,
        };
        Ok(StateDir { path: path.to_path_buf(), _lock: lock, written: None, next_number })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a saved state is there to load.
    pub fn has_state(&self) -> Result<bool, String> {
        Ok(current_snapshot(&self.path)?.is_some())
    }

    /// The saved devnet, if any. `config` supplies what is not state (fee
    /// model, limits, logging); the saved keys and clock replace its seed
    /// and start time.
    pub fn load(&mut self, config: DevnetConfig) -> Result<Option<Devnet>, String> {
        let Some(name) = current_snapshot(&self.path)? else {
            // A crash before the first save completed may have left a
            // partial snapshot: nothing names it, so it goes.
            remove_others(&self.path, "")?;
            return Ok(None);
        };
        let (devnet, manifest) = snapshot::load(&self.path.join(&name), config)?;
        self.written = Some(snapshot::written_after_load(&devnet, &name, &manifest));
        remove_others(&self.path, &name)?;
        Ok(Some(devnet))
    }

    /// Saves `devnet` if it is between messages and anything worth keeping
    /// changed (`force`: save even if only time and fees moved).
    pub fn save(&mut self, devnet: &mut Devnet, force: bool) -> Result<SaveOutcome, String> {
        if !devnet.is_idle() {
            return Ok(SaveOutcome::Busy);
        }
        let started = Instant::now();
        let manifest = snapshot::manifest_of(devnet)?;
        if let Some(w) = &self.written
            && !force
            && !snapshot::changed_since(devnet, &manifest, w)
        {
            return Ok(SaveOutcome::Unchanged);
        }
        let previous = self.written.take();
        let name = snapshot_name(self.next_number);
        self.next_number += 1;
        let tmp = format!("{name}{}", files::TMP_SUFFIX);
        let result = self.write_snapshot(devnet, &manifest, previous.as_ref(), &name, &tmp);
        match result {
            Ok((written, bytes_written)) => {
                self.written = Some(written);
                Ok(SaveOutcome::Saved { snapshot: name, bytes_written, took: started.elapsed() })
            }
            Err(e) => {
                // `written` stays `None`: the next save writes every file,
                // since the pages this one took as changed are lost to it.
                let _ = std::fs::remove_dir_all(self.path.join(&tmp));
                Err(e)
            }
        }
    }

    fn write_snapshot(
        &self,
        devnet: &mut Devnet,
        manifest: &manifest::Manifest,
        previous: Option<&Written>,
        name: &str,
        tmp: &str,
    ) -> Result<(Written, u64), String> {
        let tmp_path = self.path.join(tmp);
        if tmp_path.exists() {
            std::fs::remove_dir_all(&tmp_path).map_err(|e| files::io_err("cannot remove", &tmp_path, e))?;
        }
        let dir = make_dir(&self.path, tmp)?;
        let prev_dir = previous.map(|w| self.path.join(&w.snapshot));
        let prev = previous.zip(prev_dir.as_deref());
        let mut written =
            Written { snapshot: name.to_string(), significant: snapshot::significant(manifest), ..Written::default() };
        let mut bytes = snapshot::write_blobs(devnet, &dir, prev, &mut written)?;
        let encoded = manifest.encode();
        bytes += encoded.len() as u64;
        files::write_synced(&dir.join(snapshot::MANIFEST), &encoded)?;
        for sub in std::fs::read_dir(&dir).map_err(|e| files::io_err("cannot list", &dir, e))?.flatten() {
            if sub.path().is_dir() {
                files::sync_dir(&sub.path())?;
            }
        }
        files::sync_dir(&dir)?;
        let final_path = self.path.join(name);
        std::fs::rename(&dir, &final_path).map_err(|e| files::io_err("cannot rename into", &final_path, e))?;
        files::sync_dir(&self.path)?;
        replace_file(&self.path, files::CURRENT, format!("{name}\n").as_bytes())?;
        remove_others(&self.path, name)?;
        Ok((written, bytes))
    }
}
