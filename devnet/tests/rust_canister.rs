//! Runs a real ic-cdk 0.17 canister (with ic-cdk-timers and
//! ic-stable-structures) built from devnet/test-canisters/rust-canister.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use candid::{Decode, Encode, Principal};
use depot_devnet::{InstallMode, RejectCode};
use support::conformance::*;

fn build_canister() -> Vec<u8> {
    build("rust-canister", "devnet_test_canister")
}

/// Builds `test-canisters/<crate_dir>` for wasm32 and returns the module.
fn build(crate_dir: &str, wasm_name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-canisters").join(crate_dir);
    // The workspace's target directory (ignored by git) unless one is set.
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let target = target.join("test-canisters");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-unknown-unknown", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the test canister failed (is the wasm32-unknown-unknown target installed?)");
    std::fs::read(target.join(format!("wasm32-unknown-unknown/release/{wasm_name}.wasm"))).expect("read wasm")
}

#[test]
fn ic_cdk_canister_end_to_end() {
    let w = build_canister();
    let mut d = devnet();
    let a = d.create_canister(user(), CYCLES, None).unwrap();
    let b = d.create_canister(user(), CYCLES, None).unwrap();
    d.install_code(user(), a, &w, &Encode!().unwrap(), InstallMode::Install).unwrap();
    d.install_code(user(), b, &w, &Encode!().unwrap(), InstallMode::Install).unwrap();

    // Stable structures survive a trap-free update; a trap rolls them back.
    ok(upd(&mut d, a, "put", &Encode!(&1u64, &"one".to_string()).unwrap()));
    let r = rej(upd(&mut d, a, "put_then_trap", &Encode!(&2u64, &"two".to_string()).unwrap()));
    assert!(r.message.contains("boom"), "{}", r.message);
    let got = ok(qry(&mut d, a, "get", &Encode!(&1u64).unwrap()));
    assert_eq!(Decode!(&got, Option<String>).unwrap(), Some("one".into()));
    let got = ok(qry(&mut d, a, "get", &Encode!(&2u64).unwrap()));
    assert_eq!(Decode!(&got, Option<String>).unwrap(), None);
    assert_eq!(Decode!(&ok(qry(&mut d, a, "counter", &Encode!().unwrap())), u64).unwrap(), 0);

    // Async inter-canister call (callbacks through the function table).
    let n = Decode!(&ok(upd(&mut d, a, "call_inc", &Encode!(&b).unwrap())), u64).unwrap();
    assert_eq!(n, 1);
    assert_eq!(Decode!(&ok(qry(&mut d, a, "counter", &Encode!().unwrap())), u64).unwrap(), 10);

    // State before an await commits; after a trap past the await it does not.
    let r = rej(upd(&mut d, a, "inc_call_then_trap", &Encode!(&b).unwrap()));
    assert_eq!(r.code, RejectCode::CanisterError);
    assert_eq!(Decode!(&ok(qry(&mut d, a, "counter", &Encode!().unwrap())), u64).unwrap(), 11);
    assert_eq!(Decode!(&ok(qry(&mut d, b, "counter", &Encode!().unwrap())), u64).unwrap(), 2);

    let s = Decode!(&ok(upd(&mut d, a, "call_missing", &Encode!(&b).unwrap())), String).unwrap();
    assert!(s.contains("CanisterError"), "{s}");

    // Composite query.
    let n = Decode!(&ok(qry(&mut d, a, "composite_counter", &Encode!(&b).unwrap())), u64).unwrap();
    assert_eq!(n, 2);

    // raw_rand through the management canister.
    let r = Decode!(&ok(upd(&mut d, a, "rand", &Encode!().unwrap())), Vec<u8>).unwrap();
    assert_eq!(r.len(), 32);

    // Caller and cycles.
    let who = Decode!(&ok(qry(&mut d, a, "whoami", &Encode!().unwrap())), Principal).unwrap();
    assert_eq!(who, user());
    let bal = Decode!(&ok(qry(&mut d, a, "balance", &Encode!().unwrap())), u128).unwrap();
    assert_eq!(bal, d.cycle_balance(a));

    // Certified data and data certificate.
    ok(upd(&mut d, a, "set_cert", &Encode!(&vec![1u8; 32]).unwrap()));
    assert_eq!(d.certified_data(a), Some(vec![1u8; 32]));
    assert!(Decode!(&ok(qry(&mut d, a, "has_cert", &Encode!().unwrap())), bool).unwrap());

    // ic-cdk-timers: one-shot and interval timers, through a self-call.
    ok(upd(&mut d, a, "schedule", &Encode!(&5u64).unwrap()));
    d.tick();
    assert_eq!(Decode!(&ok(qry(&mut d, a, "timer_fired", &Encode!().unwrap())), u64).unwrap(), 0);
    d.advance_time(Duration::from_secs(6));
    d.tick();
    assert_eq!(Decode!(&ok(qry(&mut d, a, "timer_fired", &Encode!().unwrap())), u64).unwrap(), 1);
    ok(upd(&mut d, a, "schedule_interval", &Encode!(&10u64).unwrap()));
    for _ in 0..3 {
        d.advance_time(Duration::from_secs(11));
        d.tick();
    }
    assert_eq!(Decode!(&ok(qry(&mut d, a, "timer_fired", &Encode!().unwrap())), u64).unwrap(), 4);

    // Upgrade: pre_upgrade saves the counter in stable memory, post_upgrade restores it.
    d.install_code(user(), a, &w, &Encode!().unwrap(), InstallMode::Upgrade).unwrap();
    assert_eq!(Decode!(&ok(qry(&mut d, a, "counter", &Encode!().unwrap())), u64).unwrap(), 11);
    let got = ok(qry(&mut d, a, "get", &Encode!(&1u64).unwrap()));
    assert_eq!(Decode!(&got, Option<String>).unwrap(), Some("one".into()));
}

#[test]
fn ic_cdk_0_20_canister_links_and_runs() {
    use depot_devnet::IngressMessage;
    let w = build("rust-canister-cdk020", "devnet_test_canister_cdk020");
    let mut d = devnet();
    let a = d.create_canister(user(), CYCLES, None).unwrap();
    let b = d.create_canister(user(), CYCLES, None).unwrap();
    d.install_code(user(), a, &w, &Encode!().unwrap(), InstallMode::Install).unwrap();
    d.install_code(user(), b, &w, &Encode!().unwrap(), InstallMode::Install).unwrap();

    let out = ok(upd(&mut d, a, "probe", &Encode!().unwrap()));
    let (caller, nodes, t, replicated, _version) = Decode!(&out, Principal, u32, u64, bool, u64).unwrap();
    assert_eq!(caller, user());
    assert_eq!(nodes, 1);
    assert!(t > 0);
    assert!(replicated);
    assert_eq!(d.certified_data(a), Some(vec![1u8; 4]));
    let (replicated, has_cert) = Decode!(&ok(qry(&mut d, a, "probe_query", &Encode!().unwrap())), bool, bool).unwrap();
    assert!(!replicated && has_cert);

    let (x, y) = Decode!(&ok(upd(&mut d, a, "call_inc", &Encode!(&b).unwrap())), u64, u64).unwrap();
    assert_eq!((x, y), (1, 2));
    let r = Decode!(&ok(upd(&mut d, a, "rand", &Encode!().unwrap())), Vec<u8>).unwrap();
    assert_eq!(r.len(), 32);
    let s = Decode!(&ok(upd(&mut d, a, "call_missing", &Encode!(&b).unwrap())), String).unwrap();
    assert!(s.to_lowercase().contains("method"), "{s}");
    assert_eq!(Decode!(&ok(upd(&mut d, a, "stable_roundtrip", &Encode!().unwrap())), Vec<u8>).unwrap(), b"hello");

    let msg = |id: u8, m: &str| IngressMessage {
        request_id: [id; 32],
        sender: user(),
        canister_id: a,
        method_name: m.into(),
        arg: Encode!().unwrap(),
        ingress_expiry: 0,
        effective_canister_id: a,
    };
    assert!(d.submit_ingress(msg(1, "refused")).is_err());
    d.submit_ingress(msg(2, "inc")).unwrap();
    d.tick();
    assert!(matches!(d.request_status(&[2; 32]), Some(depot_devnet::RequestStatus::Replied(_))));
}
