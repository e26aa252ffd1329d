//! Upload sessions remembered on disk, so running `depot upload` again after
//! an interruption sends only the missing chunks.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SavedUpload {
    pub directory: String,
    pub upload_id: String,
    pub file_key: String,
    pub bucket: String,
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub size: u64,
    pub sha256: String,
}

/// One file per (directory, identity, name, content): the same bytes
/// uploaded under the same name by the same user to the same directory
/// resume the same session. The name is part of it so that two files of a
/// folder with equal bytes, uploaded side by side, keep their own sessions.
pub fn path_for(config_dir: &Path, directory: &str, owner: &str, name: &str, sha256_hex: &str, size: u64) -> PathBuf {
    use sha2::{Digest, Sha256};
    let key = format!("{directory}|{owner}|{}|{name}|{sha256_hex}|{size}", name.len());
    let id = hex::encode(&Sha256::digest(key)[..16]);
    config_dir.join("uploads").join(format!("{id}.json"))
}

pub fn load(path: &Path) -> Option<SavedUpload> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

pub fn save(path: &Path, s: &SavedUpload) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(s)?)?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

pub fn forget(path: &Path) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = path_for(d.path(), "dir", "me", "a.bin", "ab", 3);
        assert_ne!(p, path_for(d.path(), "dir", "you", "a.bin", "ab", 3));
        assert_ne!(p, path_for(d.path(), "dir", "me", "b.bin", "ab", 3), "same bytes, another name");
        assert!(load(&p).is_none());
        let s = SavedUpload {
            directory: "dir".into(),
            upload_id: "00".into(),
            file_key: "11".into(),
            bucket: "aaaaa-aa".into(),
            chunk_size: 1,
            chunk_count: 3,
            size: 3,
            sha256: "ab".into(),
        };
        save(&p, &s).unwrap();
        assert_eq!(load(&p), Some(s));
        forget(&p);
        assert!(load(&p).is_none());
    }
}
