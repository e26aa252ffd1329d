//! The rules of an ICRC-1/ICRC-2 ledger, as plain Rust over a clock the
//! caller passes in, for devnet's **test-only** stand-ins of the token
//! ledgers (ckUSDC, ckBTC, …) and of the cycles ledger. The official ledger
//! wasm cannot be downloaded where devnet runs; these follow its public
//! behaviour closely enough for unmodified clients (PAPI, ic-agent callers,
//! the JS agent) and for tests that check the books. **Not for mainnet**:
//! no archive, no ICRC-3 block certification, blocks kept on the heap.
//!
//! Behaviour followed (ICRC-1, ICRC-2 and DFINITY's ledgers):
//! - an account is an owner and a 32-byte subaccount; no subaccount is the
//!   zero subaccount;
//! - a transfer from the minting account mints, one to it burns (at least
//!   the fee), neither pays a fee; every other transfer, approval and
//!   transfer-from pays `fee`, and a caller's `fee`, when given, must equal it;
//! - `created_at_time` older than the 24 h window (plus 60 s of drift) is
//!   `TooOld`, ahead of the clock by more than the drift `CreatedInFuture`;
//!   with it, the same transaction twice is `Duplicate`;
//! - an approval sets (does not add to) the allowance; `transfer_from` uses
//!   `amount + fee` of it; expired allowances are 0.

mod canister;
mod errors;
pub mod interfaces;
mod state;

pub use errors::LedgerError;
pub use state::{Acct, AllowanceEntry, Block, Config, Ledger, Op, Tx};

/// Transactions with `created_at_time` are deduplicated within this window.
pub const TX_WINDOW_NS: u64 = 24 * 60 * 60 * 1_000_000_000;
/// How far `created_at_time` may be ahead of the ledger's clock.
pub const PERMITTED_DRIFT_NS: u64 = 60 * 1_000_000_000;
/// Longest memo accepted (the ICRC-1 ledger's default).
pub const MAX_MEMO_BYTES: usize = 32;

#[cfg(test)]
mod tests;

/// A Candid `nat` as an amount; `None` past `u128` (no balance is that big,
/// so callers answer `InsufficientFunds`).
pub fn amount(n: &candid::Nat) -> Option<u128> {
    u128::try_from(&n.0).ok()
}

/// The ICP ledger's account identifier of `a`: CRC-32 (big-endian) of the
/// SHA-224 of `"\x0Aaccount-id"`, owner and subaccount, then that hash.
pub fn account_identifier(a: &Acct) -> [u8; 32] {
    use sha2::{Digest, Sha224};
    let hash =
        Sha224::new().chain_update(b"\x0Aaccount-id").chain_update(a.owner.as_slice()).chain_update(a.sub).finalize();
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&crc32fast::hash(&hash).to_be_bytes());
    id[4..].copy_from_slice(&hash);
    id
}

/// A subaccount given as bytes (the cycles ledger's `opt blob`): exactly 32.
pub fn subaccount(bytes: Option<&[u8]>) -> Result<Option<[u8; 32]>, LedgerError> {
    bytes.map(|b| b.try_into().map_err(|_| LedgerError::generic("a subaccount is 32 bytes"))).transpose()
}

/// `<file>.did` equals `exported` (the canister's `__export_service()`);
/// with `UPDATE_DID=1` the file is rewritten instead.
pub fn check_did(exported: &str, file: &std::path::Path) {
    if std::env::var_os("UPDATE_DID").is_some() {
        std::fs::write(file, exported).expect("write the .did");
        return;
    }
    let checked_in = std::fs::read_to_string(file).unwrap_or_default();
    assert!(checked_in == exported, "{} differs from the code's interface: run with UPDATE_DID=1", file.display());
}
