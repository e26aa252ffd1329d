//! Shared state of the HTTP interface.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candid::Principal;

use crate::certification::{Certifier, RequestId};

use super::backend::Backend;
use super::error::ApiError;

/// Tunables of the HTTP interface.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a synchronous (v3/v4) call waits before answering 202.
    pub sync_call_timeout: Duration,
    /// Largest accepted request body (the IC's ingress limit is 2 MiB of
    /// payload; the envelope adds signatures and delegations).
    pub max_body_bytes: usize,
    /// Largest `arg` of a call or query.
    pub max_arg_bytes: usize,
    /// Mainnet's update latency, modelled: an update call's outcome
    /// becomes visible this long after it arrived (a v3/v4 call answers no
    /// sooner; a v2 call's `read_state` shows `processing` until then).
    /// On mainnet this is a consensus round or two, about 1–2 s. The
    /// message itself runs at once, so the order of effects is unchanged;
    /// only when clients see its outcome moves. Queries are not delayed.
    pub update_latency: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            sync_call_timeout: Duration::from_secs(10),
            max_body_bytes: 4 * 1024 * 1024,
            max_arg_bytes: 2 * 1024 * 1024,
            update_latency: Duration::ZERO,
        }
    }
}

/// Who sent an ingress message: only that sender may read its status.
#[derive(Debug, Clone, Copy)]
pub struct IngressOrigin {
    pub sender: Principal,
    pub canister: Principal,
    pub expiry: u64,
}

/// Everything the handlers share.
pub struct ApiState {
    pub backend: Arc<Mutex<dyn Backend>>,
    pub root_key_der: Vec<u8>,
    /// A copy of the backend's certifier (same keys, every subnet's), used
    /// outside the lock.
    pub certifier: Certifier,
    pub config: ApiConfig,
    origins: Mutex<HashMap<RequestId, IngressOrigin>>,
    /// Update calls whose outcome is hidden until the instant given
    /// (`ApiConfig::update_latency`).
    hidden_until: Mutex<HashMap<RequestId, Instant>>,
}

/// Prune the origin table when it grows past this many entries.
const ORIGINS_PRUNE_AT: usize = 100_000;

impl ApiState {
    pub fn new(backend: Arc<Mutex<dyn Backend>>, config: ApiConfig) -> Self {
        let certifier = lock(&backend).certifier().clone();
        let root_key_der = certifier.root_key_der();
        Self {
            backend,
            root_key_der,
            certifier,
            config,
            origins: Mutex::new(HashMap::new()),
            hidden_until: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` with the backend locked, on a blocking thread (canister
    /// execution can take a while and must not stall the async runtime).
    pub async fn with_backend<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Backend) -> T + Send + 'static,
    {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || f(&mut *lock(&backend)))
            .await
            .map_err(|e| ApiError::Internal(format!("backend task failed: {e}")))
    }

    pub fn remember_origin(&self, id: RequestId, origin: IngressOrigin, now_ns: u64) {
        let Ok(mut origins) = self.origins.lock() else { return };
        if origins.len() >= ORIGINS_PRUNE_AT {
            origins.retain(|_, o| o.expiry >= now_ns);
        }
        origins.entry(id).or_insert(origin);
    }

    pub fn origin(&self, id: &RequestId) -> Option<IngressOrigin> {
        self.origins.lock().ok().and_then(|o| o.get(id).copied())
    }

    /// Hides the outcome of `id` for `update_latency` from now.
    pub fn hide_outcome(&self, id: RequestId) {
        if self.config.update_latency.is_zero() {
            return;
        }
        let Ok(mut hidden) = self.hidden_until.lock() else { return };
        let now = Instant::now();
        hidden.retain(|_, until| *until > now);
        hidden.entry(id).or_insert(now + self.config.update_latency);
    }

    /// Whether the outcome of `id` may be shown yet.
    pub fn outcome_visible(&self, id: &RequestId) -> bool {
        self.visible_at(id).is_none_or(|until| Instant::now() >= until)
    }

    /// When the outcome of `id` becomes visible, if it is hidden at all.
    pub fn visible_at(&self, id: &RequestId) -> Option<Instant> {
        self.hidden_until.lock().ok().and_then(|h| h.get(id).copied())
    }
}

/// Locks the backend. A panic during execution poisons the lock, but each
/// execution is atomic (rolled back when it fails), so the state is usable.
pub fn lock(backend: &Mutex<dyn Backend>) -> std::sync::MutexGuard<'_, dyn Backend> {
    backend.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wall-clock time in nanoseconds: ingress expiry is the client's notion of time.
pub fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
