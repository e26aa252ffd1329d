//! Limits that only the bucket applies (shared ones are in `depot_api::limits`).

/// Logical bytes a bucket stores unless its install argument says otherwise.
/// Well under the IC's 500 GiB stable memory, and sized so that the
/// post-upgrade rebuild of the certification tree for a bucket full of
/// 1 MiB chunks stays under 80 % of the 300 B instruction budget: measured
/// at ~1.1 M instructions per chunk (docs/storage.md §4).
pub const DEFAULT_BUCKET_CAPACITY_BYTES: u64 = 200 * 1024 * 1024 * 1024;

/// Contiguous chunks a `put_chunk` may absorb into the whole-file hash
/// besides its own: catches up on chunks that arrived out of order without
/// making any one call expensive.
pub const HASH_CHUNKS_PER_PUT: u32 = 2;

/// Bytes one `commit_file` message hashes (whole chunks, at least one)
/// before answering `HashInProgress`; the directory then calls again with a
/// fresh budget. 256 MiB of SHA-256 is ~20 B instructions (79 M per MiB,
/// measured), leaving half of the 40 B limit to certify the file's chunks
/// in the same message.
pub const HASH_BYTES_PER_COMMIT: u64 = 256 * 1024 * 1024;

/// Instructions a message may have used (all of it, hashing included) and
/// still add a chunk's responses to the certification tree; the rest of a
/// large file is certified by timer steps (`lifecycle`), and served by
/// update until then. Under the 40 B update limit by one chunk's cost and
/// a margin.
pub const CERTIFY_INSTRUCTIONS_PER_MESSAGE: u64 = 30_000_000_000;

/// Ranges of one multi-range request answered as `multipart/byteranges`
/// (after merging overlaps). More than that, or more than
/// `MAX_MULTIPART_BODY_BYTES`, and the Range header is ignored: the whole
/// file is sent with 200, as RFC 9110 §14.2 allows for requests with many
/// small ranges (a classic amplification and CPU abuse).
pub const MAX_RANGES_PER_REQUEST: usize = 16;

/// Largest `multipart/byteranges` body, built in one update reply (2 MiB
/// limit) with room for part headers.
pub const MAX_MULTIPART_BODY_BYTES: u64 = 1024 * 1024;

/// How long after its URL's expiry a streaming callback token still reads:
/// a download that started while the URL was valid may finish. A token is
/// derived from the URL's signature and is bound to one file in one bucket,
/// so the grace gives nothing to anyone who did not hold the URL.
pub const STREAM_EXPIRY_GRACE_SECS: u64 = 15 * 60;

/// How long a deleted file keeps its tombstone: upload tokens live at most
/// `MAX_UPLOAD_TOKEN_TTL_SECS` from issue, so every token for the file has
/// expired by then, plus a margin for clock differences between the
/// directory's subnet and this one.
pub const TOMBSTONE_TTL_NS: u64 =
    (depot_api::limits::MAX_UPLOAD_TOKEN_TTL_SECS + TOMBSTONE_CLOCK_MARGIN_SECS) * 1_000_000_000;
pub const TOMBSTONE_CLOCK_MARGIN_SECS: u64 = 5 * 60;
const _: () = assert!(TOMBSTONE_TTL_NS > depot_api::limits::MAX_UPLOAD_TOKEN_TTL_SECS * 1_000_000_000);

/// Expired tombstones removed per `delete_file`: keeps the map bounded by
/// the deletions of the last `TOMBSTONE_TTL_NS` without a scan.
pub const TOMBSTONES_PRUNED_PER_DELETE: usize = 4;

/// Largest `put_chunk` argument `inspect_message` admits: a chunk of the
/// largest size plus its token (a few hundred bytes) and Candid framing.
pub const MAX_PUT_CHUNK_ARG_BYTES: usize = depot_api::limits::MAX_CHUNK_SIZE as usize + 16 * 1024;

/// Largest `http_request_update` argument admitted: a URL and headers.
/// Gateways send no body for GET; 64 KiB is far above real header sizes.
pub const MAX_HTTP_UPDATE_ARG_BYTES: usize = 64 * 1024;

/// Candid skipping quota of every argument the bucket decodes by hand
/// (in `inspect_message`, and `put_chunk`'s from any caller): our arguments
/// have no fields to skip, so a little slack is enough. The same as
/// `#[update]` sets (ic-cdk's default), so a `vec null` of 2^32 elements
/// costs nothing to refuse.
pub const ARG_SKIPPING_QUOTA: usize = 10_000;
