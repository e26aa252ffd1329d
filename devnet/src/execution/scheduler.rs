//! Message processing: requests create call contexts, executions commit or
//! roll back atomically, responses run callbacks, contexts get closed.

use candid::Principal;

use super::calls::{CallContext, CallContextId, Callback, Message, Origin};
use super::canister::CanisterStatus;
use super::devnet::Devnet;
use super::types::*;
use crate::management;
use crate::runtime::context::{EntryKind, ExecContext, Response};
use crate::runtime::instance::{Entry, ExecResult};

impl Devnet {
    /// A context for `kind` on `canister` filled from the canister's state.
    pub(crate) fn exec_context(
        &self,
        canister: Principal,
        kind: EntryKind,
        caller: Principal,
        now: u64,
    ) -> ExecContext {
        let mut ctx = ExecContext::new(kind, canister, caller, now);
        if let Some(c) = self.canisters.get(&canister) {
            ctx.balance = c.cycles;
            ctx.freeze_limit = self.freeze_limit(c);
            ctx.controllers = c.controllers.clone();
            ctx.status = c.status.code();
            ctx.version = c.version;
            ctx.env_vars = c.settings.environment_variables.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        }
        ctx.fees = self.config.fees;
        ctx.root_key = self.root_key.clone();
        ctx.subnet_count = self.certifier.subnets().len();
        ctx.subnet_id = self.certifier.subnet_of(&canister).id;
        ctx.debug_print = self.config.debug_print;
        ctx
    }

    /// Runs one replicated execution as an atomic step: on a trap every
    /// change is rolled back; the execution fee is charged either way.
    /// With `keep_state == false` (query methods run in replicated mode)
    /// memory changes are discarded even on success.
    pub(crate) fn run_replicated(
        &mut self,
        canister: Principal,
        entry: &Entry,
        ctx: ExecContext,
        limit: u64,
        keep_state: bool,
    ) -> Option<ExecResult> {
        self.run_replicated_or_trap(canister, entry, ctx, limit, keep_state, None)
    }

    /// [`Devnet::run_replicated`]; with `inject_trap`, an execution that did
    /// not trap by itself traps with that message after it ran (a
    /// `TrapMethod` fault).
    pub(crate) fn run_replicated_or_trap(
        &mut self,
        canister: Principal,
        entry: &Entry,
        ctx: ExecContext,
        limit: u64,
        keep_state: bool,
        inject_trap: Option<String>,
    ) -> Option<ExecResult> {
        let fees = self.config.fees;
        let c = self.canisters.get_mut(&canister)?;
        let inst = c.instance.as_mut()?;
        let cp = inst.checkpoint();
        let mut res = inst.run(entry, ctx, limit);
        if res.trap.is_none() {
            res.trap = inject_trap;
        }
        let fee = fees.execution_fee(res.instructions);
        c.executed_instructions += res.instructions;
        if res.trap.is_some() {
            inst.rollback(cp);
            c.cycles = c.cycles.saturating_sub(fee);
        } else {
            if keep_state {
                inst.commit(cp);
            } else {
                inst.rollback(cp);
            }
            c.cycles = res.ctx.balance.saturating_sub(fee);
        }
        self.last_instructions = res.instructions;
        Some(res)
    }

    pub(crate) fn respond(&mut self, origin: Origin, result: Result<Vec<u8>, Reject>, refund: u128, instructions: u64) {
        match origin {
            Origin::Ingress(id) => {
                let status = match result {
                    Ok(bytes) => RequestStatus::Replied(bytes),
                    Err(r) => RequestStatus::Rejected(r),
                };
                self.ingress.insert(id, status);
            }
            Origin::Library(token) => {
                self.library_results.insert(token, (result, instructions));
            }
            Origin::Canister(callback) => self.queue.push_back(Message::Response { callback, result, refund }),
            Origin::System => {}
        }
    }

    pub(crate) fn run_queue(&mut self) {
        let mut budget = self.config.max_messages_per_run;
        while budget > 0 {
            let Some(m) = self.queue.pop_front() else { break };
            budget -= 1;
            if !self.holding.is_empty()
                && let Some(route) = self.route_of(&m)
                && self.holding.contains(&route)
            {
                self.held.entry(route).or_default().push_back(m);
                continue;
            }
            match m {
                Message::Request { caller, callee, method, arg, cycles, origin } => {
                    self.process_request(caller, callee, method, arg, cycles, origin)
                }
                Message::Response { callback, result, refund } => self.process_response(callback, result, refund),
            }
            self.complete_stops();
        }
    }

    fn process_request(
        &mut self,
        caller: Principal,
        callee: Principal,
        method: String,
        arg: Vec<u8>,
        cycles: u128,
        origin: Origin,
    ) {
        if let Origin::Ingress(id) = &origin {
            self.ingress.insert(*id, RequestStatus::Processing);
        }
        let n = self.certifier.subnets().len();
        // A subnet's id addresses that subnet's management canister: what
        // the CMC does to create a canister on a subnet it chose.
        let addressed_subnet = self.certifier.subnet_by_id(callee).map(|s| s.index);
        if let Some(k) = addressed_subnet
            && !(matches!(origin, Origin::Canister(_)) && crate::subnets::subnet_of(&caller, n) == 0)
        {
            let reject = Reject::new(
                RejectCode::DestinationInvalid,
                format!(
                    "only canisters on the root subnet may address subnet {callee} (subnet {k}) directly, \
                     as only NNS canisters may on mainnet"
                ),
                Some("IC0301"),
            );
            self.respond(origin, Err(reject), cycles, 0);
            return;
        }
        if callee == Principal::management_canister() || addressed_subnet.is_some() {
            self.call_counters.count(callee, &method, super::counters::CallKind::Update);
            let subnet = match (&origin, addressed_subnet) {
                (_, Some(k)) => k,
                (Origin::Canister(_), None) => crate::subnets::subnet_of(&caller, n),
                (Origin::Ingress(id), None) => self.ingress_subnets.remove(id).unwrap_or(0),
                (Origin::Library(_) | Origin::System, None) => 0,
            };
            if let Some((result, refund)) =
                management::call(self, caller, &method, &arg, cycles, origin.clone(), subnet)
            {
                self.respond(origin, result, refund, 0);
            }
            return;
        }
        if self.take_call_fault(callee, &method, false) {
            let reject = Reject::new(
                RejectCode::SysTransient,
                format!("Canister {callee}: call to '{method}' rejected by an injected fault (RejectCall)"),
                None,
            );
            self.respond(origin, Err(reject), cycles, 0);
            return;
        }
        let kind = match self.check_request(callee, &method) {
            Ok(k) => k,
            Err(reject) => {
                self.respond(origin, Err(reject), cycles, 0);
                return;
            }
        };
        let inject_trap = self
            .take_call_fault(callee, &method, true)
            .then(|| format!("injected fault: '{method}' trapped (TrapMethod)"));
        let now = self.clock.now();
        self.call_counters.count(callee, &method, super::counters::CallKind::Update);
        let cc_id = self.open_context(callee, origin, caller, &method, cycles);
        let mut ctx = self.exec_context(callee, kind, caller, now);
        ctx.method_name = method.clone();
        ctx.arg = arg;
        ctx.cycles_available = cycles;
        let export = match kind {
            EntryKind::Update => format!("canister_update {method}"),
            _ => format!("canister_query {method}"),
        };
        let keep = kind == EntryKind::Update;
        let limit = self.config.limits.update;
        let res = self.run_replicated_or_trap(callee, &Entry::Export(export), ctx, limit, keep, inject_trap);
        self.after_execution(cc_id, res);
    }

    /// Why a request to `callee` cannot be delivered, or the entry kind.
    fn check_request(&self, callee: Principal, method: &str) -> Result<EntryKind, Reject> {
        let Some(c) = self.canisters.get(&callee) else {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                format!("Canister {callee} not found"),
                Some("IC0301"),
            ));
        };
        match c.status {
            CanisterStatus::Running => {}
            CanisterStatus::Stopping => {
                return Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {callee} is stopping"),
                    Some("IC0509"),
                ));
            }
            CanisterStatus::Stopped => {
                return Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {callee} is stopped"),
                    Some("IC0508"),
                ));
            }
        }
        let Some(inst) = c.instance.as_ref() else {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {callee} has no wasm module"),
                Some("IC0537"),
            ));
        };
        let m = &inst.module.methods;
        let kind = if m.updates.contains(method) {
            EntryKind::Update
        } else if m.queries.contains(method) {
            EntryKind::ReplicatedQuery
        } else if m.composite_queries.contains(method) {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {callee}: composite query method '{method}' cannot be called in replicated mode"),
                Some("IC0527"),
            ));
        } else {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {callee} has no update method '{method}'"),
                Some("IC0536"),
            ));
        };
        if c.cycles < self.freeze_limit(c).saturating_add(self.config.fees.execution_fee(0)) {
            return Err(out_of_cycles(callee, c.cycles));
        }
        Ok(kind)
    }

    pub(crate) fn open_context(
        &mut self,
        canister: Principal,
        origin: Origin,
        caller: Principal,
        method: &str,
        cycles: u128,
    ) -> CallContextId {
        let id = self.next_context;
        self.next_context += 1;
        self.contexts.insert(
            id,
            CallContext {
                canister,
                origin,
                caller,
                method: method.to_string(),
                cycles,
                responded: false,
                outstanding: 0,
                instructions: 0,
                deleted: false,
            },
        );
        if let Some(c) = self.canisters.get_mut(&canister) {
            c.open_call_contexts += 1;
        }
        id
    }

    /// Applies what a finished execution produced to its call context.
    pub(crate) fn after_execution(&mut self, cc_id: CallContextId, res: Option<ExecResult>) {
        let Some(res) = res else {
            self.finish_context(cc_id, Some("the canister has no module".into()));
            return;
        };
        let Some(cc) = self.contexts.get_mut(&cc_id) else { return };
        cc.instructions += res.instructions;
        let canister = cc.canister;
        if let Some(msg) = res.trap {
            self.finish_context(cc_id, Some(msg));
            return;
        }
        cc.cycles = res.ctx.cycles_available;
        let generation = self.canisters.get(&canister).map(|c| c.generation).unwrap_or(0);
        for call in res.ctx.calls {
            let cb = self.next_callback;
            self.next_callback += 1;
            if let Some(cc) = self.contexts.get_mut(&cc_id) {
                cc.outstanding += 1;
            }
            self.queue.push_back(Message::Request {
                caller: canister,
                callee: call.callee,
                method: call.method.clone(),
                arg: call.arg.clone(),
                cycles: call.cycles,
                origin: Origin::Canister(cb),
            });
            self.callbacks.insert(cb, Callback { canister, context: cc_id, call, generation });
        }
        if let Some(resp) = res.ctx.response {
            let result = match resp {
                Response::Reply(bytes) => Ok(bytes),
                Response::Reject(msg) => Err(Reject::by_canister(msg)),
            };
            self.answer_context(cc_id, result);
        }
        self.finish_context(cc_id, None);
    }

    /// Sends the one answer of a call context, refunding unaccepted cycles.
    pub(crate) fn answer_context(&mut self, cc_id: CallContextId, result: Result<Vec<u8>, Reject>) {
        let Some(cc) = self.contexts.get_mut(&cc_id) else { return };
        if cc.responded {
            return;
        }
        cc.responded = true;
        let refund = std::mem::take(&mut cc.cycles);
        let (origin, instructions) = (cc.origin.clone(), cc.instructions);
        self.respond(origin, result, refund, instructions);
    }

    /// Rejects a context nobody will answer any more, and closes contexts
    /// that are answered and have no outstanding calls.
    pub(crate) fn finish_context(&mut self, cc_id: CallContextId, trap: Option<String>) {
        let Some(cc) = self.contexts.get(&cc_id) else { return };
        if cc.outstanding > 0 {
            return;
        }
        let canister = cc.canister;
        if !cc.responded {
            let reject = match trap {
                Some(msg) => Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {canister} trapped: {msg}"),
                    Some("IC0503"),
                ),
                None => Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {canister} did not reply to the call"),
                    Some("IC0506"),
                ),
            };
            self.answer_context(cc_id, Err(reject));
        }
        self.contexts.remove(&cc_id);
        if let Some(c) = self.canisters.get_mut(&canister) {
            c.open_call_contexts = c.open_call_contexts.saturating_sub(1);
        }
    }

    fn process_response(&mut self, callback: u64, result: Result<Vec<u8>, Reject>, refund: u128) {
        let Some(cb) = self.callbacks.remove(&callback) else { return };
        let cc_id = cb.context;
        if let Some(c) = self.canisters.get_mut(&cb.canister) {
            c.cycles = c.cycles.saturating_add(refund);
        }
        let Some(cc) = self.contexts.get_mut(&cc_id) else { return };
        cc.outstanding = cc.outstanding.saturating_sub(1);
        let (deleted, responded, caller, method, available, used) =
            (cc.deleted, cc.responded, cc.caller, cc.method.clone(), cc.cycles, cc.instructions);
        let (fun, env) = if result.is_ok() { cb.call.reply } else { cb.call.reject };
        let runnable = !deleted
            && self.canisters.get_mut(&cb.canister).is_some_and(|c| {
                c.generation == cb.generation && c.instance.as_mut().is_some_and(|i| i.has_table_func(fun))
            });
        if !runnable {
            // One-way call (invalid callback index) or the canister changed.
            self.finish_context(cc_id, None);
            return;
        }
        let now = self.clock.now();
        let kind = if result.is_ok() { EntryKind::ReplyCallback } else { EntryKind::RejectCallback };
        let mut ctx = self.exec_context(cb.canister, kind, caller, now);
        ctx.method_name = method;
        ctx.call_context_open = !responded;
        ctx.call_context_instructions = used;
        ctx.cycles_available = available;
        ctx.cycles_refunded = refund;
        match result {
            Ok(bytes) => {
                ctx.arg = bytes;
                ctx.reject = Some((0, String::new()));
            }
            Err(r) => ctx.reject = Some((r.code.as_u32(), r.message)),
        }
        let res =
            self.run_replicated(cb.canister, &Entry::Table { index: fun, env }, ctx, self.config.limits.update, true);
        if res.as_ref().is_some_and(|r| r.trap.is_some()) {
            self.run_cleanup(cb.canister, cb.call.cleanup, caller, now);
        }
        self.after_execution(cc_id, res);
    }

    /// A trapping callback runs its cleanup callback (its changes are kept
    /// unless it traps too). Cleanup may not reply or call.
    fn run_cleanup(&mut self, canister: Principal, cleanup: Option<(u32, u32)>, caller: Principal, now: u64) {
        let Some((fun, env)) = cleanup else { return };
        let ok =
            self.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut()).is_some_and(|i| i.has_table_func(fun));
        if !ok {
            return;
        }
        let ctx = self.exec_context(canister, EntryKind::Cleanup, caller, now);
        let _ = self.run_replicated(canister, &Entry::Table { index: fun, env }, ctx, self.config.limits.update, true);
    }

    /// Stopping canisters with no open call contexts become stopped.
    pub(crate) fn complete_stops(&mut self) {
        let done: Vec<Principal> = self
            .canisters
            .values()
            .filter(|c| c.status == CanisterStatus::Stopping && c.open_call_contexts == 0)
            .map(|c| c.id)
            .collect();
        for id in done {
            let waiters = match self.canisters.get_mut(&id) {
                Some(c) => {
                    c.status = CanisterStatus::Stopped;
                    std::mem::take(&mut c.stop_waiters)
                }
                None => continue,
            };
            for w in waiters {
                self.respond(w, Ok(candid::encode_args(()).unwrap_or_default()), 0, 0);
            }
        }
    }
}

pub(crate) fn out_of_cycles(canister: Principal, balance: u128) -> Reject {
    Reject::new(
        RejectCode::SysTransient,
        format!("Canister {canister} is out of cycles (balance {balance}): it is frozen"),
        Some("IC0207"),
    )
}
