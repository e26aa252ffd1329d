//! Conformance tests: the management canister.

mod support;

use candid::{Encode, Principal};
use depot_devnet::management::types::*;
use depot_devnet::{CanisterStatus, RejectCode};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use support::conformance::*;

fn mgmt() -> Principal {
    Principal::management_canister()
}

fn call_mgmt(
    d: &mut depot_devnet::Devnet,
    sender: Principal,
    method: &str,
    arg: Vec<u8>,
) -> Result<Vec<u8>, depot_devnet::Reject> {
    d.update(sender, mgmt(), method, &arg).unwrap().result
}

fn id_arg(c: Principal) -> Vec<u8> {
    Encode!(&CanisterIdRecord { canister_id: c }).unwrap()
}

#[test]
fn provisional_create_with_specified_id_and_install_code() {
    let mut d = devnet();
    let wanted = Principal::from_text("uxrrr-q7777-77774-qaaaq-cai").unwrap();
    let arg = Encode!(&ProvisionalCreateCanisterArgs {
        amount: Some(candid::Nat::from(1_000_000_000_000u64)),
        specified_id: Some(wanted),
        ..Default::default()
    })
    .unwrap();
    let out = call_mgmt(&mut d, user(), "provisional_create_canister_with_cycles", arg).unwrap();
    let rec: CanisterIdRecord = candid::decode_one(&out).unwrap();
    assert_eq!(rec.canister_id, wanted);
    assert_eq!(d.cycle_balance(wanted), 1_000_000_000_000);
    let install = |mode| {
        Encode!(&InstallCodeArgs {
            mode,
            canister_id: wanted,
            wasm_module: ByteBuf::from(wasm(&counter_wat())),
            arg: ByteBuf::new(),
            sender_canister_version: None,
        })
        .unwrap()
    };
    let r = call_mgmt(&mut d, other_user(), "install_code", install(CanisterInstallMode::Install)).unwrap_err();
    assert_eq!(r.code, RejectCode::CanisterError, "{}", r.message);
    call_mgmt(&mut d, user(), "install_code", install(CanisterInstallMode::Install)).unwrap();
    assert_eq!(u32_of(&ok(upd(&mut d, wanted, "inc", &[]))), 1);
    call_mgmt(&mut d, user(), "install_code", install(CanisterInstallMode::Upgrade(None))).unwrap();
    assert_eq!(u32_of(&ok(qry(&mut d, wanted, "get", &[]))), 0);
}

#[test]
fn chunked_install() {
    let mut d = devnet();
    let c = d.create_canister(user(), CYCLES, None).unwrap();
    let w = wasm(&counter_wat());
    let (a, b) = w.split_at(w.len() / 2);
    let mut hashes = vec![];
    for part in [a, b] {
        let arg = Encode!(&UploadChunkArgs { canister_id: c, chunk: ByteBuf::from(part.to_vec()) }).unwrap();
        let out = call_mgmt(&mut d, user(), "upload_chunk", arg).unwrap();
        let h: ChunkHash = candid::decode_one(&out).unwrap();
        hashes.push(h);
    }
    let arg = Encode!(&InstallChunkedCodeArgs {
        mode: CanisterInstallMode::Install,
        target_canister: c,
        store_canister: None,
        chunk_hashes_list: hashes,
        wasm_module_hash: ByteBuf::from(Sha256::digest(&w).to_vec()),
        arg: ByteBuf::new(),
        sender_canister_version: None,
    })
    .unwrap();
    call_mgmt(&mut d, user(), "install_chunked_code", arg).unwrap();
    assert_eq!(u32_of(&ok(upd(&mut d, c, "inc", &[]))), 1);
    call_mgmt(&mut d, user(), "clear_chunk_store", id_arg(c)).unwrap();
    let out = call_mgmt(&mut d, user(), "stored_chunks", id_arg(c)).unwrap();
    let left: Vec<ChunkHash> = candid::decode_one(&out).unwrap();
    assert!(left.is_empty());
}

#[test]
fn controllers_enforced_and_update_settings() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    assert!(call_mgmt(&mut d, other_user(), "canister_status", id_arg(c)).is_err());
    let arg = Encode!(&UpdateSettingsArgs {
        canister_id: c,
        settings: CanisterSettings { controllers: Some(vec![other_user()]), ..Default::default() },
        sender_canister_version: None,
    })
    .unwrap();
    assert!(call_mgmt(&mut d, other_user(), "update_settings", arg.clone()).is_err());
    call_mgmt(&mut d, user(), "update_settings", arg).unwrap();
    assert_eq!(d.controllers(c), Some(vec![other_user()]));
    assert!(call_mgmt(&mut d, user(), "canister_status", id_arg(c)).is_err());
    let out = call_mgmt(&mut d, other_user(), "canister_status", id_arg(c)).unwrap();
    let st: CanisterStatusResult = candid::decode_one(&out).unwrap();
    assert!(matches!(st.status, CanisterStatusType::Running));
    assert_eq!(st.module_hash.unwrap().to_vec(), d.module_hash(c).unwrap().to_vec());
}

#[test]
fn stop_start_delete() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    call_mgmt(&mut d, user(), "stop_canister", id_arg(c)).unwrap();
    assert_eq!(d.canister_status(c), Some(CanisterStatus::Stopped));
    assert_eq!(rej(upd(&mut d, c, "inc", &[])).code, RejectCode::CanisterError);
    assert_eq!(rej(qry(&mut d, c, "get", &[])).code, RejectCode::CanisterError);
    call_mgmt(&mut d, user(), "start_canister", id_arg(c)).unwrap();
    ok(upd(&mut d, c, "inc", &[]));
    assert!(call_mgmt(&mut d, user(), "delete_canister", id_arg(c)).is_err(), "must be stopped first");
    call_mgmt(&mut d, user(), "stop_canister", id_arg(c)).unwrap();
    call_mgmt(&mut d, user(), "delete_canister", id_arg(c)).unwrap();
    assert!(!d.canister_ids().contains(&c));
    assert_eq!(rej(upd(&mut d, c, "inc", &[])).code, RejectCode::DestinationInvalid);
}

#[test]
fn create_canister_from_a_canister_pays_the_fee() {
    let mut d = devnet();
    let caller = install(&mut d, &caller_wat());
    let arg = Encode!(&CreateCanisterArgs::default()).unwrap();
    let attached = 600_000_000_000u64;
    let out = ok(upd(&mut d, caller, "call", &call_arg(mgmt(), "create_canister", attached, &arg)));
    assert_eq!(out[0], b'R', "{out:?}");
    let rec: CanisterIdRecord = candid::decode_one(&out[1..]).unwrap();
    assert_eq!(d.cycle_balance(rec.canister_id), 100_000_000_000, "attached minus the 500 B creation fee");
    assert_eq!(d.controllers(rec.canister_id), Some(vec![caller]));
    // Too few cycles attached: rejected, cycles refunded.
    let before = d.cycle_balance(caller);
    let out = ok(upd(&mut d, caller, "call", &call_arg(mgmt(), "create_canister", 1_000, &arg)));
    assert_eq!(out[0], b'J');
    assert!(before - d.cycle_balance(caller) < 100_000_000);
}

#[test]
fn fault_stop_canister() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    d.inject_fault(depot_devnet::Fault::StopCanister(c));
    assert_eq!(rej(upd(&mut d, c, "inc", &[])).code, RejectCode::CanisterError);
    d.inject_fault(depot_devnet::Fault::ExhaustCycles(c));
    assert_eq!(d.cycle_balance(c), 0);
    d.clear_faults();
    assert_eq!(d.canister_status(c), Some(CanisterStatus::Running));
    assert!(d.cycle_balance(c) > 0);
    ok(upd(&mut d, c, "inc", &[]));
}

/// Two devnets with the same seed and start time draw the same keys and
/// `raw_rand` bytes and show the same time; another seed draws other ones.
#[test]
fn same_seed_and_start_time_reproduce_raw_rand_keys_and_time() {
    const START: u64 = 1_700_000_000_000_000_000;
    let seeded = |seed: u64| {
        depot_devnet::Devnet::new(depot_devnet::DevnetConfig {
            debug_print: false,
            seed: Some(seed),
            start_time_ns: Some(START),
            ..Default::default()
        })
    };
    let raw_rand = |d: &mut depot_devnet::Devnet| -> Vec<u8> {
        let out = call_mgmt(d, user(), "raw_rand", Encode!().unwrap()).unwrap();
        candid::decode_one::<ByteBuf>(&out).unwrap().into_vec()
    };
    let (mut a, mut b, mut c) = (seeded(7), seeded(7), seeded(8));
    let draws = |d: &mut depot_devnet::Devnet| [raw_rand(d), raw_rand(d)];
    let (da, db, dc) = (draws(&mut a), draws(&mut b), draws(&mut c));
    assert_eq!(da[0].len(), 32);
    assert_ne!(da[0], da[1], "successive raw_rand replies differ");
    assert_eq!(da, db, "same seed, same bytes");
    assert_ne!(da[0], dc[0], "another seed, other bytes");
    assert_ne!(da[1], dc[1], "another seed, other bytes");
    assert_eq!(a.root_key_der(), b.root_key_der(), "same seed, same root key");
    assert_ne!(a.root_key_der(), c.root_key_der(), "another seed, another root key");
    assert_eq!(a.certifier().node_key().public_key_der(), b.certifier().node_key().public_key_der());

    a.tick();
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.tick();
    assert_eq!((a.time_ns(), b.time_ns()), (START, START), "the clock does not follow the wall clock");
    a.advance_time(std::time::Duration::from_secs(3));
    b.advance_time(std::time::Duration::from_secs(3));
    assert_eq!(a.time_ns(), START + 3_000_000_000);
    assert_eq!(a.time_ns(), b.time_ns());
}

/// `canister_status` decodes with the official types (clients decode every
/// field they know, and a missing one fails the whole reply): those of
/// `ic-management-canister-types` 0.8 and the newer settings icp-cli 1.5
/// reads.
#[test]
fn canister_status_decodes_with_the_clients_types() {
    use candid::{CandidType, Deserialize, Nat};
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let out = call_mgmt(&mut d, user(), "canister_status", id_arg(c)).unwrap();
    let status: ic_management_canister_types::CanisterStatusResult = candid::decode_one(&out).unwrap();
    assert_eq!(status.settings.controllers, vec![user()]);
    assert_eq!(status.settings.log_memory_limit, Nat::from(depot_devnet::management::LOG_MEMORY_LIMIT));
    assert_eq!(status.settings.snapshot_visibility, ic_management_canister_types::SnapshotVisibility::Controllers);
    assert!(status.memory_metrics.wasm_binary_size > 0u8);

    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    enum Visibility {
        #[serde(rename = "controllers")]
        Controllers,
        #[serde(rename = "public")]
        Public,
        #[serde(rename = "allowed_viewers")]
        AllowedViewers(Vec<Principal>),
    }
    #[derive(CandidType, Deserialize)]
    struct NewerSettings {
        status_visibility: Visibility,
        minimum_incoming_canister_call_cycles: Nat,
    }
    #[derive(CandidType, Deserialize)]
    struct NewerStatus {
        settings: NewerSettings,
    }
    let newer: NewerStatus = candid::decode_one(&out).unwrap();
    assert_eq!(newer.settings.status_visibility, Visibility::Controllers);
    assert_eq!(newer.settings.minimum_incoming_canister_call_cycles, 0u8);
}

/// Reads the canister's environment variables: query `name` takes a u32
/// index and replies with that variable's name; query `value` takes a name
/// and replies with `1` and the value, or `0` when there is none.
fn env_wat() -> String {
    r#"(module
      (import "ic0" "env_var_count" (func $count (result i32)))
      (import "ic0" "env_var_name_size" (func $name_size (param i32) (result i32)))
      (import "ic0" "env_var_name_copy" (func $name_copy (param i32 i32 i32 i32)))
      (import "ic0" "env_var_name_exists" (func $exists (param i32 i32) (result i32)))
      (import "ic0" "env_var_value_size" (func $value_size (param i32 i32) (result i32)))
      (import "ic0" "env_var_value_copy" (func $value_copy (param i32 i32 i32 i32 i32)))
      (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
      (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
      (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
      (import "ic0" "msg_reply" (func $reply))
      (memory 1)
      (func (export "canister_query count")
        (i32.store (i32.const 0) (call $count))
        (call $append (i32.const 0) (i32.const 4))
        (call $reply))
      (func (export "canister_query name") (local $i i32) (local $n i32)
        (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 4))
        (local.set $i (i32.load (i32.const 0)))
        (local.set $n (call $name_size (local.get $i)))
        (call $name_copy (local.get $i) (i32.const 256) (i32.const 0) (local.get $n))
        (call $append (i32.const 256) (local.get $n))
        (call $reply))
      (func (export "canister_query value") (local $k i32) (local $n i32)
        (local.set $k (call $arg_size))
        (call $arg_copy (i32.const 0) (i32.const 0) (local.get $k))
        (i32.store8 (i32.const 1024) (call $exists (i32.const 0) (local.get $k)))
        (call $append (i32.const 1024) (i32.const 1))
        (if (i32.load8_u (i32.const 1024)) (then
          (local.set $n (call $value_size (i32.const 0) (local.get $k)))
          (call $value_copy (i32.const 0) (local.get $k) (i32.const 2048) (i32.const 0) (local.get $n))
          (call $append (i32.const 2048) (local.get $n))))
        (call $reply)))"#
        .to_string()
}

fn set_env(d: &mut depot_devnet::Devnet, c: Principal, vars: &[(&str, &str)]) -> Result<Vec<u8>, depot_devnet::Reject> {
    let vars = vars.iter().map(|(n, v)| EnvironmentVariable { name: n.to_string(), value: v.to_string() }).collect();
    let settings = CanisterSettings { environment_variables: Some(vars), ..Default::default() };
    let arg = Encode!(&UpdateSettingsArgs { canister_id: c, settings, sender_canister_version: None }).unwrap();
    call_mgmt(d, user(), "update_settings", arg)
}

/// icp-cli sets `PUBLIC_CANISTER_ID:<name>` on every canister it deploys
/// before installing code: `update_settings` keeps the variables,
/// `canister_status` reports them, the canister reads them through
/// `ic0.env_var_*` in name order, and the replica's limits are refused with
/// the old set intact.
#[test]
fn environment_variables_are_kept_reported_read_and_limited() {
    use depot_devnet::management::{
        MAX_ENVIRONMENT_VARIABLE_NAME_BYTES, MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES, MAX_ENVIRONMENT_VARIABLES,
    };
    let mut d = devnet();
    let c = install(&mut d, &env_wat());
    assert_eq!(u32_of(&ok(qry(&mut d, c, "count", &[]))), 0, "none by default");
    assert_eq!(ok(qry(&mut d, c, "value", b"PUBLIC_CANISTER_ID:directory")), b"\0");

    let dir = "uxrrr-q7777-77774-qaaaq-cai";
    set_env(&mut d, c, &[("PUBLIC_CANISTER_ID:directory", dir), ("LOG", "debug")]).unwrap();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "count", &[]))), 2);
    assert_eq!(ok(qry(&mut d, c, "name", &0u32.to_le_bytes())), b"LOG", "indexed in name order");
    assert_eq!(ok(qry(&mut d, c, "name", &1u32.to_le_bytes())), b"PUBLIC_CANISTER_ID:directory");
    assert_eq!(ok(qry(&mut d, c, "value", b"PUBLIC_CANISTER_ID:directory")), [b"\x01", dir.as_bytes()].concat());
    let out_of_range = rej(qry(&mut d, c, "name", &2u32.to_le_bytes()));
    assert!(out_of_range.message.contains("out of range"), "{}", out_of_range.message);
    let long_name = vec![b'N'; MAX_ENVIRONMENT_VARIABLE_NAME_BYTES + 1];
    let trap = rej(qry(&mut d, c, "value", &long_name));
    assert!(trap.message.contains("longer than"), "{}", trap.message);

    let out = call_mgmt(&mut d, user(), "canister_status", id_arg(c)).unwrap();
    let status: ic_management_canister_types::CanisterStatusResult = candid::decode_one(&out).unwrap();
    let reported: Vec<_> =
        status.settings.environment_variables.iter().map(|v| (v.name.as_str(), v.value.as_str())).collect();
    assert_eq!(reported, [("LOG", "debug"), ("PUBLIC_CANISTER_ID:directory", dir)]);

    // Each limit at its edge: the largest allowed set is taken, one more is
    // refused and the set before it stays.
    let names: Vec<String> = (0..MAX_ENVIRONMENT_VARIABLES).map(|i| format!("V{i:0>127}")).collect();
    let value = "v".repeat(MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES);
    let full: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), value.as_str())).collect();
    assert_eq!(names[0].len(), MAX_ENVIRONMENT_VARIABLE_NAME_BYTES);
    set_env(&mut d, c, &full).unwrap();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "count", &[]))), MAX_ENVIRONMENT_VARIABLES as u32);
    set_env(&mut d, c, &[("A", "1")]).unwrap();
    let too_long_value = "v".repeat(MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES + 1);
    let long_name = "N".repeat(MAX_ENVIRONMENT_VARIABLE_NAME_BYTES + 1);
    let mut too_many = full.clone();
    too_many.push(("EXTRA", "1"));
    for bad in
        [&too_many[..], &[("B", too_long_value.as_str())], &[(long_name.as_str(), "1")], &[("C", "1"), ("C", "2")]]
    {
        let r = set_env(&mut d, c, bad).unwrap_err();
        assert_eq!(r.code, RejectCode::CanisterError, "{}", r.message);
        assert_eq!(u32_of(&ok(qry(&mut d, c, "count", &[]))), 1, "refused: {}", r.message);
        assert_eq!(ok(qry(&mut d, c, "value", b"A")), b"\x011");
    }

    // Bad settings at creation create nothing.
    let before = d.canister_ids().len();
    let settings = CanisterSettings {
        environment_variables: Some(vec![
            EnvironmentVariable { name: "C".into(), value: "1".into() },
            EnvironmentVariable { name: "C".into(), value: "2".into() },
        ]),
        ..Default::default()
    };
    let arg = Encode!(&ProvisionalCreateCanisterArgs { settings: Some(settings), ..Default::default() }).unwrap();
    assert!(call_mgmt(&mut d, user(), "provisional_create_canister_with_cycles", arg).is_err());
    assert_eq!(d.canister_ids().len(), before);
}
