//! Every limit of the system, with its reason. `docs/storage.md` repeats
//! them with their values; change both together.

/// Bytes per chunk, the unit of upload, of storage and of every certified
/// response: 2,000,000 by default, the largest size that is safe everywhere.
/// One chunk plus its token and the ingress envelope (sender, signature,
/// delegations: a few KB) must fit in one 2 MiB ingress message, which leaves
/// 97,152 bytes; a chunk is also the body of an upgraded update reply (2 MiB
/// cap) and of a certified 206 query reply (3 MiB cap), with headers and the
/// certificate beside it. As a verifying gateway reassembles at most
/// `VERIFIED_GET_MAX_CHUNKS` responses for one plain GET, this size makes a
/// plain GET deliver files of up to 2 GB whole and verified.
pub const CHUNK_SIZE: u32 = 2_000_000;

/// Smallest chunk size a directory may be configured with. Chunks must be a
/// multiple of the SHA-256 block (64 bytes) so the bucket can hash a file
/// incrementally, one whole chunk at a time.
pub const MIN_CHUNK_SIZE: u32 = 64 * 1024;

/// Largest chunk size (see `CHUNK_SIZE`).
pub const MAX_CHUNK_SIZE: u32 = CHUNK_SIZE;
const _: () = assert!(MAX_CHUNK_SIZE.is_multiple_of(64) && MIN_CHUNK_SIZE.is_multiple_of(64));

/// The HTTP gateway reassembles at most this many certified 206 replies for
/// one plain GET (`ic-http-gateway`'s limit on the frames of a response it
/// verifies; docs/storage.md §4). A plain GET of a file with more chunks ends
/// after this many, short of its `Content-Length`, which every client
/// reports as an error (curl exit 18); range requests, players and the CLI
/// read such files whole.
pub const VERIFIED_GET_MAX_CHUNKS: u32 = 1000;

/// Chunks per file: 64 GiB at 1 MiB chunks, 34,360 chunks at the default
/// size. Each chunk costs the bucket one entry in its certification tree
/// (heap) and ~1.3 M instructions to certify, spread over as many messages
/// as it takes (the file is served by update until then).
pub const MAX_CHUNKS_PER_FILE: u32 = 65_536;

/// Largest file: 64 GiB, as the spec asks, at any chunk size of 1 MiB or more.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024 * 1024;
const _: () = assert!(MAX_FILE_SIZE <= MAX_CHUNKS_PER_FILE as u64 * CHUNK_SIZE as u64);

/// Empty files are stored like any other (S3 and every file system keep
/// them: placeholders, `.gitkeep`, empty logs): 0 chunks, no `put_chunk`,
/// served as a certified empty 200.
pub const MIN_FILE_SIZE: u64 = 0;

/// File names (UTF-8 bytes). A name is a relative path, `photos/2024/a.jpg`
/// (what `depot upload -r` stores): 1,024 bytes in all, as S3 keys, and
/// each `/`-separated component at most 255, any file system's `NAME_MAX`,
/// so every name can be written back to disk.
pub const MAX_NAME_BYTES: usize = 1024;
pub const MAX_NAME_COMPONENT_BYTES: usize = 255;

/// MIME type strings (RFC 6838 caps type and subtype at 127 each).
pub const MAX_MIME_BYTES: usize = 255;

/// Upload tokens live 5–15 minutes: long enough to send a batch of chunks,
/// short enough that a leaked token soon stops working; the default sits
/// between.
pub const MIN_UPLOAD_TOKEN_TTL_SECS: u64 = 5 * 60;
pub const DEFAULT_UPLOAD_TOKEN_TTL_SECS: u64 = 10 * 60;
pub const MAX_UPLOAD_TOKEN_TTL_SECS: u64 = 15 * 60;

/// An upload session that sees no commit within this time is reaped.
pub const DEFAULT_UPLOAD_SESSION_TTL_SECS: u64 = 24 * 60 * 60;

/// Download URLs: the default and the cap on the TTL a caller may ask for.
pub const DEFAULT_DOWNLOAD_URL_TTL_SECS: u64 = 60 * 60;
pub const MAX_DOWNLOAD_URL_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// Rate limit on `start_upload` per user: 60 per minute. `depot upload -r`
/// of a folder of small files starts one upload per file; on the IC each
/// file takes a few update rounds (start, token, chunk, commit), so 4 files
/// in flight start about 20–40 a minute, and a folder of hundreds goes
/// through without a wait. Abuse stays bounded: every start is one update
/// the caller signed, holds a reservation within the user's quota, counts
/// against the uploads in progress (10) and, with billing, its call fee;
/// one start a second per identity is work the directory absorbs. (It was 5
/// a minute, which made a folder of 300 photos take an hour.)
pub const DEFAULT_START_UPLOAD_PER_MINUTE: u32 = 60;
/// Highest setting: the user record keeps one timestamp per start inside
/// the window, read and written by every `start_upload` (600 = 10/s).
pub const MAX_START_UPLOAD_PER_MINUTE: u32 = 600;
pub const RATE_WINDOW_SECS: u64 = 60;

/// In-progress uploads one user may hold at once.
pub const DEFAULT_MAX_UPLOADS_IN_PROGRESS: u32 = 10;
/// Highest setting: each in-progress upload holds a session, a reservation
/// and bucket slots until committed or reaped.
pub const MAX_UPLOADS_IN_PROGRESS: u32 = 1_000;

/// Storage quota of a new user.
pub const DEFAULT_USER_QUOTA_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// `list_files`: default and maximum page size.
pub const DEFAULT_LIST_LIMIT: u32 = 100;
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Files one `list_files` call examines at most (matching or not), so a
/// search that matches little still costs a bounded query: about 10 k
/// instructions per record read, 20 M a call.
pub const MAX_LIST_SCAN: usize = 2000;

/// Chunks one `get_upload_token` may allow: the whole file fits in one
/// token. A narrower cap would add no protection: a token is bound to one
/// upload of one file in one bucket, to the file's owner as the only caller
/// of `put_chunk`, to the exact chunk geometry and to an expiry of at most
/// `MAX_UPLOAD_TOKEN_TTL_SECS`; the owner may ask for any range of their own
/// upload anyway. It would only make clients ask for more tokens (more
/// signatures), which the two limits below bound.
pub const MAX_CHUNKS_PER_TOKEN: u32 = MAX_CHUNKS_PER_FILE;

/// Rate limit on `get_upload_token` per user (same window as
/// `start_upload`), so a client cannot make the directory sign in a loop.
/// 120 per minute: the CLI asks for one whole-file token per upload (so
/// up to `DEFAULT_START_UPLOAD_PER_MINUTE` a minute for a folder of small
/// files) and replaces it about every 9 minutes (10-minute tokens, renewed
/// 1 minute before expiry), at most 1 + its parallelism (4) in a burst after
/// a `TokenExpired`; the starts plus 10 uploads in progress (the default
/// cap) bursting at once stay below 120.
pub const DEFAULT_UPLOAD_TOKENS_PER_MINUTE: u32 = 120;
const _: () =
    assert!(DEFAULT_START_UPLOAD_PER_MINUTE + DEFAULT_MAX_UPLOADS_IN_PROGRESS * 5 <= DEFAULT_UPLOAD_TOKENS_PER_MINUTE);
/// Highest setting: the user record keeps one timestamp per token inside
/// the window, read and written by every `get_upload_token` (600 = 10/s).
pub const MAX_UPLOAD_TOKENS_PER_MINUTE: u32 = 600;

/// Tokens one upload session may be issued over its whole life. 1000 covers
/// a token every 1.5 minutes over a 24-hour session; the CLI needs at most
/// ~160 (one whole-file token per 9 minutes over 24 hours). A session past
/// the cap is refused for good (InvalidRequest): waiting does not help, a
/// new upload does.
pub const DEFAULT_MAX_TOKENS_PER_UPLOAD: u32 = 1000;
/// Highest setting: bounds the signatures one upload can cost.
pub const MAX_TOKENS_PER_UPLOAD: u32 = 10 * DEFAULT_MAX_TOKENS_PER_UPLOAD;

/// Indices one `route_chunks`/`mark_chunk_uploaded` call may name (about
/// 5 KB of argument); a larger file is asked about in several calls.
pub const MAX_CHUNK_INDICES_PER_CALL: usize = 1000;

/// Signing keys the directory keeps (active + retired, still verifying).
pub const MAX_SIGNING_KEYS: usize = 4;

// ---- billing (docs/billing.md) ----

/// Every chunk is billed as at least this many bytes: the bucket's smallest
/// slab slot is 4 KiB, so a 10-byte file costs it 4 KiB of stable memory.
pub const MIN_BILLABLE_CHUNK_BYTES: u64 = 4096;

/// Movements kept per user (the newest); older ones are dropped.
pub const MAX_MOVEMENTS_PER_USER: u64 = 100;

/// Bytes of a deposit nonce: 128 bits, so clients draw them at random.
pub const DEPOSIT_NONCE_BYTES: usize = 16;

/// A deposit's `created_at_ns` may be this old: its nonce is remembered for
/// as long, so a retry inside the window never pays twice and one outside
/// it is refused (the ICRC ledgers' `TooOld` rule).
pub const DEPOSIT_WINDOW_SECS: u64 = 24 * 60 * 60;

/// ... and this far in the future (clock skew of the client).
pub const DEPOSIT_FUTURE_SLACK_SECS: u64 = 5 * 60;

/// A deposit awaiting its ledger for longer than this may be resolved by
/// the operator (`admin_resolve_deposit`): a guaranteed-response call
/// returns long before, so its callback was lost.
pub const DEPOSIT_STALE_SECS: u64 = 60 * 60;

/// Longest reason of an operator's refund.
pub const MAX_REFUND_REASON_BYTES: usize = 200;

/// Deposits one user may start per `RATE_WINDOW_SECS`: each that passes
/// validation costs the directory a ledger call, paid or not.
pub const DEPOSITS_PER_MINUTE: u32 = 10;

/// Deposits of one user awaiting their ledger at once: each is an
/// inter-canister call the directory pays for.
pub const MAX_DEPOSITS_IN_FLIGHT_PER_USER: u32 = 4;

/// Longest retention period a file may be given (about 100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Files deleted per maintenance tick when their retention ends.
pub const RETENTION_BATCH: usize = 100;

/// Files per `set_suspended` call: each removes or re-adds a file's
/// certified responses (~1.3 M instructions per chunk to re-add).
pub const MAX_FILES_PER_SUSPEND_CALL: usize = 100;

/// Token ledgers the operator may price.
pub const MAX_PRICED_TOKENS: usize = 16;

/// Longest token symbol.
pub const MAX_TOKEN_SYMBOL_BYTES: usize = 16;

// ---- bucket provisioning (docs/provisioning.md) ----

/// Ready, empty buckets the directory keeps so that no upload waits for a
/// bucket to be created.
pub const DEFAULT_BUCKET_POOL_TARGET: u32 = 1;
/// Highest pool setting: each pooled bucket holds its creation cycles idle.
pub const MAX_BUCKET_POOL_TARGET: u32 = 20;

/// Cycles a new bucket is created with. On mainnet creation itself costs
/// 0.5 T (13-node subnet); the rest is the bucket's first balance.
pub const DEFAULT_BUCKET_CREATION_CYCLES: u128 = 2_000_000_000_000;
/// Least a bucket may be created with: below it a bucket would freeze
/// almost at once.
pub const MIN_BUCKET_CREATION_CYCLES: u128 = 500_000_000_000;

/// The directory creates no bucket and tops none up that would leave it
/// with fewer cycles than this: it keeps serving (its freezing threshold
/// plus about a month of its own burn) rather than provision.
pub const DEFAULT_DIRECTORY_RESERVE_CYCLES: u128 = 5_000_000_000_000;

/// Freezing threshold set on every bucket the directory creates.
pub const DEFAULT_BUCKET_FREEZING_THRESHOLD_SECS: u64 = 30 * 24 * 60 * 60;

/// Heap limit set on every bucket the directory creates: the bucket's heap
/// holds its certification tree; past this the bucket traps instead of
/// running out of the 4 GiB wasm32 address space mid-message.
pub const BUCKET_WASM_MEMORY_LIMIT_BYTES: u64 = 3584 * 1024 * 1024;

/// Files one bucket may hold (Ready plus uploads in progress). Each file
/// costs heap in the bucket's certification tree (about 1.8 KB measured,
/// `depot-bench`): a million files keep it under 2 GiB.
pub const DEFAULT_BUCKET_MAX_FILES: u64 = 1_000_000;

/// A created bucket's soft limit, in percent of its capacity (its hard
/// limit): past it the bucket drains, so uploads in progress still fit.
pub const BUCKET_SOFT_LIMIT_PERCENT: u64 = 90;

/// A bucket is topped up when its balance falls under this...
pub const DEFAULT_BUCKET_TOP_UP_THRESHOLD_CYCLES: u128 = 1_000_000_000_000;
/// ... by this many cycles.
pub const DEFAULT_BUCKET_TOP_UP_CYCLES: u128 = 2_000_000_000_000;

/// Buckets whose `canister_status` one maintenance run reads: each is a
/// management-canister call.
pub const FLEET_STATUS_BATCH: usize = 50;

/// Extra controllers a created bucket may be given (with the directory).
pub const MAX_BUCKET_CONTROLLERS: usize = 9;

/// A journal entry still `Creating` after this long has no call in flight
/// (every call returns long before): its reply was lost to an upgrade that
/// did not stop the directory, and the operator resolves it.
pub const PROVISION_STALE_SECS: u64 = 60 * 60;

/// Attempts at installing or registering a created bucket before the entry
/// waits for the operator.
pub const MAX_PROVISION_ATTEMPTS: u32 = 10;

/// Buckets one maintenance tick upgrades in a rollout, after the canary
/// (`admin_upgrade_buckets`): each is stopped, upgraded, started and
/// checked, one after another.
pub const DEFAULT_ROLLOUT_BATCH: u32 = 10;
pub const MAX_ROLLOUT_BATCH: u32 = 50;

/// A bucket is topped up when its balance would last fewer than this many
/// days above its freezing limit at its measured burn...
pub const BUCKET_RUNWAY_DAYS: u64 = 7;
/// ... by enough for this many days of that burn (at least
/// `bucket_top_up_cycles`).
pub const BUCKET_TOP_UP_DAYS: u64 = 30;

/// Longest subnet type a bucket factory may name.
pub const MAX_SUBNET_TYPE_BYTES: usize = 64;

/// Shares one user may hold (live ones: expired and spent shares make room
/// when the next is created). Each is one record in the directory's stable
/// memory and one index entry.
pub const MAX_SHARES_PER_USER: u32 = 1_000;

/// Longest a share may be given to live; a share with no expiry lives
/// until it is revoked or its file deleted.
pub const MAX_SHARE_TTL_SECS: u64 = 365 * 24 * 60 * 60;

/// Most uses a share may be limited to (a limit past it is no limit).
pub const MAX_SHARE_USES: u32 = 1_000_000;

/// `resolve_share` calls one share answers per `RATE_WINDOW_SECS`: each
/// signs a URL, an update anyone may send. 600 a minute lets a link shared
/// in a busy chat be opened by ten people a second; the counter lives in
/// the share's record, so strangers cost no state of their own.
pub const SHARE_RESOLVES_PER_MINUTE: u32 = 600;

/// Lifetime of the signed URL a share resolves to: an hour, as a download
/// URL's default, so that a film opened from a share plays through and
/// seeks with the URL it was given; never past the share's own expiry.
pub const SHARE_URL_TTL_SECS: u64 = 60 * 60;

/// `list_shares`: default and maximum page size.
pub const DEFAULT_SHARE_LIST_LIMIT: u32 = 100;
pub const MAX_SHARE_LIST_LIMIT: u32 = 1_000;
