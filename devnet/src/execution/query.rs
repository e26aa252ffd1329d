//! Non-replicated queries and composite queries. Nothing a query does is
//! kept: every canister touched is rolled back when its part ends.

use std::collections::VecDeque;

use candid::Principal;

use super::canister::CanisterStatus;
use super::devnet::Devnet;
use super::types::*;
use crate::runtime::context::{EntryKind, LazyCertificate, OutgoingCall, Response};
use crate::runtime::instance::Entry;

/// Depth limit of composite query call graphs.
const MAX_COMPOSITE_DEPTH: usize = 20;

type QueryResult = (Result<Vec<u8>, Reject>, u64);

impl Devnet {
    /// A top-level query: `data_certificate` is available.
    pub fn query(
        &mut self,
        sender: Principal,
        canister: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<CallOutcome, DevnetError> {
        if canister == Principal::management_canister() {
            return Ok(CallOutcome {
                result: Err(Reject::new(
                    RejectCode::DestinationInvalid,
                    format!("the management canister has no query method '{method}'"),
                    Some("IC0302"),
                )),
                instructions: 0,
            });
        }
        let now = self.clock.now();
        self.call_counters.count(canister, method, super::counters::CallKind::Query);
        let (mut result, instructions) = self.run_query(sender, canister, method, arg.to_vec(), now, 0);
        if let Ok(bytes) = &mut result {
            let tamper = self.faults.iter().any(
                |f| matches!(f, Fault::TamperQueryReply { canister: c, method: m } if *c == canister && m == method),
            );
            if tamper {
                super::faults::tamper_reply(bytes);
            }
        }
        Ok(CallOutcome { result, instructions })
    }

    fn query_target(&self, canister: Principal, method: &str) -> Result<EntryKind, Reject> {
        let Some(c) = self.canisters.get(&canister) else {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                format!("Canister {canister} not found"),
                Some("IC0301"),
            ));
        };
        if c.status != CanisterStatus::Running {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {canister} is not running"),
                Some("IC0508"),
            ));
        }
        let Some(inst) = c.instance.as_ref() else {
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {canister} has no wasm module"),
                Some("IC0537"),
            ));
        };
        let m = &inst.module.methods;
        if m.queries.contains(method) {
            Ok(EntryKind::Query)
        } else if m.composite_queries.contains(method) {
            Ok(EntryKind::CompositeQuery)
        } else {
            Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {canister} has no query method '{method}'"),
                Some("IC0536"),
            ))
        }
    }

    /// Runs a (composite) query; `depth == 0` means top level.
    fn run_query(
        &mut self,
        caller: Principal,
        canister: Principal,
        method: &str,
        arg: Vec<u8>,
        now: u64,
        depth: usize,
    ) -> QueryResult {
        let kind = match self.query_target(canister, method) {
            Ok(k) => k,
            Err(r) => return (Err(r), 0),
        };
        let mut ctx = self.exec_context(canister, kind, caller, now);
        ctx.method_name = method.to_string();
        ctx.arg = arg;
        if depth == 0 {
            let data = self.canisters.get(&canister).map(|c| c.certified_data()).unwrap_or_default();
            let certifier = self.certifier.clone();
            ctx.data_certificate = Some(LazyCertificate::new(move || certifier.data_certificate(canister, &data, now)));
        }
        let export = match kind {
            EntryKind::Query => format!("canister_query {method}"),
            _ => format!("canister_composite_query {method}"),
        };
        let Some(inst) = self.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut()) else {
            return (Err(Reject::new(RejectCode::CanisterError, "no module", Some("IC0537"))), 0);
        };
        // Outer checkpoint: undone when this query (and its callbacks) ends.
        let outer = inst.checkpoint();
        let res = inst.run(&Entry::Export(export), ctx, self.config.limits.query);
        let mut instructions = res.instructions;
        self.last_instructions = res.instructions;
        let mut answer: Option<Result<Vec<u8>, Reject>> = None;
        let mut trap = res.trap.clone();
        let mut pending: VecDeque<OutgoingCall> = VecDeque::new();
        if trap.is_none() {
            answer = res.ctx.response.map(to_result);
            pending.extend(res.ctx.calls);
        }
        // Composite: run callees to completion, then the callbacks, in order.
        while let Some(call) = pending.pop_front() {
            let result = if depth + 1 > MAX_COMPOSITE_DEPTH {
                Err(Reject::new(RejectCode::CanisterError, "composite query call graph too deep", Some("IC0529")))
            } else if call.callee == Principal::management_canister() {
                Err(Reject::new(
                    RejectCode::DestinationInvalid,
                    "composite queries cannot call the management canister",
                    Some("IC0302"),
                ))
            } else {
                let (r, i) = self.run_query(canister, call.callee, &call.method, call.arg.clone(), now, depth + 1);
                instructions += i;
                r
            };
            let (fun, env) = if result.is_ok() { call.reply } else { call.reject };
            let kind =
                if result.is_ok() { EntryKind::CompositeReplyCallback } else { EntryKind::CompositeRejectCallback };
            let mut ctx = self.exec_context(canister, kind, caller, now);
            ctx.method_name = method.to_string();
            ctx.call_context_open = answer.is_none();
            match result {
                Ok(b) => {
                    ctx.arg = b;
                    ctx.reject = Some((0, String::new()));
                }
                Err(r) => ctx.reject = Some((r.code.as_u32(), r.message)),
            }
            let cleanup_ctx = call.cleanup.map(|_| self.exec_context(canister, EntryKind::Cleanup, caller, now));
            let Some(inst) = self.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut()) else { break };
            if !inst.has_table_func(fun) {
                continue;
            }
            let cp = inst.checkpoint();
            let r = inst.run(&Entry::Table { index: fun, env }, ctx, self.config.limits.query);
            instructions += r.instructions;
            if let Some(t) = r.trap {
                inst.rollback(cp);
                trap = Some(t);
                if let (Some((f, e)), Some(c2)) = (call.cleanup, cleanup_ctx)
                    && inst.has_table_func(f)
                {
                    let cp2 = inst.checkpoint();
                    let r2 = inst.run(&Entry::Table { index: f, env: e }, c2, self.config.limits.query);
                    if r2.trap.is_some() {
                        inst.rollback(cp2);
                    } else {
                        inst.commit(cp2);
                    }
                }
            } else {
                inst.commit(cp);
                if answer.is_none() {
                    answer = r.ctx.response.map(to_result);
                }
                pending.extend(r.ctx.calls);
            }
        }
        if let Some(inst) = self.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut()) {
            inst.rollback(outer);
        }
        let result = match (answer, trap) {
            (Some(a), _) => a,
            (None, Some(t)) => {
                Err(Reject::new(RejectCode::CanisterError, format!("Canister {canister} trapped: {t}"), Some("IC0503")))
            }
            (None, None) => Err(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {canister} did not reply to the call"),
                Some("IC0506"),
            )),
        };
        (result, instructions)
    }
}

fn to_result(r: Response) -> Result<Vec<u8>, Reject> {
    match r {
        Response::Reply(b) => Ok(b),
        Response::Reject(m) => Err(Reject::by_canister(m)),
    }
}
