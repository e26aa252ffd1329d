//! Test canister for devnet on ic-cdk 0.20: its `probe` method touches every
//! System API wrapper of `ic_cdk::api`, so installing it proves devnet links
//! all of them with the right signatures; the other methods run them.

use std::cell::RefCell;

use candid::Principal;
use ic_cdk::api;
use ic_cdk::call::Call;

thread_local! {
    static COUNTER: RefCell<u64> = const { RefCell::new(0) };
}

#[ic_cdk::update]
fn inc() -> u64 {
    COUNTER.with(|c| {
        *c.borrow_mut() += 1;
        *c.borrow()
    })
}

#[ic_cdk::query]
fn counter() -> u64 {
    COUNTER.with(|c| *c.borrow())
}

/// Bounded-wait (best-effort) call, then an unbounded-wait one.
#[ic_cdk::update]
async fn call_inc(other: Principal) -> (u64, u64) {
    let a: u64 = Call::bounded_wait(other, "inc").await.expect("bounded call").candid().expect("decode");
    let b: u64 = Call::unbounded_wait(other, "inc").await.expect("unbounded call").candid().expect("decode");
    (a, b)
}

#[ic_cdk::update]
async fn rand() -> Vec<u8> {
    let res = Call::unbounded_wait(Principal::management_canister(), "raw_rand").await.expect("raw_rand");
    res.candid::<Vec<u8>>().expect("decode")
}

#[ic_cdk::update]
async fn call_missing(other: Principal) -> String {
    match Call::unbounded_wait(other, "no_such_method").await {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e}"),
    }
}

/// Calls every wrapper; returns a few values the test can check.
#[ic_cdk::update]
fn probe() -> (Principal, u32, u64, bool, u64) {
    let _ = api::msg_arg_data();
    let caller = api::msg_caller();
    let _ = api::msg_caller_info_data();
    let _ = api::msg_caller_info_signer();
    let _ = api::msg_deadline();
    let _ = api::msg_cycles_available();
    let _ = api::msg_cycles_accept(0);
    let _ = api::cycles_burn(0);
    let _ = api::canister_self();
    let _ = api::canister_cycle_balance();
    let _ = api::canister_liquid_cycle_balance();
    let status = api::canister_status();
    let _ = api::canister_version();
    let _ = api::subnet_self();
    let nodes = api::subnet_self_node_count();
    let _ = api::stable_size();
    let _ = api::stable_grow(0);
    let _ = api::root_key();
    api::certified_data_set([1u8; 4]);
    let _ = api::data_certificate();
    let t = api::time();
    let _ = api::global_timer_set(0);
    let _ = api::instruction_counter();
    let _ = api::call_context_instruction_counter();
    let _ = api::is_controller(&caller);
    let replicated = api::in_replicated_execution();
    let _ = api::cost_call(3, 10);
    let _ = api::cost_create_canister();
    let _ = api::cost_http_request(100, 1000);
    let _ = api::cost_http_request_v2(&[]);
    let _ = api::cost_sign_with_ecdsa("key", 0);
    let _ = api::cost_sign_with_schnorr("key", 0);
    let _ = api::cost_vetkd_derive_key("key", 0);
    let _ = api::env_var_count();
    let _ = api::env_var_name_exists("X");
    api::debug_print("probe");
    let _ = format!("{status:?}");
    (caller, nodes, t, replicated, api::canister_version())
}

#[ic_cdk::query]
fn probe_query() -> (bool, bool) {
    (api::in_replicated_execution(), api::data_certificate().is_some())
}

#[ic_cdk::update]
fn stable_roundtrip() -> Vec<u8> {
    if api::stable_size() == 0 {
        api::stable_grow(1);
    }
    api::stable_write(10, b"hello");
    let mut buf = [0u8; 5];
    api::stable_read(10, &mut buf);
    buf.to_vec()
}

#[ic_cdk::inspect_message]
fn inspect() {
    if api::msg_method_name() != "refused" {
        api::accept_message();
    }
}

#[ic_cdk::update]
fn refused() {}
