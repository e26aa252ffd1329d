//! The whole-file SHA-256, advanced chunk by chunk as chunks arrive so that
//! commit has little left to hash.

use crate::model::BucketStore;
use crate::model::records::FileRecord;
use depot_api::FileKey;
use ic_stable_structures::Memory;

/// Absorbs present, contiguous, non-last chunks into `rec`'s whole-file
/// hash, at most `budget` of them. `fresh` is a chunk this message just
/// received, so that it is not read back from stable memory.
pub fn advance_hash<M: Memory>(
    store: &BucketStore<M>,
    file: &FileKey,
    rec: &mut FileRecord,
    budget: u32,
    fresh: Option<(u32, &[u8])>,
) -> u32 {
    let mut done = 0;
    while done < budget && rec.hashed_chunks + 1 < rec.chunk_count {
        let i = rec.hashed_chunks;
        match fresh {
            Some((fi, bytes)) if fi == i => rec.hasher.absorb_blocks(bytes),
            _ => match store.chunk_ref(file, i) {
                Some(r) => rec.hasher.absorb_blocks(&store.read_chunk(&r)),
                None => break,
            },
        }
        rec.hashed_chunks += 1;
        done += 1;
    }
    done
}
