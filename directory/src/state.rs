//! The canister's one `State`, opened lazily over stable memory.

use crate::model::State;
use ic_stable_structures::DefaultMemoryImpl;
use std::cell::RefCell;

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

pub fn read<R>(f: impl FnOnce(&State) -> R) -> R {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        f(s.get_or_insert_with(|| State::load(DefaultMemoryImpl::default())))
    })
}

pub fn mutate<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        f(s.get_or_insert_with(|| State::load(DefaultMemoryImpl::default())))
    })
}
