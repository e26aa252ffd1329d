//! Types shared by the execution layer and the HTTP interface: reject codes
//! and rejects as the IC interface specification reports them, ingress
//! messages and their status. One family for both layers, so nothing is
//! converted between them.

use candid::Principal;

/// Reject codes of the IC interface specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    SysFatal = 1,
    SysTransient = 2,
    DestinationInvalid = 3,
    CanisterReject = 4,
    CanisterError = 5,
    SysUnknown = 6,
}

impl RejectCode {
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The code as the HTTP interface encodes it (CBOR and state-tree integers).
    pub fn as_u64(self) -> u64 {
        self as u64
    }

    pub fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => RejectCode::SysFatal,
            2 => RejectCode::SysTransient,
            3 => RejectCode::DestinationInvalid,
            4 => RejectCode::CanisterReject,
            5 => RejectCode::CanisterError,
            6 => RejectCode::SysUnknown,
            _ => return None,
        })
    }
}

/// A reject as the IC interface specification reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub code: RejectCode,
    pub message: String,
    /// The IC's error code (e.g. "IC0503") when the system rejected.
    pub error_code: Option<String>,
}

impl Reject {
    pub fn new(code: RejectCode, message: impl Into<String>, error_code: Option<&str>) -> Self {
        Reject { code, message: message.into(), error_code: error_code.map(str::to_string) }
    }

    /// The reject for a call to a canister that does not exist (code 3, `IC0301`).
    pub fn destination_invalid(message: impl Into<String>) -> Self {
        Reject::new(RejectCode::DestinationInvalid, message, Some("IC0301"))
    }

    /// A reject the canister produced with `msg_reject`.
    pub fn by_canister(message: impl Into<String>) -> Self {
        Reject::new(RejectCode::CanisterReject, message, Some("IC0406"))
    }
}

/// An authenticated ingress message, as the HTTP layer decoded it, ready
/// to be submitted to the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressMessage {
    pub request_id: [u8; 32],
    pub sender: Principal,
    pub canister_id: Principal,
    pub method_name: String,
    pub arg: Vec<u8>,
    /// Expiry (ns since epoch). Checked by the HTTP layer against the wall
    /// clock, not here (tests move devnet time).
    pub ingress_expiry: u64,
    /// The effective canister id of the URL it came by: the subnet it is
    /// routed to. For calls to the management canister that is where a
    /// canister it creates goes (`crate::subnets`); otherwise it is the
    /// target canister.
    pub effective_canister_id: Principal,
}

/// Where an ingress message stands (`/request_status/<id>/status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestStatus {
    Received,
    Processing,
    Replied(Vec<u8>),
    Rejected(Reject),
    /// The reply was pruned after the message expired.
    Done,
}
