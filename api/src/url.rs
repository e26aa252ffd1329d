//! Signed download URLs.
//!
//! Form: `https://<bucket host>/f/<file-key-hex>?exp=<unix-seconds>&kid=<k>&sig=<base64url>[&dl=1]`
//!
//! - `<file-key-hex>`: the 16-byte file key, 32 lowercase hex digits.
//! - `exp`: expiry in Unix seconds; the URL is refused from that second on.
//! - `kid`: the directory key that signed it.
//! - `sig`: base64url without padding: the directory's Ed25519 signature
//!   (86 characters), or its HMAC-SHA256 under the bucket's own MAC key
//!   (43 characters; `keys`).
//! - `dl=1`: serve with `Content-Disposition: attachment` (signed too, so a
//!   link cannot be switched between inline and attachment).
//!
//! Signed payload (version 1) under [`DOWNLOAD_URL_DOMAIN`]:
//! `version u8 | len u32 | bucket principal | file key (16) | exp u64 | dl u8`.
//! The bucket principal is inside, so a URL for one bucket fails on another.
//! Parameters may come in any order; unknown ones are ignored (cache busters),
//! repeated known ones are refused.

use crate::ids::FileKey;
#[cfg(test)]
use crate::keys::PublicKeyInfo;
use crate::keys::{self, KeyId, KeyRing, SignWith, SignatureError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

pub const DOWNLOAD_URL_DOMAIN: &[u8] = b"depot-download-url";
pub const DOWNLOAD_URL_VERSION: u8 = 1;
/// Path prefix of file URLs on a bucket.
pub const FILE_PATH_PREFIX: &str = "/f/";

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Disposition {
    #[default]
    Inline,
    Attachment,
}

/// What a download URL grants, before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlGrant {
    pub bucket: Principal,
    pub file: FileKey,
    pub expires_at_secs: u64,
    pub disposition: Disposition,
}

/// A parsed, not yet verified, download request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    pub file: FileKey,
    pub expires_at_secs: u64,
    pub kid: KeyId,
    pub sig: Vec<u8>,
    pub disposition: Disposition,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The path is not `/f/<32 hex>`: answered 404, not 403.
    #[error("not a file URL")]
    NotAFileUrl,
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("bad parameter {0}")]
    Bad(&'static str),
    #[error("repeated parameter {0}")]
    Repeated(&'static str),
    #[error("URL expired")]
    Expired,
    #[error("bad signature: {0}")]
    Signature(#[from] SignatureError),
}

impl UrlGrant {
    pub fn signing_payload(&self) -> Vec<u8> {
        let bucket = self.bucket.as_slice();
        let mut out = Vec::with_capacity(64);
        out.push(DOWNLOAD_URL_VERSION);
        out.extend_from_slice(&(bucket.len() as u32).to_be_bytes());
        out.extend_from_slice(bucket);
        out.extend_from_slice(&self.file.0);
        out.extend_from_slice(&self.expires_at_secs.to_be_bytes());
        out.push(matches!(self.disposition, Disposition::Attachment) as u8);
        out
    }

    /// The path and query signed with the Ed25519 seed of `kid`.
    pub fn sign_path(&self, kid: KeyId, seed: &[u8; 32]) -> String {
        self.sign_path_with(kid, &SignWith::Ed25519(*seed))
    }

    /// The signed path and query, e.g. `/f/00…ff?exp=…&kid=…&sig=…`.
    pub fn sign_path_with(&self, kid: KeyId, with: &SignWith) -> String {
        let sig = keys::sign_with(with, DOWNLOAD_URL_DOMAIN, &self.signing_payload());
        let mut path = format!(
            "{FILE_PATH_PREFIX}{}?exp={}&kid={kid}&sig={}",
            self.file.to_hex(),
            self.expires_at_secs,
            URL_SAFE_NO_PAD.encode(sig)
        );
        if self.disposition == Disposition::Attachment {
            path.push_str("&dl=1");
        }
        path
    }
}

/// The file key of a `/f/<hex>` path (query ignored), if it is one.
pub fn file_key_of_path(path_and_query: &str) -> Option<FileKey> {
    // Bytes, not chars: both delimiters are ASCII, and a search by a
    // two-char pattern decodes UTF-8 (every certified response parses its
    // URL twice).
    let end = path_and_query.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(path_and_query.len());
    let path = &path_and_query[..end];
    FileKey::from_hex(path.strip_prefix(FILE_PATH_PREFIX)?)
}

fn set_once<T>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), UrlError> {
    if slot.is_some() {
        return Err(UrlError::Repeated(name));
    }
    *slot = Some(v);
    Ok(())
}

impl SignedUrl {
    /// Parses a request's path and query.
    pub fn parse(path_and_query: &str) -> Result<Self, UrlError> {
        let file = file_key_of_path(path_and_query).ok_or(UrlError::NotAFileUrl)?;
        let query = path_and_query.split_once('?').map(|(_, q)| q).unwrap_or("");
        let query = query.split('#').next().unwrap_or("");
        let (mut exp, mut kid, mut sig, mut dl) = (None, None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "exp" => set_once(&mut exp, v.parse::<u64>().map_err(|_| UrlError::Bad("exp"))?, "exp")?,
                "kid" => set_once(&mut kid, v.parse::<u32>().map_err(|_| UrlError::Bad("kid"))?, "kid")?,
                "sig" => set_once(&mut sig, URL_SAFE_NO_PAD.decode(v).map_err(|_| UrlError::Bad("sig"))?, "sig")?,
                "dl" => {
                    let d = match v {
                        "1" => Disposition::Attachment,
                        "0" => Disposition::Inline,
                        _ => return Err(UrlError::Bad("dl")),
                    };
                    set_once(&mut dl, d, "dl")?
                }
                _ => {}
            }
        }
        Ok(Self {
            file,
            expires_at_secs: exp.ok_or(UrlError::Missing("exp"))?,
            kid: kid.ok_or(UrlError::Missing("kid"))?,
            sig: sig.ok_or(UrlError::Missing("sig"))?,
            disposition: dl.unwrap_or_default(),
        })
    }

    /// Checks the signature for `bucket`, then the expiry against `now_secs`.
    pub fn verify<'a>(&self, keys: impl Into<KeyRing<'a>>, bucket: Principal, now_secs: u64) -> Result<(), UrlError> {
        self.verify_prepared(keys.into(), &[], bucket, now_secs)
    }

    /// `verify` with MAC keys prepared in advance (`keys::verify_prepared`).
    pub fn verify_prepared(
        &self,
        keys: KeyRing<'_>,
        prepared: &[keys::PreparedMac],
        bucket: Principal,
        now_secs: u64,
    ) -> Result<(), UrlError> {
        let grant =
            UrlGrant { bucket, file: self.file, expires_at_secs: self.expires_at_secs, disposition: self.disposition };
        keys::verify_prepared(keys, prepared, self.kid, DOWNLOAD_URL_DOMAIN, &grant.signing_payload(), &self.sig)?;
        if now_secs >= self.expires_at_secs {
            return Err(UrlError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [3; 32];

    fn keyset() -> Vec<PublicKeyInfo> {
        vec![PublicKeyInfo { kid: 7, key: keys::public_key(&SEED).to_vec() }]
    }

    fn grant(d: Disposition) -> UrlGrant {
        UrlGrant {
            bucket: Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
            file: FileKey([0x5a; 16]),
            expires_at_secs: 2_000,
            disposition: d,
        }
    }

    #[test]
    fn round_trip_inline_and_attachment() {
        for d in [Disposition::Inline, Disposition::Attachment] {
            let g = grant(d);
            let path = g.sign_path(7, &SEED);
            let parsed = SignedUrl::parse(&path).unwrap();
            assert_eq!(parsed.disposition, d);
            assert_eq!(parsed.verify(&keyset(), g.bucket, 1_999), Ok(()));
            assert_eq!(parsed.verify(&keyset(), g.bucket, 2_000), Err(UrlError::Expired));
        }
    }

    #[test]
    fn tampering_is_refused() {
        let g = grant(Disposition::Inline);
        let path = g.sign_path(7, &SEED);
        // switch to attachment
        let p = SignedUrl::parse(&format!("{path}&dl=1")).unwrap();
        assert!(matches!(p.verify(&keyset(), g.bucket, 0), Err(UrlError::Signature(_))));
        // other bucket
        let p = SignedUrl::parse(&path).unwrap();
        let other = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 1]);
        assert!(matches!(p.verify(&keyset(), other, 0), Err(UrlError::Signature(SignatureError::Invalid))));
        // extended expiry
        let p = SignedUrl::parse(&path.replace("exp=2000", "exp=3000")).unwrap();
        assert!(matches!(p.verify(&keyset(), g.bucket, 0), Err(UrlError::Signature(_))));
        // other file
        let p = SignedUrl::parse(&path.replace("/f/5a", "/f/5b")).unwrap();
        assert!(matches!(p.verify(&keyset(), g.bucket, 0), Err(UrlError::Signature(_))));
        // unknown kid
        let p = SignedUrl::parse(&path.replace("kid=7", "kid=8")).unwrap();
        assert!(matches!(p.verify(&keyset(), g.bucket, 0), Err(UrlError::Signature(SignatureError::UnknownKey(8)))));
    }

    #[test]
    fn mac_urls_verify_only_in_their_bucket() {
        let g = grant(Disposition::Attachment);
        let key = keys::bucket_mac_key(&SEED, g.bucket);
        let path = g.sign_path_with(7, &SignWith::Mac(key));
        let parsed = SignedUrl::parse(&path).unwrap();
        assert_eq!(parsed.sig.len(), keys::MAC_BYTES);
        let public = keyset();
        let macs = [keys::MacKey { kid: 7, key }];
        let ring = KeyRing { public: &public, mac: &macs };
        assert_eq!(parsed.verify(ring, g.bucket, 1_999), Ok(()));
        assert_eq!(parsed.verify(ring, g.bucket, 2_000), Err(UrlError::Expired));
        let inline = SignedUrl::parse(&path.replace("&dl=1", "&dl=0")).unwrap();
        assert_eq!(inline.verify(ring, g.bucket, 0), Err(UrlError::Signature(SignatureError::Invalid)));
        assert_eq!(parsed.verify(&public, g.bucket, 0), Err(UrlError::Signature(SignatureError::UnknownKey(7))));
    }

    #[test]
    fn parse_errors() {
        let hex = "5a".repeat(16);
        assert_eq!(SignedUrl::parse("/x"), Err(UrlError::NotAFileUrl));
        assert_eq!(SignedUrl::parse("/f/abc?exp=1"), Err(UrlError::NotAFileUrl));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}")), Err(UrlError::Missing("exp")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=1&kid=1")), Err(UrlError::Missing("sig")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=-1")), Err(UrlError::Bad("exp")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=99999999999999999999999")), Err(UrlError::Bad("exp")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=1&exp=2")), Err(UrlError::Repeated("exp")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=1&kid=1&sig=***")), Err(UrlError::Bad("sig")));
        assert_eq!(SignedUrl::parse(&format!("/f/{hex}?exp=1&kid=1&sig=AA&dl=2")), Err(UrlError::Bad("dl")));
        // unknown parameters are ignored
        let ok = SignedUrl::parse(&format!("/f/{hex}?v=3&exp=1&kid=1&sig=AA")).unwrap();
        assert_eq!(ok.sig, vec![0]);
    }
}
