//! Fetches the bucket's streaming-token secret (`Config::stream_key`, see
//! `http::token_mac`) from the management canister's `raw_rand` after an
//! install or upgrade that left the bucket without one, retrying until it
//! has one. Until then, streaming tokens go out unsealed and are checked
//! by their URL's signature.

use crate::logic::admin::set_stream_key_impl;
use crate::state;
use std::time::Duration;

/// Wait before retrying a failed `raw_rand`.
pub const RETRY_SECS: u64 = 10;

/// Sets a timer that fetches the secret, when the bucket has none.
pub fn ensure(delay: Duration) {
    if state::with_store(|s| s.config().stream_key.is_none()) {
        ic_cdk_timers::set_timer(delay, || ic_cdk::spawn(fetch()));
    }
}

async fn fetch() {
    let got = ic_cdk::api::management_canister::main::raw_rand().await;
    match got.map(|(bytes,)| <[u8; 32]>::try_from(bytes)) {
        Ok(Ok(key)) => state::with_store_mut(|s| set_stream_key_impl(s, key)),
        other => {
            ic_cdk::println!("raw_rand for the stream key failed ({other:?}); retrying in {RETRY_SECS} s");
            ensure(Duration::from_secs(RETRY_SECS));
        }
    }
}
