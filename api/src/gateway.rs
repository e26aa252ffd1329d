//! The gateway canister's install argument.

use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GatewayInit {
    /// The directory whose shares `/s/<id>` resolves.
    pub directory: Principal,
}

/// Where share links live on the gateway: `/s/<share-id>` (the page) and
/// `/s/<share-id>/raw` (a redirect to the file itself).
pub const SHARE_PATH_PREFIX: &str = "/s/";
pub const RAW_SUFFIX: &str = "/raw";
