//! The canister's one `State`, opened over stable memory when the canister
//! first touches it: `init` and `post_upgrade` do so explicitly ([`open`]),
//! so a memory layout that does not load fails the install or upgrade
//! rather than a later call.

use crate::model::State;
use ic_stable_structures::DefaultMemoryImpl;
use std::cell::RefCell;

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::load(DefaultMemoryImpl::default()));
}

/// Opens the state (a no-op once it is open).
pub fn open() {
    STATE.with(|_| {});
}

pub fn read<R>(f: impl FnOnce(&State) -> R) -> R {
    STATE.with_borrow(f)
}

pub fn mutate<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with_borrow_mut(f)
}
