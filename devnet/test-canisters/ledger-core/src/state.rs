//! Balances, allowances and the transaction log, and every operation on
//! them. Each operation checks everything before it changes anything.

use super::{LedgerError, MAX_MEMO_BYTES, PERMITTED_DRIFT_NS, TX_WINDOW_NS};
use candid::Principal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// An account: owner and subaccount (`None` in Candid is all zeros).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Acct {
    pub owner: Principal,
    pub sub: [u8; 32],
}

impl Acct {
    pub fn new(owner: Principal, sub: Option<[u8; 32]>) -> Self {
        Self { owner, sub: sub.unwrap_or([0; 32]) }
    }

    /// The subaccount as Candid shows it: `None` for the zero subaccount.
    pub fn subaccount(&self) -> Option<[u8; 32]> {
        (self.sub != [0; 32]).then_some(self.sub)
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub fee: u128,
    /// Transfers from it mint, transfers to it burn. The cycles ledger has
    /// none: it mints on `deposit` and burns on `withdraw`.
    pub minting_account: Option<Acct>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Mint {
        to: Acct,
        amount: u128,
    },
    Burn {
        from: Acct,
        spender: Option<Acct>,
        amount: u128,
    },
    Transfer {
        from: Acct,
        to: Acct,
        spender: Option<Acct>,
        amount: u128,
        fee: Option<u128>,
    },
    /// The ICP ledger's legacy `transfer`, to an account identifier.
    LegacyTransfer {
        from: Acct,
        to: [u8; 32],
        amount: u128,
        fee: u128,
    },
    Approve {
        from: Acct,
        spender: Acct,
        amount: u128,
        expected_allowance: Option<u128>,
        expires_at: Option<u64>,
        fee: Option<u128>,
    },
}

/// A transaction as the caller asked for it (what deduplication compares).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tx {
    pub op: Op,
    pub memo: Option<Vec<u8>>,
    pub created_at_time: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub tx: Tx,
    pub timestamp: u64,
    /// The fee actually paid (0 for mints, burns, refunds).
    pub fee_paid: u128,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowanceEntry {
    pub amount: u128,
    pub expires_at: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    pub config: Config,
    balances: BTreeMap<Acct, u128>,
    allowances: BTreeMap<(Acct, Acct), AllowanceEntry>,
    total_supply: u128,
    /// Fees taken out of circulation, including those of deposits and of
    /// refunds, which were never credited.
    fees_burnt: u128,
    blocks: Vec<Block>,
    /// Hash of a deduplicated transaction → its block.
    seen: BTreeMap<[u8; 32], u64>,
    /// Amounts sent by the legacy `transfer` to account identifiers, which
    /// name an account only by its hash: part of that account's balance,
    /// moved into `balances` the first time it spends.
    #[serde(default)]
    legacy: BTreeMap<[u8; 32], u128>,
}

impl Ledger {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            balances: BTreeMap::new(),
            allowances: BTreeMap::new(),
            total_supply: 0,
            fees_burnt: 0,
            blocks: vec![],
            seen: BTreeMap::new(),
            legacy: BTreeMap::new(),
        }
    }

    pub fn balance_of(&self, a: &Acct) -> u128 {
        let legacy = if self.legacy.is_empty() { 0 } else { self.legacy_balance(&crate::account_identifier(a)) };
        self.balances.get(a).copied().unwrap_or(0) + legacy
    }

    /// What the legacy `account_balance` reports for an account
    /// identifier: amounts sent to it, and the balance of the account it
    /// names if that account has been used.
    pub fn account_balance(&self, id: &[u8; 32]) -> u128 {
        let named = self.balances.iter().find(|(a, _)| crate::account_identifier(a) == *id).map(|(_, b)| *b);
        self.legacy_balance(id) + named.unwrap_or(0)
    }

    fn legacy_balance(&self, id: &[u8; 32]) -> u128 {
        self.legacy.get(id).copied().unwrap_or(0)
    }

    /// The ICP ledger's legacy `transfer`: `amount` from `from` to the
    /// account identifier `to`, for exactly the ledger's fee.
    #[allow(clippy::too_many_arguments)]
    pub fn legacy_transfer(
        &mut self,
        now: u64,
        from: Acct,
        to: [u8; 32],
        amount: u128,
        fee: u128,
        memo: u64,
        created_at_time: Option<u64>,
    ) -> Result<u64, LedgerError> {
        self.check_fee(Some(fee))?;
        let tx = Tx {
            op: Op::LegacyTransfer { from, to, amount, fee },
            memo: Some(memo.to_be_bytes().to_vec()),
            created_at_time,
        };
        self.pay_and_credit(now, from, tx, amount, |l| {
            *l.legacy.entry(to).or_insert(0) += amount;
            l.total_supply += amount;
        })
    }

    pub fn total_supply(&self) -> u128 {
        self.total_supply
    }

    pub fn fees_burnt(&self) -> u128 {
        self.fees_burnt
    }

    /// Sum of all balances: always `total_supply` (checked by the tests).
    pub fn sum_of_balances(&self) -> u128 {
        self.balances.values().sum::<u128>() + self.legacy.values().sum::<u128>()
    }

    /// A caller's `fee` argument as an amount; past u128 it cannot be the
    /// ledger's fee, so it is `BadFee` (another value is refused by the
    /// operation).
    pub fn fee_arg(&self, fee: Option<&candid::Nat>) -> Result<Option<u128>, LedgerError> {
        fee.map(|f| crate::amount(f).ok_or(LedgerError::BadFee { expected_fee: self.config.fee })).transpose()
    }

    /// A caller's amount to move from `from`; past u128 it is more than
    /// anyone holds.
    pub fn amount_arg(&self, n: &candid::Nat, from: &Acct) -> Result<u128, LedgerError> {
        crate::amount(n).ok_or_else(|| LedgerError::InsufficientFunds { balance: self.balance_of(from) })
    }

    /// The allowance of `spender` on `from` at `now` (0 once expired).
    pub fn allowance(&self, now: u64, from: &Acct, spender: &Acct) -> AllowanceEntry {
        match self.allowances.get(&(*from, *spender)) {
            Some(e) if e.expires_at.is_none_or(|t| t > now) => *e,
            _ => AllowanceEntry { amount: 0, expires_at: None },
        }
    }

    /// `icrc1_transfer`: a mint from the minting account, a burn to it, a
    /// transfer otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer(
        &mut self,
        now: u64,
        from: Acct,
        to: Acct,
        amount: u128,
        fee: Option<u128>,
        memo: Option<Vec<u8>>,
        created_at_time: Option<u64>,
    ) -> Result<u64, LedgerError> {
        let minting = self.config.minting_account;
        if Some(from) == minting && Some(to) == minting {
            return Err(LedgerError::generic("the minting account cannot transfer to itself"));
        }
        if Some(from) == minting {
            self.check_zero_fee(fee)?;
            let tx = Tx { op: Op::Mint { to, amount }, memo, created_at_time };
            self.check_tx(now, &tx)?;
            self.check_supply(amount)?;
            return Ok(self.apply(now, tx, |l| l.credit(&to, amount), 0));
        }
        if Some(to) == minting {
            self.check_zero_fee(fee)?;
            if amount < self.config.fee {
                return Err(LedgerError::BadBurn { min_burn_amount: self.config.fee });
            }
            let tx = Tx { op: Op::Burn { from, spender: None, amount }, memo, created_at_time };
            self.check_tx(now, &tx)?;
            self.check_funds(&from, amount)?;
            return Ok(self.apply(now, tx, |l| l.debit(&from, amount), 0));
        }
        self.check_fee(fee)?;
        let tx = Tx { op: Op::Transfer { from, to, spender: None, amount, fee }, memo, created_at_time };
        self.pay_and_credit(now, from, tx, amount, |l| l.credit(&to, amount))
    }

    /// A transfer that pays the fee: checks `tx` and `from`'s funds for
    /// `amount + fee`, takes them, and lets `credit` put `amount` where it goes.
    fn pay_and_credit(
        &mut self,
        now: u64,
        from: Acct,
        tx: Tx,
        amount: u128,
        credit: impl FnOnce(&mut Self),
    ) -> Result<u64, LedgerError> {
        self.check_tx(now, &tx)?;
        let total = self.with_fee(&from, amount)?;
        self.check_funds(&from, total)?;
        let paid = self.config.fee;
        Ok(self.apply(
            now,
            tx,
            |l| {
                l.debit(&from, total);
                credit(l)
            },
            paid,
        ))
    }

    /// `icrc2_approve`: sets `spender`'s allowance on `from` to `amount`.
    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        &mut self,
        now: u64,
        from: Acct,
        spender: Acct,
        amount: u128,
        expected_allowance: Option<u128>,
        expires_at: Option<u64>,
        fee: Option<u128>,
        memo: Option<Vec<u8>>,
        created_at_time: Option<u64>,
    ) -> Result<u64, LedgerError> {
        if from.owner == spender.owner {
            return Err(LedgerError::generic("self approval is not allowed"));
        }
        self.check_fee(fee)?;
        if expires_at.is_some_and(|t| t <= now) {
            return Err(LedgerError::Expired { ledger_time: now });
        }
        let tx = Tx {
            op: Op::Approve { from, spender, amount, expected_allowance, expires_at, fee },
            memo,
            created_at_time,
        };
        self.check_tx(now, &tx)?;
        let current = self.allowance(now, &from, &spender).amount;
        if expected_allowance.is_some_and(|e| e != current) {
            return Err(LedgerError::AllowanceChanged { current_allowance: current });
        }
        let fee = self.config.fee;
        self.check_funds(&from, fee)?;
        Ok(self.apply(
            now,
            tx,
            |l| {
                l.debit(&from, fee);
                l.set_allowance(from, spender, AllowanceEntry { amount, expires_at });
            },
            fee,
        ))
    }

    /// `icrc2_transfer_from`: `spender` moves `amount` from `from` to `to`,
    /// using `amount + fee` of its allowance (none needed on its own account).
    #[allow(clippy::too_many_arguments)]
    pub fn transfer_from(
        &mut self,
        now: u64,
        spender: Acct,
        from: Acct,
        to: Acct,
        amount: u128,
        fee: Option<u128>,
        memo: Option<Vec<u8>>,
        created_at_time: Option<u64>,
    ) -> Result<u64, LedgerError> {
        if Some(to) == self.config.minting_account || Some(from) == self.config.minting_account {
            return Err(LedgerError::generic("transfer_from cannot mint or burn"));
        }
        self.check_fee(fee)?;
        let tx = Tx { op: Op::Transfer { from, to, spender: Some(spender), amount, fee }, memo, created_at_time };
        self.check_tx(now, &tx)?;
        let total = self.with_fee(&from, amount)?;
        self.check_allowance(now, &from, &spender, total)?;
        self.check_funds(&from, total)?;
        let paid = self.config.fee;
        Ok(self.apply(
            now,
            tx,
            |l| {
                l.use_allowance(now, &from, &spender, total);
                l.debit(&from, total);
                l.credit(&to, amount);
            },
            paid,
        ))
    }

    /// The cycles ledger's `deposit`: `amount` attached cycles, less the fee,
    /// minted to `to`. Fewer cycles than the fee plus one is refused.
    pub fn deposit(&mut self, now: u64, to: Acct, attached: u128, memo: Option<Vec<u8>>) -> Result<u64, LedgerError> {
        let amount = attached.checked_sub(self.config.fee).filter(|a| *a > 0).ok_or_else(|| {
            LedgerError::generic(format!(
                "the deposit of {attached} cycles does not exceed the fee of {}",
                self.config.fee
            ))
        })?;
        self.check_memo(&memo)?;
        self.check_supply(amount)?;
        let tx = Tx { op: Op::Mint { to, amount }, memo, created_at_time: None };
        Ok(self.apply(
            now,
            tx,
            |l| {
                l.credit(&to, amount);
                l.fees_burnt += l.config.fee;
            },
            0,
        ))
    }

    /// The first half of the cycles ledger's `withdraw`/`withdraw_from`:
    /// burns `amount + fee` from `from` (using `spender`'s allowance when it
    /// is another account). Returns the block and the allowance's expiry
    /// before it was used, for `reimburse`.
    pub fn burn_for_withdrawal(
        &mut self,
        now: u64,
        from: Acct,
        spender: Option<Acct>,
        amount: u128,
        memo: Option<Vec<u8>>,
        created_at_time: Option<u64>,
    ) -> Result<(u64, Option<u64>), LedgerError> {
        if amount == 0 {
            return Err(LedgerError::generic("cannot withdraw 0 cycles"));
        }
        let tx = Tx { op: Op::Burn { from, spender, amount }, memo, created_at_time };
        self.check_tx(now, &tx)?;
        let total = self.with_fee(&from, amount)?;
        let other_spender = spender.filter(|s| *s != from);
        let mut expiry = None;
        if let Some(s) = other_spender {
            expiry = self.check_allowance(now, &from, &s, total)?;
        }
        self.check_funds(&from, total)?;
        let fee = self.config.fee;
        let block = self.apply(
            now,
            tx,
            |l| {
                if let Some(s) = other_spender {
                    l.use_allowance(now, &from, &s, total);
                }
                l.debit(&from, total);
            },
            fee,
        );
        Ok((block, expiry))
    }

    /// After a failed withdrawal: `amount` less a fee goes back to `from`
    /// and, when a spender's allowance was used and more than two fees
    /// remain, that much allowance too (the cycles ledger charges a fee per
    /// block: withdrawal, refund, allowance refund). Returns the refund
    /// block and the allowance-refund block.
    pub fn reimburse(
        &mut self,
        now: u64,
        from: Acct,
        spender: Option<Acct>,
        amount: u128,
        old_expiry: Option<u64>,
    ) -> (Option<u64>, Option<u64>) {
        let fee = self.config.fee;
        let refund = amount.saturating_sub(fee);
        if refund == 0 {
            return (None, None);
        }
        let tx = Tx { op: Op::Mint { to: from, amount: refund }, memo: None, created_at_time: None };
        let refund_block = self.apply(
            now,
            tx,
            |l| {
                l.credit(&from, refund);
                l.fees_burnt += fee;
            },
            0,
        );
        let spender = spender.filter(|s| *s != from);
        let still_valid = old_expiry.is_none_or(|t| now < t);
        let approval_block = match spender {
            Some(s) if amount > 2 * fee && still_valid => {
                let back = refund - fee;
                let current = self.allowance(now, &from, &s);
                let entry = AllowanceEntry { amount: current.amount + back, expires_at: old_expiry };
                let tx = Tx {
                    op: Op::Approve {
                        from,
                        spender: s,
                        amount: entry.amount,
                        expected_allowance: None,
                        expires_at: old_expiry,
                        fee: None,
                    },
                    memo: None,
                    created_at_time: None,
                };
                Some(self.apply(now, tx, |l| l.set_allowance(from, s, entry), 0))
            }
            _ => None,
        };
        (Some(refund_block), approval_block)
    }

    /// The encoding `pre_upgrade` keeps in stable memory.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![];
        ciborium::into_writer(self, &mut out).expect("a ledger encodes");
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        ciborium::from_reader(bytes).map_err(|e| e.to_string())
    }

    // ---- checks (no state change) ----

    fn check_fee(&self, fee: Option<u128>) -> Result<(), LedgerError> {
        match fee {
            Some(f) if f != self.config.fee => Err(LedgerError::BadFee { expected_fee: self.config.fee }),
            _ => Ok(()),
        }
    }

    fn check_zero_fee(&self, fee: Option<u128>) -> Result<(), LedgerError> {
        match fee {
            Some(f) if f != 0 => Err(LedgerError::BadFee { expected_fee: 0 }),
            _ => Ok(()),
        }
    }

    fn check_memo(&self, memo: &Option<Vec<u8>>) -> Result<(), LedgerError> {
        match memo {
            Some(m) if m.len() > MAX_MEMO_BYTES => {
                Err(LedgerError::generic(format!("the memo is longer than {MAX_MEMO_BYTES} bytes")))
            }
            _ => Ok(()),
        }
    }

    /// Memo length, the time window, and duplicates.
    fn check_tx(&self, now: u64, tx: &Tx) -> Result<(), LedgerError> {
        self.check_memo(&tx.memo)?;
        let Some(t) = tx.created_at_time else { return Ok(()) };
        if t.saturating_add(TX_WINDOW_NS).saturating_add(PERMITTED_DRIFT_NS) < now {
            return Err(LedgerError::TooOld);
        }
        if t > now.saturating_add(PERMITTED_DRIFT_NS) {
            return Err(LedgerError::CreatedInFuture { ledger_time: now });
        }
        match self.seen.get(&tx_hash(tx)) {
            Some(&duplicate_of) => Err(LedgerError::Duplicate { duplicate_of }),
            None => Ok(()),
        }
    }

    /// Minting `amount` keeps the supply (and so every balance) within u128.
    fn check_supply(&self, amount: u128) -> Result<(), LedgerError> {
        match self.total_supply.checked_add(amount) {
            Some(_) => Ok(()),
            None => Err(LedgerError::generic("the supply would pass u128")),
        }
    }

    fn with_fee(&self, from: &Acct, amount: u128) -> Result<u128, LedgerError> {
        amount.checked_add(self.config.fee).ok_or(LedgerError::InsufficientFunds { balance: self.balance_of(from) })
    }

    fn check_funds(&self, from: &Acct, total: u128) -> Result<(), LedgerError> {
        let balance = self.balance_of(from);
        if balance < total { Err(LedgerError::InsufficientFunds { balance }) } else { Ok(()) }
    }

    /// Enough allowance for `total`; returns its expiry.
    fn check_allowance(&self, now: u64, from: &Acct, spender: &Acct, total: u128) -> Result<Option<u64>, LedgerError> {
        if from == spender {
            return Ok(None);
        }
        let a = self.allowance(now, from, spender);
        if a.amount < total {
            return Err(LedgerError::InsufficientAllowance { allowance: a.amount });
        }
        Ok(a.expires_at)
    }

    // ---- changes (after every check passed) ----

    /// Runs `change` (debits and credits keep `total_supply` equal to the
    /// sum of balances: a fee is debited and credited to no one) and logs
    /// the transaction.
    fn apply(&mut self, now: u64, tx: Tx, change: impl FnOnce(&mut Self), fee_paid: u128) -> u64 {
        change(self);
        self.fees_burnt += fee_paid;
        let index = self.blocks.len() as u64;
        if tx.created_at_time.is_some() {
            self.seen.insert(tx_hash(&tx), index);
        }
        self.blocks.push(Block { tx, timestamp: now, fee_paid });
        index
    }

    fn credit(&mut self, to: &Acct, amount: u128) {
        *self.balances.entry(*to).or_insert(0) += amount;
        self.total_supply += amount;
    }

    fn debit(&mut self, from: &Acct, total: u128) {
        if !self.legacy.is_empty()
            && let Some(sent) = self.legacy.remove(&crate::account_identifier(from))
        {
            *self.balances.entry(*from).or_insert(0) += sent;
        }
        let b = self.balances.get_mut(from).expect("checked: funds");
        *b -= total;
        if *b == 0 {
            self.balances.remove(from);
        }
        self.total_supply -= total;
    }

    fn set_allowance(&mut self, from: Acct, spender: Acct, e: AllowanceEntry) {
        if e.amount == 0 {
            self.allowances.remove(&(from, spender));
        } else {
            self.allowances.insert((from, spender), e);
        }
    }

    fn use_allowance(&mut self, now: u64, from: &Acct, spender: &Acct, total: u128) {
        let mut a = self.allowance(now, from, spender);
        a.amount -= total;
        self.set_allowance(*from, *spender, a);
    }
}

fn tx_hash(tx: &Tx) -> [u8; 32] {
    let mut bytes = vec![];
    ciborium::into_writer(tx, &mut bytes).expect("a transaction encodes");
    Sha256::digest(&bytes).into()
}
