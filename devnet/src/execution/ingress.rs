//! Entry points from outside: ingress messages, library update calls, ticks.

use candid::Principal;

use super::calls::{Message, Origin};
use super::devnet::Devnet;
use super::scheduler::out_of_cycles;
use super::types::*;
use crate::runtime::context::EntryKind;
use crate::runtime::instance::Entry;

/// inspect_message runs with the IC's 200 M instruction limit.
const INSPECT_INSTRUCTION_LIMIT: u64 = 200_000_000;
/// Rounds of due global timers per tick (timers may re-arm for "now").
const TIMER_ROUNDS_PER_TICK: usize = 100;

/// Management methods callable by ingress (the rest need a canister caller).
const MGMT_INGRESS_METHODS: &[&str] = &[
    "provisional_create_canister_with_cycles",
    "provisional_top_up_canister",
    "install_code",
    "install_chunked_code",
    "upload_chunk",
    "clear_chunk_store",
    "stored_chunks",
    "update_settings",
    "canister_status",
    "start_canister",
    "stop_canister",
    "delete_canister",
    "deposit_cycles",
    "uninstall_code",
    "canister_info",
];

/// How long a `done` status stays readable after its message expired,
/// before the request is forgotten (its status then reads as unknown).
pub const DONE_STATUS_RETENTION_NS: u64 = 5 * 60 * 1_000_000_000;

impl Devnet {
    /// Forgets what the IC forgets once an ingress message's expiry has
    /// passed at `now_ns` (wall-clock time, against which expiry is checked
    /// when a request arrives): a reply or reject becomes `done`, and
    /// [`DONE_STATUS_RETENTION_NS`] later the request is dropped. Messages
    /// still queued or running keep their status. The HTTP server calls this
    /// on every round, so a long-running devnet (and its saved state) does
    /// not grow with every request ever made.
    pub fn prune_ingress(&mut self, now_ns: u64) {
        let retention_end = now_ns.saturating_sub(DONE_STATUS_RETENTION_NS);
        let expired: Vec<(u64, [u8; 32])> = self.ingress_expiries.range(..(now_ns, [0; 32])).copied().collect();
        for (expiry, id) in expired {
            match self.ingress.get(&id) {
                None => {
                    self.ingress_expiries.remove(&(expiry, id));
                }
                Some(RequestStatus::Received | RequestStatus::Processing) => {}
                Some(RequestStatus::Done) if expiry < retention_end => {
                    self.ingress.remove(&id);
                    self.ingress_expiries.remove(&(expiry, id));
                }
                Some(RequestStatus::Done) => {}
                Some(RequestStatus::Replied(_) | RequestStatus::Rejected(_)) => {
                    self.ingress.insert(id, RequestStatus::Done);
                }
            }
        }
    }

    /// Accepts an ingress update call: checks the target, runs
    /// `canister_inspect_message`, charges the ingress fee and queues it.
    /// Processing happens on `tick` (or any `update`).
    pub fn submit_ingress(&mut self, msg: IngressMessage) -> Result<(), IngressRejected> {
        if self.ingress.contains_key(&msg.request_id) {
            return Ok(()); // a resubmission of a known request changes nothing
        }
        // `ingress_expiry` is checked by the HTTP layer against the wall
        // clock: devnet time may have been advanced far beyond it by tests.
        let now = self.clock.now();
        if msg.canister_id == Principal::management_canister() {
            if !MGMT_INGRESS_METHODS.contains(&msg.method_name.as_str()) {
                return Err(IngressRejected {
                    reject: Reject::new(
                        RejectCode::CanisterReject,
                        format!("management method '{}' cannot be called by ingress", msg.method_name),
                        Some("IC0406"),
                    ),
                });
            }
        } else {
            self.admit_ingress(&msg, now).map_err(|reject| IngressRejected { reject })?;
        }
        if msg.canister_id == Principal::management_canister()
            && msg.effective_canister_id != Principal::management_canister()
        {
            let subnet = crate::subnets::subnet_of(&msg.effective_canister_id, self.certifier.subnets().len());
            self.ingress_subnets.insert(msg.request_id, subnet);
        }
        self.ingress.insert(msg.request_id, RequestStatus::Received);
        self.ingress_expiries.insert((msg.ingress_expiry, msg.request_id));
        self.queue.push_back(Message::Request {
            caller: msg.sender,
            callee: msg.canister_id,
            method: msg.method_name,
            arg: msg.arg,
            cycles: 0,
            origin: Origin::Ingress(msg.request_id),
        });
        Ok(())
    }

    fn admit_ingress(&mut self, msg: &IngressMessage, now: u64) -> Result<(), Reject> {
        let id = msg.canister_id;
        let Some(c) = self.canisters.get(&id) else {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                format!("Canister {id} not found"),
                Some("IC0301"),
            ));
        };
        if c.status != super::canister::CanisterStatus::Running {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {id} is not running"),
                Some("IC0508"),
            ));
        }
        let Some(inst) = c.instance.as_ref() else {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {id} has no wasm module"),
                Some("IC0537"),
            ));
        };
        let m = &inst.module.methods;
        if !m.updates.contains(&msg.method_name) && !m.queries.contains(&msg.method_name) {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {id} has no update method '{}'", msg.method_name),
                Some("IC0536"),
            ));
        }
        let inspect = m.inspect_message;
        let fee = self.config.fees.ingress_fee(msg.method_name.len(), msg.arg.len());
        if c.cycles < self.freeze_limit(c).saturating_add(fee) {
            return Err(out_of_cycles(id, c.cycles));
        }
        if inspect {
            let mut ctx = self.exec_context(id, EntryKind::InspectMessage, msg.sender, now);
            ctx.method_name = msg.method_name.clone();
            ctx.arg = msg.arg.clone();
            let Some(inst) = self.canisters.get_mut(&id).and_then(|c| c.instance.as_mut()) else {
                return Err(Reject::new(RejectCode::CanisterError, "no module", Some("IC0537")));
            };
            let cp = inst.checkpoint();
            let res = inst.run(&Entry::Export("canister_inspect_message".into()), ctx, INSPECT_INSTRUCTION_LIMIT);
            inst.rollback(cp);
            if let Some(t) = res.trap {
                return Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {id} trapped in inspect_message: {t}"),
                    Some("IC0503"),
                ));
            }
            if !res.ctx.message_accepted {
                return Err(Reject::new(
                    RejectCode::CanisterReject,
                    format!("Canister {id} rejected the message in inspect_message"),
                    Some("IC0406"),
                ));
            }
        }
        if let Some(c) = self.canisters.get_mut(&id) {
            c.cycles -= fee.min(c.cycles);
            c.ingress_admitted += 1;
        }
        Ok(())
    }

    /// Calls `method` as `sender` (like an ingress update without
    /// inspect_message) and runs the queue until everything settled,
    /// downstream calls included.
    pub fn update(
        &mut self,
        sender: Principal,
        canister: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<CallOutcome, DevnetError> {
        let token = self.next_token;
        self.next_token += 1;
        if let Some(c) = self.canisters.get(&canister) {
            let fee = self.config.fees.ingress_fee(method.len(), arg.len());
            if c.cycles < self.freeze_limit(c).saturating_add(fee) {
                return Ok(CallOutcome { result: Err(out_of_cycles(canister, c.cycles)), instructions: 0 });
            }
            if let Some(c) = self.canisters.get_mut(&canister) {
                c.cycles -= fee;
                c.ingress_admitted += 1;
            }
        }
        self.queue.push_back(Message::Request {
            caller: sender,
            callee: canister,
            method: method.to_string(),
            arg: arg.to_vec(),
            cycles: 0,
            origin: Origin::Library(token),
        });
        self.run_queue();
        match self.library_results.remove(&token) {
            Some((result, instructions)) => Ok(CallOutcome { result, instructions }),
            None => Err(DevnetError::Rejected(Reject::new(
                RejectCode::SysUnknown,
                "the call did not complete (message limit reached, a stop is pending or messages are held)",
                None,
            ))),
        }
    }

    /// Charges storage, fires due global timers and heartbeats, and runs
    /// every queued message until nothing is left to do.
    pub fn tick(&mut self) {
        let now = self.clock.now();
        self.charge_storage(now);
        self.run_queue();
        let ids: Vec<Principal> = self.canisters.keys().copied().collect();
        for id in &ids {
            if self.has_system_method(*id, |m| m.heartbeat) {
                self.run_system_task(*id, EntryKind::Heartbeat, now);
            }
        }
        self.run_queue();
        for _ in 0..TIMER_ROUNDS_PER_TICK {
            let now = self.clock.now();
            let mut fired = false;
            for id in &ids {
                let due = self.has_system_method(*id, |m| m.global_timer)
                    && self.canisters.get(id).and_then(|c| c.instance.as_ref()).is_some_and(|i| {
                        let t = i.store.data().global_timer;
                        t != 0 && t <= now
                    });
                if due {
                    // The timer is deactivated before it runs, and stays so
                    // even if the handler traps.
                    if let Some(i) = self.canisters.get_mut(id).and_then(|c| c.instance.as_mut()) {
                        i.store.data_mut().global_timer = 0;
                    }
                    self.run_system_task(*id, EntryKind::GlobalTimer, now);
                    fired = true;
                }
            }
            self.run_queue();
            if !fired {
                break;
            }
        }
    }

    fn has_system_method(&self, id: Principal, f: impl Fn(&crate::runtime::module::ExportedMethods) -> bool) -> bool {
        self.canisters.get(&id).is_some_and(|c| {
            c.status == super::canister::CanisterStatus::Running
                && c.cycles >= self.freeze_limit(c).saturating_add(self.config.fees.execution_fee(0))
                && c.instance.as_ref().is_some_and(|i| f(&i.module.methods))
        })
    }

    fn run_system_task(&mut self, id: Principal, kind: EntryKind, now: u64) {
        let export = match kind {
            EntryKind::Heartbeat => "canister_heartbeat",
            _ => "canister_global_timer",
        };
        let cc = self.open_context(id, Origin::System, id, "", 0);
        let ctx = self.exec_context(id, kind, id, now);
        let res = self.run_replicated(id, &Entry::Export(export.into()), ctx, self.config.limits.update, true);
        self.after_execution(cc, res);
    }

    /// Charges each canister's storage fee (heap, stable memory, module and
    /// chunk store, per GiB-second: `FeeModel::storage_fee`) for the time
    /// since its last charge.
    fn charge_storage(&mut self, now: u64) {
        let fees = self.config.fees;
        for c in self.canisters.values_mut() {
            let elapsed = now.saturating_sub(c.storage_paid_until_ns);
            let fee = fees.storage_fee(c.memory_bytes(), elapsed);
            c.cycles -= fee.min(c.cycles);
            c.storage_paid_until_ns = now;
        }
    }
}
