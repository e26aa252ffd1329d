//! The `ic0` System API, linked into every canister instance.
//!
//! Each function checks that the current entry point may call it (the
//! interface spec's availability table), bounds-checks memory access and
//! traps with a readable message otherwise.

use wasmtime::Linker;

use super::context::{EntryKind as K, HostState, OutgoingCall, Response};
use super::host::*;
use super::stable::WASM_PAGE;

/// Pages addressable through the 32-bit stable API (4 GiB).
const STABLE32_MAX_PAGES: u64 = 65536;
/// Largest argument of an inter-canister request between canisters on the
/// same subnet on the IC: 10 MiB. The management canister counts as being
/// on the caller's subnet.
const MAX_CALL_ARG_BYTES: usize = 10 * 1024 * 1024;
/// Largest argument of a request to a canister on another subnet: 2 MiB
/// (the replica's `MAX_INTER_CANISTER_PAYLOAD_IN_BYTES`).
const MAX_CROSS_SUBNET_CALL_ARG_BYTES: usize = 2 * 1024 * 1024;

/// The largest argument a call from the running canister to `callee` may carry.
fn call_arg_limit(ctx: &super::context::ExecContext, callee: candid::Principal) -> usize {
    let n = ctx.subnet_count;
    let same = callee == candid::Principal::management_canister()
        || crate::subnets::subnet_of(&callee, n) == crate::subnets::subnet_of(&ctx.canister_id, n);
    if same { MAX_CALL_ARG_BYTES } else { MAX_CROSS_SUBNET_CALL_ARG_BYTES }
}

pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    link_message(linker)?;
    link_cycles(linker)?;
    link_canister(linker)?;
    link_calls(linker)?;
    link_stable(linker)?;
    link_misc(linker)?;
    link_costs_and_env(linker)?;
    Ok(())
}

fn link_message(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "msg_arg_data_size", |mut c: C<'_>| -> R<i32> {
        allow(&mut c, "msg_arg_data_size", |k| k.has_arg())?;
        Ok(ctx(&mut c)?.arg.len() as i32)
    })?;
    l.func_wrap("ic0", "msg_arg_data_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        allow(&mut c, "msg_arg_data_copy", |k| k.has_arg())?;
        let arg = std::mem::take(&mut ctx(&mut c)?.arg);
        let r = copy_out(&mut c, dst, off, size, &arg);
        ctx(&mut c)?.arg = arg;
        r
    })?;
    l.func_wrap("ic0", "msg_caller_size", |mut c: C<'_>| -> R<i32> {
        Ok(ctx(&mut c)?.caller.as_slice().len() as i32)
    })?;
    l.func_wrap("ic0", "msg_caller_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        let caller = ctx(&mut c)?.caller;
        copy_out(&mut c, dst, off, size, caller.as_slice())
    })?;
    // Devnet has no caller info (delegations with attributes): always empty.
    l.func_wrap("ic0", "msg_caller_info_data_size", |_c: C<'_>| -> R<i32> { Ok(0) })?;
    l.func_wrap("ic0", "msg_caller_info_data_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        copy_out(&mut c, dst, off, size, &[])
    })?;
    l.func_wrap("ic0", "msg_caller_info_signer_size", |_c: C<'_>| -> R<i32> { Ok(0) })?;
    l.func_wrap("ic0", "msg_caller_info_signer_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        copy_out(&mut c, dst, off, size, &[])
    })?;
    l.func_wrap("ic0", "msg_reject_code", |mut c: C<'_>| -> R<i32> {
        allow(&mut c, "msg_reject_code", |k| k.is_callback())?;
        Ok(ctx(&mut c)?.reject.as_ref().map(|r| r.0 as i32).unwrap_or(0))
    })?;
    l.func_wrap("ic0", "msg_reject_msg_size", |mut c: C<'_>| -> R<i32> {
        allow(&mut c, "msg_reject_msg_size", |k| k.is_reject_callback())?;
        Ok(ctx(&mut c)?.reject.as_ref().map(|r| r.1.len() as i32).unwrap_or(0))
    })?;
    l.func_wrap("ic0", "msg_reject_msg_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        allow(&mut c, "msg_reject_msg_copy", |k| k.is_reject_callback())?;
        let msg = ctx(&mut c)?.reject.as_ref().map(|r| r.1.clone()).unwrap_or_default();
        copy_out(&mut c, dst, off, size, msg.as_bytes())
    })?;
    // Every call in devnet has a guaranteed response: no deadline.
    l.func_wrap("ic0", "msg_deadline", |_c: C<'_>| -> R<i64> { Ok(0) })?;
    l.func_wrap("ic0", "msg_reply_data_append", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        check_can_respond(&mut c, "msg_reply_data_append")?;
        let bytes = read_bytes(&mut c, src, size)?;
        let x = ctx(&mut c)?;
        if x.reply_buf.len() + bytes.len() > x.max_response_bytes {
            return trap(format!("reply exceeds the {} byte limit", x.max_response_bytes));
        }
        x.reply_buf.extend_from_slice(&bytes);
        Ok(())
    })?;
    l.func_wrap("ic0", "msg_reply", |mut c: C<'_>| -> R<()> {
        check_can_respond(&mut c, "msg_reply")?;
        let x = ctx(&mut c)?;
        let data = std::mem::take(&mut x.reply_buf);
        x.response = Some(Response::Reply(data));
        Ok(())
    })?;
    l.func_wrap("ic0", "msg_reject", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        check_can_respond(&mut c, "msg_reject")?;
        let bytes = read_bytes(&mut c, src, size)?;
        let x = ctx(&mut c)?;
        x.response = Some(Response::Reject(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(())
    })?;
    l.func_wrap("ic0", "msg_method_name_size", |mut c: C<'_>| -> R<i32> {
        allow(&mut c, "msg_method_name_size", method_name_allowed)?;
        Ok(ctx(&mut c)?.method_name.len() as i32)
    })?;
    l.func_wrap("ic0", "msg_method_name_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        allow(&mut c, "msg_method_name_copy", method_name_allowed)?;
        let name = ctx(&mut c)?.method_name.clone();
        copy_out(&mut c, dst, off, size, name.as_bytes())
    })?;
    l.func_wrap("ic0", "accept_message", |mut c: C<'_>| -> R<()> {
        allow(&mut c, "accept_message", |k| k == K::InspectMessage)?;
        let x = ctx(&mut c)?;
        if x.message_accepted {
            return trap("accept_message called twice");
        }
        x.message_accepted = true;
        Ok(())
    })?;
    Ok(())
}

fn method_name_allowed(k: K) -> bool {
    matches!(k, K::InspectMessage | K::Update | K::Query | K::CompositeQuery | K::ReplicatedQuery)
}

/// Exactly-once reply: a second reply (or reject) traps.
fn check_can_respond(c: &mut C<'_>, name: &str) -> R<()> {
    allow(c, name, |k| k.can_reply())?;
    let x = ctx(c)?;
    if !x.call_context_open || x.response.is_some() {
        return trap(format!("{name}: the call context was already replied to or rejected"));
    }
    Ok(())
}

fn cycles_msg_allowed(k: K) -> bool {
    matches!(k, K::Update | K::ReplicatedQuery | K::ReplyCallback | K::RejectCallback)
}

fn link_cycles(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "msg_cycles_available", |mut c: C<'_>| -> R<i64> {
        allow(&mut c, "msg_cycles_available", cycles_msg_allowed)?;
        let v = ctx(&mut c)?.cycles_available;
        u64::try_from(v)
            .map(|v| v as i64)
            .or_else(|_| trap("available cycles exceed 64 bits; use msg_cycles_available128"))
    })?;
    l.func_wrap("ic0", "msg_cycles_available128", |mut c: C<'_>, dst: i32| -> R<()> {
        allow(&mut c, "msg_cycles_available128", cycles_msg_allowed)?;
        let v = ctx(&mut c)?.cycles_available;
        write_u128(&mut c, dst, v)
    })?;
    l.func_wrap("ic0", "msg_cycles_refunded", |mut c: C<'_>| -> R<i64> {
        allow(&mut c, "msg_cycles_refunded", |k| k.is_callback())?;
        let v = ctx(&mut c)?.cycles_refunded;
        u64::try_from(v)
            .map(|v| v as i64)
            .or_else(|_| trap("refunded cycles exceed 64 bits; use msg_cycles_refunded128"))
    })?;
    l.func_wrap("ic0", "msg_cycles_refunded128", |mut c: C<'_>, dst: i32| -> R<()> {
        allow(&mut c, "msg_cycles_refunded128", |k| k.is_callback())?;
        let v = ctx(&mut c)?.cycles_refunded;
        write_u128(&mut c, dst, v)
    })?;
    l.func_wrap("ic0", "msg_cycles_accept", |mut c: C<'_>, max: i64| -> R<i64> {
        allow(&mut c, "msg_cycles_accept", cycles_msg_allowed)?;
        Ok(accept(ctx(&mut c)?, max as u64 as u128) as i64)
    })?;
    l.func_wrap("ic0", "msg_cycles_accept128", |mut c: C<'_>, high: i64, low: i64, dst: i32| -> R<()> {
        allow(&mut c, "msg_cycles_accept128", cycles_msg_allowed)?;
        let got = accept(ctx(&mut c)?, u128_of(high, low));
        write_u128(&mut c, dst, got)
    })?;
    l.func_wrap("ic0", "cycles_burn128", |mut c: C<'_>, high: i64, low: i64, dst: i32| -> R<()> {
        allow(&mut c, "cycles_burn128", |k| k.is_stateful() || k.is_callback())?;
        let x = ctx(&mut c)?;
        let spendable = x.balance.saturating_sub(x.freeze_limit);
        let burned = u128_of(high, low).min(spendable);
        x.balance -= burned;
        write_u128(&mut c, dst, burned)
    })?;
    l.func_wrap("ic0", "canister_cycle_balance", |mut c: C<'_>| -> R<i64> {
        let v = ctx(&mut c)?.balance;
        u64::try_from(v).map(|v| v as i64).or_else(|_| trap("balance exceeds 64 bits; use canister_cycle_balance128"))
    })?;
    l.func_wrap("ic0", "canister_cycle_balance128", |mut c: C<'_>, dst: i32| -> R<()> {
        let v = ctx(&mut c)?.balance;
        write_u128(&mut c, dst, v)
    })?;
    l.func_wrap("ic0", "canister_liquid_cycle_balance128", |mut c: C<'_>, dst: i32| -> R<()> {
        let x = ctx(&mut c)?;
        let v = x.balance.saturating_sub(x.freeze_limit);
        write_u128(&mut c, dst, v)
    })?;
    Ok(())
}

fn accept(x: &mut super::context::ExecContext, max: u128) -> u128 {
    let got = max.min(x.cycles_available);
    x.cycles_available -= got;
    x.cycles_accepted += got;
    x.balance += got;
    got
}

fn link_canister(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "canister_self_size", |mut c: C<'_>| -> R<i32> {
        Ok(ctx(&mut c)?.canister_id.as_slice().len() as i32)
    })?;
    l.func_wrap("ic0", "canister_self_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        let id = ctx(&mut c)?.canister_id;
        copy_out(&mut c, dst, off, size, id.as_slice())
    })?;
    l.func_wrap("ic0", "canister_status", |mut c: C<'_>| -> R<i32> { Ok(ctx(&mut c)?.status as i32) })?;
    l.func_wrap("ic0", "canister_version", |mut c: C<'_>| -> R<i64> { Ok(ctx(&mut c)?.version as i64) })?;
    l.func_wrap("ic0", "subnet_self_size", |mut c: C<'_>| -> R<i32> {
        Ok(ctx(&mut c)?.subnet_id.as_slice().len() as i32)
    })?;
    l.func_wrap("ic0", "subnet_self_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        let id = ctx(&mut c)?.subnet_id;
        copy_out(&mut c, dst, off, size, id.as_slice())
    })?;
    // Devnet is a single-node subnet.
    l.func_wrap("ic0", "subnet_self_node_count", |_c: C<'_>| -> R<i32> { Ok(1) })?;
    l.func_wrap("ic0", "is_controller", |mut c: C<'_>, src: i32, size: i32| -> R<i32> {
        let bytes = read_bytes(&mut c, src, size)?;
        let p = principal_from(&bytes)?;
        Ok(ctx(&mut c)?.controllers.contains(&p) as i32)
    })?;
    l.func_wrap("ic0", "in_replicated_execution", |mut c: C<'_>| -> R<i32> {
        Ok(ctx(&mut c)?.kind.is_replicated() as i32)
    })?;
    l.func_wrap("ic0", "certified_data_set", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        allow(&mut c, "certified_data_set", |k| k.is_stateful() && k != K::Cleanup || k == K::ReplicatedQuery)?;
        if size as u32 > 32 {
            return trap("certified_data_set: data is longer than 32 bytes");
        }
        let data = read_bytes(&mut c, src, size)?;
        c.data_mut().certified_data = data;
        Ok(())
    })?;
    l.func_wrap("ic0", "data_certificate_present", |mut c: C<'_>| -> R<i32> {
        Ok(ctx(&mut c)?.data_certificate.is_some() as i32)
    })?;
    l.func_wrap("ic0", "data_certificate_size", |mut c: C<'_>| -> R<i32> {
        match ctx(&mut c)?.data_certificate.as_mut() {
            Some(cert) => Ok(cert.get().len() as i32),
            None => trap("data_certificate_size: no certificate (only available in non-replicated top-level queries)"),
        }
    })?;
    l.func_wrap("ic0", "data_certificate_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        let Some(cert) = ctx(&mut c)?.data_certificate.as_mut().map(|l| l.get().to_vec()) else {
            return trap("data_certificate_copy: no certificate (only available in non-replicated top-level queries)");
        };
        copy_out(&mut c, dst, off, size, &cert)
    })?;
    l.func_wrap("ic0", "root_key_size", |mut c: C<'_>| -> R<i32> { Ok(ctx(&mut c)?.root_key.len() as i32) })?;
    l.func_wrap("ic0", "root_key_copy", |mut c: C<'_>, dst: i32, off: i32, size: i32| -> R<()> {
        let key = ctx(&mut c)?.root_key.clone();
        copy_out(&mut c, dst, off, size, &key)
    })?;
    Ok(())
}

fn pending<'a>(c: &'a mut C<'_>, name: &str) -> R<&'a mut OutgoingCall> {
    let x = ctx(c)?;
    match x.pending_call.as_mut() {
        Some(p) => Ok(p),
        None => trap(format!("{name}: no call under construction (call call_new first)")),
    }
}

fn link_calls(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap(
        "ic0",
        "call_new",
        |mut c: C<'_>,
         callee_src: i32,
         callee_size: i32,
         name_src: i32,
         name_size: i32,
         reply_fun: i32,
         reply_env: i32,
         reject_fun: i32,
         reject_env: i32|
         -> R<()> {
            allow(&mut c, "call_new", |k| k.can_call())?;
            let callee = principal_from(&read_bytes(&mut c, callee_src, callee_size)?)?;
            let name = read_bytes(&mut c, name_src, name_size)?;
            let Ok(method) = String::from_utf8(name) else {
                return trap("call_new: method name is not valid UTF-8");
            };
            let x = ctx(&mut c)?;
            // A call under construction that was never performed is discarded,
            // returning its attached cycles.
            if let Some(old) = x.pending_call.take() {
                x.balance += old.cycles;
            }
            x.pending_call = Some(OutgoingCall {
                callee,
                method,
                arg: Vec::new(),
                cycles: 0,
                reply: (reply_fun as u32, reply_env as u32),
                reject: (reject_fun as u32, reject_env as u32),
                cleanup: None,
                best_effort_timeout: None,
            });
            Ok(())
        },
    )?;
    l.func_wrap("ic0", "call_on_cleanup", |mut c: C<'_>, fun: i32, env: i32| -> R<()> {
        let p = pending(&mut c, "call_on_cleanup")?;
        if p.cleanup.is_some() {
            return trap("call_on_cleanup called twice for one call");
        }
        p.cleanup = Some((fun as u32, env as u32));
        Ok(())
    })?;
    l.func_wrap("ic0", "call_data_append", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        pending(&mut c, "call_data_append")?;
        let bytes = read_bytes(&mut c, src, size)?;
        let callee = pending(&mut c, "call_data_append")?.callee;
        let limit = call_arg_limit(ctx(&mut c)?, callee);
        let p = pending(&mut c, "call_data_append")?;
        if p.arg.len() + bytes.len() > limit {
            return trap(format!("call argument exceeds {limit} bytes"));
        }
        p.arg.extend_from_slice(&bytes);
        Ok(())
    })?;
    l.func_wrap("ic0", "call_with_best_effort_response", |mut c: C<'_>, timeout: i32| -> R<()> {
        let p = pending(&mut c, "call_with_best_effort_response")?;
        if p.best_effort_timeout.is_some() {
            return trap("call_with_best_effort_response called twice for one call");
        }
        p.best_effort_timeout = Some(timeout as u32);
        Ok(())
    })?;
    l.func_wrap("ic0", "call_cycles_add", |mut c: C<'_>, amount: i64| -> R<()> {
        add_call_cycles(&mut c, amount as u64 as u128)
    })?;
    l.func_wrap("ic0", "call_cycles_add128", |mut c: C<'_>, high: i64, low: i64| -> R<()> {
        add_call_cycles(&mut c, u128_of(high, low))
    })?;
    l.func_wrap("ic0", "call_perform", |mut c: C<'_>| -> R<i32> {
        allow(&mut c, "call_perform", |k| k.can_call())?;
        let x = ctx(&mut c)?;
        let Some(call) = x.pending_call.take() else {
            return trap("call_perform: no call under construction");
        };
        // Non-replicated (composite query) calls are free; replicated calls
        // pay the transmission fee (`FeeModel::call_fee`) up front, as the
        // IC charges the caller when the request is sent.
        let fee = if x.kind.is_replicated() { x.fees.call_fee(call.method.len(), call.arg.len()) } else { 0 };
        if x.balance < fee.saturating_add(x.freeze_limit) {
            x.balance += call.cycles;
            // SYS_TRANSIENT: the canister cannot afford the call right now.
            return Ok(2);
        }
        x.balance -= fee;
        x.calls.push(call);
        Ok(0)
    })?;
    Ok(())
}

fn add_call_cycles(c: &mut C<'_>, amount: u128) -> R<()> {
    allow(c, "call_cycles_add", |k| k.is_replicated() && k.can_call())?;
    pending(c, "call_cycles_add")?;
    let x = ctx(c)?;
    if x.balance < amount.saturating_add(x.freeze_limit) {
        return trap(format!(
            "call_cycles_add: cannot attach {amount} cycles, balance {} (freezing limit {})",
            x.balance, x.freeze_limit
        ));
    }
    x.balance -= amount;
    if let Some(p) = x.pending_call.as_mut() {
        p.cycles += amount;
    }
    Ok(())
}

fn stable_read(c: &mut C<'_>, dst: u64, offset: u64, size: u64) -> R<()> {
    if !c.data().stable.in_bounds(offset, size) {
        return trap(format!("stable memory read out of bounds: {offset}+{size}"));
    }
    charge(c, size / 16)?;
    let Some(mem) = c.data().memory else { return trap("canister has no memory") };
    let (data, state) = mem.data_and_store_mut(&mut *c);
    let len = data.len();
    let Some(dst) = usize::try_from(dst).ok().zip(usize::try_from(size).ok()).and_then(|(d, s)| {
        let end = d.checked_add(s)?;
        data.get_mut(d..end)
    }) else {
        return trap(format!("stable read: heap range {dst}+{size} out of bounds ({len})"));
    };
    state.stable.read(offset, dst);
    Ok(())
}

fn stable_write(c: &mut C<'_>, offset: u64, src: u64, size: u64) -> R<()> {
    if !c.data().stable.in_bounds(offset, size) {
        return trap(format!("stable memory write out of bounds: {offset}+{size}"));
    }
    charge(c, size / 16)?;
    let Some(mem) = c.data().memory else { return trap("canister has no memory") };
    let (data, state) = mem.data_and_store_mut(&mut *c);
    let len = data.len();
    let Some(src) = usize::try_from(src).ok().zip(usize::try_from(size).ok()).and_then(|(s, n)| {
        let end = s.checked_add(n)?;
        data.get(s..end)
    }) else {
        return trap(format!("stable write: heap range {src}+{size} out of bounds ({len})"));
    };
    state.stable.write(offset, src);
    Ok(())
}

fn link_stable(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "stable_size", |c: C<'_>| -> R<i32> {
        let pages = c.data().stable.size_pages();
        if pages > STABLE32_MAX_PAGES {
            return trap("stable_size: stable memory exceeds 4 GiB; use stable64_size");
        }
        Ok(pages as i32)
    })?;
    l.func_wrap("ic0", "stable_grow", |mut c: C<'_>, new_pages: i32| -> R<i32> {
        let st = c.data_mut();
        if st.stable.size_pages() > STABLE32_MAX_PAGES {
            return trap("stable_grow: stable memory exceeds 4 GiB; use stable64_grow");
        }
        let limit = st.stable_limit_pages.min(STABLE32_MAX_PAGES);
        Ok(st.stable.grow(new_pages as u32 as u64, limit).map(|old| old as i32).unwrap_or(-1))
    })?;
    l.func_wrap("ic0", "stable_write", |mut c: C<'_>, offset: i32, src: i32, size: i32| -> R<()> {
        stable_write(&mut c, offset as u32 as u64, src as u32 as u64, size as u32 as u64)
    })?;
    l.func_wrap("ic0", "stable_read", |mut c: C<'_>, dst: i32, offset: i32, size: i32| -> R<()> {
        stable_read(&mut c, dst as u32 as u64, offset as u32 as u64, size as u32 as u64)
    })?;
    l.func_wrap("ic0", "stable64_size", |c: C<'_>| -> R<i64> { Ok(c.data().stable.size_pages() as i64) })?;
    l.func_wrap("ic0", "stable64_grow", |mut c: C<'_>, new_pages: i64| -> R<i64> {
        let st = c.data_mut();
        let limit = st.stable_limit_pages;
        Ok(st.stable.grow(new_pages as u64, limit).map(|old| old as i64).unwrap_or(-1))
    })?;
    l.func_wrap("ic0", "stable64_write", |mut c: C<'_>, offset: i64, src: i64, size: i64| -> R<()> {
        stable_write(&mut c, offset as u64, src as u64, size as u64)
    })?;
    l.func_wrap("ic0", "stable64_read", |mut c: C<'_>, dst: i64, offset: i64, size: i64| -> R<()> {
        stable_read(&mut c, dst as u64, offset as u64, size as u64)
    })?;
    let _ = WASM_PAGE;
    Ok(())
}

fn link_misc(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "time", |mut c: C<'_>| -> R<i64> { Ok(ctx(&mut c)?.time_ns as i64) })?;
    l.func_wrap("ic0", "global_timer_set", |mut c: C<'_>, ts: i64| -> R<i64> {
        allow(&mut c, "global_timer_set", |k| k.is_stateful() && k != K::Start)?;
        let st = c.data_mut();
        let old = st.global_timer;
        st.global_timer = ts as u64;
        Ok(old as i64)
    })?;
    l.func_wrap("ic0", "performance_counter", |mut c: C<'_>, kind: i32| -> R<i64> {
        let used = instructions_used(&mut c)?;
        match kind {
            0 => Ok(used as i64),
            1 => Ok((ctx(&mut c)?.call_context_instructions + used) as i64),
            _ => trap(format!("performance_counter: unknown counter type {kind}")),
        }
    })?;
    l.func_wrap("ic0", "debug_print", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        // debug_print never traps on bad arguments; it just prints nothing.
        let Ok(bytes) = read_bytes(&mut c, src, size) else { return Ok(()) };
        let x = ctx(&mut c)?;
        let line = String::from_utf8_lossy(&bytes).into_owned();
        if x.debug_print {
            eprintln!("[canister {}] {line}", x.canister_id);
        }
        x.printed.push(line);
        Ok(())
    })?;
    l.func_wrap("ic0", "trap", |mut c: C<'_>, src: i32, size: i32| -> R<()> {
        let msg = read_bytes(&mut c, src, size).map(|b| String::from_utf8_lossy(&b).into_owned());
        trap(msg.unwrap_or_else(|_| "trap (message out of bounds)".into()))
    })?;
    Ok(())
}

fn link_costs_and_env(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "cost_call", |mut c: C<'_>, method_len: i64, payload_len: i64, dst: i32| -> R<()> {
        let fee = ctx(&mut c)?.fees.call_fee(method_len as u64 as usize, payload_len as u64 as usize);
        write_u128(&mut c, dst, fee)
    })?;
    l.func_wrap("ic0", "cost_create_canister", |mut c: C<'_>, dst: i32| -> R<()> {
        let fee = ctx(&mut c)?.fees.canister_creation;
        write_u128(&mut c, dst, fee)
    })?;
    l.func_wrap("ic0", "cost_http_request", |mut c: C<'_>, req: i64, max_res: i64, dst: i32| -> R<()> {
        let fee = ctx(&mut c)?.fees.http_request_fee(req as u64, max_res as u64);
        write_u128(&mut c, dst, fee)
    })?;
    // Devnet does no HTTP outcalls; quote as for a 2 MB response so callers
    // that only price an outcall get a plausible number.
    l.func_wrap("ic0", "cost_http_request_v2", |mut c: C<'_>, _src: i32, size: i32, dst: i32| -> R<()> {
        let fee = ctx(&mut c)?.fees.http_request_fee(size as u32 as u64, 2_000_000);
        write_u128(&mut c, dst, fee)
    })?;
    // Devnet has no threshold keys: every key name is unknown (error code 2).
    l.func_wrap("ic0", "cost_sign_with_ecdsa", |_c: C<'_>, _s: i32, _n: i32, _curve: i32, _dst: i32| -> R<i32> {
        Ok(2)
    })?;
    l.func_wrap("ic0", "cost_sign_with_schnorr", |_c: C<'_>, _s: i32, _n: i32, _alg: i32, _dst: i32| -> R<i32> {
        Ok(2)
    })?;
    l.func_wrap("ic0", "cost_vetkd_derive_key", |_c: C<'_>, _s: i32, _n: i32, _curve: i32, _dst: i32| -> R<i32> {
        Ok(2)
    })?;
    // Environment variables (canister settings), indexed in name order.
    l.func_wrap("ic0", "env_var_count", |mut c: C<'_>| -> R<i32> { Ok(ctx(&mut c)?.env_vars.len() as i32) })?;
    l.func_wrap("ic0", "env_var_name_size", |mut c: C<'_>, i: i32| -> R<i32> {
        Ok(env_var_at(&mut c, "env_var_name_size", i)?.len() as i32)
    })?;
    l.func_wrap("ic0", "env_var_name_copy", |mut c: C<'_>, i: i32, dst: i32, off: i32, size: i32| -> R<()> {
        let name = env_var_at(&mut c, "env_var_name_copy", i)?;
        copy_out(&mut c, dst, off, size, name.as_bytes())
    })?;
    l.func_wrap("ic0", "env_var_name_exists", |mut c: C<'_>, src: i32, size: i32| -> R<i32> {
        Ok(env_var_value(&mut c, "env_var_name_exists", src, size)?.is_some() as i32)
    })?;
    l.func_wrap("ic0", "env_var_value_size", |mut c: C<'_>, src: i32, size: i32| -> R<i32> {
        match env_var_value(&mut c, "env_var_value_size", src, size)? {
            Some(v) => Ok(v.len() as i32),
            None => trap("env_var_value_size: no such environment variable"),
        }
    })?;
    l.func_wrap(
        "ic0",
        "env_var_value_copy",
        |mut c: C<'_>, src: i32, size: i32, dst: i32, off: i32, n: i32| -> R<()> {
            match env_var_value(&mut c, "env_var_value_copy", src, size)? {
                Some(v) => copy_out(&mut c, dst, off, n, v.as_bytes()),
                None => trap("env_var_value_copy: no such environment variable"),
            }
        },
    )?;
    Ok(())
}

/// The name of the environment variable at `index` (name order).
fn env_var_at(c: &mut C<'_>, api: &str, index: i32) -> R<String> {
    let vars = &ctx(c)?.env_vars;
    match vars.get(index as u32 as usize) {
        Some((name, _)) => Ok(name.clone()),
        None => trap(format!("{api}: index {} out of range ({} environment variables)", index as u32, vars.len())),
    }
}

/// The value of the environment variable named by the bytes at `src`;
/// a name longer than any allowed one, or not UTF-8, traps as on the IC.
fn env_var_value(c: &mut C<'_>, api: &str, src: i32, size: i32) -> R<Option<String>> {
    if size as u32 as usize > crate::management::MAX_ENVIRONMENT_VARIABLE_NAME_BYTES {
        return trap(format!(
            "{api}: name of {} bytes, longer than {} bytes",
            size as u32,
            crate::management::MAX_ENVIRONMENT_VARIABLE_NAME_BYTES
        ));
    }
    let bytes = read_bytes(c, src, size)?;
    let Ok(name) = std::str::from_utf8(&bytes) else {
        return trap(format!("{api}: the name is not UTF-8"));
    };
    Ok(ctx(c)?.env_vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
}
