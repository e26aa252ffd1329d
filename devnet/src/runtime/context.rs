//! Per-execution state the System API reads and writes.
//!
//! One `ExecContext` lives for exactly one entry-point execution (a message,
//! a callback, a timer, ...). What it collects (reply, outgoing calls, cycle
//! changes) is applied by the execution layer only if the execution did not
//! trap, which is how a trap discards queued calls and replies.

use candid::Principal;

use crate::fees::FeeModel;
use crate::runtime::stable::StableMemory;

/// Which entry point runs; decides which System API functions are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Start,
    Init,
    PreUpgrade,
    PostUpgrade,
    Update,
    /// A query method executed in replicated mode (called by a canister).
    ReplicatedQuery,
    /// A query executed non-replicated (top level).
    Query,
    CompositeQuery,
    ReplyCallback,
    RejectCallback,
    /// A callback of a composite query (non-replicated).
    CompositeReplyCallback,
    CompositeRejectCallback,
    Cleanup,
    Heartbeat,
    GlobalTimer,
    InspectMessage,
}

impl EntryKind {
    pub fn is_replicated(self) -> bool {
        !matches!(
            self,
            EntryKind::Query
                | EntryKind::CompositeQuery
                | EntryKind::CompositeReplyCallback
                | EntryKind::CompositeRejectCallback
                | EntryKind::InspectMessage
        )
    }

    pub fn can_reply(self) -> bool {
        matches!(
            self,
            EntryKind::Update
                | EntryKind::ReplicatedQuery
                | EntryKind::Query
                | EntryKind::CompositeQuery
                | EntryKind::ReplyCallback
                | EntryKind::RejectCallback
                | EntryKind::CompositeReplyCallback
                | EntryKind::CompositeRejectCallback
        )
    }

    pub fn can_call(self) -> bool {
        matches!(
            self,
            EntryKind::Update
                | EntryKind::CompositeQuery
                | EntryKind::ReplyCallback
                | EntryKind::RejectCallback
                | EntryKind::CompositeReplyCallback
                | EntryKind::CompositeRejectCallback
                | EntryKind::Heartbeat
                | EntryKind::GlobalTimer
        )
    }

    pub fn is_callback(self) -> bool {
        matches!(
            self,
            EntryKind::ReplyCallback
                | EntryKind::RejectCallback
                | EntryKind::CompositeReplyCallback
                | EntryKind::CompositeRejectCallback
        )
    }

    pub fn is_reject_callback(self) -> bool {
        matches!(self, EntryKind::RejectCallback | EntryKind::CompositeRejectCallback)
    }

    /// Entry points that may change persistent state (timer, certified data, cycles).
    pub fn is_stateful(self) -> bool {
        matches!(
            self,
            EntryKind::Start
                | EntryKind::Init
                | EntryKind::PreUpgrade
                | EntryKind::PostUpgrade
                | EntryKind::Update
                | EntryKind::ReplyCallback
                | EntryKind::RejectCallback
                | EntryKind::Cleanup
                | EntryKind::Heartbeat
                | EntryKind::GlobalTimer
        )
    }

    pub fn has_arg(self) -> bool {
        matches!(
            self,
            EntryKind::Init
                | EntryKind::PostUpgrade
                | EntryKind::Update
                | EntryKind::ReplicatedQuery
                | EntryKind::Query
                | EntryKind::CompositeQuery
                | EntryKind::ReplyCallback
                | EntryKind::CompositeReplyCallback
                | EntryKind::InspectMessage
        )
    }
}

/// A reply or reject produced by an execution for its call context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Reply(Vec<u8>),
    Reject(String),
}

/// One outgoing call assembled by `call_new` .. `call_perform`.
#[derive(Debug, Clone)]
pub struct OutgoingCall {
    pub callee: Principal,
    pub method: String,
    pub arg: Vec<u8>,
    pub cycles: u128,
    pub reply: (u32, u32),
    pub reject: (u32, u32),
    pub cleanup: Option<(u32, u32)>,
    pub best_effort_timeout: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ExecContext {
    pub kind: EntryKind,
    pub canister_id: Principal,
    pub caller: Principal,
    pub method_name: String,
    pub arg: Vec<u8>,
    /// (code, message) for reject callbacks; code 0 in reply callbacks.
    pub reject: Option<(u32, String)>,
    pub time_ns: u64,
    /// The call context has not been answered yet (before this execution).
    pub call_context_open: bool,
    pub reply_buf: Vec<u8>,
    pub response: Option<Response>,
    pub max_response_bytes: usize,
    pub cycles_available: u128,
    pub cycles_accepted: u128,
    pub cycles_refunded: u128,
    /// Working balance; committed only if the execution succeeds.
    pub balance: u128,
    /// Cycles below which the canister may not go by sending or burning.
    pub freeze_limit: u128,
    pub fees: FeeModel,
    pub pending_call: Option<OutgoingCall>,
    pub calls: Vec<OutgoingCall>,
    pub data_certificate: Option<LazyCertificate>,
    pub root_key: Vec<u8>,
    pub controllers: Vec<Principal>,
    /// 1 running, 2 stopping, 3 stopped.
    pub status: u32,
    pub version: u64,
    pub instruction_limit: u64,
    /// Instructions of earlier executions of this call context.
    pub call_context_instructions: u64,
    /// Extra instructions charged by System API calls (copies etc.).
    pub message_accepted: bool,
    pub debug_print: bool,
    pub printed: Vec<String>,
    pub subnet_id: Principal,
    /// How many subnets devnet runs: calls to a canister on another subnet
    /// carry a smaller argument (`crate::subnets`).
    pub subnet_count: usize,
    /// The canister's environment variables, sorted by name (the order
    /// `env_var_name_*` index them in).
    pub env_vars: Vec<(String, String)>,
}

impl ExecContext {
    pub fn new(kind: EntryKind, canister_id: Principal, caller: Principal, time_ns: u64) -> Self {
        ExecContext {
            kind,
            canister_id,
            caller,
            method_name: String::new(),
            arg: Vec::new(),
            reject: None,
            time_ns,
            call_context_open: kind.can_reply(),
            reply_buf: Vec::new(),
            response: None,
            max_response_bytes: if kind.is_replicated() { 2 * 1024 * 1024 } else { 3 * 1024 * 1024 },
            cycles_available: 0,
            cycles_accepted: 0,
            cycles_refunded: 0,
            balance: 0,
            freeze_limit: 0,
            fees: FeeModel::default(),
            pending_call: None,
            calls: Vec::new(),
            data_certificate: None,
            root_key: Vec::new(),
            controllers: Vec::new(),
            status: 1,
            version: 0,
            instruction_limit: 0,
            call_context_instructions: 0,
            message_accepted: false,
            debug_print: false,
            printed: Vec::new(),
            subnet_id: Principal::management_canister(),
            subnet_count: 1,
            env_vars: Vec::new(),
        }
    }
}

/// A data certificate made on first use: signing one costs milliseconds
/// and most queries never ask for it (`data_certificate_present` does not).
#[derive(Clone)]
pub struct LazyCertificate {
    make: std::sync::Arc<dyn Fn() -> Vec<u8> + Send + Sync>,
    cached: Option<Vec<u8>>,
}

impl LazyCertificate {
    pub fn new(make: impl Fn() -> Vec<u8> + Send + Sync + 'static) -> Self {
        LazyCertificate { make: std::sync::Arc::new(make), cached: None }
    }

    pub fn get(&mut self) -> &[u8] {
        if self.cached.is_none() {
            self.cached = Some((self.make)());
        }
        self.cached.as_deref().unwrap_or_default()
    }
}

impl std::fmt::Debug for LazyCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyCertificate")
    }
}

/// The wasmtime store data of one canister instance.
pub struct HostState {
    pub stable: StableMemory,
    pub certified_data: Vec<u8>,
    /// Global timer deadline in ns since epoch; 0 = inactive.
    pub global_timer: u64,
    pub exec: Option<ExecContext>,
    pub memory: Option<wasmtime::Memory>,
    /// Stable memory limit in wasm pages.
    pub stable_limit_pages: u64,
}

impl HostState {
    pub fn new(stable: StableMemory) -> Self {
        HostState {
            stable,
            certified_data: Vec::new(),
            global_timer: 0,
            exec: None,
            memory: None,
            stable_limit_pages: crate::runtime::stable::MAX_STABLE_PAGES,
        }
    }
}
