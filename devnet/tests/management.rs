//! Conformance tests: the management canister.

mod common;

use candid::{Encode, Principal};
use common::*;
use depot_devnet::management::types::*;
use depot_devnet::{CanisterStatus, RejectCode};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

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
