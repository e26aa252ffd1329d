//! The HTTP gateway: serves canisters' `http_request` to browsers at
//! `http://<canister-id>.localhost:<port>/…` (and `…/?canisterId=<id>`),
//! using the production gateway logic (`ic-http-gateway-protocol`) over an
//! `ic-agent` that talks to our own API on loopback, with response
//! verification on. `<id>.raw.localhost` skips verification, like the raw
//! domains of mainnet.

mod handler;
mod host;

pub use handler::router;
pub use host::{GatewayTarget, target_of};
