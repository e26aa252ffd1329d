//! Records kept in stable memory, with their encodings: CBOR for values
//! (`depot_api::storable`), fixed binary layouts for `ChunkRef` and keys.

use candid::{CandidType, Principal};
use depot_api::keys::{KeyRing, MacKey, PublicKeyInfo};
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use super::sha256_stream::StreamingSha256;

/// Bucket settings, written by init and by the directory.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub directory: Principal,
    pub keys: Vec<PublicKeyInfo>,
    pub capacity_bytes: u64,
    pub read_only: bool,
    /// The bucket's own secret for the streaming tokens it gives out
    /// (`http::token_mac`), from `raw_rand` after install. Never returned
    /// by any method. Added later: older configs decode without one.
    #[serde(default)]
    pub stream_key: Option<[u8; 32]>,
    /// Which response format the stored response hashes were made with
    /// (`http::certs::response_format`). Added later: older configs decode
    /// without one, and their files are certified afresh.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    /// This bucket's MAC keys, one per directory key id that has one
    /// (`set_key_ring`; `depot_api::keys`). Never returned by any method.
    /// Added later: older configs decode without any, and their tokens and
    /// URLs are checked by signature until the directory sends a ring.
    #[serde(default)]
    pub mac_keys: Vec<MacKey>,
}

impl Config {
    /// The keys tokens and URLs are checked with.
    pub fn ring(&self) -> KeyRing<'_> {
        KeyRing { public: &self.keys, mac: &self.mac_keys }
    }
}

/// A fingerprint of the responses this code certifies, and the generation
/// number stored response sets carry: a new fingerprint (an upgrade that
/// changes any certified response) starts a new generation, and sets of
/// older ones are made again.
#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseFormat {
    pub fingerprint: [u8; 32],
    pub generation: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            directory: Principal::anonymous(),
            keys: vec![],
            capacity_bytes: 0,
            read_only: true,
            stream_key: None,
            response_format: None,
            mac_keys: vec![],
        }
    }
}

/// Running totals, so `stat()` never scans.
#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Logical bytes of every stored chunk.
    pub used_bytes: u64,
    /// Bytes of committed files.
    pub committed_bytes: u64,
    /// Slot bytes in use (≥ used_bytes: slots are size classes).
    pub allocated_bytes: u64,
    pub files: u64,
    pub chunks: u64,
}

/// Set at commit: what the HTTP layer needs to serve the file.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub name: String,
    pub mime: String,
    /// SHA-256 over the concatenated chunk hashes: the strong ETag.
    pub etag: [u8; 32],
    pub sha256: Option<[u8; 32]>,
    pub committed_at_ns: u64,
}

/// One file in this bucket, from its first chunk on.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    pub owner: Principal,
    pub upload_id: Vec<u8>,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub declared_sha256: Option<[u8; 32]>,
    /// Whole-file hash progress: chunks `0..hashed_chunks` absorbed, and
    /// the last chunk's whole blocks too once it arrived in line
    /// (`hasher.absorbed()` counts the bytes).
    pub hasher: StreamingSha256,
    pub hashed_chunks: u32,
    pub stored_chunks: u32,
    pub stored_bytes: u64,
    pub created_at_ns: u64,
    pub committed: Option<Committed>,
    /// The owner's account is suspended for non-payment: the file is kept
    /// but not served (a certified 402) and is not in the certification
    /// tree. Added later: older records decode as served.
    #[serde(default)]
    pub suspended: bool,
}

/// What a file's record starts from: its upload's geometry and owner.
pub struct NewFile {
    pub owner: Principal,
    pub upload_id: Vec<u8>,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub declared_sha256: Option<[u8; 32]>,
}

impl FileRecord {
    /// A file with nothing stored, hashed or committed yet.
    pub fn new(f: NewFile, now_ns: u64) -> Self {
        Self {
            owner: f.owner,
            upload_id: f.upload_id,
            size_bytes: f.size_bytes,
            chunk_size: f.chunk_size,
            chunk_count: f.chunk_count,
            declared_sha256: f.declared_sha256,
            hasher: StreamingSha256::default(),
            hashed_chunks: 0,
            stored_chunks: 0,
            stored_bytes: 0,
            created_at_ns: now_ns,
            committed: None,
            suspended: false,
        }
    }

    /// Exact size of chunk `index` (all `chunk_size` but the last).
    pub fn expected_chunk_len(&self, index: u32) -> u64 {
        if index + 1 == self.chunk_count {
            self.size_bytes - (self.chunk_count as u64 - 1) * self.chunk_size as u64
        } else {
            self.chunk_size as u64
        }
    }
}

/// Where a chunk's bytes live in the data memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRef {
    pub offset: u64,
    pub len: u32,
    pub class: u8,
    pub sha256: [u8; 32],
}

const CHUNK_REF_BYTES: usize = 8 + 4 + 1 + 32;

impl Storable for ChunkRef {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        let mut b = Vec::with_capacity(CHUNK_REF_BYTES);
        b.extend_from_slice(&self.offset.to_le_bytes());
        b.extend_from_slice(&self.len.to_le_bytes());
        b.push(self.class);
        b.extend_from_slice(&self.sha256);
        Cow::Owned(b)
    }
    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }
    fn from_bytes(b: Cow<[u8]>) -> Self {
        // Like the CBOR records, a corrupted ref traps with the codec's
        // message (not an index panic on short input).
        if b.len() != CHUNK_REF_BYTES {
            panic!("decoding of a state record failed: ChunkRef of {} bytes, expected {CHUNK_REF_BYTES}", b.len());
        }
        Self {
            offset: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            len: u32::from_le_bytes(b[8..12].try_into().unwrap()),
            class: b[12],
            sha256: b[13..45].try_into().unwrap(),
        }
    }
    const BOUND: Bound = Bound::Bounded { max_size: CHUNK_REF_BYTES as u32, is_fixed_size: true };
}

/// Key of a chunk: file key then big-endian index, so one file's chunks are
/// adjacent and in order (range scans list and delete them).
pub type ChunkKey = [u8; 20];

pub fn chunk_key(file: &[u8; 16], index: u32) -> ChunkKey {
    let mut k = [0u8; 20];
    k[..16].copy_from_slice(file);
    k[16..].copy_from_slice(&index.to_be_bytes());
    k
}

depot_api::cbor_storable!(Config);
depot_api::cbor_storable!(Counters);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ref_round_trip() {
        let r = ChunkRef { offset: u64::MAX - 3, len: 1 << 20, class: 8, sha256: [9; 32] };
        assert_eq!(ChunkRef::from_bytes(r.to_bytes()), r);
        assert_eq!(r.to_bytes().len(), CHUNK_REF_BYTES);
    }

    #[test]
    #[should_panic(expected = "decoding of a state record failed")]
    fn short_chunk_ref_traps_with_the_codec_message() {
        ChunkRef::from_bytes(Cow::Borrowed(&[0u8; 13]));
    }

    #[test]
    fn chunk_keys_sort_by_file_then_index() {
        let f = [1u8; 16];
        assert!(chunk_key(&f, 1) < chunk_key(&f, 2));
        assert!(chunk_key(&f, 255) < chunk_key(&f, 256));
        assert!(chunk_key(&f, u32::MAX) < chunk_key(&[2u8; 16], 0));
    }
}

/// Figures for choosing the stable record codec (printed, not asserted):
/// `cargo test -p depot-bucket --release codec_figures -- --nocapture`.
#[cfg(test)]
mod codec_figures {
    use super::*;
    use candid::{Decode, Encode};

    #[test]
    fn records_round_trip_through_storable() {
        let r = sample();
        assert_eq!(FileRecord::from_bytes(r.to_bytes()), r);
        let c = Counters { used_bytes: 1, committed_bytes: 2, allocated_bytes: 3, files: 4, chunks: 5 };
        assert_eq!(Counters::from_bytes(c.to_bytes()), c);
    }

    fn sample() -> FileRecord {
        FileRecord {
            owner: Principal::self_authenticating([7u8; 32]),
            upload_id: vec![3; 16],
            size_bytes: 123_456_789,
            chunk_size: 1 << 20,
            chunk_count: 118,
            declared_sha256: Some([9; 32]),
            hasher: StreamingSha256::default(),
            hashed_chunks: 5,
            stored_chunks: 7,
            stored_bytes: 7 << 20,
            created_at_ns: 1_700_000_000_000_000_000,
            committed: Some(Committed {
                name: "holiday-video.mp4".into(),
                mime: "video/mp4".into(),
                etag: [1; 32],
                sha256: Some([2; 32]),
                committed_at_ns: 1_700_000_001_000_000_000,
            }),
            suspended: false,
        }
    }

    fn time(n: u32, mut f: impl FnMut()) -> f64 {
        let t = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / n as f64
    }

    #[test]
    fn codec_figures() {
        let r = sample();
        let candid = Encode!(&r).unwrap();
        let mut cbor = vec![];
        ciborium::into_writer(&r, &mut cbor).unwrap();
        let n = 20_000;
        let ce = time(n, || drop(Encode!(&r).unwrap()));
        let cd = time(n, || drop(Decode!(&candid, FileRecord).unwrap()));
        let be = time(n, || {
            let mut v = vec![];
            ciborium::into_writer(&r, &mut v).unwrap();
        });
        let bd = time(n, || drop(ciborium::from_reader::<FileRecord, _>(&cbor[..]).unwrap()));
        println!("bucket FileRecord: candid {} B, encode {ce:.0} ns, decode {cd:.0} ns", candid.len());
        println!("bucket FileRecord: cbor   {} B, encode {be:.0} ns, decode {bd:.0} ns", cbor.len());
    }
}
