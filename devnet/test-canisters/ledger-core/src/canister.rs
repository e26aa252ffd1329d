//! What both stand-in ledger canisters share, as macros expanded inside
//! each canister crate (their Candid types are different Rust types of the
//! same shape: `icrc-ledger-types` for the token ledger,
//! `ic-cycles-ledger-client` for the cycles ledger).

/// The ledger state (`LEDGER`, a `RefCell<Ledger>` with `initial` until
/// `init` replaces it), `with`, the upgrade hooks that keep it in stable
/// memory, and the ICRC-1 queries that read only the configuration.
/// `MetadataValue` must be in scope.
#[macro_export]
macro_rules! ledger_canister_common {
    ($initial:expr) => {
        thread_local! {
            static LEDGER: ::std::cell::RefCell<$crate::Ledger> = ::std::cell::RefCell::new($initial);
        }

        fn with<R>(f: impl FnOnce(&mut $crate::Ledger) -> R) -> R {
            LEDGER.with(|l| f(&mut l.borrow_mut()))
        }

        #[ic_cdk::pre_upgrade]
        fn pre_upgrade() {
            let bytes = with(|l| l.to_bytes());
            ic_cdk::storage::stable_save((serde_bytes::ByteBuf::from(bytes),)).expect("save the ledger");
        }

        #[ic_cdk::post_upgrade]
        fn post_upgrade() {
            let (bytes,): (serde_bytes::ByteBuf,) = ic_cdk::storage::stable_restore().expect("restore the ledger");
            let ledger = $crate::Ledger::from_bytes(&bytes).expect("decode the ledger");
            LEDGER.with(|l| *l.borrow_mut() = ledger);
        }

        #[ic_cdk::query]
        fn icrc1_name() -> String {
            with(|l| l.config.name.clone())
        }

        #[ic_cdk::query]
        fn icrc1_symbol() -> String {
            with(|l| l.config.symbol.clone())
        }

        #[ic_cdk::query]
        fn icrc1_decimals() -> u8 {
            with(|l| l.config.decimals)
        }

        #[ic_cdk::query]
        fn icrc1_fee() -> ::candid::Nat {
            with(|l| ::candid::Nat::from(l.config.fee))
        }

        #[ic_cdk::query]
        fn icrc1_total_supply() -> ::candid::Nat {
            with(|l| ::candid::Nat::from(l.total_supply()))
        }

        #[ic_cdk::query]
        fn icrc1_metadata() -> Vec<(String, MetadataValue)> {
            with(|l| {
                vec![
                    ("icrc1:name".into(), MetadataValue::Text(l.config.name.clone())),
                    ("icrc1:symbol".into(), MetadataValue::Text(l.config.symbol.clone())),
                    ("icrc1:decimals".into(), MetadataValue::Nat(::candid::Nat::from(l.config.decimals))),
                    ("icrc1:fee".into(), MetadataValue::Nat(::candid::Nat::from(l.config.fee))),
                    ("icrc1:max_memo_length".into(), MetadataValue::Nat(::candid::Nat::from($crate::MAX_MEMO_BYTES))),
                ]
            })
        }
    };
}

/// `transfer_error`, `approve_error` and `transfer_from_error`: a
/// `LedgerError` as the `TransferError`, `ApproveError` and
/// `TransferFromError` in scope; what has no variant of its own becomes
/// `GenericError`.
#[macro_export]
macro_rules! icrc_error_mappers {
    () => {
        fn generic(e: $crate::LedgerError) -> (::candid::Nat, String) {
            match e {
                $crate::LedgerError::Generic { error_code, message } => (::candid::Nat::from(error_code), message),
                other => (::candid::Nat::from(0u8), other.to_string()),
            }
        }

        fn transfer_error(e: $crate::LedgerError) -> TransferError {
            use ::candid::Nat;
            use $crate::LedgerError as E;
            match e {
                E::BadFee { expected_fee } => TransferError::BadFee { expected_fee: Nat::from(expected_fee) },
                E::BadBurn { min_burn_amount } => {
                    TransferError::BadBurn { min_burn_amount: Nat::from(min_burn_amount) }
                }
                E::InsufficientFunds { balance } => TransferError::InsufficientFunds { balance: Nat::from(balance) },
                E::TooOld => TransferError::TooOld,
                E::CreatedInFuture { ledger_time } => TransferError::CreatedInFuture { ledger_time },
                E::Duplicate { duplicate_of } => TransferError::Duplicate { duplicate_of: Nat::from(duplicate_of) },
                other => {
                    let (error_code, message) = generic(other);
                    TransferError::GenericError { error_code, message }
                }
            }
        }

        fn approve_error(e: $crate::LedgerError) -> ApproveError {
            use ::candid::Nat;
            use $crate::LedgerError as E;
            match e {
                E::BadFee { expected_fee } => ApproveError::BadFee { expected_fee: Nat::from(expected_fee) },
                E::InsufficientFunds { balance } => ApproveError::InsufficientFunds { balance: Nat::from(balance) },
                E::AllowanceChanged { current_allowance } => {
                    ApproveError::AllowanceChanged { current_allowance: Nat::from(current_allowance) }
                }
                E::Expired { ledger_time } => ApproveError::Expired { ledger_time },
                E::TooOld => ApproveError::TooOld,
                E::CreatedInFuture { ledger_time } => ApproveError::CreatedInFuture { ledger_time },
                E::Duplicate { duplicate_of } => ApproveError::Duplicate { duplicate_of: Nat::from(duplicate_of) },
                other => {
                    let (error_code, message) = generic(other);
                    ApproveError::GenericError { error_code, message }
                }
            }
        }

        fn transfer_from_error(e: $crate::LedgerError) -> TransferFromError {
            use ::candid::Nat;
            use $crate::LedgerError as E;
            match e {
                E::BadFee { expected_fee } => TransferFromError::BadFee { expected_fee: Nat::from(expected_fee) },
                E::BadBurn { min_burn_amount } => {
                    TransferFromError::BadBurn { min_burn_amount: Nat::from(min_burn_amount) }
                }
                E::InsufficientFunds { balance } => {
                    TransferFromError::InsufficientFunds { balance: Nat::from(balance) }
                }
                E::InsufficientAllowance { allowance } => {
                    TransferFromError::InsufficientAllowance { allowance: Nat::from(allowance) }
                }
                E::TooOld => TransferFromError::TooOld,
                E::CreatedInFuture { ledger_time } => TransferFromError::CreatedInFuture { ledger_time },
                E::Duplicate { duplicate_of } => TransferFromError::Duplicate { duplicate_of: Nat::from(duplicate_of) },
                other => {
                    let (error_code, message) = generic(other);
                    TransferFromError::GenericError { error_code, message }
                }
            }
        }
    };
}
