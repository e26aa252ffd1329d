//! Stored records of billing (`docs/billing.md`): the pricing, one credit
//! account per user, their movements and the deposit journal. The rules
//! that change them are in `logic::billing`.

use super::storable::cbor_storable;
use candid::Principal;
use depot_api::billing::{DepositRes, Movement, Payment, Pricing};
use serde::{Deserialize, Serialize};

pub const TRILLION: u128 = 1_000_000_000_000;

/// The pricing cell's value: the defaults (`Pricing::default`) until `admin_set_pricing`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StoredPricing(pub Pricing);
cbor_storable!(StoredPricing);

/// A user's credit, in cycles. `balance − held` is what new uploads may
/// hold; `owed` is storage that accrued while the balance was empty, paid
/// first by the next deposit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CreditAccount {
    pub balance: u128,
    pub owed: u128,
    /// Held by uploads in progress (their `Reservation::Credit::hold`).
    pub held: u128,
    /// Billable bytes of uploads in progress.
    pub held_bytes: u64,
    /// Billable bytes of the user's Ready files that were billed.
    pub stored_bytes: u64,
    /// Storage is charged up to this time.
    pub last_accrual_ns: u64,
    /// When the account first owed (cleared when paid).
    pub owed_since_ns: Option<u64>,
    /// Sequence number of the next movement.
    pub next_movement: u64,
    pub deposits_in_flight: u32,
    /// Every cycle ever credited and charged: `deposited + owed = balance +
    /// charged` always holds (the books).
    pub deposited: u128,
    pub charged: u128,
    /// The buckets were brought to (or are being brought to) hold the
    /// user's files back: `logic::suspension` compares it with the state.
    #[serde(default)]
    pub files_suspended: bool,
    /// Times of the deposits started in the last rate window (at most
    /// `DEPOSITS_PER_MINUTE`).
    #[serde(default)]
    pub recent_deposits_ns: Vec<u64>,
}
cbor_storable!(CreditAccount);

impl CreditAccount {
    pub fn available(&self) -> u128 {
        self.balance.saturating_sub(self.held)
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StoredMovement(pub Movement);
cbor_storable!(StoredMovement);

/// One deposit, by (user, nonce).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DepositEntry {
    pub payment: Payment,
    pub amount: u64,
    /// The client's `created_at_ns`: the entry is dropped once it leaves the
    /// deposit window, when the nonce can no longer be replayed.
    pub created_at_ns: u64,
    pub state: DepositState,
}
cbor_storable!(DepositEntry);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum DepositState {
    /// The ledger call is out (since `since_ns`).
    InFlight { since_ns: u64 },
    /// Credited.
    Credited(DepositRes),
    /// Nothing was paid; the error the caller got.
    Failed(depot_api::billing::BillingError),
}

/// What an upload session holds, from `start_upload` until commit (settled)
/// or abort and expiry (released): see `logic::accounting`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Sessions started before billing existed: nothing held, nothing
    /// charged at commit, and the file's bytes are not billed.
    Free { user: Principal, bytes: u64 },
    /// `hold` cycles held; `upload_cycles` of them are charged at commit
    /// (ingress and call fee, at the prices of `start_upload`), the rest
    /// released. `billable` bytes join the account's stored bytes.
    Credit { user: Principal, bytes: u64, billable: u64, upload_cycles: u128, hold: u128 },
}
cbor_storable!(Reservation);

impl Reservation {
    pub fn bytes(&self) -> u64 {
        match self {
            Reservation::Free { bytes, .. } | Reservation::Credit { bytes, .. } => *bytes,
        }
    }
}
