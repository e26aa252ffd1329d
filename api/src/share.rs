//! Share links: an owner's grant to anyone holding the share id to fetch
//! one file. The directory keeps them; a gateway turns
//! `https://<gateway>/s/<share-id>` into a fresh signed URL of the file
//! through `resolve_share` (docs/webapp.md).

use crate::FileId;
use crate::ids::ID_BYTES;
use candid::CandidType;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// A share id: 16 bytes from the directory's id generator, 128
/// unguessable bits, written as 32 lowercase hex digits in URLs and here.
pub type ShareIdText = String;

/// Placeholder replaced by the share id in `share_url_template`.
pub const SHARE_PLACEHOLDER: &str = "{share}";

/// The 16 bytes of a share id in its text form, or `None` when it is not
/// exactly 32 hex digits.
pub fn parse_share_id(text: &str) -> Option<[u8; ID_BYTES]> {
    if text.len() != 2 * ID_BYTES {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreateShareReq {
    pub file_id: FileId,
    /// The share stops working this long after its creation; none: until
    /// revoked. At most `MAX_SHARE_TTL_SECS`.
    pub expires_in_secs: Option<u64>,
    /// Browsers save the file rather than show it.
    pub download_only: bool,
    /// Resolutions allowed; none: any number. 1..=`MAX_SHARE_USES`.
    pub max_uses: Option<u32>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShareInfo {
    pub share_id: ShareIdText,
    pub file_id: FileId,
    /// The file's name now.
    pub name: String,
    pub created_at_ns: u64,
    pub expires_at_ns: Option<u64>,
    pub download_only: bool,
    pub max_uses: Option<u32>,
    /// Resolutions so far.
    pub uses: u32,
    /// The share page and the stable link that redirects to the file, from
    /// the directory's `share_url_template`; none when no gateway is
    /// configured.
    pub url: Option<String>,
    pub raw_url: Option<String>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ListSharesReq {
    /// `next` of the previous page.
    pub cursor: Option<ByteBuf>,
    pub limit: Option<u32>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListSharesRes {
    pub shares: Vec<ShareInfo>,
    pub next: Option<ByteBuf>,
}

/// What anyone holding a share id gets: the file's description and a
/// fresh signed URL.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ResolvedShare {
    pub name: String,
    pub mime: String,
    pub size_bytes: u64,
    pub sha256: Option<ByteBuf>,
    pub download_only: bool,
    /// Signed for `SHARE_URL_TTL_SECS`, never past the share's expiry:
    /// shown inline (a saved attachment when `download_only`).
    pub url: String,
    /// The same file, always as an attachment: a page's download button.
    pub download_url: String,
    pub expires_at_secs: u64,
}

/// Errors of the share methods: a type of their own, as `BillingError`
/// is, so that released clients of the file methods keep decoding.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// An unknown id, an id not in the share form and a revoked share get
    /// this one answer, so that ids cannot be probed; also an own file that
    /// does not exist.
    #[error("not found")]
    NotFound,
    /// The share expired or its uses are spent.
    #[error("gone: {reason}")]
    Gone { reason: String },
    #[error("unauthorised")]
    Unauthorised,
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    #[error("you have {limit} shares, the most one user may hold: revoke some")]
    TooManyShares { limit: u32 },
    #[error("this share is being opened too often: retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The owner's files are held back for non-payment.
    #[error("the file's owner has not paid for its storage")]
    PaymentRequired,
    #[error("service temporarily unavailable: {reason}")]
    ServiceTemporarilyUnavailable { reason: String },
}

pub type ShareResult = Result<ShareInfo, ShareError>;
pub type ListSharesResult = Result<ListSharesRes, ShareError>;
/// `true` when a share of the caller's was revoked; `false` when the id
/// names none (never, or no longer, or another user's).
pub type RevokeShareResult = Result<bool, ShareError>;
pub type ResolveShareResult = Result<ResolvedShare, ShareError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_ids_are_exactly_32_hex_digits() {
        let id = "00112233445566778899aabbccddeeff";
        assert_eq!(parse_share_id(id).map(hex::encode).as_deref(), Some(id));
        assert!(parse_share_id(&id.to_uppercase()).is_some());
        for bad in ["", "0011", &format!("{id}0"), &id[1..], "zz112233445566778899aabbccddeeff", "../etc/passwd"] {
            assert_eq!(parse_share_id(bad), None, "{bad:?}");
        }
    }
}
