//! Benchmarks (ignored by default; they print figures, they assert nothing
//! about timings). Run with:
//! `cargo test -p depot-devnet --release --test bench -- --ignored --nocapture --test-threads=1`
//! (one at a time: in parallel they time each other)

mod support;

use std::time::Instant;

use support::conformance::*;

/// Fills `pages` 64 KiB stable pages per call (so one call stays small).
const FILL_WAT_EXTRA: &str = r#"
  (func (export "canister_update fill")
    (local $i i64) (local $end i64)
    (drop (call $load_arg))
    (local.set $i (i64.load (i32.const 1024)))
    (local.set $end (i64.load (i32.const 1032)))
    (if (i64.lt_u (call $stable_size) (local.get $end))
      (then (drop (call $stable_grow (i64.sub (local.get $end) (call $stable_size))))))
    (loop $l
      (call $stable_write (i64.mul (local.get $i) (i64.const 65536)) (i64.const 65536) (i64.const 65536))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $end))))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
"#;

fn fill_wat() -> String {
    // Reuse the counter canister and add the `fill` method before its end.
    let mut src = counter_wat();
    let end = src.rfind(')').expect("module end");
    src.insert_str(end, FILL_WAT_EXTRA);
    src
}

#[test]
#[ignore]
fn bench_calls_and_rollback() {
    let mut d = devnet();
    let c = install(&mut d, &counter_wat());
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        ok(upd(&mut d, c, "inc", &[]));
    }
    let ups = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n {
        ok(qry(&mut d, c, "get", &[]));
    }
    let qps = n as f64 / t.elapsed().as_secs_f64();
    println!("BENCH trivial update calls/s (WAT counter, 2 pages heap): {ups:.0}");
    println!("BENCH trivial query calls/s (WAT counter): {qps:.0}");

    // 1 GiB of stable memory, every page written.
    let big = install(&mut d, &fill_wat());
    let t = Instant::now();
    let pages: u64 = 16384;
    let step = 1024u64;
    let mut i = 0;
    while i < pages {
        let mut arg = i.to_le_bytes().to_vec();
        arg.extend_from_slice(&(i + step).to_le_bytes());
        ok(upd(&mut d, big, "fill", &arg));
        i += step;
    }
    println!("BENCH filling 1 GiB of stable memory took {:.2?}", t.elapsed());
    assert_eq!(d.stable_memory_size(big), 1 << 30);
    let rounds = 200;
    let t = Instant::now();
    for k in 0..rounds {
        // Writes 8 bytes somewhere in the 1 GiB, then traps: rolled back.
        let offset = (k as u64 * 7919 * 65536) % (1 << 30);
        rej(upd(&mut d, big, "stable_write_trap", &offset.to_le_bytes()));
    }
    let per = t.elapsed() / rounds;
    println!(
        "BENCH trapping update (stable write + rollback) on a canister with 1 GiB stable memory: {per:.2?} per call"
    );
    let t = Instant::now();
    for _ in 0..rounds {
        ok(upd(&mut d, big, "inc", &[]));
    }
    println!("BENCH trivial update on the same 1 GiB canister: {:.2?} per call", t.elapsed() / rounds);
}

/// Same figures for the ic-cdk 0.17 test canister (a real Rust heap), if
/// `tests/rust_canister.rs` has built it already.
#[test]
#[ignore]
fn bench_rust_canister_calls() {
    use candid::Encode;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("test-canisters/wasm32-unknown-unknown/release/devnet_test_canister.wasm");
    let Ok(w) = std::fs::read(&path) else {
        println!("BENCH skipped: {} not built (run tests/rust_canister.rs first)", path.display());
        return;
    };
    let mut d = devnet();
    let c = d.create_canister(user(), CYCLES, None).unwrap();
    d.install_code(user(), c, &w, &Encode!().unwrap(), depot_devnet::InstallMode::Install).unwrap();
    let empty = Encode!().unwrap();
    let n = 2000;
    let t = Instant::now();
    let mut instr = 0;
    for _ in 0..n {
        let o = upd(&mut d, c, "inc", &empty);
        instr = o.instructions;
        ok(o);
    }
    let ups = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n {
        ok(qry(&mut d, c, "counter", &empty));
    }
    let qps = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "BENCH ic-cdk canister (heap {} KiB): {ups:.0} updates/s ({instr} instructions each), {qps:.0} queries/s",
        d.heap_size(c) / 1024
    );
}

/// A trivial update on canisters whose heaps are 10 MiB, 1 GiB and 4 GiB,
/// every page written once, under each way of undoing heap writes. With
/// dirty pages a message costs what it writes; with a copy, the heap.
#[test]
#[ignore]
fn bench_trivial_update_by_heap_size() {
    use depot_devnet::{DevnetConfig, HeapRollback};
    let arg = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for mode in [HeapRollback::DirtyPages, HeapRollback::Copy] {
        let mut base = None;
        for (label, wasm_pages) in [("10 MiB", 160u32), ("1 GiB", 16_384), ("4 GiB", 65_535)] {
            let mut d = depot_devnet::Devnet::new(DevnetConfig {
                debug_print: false,
                heap_rollback: mode,
                ..Default::default()
            });
            let c = install(&mut d, &heap_wat());
            ok(upd(&mut d, c, "grow_to", &arg(&[wasm_pages])));
            // Write every 4 KiB page, 64 MiB per call.
            let pages = wasm_pages * 16;
            let mut first = 1;
            while first < pages {
                let n = (pages - first).min(16_384);
                ok(upd(&mut d, c, "stamp", &arg(&[first, n, 1])));
                first += n;
            }
            let rounds = if mode == HeapRollback::Copy && wasm_pages > 160 { 10 } else { 2_000 };
            // The first call after the fill re-protects the pages it wrote.
            ok(upd(&mut d, c, "inc", &[]));
            let t = Instant::now();
            for _ in 0..rounds {
                ok(upd(&mut d, c, "inc", &[]));
            }
            let per = t.elapsed() / rounds;
            let ratio = base.map(|b: std::time::Duration| per.as_secs_f64() / b.as_secs_f64()).unwrap_or(1.0);
            base.get_or_insert(per);
            println!("BENCH trivial update, heap {label}, {mode:?}: {per:.2?} per call ({ratio:.2}x the 10 MiB heap)");
        }
    }
}
