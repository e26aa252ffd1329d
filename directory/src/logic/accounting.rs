//! Usage accounting: the only code that changes the usage counters of a
//! user record (`used_bytes`, `reserved_bytes`, `files_count`,
//! `uploads_in_progress`) and of a bucket record (`used_bytes`,
//! `reserved_bytes`, `files_count`, `reserved_files`). Four operations cover an upload's
//! whole life, each updating the user AND the bucket together:
//!
//! | operation   | when                                         | user                                   | bucket                       |
//! |-------------|----------------------------------------------|----------------------------------------|------------------------------|
//! | [`reserve`] | `start_upload`                               | reserved += n, uploads_in_progress += 1 | reserved += n, reserved_files += 1 |
//! | [`release`] | abort, expiry, hash mismatch, deleting a Pending file | reserved −= n, uploads_in_progress −= 1 | reserved −= n, reserved_files −= 1 |
//! | [`settle`]  | commit                                       | reserved −= n, used += n, files += 1, uploads_in_progress −= 1 | reserved −= n, used += n, files += 1, reserved_files −= 1 |
//! | [`free`]    | deleting a Ready file                        | used −= n, files −= 1                  | used −= n, files −= 1        |
//!
//! Every operation re-applies the bucket's automatic Writable ⇄ Draining
//! rule (`BucketRecord::update_draining`) after its change.
//!
//! # Drift
//!
//! All arithmetic is checked. A counter that would fall below zero or
//! overflow (or a bucket record that is missing) means the books no longer
//! match the files and sessions: some earlier change was lost or applied
//! twice. The operation then returns an [`AccountingError`] naming the
//! operation, the user, the bucket, the counter and the values, and changes
//! nothing at all (neither record, nor billing): an operation applies
//! completely or not at all. It never clamps, so drift is never hidden and
//! never made worse.
//!
//! What the callers do with it (each maps it to `InternalError` with
//! `InternalFault::AccountingDrift` through `From`):
//!
//! - Before any await (`start_upload`, `abort_upload`, `delete_file`): the
//!   accounting call comes before every other change, so the error is
//!   returned and the message leaves state exactly as it found it.
//! - After the bucket answered a commit (`finish_commit`, post-await):
//!   [`settle`] (success) and [`release`] (hash mismatch) are tried before
//!   the session or the file is touched. On drift the session goes back to
//!   Pending exactly as after any other failed commit (the same path as a
//!   rejected bucket call), still holding its reservation, and the caller
//!   gets `InternalError`. State stays consistent: the session, its Pending
//!   file and the counters are as they were before the commit began, and
//!   the reaper ends the session at its expiry like any other. We chose not
//!   to clamp and commit anyway, which would make the counters disagree with
//!   the files for good.
//! - The reaper (no caller to answer): an expired session whose release
//!   drifts is left in place and tried again on the next run; it is already
//!   refused to clients (`UploadExpired`).
//!
//! # Billing
//!
//! The credit account (`logic::billing`) moves with the usage it pays for,
//! inside these operations and with the same all-or-nothing rule: each
//! builds the account's change beside the user and bucket records and
//! writes all of them only when every check passed. [`reserve`] holds the
//! upload's cost (its refusal, `InsufficientCredit`, is returned as is and
//! nothing is written) and returns the `Reservation` the upload session
//! keeps; [`settle`] charges it and starts billing the file's bytes;
//! [`release`] gives it back; [`free`] stops billing a deleted file's bytes.
//! A hold the account does not have is drift ([`AccountingError::Credit`]).

use crate::logic::billing;
use crate::model::State;
use crate::model::billing::Reservation;
use crate::model::buckets::BucketRecord;
use crate::model::users::UserRecord;
use candid::Principal;
use depot_api::error::InternalFault;
use depot_api::{BucketId, DirectoryError};
use std::fmt;

/// The four accounting operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Reserve,
    Release,
    Settle,
    Free,
}

/// One usage counter of a user or bucket record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    UserUsedBytes,
    UserReservedBytes,
    UserFilesCount,
    UserUploadsInProgress,
    BucketUsedBytes,
    BucketReservedBytes,
    BucketFilesCount,
    BucketReservedFiles,
}

impl Counter {
    pub fn name(self) -> &'static str {
        match self {
            Counter::UserUsedBytes => "user.used_bytes",
            Counter::UserReservedBytes => "user.reserved_bytes",
            Counter::UserFilesCount => "user.files_count",
            Counter::UserUploadsInProgress => "user.uploads_in_progress",
            Counter::BucketUsedBytes => "bucket.used_bytes",
            Counter::BucketReservedBytes => "bucket.reserved_bytes",
            Counter::BucketFilesCount => "bucket.files_count",
            Counter::BucketReservedFiles => "bucket.reserved_files",
        }
    }
}

/// A change to one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Add(u64),
    Sub(u64),
}

/// The books do not match what an operation expects; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountingError {
    /// `counter` holds `value`, and `change` would take it below zero or
    /// past its maximum.
    Drift { op: Operation, user: Principal, bucket: BucketId, counter: Counter, value: u64, change: Change },
    /// The bucket the upload or file belongs to has no record.
    UnknownBucket { op: Operation, user: Principal, bucket: BucketId },
    /// The user's credit account does not hold what the upload reserved.
    Credit { op: Operation, user: Principal, detail: String },
}

impl fmt::Display for AccountingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountingError::Drift { op, user, bucket, counter, value, change } => {
                let change = match change {
                    Change::Add(n) => format!("+ {n}"),
                    Change::Sub(n) => format!("− {n}"),
                };
                write!(
                    f,
                    "accounting drift in {op:?} (user {user}, bucket {bucket}): {} is {value}, cannot apply {change}",
                    counter.name()
                )
            }
            AccountingError::UnknownBucket { op, user, bucket } => {
                write!(f, "accounting drift in {op:?} (user {user}): bucket {bucket} has no record")
            }
            AccountingError::Credit { op, user, detail } => {
                write!(f, "accounting drift in {op:?} (user {user}): {detail}")
            }
        }
    }
}

impl std::error::Error for AccountingError {}

impl From<AccountingError> for DirectoryError {
    fn from(e: AccountingError) -> Self {
        DirectoryError::internal(InternalFault::AccountingDrift, e.to_string())
    }
}

/// Why [`reserve`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReserveError {
    Drift(AccountingError),
    /// The billing policy refused (returned to the caller as is).
    Billing(DirectoryError),
}

impl From<ReserveError> for DirectoryError {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::Drift(e) => e.into(),
            ReserveError::Billing(e) => e,
        }
    }
}

/// Copies of one user's and one bucket's records, changed with checked
/// arithmetic and written back only when every change succeeded.
struct Books {
    op: Operation,
    user_id: Principal,
    bucket_id: BucketId,
    user: UserRecord,
    bucket: BucketRecord,
}

impl Books {
    fn open(state: &State, op: Operation, user: Principal, bucket: BucketId) -> Result<Self, AccountingError> {
        let record = state.buckets.get(&bucket).ok_or(AccountingError::UnknownBucket { op, user, bucket })?;
        Ok(Self { op, user_id: user, bucket_id: bucket, user: state.user(user), bucket: record })
    }

    fn get(&self, counter: Counter) -> u64 {
        match counter {
            Counter::UserUsedBytes => self.user.used_bytes,
            Counter::UserReservedBytes => self.user.reserved_bytes,
            Counter::UserFilesCount => self.user.files_count,
            Counter::UserUploadsInProgress => u64::from(self.user.uploads_in_progress),
            Counter::BucketUsedBytes => self.bucket.used_bytes,
            Counter::BucketReservedBytes => self.bucket.reserved_bytes,
            Counter::BucketFilesCount => self.bucket.files_count,
            Counter::BucketReservedFiles => self.bucket.reserved_files,
        }
    }

    fn apply(&mut self, counter: Counter, change: Change) -> Result<(), AccountingError> {
        let value = self.get(counter);
        let new = match change {
            Change::Add(n) => value.checked_add(n),
            Change::Sub(n) => value.checked_sub(n),
        };
        let (op, user, bucket) = (self.op, self.user_id, self.bucket_id);
        let drift = || AccountingError::Drift { op, user, bucket, counter, value, change };
        let new = new.ok_or_else(drift)?;
        match counter {
            Counter::UserUsedBytes => self.user.used_bytes = new,
            Counter::UserReservedBytes => self.user.reserved_bytes = new,
            Counter::UserFilesCount => self.user.files_count = new,
            Counter::UserUploadsInProgress => {
                self.user.uploads_in_progress = u32::try_from(new).map_err(|_| drift())?;
            }
            Counter::BucketUsedBytes => self.bucket.used_bytes = new,
            Counter::BucketReservedBytes => self.bucket.reserved_bytes = new,
            Counter::BucketFilesCount => self.bucket.files_count = new,
            Counter::BucketReservedFiles => self.bucket.reserved_files = new,
        }
        Ok(())
    }

    fn apply_all(&mut self, changes: &[(Counter, Change)]) -> Result<(), AccountingError> {
        changes.iter().try_for_each(|(counter, change)| self.apply(*counter, *change))
    }

    fn write(mut self, state: &mut State) {
        self.bucket.update_draining();
        state.put_user(self.user_id, self.user);
        state.put_bucket(self.bucket_id, self.bucket);
    }
}

/// `start_upload`: holds `bytes` of the user's quota and of the bucket's
/// capacity for a new upload, counts the upload in progress and reserves
/// its payment. Returns the billing reservation for the upload session.
pub fn reserve(
    state: &mut State,
    user: Principal,
    bucket: BucketId,
    bytes: u64,
    retention_days: Option<u32>,
    now_ns: u64,
) -> Result<Reservation, ReserveError> {
    let mut books = Books::open(state, Operation::Reserve, user, bucket).map_err(ReserveError::Drift)?;
    books
        .apply_all(&[
            (Counter::UserReservedBytes, Change::Add(bytes)),
            (Counter::UserUploadsInProgress, Change::Add(1)),
            (Counter::BucketReservedBytes, Change::Add(bytes)),
            (Counter::BucketReservedFiles, Change::Add(1)),
        ])
        .map_err(ReserveError::Drift)?;
    let (reservation, credit) =
        billing::reserve(state, user, bytes, retention_days, now_ns).map_err(ReserveError::Billing)?;
    books.write(state);
    credit.write(state, now_ns);
    Ok(reservation)
}

/// Abort, expiry, hash mismatch: undoes [`reserve`] and gives the billing
/// reservation back.
pub fn release(
    state: &mut State,
    user: Principal,
    bucket: BucketId,
    bytes: u64,
    reservation: &Reservation,
    now_ns: u64,
) -> Result<(), AccountingError> {
    let mut books = Books::open(state, Operation::Release, user, bucket)?;
    books.apply_all(&[
        (Counter::UserReservedBytes, Change::Sub(bytes)),
        (Counter::UserUploadsInProgress, Change::Sub(1)),
        (Counter::BucketReservedBytes, Change::Sub(bytes)),
        (Counter::BucketReservedFiles, Change::Sub(1)),
    ])?;
    let credit = billing::release(state, reservation, now_ns).map_err(|d| AccountingError::Credit {
        op: Operation::Release,
        user,
        detail: d.0,
    })?;
    books.write(state);
    if let Some(credit) = credit {
        credit.write(state, now_ns);
    }
    Ok(())
}

/// Commit: the reserved bytes become used bytes of one more file, and the
/// billing reservation becomes a charge.
pub fn settle(
    state: &mut State,
    user: Principal,
    bucket: BucketId,
    bytes: u64,
    reservation: &Reservation,
    now_ns: u64,
) -> Result<(), AccountingError> {
    let mut books = Books::open(state, Operation::Settle, user, bucket)?;
    books.apply_all(&[
        (Counter::UserReservedBytes, Change::Sub(bytes)),
        (Counter::UserUsedBytes, Change::Add(bytes)),
        (Counter::UserFilesCount, Change::Add(1)),
        (Counter::UserUploadsInProgress, Change::Sub(1)),
        (Counter::BucketReservedBytes, Change::Sub(bytes)),
        (Counter::BucketUsedBytes, Change::Add(bytes)),
        (Counter::BucketFilesCount, Change::Add(1)),
        (Counter::BucketReservedFiles, Change::Sub(1)),
    ])?;
    let credit = billing::settle(state, reservation, now_ns).map_err(|d| AccountingError::Credit {
        op: Operation::Settle,
        user,
        detail: d.0,
    })?;
    books.write(state);
    if let Some(credit) = credit {
        credit.write(state, now_ns);
    }
    Ok(())
}

/// Deleting a Ready file of `bytes` (in chunks of `chunk_size`): one file
/// and its bytes fewer, and its storage no longer billed.
pub fn free(
    state: &mut State,
    user: Principal,
    bucket: BucketId,
    bytes: u64,
    chunk_size: u32,
    now_ns: u64,
) -> Result<(), AccountingError> {
    let mut books = Books::open(state, Operation::Free, user, bucket)?;
    books.apply_all(&[
        (Counter::UserUsedBytes, Change::Sub(bytes)),
        (Counter::UserFilesCount, Change::Sub(1)),
        (Counter::BucketUsedBytes, Change::Sub(bytes)),
        (Counter::BucketFilesCount, Change::Sub(1)),
    ])?;
    let credit = billing::forget_file(state, user, bytes, chunk_size, now_ns);
    books.write(state);
    credit.write(state, now_ns);
    Ok(())
}
