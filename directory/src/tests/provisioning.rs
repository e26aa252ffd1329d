//! Bucket provisioning: the journal's steps, the pool, routing to pooled
//! buckets, file limits, refusals when no bucket can be made, top-ups.

use super::*;
use crate::lifecycle::count_reserved_files;
use crate::logic::fleet::{self, StatusRead};
use crate::logic::provisioning::{self as p, Means, Next};
use crate::model::provisioning::ProvisionStep;
use depot_api::limits::{MAX_PROVISION_ATTEMPTS, PROVISION_STALE_SECS};

const T: u128 = 1_000_000_000_000;

fn rich() -> Means {
    Means { balance: 100 * T, has_wasm: true }
}

fn fx_pool(target: u32, capacity: u64, max_files: u64) -> Fx {
    let mut fx = Fx::bare(DirectoryInit {
        bucket_pool_target: Some(target),
        bucket_capacity_bytes: Some(capacity),
        bucket_max_files: Some(max_files),
        start_upload_per_minute: Some(depot_api::limits::MAX_START_UPLOAD_PER_MINUTE),
        ..Default::default()
    });
    fx.initialise();
    fx
}

fn bucket_of(n: u64) -> Principal {
    Principal::from_slice(&[0xb0, n as u8, 1])
}

/// Runs the job's steps with a management canister that always succeeds,
/// numbering created buckets from `next_id`, until it has nothing to do.
fn run_job(fx: &mut Fx, means: Means, demand: bool, next_id: &mut u64) -> Vec<Principal> {
    let mut made = vec![];
    let mut demand = demand;
    loop {
        match p::next_step(&mut fx.s, means, std::mem::take(&mut demand), fx.now) {
            Next::Nothing => return made,
            Next::Create { seq, cycles } => {
                assert_eq!(cycles, fx.s.settings().fleet.creation_cycles);
                *next_id += 1;
                p::created(&mut fx.s, seq, bucket_of(*next_id), fx.now);
            }
            Next::Install { seq, .. } => p::installed(&mut fx.s, seq, fx.now),
            Next::Register { seq, bucket } => {
                let req = p::register_req(&fx.s, bucket);
                let version = fx.s.runtime().keys_version;
                let capacity = fx.s.settings().fleet.bucket_capacity_bytes;
                finish_register_bucket(&mut fx.s, &req, &stat(capacity, 0, false), version, true, fx.now).unwrap();
                p::registered(&mut fx.s, seq, bucket, Some([5; 32]));
                made.push(bucket);
            }
        }
        fx.books();
    }
}

#[test]
fn the_pool_fills_to_its_target_through_the_journal() {
    let mut fx = fx_pool(2, 10 * MIB, 100);
    let mut id = 0;
    let made = run_job(&mut fx, rich(), false, &mut id);
    assert_eq!(made, vec![bucket_of(1), bucket_of(2)]);
    assert_eq!(p::pool_ready(&fx.s), 2);
    assert!(fx.s.provisions.is_empty(), "registered buckets leave the journal");
    let b = fx.s.buckets.get(&bucket_of(1)).unwrap();
    assert!(b.in_pool && b.provisioned);
    assert_eq!(b.module_hash, Some(vec![5; 32]), "the module it was given");
    assert_eq!((b.soft_limit_bytes, b.hard_limit_bytes, b.max_files), (9 * MIB, 10 * MIB, 100));
    assert_eq!(fx.s.runtime().buckets_created, 2);
    // Full: nothing more to do.
    assert_eq!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Nothing);
}

#[test]
fn each_step_is_journaled_before_its_call() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let Next::Create { seq, .. } = p::next_step(&mut fx.s, rich(), false, fx.now) else { panic!("create") };
    assert_eq!(fx.s.provisions.get(&seq).unwrap().step, ProvisionStep::Creating);
    // While the creation is in flight, the pool counts it: no second one.
    assert_eq!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Nothing);
    p::created(&mut fx.s, seq, bucket_of(7), fx.now);
    // An install that fails is retried, as a reinstall, up to the limit.
    assert_eq!(
        p::next_step(&mut fx.s, rich(), false, fx.now),
        Next::Install { seq, bucket: bucket_of(7), reinstall: false }
    );
    p::step_failed(&mut fx.s, seq, "boom".into(), fx.now);
    assert_eq!(
        p::next_step(&mut fx.s, rich(), false, fx.now),
        Next::Install { seq, bucket: bucket_of(7), reinstall: true }
    );
    for _ in 1..MAX_PROVISION_ATTEMPTS {
        p::step_failed(&mut fx.s, seq, "boom".into(), fx.now);
    }
    // Out of attempts: left for the operator, and a new bucket is made
    // instead (the stuck one does not count as coming).
    let stats = p::stats(&fx.s, 100 * T);
    assert_eq!(stats.in_progress[0].attempts, MAX_PROVISION_ATTEMPTS);
    assert_eq!(stats.in_progress[0].last_error.as_deref(), Some("boom"));
    assert_eq!(stats.in_progress[0].bucket, Some(bucket_of(7)));
    assert!(matches!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Create { .. }));
}

#[test]
fn a_creation_whose_reply_was_lost_stops_counting_after_an_hour() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    assert!(matches!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Create { .. }));
    fx.advance_secs(PROVISION_STALE_SECS);
    assert_eq!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Nothing, "still within the hour");
    fx.advance_secs(1);
    assert!(matches!(p::next_step(&mut fx.s, rich(), false, fx.now), Next::Create { .. }));
    assert_eq!(p::stats(&fx.s, 0).in_progress.len(), 2, "the stale entry stays visible");
}

#[test]
fn uploads_use_buckets_in_use_first_then_the_pool() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let mut id = 0;
    run_job(&mut fx, rich(), false, &mut id);
    // The pooled bucket takes the first file and leaves the pool...
    let a = fx.start_ok(alice(), 4 * MIB);
    assert_eq!(a.bucket, bucket_of(1));
    assert!(!fx.s.buckets.get(&bucket_of(1)).unwrap().in_pool);
    assert!(p::pool_short(&fx.s));
    // ... the job replaces it, and the next file still goes to bucket 1,
    // which has room: the new pooled bucket stays empty.
    run_job(&mut fx, rich(), false, &mut id);
    let b = fx.start_ok(alice(), 4 * MIB);
    assert_eq!(b.bucket, bucket_of(1));
    assert_eq!(p::pool_ready(&fx.s), 1);
    // Bucket 1 is full at its soft limit (9 MiB): the pool takes the next.
    let c = fx.start_ok(alice(), 2 * MIB);
    assert_eq!(c.bucket, bucket_of(2));
    assert_eq!(p::pool_ready(&fx.s), 0);
}

#[test]
fn a_bucket_takes_no_more_files_than_its_limit_counting_uploads_in_progress() {
    let mut fx = fx_pool(0, 100 * MIB, 2);
    let mut id = 0;
    run_job(&mut fx, rich(), true, &mut id);
    let one = fx.start_ok(alice(), 1);
    fx.start_ok(alice(), 1);
    assert_eq!(fx.bucket_info(bucket_of(1)).reserved_files, 2);
    assert_eq!(fx.bucket_info(bucket_of(1)).state, BucketState::Draining, "at its file limit");
    let e = DirectoryError::ServiceTemporarilyUnavailable { reason: p::NO_ROOM_CREATING.into() };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 1));
    // Committing keeps the count; aborting frees a slot.
    fx.commit_ok(alice(), &one.upload_id);
    assert_eq!((fx.bucket_info(bucket_of(1)).files_count, fx.bucket_info(bucket_of(1)).reserved_files), (1, 1));
}

#[test]
fn without_means_to_create_a_bucket_start_upload_says_why_and_changes_nothing() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let reserve = fx.s.settings().fleet.directory_reserve_cycles;
    let creation = fx.s.settings().fleet.creation_cycles;
    // One cycle short of the reserve plus a creation.
    let poor = Means { balance: reserve + creation - 1, has_wasm: true };
    assert_eq!(p::next_step(&mut fx.s, poor, true, fx.now), Next::Nothing);
    let why = fx.s.runtime().provision_paused.clone().expect("paused");
    assert!(why.contains("under its reserve"), "{why}");
    let e = DirectoryError::ServiceTemporarilyUnavailable {
        reason: format!("no bucket has room for this file, and none can be created now: {why}"),
    };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 1));
    // At exactly the reserve plus a creation, it goes ahead.
    let enough = Means { balance: reserve + creation, has_wasm: true };
    assert!(matches!(p::next_step(&mut fx.s, enough, false, fx.now), Next::Create { .. }));
    assert_eq!(fx.s.runtime().provision_paused, None);
    // A build without the bucket wasm never creates.
    let mut fx = fx_pool(1, 10 * MIB, 100);
    assert_eq!(p::next_step(&mut fx.s, Means { balance: 100 * T, has_wasm: false }, true, fx.now), Next::Nothing);
    assert!(fx.s.runtime().provision_paused.as_deref().unwrap().contains("embeds no bucket wasm"));
}

#[test]
fn created_buckets_get_the_directory_and_the_operators_as_controllers() {
    let operator = Principal::from_slice(&[9, 9, 9]);
    let mut fx = Fx::bare(DirectoryInit { bucket_controllers: Some(vec![operator]), ..Default::default() });
    fx.initialise();
    let me = Principal::from_slice(&[1, 2, 3]);
    assert_eq!(p::controllers(&fx.s, me), vec![me, operator]);
    let init = p::bucket_init(&fx.s, me);
    assert_eq!((init.directory, init.keys.len()), (me, 1));
}

#[test]
fn buckets_under_the_threshold_are_topped_up_without_breaking_the_reserve() {
    let mut fx = fx_pool(2, 10 * MIB, 100);
    let mut id = 0;
    run_job(&mut fx, rich(), false, &mut id);
    let f = fx.s.settings().fleet.clone();
    let batch = fleet::next_batch(&mut fx.s, 1);
    assert_eq!(batch, vec![bucket_of(1)]);
    assert_eq!(fleet::next_batch(&mut fx.s, 5), vec![bucket_of(2), bucket_of(1)], "wraps around");
    // Buckets registered by hand are read too (the read fails unless the
    // directory controls them).
    fx.add_bucket(bucket(9), GIB, GIB);
    assert!(fleet::next_batch(&mut fx.s, 5).contains(&bucket(9)));
    // No idle burn and no freezing threshold: the settings alone decide.
    let low = |c| StatusRead::Read {
        cycles: c,
        module_hash: Some(vec![7; 32]),
        idle_cycles_per_day: 0,
        freezing_threshold_secs: 0,
    };
    let enough = f.directory_reserve_cycles + f.top_up_cycles;
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), low(f.top_up_threshold_cycles), enough, fx.now), None);
    let under = f.top_up_threshold_cycles - 1;
    // Same instant: no burn measured, the settings' threshold and amount.
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), low(under), enough - 1, fx.now), None, "reserve kept");
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), low(under), enough, fx.now), Some(f.top_up_cycles));
    fleet::topped_up(&mut fx.s, bucket_of(1), f.top_up_cycles);
    let info = fx.bucket_info(bucket_of(1));
    assert_eq!(info.cycles, Some((under + f.top_up_cycles).into()));
    assert_eq!(info.module_hash.map(|h| h.into_vec()), Some(vec![7; 32]));
    assert_eq!(fx.s.runtime().top_up_cycles_sent, f.top_up_cycles);
    // A failed read changes nothing.
    let before = fx.digest();
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), StatusRead::Failed("x".into()), enough, fx.now), None);
    assert_eq!(fx.digest(), before);
}

#[test]
fn reserved_files_are_counted_once_from_the_sessions_after_an_upgrade() {
    let mut fx = Fx::new();
    fx.start_ok(alice(), 10);
    fx.start_ok(alice(), 10);
    // As a record written before the counter existed would decode.
    let mut b = fx.s.buckets.get(&bucket(1)).unwrap();
    b.reserved_files = 0;
    fx.s.put_bucket(bucket(1), b);
    fx.s.update_runtime(|rt| rt.reserved_files_counted = false);
    count_reserved_files(&mut fx.s);
    assert_eq!(fx.bucket_info(bucket(1)).reserved_files, 2);
    fx.books();
    count_reserved_files(&mut fx.s);
    assert_eq!(fx.bucket_info(bucket(1)).reserved_files, 2, "once");
}

#[test]
fn a_file_no_bucket_could_ever_hold_is_refused_as_too_large_and_makes_no_bucket() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let mut id = 0;
    run_job(&mut fx, rich(), false, &mut id);
    // A new bucket's soft limit (9 MiB) is the largest file it can take.
    let e = DirectoryError::InvalidSize { size: 9 * MIB + 1, min: depot_api::limits::MIN_FILE_SIZE, max: 9 * MIB };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 9 * MIB + 1));
    assert_eq!(fx.start_ok(alice(), 9 * MIB).bucket, bucket_of(1), "at the edge it fits");
    // Demand without a fitting bucket makes at most the pool's one.
    run_job(&mut fx, rich(), true, &mut id);
    run_job(&mut fx, rich(), true, &mut id);
    assert_eq!(fx.s.buckets.len(), 2);
}

#[test]
fn metrics_show_the_books_the_fleet_and_the_jobs() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let mut id = 0;
    run_job(&mut fx, rich(), false, &mut id);
    fx.ready_file(alice(), 1000);
    run_job(&mut fx, rich(), false, &mut id);
    crate::metrics::job_ran("maintenance", 7_000_000_000);
    let sys = crate::metrics::System { now_ns: 9_000_000, cycles: 42, heap_bytes: 1, stable_bytes: 2 };
    let text = String::from_utf8(crate::metrics::encode(&fx.s, &sys).unwrap()).unwrap();
    let b1 = bucket_of(1).to_text();
    for line in [
        "depot_directory_stored_bytes 1000 9".to_string(),
        "depot_directory_files 1 9".into(),
        "depot_directory_cycles 42 9".into(),
        "depot_directory_pool_ready 1 9".into(),
        "depot_directory_buckets_created_total 2 9".into(),
        "depot_directory_buckets{state=\"writable\"} 2 9".into(),
        format!("depot_directory_bucket_files{{bucket=\"{b1}\"}} 1 9"),
        "depot_directory_job_last_run_seconds{job=\"maintenance\"} 7 9".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(!text.contains(&alice().to_text()), "no user is named");
}

#[test]
fn the_top_up_threshold_follows_each_buckets_measured_burn() {
    let mut fx = fx_pool(1, 10 * MIB, 100);
    let mut id = 0;
    run_job(&mut fx, rich(), false, &mut id);
    let read = |cycles| StatusRead::Read {
        cycles,
        module_hash: None,
        idle_cycles_per_day: T / 10,
        freezing_threshold_secs: 30 * 86_400,
    };
    // First read: only the idle burn is known. Freezing limit 3 T, plus a
    // week of 0.1 T a day: topped up under 3.7 T, by a month of burn (3 T).
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), read(10 * T), 1000 * T, fx.now), None);
    let info = fx.bucket_info(bucket_of(1));
    assert_eq!(info.top_up_below_cycles, Some((37 * T / 10).into()));
    assert_eq!(info.burn_cycles_per_day, Some((T / 10).into()));
    // A day later it holds 1 T less: it burns 1 T a day (traffic), so it
    // is topped up under 3 T + 7 T, by 30 T.
    fx.advance_secs(86_400);
    assert_eq!(fleet::record_status(&mut fx.s, bucket_of(1), read(9 * T), 1000 * T, fx.now), Some(30 * T));
    assert_eq!(fx.bucket_info(bucket_of(1)).top_up_below_cycles, Some((10 * T).into()));
    let (below, amount) = fleet::top_up_plan(0, 0, 0, &fx.s.settings().fleet);
    assert_eq!((below, amount), (fx.s.settings().fleet.top_up_threshold_cycles, fx.s.settings().fleet.top_up_cycles));
}
