//! The fleet job: reads the `canister_status` of the buckets the directory
//! created (it is their controller), records balance and module hash, and
//! tops up any bucket under the threshold, never taking the directory under
//! its reserve (docs/provisioning.md §4).

use crate::logic::fleet::{self, StatusRead};
use crate::{management, state};
use depot_api::limits::FLEET_STATUS_BATCH;

fn now() -> u64 {
    ic_cdk::api::time()
}

pub async fn run() {
    let batch = state::mutate(|s| fleet::next_batch(s, FLEET_STATUS_BATCH));
    for bucket in batch {
        let read = match management::bucket_status(bucket).await {
            Ok(st) => StatusRead::Read {
                cycles: st.cycles,
                module_hash: st.module_hash,
                idle_cycles_per_day: st.idle_cycles_per_day,
                freezing_threshold_secs: st.freezing_threshold_secs,
            },
            Err(e) => StatusRead::Failed(e.to_string()),
        };
        let top_up =
            state::mutate(|s| fleet::record_status(s, bucket, read, ic_cdk::api::canister_balance128(), now()));
        if let Some(cycles) = top_up
            && management::top_up(bucket, cycles).await.is_ok()
        {
            state::mutate(|s| fleet::topped_up(s, bucket, cycles));
        }
    }
    crate::metrics::job_ran("fleet", now());
}
