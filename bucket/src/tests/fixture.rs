//! A bucket store on vector memory with a signing directory key.

use crate::http::certs::CertTree;
use crate::lifecycle::rebuild_certification;
use crate::logic::{self, CertChange};
use crate::model::BucketStore;
use crate::model::records::Config;
use candid::Principal;
use depot_api::bucket::*;
use depot_api::keys::{BucketKey, MacKey, PublicKeyInfo, SignWith, bucket_mac_key, public_key};
use depot_api::token::UploadToken;
use depot_api::url::{Disposition, UrlGrant};
use depot_api::{FileId, FileKey};
use ic_stable_structures::VectorMemory;
use sha2::{Digest, Sha256};

pub const SEED: [u8; 32] = [11; 32];
pub const KID: u32 = 1;
pub const NOW: u64 = 1_700_000_000_000_000_000;
pub const CHUNK: u32 = 1024;

/// This bucket's MAC key under the directory seed, as the directory derives it.
pub fn mac_key() -> [u8; 32] {
    bucket_mac_key(&SEED, bucket_id())
}

pub fn bucket_id() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 5, 1, 1])
}
pub fn directory() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}
pub fn alice() -> Principal {
    Principal::self_authenticating([1u8; 32])
}
pub fn bob() -> Principal {
    Principal::self_authenticating([2u8; 32])
}

pub struct Fx {
    pub store: BucketStore<VectorMemory>,
    pub raw: VectorMemory,
}

impl Fx {
    pub fn new(capacity: u64) -> Self {
        let raw = VectorMemory::default();
        let mut store = BucketStore::init(raw.clone());
        store.set_config(Config {
            directory: directory(),
            keys: vec![PublicKeyInfo { kid: KID, key: public_key(&SEED).to_vec() }],
            capacity_bytes: capacity,
            read_only: false,
            stream_key: None,
            response_format: None,
            mac_keys: vec![MacKey { kid: KID, key: mac_key() }],
        });
        Self { store, raw }
    }

    pub fn reopen(&mut self) {
        self.store = BucketStore::init(self.raw.clone());
    }

    /// The tree an upgrade rebuilds, from the store (which keeps the
    /// response sets it makes).
    pub fn certs(&mut self) -> CertTree {
        rebuild_certification(&mut self.store)
    }

    /// A tree with no file in it, of the store's response generation.
    pub fn empty_tree(&self) -> CertTree {
        CertTree::new(self.store.config().response_format.map_or(0, |f| f.generation))
    }

    /// Certifies one file whole, in one go.
    pub fn certify_file(&mut self, tree: &mut CertTree, key: &depot_api::FileKey) {
        assert!(tree.insert_file_until(&mut self.store, key, || false));
        tree.rehash();
    }

    // The logic's entry points, as the endpoints call them. `commit_file`
    // and `delete_file` report whether the certified files changed.

    pub fn put_chunk(
        &mut self,
        this_bucket: Principal,
        caller: Principal,
        args: PutChunkArgs,
        now: u64,
    ) -> PutChunkResult {
        logic::put_chunk::put_chunk_impl(&mut self.store, this_bucket, caller, now, args.as_ref())
    }

    pub fn commit_file(
        &mut self,
        caller: Principal,
        args: CommitFileArgs,
        now: u64,
    ) -> Result<(CommitFileOk, bool), depot_api::BucketError> {
        logic::commit::commit_file_impl(&mut self.store, caller, now, args)
            .map(|(ok, c)| (ok, c != CertChange::Unchanged))
    }

    pub fn delete_file(
        &mut self,
        caller: Principal,
        file_id: &FileId,
    ) -> Result<(DeleteFileOk, bool), depot_api::BucketError> {
        logic::delete::delete_file_impl(&mut self.store, caller, NOW, file_id)
            .map(|(ok, c)| (ok, c != CertChange::Unchanged))
    }

    pub fn get_chunk(&self, caller: Principal, args: &GetChunkArgs) -> Result<Vec<u8>, depot_api::BucketError> {
        logic::read::get_chunk_impl(&self.store, caller, args)
    }

    pub fn list_chunks(&self, caller: Principal, file_id: &FileId) -> ListChunksResult {
        logic::read::list_chunks_impl(&self.store, caller, file_id)
    }

    pub fn set_read_only(&mut self, caller: Principal, read_only: bool) -> UnitResult {
        logic::admin::set_read_only_impl(&mut self.store, caller, read_only)
    }

    pub fn set_keys(&mut self, caller: Principal, keys: Vec<PublicKeyInfo>) -> UnitResult {
        logic::admin::set_keys_impl(&mut self.store, caller, keys)
    }

    pub fn set_key_ring(&mut self, caller: Principal, ring: Vec<BucketKey>) -> UnitResult {
        logic::admin::set_key_ring_impl(&mut self.store, caller, ring)
    }
}

pub struct Upload {
    pub file: FileKey,
    pub owner: Principal,
    pub data: Vec<u8>,
    pub declare_sha: bool,
    pub chunk_size: u32,
}

impl Upload {
    pub fn new(n: u8, size: usize) -> Self {
        Self::with_chunk_size(n, size, CHUNK)
    }

    pub fn with_chunk_size(n: u8, size: usize, chunk_size: u32) -> Self {
        let data = (0..size).map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[0] ^ n).collect();
        Self { file: FileKey([n; 16]), owner: alice(), data, declare_sha: true, chunk_size }
    }

    pub fn file_id(&self) -> FileId {
        FileId::new(self.owner, self.file)
    }

    pub fn chunk_count(&self) -> u32 {
        (self.data.len() as u64).div_ceil(self.chunk_size as u64) as u32
    }

    pub fn token(&self) -> UploadToken {
        let mut t = UploadToken {
            version: 1,
            kid: KID,
            upload_id: vec![self.file.0[0]; 16],
            file_id: self.file_id(),
            bucket: bucket_id(),
            chunk_size: self.chunk_size,
            size_bytes: self.data.len() as u64,
            chunk_count: self.chunk_count(),
            first_chunk: 0,
            last_chunk: self.chunk_count().saturating_sub(1),
            sha256: self.declare_sha.then(|| serde_bytes::ByteBuf::from(Sha256::digest(&self.data).to_vec())),
            expires_at_ns: NOW + 600_000_000_000,
            sig: vec![],
        };
        t.sign(&SEED);
        t
    }

    /// The same token with the bucket's MAC instead of a signature.
    pub fn mac_token(&self) -> UploadToken {
        let mut t = self.token();
        t.sign_with(&SignWith::Mac(mac_key()));
        t
    }

    pub fn chunk(&self, i: u32) -> Vec<u8> {
        let s = i as usize * self.chunk_size as usize;
        self.data[s..(s + self.chunk_size as usize).min(self.data.len())].to_vec()
    }

    pub fn put(&self, fx: &mut Fx, i: u32) -> PutChunkResult {
        let args = PutChunkArgs { token: self.token(), chunk_index: i, bytes: self.chunk(i) };
        fx.put_chunk(bucket_id(), self.owner, args, NOW)
    }

    pub fn commit_args(&self) -> CommitFileArgs {
        CommitFileArgs {
            file_id: self.file_id(),
            upload_id: vec![self.file.0[0]; 16],
            name: "movie.mp4".into(),
            mime: "video/mp4".into(),
            // As the directory sends it: only for a file of 0 bytes.
            empty_file: self.data.is_empty().then(|| EmptyFile {
                chunk_size: self.chunk_size,
                sha256: self.declare_sha.then(|| serde_bytes::ByteBuf::from(Sha256::digest(&self.data).to_vec())),
            }),
        }
    }

    /// Puts every chunk and commits (looping over HashInProgress).
    pub fn upload(&self, fx: &mut Fx) -> CommitFileOk {
        for i in 0..self.chunk_count() {
            self.put(fx, i).unwrap();
        }
        loop {
            match fx.commit_file(directory(), self.commit_args(), NOW) {
                Ok((ok, _)) => return ok,
                Err(depot_api::BucketError::HashInProgress { .. }) => continue,
                Err(e) => panic!("commit failed: {e}"),
            }
        }
    }

    pub fn url(&self, exp_secs: u64, d: Disposition) -> String {
        UrlGrant { bucket: bucket_id(), file: self.file, expires_at_secs: exp_secs, disposition: d }
            .sign_path(KID, &SEED)
    }

    /// The same URL with the bucket's MAC instead of a signature.
    pub fn mac_url(&self, exp_secs: u64, d: Disposition) -> String {
        UrlGrant { bucket: bucket_id(), file: self.file, expires_at_secs: exp_secs, disposition: d }
            .sign_path_with(KID, &SignWith::Mac(mac_key()))
    }
}
