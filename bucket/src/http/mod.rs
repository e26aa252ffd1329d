//! Serving files over HTTP through the IC's HTTP gateway.
//!
//! What a GET of a signed file URL gets (docs/storage.md has the full
//! rationale, and what a verifying gateway checks in each case):
//! - No `Range`: a file of at most one chunk is one certified 200 (an empty
//!   file a 200 with `Content-Length: 0`). A larger file is answered with
//!   the certified 206 of chunk 0; the gateway turns it into a 200, fetches
//!   every other chunk with `Range: bytes=<next>-` queries, verifies each,
//!   and stops after `GATEWAY_MAX_FRAMES` (the body then ends short of its
//!   `Content-Length`, which clients detect).
//! - Media elements (`Sec-Fetch-Dest: video|audio|track`) with a `Range`:
//!   the certified 206 of the chunk holding the first requested byte, from
//!   the query. Browsers accept a 206 that starts before the byte they
//!   asked for, so seeking costs no update call.
//! - Any other `Range` (curl, wget, download managers, `fetch`): exact. A
//!   range that is exactly one chunk is that chunk's certified 206 from the
//!   query; any other is upgraded to `http_request_update`, whose reply
//!   holds the bytes up to the end of the first chunk and whose streaming
//!   callbacks (`stream`) carry the rest. Multi-range requests get a
//!   `multipart/byteranges` 206, or the whole file when the ranges are many
//!   or large. `bytes=<chunk start>-` past chunk 0 is also byte for byte
//!   the gateway's own request for the next chunk of a plain GET, which
//!   must get that one chunk (the gateway refuses streaming there): the
//!   query answers the chunk's certified 206 *and* `upgrade`. The gateway's
//!   chunk fetches ignore `upgrade`; a client's request (a download resumed
//!   where it broke, between two chunks) is upgraded and answered to the
//!   end. Chunk fetches through ic-gateway carry an `x-request-id` that the
//!   gateway strips from clients' requests, and get no `upgrade`.
//! - A `Range` that the answer ignores (malformed, or `If-Range` with an old
//!   validator) gets the whole file as a 200, streamed, when the client sent
//!   it: the gateway passes such answers through without reassembling.

pub mod answer;
pub mod cert_header;
pub mod certs;
pub mod headers;
pub mod range;
pub mod reply;
pub mod responses;
pub mod serve;
pub mod stream;
pub mod token_mac;
pub mod wire;
