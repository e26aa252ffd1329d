//! The only place that calls bucket canisters. Each function is one call;
//! a rejected call becomes a `CallFailure`, a bucket's own error stays in
//! its typed result.

use crate::logic::CallFailure;
use candid::Principal;
use depot_api::bucket::{BucketStat, CommitFileArgs, CommitFileResult, DeleteFileArgs, DeleteFileResult, UnitResult};
use depot_api::keys::PublicKeyInfo;
use ic_cdk::api::call::{CallResult, RejectionCode};

fn failure((code, message): (RejectionCode, String)) -> CallFailure {
    CallFailure::Rejected { code, message }
}

fn unwrap<T>(r: CallResult<(T,)>) -> Result<T, CallFailure> {
    r.map(|(t,)| t).map_err(failure)
}

pub async fn commit_file(bucket: Principal, args: CommitFileArgs) -> Result<CommitFileResult, CallFailure> {
    unwrap(ic_cdk::call(bucket, "commit_file", (args,)).await)
}

pub async fn delete_file(bucket: Principal, args: DeleteFileArgs) -> Result<DeleteFileResult, CallFailure> {
    unwrap(ic_cdk::call(bucket, "delete_file", (args,)).await)
}

pub async fn set_keys(bucket: Principal, keys: Vec<PublicKeyInfo>) -> Result<UnitResult, CallFailure> {
    unwrap(ic_cdk::call(bucket, "set_keys", (keys,)).await)
}

pub async fn set_read_only(bucket: Principal, read_only: bool) -> Result<UnitResult, CallFailure> {
    unwrap(ic_cdk::call(bucket, "set_read_only", (read_only,)).await)
}

pub async fn stat(bucket: Principal) -> Result<BucketStat, CallFailure> {
    unwrap(ic_cdk::call(bucket, "stat", ()).await)
}
