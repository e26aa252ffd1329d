//! A scripted in-memory backend for testing the HTTP interface with real
//! clients without running wasm: canister `echo` replies with its argument,
//! `reject` rejects, `slow` stays "processing" for a number of ticks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use candid::Principal;
use depot_devnet::certification::{Certifier, RequestId};
use depot_devnet::http::server::{self, RunningServer};
use depot_devnet::http::{ApiConfig, Backend};
use depot_devnet::{IngressMessage, Reject, RejectCode, RequestStatus};

pub fn canister() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 5, 1, 1])
}

pub struct FakeIc {
    pub certifier: Certifier,
    pub statuses: HashMap<RequestId, RequestStatus>,
    /// Messages in flight and the ticks each still needs.
    pub pending: Vec<(IngressMessage, u32)>,
    pub certified_data: Vec<u8>,
    pub ticks: u64,
    pub slow_ticks: u32,
    /// Candid reply of the `http_request` query and `http_request_update`.
    pub http_reply: Option<Vec<u8>>,
    pub http_update_reply: Option<Vec<u8>>,
    /// Fixed candid replies of other query methods (e.g. streaming callbacks).
    pub query_replies: HashMap<String, Vec<u8>>,
}

impl FakeIc {
    pub fn new() -> Self {
        Self {
            certifier: Certifier::new(),
            statuses: HashMap::new(),
            pending: Vec::new(),
            certified_data: b"certified!".to_vec(),
            ticks: 0,
            slow_ticks: 3,
            http_reply: None,
            http_update_reply: None,
            query_replies: HashMap::new(),
        }
    }

    fn run(&mut self, ingress: &IngressMessage) -> RequestStatus {
        match ingress.method_name.as_str() {
            "echo" | "slow" => RequestStatus::Replied(ingress.arg.clone()),
            "set_certified_data" => {
                self.certified_data = ingress.arg.clone();
                RequestStatus::Replied(Vec::new())
            }
            "whoami" => RequestStatus::Replied(ingress.sender.as_slice().to_vec()),
            "http_request_update" if self.http_update_reply.is_some() => {
                RequestStatus::Replied(self.http_update_reply.clone().unwrap_or_default())
            }
            _ => RequestStatus::Rejected(Reject::new(
                RejectCode::CanisterReject,
                format!("no method {}", ingress.method_name),
                Some("IC0406"),
            )),
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

impl Backend for FakeIc {
    fn certifier(&self) -> &Certifier {
        &self.certifier
    }
    fn time_ns(&self) -> u64 {
        now_ns()
    }
    fn submit_ingress(&mut self, ingress: IngressMessage) -> Result<(), Reject> {
        if ingress.canister_id != canister() {
            return Err(Reject::destination_invalid(format!("canister {} not found", ingress.canister_id)));
        }
        let ticks = if ingress.method_name == "slow" { self.slow_ticks } else { 0 };
        self.statuses.insert(RequestId(ingress.request_id), RequestStatus::Received);
        self.pending.push((ingress, ticks));
        Ok(())
    }
    fn request_status(&self, id: &RequestId) -> Option<RequestStatus> {
        self.statuses.get(id).cloned()
    }
    fn query(&mut self, sender: Principal, _c: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject> {
        match method {
            "echo" => Ok(arg.to_vec()),
            "whoami" => Ok(sender.as_slice().to_vec()),
            "http_request" if self.http_reply.is_some() => Ok(self.http_reply.clone().unwrap_or_default()),
            m if self.query_replies.contains_key(m) => Ok(self.query_replies[m].clone()),
            other => Err(Reject::new(RejectCode::DestinationInvalid, format!("no query {other}"), Some("IC0302"))),
        }
    }
    fn tick(&mut self) {
        self.ticks += 1;
        let pending = std::mem::take(&mut self.pending);
        for (ingress, ticks) in pending {
            if ticks == 0 {
                let status = self.run(&ingress);
                self.statuses.insert(RequestId(ingress.request_id), status);
            } else {
                self.statuses.insert(RequestId(ingress.request_id), RequestStatus::Processing);
                self.pending.push((ingress, ticks - 1));
            }
        }
    }
    fn canister_exists(&self, c: Principal) -> bool {
        c == canister()
    }
    fn certified_data(&self, c: Principal) -> Option<Vec<u8>> {
        (c == canister()).then(|| self.certified_data.clone())
    }
    fn module_hash(&self, c: Principal) -> Option<[u8; 32]> {
        (c == canister()).then_some([7; 32])
    }
    fn controllers(&self, c: Principal) -> Option<Vec<Principal>> {
        (c == canister()).then(|| vec![Principal::anonymous()])
    }
    fn metadata(&self, c: Principal, name: &str) -> Option<(bool, Vec<u8>)> {
        match name {
            "candid:service" if c == canister() => Some((true, b"service : {}".to_vec())),
            "secret" if c == canister() => Some((false, b"hidden".to_vec())),
            _ => None,
        }
    }
}

/// Starts a server for `backend` on an ephemeral loopback port.
pub async fn start(backend: Arc<Mutex<FakeIc>>, config: ApiConfig) -> RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    server::spawn(listener, backend, config).await.expect("server starts")
}
