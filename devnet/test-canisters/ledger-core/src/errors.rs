//! One error type for every ledger operation; each canister maps it onto
//! the variants of the Candid error type its method returns.

/// Why a ledger operation was refused. Nothing changes when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    BadFee {
        expected_fee: u128,
    },
    BadBurn {
        min_burn_amount: u128,
    },
    InsufficientFunds {
        balance: u128,
    },
    InsufficientAllowance {
        allowance: u128,
    },
    TooOld,
    CreatedInFuture {
        ledger_time: u64,
    },
    Duplicate {
        duplicate_of: u64,
    },
    AllowanceChanged {
        current_allowance: u128,
    },
    Expired {
        ledger_time: u64,
    },
    /// Refusals without a variant of their own (a memo too long, an
    /// approval of oneself); the real ledgers trap on some of these.
    Generic {
        error_code: u64,
        message: String,
    },
}

impl LedgerError {
    pub fn generic(message: impl Into<String>) -> Self {
        LedgerError::Generic { error_code: 0, message: message.into() }
    }
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
