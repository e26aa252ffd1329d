//! The bucket wasm this directory installs: gzipped, embedded at build time
//! (`build.rs`). Empty in builds made without `DEPOT_BUCKET_WASM_GZ`.

use depot_api::directory::BucketWasmInfo;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bucket.wasm.gz"));

/// The bucket crate shares the workspace version with the directory.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The gzipped module, or `None` when this build embeds none.
pub fn module() -> Option<&'static [u8]> {
    (!EMBEDDED.is_empty()).then_some(EMBEDDED)
}

/// SHA-256 of the module as installed (its gzipped bytes): what
/// `canister_status` reports as `module_hash` for a bucket running it.
/// Hashed once per wasm instance (0.6 MB: a few hundred million
/// instructions would be too many to spend on every call).
pub fn sha256() -> Option<[u8; 32]> {
    static HASH: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    *HASH.get_or_init(|| module().map(|m| Sha256::digest(m).into()))
}

pub fn info() -> Option<BucketWasmInfo> {
    Some(BucketWasmInfo {
        sha256: serde_bytes::ByteBuf::from(sha256()?.to_vec()),
        bytes: EMBEDDED.len() as u64,
        version: VERSION.to_string(),
    })
}
