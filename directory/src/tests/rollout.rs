//! Fleet upgrades: the rollout's canary, batches, failures and resumption.

use super::*;
use crate::logic::rollout::{self as r, Action};
use depot_api::directory::UpgradeBucketsReq;

const OLD: [u8; 32] = [1; 32];
const NEW: [u8; 32] = [2; 32];

/// `n` buckets the directory created, running `OLD`, and one registered
/// by hand whose status the directory could not read (not its to upgrade).
fn fleet(n: u8) -> Fx {
    let mut fx = Fx::bare(DirectoryInit::default());
    fx.initialise();
    for i in 1..=n {
        let req = RegisterBucketReq { id: bucket(i), soft_limit_bytes: GIB, hard_limit_bytes: GIB };
        let v = fx.s.runtime().keys_version;
        finish_register_bucket(&mut fx.s, &req, &stat(GIB, 0, false), v, true, fx.now).unwrap();
        let mut b = fx.s.buckets.get(&bucket(i)).unwrap();
        b.module_hash = Some(OLD.to_vec());
        fx.s.put_bucket(bucket(i), b);
    }
    fx.add_bucket(bucket(99), GIB, GIB);
    fx
}

fn req(batch: u32) -> UpgradeBucketsReq {
    UpgradeBucketsReq { batch_size: Some(batch) }
}

/// Runs one job run with every call succeeding except `fail` (bucket and
/// the action it fails at); returns the buckets upgraded in this run.
fn run(fx: &mut Fx, fail: Option<Action>) -> Vec<Principal> {
    let mut begun = 0;
    let budget = r::run_budget(&fx.s);
    let mut done = vec![];
    loop {
        let a = r::next(&mut fx.s, begun, budget);
        let outcome = match a {
            Action::Nothing => return done,
            Action::Stop(_) => {
                begun += 1;
                Ok(())
            }
            Action::Check(b) if Some(a) != fail => {
                done.push(b);
                Ok(())
            }
            _ => Ok(()),
        };
        let outcome = if Some(a) == fail { Err("boom".to_string()) } else { outcome };
        r::advance(&mut fx.s, outcome, fx.now);
    }
}

#[test]
fn a_canary_first_then_batches_until_every_created_bucket_runs_the_target() {
    let mut fx = fleet(5);
    let info = r::start(&mut fx.s, Some(NEW), &req(2), fx.now).unwrap();
    assert_eq!((info.total, info.canary, info.waiting), (5, Some(bucket(1)), 5), "the hand-registered one is not ours");
    assert_eq!(run(&mut fx, None), vec![bucket(1)], "the canary alone");
    assert_eq!(run(&mut fx, None), vec![bucket(2), bucket(3)]);
    assert_eq!(run(&mut fx, None), vec![bucket(4), bucket(5)]);
    let info = r::info(fx.s.rollout().unwrap());
    assert_eq!((info.upgraded, info.finished_at_ns), (5, Some(fx.now)));
    assert_eq!(fx.bucket_info(bucket(3)).module_hash.unwrap().into_vec(), NEW.to_vec());
    // Nothing left to do; a new rollout of the same module finds nothing.
    assert_eq!(run(&mut fx, None), vec![]);
    assert_eq!(r::start(&mut fx.s, Some(NEW), &req(2), fx.now).unwrap().total, 0);
}

#[test]
fn a_failed_bucket_is_started_again_and_pauses_the_rollout_until_resumed() {
    let mut fx = fleet(3);
    r::start(&mut fx.s, Some(NEW), &req(5), fx.now).unwrap();
    run(&mut fx, None);
    // Bucket 2's install fails: it is started again, and the rollout stops.
    let mut begun = 0;
    let budget = r::run_budget(&fx.s);
    let mut restarted = false;
    loop {
        let a = r::next(&mut fx.s, begun, budget);
        let outcome = match a {
            Action::Nothing => break,
            Action::Stop(_) => {
                begun += 1;
                Ok(())
            }
            Action::Install(b) if b == bucket(2) => Err("install refused".to_string()),
            Action::Restart(b) => {
                assert_eq!(b, bucket(2));
                restarted = true;
                Ok(())
            }
            _ => Ok(()),
        };
        r::advance(&mut fx.s, outcome, fx.now);
    }
    assert!(restarted, "never left stopped");
    let info = r::info(fx.s.rollout().unwrap());
    assert_eq!((info.upgraded, info.waiting, info.current.clone()), (1, 1, None), "bucket 3 waits");
    assert_eq!(info.failed[0].bucket, bucket(2));
    assert!(info.failed[0].error.contains("installing: install refused"), "{:?}", info.failed);
    assert!(info.paused_reason.unwrap().contains("admin_upgrade_buckets"));
    assert_eq!(run(&mut fx, None), vec![], "paused");
    // Calling again resumes, the failed bucket first.
    let info = r::start(&mut fx.s, Some(NEW), &req(5), fx.now).unwrap();
    assert_eq!((info.paused_reason, info.waiting, info.failed.len()), (None, 2, 0));
    assert_eq!(run(&mut fx, None), vec![bucket(2), bucket(3)]);
}

#[test]
fn a_rollout_under_way_is_not_restarted_and_bad_requests_change_nothing() {
    let mut fx = fleet(2);
    let e = DirectoryError::InvalidRequest { reason: "batch_size must be in 1..=50".into() };
    assert_err_unchanged(&mut fx, e.clone(), |fx| r::start(&mut fx.s, Some(NEW), &req(0), fx.now));
    assert_err_unchanged(&mut fx, e, |fx| r::start(&mut fx.s, Some(NEW), &req(51), fx.now));
    let none =
        DirectoryError::ServiceTemporarilyUnavailable { reason: "this directory build embeds no bucket wasm".into() };
    assert_err_unchanged(&mut fx, none, |fx| r::start(&mut fx.s, None, &req(1), fx.now));
    r::start(&mut fx.s, Some(NEW), &req(1), fx.now).unwrap();
    assert_eq!(r::next(&mut fx.s, 0, 1), Action::Stop(bucket(1)));
    r::advance(&mut fx.s, Ok(()), fx.now);
    let before = fx.digest();
    let info = r::start(&mut fx.s, Some(NEW), &req(1), fx.now).unwrap();
    assert_eq!(info.current, Some((bucket(1), "installing".into())));
    assert_eq!(fx.digest(), before, "the journal goes on where it was");
    assert_eq!(r::next(&mut fx.s, 0, 1), Action::Install(bucket(1)), "after an upgrade too: the step is stored");
}

#[test]
fn the_check_wants_the_target_module_and_an_answer() {
    assert_eq!(r::check(Some(&NEW), &NEW, Ok(())), Ok(()));
    assert!(r::check(Some(&OLD), &NEW, Ok(())).is_err());
    assert!(r::check(None, &NEW, Ok(())).is_err());
    assert_eq!(r::check(Some(&NEW), &NEW, Err("stat: x".into())), Err("stat: x".into()));
}

#[test]
fn a_hand_registered_bucket_the_directory_controls_is_upgraded_too() {
    let mut fx = fleet(1);
    // The fleet job read its status: the operator made the directory a
    // controller.
    let mut b = fx.s.buckets.get(&bucket(99)).unwrap();
    b.module_hash = Some(OLD.to_vec());
    fx.s.put_bucket(bucket(99), b);
    let info = r::start(&mut fx.s, Some(NEW), &req(5), fx.now).unwrap();
    assert_eq!(info.total, 2);
    run(&mut fx, None);
    assert_eq!(run(&mut fx, None), vec![bucket(99)]);
}
