//! The HTTP interface over the real state machine: [`Backend`] for `Devnet`.
//! Both sides use the shared types of [`crate::types`], so this only
//! forwards (and turns library errors into the rejects a client sees).

use candid::Principal;

use crate::certification::{Certifier, RequestId};
use crate::execution::{CallCount, Devnet};
use crate::types::{IngressMessage, Reject, RequestStatus};

use super::backend::Backend;

impl Backend for Devnet {
    fn certifier(&self) -> &Certifier {
        Devnet::certifier(self)
    }

    fn time_ns(&self) -> u64 {
        Devnet::time_ns(self)
    }

    fn submit_ingress(&mut self, ingress: IngressMessage) -> Result<(), Reject> {
        Devnet::submit_ingress(self, ingress).map_err(|e| e.reject)
    }

    fn request_status(&self, request_id: &RequestId) -> Option<RequestStatus> {
        Devnet::request_status(self, &request_id.0)
    }

    fn query(&mut self, sender: Principal, canister: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject> {
        match Devnet::query(self, sender, canister, method, arg) {
            Ok(outcome) => outcome.result,
            Err(e) => Err(e.to_reject()),
        }
    }

    fn tick(&mut self) {
        Devnet::tick(self);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.prune_ingress(now.as_nanos() as u64);
    }

    fn canister_exists(&self, canister: Principal) -> bool {
        Devnet::canister_exists(self, canister)
    }

    fn certified_data(&self, canister: Principal) -> Option<Vec<u8>> {
        Devnet::certified_data(self, canister)
    }

    fn module_hash(&self, canister: Principal) -> Option<[u8; 32]> {
        Devnet::module_hash(self, canister)
    }

    fn controllers(&self, canister: Principal) -> Option<Vec<Principal>> {
        Devnet::controllers(self, canister)
    }

    fn metadata(&self, canister: Principal, name: &str) -> Option<(bool, Vec<u8>)> {
        Devnet::metadata(self, canister, name)
    }

    fn call_counts(&self) -> Vec<CallCount> {
        Devnet::call_counts(self)
    }
}
