//! A tiny canister in WAT for tests against the real state machine:
//! - update `echo`, query `echo_query`: reply with the argument bytes;
//! - query `whoami`: reply with the caller's principal bytes;
//! - update `set_certified_data`: `ic0.certified_data_set(arg)`;
//! - query `data_certificate`: reply with `ic0.data_certificate`;
//! - update `sink`, query `sink_query`: read the argument, reply nothing;
//! - update `blob`, query `blob_query`: reply with n bytes (n: u32 LE argument);
//! - update `set_http` / `set_http_update`: store the candid reply of the
//!   query `http_request` / the update `http_request_update`.

use std::sync::{Arc, Mutex};

use candid::Principal;
use depot_devnet::http::ApiConfig;
use depot_devnet::http::server::{self, RunningServer};
use depot_devnet::{Devnet, DevnetConfig, InstallMode};

pub const WAT: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "certified_data_set" (func $cd_set (param i32 i32)))
  (import "ic0" "data_certificate_size" (func $dc_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $dc_copy (param i32 i32 i32)))
  ;; 0 .. 2.5 MiB: scratch for arguments; then the two stored HTTP replies.
  (memory 128)
  (global $http_len (mut i32) (i32.const 0))
  (global $upd_len (mut i32) (i32.const 0))
  (func $read_arg (result i32) (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 0) (i32.const 0) (local.get $n))
    (local.get $n))
  (func $echo
    (call $append (i32.const 0) (call $read_arg))
    (call $reply))
  (func $whoami (local $n i32)
    (local.set $n (call $caller_size))
    (call $caller_copy (i32.const 0) (i32.const 0) (local.get $n))
    (call $append (i32.const 0) (local.get $n))
    (call $reply))
  (func $set_certified_data
    (call $cd_set (i32.const 0) (call $read_arg))
    (call $reply))
  (func $data_certificate (local $n i32)
    (local.set $n (call $dc_size))
    (call $dc_copy (i32.const 0) (i32.const 0) (local.get $n))
    (call $append (i32.const 0) (local.get $n))
    (call $reply))
  (func $set_http (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 0x280000) (i32.const 0) (local.get $n))
    (global.set $http_len (local.get $n))
    (call $reply))
  (func $set_http_update (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 0x500000) (i32.const 0) (local.get $n))
    (global.set $upd_len (local.get $n))
    (call $reply))
  (func $sink
    (drop (call $read_arg))
    (call $reply))
  ;; Replies with n bytes, n = the argument as a little-endian u32.
  (func $blob
    (drop (call $read_arg))
    (call $append (i32.const 0x10) (i32.load (i32.const 0)))
    (call $reply))
  (func $http_request
    (call $append (i32.const 0x280000) (global.get $http_len))
    (call $reply))
  (func $http_request_update
    (call $append (i32.const 0x500000) (global.get $upd_len))
    (call $reply))
  (export "canister_update echo" (func $echo))
  (export "canister_query echo_query" (func $echo))
  (export "canister_query whoami" (func $whoami))
  (export "canister_update set_certified_data" (func $set_certified_data))
  (export "canister_query data_certificate" (func $data_certificate))
  (export "canister_update set_http" (func $set_http))
  (export "canister_update set_http_update" (func $set_http_update))
  (export "canister_update sink" (func $sink))
  (export "canister_query sink_query" (func $sink))
  (export "canister_update blob" (func $blob))
  (export "canister_query blob_query" (func $blob))
  (export "canister_query http_request" (func $http_request))
  (export "canister_update http_request_update" (func $http_request_update))
)
"#;

pub fn wasm() -> Vec<u8> {
    wat::parse_str(WAT).expect("valid WAT")
}

/// Creates the test canister (controlled by the anonymous principal) and installs it.
pub fn install(devnet: &mut Devnet) -> Principal {
    let controller = Principal::anonymous();
    let id = devnet.create_canister(controller, 1_000_000_000_000_000, None).expect("create canister");
    devnet.install_code(controller, id, &wasm(), &[], InstallMode::Install).expect("install test canister");
    id
}

/// A devnet holding the test canister, served on an ephemeral loopback port.
pub async fn start_devnet() -> (Arc<Mutex<Devnet>>, Principal, RunningServer) {
    start_devnet_with(ApiConfig::default()).await
}

#[allow(dead_code)] // not every test binary that includes `support` uses it
pub async fn start_devnet_with(config: ApiConfig) -> (Arc<Mutex<Devnet>>, Principal, RunningServer) {
    let mut devnet = Devnet::new(DevnetConfig { debug_print: false, ..DevnetConfig::default() });
    let canister = install(&mut devnet);
    let devnet = Arc::new(Mutex::new(devnet));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = server::spawn(listener, devnet.clone(), config).await.expect("server starts");
    (devnet, canister, server)
}
