//! Several subnets: canister ranges, routing by effective canister id,
//! certificates from a subnet other than the root carrying a delegation
//! that real clients (ic-agent, the HTTP gateway) verify, calls between
//! subnets, and a saved state keeping its subnets.

mod support;

use std::sync::{Arc, Mutex};

use candid::{Decode, Encode, Principal};
use depot_devnet::certification::Certifier;
use depot_devnet::http::ApiConfig;
use depot_devnet::http::server;
use depot_devnet::management::types::{CanisterIdRecord, CreateCanisterArgs, ProvisionalCreateCanisterArgs};
use depot_devnet::persistence::StateDir;
use depot_devnet::subnets::{INDICES_PER_SUBNET, MAX_SUBNETS};
use depot_devnet::{Devnet, DevnetConfig, InstallMode, RejectCode};
use ic_agent::agent::EffectiveId;
use ic_agent::identity::AnonymousIdentity;
use support::agent_for;
use support::conformance::{CYCLES, call_arg, caller_wat, ok, upd, user, wasm};
use support::http_cert::certified_reply;

const SUBNETS: usize = 3;

fn devnet(subnets: usize) -> Devnet {
    Devnet::new(DevnetConfig { debug_print: false, subnets, ..Default::default() })
}

/// The index of a canister id of the `[index, 1, 1]` shape.
fn index_of(id: Principal) -> u64 {
    u64::from_be_bytes(id.as_slice()[..8].try_into().unwrap())
}

fn install_on(d: &mut Devnet, subnet: usize, wat: &str) -> Principal {
    let id = d.create_canister_on_subnet(subnet, user(), CYCLES).expect("create");
    d.install_code(user(), id, &wasm(wat), &[], InstallMode::Install).expect("install");
    id
}

/// Replies to `subnet` with `ic0.subnet_self`; `big` calls `sink` on the
/// canister named in its argument (10 bytes) with an argument of n bytes
/// (u32 LE after the id) and replies "ok", or traps if the call cannot be made.
const SUBNET_WAT: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "subnet_self_size" (func $subnet_size (result i32)))
  (import "ic0" "subnet_self_copy" (func $subnet_copy (param i32 i32 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (memory 64)
  (table 1 funcref)
  (elem (i32.const 0) $on_answer)
  (data (i32.const 100) "sinkok")
  (func $subnet (local $n i32)
    (local.set $n (call $subnet_size))
    (call $subnet_copy (i32.const 0) (i32.const 0) (local.get $n))
    (call $append (i32.const 0) (local.get $n))
    (call $reply))
  (func $big
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 14))
    (call $call_new (i32.const 0) (i32.const 10) (i32.const 100) (i32.const 4)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $call_data_append (i32.const 0x10000) (i32.load (i32.const 10)))
    (drop (call $call_perform)))
  (func $on_answer (param $env i32)
    (call $append (i32.const 104) (i32.const 2))
    (call $reply))
  (func $sink (call $reply))
  (export "canister_query subnet" (func $subnet))
  (export "canister_update big" (func $big))
  (export "canister_update sink" (func $sink))
)
"#;

fn big_arg(callee: Principal, n: u32) -> Vec<u8> {
    let mut a = callee.as_slice().to_vec();
    a.extend_from_slice(&n.to_le_bytes());
    a
}

#[test]
fn canisters_get_ids_from_their_subnets_range_and_know_their_subnet() {
    let mut d = devnet(SUBNETS);
    let ids = d.subnet_ids();
    assert_eq!(ids.len(), SUBNETS);
    assert_eq!(ids[0], d.subnet_id(), "the root subnet comes first");
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), SUBNETS, "distinct ids");
    let root = install_on(&mut d, 0, SUBNET_WAT);
    let second = install_on(&mut d, 1, SUBNET_WAT);
    let third = install_on(&mut d, 2, SUBNET_WAT);
    let default = d.create_canister(user(), CYCLES, None).unwrap();
    assert_eq!(index_of(root), 0);
    assert_eq!(index_of(second), INDICES_PER_SUBNET);
    assert_eq!(index_of(third), 2 * INDICES_PER_SUBNET);
    assert_eq!(index_of(default), 1, "the library API creates on the root subnet");
    for (canister, subnet) in [(root, ids[0]), (second, ids[1]), (third, ids[2])] {
        assert_eq!(d.subnet_of(canister), subnet);
        let reply = d.query(user(), canister, "subnet", &[]).unwrap().result.unwrap();
        assert_eq!(Principal::from_slice(&reply), subnet, "ic0.subnet_self of {canister}");
    }
    // No such subnet: a typed error, nothing created.
    let before = d.canister_ids().len();
    assert!(d.create_canister_on_subnet(SUBNETS, user(), CYCLES).is_err());
    assert_eq!(d.canister_ids().len(), before);
}

#[test]
fn a_canister_creates_canisters_on_its_own_subnet() {
    let mut d = devnet(SUBNETS);
    let caller = install_on(&mut d, 2, &caller_wat());
    let create = Encode!(&CreateCanisterArgs::default()).unwrap();
    let fee = 500_000_000_000u64;
    let out =
        ok(upd(&mut d, caller, "call", &call_arg(Principal::management_canister(), "create_canister", fee, &create)));
    assert_eq!(out[0], b'R', "create_canister answered: {}", String::from_utf8_lossy(&out));
    let created = Decode!(&out[1..], CanisterIdRecord).unwrap().canister_id;
    assert_eq!(d.subnet_of(created), d.subnet_ids()[2]);
    assert_eq!(index_of(created), 2 * INDICES_PER_SUBNET + 1);
}

#[test]
fn only_root_subnet_canisters_address_another_subnet() {
    let mut d = devnet(SUBNETS);
    let target = d.subnet_ids()[1];
    let create = Encode!(&CreateCanisterArgs::default()).unwrap();
    let fee = 500_000_000_000u64;
    let arg = call_arg(target, "create_canister", fee, &create);
    // From subnet 2: refused, the cycles come back, nothing is created.
    let outsider = install_on(&mut d, 2, &caller_wat());
    let (before, balance) = (d.canister_ids().len(), d.cycle_balance(outsider));
    let out = ok(upd(&mut d, outsider, "call", &arg));
    assert_eq!((out[0], out[1]), (b'J', RejectCode::DestinationInvalid as u8), "{}", String::from_utf8_lossy(&out));
    assert_eq!(d.canister_ids().len(), before);
    assert!(balance - d.cycle_balance(outsider) < u128::from(fee), "the attached cycles were refunded");
    // From the root subnet (where the CMC lives): created on subnet 1.
    let cmc = install_on(&mut d, 0, &caller_wat());
    let out = ok(upd(&mut d, cmc, "call", &arg));
    assert_eq!(out[0], b'R', "{}", String::from_utf8_lossy(&out));
    let created = Decode!(&out[1..], CanisterIdRecord).unwrap().canister_id;
    assert_eq!(d.subnet_of(created), target);
}

#[test]
fn calls_cross_subnets_with_the_smaller_argument_limit() {
    let mut d = devnet(SUBNETS);
    let a = install_on(&mut d, 1, SUBNET_WAT);
    let same = install_on(&mut d, 1, SUBNET_WAT);
    let other = install_on(&mut d, 2, SUBNET_WAT);
    const MIB: u32 = 1024 * 1024;
    // 2 MiB crosses subnets; one byte more does not, but stays within a subnet.
    assert_eq!(ok(upd(&mut d, a, "big", &big_arg(other, 2 * MIB))), b"ok");
    let r = d.update(user(), a, "big", &big_arg(other, 2 * MIB + 1)).unwrap().result.unwrap_err();
    assert_eq!(r.code, RejectCode::CanisterError);
    assert!(r.message.contains("exceeds 2097152 bytes"), "{}", r.message);
    assert_eq!(ok(upd(&mut d, a, "big", &big_arg(same, 2 * MIB + 1))), b"ok");
}

#[test]
fn a_saved_state_keeps_its_subnets() {
    let dir = std::env::temp_dir().join(format!("devnet-subnets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut d = devnet(SUBNETS);
    let ids = d.subnet_ids();
    let on_second = install_on(&mut d, 1, SUBNET_WAT);
    StateDir::open(&dir).unwrap().save(&mut d, false).unwrap();
    drop(d);

    // Started without asking for subnets: the state's come back.
    let config = DevnetConfig { debug_print: false, ..Default::default() };
    let mut d = StateDir::open(&dir).unwrap().load(config.clone()).unwrap().unwrap();
    assert_eq!(d.subnet_ids(), ids, "the same subnet keys and ids");
    assert_eq!(d.subnet_of(on_second), ids[1]);
    let next = d.create_canister_on_subnet(1, user(), CYCLES).unwrap();
    assert_eq!(index_of(next), INDICES_PER_SUBNET + 1, "allocation resumes where it stopped");
    // Asking for another count is refused rather than moving canisters.
    let err = StateDir::open(&dir).unwrap().load(DevnetConfig { subnets: 2, ..config }).err().unwrap();
    assert!(err.contains("3 subnet"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn subnet_count_is_checked_at_its_edges() {
    let all = Certifier::new().with_subnets(MAX_SUBNETS);
    let ids: std::collections::BTreeSet<_> = all.subnets().iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), MAX_SUBNETS);
    for n in [0, MAX_SUBNETS + 1] {
        assert!(std::panic::catch_unwind(|| Certifier::new().with_subnets(n)).is_err(), "{n} subnets");
    }
}

/// ic-agent and the HTTP gateway against a canister on a subnet other than
/// the root: updates, queries (node signatures), read_state, subnet
/// read_state, a certified HTTP response, canister creation routed by the
/// effective canister id, and a certificate from the wrong subnet refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_verify_delegated_subnets() {
    let mut d = devnet(SUBNETS);
    let subnet_ids = d.subnet_ids();
    let on_root = support::wat_canister::install(&mut d);
    let id = d.create_canister_on_subnet(2, Principal::anonymous(), CYCLES).unwrap();
    d.install_code(Principal::anonymous(), id, &support::wat_canister::wasm(), &[], InstallMode::Install).unwrap();
    let devnet = Arc::new(Mutex::new(d));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = server::spawn(listener, devnet.clone(), ApiConfig::default()).await.unwrap();
    let agent = agent_for(&server, Box::new(AnonymousIdentity)).await;

    // Update (a certificate with a delegation) and query (signed by subnet 2's node).
    let reply = agent.update(&id, "echo").with_arg(b"across".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"across");
    let reply = agent.query(&id, "echo_query").with_arg(b"signed".to_vec()).call().await.unwrap();
    assert_eq!(reply, b"signed");
    let subnet = agent.fetch_subnet_by_canister(&id).await.unwrap();
    assert_eq!(subnet.id(), subnet_ids[2]);
    assert!(subnet.contains_canister(&id) && !subnet.contains_canister(&on_root));
    let hash = agent.read_state_canister_info(id, "module_hash").await.unwrap();
    assert_eq!(hash.len(), 32);
    // Subnet-scoped read_state of a delegated subnet, and of one that does not exist.
    let by_id = agent.fetch_subnet_by_id(&subnet_ids[1]).await.unwrap();
    assert_eq!(by_id.id(), subnet_ids[1]);
    let ghost = Principal::self_authenticating(b"no such subnet");
    assert!(agent.read_subnet_state_raw(vec![vec!["time".into()]], ghost).await.is_err());

    // A certificate subnet 1 signed does not vouch for a canister of subnet 2.
    let cert = agent.read_state_raw(vec![vec!["time".into()]], EffectiveId::Subnet(subnet_ids[1])).await.unwrap();
    let on_second = Principal::from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0, 1, 1]);
    agent.verify(&cert, on_second).expect("subnet 1 answers for its own canisters");
    let refused = agent.verify(&cert, id).unwrap_err();
    assert!(matches!(refused, ic_agent::AgentError::CertificateNotAuthorized()), "{refused:?}");

    // The HTTP gateway verifies a response certified on subnet 2.
    let certified = {
        let d = devnet.lock().unwrap();
        certified_reply(d.certifier(), id, d.time_ns(), "/index.html", b"<h1>subnet 2</h1>")
    };
    agent.update(&id, "set_certified_data").with_arg(certified.certified_data.to_vec()).call_and_wait().await.unwrap();
    agent.update(&id, "set_http").with_arg(certified.reply.clone()).call_and_wait().await.unwrap();
    let host = format!("{}.localhost:{}", id.to_text(), server.addr.port());
    let response = reqwest::Client::new()
        .get(format!("http://{}/index.html", server.addr))
        .header("host", host)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"<h1>subnet 2</h1>");

    // provisional_create through canister id `id`'s URL lands on its subnet;
    // through aaaaa-aa, on the root subnet.
    let create = Encode!(&ProvisionalCreateCanisterArgs::default()).unwrap();
    for (effective, want) in [(id, subnet_ids[2]), (Principal::management_canister(), subnet_ids[0])] {
        let reply = agent
            .update(&Principal::management_canister(), "provisional_create_canister_with_cycles")
            .with_effective_canister_id(effective)
            .with_arg(create.clone())
            .call_and_wait()
            .await
            .unwrap();
        let created = Decode!(&reply, CanisterIdRecord).unwrap().canister_id;
        assert_eq!(devnet.lock().unwrap().subnet_of(created), want, "created through {effective}");
    }
    server.stop().await.unwrap();
}
