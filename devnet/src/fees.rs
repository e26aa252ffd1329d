//! Devnet's SIMPLIFIED cycle fee model, with the prices of a 13-node
//! application subnet (the IC developer documentation's cycle cost table).
//! devnet/README.md, "Cycles: a SIMPLIFIED fee model", lists what is
//! charged when, and what is not modelled.

/// Seconds of idle storage cost a canister must keep in reserve before it
/// counts as frozen (the IC's default freezing threshold: 30 days).
pub const DEFAULT_FREEZING_THRESHOLD_SECS: u64 = 30 * 24 * 3600;

const GIB: u128 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct FeeModel {
    pub canister_creation: u128,
    pub update_base: u128,
    pub per_instruction: u128,
    pub ingress_base: u128,
    pub ingress_per_byte: u128,
    pub call_base: u128,
    pub call_per_byte: u128,
    pub storage_per_gib_second: u128,
    /// Turns every fee off (for tests that do not care about cycles).
    pub enabled: bool,
}

impl Default for FeeModel {
    fn default() -> Self {
        FeeModel {
            canister_creation: 500_000_000_000,
            update_base: 5_000_000,
            per_instruction: 1,
            ingress_base: 1_200_000,
            ingress_per_byte: 2_000,
            call_base: 260_000,
            call_per_byte: 1_000,
            storage_per_gib_second: 127_000,
            enabled: true,
        }
    }
}

impl FeeModel {
    pub fn free() -> Self {
        FeeModel { enabled: false, ..Default::default() }
    }

    fn on(&self, v: u128) -> u128 {
        if self.enabled { v } else { 0 }
    }

    /// Fee for executing a replicated message (update, callback, timer, ...).
    pub fn execution_fee(&self, instructions: u64) -> u128 {
        self.on(self.update_base + self.per_instruction * instructions as u128)
    }

    /// Fee charged to the receiving canister when an ingress message is inducted.
    pub fn ingress_fee(&self, method_len: usize, arg_len: usize) -> u128 {
        self.on(self.ingress_base + self.ingress_per_byte * (method_len + arg_len) as u128)
    }

    /// Fee charged to the caller for sending an inter-canister call.
    pub fn call_fee(&self, method_len: usize, arg_len: usize) -> u128 {
        self.on(self.call_base + self.call_per_byte * (method_len + arg_len) as u128)
    }

    /// Storage cost of `bytes` held for `nanos` nanoseconds.
    pub fn storage_fee(&self, bytes: u64, nanos: u64) -> u128 {
        self.on(self.storage_per_gib_second * bytes as u128 * nanos as u128 / (GIB * 1_000_000_000))
    }

    /// Cycles a canister of `bytes` must keep to stay unfrozen.
    pub fn freeze_limit(&self, bytes: u64, threshold_secs: u64) -> u128 {
        self.on(self.storage_per_gib_second * bytes as u128 * threshold_secs as u128 / GIB)
    }

    /// Not modelled on the IC's real formula; an order-of-magnitude stand-in
    /// so `ic0.cost_http_request` returns something plausible.
    pub fn http_request_fee(&self, request_bytes: u64, max_response_bytes: u64) -> u128 {
        self.on(49_140_000 + 5_200 * request_bytes as u128 + 10_400 * max_response_bytes as u128)
    }
}

impl FeeModel {
    /// The creation fee `create_canister` takes from the attached cycles.
    pub fn on_creation(&self) -> u128 {
        self.on(self.canister_creation)
    }
}
