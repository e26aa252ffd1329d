//! Candid types of the directory's billing (`docs/billing.md`): pricing,
//! credit accounts, deposits through PAPI, and their errors.
//!
//! Amounts of credit are cycles (`nat`, a `u128` here): Depot's own costs
//! are cycles, so credit kept in cycles never needs a price feed. Token
//! deposits are converted once, at deposit, at the rate the operator set.
//!
//! [`Payment`] has the Candid shape of PAPI's `PaymentType`
//! (`ic-papi-api` 0.1.1), so a PAPI client's value decodes as it; it is
//! declared here so that clients need no canister crates.

use crate::error::DirectoryError;
use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// An ICRC-1 account.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub owner: Principal,
    pub subaccount: Option<ByteBuf>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallerPaysIcrc2Tokens {
    pub ledger: Principal,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PatronPaysIcrc2Tokens {
    pub ledger: Principal,
    pub patron: Account,
}

/// How a deposit is paid: PAPI's `PaymentType`.
///
/// - `AttachedCycles`: cycles attached to the call (canister callers only:
///   ingress messages carry none).
/// - `CallerPaysIcrc2Cycles`: from the caller's cycles-ledger account, which
///   approved the directory for `amount` plus the ledger fee.
/// - `PatronPaysIcrc2Cycles(patron)`: from the patron's cycles-ledger
///   account; the patron approved the directory with
///   `spender_subaccount = principal2account(caller)`.
/// - `CallerPaysIcrc2Tokens` / `PatronPaysIcrc2Tokens`: the same on a token
///   ledger the operator configured ([`Pricing::tokens`]).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Payment {
    AttachedCycles,
    CallerPaysIcrc2Cycles,
    PatronPaysIcrc2Cycles(Account),
    CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens),
    PatronPaysIcrc2Tokens(PatronPaysIcrc2Tokens),
}

impl Payment {
    /// The token ledger paid on, for the token paths.
    pub fn token_ledger(&self) -> Option<Principal> {
        match self {
            Payment::CallerPaysIcrc2Tokens(t) => Some(t.ledger),
            Payment::PatronPaysIcrc2Tokens(t) => Some(t.ledger),
            _ => None,
        }
    }

    /// A short name, for movements and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Payment::AttachedCycles => "AttachedCycles",
            Payment::CallerPaysIcrc2Cycles => "CallerPaysIcrc2Cycles",
            Payment::PatronPaysIcrc2Cycles(_) => "PatronPaysIcrc2Cycles",
            Payment::CallerPaysIcrc2Tokens(_) => "CallerPaysIcrc2Tokens",
            Payment::PatronPaysIcrc2Tokens(_) => "PatronPaysIcrc2Tokens",
        }
    }
}

/// A token ledger the directory accepts, and its price.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TokenPrice {
    pub ledger: Principal,
    pub symbol: String,
    pub decimals: u8,
    /// The ledger's transfer fee, in the token's smallest unit: the payer's
    /// approval must cover the amount plus this.
    pub ledger_fee: u64,
    /// Cycles of credit per smallest unit of the token.
    pub cycles_per_unit: u64,
}

/// What Depot charges, all in cycles. `admin_set_pricing` sets it;
/// `get_pricing` reads it.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Pricing {
    /// Storage, per GiB (2^30 bytes) per 30-day month, accrued continuously.
    pub storage_cycles_per_gib_month: u128,
    /// Upload, per GiB, charged once at commit.
    pub ingress_cycles_per_gib: u128,
    /// Charged at each commit, on top.
    pub call_fee_cycles: u128,
    /// Smallest deposit, in cycles (a token deposit counts at its rate).
    pub min_deposit_cycles: u128,
    /// `start_upload` needs credit for this many days of storage of
    /// everything the user would then store.
    pub first_period_days: u32,
    /// Bytes per user never charged (the free tier).
    pub free_bytes: u64,
    /// Days an account may owe before its files stop being served.
    pub grace_days: u32,
    /// Days after that before its files are deleted.
    pub deletion_days: u32,
    pub tokens: Vec<TokenPrice>,
}

const TRILLION: u128 = 1_000_000_000_000;

impl Default for Pricing {
    /// The defaults, derived from the IC's fees in `docs/billing.md` §2.
    fn default() -> Self {
        Pricing {
            storage_cycles_per_gib_month: TRILLION,
            ingress_cycles_per_gib: 3 * TRILLION,
            call_fee_cycles: 0,
            min_deposit_cycles: TRILLION / 10,
            first_period_days: 30,
            free_bytes: 100 * 1024 * 1024,
            grace_days: 30,
            deletion_days: 30,
            tokens: Vec::new(),
        }
    }
}

/// `estimate_upload_cost`: what `start_upload` of `bytes` would hold now.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadCost {
    /// Bytes charged: each chunk counts at least `MIN_BILLABLE_CHUNK_BYTES`.
    pub billable_bytes: u64,
    /// Of them, the bytes the free tier does not cover.
    pub charged_bytes: u64,
    /// Charged at commit: ingress and the call fee.
    pub upload_cycles: u128,
    /// Storage of the new bytes for the first period, held at start and
    /// released at commit (storage then accrues per day).
    pub first_period_cycles: u128,
    /// Held by `start_upload`: `upload_cycles + first_period_cycles`.
    pub cycles: u128,
    /// Credit `start_upload` requires: `cycles` plus the first period of
    /// what the user already stores.
    pub required_cycles: u128,
    /// Credit available now.
    pub available_cycles: u128,
    /// When credit is short, what to deposit in each accepted token: the
    /// shortfall (`required_cycles − available_cycles`, and at least the
    /// minimum deposit) plus the ledger's fee.
    pub tokens: Vec<TokenAmount>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TokenAmount {
    pub ledger: Principal,
    pub symbol: String,
    pub amount: u64,
}

/// `deposit`: `amount` is in cycles for the cycles paths and in the token's
/// smallest unit for the token paths. `nonce` identifies the deposit: a
/// retry with the same nonce returns the first outcome and never pays
/// twice. `created_at_ns` bounds how long the nonce is remembered.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DepositReq {
    pub payment: Payment,
    pub amount: u64,
    pub nonce: ByteBuf,
    pub created_at_ns: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DepositRes {
    pub credited_cycles: u128,
    /// Cycles per smallest token unit applied (1 for cycles).
    pub rate: u64,
    pub balance_cycles: u128,
    /// The deposit's movement in `get_balance`.
    pub movement: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    /// Nothing owed.
    Active,
    /// Storage is owed since `since_ns`: files are served, uploads refused.
    Grace { since_ns: u64, suspend_at_ns: u64 },
    /// Past the grace period: files are not served.
    Suspended { since_ns: u64, delete_at_ns: u64 },
}

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeKind {
    /// An upload, at commit: its bytes and the per-commit fee.
    Ingress,
    /// Stored bytes over time.
    Storage,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum MovementKind {
    Deposit {
        payment: String,
        ledger: Option<Principal>,
        amount: u64,
        rate: u64,
    },
    /// `from_ns..to_ns`: the period a storage charge covers (for the other
    /// kinds, the moment).
    Charge {
        kind: ChargeKind,
        from_ns: u64,
        to_ns: u64,
    },
    /// Credit given back (an operator's correction).
    Refund {
        reason: String,
    },
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub seq: u64,
    pub at_ns: u64,
    pub kind: MovementKind,
    /// Credit added (deposits, refunds) or taken (charges).
    pub cycles: u128,
}

/// `get_balance`.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub balance_cycles: u128,
    /// Storage accrued that the balance could not pay.
    pub owed_cycles: u128,
    /// Held by uploads in progress.
    pub held_cycles: u128,
    pub available_cycles: u128,
    /// Bytes stored, as billed (each chunk at least the minimum).
    pub billable_bytes: u64,
    /// Of them, beyond the free tier: what storage is charged on.
    pub charged_bytes: u64,
    pub free_bytes: u64,
    pub burn_cycles_per_day: u128,
    /// Whole days the available credit lasts at this burn; none when
    /// nothing burns.
    pub runway_days: Option<u64>,
    pub state: AccountState,
    /// Every cycle ever credited and charged: `deposited + owed = balance +
    /// charged` always holds.
    pub deposited_cycles: u128,
    pub charged_cycles: u128,
    /// Newest first; at most `MAX_MOVEMENTS_PER_USER`.
    pub movements: Vec<Movement>,
}

/// Errors of the billing methods (`deposit`, `get_balance`,
/// `estimate_upload_cost`, `get_pricing`, `admin_set_pricing`). A separate
/// type from [`DirectoryError`]: a returned variant cannot gain cases
/// without breaking released clients.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("unauthorised")]
    Unauthorised,
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    #[error("deposit of {amount_cycles} cycles is below the minimum of {min_cycles}")]
    BelowMinimum { amount_cycles: u128, min_cycles: u128 },
    #[error("token ledger {ledger} is not accepted")]
    UnsupportedToken { ledger: Principal },
    #[error("payment type not accepted: {reason}")]
    UnsupportedPayment { reason: String },
    /// Attached cycles short of the amount.
    #[error("insufficient funds: {needed} needed, {available} available")]
    InsufficientFunds { needed: u64, available: u64 },
    /// The ledger refused (allowance, balance, fee, ...): nothing was paid.
    #[error("payment failed on ledger {ledger}: {reason}")]
    PaymentFailed { ledger: Principal, reason: String },
    /// The ledger could not be called: nothing was paid.
    #[error("ledger {ledger} unreachable")]
    LedgerUnreachable { ledger: Principal },
    /// A deposit with this nonce is being paid; ask again for its outcome.
    #[error("a deposit with this nonce is in progress")]
    DepositInProgress,
    #[error("too many deposits in progress (limit {limit})")]
    TooManyDepositsInProgress { limit: u32 },
    #[error("too many deposits: retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("created_at_ns is outside the deposit window: {reason}")]
    OutsideDepositWindow { reason: String },
    #[error("internal error: {message}")]
    InternalError { message: String },
}

impl From<DirectoryError> for BillingError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Unauthorised => BillingError::Unauthorised,
            DirectoryError::InvalidRequest { reason } => BillingError::InvalidRequest { reason },
            other => BillingError::InternalError { message: other.to_string() },
        }
    }
}

/// `admin_resolve_deposit`: the operator settles a deposit whose ledger
/// call never returned (the directory was upgraded without being stopped
/// while it was out), after looking the transfer up on the ledger.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ResolveDepositReq {
    pub user: Principal,
    pub nonce: ByteBuf,
    /// The ledger shows the transfer: credit it. Otherwise it failed.
    pub paid: bool,
}

/// `admin_refund`: credit given to a user by the operator (a correction),
/// recorded as a `Refund` movement.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RefundReq {
    pub user: Principal,
    pub cycles: u128,
    pub reason: String,
}

/// `admin_charge_storage`: one run of the storage-charging job.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChargeRun {
    /// Accounts charged (not charged for 12 hours).
    pub charged: u64,
    /// Accounts whose files were held back, served again or deleted.
    pub attention: u64,
}

pub type ChargeRunResult = Result<ChargeRun, BillingError>;
pub type PricingResult = Result<Pricing, BillingError>;
pub type UploadCostResult = Result<UploadCost, BillingError>;
pub type DepositResult = Result<DepositRes, BillingError>;
pub type BalanceResult = Result<Balance, BillingError>;
pub type BillingUnitResult = Result<(), BillingError>;

/// The cycles ledger: PAPI's cycles payments go through it, at this id on
/// mainnet and on local networks alike.
pub const CYCLES_LEDGER_ID: &str = "um5iw-rqaaa-aaaaq-qaaba-cai";

pub fn cycles_ledger_id() -> Principal {
    Principal::from_text(CYCLES_LEDGER_ID).expect("a valid principal")
}
