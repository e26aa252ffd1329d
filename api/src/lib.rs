//! Types shared by Depot's canisters and clients.
//!
//! - [`ids`]: file, upload and bucket identifiers.
//! - [`limits`]: every size, count, rate and expiry, with its reason.
//! - [`directory`] / [`bucket`]: the Candid request and response types of each canister.
//! - [`error`]: the typed errors of both canisters.
//! - [`token`]: the upload token a bucket checks without calling the directory.
//! - [`url`]: the signed download URL a bucket checks in `http_request`.
//! - [`mime_type`]: the one MIME type form accepted and served.
//! - [`reject`]: typed errors carried in the reject text of a refused message.
//! - [`billing`]: pricing, credit accounts and deposits (PAPI payment types).
//! - [`methods`]: typed descriptors (name, mode, argument and result types) of every method.
//! - [`keys`]: Ed25519 signing primitives with key ids, shared by tokens and URLs.
//! - `canister_env` (feature `canister-env`): the canister environment variables icp-cli sets.

pub mod billing;
pub mod bucket;
#[cfg(feature = "canister-env")]
pub mod canister_env;
#[cfg(feature = "did-check")]
pub mod did_check;
pub mod directory;
pub mod error;
pub mod gateway;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod methods;
pub mod mime_type;
pub mod reject;
pub mod share;
#[cfg(feature = "storable")]
pub mod storable;
pub mod token;
pub mod url;

pub use error::{BucketError, DirectoryError};
pub use ids::{BucketId, FileId, FileKey, UploadId, UserId};
