//! Billing hook of the upload path: what an upload is charged, and when.
//!
//! The hooks are called only by the usage accounting
//! (`logic::accounting`), so a charge moves with the usage it pays for:
//! `accounting::reserve` (at `start_upload`) calls [`BillingPolicy::reserve`]
//! after the usage counters were checked and before any state changes; the
//! [`Reservation`] is stored in the upload session, and the session ends with
//! exactly one of `accounting::settle` → [`BillingPolicy::settle`] (commit)
//! or `accounting::release` → [`BillingPolicy::release`] (abort, expiry,
//! hash mismatch).
//!
//! Today's only policy is [`BillingPolicy::Free`]: nothing is charged. A
//! paying policy is a new variant (e.g. a prepaid ICRC-2 or cycles
//! deduction whose receipt goes into `Reservation`) and needs no change to
//! the upload path. Quotas are enforced separately, in every policy.

use crate::model::storable::cbor_storable;
use candid::Principal;
use depot_api::DirectoryError;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BillingPolicy {
    /// No charge.
    #[default]
    Free,
}

/// What was reserved for one upload; kept in the upload session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Nothing charged; records who and how much for accounting and for a
    /// later policy to settle against.
    Free { user: Principal, bytes: u64 },
}
cbor_storable!(Reservation);

impl Reservation {
    pub fn bytes(&self) -> u64 {
        match self {
            Reservation::Free { bytes, .. } => *bytes,
        }
    }
}

impl BillingPolicy {
    /// Reserves payment for an upload of `bytes`. An error is returned to the
    /// caller as is (e.g. `InsufficientCredit` under a paying policy).
    pub fn reserve(&self, user: Principal, bytes: u64) -> Result<Reservation, DirectoryError> {
        match self {
            BillingPolicy::Free => Ok(Reservation::Free { user, bytes }),
        }
    }

    /// Turns a reservation into a charge, at commit.
    pub fn settle(&self, reservation: &Reservation) {
        match (self, reservation) {
            (BillingPolicy::Free, Reservation::Free { .. }) => {}
        }
    }

    /// Gives a reservation back, at abort or expiry.
    pub fn release(&self, reservation: &Reservation) {
        match (self, reservation) {
            (BillingPolicy::Free, Reservation::Free { .. }) => {}
        }
    }
}
