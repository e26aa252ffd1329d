//! put_chunk / commit_file / delete_file rules at their edges.

use super::fixture::*;
use crate::logic::commit::hash_chunks_per_commit;
use depot_api::BucketError;
use depot_api::bucket::*;

fn counters(fx: &Fx) -> crate::model::records::Counters {
    fx.store.counters()
}

#[test]
fn sizes_at_every_edge_round_trip() {
    let c = CHUNK as usize;
    for (n, size) in [(1u8, 1usize), (2, c - 1), (3, c), (4, c + 1), (5, 3 * c), (6, 3 * c - 1)] {
        let mut fx = Fx::new(1 << 30);
        let up = Upload::new(n, size);
        let ok = up.upload(&mut fx);
        assert_eq!(ok.size_bytes, size as u64);
        let sha: Vec<u8> = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&up.data)).to_vec();
        assert_eq!(ok.sha256.unwrap().into_vec(), sha, "size {size}");
        let mut back = vec![];
        for i in 0..up.chunk_count() {
            back.extend(fx.get_chunk(alice(), &GetChunkArgs { file_id: up.file_id(), chunk_index: i }).unwrap());
        }
        assert_eq!(back, up.data, "size {size}");
        assert_eq!(counters(&fx).used_bytes, size as u64);
        assert_eq!(counters(&fx).committed_bytes, size as u64);
    }
}

#[test]
fn chunk_size_rules() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, 2 * CHUNK as usize + 10);
    let before = counters(&fx);
    let put = |fx: &mut Fx, i: u32, bytes: Vec<u8>| {
        fx.put_chunk(bucket_id(), alice(), PutChunkArgs { token: up.token(), chunk_index: i, bytes }, NOW)
    };
    // short middle chunk
    assert_eq!(
        put(&mut fx, 1, vec![0; CHUNK as usize - 1]),
        Err(BucketError::ChunkSizeMismatch { index: 1, expected: CHUNK as u64, actual: CHUNK as u64 - 1 })
    );
    // oversized chunk
    assert_eq!(
        put(&mut fx, 0, vec![0; CHUNK as usize + 1]),
        Err(BucketError::ChunkTooLarge { size: CHUNK as u64 + 1, max: CHUNK as u64 })
    );
    // last chunk must be exactly the remainder
    assert_eq!(
        put(&mut fx, 2, vec![0; 11]),
        Err(BucketError::ChunkSizeMismatch { index: 2, expected: 10, actual: 11 })
    );
    assert_eq!(put(&mut fx, 2, vec![0; 9]), Err(BucketError::ChunkSizeMismatch { index: 2, expected: 10, actual: 9 }));
    // an empty chunk is a size mismatch too
    assert!(matches!(put(&mut fx, 0, vec![]), Err(BucketError::ChunkSizeMismatch { .. })));
    assert_eq!(counters(&fx), before, "errors change nothing");
    assert!(fx.store.file(&up.file).is_none());
}

#[test]
fn idempotent_put_and_conflict() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize * 2);
    let first = up.put(&mut fx, 0).unwrap();
    let after_first = counters(&fx);
    assert_eq!(up.put(&mut fx, 0).unwrap(), first);
    assert_eq!(counters(&fx), after_first, "same bytes again store nothing new");
    let mut other = up.chunk(0);
    other[0] ^= 1;
    let args = PutChunkArgs { token: up.token(), chunk_index: 0, bytes: other };
    assert_eq!(fx.put_chunk(bucket_id(), alice(), args, NOW), Err(BucketError::ChunkConflict { index: 0 }));
    assert_eq!(counters(&fx), after_first);
    assert_eq!(fx.get_chunk(alice(), &GetChunkArgs { file_id: up.file_id(), chunk_index: 0 }).unwrap(), up.chunk(0));
}

#[test]
fn token_checks() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize * 3);
    let put = |fx: &mut Fx, token, caller, i: u32, now| {
        fx.put_chunk(bucket_id(), caller, PutChunkArgs { token, chunk_index: i, bytes: up.chunk(i) }, now)
    };
    let t = up.token();
    assert_eq!(put(&mut fx, t.clone(), alice(), 0, t.expires_at_ns), Err(BucketError::TokenExpired));
    assert!(put(&mut fx, t.clone(), alice(), 0, t.expires_at_ns - 1).is_ok());
    assert!(matches!(put(&mut fx, t.clone(), bob(), 1, NOW), Err(BucketError::Unauthorised { .. })));
    let mut forged = t.clone();
    forged.sign(&[9; 32]);
    assert!(matches!(put(&mut fx, forged, alice(), 1, NOW), Err(BucketError::Unauthorised { .. })));
    let mut narrow = t.clone();
    narrow.first_chunk = 1;
    narrow.last_chunk = 1;
    narrow.sign(&SEED);
    assert_eq!(
        put(&mut fx, narrow.clone(), alice(), 2, NOW),
        Err(BucketError::ChunkNotAllowed { index: 2, first: 1, last: 1 })
    );
    assert!(put(&mut fx, narrow, alice(), 1, NOW).is_ok());
    // A token for another upload of the same file key is refused.
    let mut other_upload = t.clone();
    other_upload.upload_id = vec![0xee; 16];
    other_upload.sign(&SEED);
    assert!(matches!(put(&mut fx, other_upload, alice(), 2, NOW), Err(BucketError::Unauthorised { .. })));
    // Wrong bucket
    let wrong = fx.put_chunk(
        candid::Principal::from_slice(&[9; 10]),
        alice(),
        PutChunkArgs { token: t, chunk_index: 2, bytes: up.chunk(2) },
        NOW,
    );
    assert!(matches!(wrong, Err(BucketError::Unauthorised { .. })));
}

#[test]
fn read_only_and_capacity_edges() {
    let cap = CHUNK as u64 * 2;
    let mut fx = Fx::new(cap);
    let up = Upload::new(1, CHUNK as usize * 3);
    up.put(&mut fx, 0).unwrap();
    up.put(&mut fx, 1).unwrap();
    assert_eq!(up.put(&mut fx, 2), Err(BucketError::OutOfSpace { needed: CHUNK as u64, available: 0 }));
    fx.set_read_only(directory(), true).unwrap();
    assert_eq!(up.put(&mut fx, 0), Err(BucketError::ReadOnly));
    assert!(matches!(fx.set_read_only(alice(), false), Err(BucketError::Unauthorised { .. })));
}

#[test]
fn commit_requires_every_chunk_and_the_right_hash() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize * 4);
    up.put(&mut fx, 0).unwrap();
    up.put(&mut fx, 2).unwrap();
    assert_eq!(
        fx.commit_file(directory(), up.commit_args(), NOW),
        Err(BucketError::UploadIncomplete { missing: vec![1, 3] })
    );
    assert!(matches!(fx.commit_file(alice(), up.commit_args(), NOW), Err(BucketError::Unauthorised { .. })));
    let wrong = Upload::new(2, CHUNK as usize + 5);
    // Declare the hash of other bytes: build the token from a twin with other data.
    let twin = Upload { data: vec![7; wrong.data.len()], ..Upload::new(2, 0) };
    let mut token = twin.token();
    token.file_id = wrong.file_id();
    token.sign(&SEED);
    for i in 0..2 {
        let args = PutChunkArgs { token: token.clone(), chunk_index: i, bytes: wrong.chunk(i) };
        fx.put_chunk(bucket_id(), alice(), args, NOW).unwrap();
    }
    assert!(matches!(fx.commit_file(directory(), wrong.commit_args(), NOW), Err(BucketError::HashMismatch { .. })));
    assert_eq!(fx.commit_file(directory(), Upload::new(3, 1).commit_args(), NOW), Err(BucketError::NotFound));
}

#[test]
fn hashing_a_large_out_of_order_upload_spans_messages() {
    let mut fx = Fx::new(1 << 32);
    // The budget is in bytes: real chunk sizes, not the fixture's tiny ones.
    let chunk = 1024 * 1024;
    assert_eq!(hash_chunks_per_commit(chunk), 256);
    assert_eq!(hash_chunks_per_commit(depot_api::limits::MAX_CHUNK_SIZE), 134);
    let n = hash_chunks_per_commit(chunk) + 40;
    let up = Upload::with_chunk_size(1, chunk as usize * n as usize - 7, chunk);
    let token = up.token(); // hashes the whole file: once, not per chunk
    for i in (0..n).rev() {
        let args = PutChunkArgs { token: token.clone(), chunk_index: i, bytes: up.chunk(i) };
        fx.put_chunk(bucket_id(), up.owner, args, NOW).unwrap();
    }
    let mut rounds = 0;
    let ok = loop {
        rounds += 1;
        match fx.commit_file(directory(), up.commit_args(), NOW) {
            Ok((ok, newly)) => {
                assert!(newly);
                break ok;
            }
            Err(BucketError::HashInProgress { hashed_bytes, total_bytes }) => {
                assert!(hashed_bytes < total_bytes);
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(rounds >= 2, "a file of {n} chunks needs more than one commit message");
    let sha: Vec<u8> = <sha2::Sha256 as sha2::Digest>::digest(&up.data).to_vec();
    assert_eq!(ok.sha256.clone().unwrap().into_vec(), sha);
    // Committing again is idempotent.
    let (again, newly) = fx.commit_file(directory(), up.commit_args(), NOW).unwrap();
    assert!(!newly);
    assert_eq!(again, ok);
}

#[test]
fn delete_frees_space_and_slots_are_reused() {
    let mut fx = Fx::new(1 << 30);
    let a = Upload::new(1, CHUNK as usize * 2 + 3);
    a.upload(&mut fx);
    let high = fx.store.counters();
    assert!(matches!(fx.delete_file(alice(), &a.file_id()), Err(BucketError::Unauthorised { .. })));
    let (ok, was_committed) = fx.delete_file(directory(), &a.file_id()).unwrap();
    assert!(was_committed);
    assert_eq!(ok.freed_bytes, a.data.len() as u64);
    assert_eq!(fx.store.counters(), Default::default(), "every counter back to zero, was {high:?}");
    assert_eq!(fx.delete_file(directory(), &a.file_id()), Err(BucketError::NotFound));
    assert_eq!(
        fx.get_chunk(alice(), &GetChunkArgs { file_id: a.file_id(), chunk_index: 0 }),
        Err(BucketError::NotFound)
    );
    // The same sizes again reuse the freed slots: the slab does not grow.
    let stat_before = crate::logic::read::stat_impl(&fx.store, 0, 0);
    let b = Upload::new(2, CHUNK as usize * 2 + 3);
    b.upload(&mut fx);
    assert_eq!(crate::logic::read::stat_impl(&fx.store, 0, 0).allocated_bytes, high.allocated_bytes);
    assert_eq!(stat_before.used_bytes, 0);
}

#[test]
fn reads_are_owner_or_directory_only() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, 10);
    up.upload(&mut fx);
    let args = GetChunkArgs { file_id: up.file_id(), chunk_index: 0 };
    assert!(fx.get_chunk(alice(), &args).is_ok());
    assert!(fx.get_chunk(directory(), &args).is_ok());
    assert!(matches!(fx.get_chunk(bob(), &args), Err(BucketError::Unauthorised { .. })));
    // Bob naming himself as owner finds nothing.
    let forged = GetChunkArgs { file_id: depot_api::FileId::new(bob(), up.file), chunk_index: 0 };
    assert_eq!(fx.get_chunk(bob(), &forged), Err(BucketError::NotFound));
    let p = fx.list_chunks(alice(), &up.file_id()).unwrap();
    assert_eq!((p.present, p.committed, p.chunk_count), (vec![0], true, 1));
}

#[test]
fn state_survives_reopening_stable_memory() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize * 3 + 1);
    up.upload(&mut fx);
    let partial = Upload::new(2, CHUNK as usize * 2);
    partial.put(&mut fx, 1).unwrap();
    let before = fx.store.counters();
    fx.reopen();
    assert_eq!(fx.store.counters(), before);
    assert_eq!(fx.get_chunk(alice(), &GetChunkArgs { file_id: up.file_id(), chunk_index: 3 }).unwrap(), up.chunk(3));
    partial.put(&mut fx, 0).unwrap();
    assert!(fx.commit_file(directory(), partial.commit_args(), NOW).is_ok());
}

#[test]
fn only_the_directory_sets_keys_and_keys_are_32_bytes() {
    let mut fx = Fx::new(1 << 20);
    let before = fx.store.config().clone();
    let key = |len| depot_api::keys::PublicKeyInfo { kid: 2, key: vec![7; len] };
    assert!(matches!(fx.set_keys(alice(), vec![key(32)]), Err(BucketError::Unauthorised { .. })));
    assert!(matches!(fx.set_keys(directory(), vec![key(31)]), Err(BucketError::InvalidRequest { .. })));
    assert!(matches!(fx.set_keys(directory(), vec![key(32), key(33)]), Err(BucketError::InvalidRequest { .. })));
    assert_eq!(fx.store.config(), &before, "refused key sets change nothing");
    fx.set_keys(directory(), vec![key(32)]).unwrap();
    assert_eq!(fx.store.config().keys, vec![key(32)]);
}

#[test]
fn a_mac_token_stores_chunks_only_under_this_buckets_key() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize * 3);
    let put = |fx: &mut Fx, token, i: u32| {
        fx.put_chunk(bucket_id(), alice(), PutChunkArgs { token, chunk_index: i, bytes: up.chunk(i) }, NOW)
    };
    let t = up.mac_token();
    assert_eq!(t.sig.len(), depot_api::keys::MAC_BYTES);
    assert!(put(&mut fx, t.clone(), 0).is_ok());
    // Under another bucket's key (what that bucket's tokens carry), or a
    // field changed after the MAC was made.
    let mut foreign = t.clone();
    let other = candid::Principal::from_slice(&[9; 10]);
    foreign.sign_with(&depot_api::keys::SignWith::Mac(depot_api::keys::bucket_mac_key(&SEED, other)));
    assert!(matches!(put(&mut fx, foreign, 1), Err(BucketError::Unauthorised { .. })));
    let mut widened = t.clone();
    widened.expires_at_ns += 1;
    assert!(matches!(put(&mut fx, widened, 1), Err(BucketError::Unauthorised { .. })));
    // The public-key-only `set_keys` of an earlier directory drops the MAC
    // keys: MAC tokens are refused, signed ones still store.
    let public = fx.store.config().keys.clone();
    fx.set_keys(directory(), public).unwrap();
    assert!(fx.store.config().mac_keys.is_empty());
    assert!(matches!(put(&mut fx, t, 1), Err(BucketError::Unauthorised { .. })));
    assert!(put(&mut fx, up.token(), 1).is_ok());
}

#[test]
fn only_the_directory_sets_the_key_ring_and_it_is_checked_whole() {
    use depot_api::keys::BucketKey;
    use depot_api::limits::MAX_SIGNING_KEYS;
    let mut fx = Fx::new(1 << 20);
    let before = fx.store.config().clone();
    let key = |kid, public: usize, mac: usize| BucketKey { kid, public_key: vec![7; public], mac_key: vec![8; mac] };
    let refused = |fx: &mut Fx, caller, ring: Vec<BucketKey>| fx.set_key_ring(caller, ring);
    assert!(matches!(refused(&mut fx, alice(), vec![key(2, 32, 32)]), Err(BucketError::Unauthorised { .. })));
    for bad in [
        vec![key(2, 31, 32)],
        vec![key(2, 32, 31)],
        vec![key(2, 32, 33)],
        vec![key(2, 32, 32), key(3, 32, 0)],
        vec![key(2, 32, 32), key(2, 32, 32)],
        (0..=MAX_SIGNING_KEYS as u32).map(|k| key(k, 32, 32)).collect(),
    ] {
        assert!(matches!(refused(&mut fx, directory(), bad), Err(BucketError::InvalidRequest { .. })));
        assert_eq!(fx.store.config(), &before, "refused rings change nothing");
    }
    let most: Vec<BucketKey> = (0..MAX_SIGNING_KEYS as u32).map(|k| key(k, 32, 32)).collect();
    fx.set_key_ring(directory(), most).unwrap();
    let c = fx.store.config();
    assert_eq!(c.keys.len(), MAX_SIGNING_KEYS);
    assert_eq!(
        c.mac_keys.iter().map(|k| (k.kid, k.key)).collect::<Vec<_>>(),
        (0..MAX_SIGNING_KEYS as u32).map(|k| (k, [8; 32])).collect::<Vec<_>>()
    );
    // The MAC keys survive a reopen (an upgrade).
    fx.reopen();
    assert_eq!(fx.store.config().mac_keys.len(), MAX_SIGNING_KEYS);
}

/// A token issued before a delete stays valid for minutes: it must not
/// store the file again (the directory no longer counts those bytes).
#[test]
fn a_deleted_file_cannot_be_refilled_with_a_valid_token() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, 2 * CHUNK as usize + 5);
    up.upload(&mut fx);
    fx.delete_file(directory(), &up.file_id()).unwrap();
    let empty = fx.store.counters();
    assert_eq!(empty, Default::default());
    for i in 0..up.chunk_count() {
        assert!(
            matches!(up.put(&mut fx, i), Err(BucketError::Unauthorised { ref reason }) if reason.contains("deleted")),
            "chunk {i}"
        );
    }
    assert_eq!(fx.store.counters(), empty, "nothing stored");
    assert!(fx.store.file(&up.file).is_none());
    assert!(fx.list_chunks(alice(), &up.file_id()).is_err());
    // other files are unaffected
    Upload::new(2, 10).upload(&mut fx);
}

#[test]
fn an_aborted_upload_is_tombstoned_before_its_first_chunk() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, CHUNK as usize);
    assert_eq!(fx.delete_file(directory(), &up.file_id()), Err(BucketError::NotFound));
    assert!(matches!(up.put(&mut fx, 0), Err(BucketError::Unauthorised { .. })));
    assert_eq!(fx.store.counters(), Default::default());
    // a delete naming another owner changes nothing
    let other = Upload::new(2, 10);
    other.put(&mut fx, 0).unwrap();
    let wrong_owner = depot_api::FileId::new(bob(), other.file);
    let before = fx.store.counters();
    assert_eq!(fx.delete_file(directory(), &wrong_owner), Err(BucketError::NotFound));
    assert!(!fx.store.is_tombstoned(&other.file, NOW));
    assert_eq!(fx.store.counters(), before);
}

#[test]
fn tombstones_expire_after_every_token_and_are_pruned() {
    use crate::limits::{TOMBSTONE_TTL_NS, TOMBSTONES_PRUNED_PER_DELETE};
    let mut fx = Fx::new(1 << 30);
    for n in 0..10u8 {
        let _ = fx.delete_file(directory(), &Upload::new(n, 1).file_id());
    }
    assert_eq!(fx.store.tombstones_count(), 10);
    let key = Upload::new(0, 1).file;
    assert!(fx.store.is_tombstoned(&key, NOW + TOMBSTONE_TTL_NS - 1));
    assert!(!fx.store.is_tombstoned(&key, NOW + TOMBSTONE_TTL_NS));
    // a delete after the expiry prunes a bounded number of old tombstones
    let later = NOW + TOMBSTONE_TTL_NS;
    let _ = crate::logic::delete::delete_file_impl(&mut fx.store, directory(), later, &Upload::new(99, 1).file_id());
    assert_eq!(fx.store.tombstones_count(), 10 - TOMBSTONES_PRUNED_PER_DELETE as u64 + 1);
    assert_eq!(fx.store.prune_tombstones(later, usize::MAX), 10 - TOMBSTONES_PRUNED_PER_DELETE);
    assert_eq!(fx.store.tombstones_count(), 1, "the new one stays");
}

/// `inspect_message` admits exactly the chunks `put_chunk` would store:
/// every refusal of `put_chunk` is a refusal before the message is paid
/// for, and a chunk already stored is refused too.
#[test]
fn inspection_refuses_before_the_bucket_pays() {
    use crate::logic::put_chunk::inspect_put_chunk;
    let mut fx = Fx::new(CHUNK as u64 * 3);
    let up = Upload::new(1, CHUNK as usize * 3);
    let t = up.token();
    let args =
        |token: depot_api::token::UploadToken, i: u32, bytes: Vec<u8>| PutChunkArgs { token, chunk_index: i, bytes };
    let inspect =
        |fx: &Fx, a: &PutChunkArgs, caller, now| inspect_put_chunk(&fx.store, bucket_id(), caller, now, &a.as_ref());

    assert_eq!(inspect(&fx, &args(t.clone(), 0, up.chunk(0)), alice(), NOW), Ok(()));
    let mut garbage = t.clone();
    garbage.sig = vec![0; 64];
    assert!(matches!(
        inspect(&fx, &args(garbage, 0, up.chunk(0)), alice(), NOW),
        Err(BucketError::Unauthorised { .. })
    ));
    let mut unsigned = t.clone();
    unsigned.sig.clear();
    assert!(inspect(&fx, &args(unsigned, 0, up.chunk(0)), alice(), NOW).is_err());
    assert_eq!(
        inspect(&fx, &args(t.clone(), 0, up.chunk(0)), alice(), t.expires_at_ns),
        Err(BucketError::TokenExpired)
    );
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 0, up.chunk(0)), bob(), NOW),
        Err(BucketError::Unauthorised { .. })
    ));
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 3, vec![1]), alice(), NOW),
        Err(BucketError::ChunkNotAllowed { .. })
    ));
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 0, vec![0; CHUNK as usize + 1]), alice(), NOW),
        Err(BucketError::ChunkTooLarge { .. })
    ));
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 0, vec![0; 10]), alice(), NOW),
        Err(BucketError::ChunkSizeMismatch { .. })
    ));

    // stored once: the same chunk again is refused before it is paid for
    up.put(&mut fx, 0).unwrap();
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 0, up.chunk(0)), alice(), NOW),
        Err(BucketError::InvalidRequest { .. })
    ));
    assert_eq!(inspect(&fx, &args(t.clone(), 1, up.chunk(1)), alice(), NOW), Ok(()));

    // full bucket, read-only bucket, deleted file
    up.put(&mut fx, 1).unwrap();
    Upload::new(2, CHUNK as usize).put(&mut fx, 0).unwrap();
    assert!(matches!(
        inspect(&fx, &args(t.clone(), 2, up.chunk(2)), alice(), NOW),
        Err(BucketError::OutOfSpace { .. })
    ));
    fx.set_read_only(directory(), true).unwrap();
    assert_eq!(inspect(&fx, &args(t.clone(), 2, up.chunk(2)), alice(), NOW), Err(BucketError::ReadOnly));
    fx.set_read_only(directory(), false).unwrap();
    fx.delete_file(directory(), &up.file_id()).unwrap();
    assert!(matches!(inspect(&fx, &args(t, 0, up.chunk(0)), alice(), NOW), Err(BucketError::Unauthorised { .. })));
}
