//! Conformance tests: calls, replies, rollback, limits, upgrades, timers.

mod support;

use std::time::Duration;

use candid::Principal;
use depot_devnet::{DevnetConfig, DevnetError, InstallMode, RejectCode};
use support::conformance::*;

#[test]
fn update_and_query_roundtrip() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    assert_eq!(u32_of(&ok(upd(&mut d, c, "inc", &[]))), 1);
    assert_eq!(u32_of(&ok(upd(&mut d, c, "inc", &[]))), 2);
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 2);
    let o = upd(&mut d, c, "inc", &[]);
    assert!(o.instructions > 0, "instructions are reported");
}

#[test]
fn executed_instructions_sum_updates_and_traps_but_not_queries() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    assert_eq!(d.executed_instructions(c), 0, "installing is not counted");
    let first = upd(&mut d, c, "inc", &[]).instructions;
    let second = upd(&mut d, c, "inc", &[]).instructions;
    assert_eq!(d.executed_instructions(c), first + second);
    qry(&mut d, c, "get", &[]);
    assert_eq!(d.executed_instructions(c), first + second, "queries are not counted");
    let trapped = upd(&mut d, c, "inc_then_trap", &[]).instructions;
    assert!(trapped > 0);
    assert_eq!(d.executed_instructions(c), first + second + trapped, "a trapped update still ran");
    let ghost = Principal::from_slice(&[9, 9, 9, 9, 9, 9, 9, 9, 1, 1]);
    assert_eq!(d.executed_instructions(ghost), 0);
}

#[test]
fn canister_ids_follow_local_replica_allocation() {
    let mut d = devnet();
    let a = d.create_canister(user(), CYCLES, None).unwrap();
    let b = d.create_canister(user(), CYCLES, None).unwrap();
    assert_eq!(a.to_text(), "rwlgt-iiaaa-aaaaa-aaaaa-cai");
    assert_eq!(b.to_text(), "rrkah-fqaaa-aaaaa-aaaaq-cai");
    let wanted = Principal::from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").unwrap();
    assert_eq!(d.create_canister(user(), CYCLES, Some(wanted)).unwrap(), wanted);
    assert!(matches!(d.create_canister(user(), CYCLES, Some(wanted)), Err(DevnetError::CanisterIdTaken(_))));
}

#[test]
fn queries_never_keep_changes() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    assert_eq!(u32_of(&ok(qry(&mut d, c, "stable_write_in_query", &[]))), 777);
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 0);
    assert_eq!(d.stable_memory_size(c), 0);
}

#[test]
fn trap_rolls_back_heap_globals_stable_certified_data_and_timer() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "inc", &[]));
    let r = rej(upd(&mut d, c, "inc_then_trap", &[]));
    assert_eq!(r.code, RejectCode::CanisterError);
    assert!(r.message.contains("trapped"), "{}", r.message);
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 1, "heap rolled back");
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get_global", &[]))), 1, "globals rolled back");
    assert_eq!(d.stable_memory_size(c), 0, "stable growth rolled back");
    assert_eq!(d.certified_data(c), Some(vec![]), "certified data rolled back");
    d.advance_time(Duration::from_secs(5));
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "timer_count", &[]))), 0, "timer rolled back");
}

#[test]
fn rolled_back_executions_leave_the_heap_size_alone() {
    // On the IC a query's or a trap's memory.grow is discarded with the rest
    // of its changes; canister allocators grow from the current end, so a
    // kept size would leak the grown pages on every query.
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "inc", &[]));
    let pages = u32_of(&ok(qry(&mut d, c, "memory_pages", &[])));
    for _ in 0..3 {
        assert_eq!(u32_of(&ok(qry(&mut d, c, "grow_in_query", &[]))), pages, "each query grows from the same size");
    }
    assert_eq!(d.heap_size(c), pages as u64 * 65536);
    rej(upd(&mut d, c, "inc_grow_then_trap", &[]));
    assert_eq!(u32_of(&ok(qry(&mut d, c, "memory_pages", &[]))), pages);
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 1, "heap bytes restored in the fresh instance");
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get_global", &[]))), 1, "globals restored in the fresh instance");
    // A committed grow stays, and everything still runs after the swaps.
    assert_eq!(u32_of(&ok(upd(&mut d, c, "grow", &[]))), pages);
    assert_eq!(u32_of(&ok(qry(&mut d, c, "memory_pages", &[]))), pages + 1);
    assert_eq!(u32_of(&ok(upd(&mut d, c, "inc", &[]))), 2);
}

#[test]
fn trap_rolls_back_stable_writes() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "stable_put", b"original"));
    rej(upd(&mut d, c, "stable_write_trap", &0u64.to_le_bytes()));
    assert_eq!(ok(qry(&mut d, c, "stable_get", &[])), b"original");
}

#[test]
fn exactly_once_reply_and_missing_reply() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let r = rej(upd(&mut d, c, "reply_twice", &[]));
    assert_eq!(r.code, RejectCode::CanisterError);
    assert!(r.message.contains("already replied"), "{}", r.message);
    let r = rej(upd(&mut d, c, "no_reply", &[]));
    assert_eq!(r.code, RejectCode::CanisterError);
    assert!(r.message.contains("did not reply"), "{}", r.message);
    let r = rej(upd(&mut d, c, "reject", &[]));
    assert_eq!(r.code, RejectCode::CanisterReject);
    assert_eq!(r.message, "noop");
}

#[test]
fn unknown_method_and_canister() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let r = rej(upd(&mut d, c, "nope", &[]));
    assert_eq!(r.code, RejectCode::CanisterError);
    let r = rej(qry(&mut d, c, "inc", &[]));
    assert_eq!(r.code, RejectCode::CanisterError);
    let ghost = Principal::from_slice(&[9, 9, 9, 9, 9, 9, 9, 9, 1, 1]);
    assert_eq!(rej(upd(&mut d, ghost, "x", &[])).code, RejectCode::DestinationInvalid);
}

#[test]
fn instruction_limit_traps() {
    let mut cfg = DevnetConfig { debug_print: false, ..Default::default() };
    cfg.limits.update = 5_000_000;
    let mut d = depot_devnet::Devnet::new(cfg);
    let c = install(&mut d, &counter_wat());
    let o = upd(&mut d, c, "loop", &[]);
    assert!(o.instructions >= 5_000_000 || d.last_instructions() >= 5_000_000);
    let r = rej(o);
    assert!(r.message.contains("instruction limit"), "{}", r.message);
}

#[test]
fn performance_counter_counts_instructions() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let b = ok(upd(&mut d, c, "perf", &[]));
    let n = u64::from_le_bytes(b[..8].try_into().unwrap());
    assert!(n >= 1000, "loop of 1000 iterations counted: {n}");
}

#[test]
fn time_is_monotonic_and_advances() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let t1 = u64::from_le_bytes(ok(qry(&mut d, c, "time", &[]))[..8].try_into().unwrap());
    d.advance_time(Duration::from_secs(3600));
    let t2 = u64::from_le_bytes(ok(qry(&mut d, c, "time", &[]))[..8].try_into().unwrap());
    assert!(t2 >= t1 + 3600 * 1_000_000_000);
    assert!(d.time_ns() >= t2);
}

#[test]
fn global_timer_fires_after_advance_time() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "set_timer", &[]));
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "timer_count", &[]))), 0);
    d.advance_time(Duration::from_secs(2));
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "timer_count", &[]))), 1);
    d.advance_time(Duration::from_secs(2));
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "timer_count", &[]))), 1, "one-shot");
}

#[test]
fn heartbeat_runs_on_tick() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    d.tick();
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, c, "heartbeats", &[]))), 2);
}

#[test]
fn upgrade_keeps_stable_memory_and_runs_hooks() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "inc", &[]));
    ok(upd(&mut d, c, "stable_put", b"persist!"));
    let before = d.canister_version(c).unwrap();
    d.install_code(user(), c, &wasm(&counter_wat()), &[], InstallMode::Upgrade).unwrap();
    assert_eq!(ok(qry(&mut d, c, "stable_get", &[])), b"persist!");
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 0, "heap is fresh");
    assert_eq!(ok(qry(&mut d, c, "upgrade_marks", &[])), b"PPPP", "pre_upgrade wrote, post_upgrade read");
    assert!(d.canister_version(c).unwrap() > before);
    d.install_code(user(), c, &wasm(&counter_wat()), &[], InstallMode::Reinstall).unwrap();
    assert_eq!(d.stable_memory_size(c), 0, "reinstall clears stable memory");
}

#[test]
fn failed_upgrade_changes_nothing() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "inc", &[]));
    ok(upd(&mut d, c, "stable_put", b"persist!"));
    let trapping = r#"(module (memory 1)
      (func (export "canister_post_upgrade") unreachable))"#;
    let e = d.install_code(user(), c, &wasm(trapping), &[], InstallMode::Upgrade).unwrap_err();
    assert!(e.to_string().contains("post_upgrade trapped"), "{e}");
    assert_eq!(u32_of(&ok(qry(&mut d, c, "get", &[]))), 1, "old heap intact");
    assert_eq!(ok(qry(&mut d, c, "stable_get", &[])), b"persist!", "stable intact, pre_upgrade write undone");
    assert_eq!(ok(upd(&mut d, c, "inc", &[])).len(), 4, "old module still runs");
}

#[test]
fn gzipped_module_installs() {
    use std::io::Write;
    let mut d = devnet();
    let raw = wasm(&counter_wat());
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&raw).unwrap();
    let gz = enc.finish().unwrap();
    let c = d.create_canister(user(), CYCLES, None).unwrap();
    d.install_code(user(), c, &gz, &[], InstallMode::Install).unwrap();
    assert_eq!(u32_of(&ok(upd(&mut d, c, "inc", &[]))), 1);
    use sha2::Digest;
    assert_eq!(d.module_hash(c).unwrap(), <[u8; 32]>::from(sha2::Sha256::digest(&gz)));
}

#[test]
fn unknown_import_refuses_install() {
    let mut d = devnet();
    let c = d.create_canister(user(), CYCLES, None).unwrap();
    let bad = r#"(module (import "ic0" "does_not_exist" (func)) (memory 1))"#;
    let e = d.install_code(user(), c, &wasm(bad), &[], InstallMode::Install).unwrap_err();
    assert!(e.to_string().contains("ic0.does_not_exist"), "{e}");
    let bad = r#"(module (import "env" "f" (func)) (memory 1))"#;
    let e = d.install_code(user(), c, &wasm(bad), &[], InstallMode::Install).unwrap_err();
    assert!(e.to_string().contains("env.f"), "{e}");
    assert!(d.module_hash(c).is_none());
}

#[test]
fn install_requires_controller_and_empty_canister() {
    let mut d = devnet();
    let c = d.create_canister(user(), CYCLES, None).unwrap();
    let w = wasm(&counter_wat());
    assert!(matches!(
        d.install_code(other_user(), c, &w, &[], InstallMode::Install),
        Err(DevnetError::NotController(..))
    ));
    d.install_code(user(), c, &w, &[], InstallMode::Install).unwrap();
    assert!(matches!(d.install_code(user(), c, &w, &[], InstallMode::Install), Err(DevnetError::AlreadyInstalled(_))));
}

#[test]
fn metadata_sections_are_exposed() {
    let mut d = devnet();
    let src = r#"(module (memory 1)
      (@custom "icp:public candid:service" "service : {}")
      (@custom "icp:private secret" "s3cr3t"))"#;
    let c = install(&mut d, src);
    assert_eq!(d.metadata(c, "candid:service"), Some((true, b"service : {}".to_vec())));
    assert_eq!(d.metadata(c, "secret"), Some((false, b"s3cr3t".to_vec())));
    assert_eq!(d.metadata(c, "nope"), None);
}

#[test]
fn data_certificate_only_in_top_level_queries() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "set_certified", &[7u8; 32]));
    assert_eq!(d.certified_data(c), Some(vec![7u8; 32]));
    let cert = ok(qry(&mut d, c, "cert", &[]));
    assert!(cert.len() > 100, "a CBOR certificate, got {} bytes", cert.len());
    assert_eq!(u32_of(&ok(upd(&mut d, c, "cert_in_update", &[]))), 0);
}

#[test]
fn ingress_runs_inspect_message_and_records_status() {
    use depot_devnet::{IngressMessage, RequestStatus};
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let msg = |id: u8, m: &str| IngressMessage {
        request_id: [id; 32],
        sender: user(),
        canister_id: c,
        method_name: m.into(),
        arg: vec![],
        ingress_expiry: 0,
        effective_canister_id: c,
    };
    assert!(d.submit_ingress(msg(1, "xrefused")).is_err(), "inspect_message refused it");
    d.submit_ingress(msg(2, "inc")).unwrap();
    assert_eq!(d.request_status(&[2; 32]), Some(RequestStatus::Received));
    d.tick();
    assert_eq!(d.request_status(&[2; 32]), Some(RequestStatus::Replied(1u32.to_le_bytes().to_vec())));
    d.submit_ingress(msg(3, "no_reply")).unwrap();
    d.tick();
    assert!(
        matches!(d.request_status(&[3; 32]), Some(RequestStatus::Rejected(r)) if r.code == RejectCode::CanisterError)
    );
}

#[test]
fn tampered_query_reply_fault() {
    use depot_devnet::Fault;
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let blob = candid::encode_one(serde_bytes::ByteBuf::from(vec![1u8, 2, 3, 4, 5, 6])).unwrap();
    assert_eq!(ok(qry(&mut d, c, "echo", &blob)), blob);
    d.inject_fault(Fault::TamperQueryReply { canister: c, method: "echo".into() });
    let got = ok(qry(&mut d, c, "echo", &blob));
    assert_ne!(got, blob);
    let decoded: serde_bytes::ByteBuf = candid::decode_one(&got).unwrap();
    assert_eq!(decoded.len(), 6, "still valid candid, one blob byte flipped");
    d.clear_faults();
    assert_eq!(ok(qry(&mut d, c, "echo", &blob)), blob);
}

#[test]
fn expired_ingress_statuses_become_done_then_are_forgotten() {
    use depot_devnet::execution::DONE_STATUS_RETENTION_NS;
    use depot_devnet::{IngressMessage, RequestStatus};
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let expiry = 1_000_000_000_000;
    let msg = |id: u8| IngressMessage {
        request_id: [id; 32],
        sender: user(),
        canister_id: c,
        method_name: "inc".into(),
        arg: vec![],
        ingress_expiry: expiry,
        effective_canister_id: c,
    };
    d.submit_ingress(msg(1)).unwrap();
    // Not yet run: kept whatever the time.
    d.prune_ingress(u64::MAX);
    assert_eq!(d.request_status(&[1; 32]), Some(RequestStatus::Received));
    d.tick();
    let replied = Some(RequestStatus::Replied(1u32.to_le_bytes().to_vec()));
    d.prune_ingress(expiry - 1);
    assert_eq!(d.request_status(&[1; 32]), replied, "kept until its expiry");
    d.prune_ingress(expiry + 1);
    assert_eq!(d.request_status(&[1; 32]), Some(RequestStatus::Done), "the reply is pruned after it");
    d.prune_ingress(expiry + DONE_STATUS_RETENTION_NS);
    assert_eq!(d.request_status(&[1; 32]), Some(RequestStatus::Done));
    d.prune_ingress(expiry + DONE_STATUS_RETENTION_NS + 1);
    assert_eq!(d.request_status(&[1; 32]), None, "then forgotten");
    // A forgotten request id can be sent again (as the IC, once it expired).
    d.submit_ingress(msg(1)).unwrap();
    d.tick();
    assert_eq!(d.request_status(&[1; 32]), Some(RequestStatus::Replied(2u32.to_le_bytes().to_vec())));
}
