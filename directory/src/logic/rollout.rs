//! Rolling the embedded bucket wasm out to the fleet (docs/provisioning.md
//! §5): a canary first, then batches; each bucket stopped, upgraded,
//! started and checked. Pure: `jobs::rollout` makes the calls in between.

use super::{invalid, unavailable};
use crate::model::State;
use crate::model::rollout::{Rollout, UpgradeStep};
use candid::Principal;
use depot_api::DirectoryError;
use depot_api::directory::{RolloutFailure, RolloutInfo, UpgradeBucketsReq};
use depot_api::limits::{DEFAULT_ROLLOUT_BATCH, MAX_ROLLOUT_BATCH};
use serde_bytes::ByteBuf;

/// The call the job makes next for `bucket`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Stop(Principal),
    Install(Principal),
    Start(Principal),
    Check(Principal),
    Restart(Principal),
    Nothing,
}

pub fn info(r: &Rollout) -> RolloutInfo {
    RolloutInfo {
        target_sha256: ByteBuf::from(r.target_sha256.to_vec()),
        started_at_ns: r.started_at_ns,
        finished_at_ns: r.finished_at_ns,
        batch_size: r.batch_size,
        canary: r.canary,
        total: r.total,
        upgraded: r.upgraded,
        waiting: r.waiting.len() as u64,
        current: r.current.as_ref().map(|(b, step, _)| (*b, step.name().to_string())),
        failed: r
            .failed
            .iter()
            .map(|(bucket, error)| RolloutFailure { bucket: *bucket, error: error.clone() })
            .collect(),
        paused_reason: r.paused_reason.clone(),
    }
}

/// `admin_upgrade_buckets`: starts a rollout of `target` to every bucket the
/// directory controls (it created it, or it could read its status) whose
/// last known module differs; with a rollout under way it changes nothing,
/// and a paused one resumes, failed buckets first.
pub fn start(
    state: &mut State,
    target: Option<[u8; 32]>,
    req: &UpgradeBucketsReq,
    now_ns: u64,
) -> Result<RolloutInfo, DirectoryError> {
    let target = target.ok_or_else(|| unavailable("this directory build embeds no bucket wasm"))?;
    let batch_size = req.batch_size.unwrap_or(DEFAULT_ROLLOUT_BATCH);
    if !(1..=MAX_ROLLOUT_BATCH).contains(&batch_size) {
        return Err(invalid(format!("batch_size must be in 1..={MAX_ROLLOUT_BATCH}")));
    }
    if let Some(r) = state.rollout().filter(|r| r.finished_at_ns.is_none() && r.target_sha256 == target) {
        let mut r = r.clone();
        if r.paused_reason.take().is_some() {
            let failed: Vec<Principal> = r.failed.drain(..).map(|(b, _)| b).collect();
            r.waiting.splice(0..0, failed);
            r.batch_size = batch_size;
            state.set_rollout(Some(r.clone()));
        }
        return Ok(info(&r));
    }
    let waiting: Vec<Principal> = state
        .buckets
        .iter()
        .filter(|e| {
            let b = e.value();
            (b.provisioned || b.module_hash.is_some()) && b.module_hash.as_deref() != Some(&target[..])
        })
        .map(|e| *e.key())
        .collect();
    let r = Rollout {
        target_sha256: target,
        started_at_ns: now_ns,
        finished_at_ns: waiting.is_empty().then_some(now_ns),
        batch_size,
        canary: waiting.first().copied(),
        canary_done: false,
        total: waiting.len() as u64,
        upgraded: 0,
        waiting,
        current: None,
        failed: vec![],
        paused_reason: None,
    };
    let out = info(&r);
    state.set_rollout(Some(r));
    Ok(out)
}

/// Buckets one job run may begin, fixed when the run starts: one (the
/// canary) until the canary is done, then `batch_size`. So the run that
/// upgrades the canary upgrades nothing else.
pub fn run_budget(state: &State) -> u32 {
    state.rollout().map_or(0, |r| if r.canary_done { r.batch_size } else { 1 })
}

/// The next call, beginning the next waiting bucket when none is under way
/// and `begun` (buckets begun in this run) is under the run's `budget`.
pub fn next(state: &mut State, begun: u32, budget: u32) -> Action {
    let Some(mut r) = state.rollout().cloned() else { return Action::Nothing };
    if r.finished_at_ns.is_some() || r.paused_reason.is_some() {
        return Action::Nothing;
    }
    if let Some((b, step, _)) = r.current {
        return match step {
            UpgradeStep::Stopping => Action::Stop(b),
            UpgradeStep::Installing => Action::Install(b),
            UpgradeStep::Starting => Action::Start(b),
            UpgradeStep::Checking => Action::Check(b),
            UpgradeStep::Restarting => Action::Restart(b),
        };
    }
    if begun >= budget || r.waiting.is_empty() {
        return Action::Nothing;
    }
    let b = r.waiting.remove(0);
    r.current = Some((b, UpgradeStep::Stopping, None));
    state.set_rollout(Some(r));
    Action::Stop(b)
}

/// The outcome of the call `next` named.
pub fn advance(state: &mut State, outcome: Result<(), String>, now_ns: u64) {
    let Some(mut r) = state.rollout().cloned() else { return };
    let Some((b, step, earlier)) = r.current.take() else { return };
    match (step, outcome) {
        (UpgradeStep::Restarting, restarted) => {
            let mut error = earlier.unwrap_or_default();
            if let Err(e) = restarted {
                error = format!("{error}; starting it again failed too: {e}");
            }
            r.paused_reason =
                Some(format!("bucket {b} failed: {error}. Fix it, then call admin_upgrade_buckets to resume"));
            r.failed.push((b, error));
        }
        (_, Err(e)) => r.current = Some((b, UpgradeStep::Restarting, Some(format!("{}: {e}", step.name())))),
        (UpgradeStep::Stopping, Ok(())) => r.current = Some((b, UpgradeStep::Installing, None)),
        (UpgradeStep::Installing, Ok(())) => r.current = Some((b, UpgradeStep::Starting, None)),
        (UpgradeStep::Starting, Ok(())) => r.current = Some((b, UpgradeStep::Checking, None)),
        (UpgradeStep::Checking, Ok(())) => {
            r.upgraded += 1;
            if r.canary == Some(b) {
                r.canary_done = true;
            }
            if let Some(mut rec) = state.buckets.get(&b) {
                rec.module_hash = Some(r.target_sha256.to_vec());
                state.put_bucket(b, rec);
            }
            if r.waiting.is_empty() {
                r.finished_at_ns = Some(now_ns);
            }
        }
    }
    state.set_rollout(Some(r));
}

/// The check of an upgraded bucket: it runs `target` and answers `stat`.
pub fn check(module_hash: Option<&[u8]>, target: &[u8; 32], stat_ok: Result<(), String>) -> Result<(), String> {
    if module_hash != Some(&target[..]) {
        return Err(format!("runs module {:?}, not the target", module_hash.map(hex_of)));
    }
    stat_ok
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
