//! `FileRecord`'s stable encoding: a fixed binary layout.
//!
//! Every certified query reads the file's record, and decoding it from
//! CBOR cost ~65 k instructions (serde walks each 32-byte hash as an array
//! of 32 integers), a tenth of a certified 206 (`depot-bench`, section 2's
//! "file lookup" phase). This layout decodes in a few thousand.
//!
//! Records written by earlier releases are CBOR maps (first byte 0xa0 to
//! 0xbf); they still decode, and are rewritten in this layout the next
//! time the file changes. A record in this layout starts with `VERSION`,
//! which no CBOR map does. A field added later takes a new version.
//!
//! Layout (integers little-endian, lengths LEB128):
//! `VERSION · owner (len, bytes) · upload_id (len, bytes) · size_bytes u64 ·
//! chunk_size u32 · chunk_count u32 · declared_sha256 (0 | 1 + 32) ·
//! hasher state 8×u32 · hasher absorbed u64 · hashed_chunks u32 ·
//! stored_chunks u32 · stored_bytes u64 · created_at_ns u64 · committed
//! (0 | 1 + name (len, bytes) · mime (len, bytes) · etag 32 · sha256
//! (0 | 1 + 32) · committed_at_ns u64) · suspended (0 | 1)`.

use super::records::{Committed, FileRecord};
use super::sha256_stream::StreamingSha256;
use candid::Principal;
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use std::borrow::Cow;

/// The first byte of a record in this layout.
pub const VERSION: u8 = 1;

impl Storable for FileRecord {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(encode(self))
    }
    fn into_bytes(self) -> Vec<u8> {
        encode(&self)
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        match bytes.first() {
            Some(&VERSION) => decode(&bytes[1..])
                .unwrap_or_else(|| panic!("decoding of a state record failed: FileRecord of {} bytes", bytes.len())),
            _ => depot_api::storable::cbor_decode(&bytes),
        }
    }
    const BOUND: Bound = Bound::Unbounded;
}

fn encode(r: &FileRecord) -> Vec<u8> {
    let c = r.committed.as_ref();
    let mut out = Vec::with_capacity(180 + c.map_or(0, |c| c.name.len() + c.mime.len() + 90));
    out.push(VERSION);
    bytes(&mut out, r.owner.as_slice());
    bytes(&mut out, &r.upload_id);
    out.extend_from_slice(&r.size_bytes.to_le_bytes());
    out.extend_from_slice(&r.chunk_size.to_le_bytes());
    out.extend_from_slice(&r.chunk_count.to_le_bytes());
    hash_opt(&mut out, r.declared_sha256.as_ref());
    let (state, absorbed) = r.hasher.parts();
    for word in state {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&absorbed.to_le_bytes());
    for n in [r.hashed_chunks, r.stored_chunks] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&r.stored_bytes.to_le_bytes());
    out.extend_from_slice(&r.created_at_ns.to_le_bytes());
    match c {
        None => out.push(0),
        Some(c) => {
            out.push(1);
            bytes(&mut out, c.name.as_bytes());
            bytes(&mut out, c.mime.as_bytes());
            out.extend_from_slice(&c.etag);
            hash_opt(&mut out, c.sha256.as_ref());
            out.extend_from_slice(&c.committed_at_ns.to_le_bytes());
        }
    }
    out.push(r.suspended as u8);
    out
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    leb128::write::unsigned(out, b.len() as u64).expect("writing to a Vec");
    out.extend_from_slice(b);
}

fn hash_opt(out: &mut Vec<u8>, h: Option<&[u8; 32]>) {
    match h {
        None => out.push(0),
        Some(h) => {
            out.push(1);
            out.extend_from_slice(h);
        }
    }
}

/// Reads the layout after `VERSION`; `None` when the bytes are not one
/// record of it exactly.
fn decode(b: &[u8]) -> Option<FileRecord> {
    let mut r = Reader(b);
    let owner = Principal::try_from_slice(r.bytes()?).ok()?;
    let upload_id = r.bytes()?.to_vec();
    let size_bytes = r.u64()?;
    let chunk_size = r.u32()?;
    let chunk_count = r.u32()?;
    let declared_sha256 = r.hash_opt()?;
    let mut state = [0u32; 8];
    for word in &mut state {
        *word = r.u32()?;
    }
    let hasher = StreamingSha256::from_parts(state, r.u64()?)?;
    let hashed_chunks = r.u32()?;
    let stored_chunks = r.u32()?;
    let stored_bytes = r.u64()?;
    let created_at_ns = r.u64()?;
    let committed = match r.flag()? {
        false => None,
        true => Some(Committed {
            name: String::from_utf8(r.bytes()?.to_vec()).ok()?,
            mime: String::from_utf8(r.bytes()?.to_vec()).ok()?,
            etag: r.hash()?,
            sha256: r.hash_opt()?,
            committed_at_ns: r.u64()?,
        }),
    };
    let suspended = r.flag()?;
    r.0.is_empty().then_some(FileRecord {
        owner,
        upload_id,
        size_bytes,
        chunk_size,
        chunk_count,
        declared_sha256,
        hasher,
        hashed_chunks,
        stored_chunks,
        stored_bytes,
        created_at_ns,
        committed,
        suspended,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    fn flag(&mut self) -> Option<bool> {
        match self.take::<1>()? {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
    fn hash(&mut self) -> Option<[u8; 32]> {
        self.take()
    }
    fn hash_opt(&mut self) -> Option<Option<[u8; 32]>> {
        if self.flag()? { self.hash().map(Some) } else { Some(None) }
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(leb128::read::unsigned(&mut self.0).ok()?).ok()?;
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record() -> impl Strategy<Value = FileRecord> {
        let committed = proptest::option::of(
            ("\\PC{0,60}", "\\PC{0,40}", any::<[u8; 32]>(), proptest::option::of(any::<[u8; 32]>()), any::<u64>())
                .prop_map(|(name, mime, etag, sha256, committed_at_ns)| Committed {
                    name,
                    mime,
                    etag,
                    sha256,
                    committed_at_ns,
                }),
        );
        let hasher = (any::<[u32; 8]>(), 0..u64::MAX / 64)
            .prop_map(|(s, blocks)| StreamingSha256::from_parts(s, blocks * 64).unwrap());
        (
            (proptest::collection::vec(any::<u8>(), 0..=29), proptest::collection::vec(any::<u8>(), 0..40)),
            (any::<u64>(), any::<u32>(), any::<u32>(), proptest::option::of(any::<[u8; 32]>()), hasher),
            (any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>(), committed, any::<bool>()),
        )
            .prop_map(
                |((owner, upload_id), (size_bytes, chunk_size, chunk_count, declared_sha256, hasher), rest)| {
                    let (hashed_chunks, stored_chunks, stored_bytes, created_at_ns, committed, suspended) = rest;
                    FileRecord {
                        owner: Principal::from_slice(&owner),
                        upload_id,
                        size_bytes,
                        chunk_size,
                        chunk_count,
                        declared_sha256,
                        hasher,
                        hashed_chunks,
                        stored_chunks,
                        stored_bytes,
                        created_at_ns,
                        committed,
                        suspended,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn records_round_trip(r in record()) {
            let bytes = r.to_bytes();
            prop_assert_eq!(bytes[0], VERSION);
            prop_assert_eq!(FileRecord::from_bytes(bytes.clone()), r.clone());
            // Every proper prefix is refused: no field reads past the end.
            for n in 1..bytes.len() {
                prop_assert!(decode(&bytes[1..n]).is_none());
            }
            prop_assert!(decode(&[&bytes[1..], &[0][..]].concat()).is_none());
        }

        #[test]
        fn cbor_records_of_earlier_releases_still_decode(r in record()) {
            let cbor = depot_api::storable::cbor_encode(&r);
            prop_assert!((0xa0..=0xbf).contains(&cbor[0]), "a CBOR map");
            prop_assert_eq!(FileRecord::from_bytes(Cow::Owned(cbor)), r);
        }
    }

    #[test]
    #[should_panic(expected = "decoding of a state record failed")]
    fn a_corrupted_record_traps_with_the_codec_message() {
        FileRecord::from_bytes(Cow::Borrowed(&[VERSION, 200]));
    }

    #[test]
    fn bad_flags_and_hasher_states_are_refused() {
        let r = FileRecord::from_bytes(Cow::Owned(encode(&sample())));
        let bytes = encode(&r);
        // The suspended flag is the last byte; `2` is no flag.
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() = 2;
        assert!(decode(&bad[1..]).is_none());
        // absorbed (after owner, upload id, sizes, no declared hash, state)
        // that is not whole blocks.
        let at = 1 + 1 + r.owner.as_slice().len() + 1 + r.upload_id.len() + 8 + 4 + 4 + 1 + 32;
        let mut bad = bytes.clone();
        bad[at] = 1;
        assert!(decode(&bad[1..]).is_none());
    }

    fn sample() -> FileRecord {
        FileRecord {
            owner: Principal::self_authenticating([7u8; 32]),
            upload_id: vec![3; 16],
            size_bytes: 10,
            chunk_size: 1 << 20,
            chunk_count: 1,
            declared_sha256: None,
            hasher: StreamingSha256::default(),
            hashed_chunks: 0,
            stored_chunks: 1,
            stored_bytes: 10,
            created_at_ns: 5,
            committed: None,
            suspended: false,
        }
    }
}
