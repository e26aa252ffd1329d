//! Messages executed, counted per canister, method and kind, so tests and
//! benchmarks can see what a client's action cost: for example that a
//! video seek was answered by queries alone, with no update call.
//!
//! Top-level queries (HTTP `query`, the gateway's `http_request`,
//! streaming callbacks) count as `Query`; every replicated execution of a
//! method (ingress and canister-to-canister calls, including query methods
//! called in replicated mode) counts as `Update`. Queries made by composite
//! queries are part of the top-level query and not counted on their own.

use std::collections::BTreeMap;

use candid::Principal;
use serde::Serialize;

use super::Devnet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Query,
    Update,
}

/// One line of [`Devnet::call_counts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallCount {
    /// Text form of the canister id.
    pub canister: String,
    pub method: String,
    pub kind: CallKind,
    pub count: u64,
}

#[derive(Debug, Default)]
pub(crate) struct CallCounters(BTreeMap<(Principal, String, CallKind), u64>);

impl CallCounters {
    pub(crate) fn count(&mut self, canister: Principal, method: &str, kind: CallKind) {
        *self.0.entry((canister, method.to_string(), kind)).or_default() += 1;
    }
}

impl Devnet {
    /// Every (canister, method, kind) executed since the start or the last
    /// [`Devnet::reset_call_counts`], sorted by canister, method and kind.
    pub fn call_counts(&self) -> Vec<CallCount> {
        self.call_counters
            .0
            .iter()
            .map(|((canister, method, kind), count)| CallCount {
                canister: canister.to_text(),
                method: method.clone(),
                kind: *kind,
                count: *count,
            })
            .collect()
    }

    /// How many times `method` of `canister` ran as `kind`.
    pub fn call_count(&self, canister: Principal, method: &str, kind: CallKind) -> u64 {
        self.call_counters.0.get(&(canister, method.to_string(), kind)).copied().unwrap_or(0)
    }

    pub fn reset_call_counts(&mut self) {
        self.call_counters.0.clear();
    }
}
