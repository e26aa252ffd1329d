//! What serving and certification need of a committed file.

use depot_api::FileKey;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileView {
    pub key: FileKey,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub chunk_size: u64,
    pub chunk_count: u32,
    /// SHA-256 over the chunk hashes: the strong ETag.
    pub etag: [u8; 32],
}

impl FileView {
    pub fn path(&self) -> String {
        format!("{}{}", depot_api::url::FILE_PATH_PREFIX, self.key.to_hex())
    }

    /// Bytes `start..=end` of chunk `i`.
    pub fn chunk_span(&self, i: u32) -> (u64, u64) {
        let start = i as u64 * self.chunk_size;
        (start, (start + self.chunk_size).min(self.size) - 1)
    }
}
