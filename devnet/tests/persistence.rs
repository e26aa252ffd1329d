//! Persistent state: a devnet saved to a state directory and loaded again
//! keeps its canisters (module, heap, globals, stable memory, certified
//! data, timer, cycles, controllers, settings), its keys, its clock and
//! its finished requests; saves write only what changed; a damaged or
//! foreign directory is refused with a message, never half-loaded.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use candid::{Encode, Principal};
use depot_devnet::management::types::{
    CanisterIdRecord, CanisterSettings, CanisterStatusResult, EnvironmentVariable, UpdateSettingsArgs,
};
use depot_devnet::persistence::{SaveOutcome, StateDir};
use depot_devnet::{Devnet, DevnetConfig, IngressMessage, RequestStatus};
use support::conformance::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devnet-persist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config() -> DevnetConfig {
    DevnetConfig { debug_print: false, ..Default::default() }
}

fn saved(o: SaveOutcome) -> u64 {
    match o {
        SaveOutcome::Saved { bytes_written, .. } => bytes_written,
        other => panic!("expected a save, got {other:?}"),
    }
}

fn args(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn a_saved_devnet_comes_back_whole() {
    let dir = temp_dir("whole");
    let mut d = devnet();
    let counter = install(&mut d, &counter_wat());
    let heap = install(&mut d, &heap_wat());
    ok(upd(&mut d, counter, "inc", &[]));
    ok(upd(&mut d, counter, "inc", &[]));
    ok(upd(&mut d, counter, "stable_put", b"kept in stable"));
    ok(upd(&mut d, counter, "set_certified", b"certified!"));
    ok(upd(&mut d, heap, "grow_to", &args(&[40])));
    ok(upd(&mut d, heap, "stamp", &args(&[1, 639, 3])));
    let request_id = [7u8; 32];
    d.submit_ingress(IngressMessage {
        request_id,
        sender: user(),
        canister_id: counter,
        method_name: "inc".into(),
        arg: vec![],
        ingress_expiry: u64::MAX - 10,
        effective_canister_id: counter,
    })
    .unwrap();
    d.tick();
    assert!(matches!(d.request_status(&request_id), Some(RequestStatus::Replied(_))));
    ok(upd(&mut d, counter, "set_timer", &[]));
    let env = EnvironmentVariable { name: "PUBLIC_CANISTER_ID:counter".into(), value: counter.to_text() };
    let settings = CanisterSettings { environment_variables: Some(vec![env]), ..Default::default() };
    let arg = Encode!(&UpdateSettingsArgs { canister_id: counter, settings, sender_canister_version: None }).unwrap();
    d.update(user(), Principal::management_canister(), "update_settings", &arg).unwrap().result.unwrap();
    let (root_key, time, cycles) = (d.root_key_der(), d.time_ns(), d.cycle_balance(counter));
    let stable = ok(qry(&mut d, counter, "stable_get", &[]));

    let mut state = StateDir::open(&dir).unwrap();
    saved(state.save(&mut d, false).unwrap());
    drop(state);
    drop(d);

    let mut state = StateDir::open(&dir).unwrap();
    let mut d = state.load(config()).unwrap().expect("a saved state");
    assert_eq!(d.canister_ids(), vec![counter, heap]);
    assert_eq!(d.root_key_der(), root_key, "clients keep trusting the root key");
    assert!(d.time_ns() >= time, "time never goes back");
    assert!(d.cycle_balance(counter) <= cycles && d.cycle_balance(counter) > cycles - 1_000_000_000);
    assert_eq!(u32_of(&ok(qry(&mut d, counter, "get", &[]))), 3, "heap");
    assert_eq!(u32_of(&ok(qry(&mut d, counter, "get_global", &[]))), 3, "globals");
    assert_eq!(ok(qry(&mut d, counter, "stable_get", &[])), stable, "stable memory");
    assert_eq!(d.certified_data(counter), Some(b"certified!".to_vec()));
    assert_eq!(d.controllers(counter), Some(vec![user()]));
    let arg = Encode!(&CanisterIdRecord { canister_id: counter }).unwrap();
    let out = d.update(user(), Principal::management_canister(), "canister_status", &arg).unwrap().result.unwrap();
    let status: CanisterStatusResult = candid::decode_one(&out).unwrap();
    let env = &status.settings.environment_variables;
    assert_eq!((env.len(), env[0].value.as_str()), (1, counter.to_text().as_str()), "environment variables");
    assert!(matches!(d.request_status(&request_id), Some(RequestStatus::Replied(_))), "finished requests");
    // With their expiry: pruned when it passes, as before the stop.
    d.prune_ingress(u64::MAX - 11);
    assert!(matches!(d.request_status(&request_id), Some(RequestStatus::Replied(_))));
    d.prune_ingress(u64::MAX);
    assert_eq!(d.request_status(&request_id), Some(RequestStatus::Done));
    assert_eq!(u32_of(&ok(qry(&mut d, heap, "pages", &[]))), 40);
    assert_eq!(u32_of(&ok(qry(&mut d, heap, "sum", &args(&[1, 639])))), 3 * 639);
    // The timer set before the save fires after it.
    d.advance_time(Duration::from_secs(5));
    d.tick();
    assert_eq!(u32_of(&ok(qry(&mut d, counter, "timer_count", &[]))), 1, "timer");
    // Everything still runs: updates, rollbacks, new canisters after the old ids.
    assert_eq!(u32_of(&ok(upd(&mut d, counter, "inc", &[]))), 4);
    rej(upd(&mut d, heap, "stamp_then_trap", &args(&[1, 639, 9])));
    assert_eq!(u32_of(&ok(qry(&mut d, heap, "sum", &args(&[1, 639])))), 3 * 639);
    let third = install(&mut d, &counter_wat());
    assert!(third > heap, "ids continue after the saved ones: {third} after {heap}");
    d.install_code(user(), counter, &wasm(&counter_wat()), &[], depot_devnet::InstallMode::Upgrade).unwrap();
    assert_eq!(u32_of(&ok(qry(&mut d, counter, "get", &[]))), 0, "an upgrade after a load starts a fresh heap");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn saves_write_what_changed() {
    let dir = temp_dir("incremental");
    let mut d = devnet();
    let big = install(&mut d, &heap_wat());
    let small = install(&mut d, &counter_wat());
    ok(upd(&mut d, big, "grow_to", &args(&[320]))); // 20 MiB heap
    ok(upd(&mut d, big, "stamp", &args(&[1, 5119, 1])));
    // 40 MiB of stable memory in three segments.
    ok(upd(&mut d, small, "stable_grow", &640u64.to_le_bytes()));
    for page in [0u64, 300, 600] {
        ok(upd(&mut d, small, "stable_write_page", &page.to_le_bytes()));
    }
    let mut state = StateDir::open(&dir).unwrap();
    let first = saved(state.save(&mut d, false).unwrap());
    assert!(first > 20 << 20, "the first save writes everything: {first}");
    assert_eq!(state.save(&mut d, false).unwrap(), SaveOutcome::Unchanged);
    d.advance_time(Duration::from_secs(60));
    ok(qry(&mut d, big, "sum", &args(&[1, 10])));
    assert_eq!(state.save(&mut d, false).unwrap(), SaveOutcome::Unchanged, "time and queries change nothing");
    // A tick charges storage fees, and runs the small canister's heartbeat:
    // its 128 KiB heap is written again, the 20 MiB one is linked.
    d.tick();
    let fees_and_heartbeat = saved(state.save(&mut d, false).unwrap());
    assert!(fees_and_heartbeat < 1 << 20, "{fees_and_heartbeat}");
    // One stable page of the small canister: its heap and one segment.
    ok(upd(&mut d, small, "stable_write_page", &300u64.to_le_bytes()));
    let second = saved(state.save(&mut d, false).unwrap());
    assert!(second < 2 << 20, "one 16 MiB segment at most, not the 20 MiB heap: {second}");
    drop(state);
    let mut state = StateDir::open(&dir).unwrap();
    let mut d = state.load(config()).unwrap().unwrap();
    assert_eq!(u32_of(&ok(qry(&mut d, big, "sum", &args(&[1, 5119])))), 5119);
    assert_eq!(d.stable_memory_size(small), 640 * 65536);
    // Loading changed nothing worth saving.
    assert_eq!(state.save(&mut d, false).unwrap(), SaveOutcome::Unchanged);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_state_dir_is_used_by_one_devnet_at_a_time() {
    let dir = temp_dir("lock");
    let _first = StateDir::open(&dir).unwrap();
    let err = StateDir::open(&dir).err().expect("second open refused");
    assert!(err.contains("in use by another devnet"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_or_foreign_state_is_refused_and_a_torn_save_is_ignored() {
    let dir = temp_dir("damaged");
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    ok(upd(&mut d, c, "inc", &[]));
    let mut state = StateDir::open(&dir).unwrap();
    let SaveOutcome::Saved { snapshot, .. } = state.save(&mut d, false).unwrap() else { panic!("saved") };
    drop(state);

    // A save killed halfway leaves a temporary snapshot nothing names.
    let torn = dir.join("snap-99999999.tmp");
    std::fs::create_dir_all(&torn).unwrap();
    std::fs::write(torn.join("manifest.cbor"), b"half").unwrap();
    let mut state = StateDir::open(&dir).unwrap();
    let mut back = state.load(config()).unwrap().unwrap();
    assert_eq!(u32_of(&ok(qry(&mut back, c, "get", &[]))), 1);
    assert!(!torn.exists(), "the torn save is cleared");
    drop(state);

    // A heap file of the wrong size.
    let heap = dir.join(&snapshot).join(format!("c-{c}")).join("heap");
    let bytes = std::fs::read(&heap).unwrap();
    std::fs::write(&heap, &bytes[..bytes.len() - 1]).unwrap();
    let err = StateDir::open(&dir).unwrap().load(config()).err().expect("refused");
    assert!(err.contains("damaged"), "{err}");
    std::fs::write(&heap, &bytes).unwrap();

    // A manifest that is not one, and one of another format.
    let manifest = dir.join(&snapshot).join("manifest.cbor");
    let good = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, b"\xff\x00garbage").unwrap();
    let err = StateDir::open(&dir).unwrap().load(config()).err().expect("refused");
    assert!(err.contains("damaged"), "{err}");
    let mut m = depot_devnet::persistence::manifest::Manifest::decode(&good).unwrap();
    m.format += 1;
    std::fs::write(&manifest, m.encode()).unwrap();
    let err = StateDir::open(&dir).unwrap().load(config()).err().expect("refused");
    assert!(err.contains("state format"), "{err}");
    // A later format whose fields differ from this one's is named as such too.
    let other = serde_json::json!({"format": m.format, "written_by": "depot-devnet 9", "canisters": "elsewhere"});
    let mut bytes = Vec::new();
    ciborium::into_writer(&other, &mut bytes).unwrap();
    std::fs::write(&manifest, bytes).unwrap();
    let err = StateDir::open(&dir).unwrap().load(config()).err().expect("refused");
    assert!(err.contains("state format") && err.contains("depot-devnet 9"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_state_dir_loads_nothing() {
    let dir = temp_dir("empty");
    let mut state = StateDir::open(&dir).unwrap();
    assert!(!state.has_state().unwrap());
    assert!(state.load(config()).unwrap().is_none());
    let mut d = Devnet::new(config());
    assert!(matches!(state.save(&mut d, false).unwrap(), SaveOutcome::Saved { .. }));
    assert!(state.has_state().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
