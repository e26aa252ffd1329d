//! Heap rollback: every execution that traps, and every query, leaves the
//! heap exactly as it found it, whatever it wrote and however it wrote it,
//! under both ways of undoing (dirty pages, the default, and a whole copy).

mod support;

use depot_devnet::{Devnet, DevnetConfig, HeapRollback};
use support::conformance::*;

/// 4 KiB pages per 64 KiB wasm page.
const PER_WASM_PAGE: u32 = 16;

fn each_mode(test: impl Fn(&mut Devnet)) {
    for mode in [HeapRollback::DirtyPages, HeapRollback::Copy] {
        let mut d = Devnet::new(DevnetConfig { debug_print: false, heap_rollback: mode, ..Default::default() });
        test(&mut d);
        for c in d.canister_ids() {
            assert_eq!(d.heap_rollback(c), Some(mode), "the mode under test is the one in use");
        }
    }
}

fn args(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn sum(d: &mut Devnet, c: candid::Principal, first: u32, pages: u32) -> u32 {
    u32_of(&ok(qry(d, c, "sum", &args(&[first, pages]))))
}

#[test]
fn a_trap_after_writing_20_mib_restores_every_page() {
    each_mode(|d| {
        let c = install(d, &heap_wat());
        let pages = 320 * PER_WASM_PAGE - 1; // 20 MiB less page 0
        assert_eq!(u32_of(&ok(upd(d, c, "grow_to", &args(&[320])))), 320);
        ok(upd(d, c, "stamp", &args(&[1, pages, 7])));
        assert_eq!(sum(d, c, 1, pages), 7 * pages);
        // Stores in wasm code, then a trap.
        rej(upd(d, c, "stamp_then_trap", &args(&[1, pages, 9])));
        assert_eq!(sum(d, c, 1, pages), 7 * pages, "stores undone");
        // memory.fill, which wasmtime runs in host code, then a trap.
        rej(upd(d, c, "fill_then_trap", &args(&[1, pages, 0xff])));
        assert_eq!(sum(d, c, 1, pages), 7 * pages, "a bulk fill undone");
        // Committed writes after rollbacks are kept, and undone ones stay undone.
        ok(upd(d, c, "stamp", &args(&[100, 10, 3])));
        assert_eq!(sum(d, c, 1, pages), 7 * (pages - 10) + 3 * 10);
        rej(upd(d, c, "stamp_then_trap", &args(&[95, 20, 1])));
        assert_eq!(sum(d, c, 1, pages), 7 * (pages - 10) + 3 * 10);
    });
}

#[test]
fn a_grow_then_a_trap_restores_the_size_and_the_bytes() {
    each_mode(|d| {
        let c = install(d, &heap_wat());
        let pages = 40 * PER_WASM_PAGE - 1;
        ok(upd(d, c, "grow_to", &args(&[40])));
        ok(upd(d, c, "stamp", &args(&[1, pages, 5])));
        rej(upd(d, c, "grow_stamp_then_trap", &args(&[1, pages + PER_WASM_PAGE, 9])));
        assert_eq!(u32_of(&ok(qry(d, c, "pages", &[]))), 40, "the grow is undone");
        assert_eq!(sum(d, c, 1, pages), 5 * pages, "the stamps are undone");
        // The instance swapped in by that rollback tracks writes as well.
        rej(upd(d, c, "stamp_then_trap", &args(&[1, pages, 8])));
        assert_eq!(sum(d, c, 1, pages), 5 * pages);
        ok(upd(d, c, "stamp", &args(&[1, 1, 6])));
        assert_eq!(sum(d, c, 1, pages), 5 * pages + 1);
        assert_eq!(u32_of(&ok(upd(d, c, "grow_to", &args(&[41])))), 41);
        assert_eq!(sum(d, c, 1, pages + PER_WASM_PAGE), 5 * pages + 1, "grown pages start zeroed");
    });
}

#[test]
fn queries_on_a_64_mib_heap_see_their_writes_and_leave_none() {
    each_mode(|d| {
        let c = install(d, &heap_wat());
        let pages = 1024 * PER_WASM_PAGE - 1;
        ok(upd(d, c, "grow_to", &args(&[1024])));
        for _ in 0..3 {
            assert_eq!(u32_of(&ok(qry(d, c, "stamp_and_sum", &args(&[1, pages, 2])))), 2 * pages);
            assert_eq!(sum(d, c, 1, pages), 0, "a query's writes go");
        }
        ok(upd(d, c, "stamp", &args(&[1, pages, 1])));
        assert_eq!(u32_of(&ok(qry(d, c, "stamp_and_sum", &args(&[1, 8, 4])))), 4 * 8);
        assert_eq!(sum(d, c, 1, pages), pages);
    });
}

/// Each separate writable page splits the heap's memory mapping, and the
/// kernel caps a process's mappings (`vm.max_map_count`, 65,530 by
/// default). An execution that writes more separate pages than that traps
/// with a message saying so, and leaves the heap as it was.
#[test]
fn scattered_writes_past_the_kernels_map_limit_trap_cleanly() {
    let limit: u32 = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530);
    // Every other page, enough of them to need more mappings than allowed.
    let pages = limit + 4_000;
    let wasm_pages = (pages / PER_WASM_PAGE) + 2;
    if wasm_pages > 16_384 {
        println!("skipped: vm.max_map_count is {limit}, past what a 1 GiB heap can reach");
        return;
    }
    let mut d = devnet();
    let c = install(&mut d, &heap_wat());
    ok(upd(&mut d, c, "grow_to", &args(&[wasm_pages])));
    ok(upd(&mut d, c, "stamp", &args(&[1, 100, 4])));
    let r = rej(upd(&mut d, c, "stamp_sparse", &args(&[1, pages, 9])));
    assert!(r.message.contains("vm.max_map_count"), "{}", r.message);
    assert_eq!(sum(&mut d, c, 1, pages), 4 * 100, "nothing kept");
    // Writes that fit go on as before.
    ok(upd(&mut d, c, "stamp_sparse", &args(&[1, 2_000, 5])));
    assert_eq!(sum(&mut d, c, 1, 100), 5 * 50 + 4 * 50);
}
