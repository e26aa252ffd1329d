//! Fault injection for tests: methods that trap or are rejected, and
//! messages held back on a route (a slow link, or an upgrade between the two
//! halves of an `await`).

mod support;

use candid::{Encode, Principal};
use depot_devnet::management::types::CanisterIdRecord;
use depot_devnet::{CanisterStatus, Devnet, Fault, IngressMessage, InstallMode, RejectCode, RequestStatus, Route};
use support::conformance::*;

fn setup() -> (Devnet, Principal, Principal) {
    let mut d = devnet();
    let caller = install(&mut d, &caller_wat());
    let callee = install(&mut d, &counter_wat());
    (d, caller, callee)
}

/// Submits an ingress update without running it; the id to poll.
fn submit(d: &mut Devnet, n: u8, canister: Principal, method: &str, arg: Vec<u8>) -> [u8; 32] {
    let request_id = [n; 32];
    let msg = IngressMessage {
        request_id,
        sender: user(),
        canister_id: canister,
        method_name: method.into(),
        arg,
        ingress_expiry: 0,
        effective_canister_id: canister,
    };
    d.submit_ingress(msg).expect("accepted");
    request_id
}

fn replied(d: &Devnet, id: &[u8; 32]) -> Vec<u8> {
    match d.request_status(id) {
        Some(RequestStatus::Replied(b)) => b,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn counter(d: &mut Devnet, c: Principal) -> u32 {
    u32_of(&ok(qry(d, c, "get", &[])))
}

#[test]
fn trap_method_rolls_back_the_next_calls_then_wears_off() {
    let (mut d, caller, callee) = setup();
    d.inject_fault(Fault::TrapMethod { canister: callee, method: "inc".into(), times: 2 });
    for _ in 0..2 {
        let r = rej(upd(&mut d, callee, "inc", &[]));
        assert_eq!(r.code, RejectCode::CanisterError);
        assert!(r.message.contains("trapped") && r.message.contains("TrapMethod"), "{}", r.message);
    }
    assert_eq!(counter(&mut d, callee), 0, "both executions rolled back");
    // Other methods are unaffected; the fault is used up.
    ok(upd(&mut d, callee, "echo_update", b"x"));
    assert_eq!(u32_of(&ok(upd(&mut d, callee, "inc", &[]))), 1);

    // A canister caller sees the trap as a reject of its call.
    d.inject_fault(Fault::TrapMethod { canister: callee, method: "inc".into(), times: 1 });
    let out = ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 0, &[])));
    assert_eq!((out[0], out[1]), (b'J', RejectCode::CanisterError as u8));
    assert_eq!(counter(&mut d, callee), 1);
    let out = ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 0, &[])));
    assert_eq!(out[0], b'R');
    assert_eq!(counter(&mut d, callee), 2);
}

#[test]
fn reject_call_refuses_before_the_callee_runs() {
    let (mut d, caller, callee) = setup();
    d.inject_fault(Fault::RejectCall { canister: callee, method: "inc".into(), times: 1 });
    let before = d.cycle_balance(callee);
    let out = ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 0, &[])));
    assert_eq!((out[0], out[1]), (b'J', RejectCode::SysTransient as u8));
    assert_eq!(d.cycle_balance(callee), before, "the callee never ran: no execution fee");
    assert_eq!(counter(&mut d, callee), 0);
    assert_eq!(ok(upd(&mut d, caller, "call", &call_arg(callee, "inc", 0, &[])))[0], b'R');

    // clear_faults removes unused ones.
    d.inject_fault(Fault::RejectCall { canister: callee, method: "inc".into(), times: 5 });
    d.clear_faults();
    ok(upd(&mut d, callee, "inc", &[]));
}

#[test]
fn held_responses_wait_until_released() {
    let (mut d, caller, callee) = setup();
    let back = Route::new(callee, caller);
    d.hold_messages(back);
    let id = submit(&mut d, 1, caller, "call", call_arg(callee, "inc", 0, &[]));
    d.tick();
    assert_eq!(counter(&mut d, callee), 1, "the callee ran");
    assert_eq!(d.held_messages(back), 1, "its response waits");
    assert_eq!(d.request_status(&id), Some(RequestStatus::Processing));
    d.advance_time(std::time::Duration::from_secs(3600));
    d.tick();
    assert_eq!(d.request_status(&id), Some(RequestStatus::Processing), "held however long time runs");
    // Other routes keep flowing.
    ok(upd(&mut d, callee, "inc", &[]));
    assert_eq!(d.release_messages(back), 1);
    assert_eq!(d.held_messages(back), 0);
    d.tick();
    let out = replied(&d, &id);
    assert_eq!((out[0], u32_of(&out[1..])), (b'R', 1));
}

#[test]
fn held_requests_are_delivered_in_order() {
    let (mut d, caller, callee) = setup();
    let there = Route::new(caller, callee);
    d.hold_messages(there);
    let a = submit(&mut d, 1, caller, "call", call_arg(callee, "log", 0, b"a"));
    let b = submit(&mut d, 2, caller, "call", call_arg(callee, "log", 0, b"b"));
    d.tick();
    assert_eq!(d.held_messages(there), 2);
    assert!(ok(qry(&mut d, callee, "get_log", &[])).is_empty(), "nothing delivered");
    assert_eq!(d.release_messages(there), 2);
    d.tick();
    assert_eq!(ok(qry(&mut d, callee, "get_log", &[])), b"ab");
    assert_eq!(replied(&d, &a)[0], b'R');
    assert_eq!(replied(&d, &b)[0], b'R');
}

#[test]
fn upgrade_between_call_and_response_rejects_the_open_call_and_drops_the_callback() {
    let (mut d, caller, callee) = setup();
    let back = Route::new(callee, caller);
    d.hold_messages(back);
    let id = submit(&mut d, 1, caller, "call", call_arg(callee, "inc", 0, &[]));
    d.tick();
    assert_eq!(d.held_messages(back), 1);
    d.install_code(user(), caller, &wasm(&caller_wat()), &[], InstallMode::Upgrade).unwrap();
    match d.request_status(&id) {
        Some(RequestStatus::Rejected(r)) => {
            assert_eq!(r.code, RejectCode::CanisterError);
            assert!(r.message.contains("upgraded"), "{}", r.message);
        }
        other => panic!("expected a reject, got {other:?}"),
    }
    d.release_messages(back);
    d.tick();
    assert_eq!(counter(&mut d, callee), 1, "the callee's work stays");
    // No context is left open: a stop completes at once.
    let stop = Encode!(&CanisterIdRecord { canister_id: caller }).unwrap();
    d.update(user(), Principal::management_canister(), "stop_canister", &stop).unwrap().result.unwrap();
    assert_eq!(d.canister_status(caller), Some(CanisterStatus::Stopped));
}

#[test]
fn a_stop_waits_for_a_held_response() {
    let (mut d, caller, callee) = setup();
    let back = Route::new(callee, caller);
    d.hold_messages(back);
    let call = submit(&mut d, 1, caller, "call", call_arg(callee, "inc", 0, &[]));
    let arg = Encode!(&CanisterIdRecord { canister_id: caller }).unwrap();
    let stop = submit(&mut d, 2, Principal::management_canister(), "stop_canister", arg);
    d.tick();
    assert_eq!(d.canister_status(caller), Some(CanisterStatus::Stopping));
    assert_eq!(d.request_status(&stop), Some(RequestStatus::Processing));
    d.release_messages(back);
    d.tick();
    assert_eq!(replied(&d, &call)[0], b'R', "a stopping canister still gets its responses");
    assert_eq!(d.canister_status(caller), Some(CanisterStatus::Stopped));
    replied(&d, &stop);
}
