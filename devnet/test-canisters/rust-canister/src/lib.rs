//! Test canister for devnet: exercises ic-cdk 0.17 (async calls, composite
//! queries, traps), ic-cdk-timers 0.11 and ic-stable-structures 0.7.

use std::cell::RefCell;
use std::time::Duration;

use candid::Principal;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{DefaultMemoryImpl, StableBTreeMap};

type Mem = VirtualMemory<DefaultMemoryImpl>;

thread_local! {
    static MM: RefCell<MemoryManager<DefaultMemoryImpl>> = RefCell::new(MemoryManager::init(DefaultMemoryImpl::default()));
    static MAP: RefCell<StableBTreeMap<u64, String, Mem>> =
        RefCell::new(StableBTreeMap::init(MM.with(|m| m.borrow().get(MemoryId::new(0)))));
    static COUNTER: RefCell<u64> = const { RefCell::new(0) };
    static TIMER_FIRED: RefCell<u64> = const { RefCell::new(0) };
}

#[ic_cdk::update]
fn put(k: u64, v: String) {
    MAP.with(|m| m.borrow_mut().insert(k, v));
}

#[ic_cdk::query]
fn get(k: u64) -> Option<String> {
    MAP.with(|m| m.borrow().get(&k))
}

#[ic_cdk::update]
fn put_then_trap(k: u64, v: String) {
    MAP.with(|m| m.borrow_mut().insert(k, v));
    COUNTER.with(|c| *c.borrow_mut() += 100);
    ic_cdk::trap("boom");
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

#[ic_cdk::update]
fn schedule(secs: u64) {
    ic_cdk_timers::set_timer(Duration::from_secs(secs), || TIMER_FIRED.with(|t| *t.borrow_mut() += 1));
}

#[ic_cdk::update]
fn schedule_interval(secs: u64) {
    ic_cdk_timers::set_timer_interval(Duration::from_secs(secs), || TIMER_FIRED.with(|t| *t.borrow_mut() += 1));
}

#[ic_cdk::query]
fn timer_fired() -> u64 {
    TIMER_FIRED.with(|t| *t.borrow())
}

#[ic_cdk::update]
async fn call_inc(other: Principal) -> u64 {
    let (n,): (u64,) = ic_cdk::call(other, "inc", ()).await.expect("call inc");
    COUNTER.with(|c| *c.borrow_mut() += 10);
    n
}

/// State before the await is committed; state after it is rolled back.
#[ic_cdk::update]
async fn inc_call_then_trap(other: Principal) -> u64 {
    COUNTER.with(|c| *c.borrow_mut() += 1);
    let _: (u64,) = ic_cdk::call(other, "inc", ()).await.expect("call inc");
    COUNTER.with(|c| *c.borrow_mut() += 1000);
    ic_cdk::trap("after await");
}

#[ic_cdk::update]
async fn call_missing(other: Principal) -> String {
    match ic_cdk::call::<(), (u64,)>(other, "no_such_method", ()).await {
        Ok(_) => "ok".into(),
        Err((code, msg)) => format!("{code:?}: {msg}"),
    }
}

#[ic_cdk::update]
async fn rand() -> Vec<u8> {
    ic_cdk::api::management_canister::main::raw_rand().await.expect("raw_rand").0
}

#[ic_cdk::query(composite = true)]
async fn composite_counter(other: Principal) -> u64 {
    let (n,): (u64,) = ic_cdk::call(other, "counter", ()).await.expect("call counter");
    n
}

#[ic_cdk::query]
fn whoami() -> Principal {
    ic_cdk::caller()
}

#[ic_cdk::query]
fn balance() -> u128 {
    ic_cdk::api::canister_balance128()
}

#[ic_cdk::update]
fn set_cert(data: Vec<u8>) {
    ic_cdk::api::set_certified_data(&data);
}

#[ic_cdk::query]
fn has_cert() -> bool {
    ic_cdk::api::data_certificate().is_some()
}

#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    let n = COUNTER.with(|c| *c.borrow());
    MAP.with(|m| m.borrow_mut().insert(u64::MAX, n.to_string()));
}

#[ic_cdk::post_upgrade]
fn post_upgrade() {
    let n = MAP.with(|m| m.borrow().get(&u64::MAX)).and_then(|s| s.parse().ok()).unwrap_or(0);
    COUNTER.with(|c| *c.borrow_mut() = n);
}
