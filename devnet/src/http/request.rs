//! Steps every `call`, `query` and `read_state` request goes through:
//! decode the envelope, check its expiry, authenticate the sender.

use candid::Principal;

use super::auth;
use super::envelope::{self, CanisterRequest, Envelope};
use super::error::ApiError;
use super::state::{ApiState, wall_clock_ns};

/// Parses the `<id>` of `/api/vN/canister/<id>/…` and `/api/vN/subnet/<id>/…`.
pub fn principal_from_path(text: &str) -> Result<Principal, ApiError> {
    Principal::from_text(text).map_err(|e| ApiError::BadRequest(format!("`{text}` in the URL is not a principal: {e}")))
}

/// Decodes and authenticates an envelope.
pub fn authenticated(state: &ApiState, body: &[u8]) -> Result<Envelope, ApiError> {
    let envelope = envelope::decode(body)?;
    let now = wall_clock_ns();
    auth::check_expiry(&envelope, now)?;
    auth::authenticate(&envelope, now, &state.root_key_der)?;
    Ok(envelope)
}

/// The management canister accepts calls under any effective canister id
/// (the real IC routes them by an id inside the argument).
pub fn check_effective_canister(req: &CanisterRequest, effective: Principal) -> Result<(), ApiError> {
    if req.canister_id == effective || req.canister_id == Principal::management_canister() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "canister_id {} does not match the effective canister id {effective} in the URL",
            req.canister_id
        )))
    }
}

pub fn check_arg_size(state: &ApiState, req: &CanisterRequest) -> Result<(), ApiError> {
    if req.arg.len() > state.config.max_arg_bytes {
        return Err(ApiError::PayloadTooLarge(state.config.max_arg_bytes));
    }
    Ok(())
}

/// Where a request is addressed: a canister or the subnet.
#[derive(Debug, Clone, Copy)]
pub enum Effective {
    Canister(Principal),
    Subnet(Principal),
}

impl Effective {
    /// The index of the subnet that answers: the one owning the canister,
    /// or the subnet named (which must exist).
    pub fn subnet(&self, state: &ApiState) -> Result<usize, ApiError> {
        match self {
            Effective::Canister(id) => Ok(state.certifier.subnet_of(id).index),
            Effective::Subnet(id) => state.certifier.subnet_by_id(*id).map(|s| s.index).ok_or_else(|| {
                let known: Vec<String> = state.certifier.subnets().iter().map(|s| s.id.to_text()).collect();
                ApiError::NotFound(format!("subnet {id} does not exist (devnet runs {})", known.join(", ")))
            }),
        }
    }
}
