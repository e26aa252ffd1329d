//! The `Devnet` struct: state of the whole local IC and its accessors.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use candid::Principal;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

use super::calls::{CallContext, CallContextId, Callback, CallbackId, Message};
use super::canister::{Canister, CanisterStatus};
use super::clock::Clock;
use super::ids;
use super::types::*;
use crate::certification::Certifier;
use crate::runtime::Runtime;

pub struct Devnet {
    pub(crate) runtime: Runtime,
    pub(crate) canisters: BTreeMap<Principal, Canister>,
    /// The next id index the root subnet hands out (`crate::subnets`).
    pub(crate) next_canister_index: u64,
    /// The same for every other subnet that has created a canister.
    pub(crate) next_subnet_indices: BTreeMap<usize, u64>,
    /// Subnets that management-canister ingress messages were routed to
    /// (by their effective canister id), until they run.
    pub(crate) ingress_subnets: HashMap<[u8; 32], usize>,
    pub(crate) queue: VecDeque<Message>,
    pub(crate) contexts: HashMap<CallContextId, CallContext>,
    pub(crate) next_context: CallContextId,
    pub(crate) callbacks: HashMap<CallbackId, Callback>,
    pub(crate) next_callback: CallbackId,
    pub(crate) ingress: HashMap<[u8; 32], RequestStatus>,
    /// Each ingress message's expiry, oldest first (`prune_ingress`).
    pub(crate) ingress_expiries: BTreeSet<(u64, [u8; 32])>,
    pub(crate) library_results: HashMap<u64, (Result<Vec<u8>, Reject>, u64)>,
    pub(crate) next_token: u64,
    pub(crate) config: DevnetConfig,
    pub(crate) certifier: Arc<Certifier>,
    pub(crate) clock: Clock,
    pub(crate) faults: Vec<Fault>,
    /// What `clear_faults` restores: (canister, status before, cycles taken).
    pub(crate) fault_undo: Vec<(Principal, Option<CanisterStatus>, u128)>,
    /// Routes whose messages are held back (`hold_messages`).
    pub(crate) holding: BTreeSet<Route>,
    /// Messages held back per route, oldest first.
    pub(crate) held: BTreeMap<Route, VecDeque<Message>>,
    /// Instructions of the most recent execution (any kind).
    pub(crate) last_instructions: u64,
    /// Cached from the certifier: every execution context carries them.
    pub(crate) root_key: Vec<u8>,
    pub(crate) subnet: Principal,
    /// Source of `raw_rand`: seeded from `DevnetConfig::seed`, if set.
    pub(crate) rng: StdRng,
    /// Messages executed per canister, method and kind (`counters.rs`).
    pub(crate) call_counters: super::counters::CallCounters,
}

// D2 keeps the devnet behind `Arc<Mutex<_>>` in an axum server.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Devnet>();
};

impl Devnet {
    /// # Panics
    /// If wasmtime cannot create an engine on this machine (a setup problem,
    /// not an input error).
    pub fn new(config: DevnetConfig) -> Self {
        let runtime = match Runtime::new() {
            Ok(r) => r,
            Err(e) => panic!("devnet cannot start wasmtime: {e}"),
        };
        let mut clock = match config.start_time_ns {
            Some(start) => Clock::starting_at(start),
            None => Clock::default(),
        };
        clock.now();
        let (certifier, rng) = match config.seed {
            Some(seed) => (Certifier::generate_with(&mut seeded_rng(seed, "keys")), seeded_rng(seed, "raw_rand")),
            None => (Certifier::new(), StdRng::from_entropy()),
        };
        let certifier = Arc::new(certifier.with_subnets(config.subnets));
        let (root_key, subnet) = (certifier.root_key_der(), certifier.subnet_id());
        Devnet {
            runtime,
            canisters: BTreeMap::new(),
            next_canister_index: 0,
            next_subnet_indices: BTreeMap::new(),
            ingress_subnets: HashMap::new(),
            queue: VecDeque::new(),
            contexts: HashMap::new(),
            next_context: 0,
            callbacks: HashMap::new(),
            next_callback: 0,
            ingress: HashMap::new(),
            ingress_expiries: BTreeSet::new(),
            library_results: HashMap::new(),
            next_token: 0,
            config,
            certifier,
            clock,
            faults: Vec::new(),
            fault_undo: Vec::new(),
            holding: BTreeSet::new(),
            held: BTreeMap::new(),
            last_instructions: 0,
            root_key,
            subnet,
            rng,
            call_counters: Default::default(),
        }
    }

    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// The certifier holding the root key that signs every certificate.
    pub fn certifier(&self) -> &Certifier {
        &self.certifier
    }

    pub fn root_key_der(&self) -> Vec<u8> {
        self.root_key.clone()
    }

    /// The root subnet's id.
    pub fn subnet_id(&self) -> Principal {
        self.subnet
    }

    /// Every subnet's id, the root subnet first.
    pub fn subnet_ids(&self) -> Vec<Principal> {
        self.certifier.subnets().iter().map(|s| s.id).collect()
    }

    /// The id of the subnet that owns canister `c`.
    pub fn subnet_of(&self, c: Principal) -> Principal {
        self.certifier.subnet_of(&c).id
    }

    // ---- time ----

    pub fn advance_time(&mut self, d: Duration) {
        self.clock.advance(d);
    }

    /// Sets devnet time (ns since the Unix epoch); it never goes backwards.
    pub fn set_time_ns(&mut self, ns: u64) {
        self.clock.set(ns);
    }

    pub fn time_ns(&self) -> u64 {
        self.clock.peek()
    }

    // ---- accessors ----

    pub fn canister_ids(&self) -> Vec<Principal> {
        self.canisters.keys().copied().collect()
    }

    pub fn canister_exists(&self, c: Principal) -> bool {
        self.canisters.contains_key(&c)
    }

    pub fn certified_data(&self, c: Principal) -> Option<Vec<u8>> {
        self.canisters.get(&c).map(|c| c.certified_data())
    }

    pub fn module_hash(&self, c: Principal) -> Option<[u8; 32]> {
        self.canisters.get(&c)?.instance.as_ref().map(|i| i.module.hash)
    }

    pub fn controllers(&self, c: Principal) -> Option<Vec<Principal>> {
        self.canisters.get(&c).map(|c| c.controllers.clone())
    }

    pub fn metadata(&self, c: Principal, name: &str) -> Option<(bool, Vec<u8>)> {
        self.canisters.get(&c)?.instance.as_ref()?.module.metadata.get(name).cloned()
    }

    /// Names of all metadata sections of the installed module.
    pub fn metadata_names(&self, c: Principal) -> Vec<String> {
        self.canisters
            .get(&c)
            .and_then(|c| c.instance.as_ref())
            .map(|i| i.module.metadata.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn cycle_balance(&self, c: Principal) -> u128 {
        self.canisters.get(&c).map(|c| c.cycles).unwrap_or(0)
    }

    pub fn add_cycles(&mut self, c: Principal, amount: u128) {
        if let Some(c) = self.canisters.get_mut(&c) {
            c.cycles = c.cycles.saturating_add(amount);
        }
    }

    pub fn stable_memory_size(&self, c: Principal) -> u64 {
        self.canisters.get(&c).and_then(|c| c.instance.as_ref()).map(|i| i.stable().size_bytes()).unwrap_or(0)
    }

    pub fn heap_size(&self, c: Principal) -> u64 {
        self.canisters.get(&c).and_then(|c| c.instance.as_ref()).map(|i| i.heap_bytes()).unwrap_or(0)
    }

    /// How the canister's executions are undone on its heap (`None`: no module).
    pub fn heap_rollback(&self, c: Principal) -> Option<crate::runtime::instance::HeapRollback> {
        self.canisters.get(&c).and_then(|c| c.instance.as_ref()).map(|i| i.heap_rollback())
    }

    pub fn canister_status(&self, c: Principal) -> Option<CanisterStatus> {
        self.canisters.get(&c).map(|c| c.status)
    }

    pub fn canister_version(&self, c: Principal) -> Option<u64> {
        self.canisters.get(&c).map(|c| c.version)
    }

    /// Instructions of all of `c`'s replicated executions (updates,
    /// callbacks, timers) since it was created; 0 for an unknown canister.
    pub fn executed_instructions(&self, c: Principal) -> u64 {
        self.canisters.get(&c).map(|c| c.executed_instructions).unwrap_or(0)
    }

    /// Ingress messages `c` admitted and paid the ingress fee for since it
    /// was created (HTTP interface and library `update` alike).
    pub fn ingress_admitted(&self, c: Principal) -> u64 {
        self.canisters.get(&c).map(|c| c.ingress_admitted).unwrap_or(0)
    }

    /// True between messages: nothing queued, held back or awaiting a
    /// reply. Timers that are not yet due do not count.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self.contexts.is_empty()
            && self.callbacks.is_empty()
            && self.held.values().all(|q| q.is_empty())
    }

    /// Instructions used by the most recent execution of any kind.
    pub fn last_instructions(&self) -> u64 {
        self.last_instructions
    }

    /// True if `c` is frozen: its balance is below its freezing limit.
    pub fn is_frozen(&self, c: Principal) -> bool {
        self.canisters.get(&c).is_some_and(|c| c.cycles < self.freeze_limit(c))
    }

    pub(crate) fn freeze_limit(&self, c: &Canister) -> u128 {
        self.config.fees.freeze_limit(c.memory_bytes(), c.freezing_threshold_secs)
    }

    // ---- canister creation (library API: provisional, no fee) ----

    /// New canisters get no id below index `n` (`ids::canister_id`): ids
    /// kept for canisters that a network has on mainnet (the NNS's).
    pub fn reserve_canister_ids_below(&mut self, n: u64) {
        self.next_canister_index = self.next_canister_index.max(n);
    }

    pub fn create_canister(
        &mut self,
        controller: Principal,
        cycles: u128,
        specified_id: Option<Principal>,
    ) -> Result<Principal, DevnetError> {
        self.create_canister_with_controllers(vec![controller], cycles, specified_id, 0)
    }

    /// Creates a canister on subnet `subnet` (0 is the root subnet; see
    /// `subnet_ids`), with the next id of that subnet's range.
    pub fn create_canister_on_subnet(
        &mut self,
        subnet: usize,
        controller: Principal,
        cycles: u128,
    ) -> Result<Principal, DevnetError> {
        self.create_canister_with_controllers(vec![controller], cycles, None, subnet)
    }

    /// Creates a canister at `specified_id`, or else on `subnet` at the
    /// next free id of its range.
    pub(crate) fn create_canister_with_controllers(
        &mut self,
        controllers: Vec<Principal>,
        cycles: u128,
        specified_id: Option<Principal>,
        subnet: usize,
    ) -> Result<Principal, DevnetError> {
        if controllers.len() > 10 {
            return Err(DevnetError::InvalidArgument("at most 10 controllers".into()));
        }
        let id = match specified_id {
            Some(id) => {
                if self.canisters.contains_key(&id) {
                    return Err(DevnetError::CanisterIdTaken(id));
                }
                if id == Principal::management_canister() || id.as_slice().len() > 29 || id == Principal::anonymous() {
                    return Err(DevnetError::InvalidArgument(format!("{id} cannot be a canister id")));
                }
                id
            }
            None => self.allocate_id(subnet)?,
        };
        let now = self.clock.now();
        let threshold = self.config.freezing_threshold_secs;
        self.canisters.insert(id, Canister::new(id, controllers, cycles, now, threshold));
        Ok(id)
    }

    /// The next free canister id of subnet `subnet`'s ranges.
    fn allocate_id(&mut self, subnet: usize) -> Result<Principal, DevnetError> {
        let n = self.certifier.subnets().len();
        if subnet >= n {
            return Err(DevnetError::InvalidArgument(format!("devnet runs {n} subnets; there is no subnet {subnet}")));
        }
        let next = match subnet {
            0 => self.next_canister_index,
            k => self.next_subnet_indices.get(&k).copied().unwrap_or(crate::subnets::first_index(k)),
        };
        let exhausted = || DevnetError::InvalidArgument(format!("subnet {subnet} has no canister ids left"));
        let mut index = crate::subnets::at_or_after(subnet, n, next).ok_or_else(exhausted)?;
        while self.canisters.contains_key(&ids::canister_id(index)) {
            index =
                index.checked_add(1).and_then(|i| crate::subnets::at_or_after(subnet, n, i)).ok_or_else(exhausted)?;
        }
        let after = index.saturating_add(1);
        match subnet {
            0 => self.next_canister_index = after,
            k => {
                self.next_subnet_indices.insert(k, after);
            }
        }
        Ok(ids::canister_id(index))
    }

    // ---- faults ----

    pub fn inject_fault(&mut self, f: Fault) {
        match &f {
            Fault::StopCanister(id) => {
                if let Some(c) = self.canisters.get_mut(id) {
                    self.fault_undo.push((*id, Some(c.status), 0));
                    c.status = CanisterStatus::Stopped;
                }
            }
            Fault::ExhaustCycles(id) => {
                if let Some(c) = self.canisters.get_mut(id) {
                    self.fault_undo.push((*id, None, c.cycles));
                    c.cycles = 0;
                }
            }
            Fault::TamperQueryReply { .. } | Fault::TrapMethod { .. } | Fault::RejectCall { .. } => {}
        }
        self.faults.push(f);
    }

    /// Removes every injected fault: canisters stopped by a fault get their
    /// earlier status back, drained cycles are given back (on top of what
    /// was added since).
    pub fn clear_faults(&mut self) {
        self.faults.clear();
        for (id, status, cycles) in std::mem::take(&mut self.fault_undo).into_iter().rev() {
            let Some(c) = self.canisters.get_mut(&id) else { continue };
            if let Some(s) = status
                && c.status == CanisterStatus::Stopped
            {
                c.status = s;
            }
            c.cycles = c.cycles.saturating_add(cycles);
        }
    }

    /// Uses up one call of a `TrapMethod` or `RejectCall` fault (`trap`
    /// picks which) that matches `canister` and `method`; true if one did.
    pub(crate) fn take_call_fault(&mut self, canister: Principal, method: &str, trap: bool) -> bool {
        let hit = self.faults.iter().position(|f| match f {
            Fault::TrapMethod { canister: c, method: m, times } if trap => *c == canister && m == method && *times > 0,
            Fault::RejectCall { canister: c, method: m, times } if !trap => *c == canister && m == method && *times > 0,
            _ => false,
        });
        let Some(i) = hit else { return false };
        if let Fault::TrapMethod { times, .. } | Fault::RejectCall { times, .. } = &mut self.faults[i] {
            *times -= 1;
            if *times == 0 {
                self.faults.remove(i);
            }
        }
        true
    }

    // ---- held messages (slow links, an upgrade between an await's halves) ----

    /// From now on the messages travelling `route` are held back instead of
    /// delivered: the requests `route.from` makes to `route.to`, and the
    /// responses `route.from` sends to calls `route.to` made (the callback
    /// waits). `tick` and `update` leave them waiting, in the order they were
    /// sent, until [`Devnet::release_messages`]; everything else keeps
    /// flowing, so the canisters can be stopped, upgraded or time moved in
    /// between. Ingress and library calls are requests from their sender;
    /// their answers are not messages and are never held. Queries are not
    /// affected.
    pub fn hold_messages(&mut self, route: Route) {
        self.holding.insert(route);
    }

    /// Stops holding `route` and queues the messages held on it, in the
    /// order they were sent, behind those already queued; the next `tick` or
    /// `update` delivers them (as it would have: a response to a canister
    /// that was upgraded meanwhile runs no callback, a request to a stopped
    /// canister is rejected). Returns how many were held.
    pub fn release_messages(&mut self, route: Route) -> usize {
        self.holding.remove(&route);
        let held = self.held.remove(&route).unwrap_or_default();
        let n = held.len();
        self.queue.extend(held);
        n
    }

    /// How many messages are held on `route` right now.
    pub fn held_messages(&self, route: Route) -> usize {
        self.held.get(&route).map_or(0, VecDeque::len)
    }

    /// The route `m` travels, if it has one (a response to a callback that
    /// no longer exists has none).
    pub(crate) fn route_of(&self, m: &Message) -> Option<Route> {
        match m {
            Message::Request { caller, callee, .. } => Some(Route::new(*caller, *callee)),
            Message::Response { callback, .. } => {
                self.callbacks.get(callback).map(|cb| Route::new(cb.call.callee, cb.canister))
            }
        }
    }

    pub fn request_status(&self, request_id: &[u8; 32]) -> Option<RequestStatus> {
        self.ingress.get(request_id).cloned()
    }
}

/// A generator for one purpose (`label`) derived from the devnet seed, so
/// that what one purpose draws does not shift what another gets. `StdRng`'s
/// algorithm is fixed for the `rand` version in Cargo.lock: the same seed
/// gives the same keys and bytes with the same build.
fn seeded_rng(seed: u64, label: &str) -> StdRng {
    let digest = Sha256::new().chain_update(b"depot-devnet ").chain_update(label).chain_update(seed.to_le_bytes());
    StdRng::from_seed(digest.finalize().into())
}
