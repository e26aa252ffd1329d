//! TEST-ONLY cycles ledger for devnet, installed at the mainnet id
//! `um5iw-rqaaa-aaaaq-qaaba-cai` (PAPI hard-codes it). The subset that PAPI
//! and its clients use, with the real ledger's types (`ic-cycles-ledger-client`,
//! generated from `cycles-ledger.did`): `deposit` with attached cycles, ICRC-1
//! transfers and balances, ICRC-2 approvals, and `withdraw`/`withdraw_from`,
//! which send cycles to a canister through the management canister and
//! refund (less a fee per block) when that fails. Fee 100 M cycles, as on
//! mainnet. `create_canister` burns `amount + fee` and creates a canister
//! with `amount` cycles through the management canister (devnet has one
//! subnet: a subnet selection is accepted and not used), refunding less the
//! fee when that fails. The install argument may seed balances (what a
//! local network's launcher does for the anonymous principal). Not
//! implemented: `create_canister_from`, ICRC-3 blocks, HTTP. **Not for
//! mainnet.**

use candid::{Nat, Principal};
use ic_cdk::api::call::RejectionCode as CallRejection;
use ic_cdk::api::management_canister::main::{CanisterIdRecord, deposit_cycles};
use ic_cycles_ledger_client::{
    Account, Allowance, AllowanceArgs, ApproveArgs, ApproveError, CreateCanisterArgs, CreateCanisterError,
    CreateCanisterSuccess, DepositArgs, DepositResult, MetadataValue, RejectionCode, SupportedStandard, TransferArgs,
    TransferError, TransferFromArgs, TransferFromError, WithdrawArgs, WithdrawError, WithdrawFromArgs,
    WithdrawFromError,
};
use test_ledger_core::{Acct, Config, Ledger, LedgerError, amount, subaccount};

/// The mainnet cycles ledger's fee.
pub const FEE: u128 = 100_000_000;

test_ledger_core::ledger_canister_common!(Ledger::new(Config {
    name: "Trillion Cycles".into(),
    symbol: "TCYCLES".into(),
    decimals: 12,
    fee: FEE,
    minting_account: None,
}));
test_ledger_core::icrc_error_mappers!();

fn acct(a: &Account) -> Result<Acct, LedgerError> {
    Ok(Acct::new(a.owner, subaccount(a.subaccount.as_ref().map(|b| b.as_slice()))?))
}

fn caller_acct(sub: &Option<serde_bytes::ByteBuf>) -> Result<Acct, LedgerError> {
    Ok(Acct::new(ic_cdk::caller(), subaccount(sub.as_ref().map(|b| b.as_slice()))?))
}

fn now() -> u64 {
    ic_cdk::api::time()
}

fn nat(v: u128) -> Nat {
    Nat::from(v)
}

fn memo(m: Option<serde_bytes::ByteBuf>) -> Option<Vec<u8>> {
    m.map(|b| b.into_vec())
}

/// Install argument (ours: the real ledger takes `LedgerArgs`): balances
/// to start with, each minted as a deposit of that amount plus the fee.
#[derive(candid::CandidType, candid::Deserialize, Debug, Clone)]
pub struct CyclesLedgerInit {
    pub initial_balances: Vec<(Account, Nat)>,
}

#[ic_cdk::init]
fn init(arg: Option<CyclesLedgerInit>) {
    for (to, n) in arg.map(|a| a.initial_balances).unwrap_or_default() {
        let to = acct(&to).unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
        let n =
            amount(&n).and_then(|n| n.checked_add(FEE)).unwrap_or_else(|| ic_cdk::trap("an initial balance fits u128"));
        with(|l| l.deposit(now(), to, n, None)).unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
    }
}

/// Attached cycles, less the fee, become `to`'s balance. Fewer than the fee
/// plus one traps, so the cycles go back to the caller.
#[ic_cdk::update]
fn deposit(arg: DepositArgs) -> DepositResult {
    let to = acct(&arg.to).unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
    let attached = ic_cdk::api::call::msg_cycles_available128();
    let result = with(|l| l.deposit(now(), to, attached, memo(arg.memo)));
    match result {
        Ok(block) => {
            ic_cdk::api::call::msg_cycles_accept128(attached);
            DepositResult { balance: with(|l| nat(l.balance_of(&to))), block_index: Nat::from(block) }
        }
        Err(e) => ic_cdk::trap(&e.to_string()),
    }
}

#[ic_cdk::query]
fn icrc1_minting_account() -> Option<Account> {
    None
}

#[ic_cdk::query]
fn icrc1_balance_of(a: Account) -> Nat {
    let a = acct(&a).unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
    with(|l| nat(l.balance_of(&a)))
}

#[ic_cdk::query]
fn icrc1_supported_standards() -> Vec<SupportedStandard> {
    [
        ("ICRC-1", "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1"),
        ("ICRC-2", "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-2"),
    ]
    .iter()
    .map(|(name, url)| SupportedStandard { name: name.to_string(), url: url.to_string() })
    .collect()
}

#[ic_cdk::update]
fn icrc1_transfer(arg: TransferArgs) -> Result<Nat, TransferError> {
    let run = || -> Result<u64, LedgerError> {
        let from = caller_acct(&arg.from_subaccount)?;
        let to = acct(&arg.to)?;
        with(|l| {
            let (fee, n) = (l.fee_arg(arg.fee.as_ref())?, l.amount_arg(&arg.amount, &from)?);
            l.transfer(now(), from, to, n, fee, memo(arg.memo.clone()), arg.created_at_time)
        })
    };
    run().map(Nat::from).map_err(transfer_error)
}

#[ic_cdk::update]
fn icrc2_approve(arg: ApproveArgs) -> Result<Nat, ApproveError> {
    let run = || -> Result<u64, LedgerError> {
        let from = caller_acct(&arg.from_subaccount)?;
        let spender = acct(&arg.spender)?;
        let n = amount(&arg.amount).unwrap_or(u128::MAX);
        let expected = arg.expected_allowance.as_ref().map(|e| amount(e).unwrap_or(u128::MAX));
        with(|l| {
            let fee = l.fee_arg(arg.fee.as_ref())?;
            l.approve(
                now(),
                from,
                spender,
                n,
                expected,
                arg.expires_at,
                fee,
                memo(arg.memo.clone()),
                arg.created_at_time,
            )
        })
    };
    run().map(Nat::from).map_err(approve_error)
}

#[ic_cdk::query]
fn icrc2_allowance(arg: AllowanceArgs) -> Allowance {
    let (from, spender) = match (acct(&arg.account), acct(&arg.spender)) {
        (Ok(f), Ok(s)) => (f, s),
        _ => ic_cdk::trap("a subaccount is 32 bytes"),
    };
    let a = with(|l| l.allowance(now(), &from, &spender));
    Allowance { allowance: nat(a.amount), expires_at: a.expires_at }
}

#[ic_cdk::update]
fn icrc2_transfer_from(arg: TransferFromArgs) -> Result<Nat, TransferFromError> {
    let run = || -> Result<u64, LedgerError> {
        let spender = caller_acct(&arg.spender_subaccount)?;
        let (from, to) = (acct(&arg.from)?, acct(&arg.to)?);
        with(|l| {
            let (fee, n) = (l.fee_arg(arg.fee.as_ref())?, l.amount_arg(&arg.amount, &from)?);
            l.transfer_from(now(), spender, from, to, n, fee, memo(arg.memo.clone()), arg.created_at_time)
        })
    };
    run().map(Nat::from).map_err(transfer_from_error)
}

/// What a failed `deposit_cycles` reports.
struct SendFailure {
    code: RejectionCode,
    reason: String,
}

/// Burns `amount + fee` from `from` (through `spender`'s allowance), sends
/// `amount` cycles to canister `to` (the callers refuse non-canister
/// receivers first), and refunds when that fails.
async fn send_cycles(
    from: Acct,
    spender: Option<Acct>,
    to: Principal,
    amount: u128,
    created_at_time: Option<u64>,
) -> Result<u64, (LedgerError, Option<(u64, Option<u64>, Option<u64>, SendFailure)>)> {
    // The memo names the receiver, as the real ledger's does.
    let memo = Some(to.as_slice().to_vec());
    let (block, expiry) =
        with(|l| l.burn_for_withdrawal(now(), from, spender, amount, memo, created_at_time)).map_err(|e| (e, None))?;
    match deposit_cycles(CanisterIdRecord { canister_id: to }, amount).await {
        Ok(()) => Ok(block),
        Err((code, reason)) => {
            let (refund, approval) = with(|l| l.reimburse(now(), from, spender, amount, expiry));
            let failure = SendFailure { code: rejection_code(code), reason };
            Err((LedgerError::generic("deposit_cycles failed"), Some((block, refund, approval, failure))))
        }
    }
}

/// Creates a canister with `amount` cycles, paid from the caller's balance
/// (`amount + fee`); its controllers are those asked for, else the caller.
#[ic_cdk::update]
async fn create_canister(arg: CreateCanisterArgs) -> Result<CreateCanisterSuccess, CreateCanisterError> {
    use ic_cdk::api::management_canister::main as mgmt;
    let from = caller_acct(&arg.from_subaccount).map_err(create_error)?;
    let n = with(|l| l.amount_arg(&arg.amount, &from)).map_err(create_error)?;
    let asked = arg.creation_args.and_then(|c| c.settings);
    let settings = mgmt::CanisterSettings {
        controllers: Some(asked.as_ref().and_then(|s| s.controllers.clone()).unwrap_or_else(|| vec![ic_cdk::caller()])),
        compute_allocation: asked.as_ref().and_then(|s| s.compute_allocation.clone()),
        memory_allocation: asked.as_ref().and_then(|s| s.memory_allocation.clone()),
        freezing_threshold: asked.as_ref().and_then(|s| s.freezing_threshold.clone()),
        reserved_cycles_limit: asked.as_ref().and_then(|s| s.reserved_cycles_limit.clone()),
        ..Default::default()
    };
    let (block, expiry) =
        with(|l| l.burn_for_withdrawal(now(), from, None, n, None, arg.created_at_time)).map_err(create_error)?;
    match mgmt::create_canister(mgmt::CreateCanisterArgument { settings: Some(settings) }, n).await {
        Ok((record,)) => Ok(CreateCanisterSuccess { block_id: Nat::from(block), canister_id: record.canister_id }),
        Err((_, reason)) => {
            let (refund, _) = with(|l| l.reimburse(now(), from, None, n, expiry));
            Err(CreateCanisterError::FailedToCreate {
                error: reason,
                refund_block: refund.map(Nat::from),
                fee_block: Some(Nat::from(block)),
            })
        }
    }
}

fn create_error(e: LedgerError) -> CreateCanisterError {
    match e {
        LedgerError::InsufficientFunds { balance } => CreateCanisterError::InsufficientFunds { balance: nat(balance) },
        LedgerError::TooOld => CreateCanisterError::TooOld,
        LedgerError::CreatedInFuture { ledger_time } => CreateCanisterError::CreatedInFuture { ledger_time },
        LedgerError::Duplicate { duplicate_of } => {
            CreateCanisterError::Duplicate { duplicate_of: Nat::from(duplicate_of), canister_id: None }
        }
        other => {
            let (error_code, message) = generic(other);
            CreateCanisterError::GenericError { error_code, message }
        }
    }
}

fn is_self_authenticating(p: &Principal) -> bool {
    p.as_slice().last() == Some(&0x02)
}

#[ic_cdk::update]
async fn withdraw(arg: WithdrawArgs) -> Result<Nat, WithdrawError> {
    let from = caller_acct(&arg.from_subaccount).map_err(|e| withdraw_error(e, None))?;
    let n = with(|l| l.amount_arg(&arg.amount, &from)).map_err(|e| withdraw_error(e, None))?;
    if is_self_authenticating(&arg.to) {
        return Err(WithdrawError::InvalidReceiver { receiver: arg.to });
    }
    send_cycles(from, None, arg.to, n, arg.created_at_time)
        .await
        .map(Nat::from)
        .map_err(|(e, failed)| withdraw_error(e, failed))
}

#[ic_cdk::update]
async fn withdraw_from(arg: WithdrawFromArgs) -> Result<Nat, WithdrawFromError> {
    let accounts = || -> Result<(Acct, Acct, u128), LedgerError> {
        let spender = caller_acct(&arg.spender_subaccount)?;
        let from = acct(&arg.from)?;
        Ok((spender, from, with(|l| l.amount_arg(&arg.amount, &from))?))
    };
    let (spender, from, n) = accounts().map_err(|e| withdraw_from_error(e, None))?;
    if is_self_authenticating(&arg.to) {
        return Err(WithdrawFromError::InvalidReceiver { receiver: arg.to });
    }
    send_cycles(from, Some(spender), arg.to, n, arg.created_at_time)
        .await
        .map(Nat::from)
        .map_err(|(e, failed)| withdraw_from_error(e, failed))
}

fn rejection_code(c: CallRejection) -> RejectionCode {
    match c {
        CallRejection::NoError => RejectionCode::NoError,
        CallRejection::SysFatal => RejectionCode::SysFatal,
        CallRejection::SysTransient => RejectionCode::SysTransient,
        CallRejection::DestinationInvalid => RejectionCode::DestinationInvalid,
        CallRejection::CanisterReject => RejectionCode::CanisterReject,
        CallRejection::CanisterError => RejectionCode::CanisterError,
        CallRejection::Unknown => RejectionCode::Unknown,
    }
}

type Failed = Option<(u64, Option<u64>, Option<u64>, SendFailure)>;

fn withdraw_error(e: LedgerError, failed: Failed) -> WithdrawError {
    if let Some((block, _, _, f)) = failed {
        return WithdrawError::FailedToWithdraw {
            fee_block: Some(Nat::from(block)),
            rejection_code: f.code,
            rejection_reason: f.reason,
        };
    }
    match e {
        LedgerError::BadFee { expected_fee } => WithdrawError::BadFee { expected_fee: nat(expected_fee) },
        LedgerError::InsufficientFunds { balance } => WithdrawError::InsufficientFunds { balance: nat(balance) },
        LedgerError::TooOld => WithdrawError::TooOld,
        LedgerError::CreatedInFuture { ledger_time } => WithdrawError::CreatedInFuture { ledger_time },
        LedgerError::Duplicate { duplicate_of } => WithdrawError::Duplicate { duplicate_of: Nat::from(duplicate_of) },
        other => {
            let (error_code, message) = generic(other);
            WithdrawError::GenericError { error_code, message }
        }
    }
}

fn withdraw_from_error(e: LedgerError, failed: Failed) -> WithdrawFromError {
    if let Some((block, refund, approval, f)) = failed {
        return WithdrawFromError::FailedToWithdrawFrom {
            withdraw_from_block: Some(Nat::from(block)),
            refund_block: refund.map(Nat::from),
            approval_refund_block: approval.map(Nat::from),
            rejection_code: f.code,
            rejection_reason: f.reason,
        };
    }
    match e {
        LedgerError::InsufficientFunds { balance } => WithdrawFromError::InsufficientFunds { balance: nat(balance) },
        LedgerError::InsufficientAllowance { allowance } => {
            WithdrawFromError::InsufficientAllowance { allowance: nat(allowance) }
        }
        LedgerError::TooOld => WithdrawFromError::TooOld,
        LedgerError::CreatedInFuture { ledger_time } => WithdrawFromError::CreatedInFuture { ledger_time },
        LedgerError::Duplicate { duplicate_of } => {
            WithdrawFromError::Duplicate { duplicate_of: Nat::from(duplicate_of) }
        }
        other => {
            let (error_code, message) = generic(other);
            WithdrawFromError::GenericError { error_code, message }
        }
    }
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    #[test]
    fn candid_interface_matches_cycles_ledger_did() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cycles-ledger.did");
        test_ledger_core::check_did(&super::__export_service(), &file);
    }
}
