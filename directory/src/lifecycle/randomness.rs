//! Fetches the id generator's seed and the first signing key from the
//! management canister's `raw_rand`, retrying until both exist.

use crate::logic::keys::install_first_key;
use crate::state;
use std::time::Duration;

/// Wait before retrying a failed `raw_rand`.
pub const RETRY_SECS: u64 = 10;

pub fn schedule(delay: Duration) {
    ic_cdk_timers::set_timer(delay, || ic_cdk::spawn(initialise()));
}

/// 32 bytes from `raw_rand`.
pub async fn random_seed() -> Result<[u8; 32], String> {
    let (bytes,) = ic_cdk::api::management_canister::main::raw_rand()
        .await
        .map_err(|(code, msg)| format!("raw_rand rejected ({code:?}): {msg}"))?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("raw_rand returned {} bytes", b.len()))
}

async fn initialise() {
    match try_initialise().await {
        // With a signing key, new buckets can be given it: fill the pool.
        Ok(()) => crate::jobs::provision::kick(false),
        Err(e) => {
            ic_cdk::println!("initialisation failed, retrying in {RETRY_SECS} s: {e}");
            schedule(Duration::from_secs(RETRY_SECS));
        }
    }
}

async fn try_initialise() -> Result<(), String> {
    if state::read(|s| s.runtime().rng_seed.is_none()) {
        let seed = random_seed().await?;
        state::mutate(|s| {
            s.update_runtime(|rt| {
                if rt.rng_seed.is_none() {
                    rt.rng_seed = Some(seed);
                }
            })
        });
    }
    if state::read(|s| s.active_key().is_none()) {
        let seed = random_seed().await?;
        state::mutate(|s| install_first_key(s, seed, ic_cdk::api::time()));
    }
    Ok(())
}
