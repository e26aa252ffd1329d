//! Public types of the library API.

use candid::Principal;

pub use crate::types::{IngressMessage, Reject, RejectCode, RequestStatus};

use crate::fees::{DEFAULT_FREEZING_THRESHOLD_SECS, FeeModel};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub result: Result<Vec<u8>, Reject>,
    /// Instructions of the callee's executions for this call up to its
    /// answer (the method itself plus any callbacks before it replied).
    pub instructions: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallMode {
    Install,
    Reinstall,
    Upgrade,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DevnetError {
    #[error("canister {0} not found")]
    CanisterNotFound(Principal),
    #[error("canister id {0} is already in use")]
    CanisterIdTaken(Principal),
    #[error("{0} is not a controller of canister {1}")]
    NotController(Principal, Principal),
    #[error("invalid module: {0}")]
    InvalidModule(String),
    #[error("canister {0} has no module installed")]
    NoModule(Principal),
    #[error("canister {0} already has a module; use reinstall or upgrade")]
    AlreadyInstalled(Principal),
    #[error("install failed: {0}")]
    InstallFailed(String),
    #[error("{}", .0.message)]
    Rejected(Reject),
    #[error("not implemented in devnet: {0}")]
    NotImplemented(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl DevnetError {
    /// The reject a caller of the management canister sees for this error.
    pub fn to_reject(&self) -> Reject {
        match self {
            DevnetError::Rejected(r) => r.clone(),
            DevnetError::CanisterNotFound(_) => {
                Reject::new(RejectCode::DestinationInvalid, self.to_string(), Some("IC0301"))
            }
            DevnetError::NotController(..) => Reject::new(RejectCode::CanisterError, self.to_string(), Some("IC0512")),
            DevnetError::InvalidArgument(_) => Reject::new(RejectCode::CanisterError, self.to_string(), Some("IC0503")),
            _ => Reject::new(RejectCode::CanisterError, self.to_string(), None),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ingress rejected: {}", .reject.message)]
pub struct IngressRejected {
    pub reject: Reject,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Flip one byte inside the first blob of the candid reply of
    /// `method` on `canister` (queries only), or the last byte if none.
    TamperQueryReply {
        canister: Principal,
        method: String,
    },
    StopCanister(Principal),
    ExhaustCycles(Principal),
    /// The next `times` replicated calls of `method` on `canister` (from a
    /// canister, ingress or the library API) run and then trap: every change
    /// they made is rolled back, their outgoing calls are dropped, the fee
    /// is charged and the caller gets the trap's reject (`CanisterError`,
    /// IC0503). Used up after `times` calls.
    TrapMethod {
        canister: Principal,
        method: String,
        times: u32,
    },
    /// The next `times` calls of `method` on `canister` are rejected by the
    /// system before they run (`SysTransient`, as when the callee's input
    /// queue is full): the canister never sees them. Used up after `times`
    /// calls.
    RejectCall {
        canister: Principal,
        method: String,
        times: u32,
    },
}

/// Which way a held message travels: see [`crate::Devnet::hold_messages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    /// The caller of a request, the canister that answers a response.
    pub from: Principal,
    /// The callee of a request, the canister whose callback a response runs.
    pub to: Principal,
}

impl Route {
    pub fn new(from: Principal, to: Principal) -> Self {
        Route { from, to }
    }
}

#[derive(Debug, Clone)]
pub struct DevnetConfig {
    pub fees: FeeModel,
    /// Print `debug_print` output to stderr.
    pub debug_print: bool,
    /// Cap on messages processed per `tick`/`update` (guards against
    /// canisters that call each other forever).
    pub max_messages_per_run: usize,
    pub freezing_threshold_secs: u64,
    pub limits: InstructionLimits,
    /// Seed for everything devnet draws at random: the root key, the node
    /// key and the `raw_rand` bytes (canister ids are sequential anyway).
    /// `None`: operating-system randomness, new keys at every start.
    pub seed: Option<u64>,
    /// Start time in nanoseconds since the Unix epoch. `Some`: the clock
    /// stands at this time and moves only by `advance_time`/`set_time_ns`,
    /// so runs are reproducible. `None`: the wall clock (plus any offset).
    pub start_time_ns: Option<u64>,
    /// How executions are undone on the heap: page by page (the default),
    /// or by copying the heap (to compare against).
    pub heap_rollback: crate::runtime::instance::HeapRollback,
    /// How many subnets to run, 1 to `subnets::MAX_SUBNETS`: subnet 0 is
    /// the root subnet; the others get delegations (`crate::subnets`).
    pub subnets: usize,
}

/// Instruction limits per execution (the IC's, by default: the constants
/// below); tests may lower them.
#[derive(Debug, Clone, Copy)]
pub struct InstructionLimits {
    pub query: u64,
    pub update: u64,
    /// pre_upgrade + post_upgrade (or canister_init) together.
    pub install: u64,
}

impl Default for InstructionLimits {
    fn default() -> Self {
        InstructionLimits {
            query: QUERY_INSTRUCTION_LIMIT,
            update: UPDATE_INSTRUCTION_LIMIT,
            install: INSTALL_INSTRUCTION_LIMIT,
        }
    }
}

impl Default for DevnetConfig {
    fn default() -> Self {
        DevnetConfig {
            fees: FeeModel::default(),
            debug_print: true,
            max_messages_per_run: 1_000_000,
            freezing_threshold_secs: DEFAULT_FREEZING_THRESHOLD_SECS,
            limits: InstructionLimits::default(),
            seed: None,
            start_time_ns: None,
            heap_rollback: Default::default(),
            subnets: 1,
        }
    }
}

/// The IC's instruction limits per execution: 5 billion for a query,
/// 40 billion for an update, callback, timer or heartbeat, 300 billion for
/// an install (`canister_init`, or `pre_upgrade` and `post_upgrade`
/// together). devnet/README.md, "Semantics", describes how they are counted.
pub const QUERY_INSTRUCTION_LIMIT: u64 = 5_000_000_000;
pub const UPDATE_INSTRUCTION_LIMIT: u64 = 40_000_000_000;
pub const INSTALL_INSTRUCTION_LIMIT: u64 = 300_000_000_000;
