//! Conformance tests: inter-canister calls, composite queries, management
//! canister, cycles.

mod support;

use candid::{Encode, Principal};
use depot_devnet::RejectCode;
use support::conformance::*;

fn setup() -> (depot_devnet::Devnet, Principal, Principal) {
    let mut d = devnet();
    let caller = install(&mut d, &caller_wat());
    let callee = install(&mut d, &counter_wat());
    (d, caller, callee)
}

/// Parses the CALLER canister's answer: Ok(reply) or Err((code, message)).
fn parse(b: Vec<u8>) -> Result<Vec<u8>, (u8, String)> {
    match b[0] {
        b'R' => Ok(b[1..].to_vec()),
        b'J' => Err((b[1], String::from_utf8_lossy(&b[2..]).into_owned())),
        other => panic!("unexpected answer {other}: {b:?}"),
    }
}

#[test]
fn call_reply_reaches_callback() {
    let (mut d, caller, callee) = setup();
    let out = ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 0, &[])));
    assert_eq!(u32_of(&parse(out).unwrap()), 1);
    assert_eq!(u32_of(&ok(qry(&mut d, callee, "get", &[]))), 1);
}

#[test]
fn reject_paths() {
    let (mut d, caller, callee) = setup();
    let ghost = Principal::from_slice(&[7, 7, 7, 7, 7, 7, 7, 7, 1, 1]);
    let (code, msg) = parse(ok(upd(&mut d, caller, "call", &call_arg(ghost, "inc", 0, &[])))).unwrap_err();
    assert_eq!(code, RejectCode::DestinationInvalid as u8, "{msg}");
    let (code, _) = parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "nope", 0, &[])))).unwrap_err();
    assert_eq!(code, RejectCode::CanisterError as u8);
    let (code, msg) = parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "inc_then_trap", 0, &[])))).unwrap_err();
    assert_eq!(code, RejectCode::CanisterError as u8);
    assert!(msg.contains("trapped"), "{msg}");
    let (code, msg) = parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "no_reply", 0, &[])))).unwrap_err();
    assert_eq!(code, RejectCode::CanisterError as u8);
    assert!(msg.contains("did not reply"), "{msg}");
    let (code, msg) = parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "reject", 0, &[])))).unwrap_err();
    assert_eq!((code, msg.as_str()), (RejectCode::CanisterReject as u8, "noop"));
}

#[test]
fn trapping_callback_runs_cleanup_and_is_rolled_back() {
    let (mut d, caller, callee) = setup();
    let r = rej(upd(&mut d, caller, "call_trap_in_callback", &call_arg(callee, "inc", 0, &[])));
    assert_eq!(r.code, RejectCode::CanisterError);
    let flags = ok(qry(&mut d, caller, "flags", &[]));
    assert_eq!(u32_of(&flags[0..4]), 1, "cleanup ran");
    assert_eq!(u32_of(&flags[4..8]), 0, "trapping callback rolled back");
    assert_eq!(u32_of(&ok(qry(&mut d, callee, "get", &[]))), 1, "the callee's work stays");
}

#[test]
fn trap_discards_queued_calls() {
    let (mut d, caller, callee) = setup();
    rej(upd(&mut d, caller, "call_then_trap", &call_arg(callee, "inc", 0, &[])));
    assert_eq!(u32_of(&ok(qry(&mut d, callee, "get", &[]))), 0);
}

#[test]
fn one_way_calls_and_fifo_order() {
    let (mut d, caller, callee) = setup();
    ok(upd(&mut d, caller, "call_oneway", &call_arg(callee, "inc", 0, &[])));
    assert_eq!(u32_of(&ok(qry(&mut d, callee, "get", &[]))), 1);
    ok(upd(&mut d, caller, "fanout", &call_arg(callee, "log", 0, &[])));
    assert_eq!(ok(qry(&mut d, callee, "get_log", &[])), vec![1, 2, 3, 4, 5]);
}

#[test]
fn composite_query_calls_queries() {
    let (mut d, caller, callee) = setup();
    ok(upd(&mut d, callee, "inc", &[]));
    let out = ok(qry(&mut d, caller, "cq_call", &call_arg(callee, "get", 0, &[])));
    assert_eq!(u32_of(&parse(out).unwrap()), 1);
    let out = ok(qry(&mut d, caller, "cq_call", &call_arg(callee, "trap_query", 0, &[])));
    assert_eq!(parse(out).unwrap_err().0, RejectCode::CanisterError as u8);
    // Composite queries cannot be called in replicated mode.
    assert_eq!(rej(upd(&mut d, caller, "cq_call", &[])).code, RejectCode::CanisterError);
}

#[test]
fn raw_rand_from_a_canister() {
    let (mut d, caller, _) = setup();
    let mgmt = Principal::management_canister();
    let empty = Encode!().unwrap();
    let a = parse(ok(upd(&mut d, caller, "call", &call_arg(mgmt, "raw_rand", 0, &empty)))).unwrap();
    let b = parse(ok(upd(&mut d, caller, "call", &call_arg(mgmt, "raw_rand", 0, &empty)))).unwrap();
    let a: serde_bytes::ByteBuf = candid::decode_one(&a).unwrap();
    let b: serde_bytes::ByteBuf = candid::decode_one(&b).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

#[test]
fn cycles_attach_accept_refund_and_deposit() {
    let (mut d, caller, callee) = setup();
    let fees_off_before = d.cycle_balance(callee);
    let out = parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "accept", 1_000_000, &[])))).unwrap();
    assert_eq!(u128::from_le_bytes(out[..16].try_into().unwrap()), 1_000_000);
    assert!(d.cycle_balance(callee) + 10_000_000 > fees_off_before + 1_000_000);
    // Unaccepted cycles come back.
    let before = d.cycle_balance(caller);
    parse(ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 5_000_000_000, &[])))).unwrap();
    let spent = before - d.cycle_balance(caller);
    assert!(spent < 1_000_000_000, "5 B attached were refunded, spent only fees: {spent}");
    // deposit_cycles through the management canister.
    let arg = candid::encode_one(depot_devnet::management::types::CanisterIdRecord { canister_id: callee }).unwrap();
    let before = d.cycle_balance(callee);
    let mgmt = Principal::management_canister();
    parse(ok(upd(&mut d, caller, "call", &call_arg(mgmt, "deposit_cycles", 3_000_000_000, &arg)))).unwrap();
    assert_eq!(d.cycle_balance(callee), before + 3_000_000_000);
}

#[test]
fn fees_are_charged_and_exhaustion_freezes() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let before = d.cycle_balance(c);
    ok(upd(&mut d, c, "inc", &[]));
    let spent = before - d.cycle_balance(c);
    assert!(spent >= 5_000_000 + 1_200_000, "update base + ingress fee: {spent}");
    let before = d.cycle_balance(c);
    ok(qry(&mut d, c, "get", &[]));
    assert_eq!(d.cycle_balance(c), before, "queries are free");
    d.inject_fault(depot_devnet::Fault::ExhaustCycles(c));
    assert!(d.is_frozen(c));
    assert_eq!(rej(upd(&mut d, c, "inc", &[])).code, RejectCode::SysTransient);
    d.add_cycles(c, CYCLES);
    ok(upd(&mut d, c, "inc", &[]));
}

#[test]
fn storage_fee_accrues_with_time() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "stable_grow", &16384u64.to_le_bytes())); // 1 GiB
    d.tick();
    let before = d.cycle_balance(c);
    d.advance_time(std::time::Duration::from_secs(100));
    d.tick();
    let spent = before - d.cycle_balance(c);
    assert!(spent >= 127_000 * 100, "1 GiB for 100 s costs >= 12.7 M: {spent}");
}
