//! Depot on devnet: building the canisters, deploying a directory with
//! buckets, and serving it all over HTTP. Used by the `depot-local` binary
//! (the README's main job) and by the end-to-end tests, and the sections of
//! the `depot-bench` binary (`bench`).

pub mod bench;
pub mod books;
pub mod browser;
pub mod clients;
pub mod deploy;
pub mod drive;
pub mod env;
pub mod ledgers;
pub mod wasm;
