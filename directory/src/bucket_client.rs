//! The only place that calls bucket canisters. Each function is one call,
//! named through the typed descriptors of `depot_api::methods::bucket`; a
//! rejected call becomes a `CallFailure`, a bucket's own error stays in its
//! typed result.

use crate::logic::CallFailure;
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Principal};
use depot_api::bucket::{BucketStat, CommitFileArgs, CommitFileResult, DeleteFileArgs, DeleteFileResult, UnitResult};
use depot_api::keys::BucketKey;
use depot_api::methods::{Method, bucket as m};
use serde::de::DeserializeOwned;

/// Calls `method` of `bucket` with `args`.
pub async fn call<A, R>(bucket: Principal, method: Method<A, R>, args: A) -> Result<R, CallFailure>
where
    A: ArgumentEncoder,
    R: CandidType + DeserializeOwned,
{
    ic_cdk::call::<A, (R,)>(bucket, method.name, args)
        .await
        .map(|(r,)| r)
        .map_err(|(code, message)| CallFailure::Rejected { code, message })
}

pub async fn commit_file(bucket: Principal, args: CommitFileArgs) -> Result<CommitFileResult, CallFailure> {
    call(bucket, m::COMMIT_FILE, (args,)).await
}

pub async fn delete_file(bucket: Principal, args: DeleteFileArgs) -> Result<DeleteFileResult, CallFailure> {
    call(bucket, m::DELETE_FILE, (args,)).await
}

/// A bucket of an earlier release has no `set_key_ring`: the call is
/// rejected and the key-push job tries again after the rollout upgraded it.
pub async fn set_key_ring(bucket: Principal, ring: Vec<BucketKey>) -> Result<UnitResult, CallFailure> {
    call(bucket, m::SET_KEY_RING, (ring,)).await
}

pub async fn set_read_only(bucket: Principal, read_only: bool) -> Result<UnitResult, CallFailure> {
    call(bucket, m::SET_READ_ONLY, (read_only,)).await
}

pub async fn stat(bucket: Principal) -> Result<BucketStat, CallFailure> {
    call(bucket, m::STAT, ()).await
}

pub async fn set_suspended(
    bucket: Principal,
    args: depot_api::bucket::SetSuspendedArgs,
) -> Result<depot_api::bucket::SetSuspendedResult, CallFailure> {
    call(bucket, m::SET_SUSPENDED, (args,)).await
}
