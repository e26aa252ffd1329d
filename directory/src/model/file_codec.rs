//! The stored form of a file record: a fixed binary layout without what
//! the map key already holds (owner, file key, creation time), with common
//! MIME types as one byte.
//!
//! Why not CBOR like the other records: files are the one record there are
//! millions of. CBOR spelled out every field name and the owner, key and
//! creation time again; `depot-bench` section 3 measured 531 bytes of
//! stable memory per file with it (the `files` map 414, its index 117).
//!
//! Layout v1 (integers little-endian, `uleb` = unsigned LEB128):
//!
//! ```text
//! 0x01 | flags u8 (status in bits 5-6) | mime: code u8 [uleb len, bytes when 0]
//! | name: uleb len, bytes | size uleb | chunk_size uleb | chunk_count uleb
//! | updated_at_ns − created_at_ns (wrapping) uleb
//! | bucket: uleb canister index when a canister id (flag), else len u8, bytes
//! | [sha256 32] [delete_at_ns u64] [upload_id 16] [odd sha256: uleb len, bytes]
//!   (as flags say)
//! ```
//!
//! The leading 0x01 cannot start a CBOR record (a map, 0xa0–0xbf), so
//! records stored in CBOR by an older version still decode, and are
//! rewritten in this layout the next time they change.

use super::files::FileRecord;
use super::storable::{ListKey, MAX_PRINCIPAL_BYTES, cbor_decode};
use candid::Principal;
use depot_api::FileId;
use depot_api::directory::{FileMeta, FileStatus};
use depot_api::ids::ID_BYTES;
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use serde_bytes::ByteBuf;
use std::borrow::Cow;

const LAYOUT_V1: u8 = 0x01;

const HAS_SHA256: u8 = 1;
const HAS_DELETE_AT: u8 = 2;
const HAS_UPLOAD_ID: u8 = 4;
const SUSPENDED: u8 = 8;
/// A `sha256` of another length than 32 (only older records can have one:
/// `start_upload` checks it), spelled out as uleb length and bytes.
const HAS_ODD_SHA256: u8 = 16;
const STATUS_SHIFT: u8 = 5;
const STATUS_BITS: u8 = 3 << STATUS_SHIFT;
/// The bucket is a canister id (8-byte index, then 0x01 0x01), stored as
/// its index.
const CANISTER_BUCKET: u8 = 128;
// Every bit of the flags byte has a meaning; a later field needs a new layout.
const _: () = assert!(
    HAS_SHA256 | HAS_DELETE_AT | HAS_UPLOAD_ID | SUSPENDED | HAS_ODD_SHA256 | STATUS_BITS | CANISTER_BUCKET == 0xff
);

/// The index of a canister id, or `None` for another kind of principal.
fn canister_index(p: &Principal) -> Option<u64> {
    match p.as_slice() {
        [index @ .., 1, 1] if index.len() == 8 => Some(u64::from_be_bytes(index.try_into().expect("8 bytes"))),
        _ => None,
    }
}

fn canister_id(index: u64) -> Principal {
    let mut b = [1u8; 10];
    b[..8].copy_from_slice(&index.to_be_bytes());
    Principal::from_slice(&b)
}

/// MIME types stored as their position + 1 (0: spelled out). Append only:
/// a stored code must keep its meaning.
pub const COMMON_MIME_TYPES: [&str; 40] = [
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/json",
    "application/gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/epub+zip",
    "application/wasm",
    "text/plain",
    "text/plain; charset=utf-8",
    "text/html",
    "text/css",
    "text/csv",
    "text/markdown",
    "text/javascript",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "image/avif",
    "image/heic",
    "image/bmp",
    "image/x-icon",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-matroska",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/wav",
    "audio/flac",
    "font/woff2",
];

/// A file record without the fields its key holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub name: String,
    pub mime: String,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u32,
    /// `updated_at_ns − created_at_ns`, wrapping (the key holds the latter).
    pub updated_after_created_ns: u64,
    pub status: FileStatus,
    pub sha256: Option<[u8; 32]>,
    pub bucket: Principal,
    pub delete_at_ns: Option<u64>,
    pub upload_id: Option<[u8; ID_BYTES]>,
    pub suspended: bool,
    /// A `sha256` that is not 32 bytes, kept as it was.
    odd_sha256: Option<Vec<u8>>,
}

impl StoredFile {
    pub fn from_record(r: FileRecord) -> Self {
        let m = r.meta;
        let sha = m.sha256.map(ByteBuf::into_vec);
        let (sha256, odd_sha256) = match sha {
            None => (None, None),
            Some(v) => match <[u8; 32]>::try_from(v.as_slice()) {
                Ok(a) => (Some(a), None),
                Err(_) => (None, Some(v)),
            },
        };
        Self {
            name: m.name,
            mime: m.mime,
            size_bytes: m.size_bytes,
            chunk_size: m.chunk_size,
            chunk_count: m.chunk_count,
            updated_after_created_ns: m.updated_at_ns.wrapping_sub(m.created_at_ns),
            status: m.status,
            sha256,
            bucket: m.bucket,
            delete_at_ns: m.delete_at_ns,
            upload_id: r.upload_id,
            suspended: r.suspended,
            odd_sha256,
        }
    }

    /// The whole record again, with what the key holds.
    pub fn into_record(self, key: &ListKey) -> FileRecord {
        let sha256 = self.sha256.map(|h| h.to_vec()).or(self.odd_sha256).map(ByteBuf::from);
        FileRecord {
            meta: FileMeta {
                file_id: FileId::new(key.owner(), key.file),
                name: self.name,
                mime: self.mime,
                size_bytes: self.size_bytes,
                chunk_size: self.chunk_size,
                chunk_count: self.chunk_count,
                created_at_ns: key.created_at_ns,
                updated_at_ns: key.created_at_ns.wrapping_add(self.updated_after_created_ns),
                status: self.status,
                sha256,
                bucket: self.bucket,
                delete_at_ns: self.delete_at_ns,
            },
            upload_id: self.upload_id,
            suspended: self.suspended,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.name.len());
        b.push(LAYOUT_V1);
        let status: u8 = match self.status {
            FileStatus::Pending => 0,
            FileStatus::Ready => 1,
            FileStatus::Deleted => 2,
        };
        let canister = canister_index(&self.bucket);
        let flags = (self.sha256.is_some() as u8 * HAS_SHA256)
            | (self.delete_at_ns.is_some() as u8 * HAS_DELETE_AT)
            | (self.upload_id.is_some() as u8 * HAS_UPLOAD_ID)
            | (self.suspended as u8 * SUSPENDED)
            | (self.odd_sha256.is_some() as u8 * HAS_ODD_SHA256)
            | (status << STATUS_SHIFT)
            | (canister.is_some() as u8 * CANISTER_BUCKET);
        b.push(flags);
        match COMMON_MIME_TYPES.iter().position(|m| *m == self.mime) {
            Some(i) => b.push(i as u8 + 1),
            None => {
                b.push(0);
                put_bytes(&mut b, self.mime.as_bytes());
            }
        }
        put_bytes(&mut b, self.name.as_bytes());
        put_uleb(&mut b, self.size_bytes);
        put_uleb(&mut b, self.chunk_size as u64);
        put_uleb(&mut b, self.chunk_count as u64);
        put_uleb(&mut b, self.updated_after_created_ns);
        match canister {
            Some(index) => put_uleb(&mut b, index),
            None => {
                let bucket = self.bucket.as_slice();
                b.push(bucket.len() as u8);
                b.extend_from_slice(bucket);
            }
        }
        if let Some(h) = &self.sha256 {
            b.extend_from_slice(h);
        }
        if let Some(t) = self.delete_at_ns {
            b.extend_from_slice(&t.to_le_bytes());
        }
        if let Some(u) = &self.upload_id {
            b.extend_from_slice(u);
        }
        if let Some(odd) = &self.odd_sha256 {
            put_bytes(&mut b, odd);
        }
        b
    }

    fn decode(b: &[u8]) -> Self {
        if b.first() != Some(&LAYOUT_V1) {
            // Stored by an older version, in CBOR (with the key's fields).
            return Self::from_record(cbor_decode::<FileRecord>(b));
        }
        let mut r = Reader { b, at: 1 };
        let flags = r.byte();
        let status = match (flags & STATUS_BITS) >> STATUS_SHIFT {
            0 => FileStatus::Pending,
            1 => FileStatus::Ready,
            2 => FileStatus::Deleted,
            _ => corrupted(b, "unknown status"),
        };
        let mime = match r.byte() {
            0 => r.string(),
            code => match COMMON_MIME_TYPES.get(code as usize - 1) {
                Some(m) => m.to_string(),
                None => corrupted(b, "unknown MIME code"),
            },
        };
        let name = r.string();
        let size_bytes = r.uleb();
        let chunk_size = u32::try_from(r.uleb()).unwrap_or_else(|_| corrupted(b, "chunk size"));
        let chunk_count = u32::try_from(r.uleb()).unwrap_or_else(|_| corrupted(b, "chunk count"));
        let updated_after_created_ns = r.uleb();
        let bucket = if flags & CANISTER_BUCKET != 0 {
            canister_id(r.uleb())
        } else {
            let bucket_len = r.byte() as usize;
            if bucket_len > MAX_PRINCIPAL_BYTES {
                corrupted(b, "bucket id");
            }
            let bucket = Principal::from_slice(r.take(bucket_len));
            if canister_index(&bucket).is_some() {
                corrupted(b, "a canister id spelled out");
            }
            bucket
        };
        let sha256 = (flags & HAS_SHA256 != 0).then(|| r.array::<32>());
        let delete_at_ns = (flags & HAS_DELETE_AT != 0).then(|| r.u64());
        let upload_id = (flags & HAS_UPLOAD_ID != 0).then(|| r.array::<ID_BYTES>());
        let odd_sha256 = (flags & HAS_ODD_SHA256 != 0).then(|| {
            let len = usize::try_from(r.uleb()).unwrap_or_else(|_| corrupted(b, "length"));
            r.take(len).to_vec()
        });
        if flags & HAS_SHA256 != 0 && odd_sha256.is_some() {
            corrupted(b, "two sha256");
        }
        if r.at != b.len() {
            corrupted(b, "trailing bytes");
        }
        Self {
            name,
            mime,
            size_bytes,
            chunk_size,
            chunk_count,
            updated_after_created_ns,
            status,
            sha256,
            bucket,
            delete_at_ns,
            upload_id,
            suspended: flags & SUSPENDED != 0,
            odd_sha256,
        }
    }
}

impl Storable for StoredFile {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.encode())
    }
    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Self::decode(&bytes)
    }
    const BOUND: Bound = Bound::Unbounded;
}

fn corrupted(b: &[u8], why: &str) -> ! {
    panic!("decoding of a state record failed: StoredFile of {} bytes: {why}", b.len())
}

fn put_uleb(b: &mut Vec<u8>, v: u64) {
    leb128::write::unsigned(b, v).expect("writing to a Vec cannot fail");
}

fn put_bytes(b: &mut Vec<u8>, bytes: &[u8]) {
    put_uleb(b, bytes.len() as u64);
    b.extend_from_slice(bytes);
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let Some(s) = self.at.checked_add(n).and_then(|end| self.b.get(self.at..end)) else {
            corrupted(self.b, "truncated")
        };
        self.at += n;
        s
    }
    fn byte(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        self.take(N).try_into().expect("N bytes")
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
    fn uleb(&mut self) -> u64 {
        let mut rest = &self.b[self.at..];
        let before = rest.len();
        let v = leb128::read::unsigned(&mut rest).unwrap_or_else(|_| corrupted(self.b, "integer"));
        self.at += before - rest.len();
        v
    }
    fn string(&mut self) -> String {
        let len = self.uleb();
        let len = usize::try_from(len).unwrap_or_else(|_| corrupted(self.b, "length"));
        String::from_utf8(self.take(len).to_vec()).unwrap_or_else(|_| corrupted(self.b, "not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depot_api::FileKey;
    use proptest::prelude::*;

    fn record(name: &str, mime: &str, sha: Option<Vec<u8>>, upload: bool, delete_at: Option<u64>) -> FileRecord {
        FileRecord {
            meta: FileMeta {
                file_id: FileId::new(Principal::from_slice(&[7; 29]), FileKey([3; ID_BYTES])),
                name: name.into(),
                mime: mime.into(),
                size_bytes: 123_456_789,
                chunk_size: 2_000_000,
                chunk_count: 62,
                created_at_ns: 1_700_000_000_000_000_000,
                updated_at_ns: 1_700_000_000_123_000_000,
                status: FileStatus::Ready,
                sha256: sha.map(ByteBuf::from),
                bucket: Principal::from_slice(&[1; 10]),
                delete_at_ns: delete_at,
            },
            upload_id: upload.then_some([4; ID_BYTES]),
            suspended: false,
        }
    }

    fn key_of(r: &FileRecord) -> ListKey {
        ListKey::new(r.meta.file_id.owner, r.meta.created_at_ns, r.meta.file_id.key().unwrap())
    }

    fn round_trip(r: &FileRecord) -> Vec<u8> {
        let bytes = StoredFile::from_record(r.clone()).into_bytes();
        assert_eq!(StoredFile::from_bytes(Cow::Borrowed(&bytes)).into_record(&key_of(r)), *r);
        bytes
    }

    #[test]
    fn records_round_trip_in_every_shape() {
        for r in [
            record("photo.jpg", "image/jpeg", Some(vec![9; 32]), false, None),
            record("été \"x\".bin", "application/x-unusual; q=1", None, true, Some(5)),
            record("", "", Some(vec![1; 5]), true, Some(u64::MAX)),
            record(&"n".repeat(1024), &"m".repeat(255), Some(vec![]), false, None),
        ] {
            round_trip(&r);
        }
        for (i, mime) in COMMON_MIME_TYPES.iter().enumerate() {
            assert!(!COMMON_MIME_TYPES[..i].contains(mime), "{mime} twice");
            let bytes = round_trip(&record("a", mime, None, false, None));
            assert_eq!(bytes[2], i as u8 + 1);
        }
    }

    /// The figure the layout was chosen for: a typical stored file, beside
    /// the CBOR record it replaces.
    #[test]
    fn a_typical_record_is_a_fraction_of_its_cbor() {
        let r = record("IMG_20240101_123456.jpg", "image/jpeg", Some(vec![9; 32]), false, None);
        let compact = round_trip(&r).len();
        let cbor = super::super::storable::cbor_encode(&r).len();
        println!("stored file record: {compact} B (CBOR: {cbor} B)");
        assert!(compact <= 100 && compact * 3 < cbor, "{compact} B vs CBOR {cbor} B");
    }

    #[test]
    fn older_cbor_records_decode_and_are_rewritten_compactly() {
        for r in [
            record("a.txt", "text/plain", Some(vec![9; 32]), true, None),
            record("odd", "x/y", Some(vec![1, 2, 3]), false, Some(9)),
        ] {
            let cbor = super::super::storable::cbor_encode(&r);
            let stored = StoredFile::from_bytes(Cow::Owned(cbor));
            assert_eq!(stored.clone().into_record(&key_of(&r)), r);
            let again = stored.into_bytes();
            assert_eq!(again[0], LAYOUT_V1);
            assert_eq!(StoredFile::from_bytes(Cow::Owned(again)).into_record(&key_of(&r)), r);
        }
    }

    /// Damaged bytes trap with the codec's message (the message is rolled
    /// back), never with an index panic or a huge allocation.
    #[test]
    fn damaged_records_trap_with_the_codec_message() {
        let bytes = round_trip(&record("photo.jpg", "image/jpeg", Some(vec![9; 32]), true, Some(1)));
        let mut cases: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
        cases.push([bytes.as_slice(), &[0]].concat());
        cases.push([&[LAYOUT_V1, 0, 0], &[0xff; 12][..]].concat());
        cases.push(vec![2]);
        cases.push(vec![LAYOUT_V1, 3 << STATUS_SHIFT]);
        cases.push(vec![LAYOUT_V1, 0, 200]);
        cases.push([&[LAYOUT_V1, 0, 1, 0, 0, 0, 0, 0, 10], &[0, 0, 0, 0, 0, 0, 0, 5, 1, 1][..]].concat());
        for case in cases {
            let err = std::panic::catch_unwind(|| StoredFile::from_bytes(Cow::Owned(case.clone())))
                .expect_err(&format!("{case:?} decoded"));
            let msg = err.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
            assert!(msg.contains("decoding of a state record failed"), "{case:?}: {msg}");
        }
    }

    proptest! {
        #[test]
        fn any_record_round_trips(
            name in "\\PC{0,40}",
            mime in prop_oneof!["\\PC{0,30}", proptest::sample::select(COMMON_MIME_TYPES.to_vec()).prop_map(String::from)],
            sha in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            nums in any::<(u64, u32, u32, u64)>(),
            status in 0..3u8,
            delete_at in proptest::option::of(any::<u64>()),
            upload in proptest::option::of(any::<[u8; ID_BYTES]>()),
            suspended in any::<bool>(),
            bucket in proptest::collection::vec(any::<u8>(), 0..=29),
        ) {
            let mut r = record(&name, &mime, sha, false, delete_at);
            (r.meta.size_bytes, r.meta.chunk_size, r.meta.chunk_count, r.meta.updated_at_ns) = nums;
            r.meta.status = [FileStatus::Pending, FileStatus::Ready, FileStatus::Deleted][status as usize];
            r.meta.bucket = Principal::from_slice(&bucket);
            (r.upload_id, r.suspended) = (upload, suspended);
            let bytes = StoredFile::from_record(r.clone()).into_bytes();
            prop_assert_eq!(StoredFile::from_bytes(Cow::Owned(bytes)).into_record(&key_of(&r)), r);
        }
    }
}
