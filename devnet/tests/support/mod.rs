//! Test support shared by the integration tests (each `tests/*.rs` is its
//! own crate and declares `mod support;`):
//! - `conformance`: library-API helpers and WAT canisters for the execution,
//!   call and management conformance tests;
//! - `fake_ic`: a scripted in-memory [`Backend`](depot_devnet::http::Backend)
//!   for testing the HTTP interface without wasm;
//! - `wat_canister`: a WAT canister behind a real devnet server;
//! - `http_cert`: certified `http_request` replies for the gateway tests.
// Each test crate uses a different part of this module; the rest would
// warn as dead code in that crate.
#![allow(dead_code)]

pub mod conformance;
pub mod fake_ic;
pub mod http_cert;
pub mod wat_canister;

use depot_devnet::http::server::RunningServer;

/// An ic-agent for `server` that trusts its root key.
pub async fn agent_for(server: &RunningServer, identity: Box<dyn ic_agent::Identity>) -> ic_agent::Agent {
    let agent = ic_agent::Agent::builder().with_url(server.url()).with_boxed_identity(identity).build().expect("agent");
    agent.fetch_root_key().await.expect("fetch_root_key");
    agent
}
