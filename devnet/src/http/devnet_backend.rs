//! The HTTP interface over the real state machine: maps `Devnet`'s
//! library types to the [`Backend`] the handlers use.

use candid::Principal;

use crate::certification::{Certifier, RequestId};
use crate::execution::Devnet;
use crate::execution::{self as ex, IngressMessage, RequestStatus};

use super::backend::{Backend, Ingress, IngressStatus, Reject};

fn reject(r: ex::Reject) -> Reject {
    Reject { code: r.code.as_u32() as u64, message: r.message, error_code: r.error_code }
}

impl Backend for Devnet {
    fn certifier(&self) -> &Certifier {
        Devnet::certifier(self)
    }

    fn time_ns(&self) -> u64 {
        Devnet::time_ns(self)
    }

    fn submit_ingress(&mut self, ingress: Ingress) -> Result<(), Reject> {
        let message = IngressMessage {
            request_id: ingress.request_id.0,
            sender: ingress.sender,
            canister_id: ingress.canister_id,
            method_name: ingress.method_name,
            arg: ingress.arg,
            ingress_expiry: ingress.ingress_expiry,
        };
        Devnet::submit_ingress(self, message).map_err(|e| reject(e.reject))
    }

    fn request_status(&self, request_id: &RequestId) -> Option<IngressStatus> {
        Devnet::request_status(self, &request_id.0).map(|s| match s {
            RequestStatus::Received => IngressStatus::Received,
            RequestStatus::Processing => IngressStatus::Processing,
            RequestStatus::Replied(reply) => IngressStatus::Replied(reply),
            RequestStatus::Rejected(r) => IngressStatus::Rejected(reject(r)),
            RequestStatus::Done => IngressStatus::Done,
        })
    }

    fn query(&mut self, sender: Principal, canister: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject> {
        match Devnet::query(self, sender, canister, method, arg) {
            Ok(outcome) => outcome.result.map_err(reject),
            Err(e) => Err(reject(e.to_reject())),
        }
    }

    fn tick(&mut self) {
        Devnet::tick(self)
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
}
