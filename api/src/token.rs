//! The upload token: a capability minted by the directory that
//! lets a client put chunks of one file straight into one bucket.
//!
//! The bucket verifies it locally (no call to the directory): signature by a
//! registered directory key, expiry against IC time, its own id, and that the
//! chunk index lies in `first_chunk..=last_chunk`. It carries the file's
//! geometry (size, chunk size) so the bucket can enforce exact chunk sizes,
//! and the declared SHA-256 so it can hash the file as chunks arrive.
//!
//! Signed payload (version 1), all integers big-endian, variable fields
//! length-prefixed with a u32:
//! `version u8 | kid u32 | upload_id | owner | file key (16) | bucket |
//!  chunk_size u32 | size_bytes u64 | chunk_count u32 | first_chunk u32 |
//!  last_chunk u32 | has_sha u8 [sha256 32] | expires_at_ns u64`
//! under the domain [`UPLOAD_TOKEN_DOMAIN`].

use crate::ids::FileId;
#[cfg(test)]
use crate::keys::PublicKeyInfo;
use crate::keys::{self, KeyId, KeyRing, SignWith, SignatureError};
use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

pub const UPLOAD_TOKEN_DOMAIN: &[u8] = b"depot-upload-token";
pub const UPLOAD_TOKEN_VERSION: u8 = 1;

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadToken {
    pub version: u8,
    pub kid: KeyId,
    #[serde(with = "serde_bytes")]
    pub upload_id: Vec<u8>,
    pub file_id: FileId,
    pub bucket: Principal,
    pub chunk_size: u32,
    pub size_bytes: u64,
    pub chunk_count: u32,
    pub first_chunk: u32,
    pub last_chunk: u32,
    pub sha256: Option<serde_bytes::ByteBuf>,
    pub expires_at_ns: u64,
    #[serde(with = "serde_bytes")]
    pub sig: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unsupported token version {0}")]
    Version(u8),
    #[error("token is for bucket {0}")]
    WrongBucket(Principal),
    #[error("token expired")]
    Expired,
    #[error("bad signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("malformed token: {0}")]
    Malformed(&'static str),
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

impl UploadToken {
    /// The canonical bytes covered by `sig`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.push(self.version);
        out.extend_from_slice(&self.kid.to_be_bytes());
        put_bytes(&mut out, &self.upload_id);
        put_bytes(&mut out, self.file_id.owner.as_slice());
        put_bytes(&mut out, &self.file_id.id);
        put_bytes(&mut out, self.bucket.as_slice());
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        out.extend_from_slice(&self.size_bytes.to_be_bytes());
        out.extend_from_slice(&self.chunk_count.to_be_bytes());
        out.extend_from_slice(&self.first_chunk.to_be_bytes());
        out.extend_from_slice(&self.last_chunk.to_be_bytes());
        match &self.sha256 {
            Some(h) => {
                out.push(1);
                put_bytes(&mut out, h);
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.expires_at_ns.to_be_bytes());
        out
    }

    /// Fills `sig` with the directory's Ed25519 signature.
    pub fn sign(&mut self, seed: &[u8; 32]) {
        self.sign_with(&SignWith::Ed25519(*seed));
    }

    /// Fills `sig` with the directory's signature or MAC (`keys`).
    pub fn sign_with(&mut self, with: &SignWith) {
        self.sig = keys::sign_with(with, UPLOAD_TOKEN_DOMAIN, &self.signing_payload());
    }

    /// Shape checks that need no key: lengths and chunk geometry.
    pub fn check_shape(&self) -> Result<(), TokenError> {
        if self.version != UPLOAD_TOKEN_VERSION {
            return Err(TokenError::Version(self.version));
        }
        if self.file_id.key().is_none() {
            return Err(TokenError::Malformed("file id must be 16 bytes"));
        }
        if self.chunk_size == 0 || self.chunk_count == 0 {
            return Err(TokenError::Malformed("empty geometry"));
        }
        if self.size_bytes.div_ceil(self.chunk_size as u64) != self.chunk_count as u64 {
            return Err(TokenError::Malformed("chunk count does not match size"));
        }
        if self.first_chunk > self.last_chunk || self.last_chunk >= self.chunk_count {
            return Err(TokenError::Malformed("bad chunk range"));
        }
        if self.sha256.as_ref().is_some_and(|h| h.len() != 32) {
            return Err(TokenError::Malformed("sha256 must be 32 bytes"));
        }
        Ok(())
    }

    /// Full verification as a bucket does it.
    pub fn verify<'a>(
        &self,
        keys: impl Into<KeyRing<'a>>,
        this_bucket: Principal,
        now_ns: u64,
    ) -> Result<(), TokenError> {
        self.check_shape()?;
        if self.bucket != this_bucket {
            return Err(TokenError::WrongBucket(self.bucket));
        }
        keys::verify(keys.into(), self.kid, UPLOAD_TOKEN_DOMAIN, &self.signing_payload(), &self.sig)?;
        // Expiry after the signature so a forged token never learns timing.
        if now_ns >= self.expires_at_ns {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FileKey;

    const SEED: [u8; 32] = [42; 32];

    fn keyset() -> Vec<PublicKeyInfo> {
        vec![PublicKeyInfo { kid: 3, key: keys::public_key(&SEED).to_vec() }]
    }

    fn bucket() -> Principal {
        Principal::from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 1, 1])
    }

    pub(crate) fn token() -> UploadToken {
        let mut t = UploadToken {
            version: 1,
            kid: 3,
            upload_id: vec![9; 16],
            file_id: FileId::new(Principal::from_slice(&[7; 29]), FileKey([5; 16])),
            bucket: bucket(),
            chunk_size: 1024,
            size_bytes: 2500,
            chunk_count: 3,
            first_chunk: 0,
            last_chunk: 2,
            sha256: Some(serde_bytes::ByteBuf::from(vec![0xaa; 32])),
            expires_at_ns: 1_000,
            sig: vec![],
        };
        t.sign(&SEED);
        t
    }

    #[test]
    fn valid_token_verifies() {
        assert_eq!(token().verify(&keyset(), bucket(), 999), Ok(()));
    }

    #[test]
    fn expired_at_the_edge() {
        assert_eq!(token().verify(&keyset(), bucket(), 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn wrong_bucket_and_unknown_kid() {
        let other = Principal::from_slice(&[9; 10]);
        assert_eq!(token().verify(&keyset(), other, 0), Err(TokenError::WrongBucket(bucket())));
        let mut t = token();
        t.kid = 4;
        assert!(matches!(t.verify(&keyset(), bucket(), 0), Err(TokenError::Signature(SignatureError::UnknownKey(4)))));
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        type Mutation = Box<dyn Fn(&mut UploadToken)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|t| t.upload_id[0] ^= 1),
            Box::new(|t| t.file_id.owner = Principal::anonymous()),
            Box::new(|t| t.file_id.id[0] ^= 1),
            Box::new(|t| t.chunk_size = 1000),
            Box::new(|t| {
                t.size_bytes = 2049;
                t.chunk_count = 3;
            }),
            Box::new(|t| t.first_chunk = 1),
            Box::new(|t| t.last_chunk = 1),
            Box::new(|t| t.sha256 = None),
            Box::new(|t| t.expires_at_ns += 1),
        ];
        for m in mutations {
            let mut t = token();
            m(&mut t);
            assert!(
                matches!(t.verify(&keyset(), bucket(), 0), Err(TokenError::Signature(SignatureError::Invalid))),
                "{t:?}"
            );
        }
    }

    #[test]
    fn forged_signature_is_refused() {
        let mut t = token();
        t.sign(&[1; 32]);
        assert!(matches!(t.verify(&keyset(), bucket(), 0), Err(TokenError::Signature(_))));
        t.sig = vec![];
        assert!(matches!(t.verify(&keyset(), bucket(), 0), Err(TokenError::Signature(SignatureError::BadLength(0)))));
    }

    #[test]
    fn a_mac_token_verifies_only_in_its_bucket() {
        let key = keys::bucket_mac_key(&SEED, bucket());
        let mut t = token();
        t.sign_with(&SignWith::Mac(key));
        assert_eq!(t.sig.len(), keys::MAC_BYTES);
        let public = keyset();
        let macs = [keys::MacKey { kid: 3, key }];
        let ring = KeyRing { public: &public, mac: &macs };
        assert_eq!(t.verify(ring, bucket(), 999), Ok(()));
        assert_eq!(t.verify(ring, bucket(), 1_000), Err(TokenError::Expired));
        // Public keys alone cannot check it.
        assert_eq!(t.verify(&public, bucket(), 0), Err(TokenError::Signature(SignatureError::UnknownKey(3))));
        // Every field is covered by the MAC too.
        let mut m = t.clone();
        m.last_chunk = 1;
        assert_eq!(m.verify(ring, bucket(), 0), Err(TokenError::Signature(SignatureError::Invalid)));
        // A token re-pointed at another bucket holding that bucket's key.
        let other = Principal::from_slice(&[9; 10]);
        let mut moved = t.clone();
        moved.bucket = other;
        let other_macs = [keys::MacKey { kid: 3, key: keys::bucket_mac_key(&SEED, other) }];
        let other_ring = KeyRing { public: &public, mac: &other_macs };
        assert_eq!(moved.verify(other_ring, other, 0), Err(TokenError::Signature(SignatureError::Invalid)));
    }

    #[test]
    fn shape_errors() {
        let mut t = token();
        t.version = 2;
        assert_eq!(t.check_shape(), Err(TokenError::Version(2)));
        let mut t = token();
        t.chunk_count = 4;
        assert!(matches!(t.check_shape(), Err(TokenError::Malformed(_))));
        let mut t = token();
        t.last_chunk = 3;
        assert!(matches!(t.check_shape(), Err(TokenError::Malformed(_))));
        let mut t = token();
        t.file_id.id = vec![1];
        assert!(matches!(t.check_shape(), Err(TokenError::Malformed(_))));
    }
}
