//! Collecting a deposit's payment with PAPI's guards (`ic-papi-guard`
//! 0.1.1). Each `Payment` maps to the one guard for it; the guards are used
//! directly rather than through `PaymentGuard<CAP>`, whose list of accepted
//! ledgers is a constant, while Depot's is a setting checked beforehand
//! (`logic::billing::begin_deposit`).
//!
//! What a guard does: `AttachedCycles` accepts the amount from the cycles
//! attached to this call; the cycles paths call `withdraw_from` on the
//! cycles ledger (`um5iw-rqaaa-aaaaq-qaaba-cai`), which sends the cycles to
//! this canister; the token paths call `icrc2_transfer_from` into this
//! canister's main account. A call rejected or answered with an error took
//! nothing (calls here are guaranteed-response: a reject means the ledger
//! did not commit the transfer).

use depot_api::billing::{Account, BillingError, Payment};
use ic_papi_api::PaymentError;
use ic_papi_api::cycles::cycles_ledger_canister_id;
use ic_papi_guard::guards::PaymentGuardTrait;
use ic_papi_guard::guards::attached_cycles::AttachedCyclesPayment;
use ic_papi_guard::guards::caller_pays_icrc2_cycles::CallerPaysIcrc2CyclesPaymentGuard;
use ic_papi_guard::guards::caller_pays_icrc2_tokens::CallerPaysIcrc2TokensPaymentGuard;
use ic_papi_guard::guards::patron_pays_icrc2_cycles::PatronPaysIcrc2CyclesPaymentGuard;
use ic_papi_guard::guards::patron_pays_icrc2_tokens::PatronPaysIcrc2TokensPaymentGuard;

fn papi_account(a: &Account) -> ic_papi_api::Account {
    ic_papi_api::Account { owner: a.owner, subaccount: a.subaccount.clone() }
}

/// Takes `amount` (cycles, or the token's smallest unit) through the guard
/// of `payment`.
pub async fn collect(payment: &Payment, amount: u64) -> Result<(), BillingError> {
    let result = match payment {
        Payment::AttachedCycles => AttachedCyclesPayment {}.deduct(amount).await,
        Payment::CallerPaysIcrc2Cycles => CallerPaysIcrc2CyclesPaymentGuard {}.deduct(amount).await,
        Payment::PatronPaysIcrc2Cycles(patron) => {
            PatronPaysIcrc2CyclesPaymentGuard { patron: papi_account(patron) }.deduct(amount).await
        }
        Payment::CallerPaysIcrc2Tokens(t) => {
            CallerPaysIcrc2TokensPaymentGuard { ledger: t.ledger }.deduct(amount).await
        }
        Payment::PatronPaysIcrc2Tokens(t) => {
            PatronPaysIcrc2TokensPaymentGuard { ledger: t.ledger, patron: papi_account(&t.patron) }.deduct(amount).await
        }
    };
    result.map_err(|e| billing_error(e, payment))
}

/// PAPI's error as Depot's typed one.
pub fn billing_error(e: PaymentError, payment: &Payment) -> BillingError {
    let ledger = payment.token_ledger().unwrap_or_else(cycles_ledger_canister_id);
    match e {
        PaymentError::UnsupportedPaymentType => BillingError::UnsupportedPayment { reason: payment.kind().into() },
        PaymentError::LedgerUnreachable { ledger } => BillingError::LedgerUnreachable { ledger },
        PaymentError::LedgerWithdrawFromError { ledger, error } => {
            BillingError::PaymentFailed { ledger, reason: format!("{error:?}") }
        }
        PaymentError::LedgerTransferFromError { ledger, error } => {
            BillingError::PaymentFailed { ledger, reason: format!("{error:?}") }
        }
        PaymentError::InsufficientFunds { needed, available } => BillingError::InsufficientFunds { needed, available },
        PaymentError::InvalidPatron => {
            BillingError::InvalidRequest { reason: "the patron cannot be the directory".into() }
        }
        other => BillingError::PaymentFailed { ledger, reason: format!("{other:?}") },
    }
}
