//! Shared helpers and WAT test canisters for the conformance tests.

use candid::Principal;
use depot_devnet::{CallOutcome, Devnet, DevnetConfig, InstallMode, Reject};

pub const CYCLES: u128 = 100_000_000_000_000;

pub fn user() -> Principal {
    Principal::from_slice(&[0xAB; 29])
}

pub fn other_user() -> Principal {
    Principal::from_slice(&[0xCD; 29])
}

pub fn devnet() -> Devnet {
    Devnet::new(DevnetConfig { debug_print: false, ..Default::default() })
}

pub fn wasm(wat_src: &str) -> Vec<u8> {
    wat::parse_str(wat_src).expect("test WAT must parse")
}

/// Creates a canister controlled by `user()` and installs `wat_src`.
pub fn install(d: &mut Devnet, wat_src: &str) -> Principal {
    let id = d.create_canister(user(), CYCLES, None).expect("create");
    d.install_code(user(), id, &wasm(wat_src), &[], InstallMode::Install).expect("install");
    id
}

pub fn ok(o: CallOutcome) -> Vec<u8> {
    match o.result {
        Ok(b) => b,
        Err(r) => panic!("expected a reply, got reject {r:?}"),
    }
}

pub fn rej(o: CallOutcome) -> Reject {
    match o.result {
        Ok(b) => panic!("expected a reject, got reply {b:?}"),
        Err(r) => r,
    }
}

pub fn upd(d: &mut Devnet, c: Principal, m: &str, arg: &[u8]) -> CallOutcome {
    d.update(user(), c, m, arg).expect("update")
}

pub fn qry(d: &mut Devnet, c: Principal, m: &str, arg: &[u8]) -> CallOutcome {
    d.query(user(), c, m, arg).expect("query")
}

pub fn u32_of(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

/// Argument for the CALLER canister: callee, method, cycles, payload.
pub fn call_arg(callee: Principal, method: &str, cycles: u64, payload: &[u8]) -> Vec<u8> {
    let mut a = vec![callee.as_slice().len() as u8];
    a.extend_from_slice(callee.as_slice());
    a.push(method.len() as u8);
    a.extend_from_slice(method.as_bytes());
    a.extend_from_slice(&cycles.to_le_bytes());
    a.extend_from_slice(payload);
    a
}

/// Common imports and helpers spliced into the test canisters.
const PRELUDE: &str = r#"
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $reject_msg_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $reject_msg_copy (param i32 i32 i32)))
  (import "ic0" "msg_method_name_size" (func $method_size (result i32)))
  (import "ic0" "msg_method_name_copy" (func $method_copy (param i32 i32 i32)))
  (import "ic0" "accept_message" (func $accept_message))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $stable_size (result i64)))
  (import "ic0" "stable64_grow" (func $stable_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $stable_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $stable_read (param i64 i64 i64)))
  (import "ic0" "certified_data_set" (func $certified_data_set (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $cert_present (result i32)))
  (import "ic0" "data_certificate_size" (func $cert_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $cert_copy (param i32 i32 i32)))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (import "ic0" "performance_counter" (func $perf (param i32) (result i64)))
  (import "ic0" "canister_cycle_balance128" (func $balance128 (param i32)))
  (import "ic0" "msg_cycles_available128" (func $available128 (param i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept128 (param i64 i64 i32)))
  (import "ic0" "msg_cycles_refunded128" (func $refunded128 (param i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $call_on_cleanup (param i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles_add128 (param i64 i64)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "debug_print" (func $debug_print (param i32 i32)))
  (memory (export "memory") 2)
  ;; reply with `len` bytes at `ptr`
  (func $reply_bytes (param $ptr i32) (param $len i32)
    (call $reply_append (local.get $ptr) (local.get $len))
    (call $reply))
  ;; reply with the i32 at `ptr`
  (func $reply_i32_at (param $ptr i32) (call $reply_bytes (local.get $ptr) (i32.const 4)))
  ;; copy the argument to 1024, return its length
  (func $load_arg (result i32) (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 1024) (i32.const 0) (local.get $n))
    (local.get $n))
"#;

/// A counter canister. Heap layout: 0 counter, 4 timer fires, 8 post_upgrade
/// marker, 16 heartbeats, 20 log length, 200.. log bytes.
pub fn counter_wat() -> String {
    format!(
        r#"(module {PRELUDE}
  (global $g (mut i32) (i32.const 0))
  (func $inc
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "canister_update inc") (call $inc) (call $reply_i32_at (i32.const 0)))
  (func (export "canister_query get") (call $reply_i32_at (i32.const 0)))
  (func (export "canister_query get_global")
    (i32.store (i32.const 4000) (global.get $g)) (call $reply_i32_at (i32.const 4000)))
  ;; changes heap, global, stable, certified data and timer, then traps
  (func (export "canister_update inc_then_trap")
    (call $inc)
    (if (i64.eq (call $stable_size) (i64.const 0)) (then (drop (call $stable_grow (i64.const 1)))))
    (i32.store (i32.const 3000) (i32.const 0x21212121))
    (call $stable_write (i64.const 0) (i64.const 3000) (i64.const 4))
    (call $certified_data_set (i32.const 3000) (i32.const 4))
    (drop (call $timer_set (i64.add (call $time) (i64.const 1000000000))))
    (call $reply_i32_at (i32.const 0))
    (call $trap (i32.const 3000) (i32.const 4)))
  (func (export "canister_update stable_put")
    (local $n i32)
    (local.set $n (call $load_arg))
    (if (i64.eq (call $stable_size) (i64.const 0)) (then (drop (call $stable_grow (i64.const 1)))))
    (call $stable_write (i64.const 0) (i64.const 1024) (i64.extend_i32_u (local.get $n)))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  ;; writes the 64 KiB at heap 65536 (bumping its first word) to stable page N (u64 argument)
  (func (export "canister_update stable_write_page")
    (drop (call $load_arg))
    (i32.store (i32.const 65536) (i32.add (i32.load (i32.const 65536)) (i32.const 1)))
    (call $stable_write (i64.mul (i64.load (i32.const 1024)) (i64.const 65536)) (i64.const 65536) (i64.const 65536))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  (func (export "canister_update stable_grow")
    (drop (call $load_arg))
    (i64.store (i32.const 3000) (call $stable_grow (i64.load (i32.const 1024))))
    (call $reply_bytes (i32.const 3000) (i32.const 8)))
  ;; writes 8 bytes at the stable offset in the argument, then traps
  (func (export "canister_update stable_write_trap")
    (drop (call $load_arg))
    (call $stable_write (i64.load (i32.const 1024)) (i64.const 1024) (i64.const 8))
    (unreachable))
  (func (export "canister_query stable_get")
    (if (i64.eq (call $stable_size) (i64.const 0)) (then (call $reply_bytes (i32.const 0) (i32.const 0)) (return)))
    (call $stable_read (i64.const 3000) (i64.const 0) (i64.const 8))
    (call $reply_bytes (i32.const 3000) (i32.const 8)))
  (func (export "canister_query stable_write_in_query")
    (if (i64.eq (call $stable_size) (i64.const 0)) (then (drop (call $stable_grow (i64.const 1)))))
    (i32.store (i32.const 0) (i32.const 777))
    (call $stable_write (i64.const 0) (i64.const 0) (i64.const 4))
    (call $reply_i32_at (i32.const 0)))
  (func (export "canister_update set_certified")
    (local $n i32)
    (local.set $n (call $load_arg))
    (call $certified_data_set (i32.const 1024) (local.get $n))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  (func (export "canister_query cert")
    (if (i32.eqz (call $cert_present))
      (then (i32.store (i32.const 3000) (i32.const 0x656e6f6e)) (call $reply_bytes (i32.const 3000) (i32.const 4)) (return)))
    (call $cert_copy (i32.const 8192) (i32.const 0) (call $cert_size))
    (call $reply_bytes (i32.const 8192) (call $cert_size)))
  (func (export "canister_update cert_in_update")
    (i32.store (i32.const 3000) (call $cert_present))
    (call $reply_i32_at (i32.const 3000)))
  (func (export "canister_update set_timer")
    (drop (call $timer_set (i64.add (call $time) (i64.const 1000000000))))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  (func (export "canister_global_timer")
    (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1))))
  (func (export "canister_query timer_count") (call $reply_i32_at (i32.const 4)))
  (func (export "canister_query time")
    (i64.store (i32.const 3000) (call $time))
    (call $reply_bytes (i32.const 3000) (i32.const 8)))
  (func (export "canister_update loop") (loop $l (br $l)))
  (func (export "canister_update no_reply"))
  (func (export "canister_update reply_twice")
    (call $reply_bytes (i32.const 0) (i32.const 4))
    (call $reply_bytes (i32.const 0) (i32.const 4)))
  (func (export "canister_update reject")
    (i32.store (i32.const 3000) (i32.const 0x706f6f6e))
    (call $reject (i32.const 3000) (i32.const 4)))
  (func (export "canister_update perf")
    (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (i64.store (i32.const 3000) (call $perf (i32.const 0)))
    (call $reply_bytes (i32.const 3000) (i32.const 8)))
  (func (export "canister_update balance")
    (call $balance128 (i32.const 3000))
    (call $reply_bytes (i32.const 3000) (i32.const 16)))
  ;; accepts all attached cycles, replies with the amount (16 bytes)
  (func (export "canister_update accept")
    (call $accept128 (i64.const -1) (i64.const -1) (i32.const 3000))
    (call $reply_bytes (i32.const 3000) (i32.const 16)))
  ;; appends the argument's first byte to the log
  (func (export "canister_update log")
    (drop (call $load_arg))
    (i32.store8 (i32.add (i32.const 200) (i32.load (i32.const 20))) (i32.load8_u (i32.const 1024)))
    (i32.store (i32.const 20) (i32.add (i32.load (i32.const 20)) (i32.const 1)))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  (func (export "canister_query get_log")
    (call $reply_bytes (i32.const 200) (i32.load (i32.const 20))))
  (func (export "canister_query echo")
    (call $reply_bytes (i32.const 1024) (call $load_arg)))
  (func (export "canister_update echo_update")
    (call $reply_bytes (i32.const 1024) (call $load_arg)))
  (func (export "canister_query trap_query") (unreachable))
  ;; heap size: grow by a page (reply: the old size in pages), or read it
  (func (export "canister_query grow_in_query")
    (i32.store (i32.const 3000) (memory.grow (i32.const 1)))
    (call $reply_i32_at (i32.const 3000)))
  (func (export "canister_update grow")
    (i32.store (i32.const 3000) (memory.grow (i32.const 1)))
    (call $reply_i32_at (i32.const 3000)))
  (func (export "canister_update inc_grow_then_trap")
    (call $inc) (drop (memory.grow (i32.const 3))) (unreachable))
  (func (export "canister_query memory_pages")
    (i32.store (i32.const 3000) (memory.size))
    (call $reply_i32_at (i32.const 3000)))
  (func (export "canister_pre_upgrade")
    (i32.store (i32.const 3000) (i32.const 0x50505050))
    (if (i64.eq (call $stable_size) (i64.const 0)) (then (drop (call $stable_grow (i64.const 1)))))
    (call $stable_write (i64.const 100) (i64.const 3000) (i64.const 4)))
  (func (export "canister_post_upgrade")
    (call $stable_read (i64.const 8) (i64.const 100) (i64.const 4)))
  (func (export "canister_query upgrade_marks") (call $reply_bytes (i32.const 8) (i32.const 4)))
  (func (export "canister_heartbeat")
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1))))
  (func (export "canister_query heartbeats") (call $reply_i32_at (i32.const 16)))
  (func (export "canister_inspect_message")
    (local $n i32)
    (local.set $n (call $method_size))
    (call $method_copy (i32.const 3000) (i32.const 0) (local.get $n))
    ;; refuse methods whose name starts with 'x'
    (if (i32.ne (i32.load8_u (i32.const 3000)) (i32.const 0x78)) (then (call $accept_message))))
  (func (export "canister_update xrefused") (call $reply_bytes (i32.const 0) (i32.const 0)))
)"#
    )
}

/// A canister that makes one call described by its argument (see
/// `call_arg`) and answers "R"+reply, "J"+code+message, or "E"+code.
/// Heap: 100 cleanup ran, 104 trapping callback ran (must be rolled back).
pub fn caller_wat() -> String {
    format!(
        r#"(module {PRELUDE}
  (table 4 funcref)
  (elem (i32.const 0) $on_reply $on_reject $cleanup $on_reply_trap)
  (func $do_call (param $reply i32) (param $reject i32) (param $cleanup i32) (result i32)
    (local $n i32) (local $clen i32) (local $mlen i32) (local $mptr i32) (local $p i32) (local $payload i32)
    (local.set $n (call $load_arg))
    (local.set $clen (i32.load8_u (i32.const 1024)))
    (local.set $mlen (i32.load8_u (i32.add (i32.const 1025) (local.get $clen))))
    (local.set $mptr (i32.add (i32.const 1026) (local.get $clen)))
    (local.set $p (i32.add (local.get $mptr) (local.get $mlen)))
    (call $call_new (i32.const 1025) (local.get $clen) (local.get $mptr) (local.get $mlen)
      (local.get $reply) (i32.const 0) (local.get $reject) (i32.const 0))
    (if (i32.ge_s (local.get $cleanup) (i32.const 0)) (then (call $call_on_cleanup (local.get $cleanup) (i32.const 0))))
    (if (i64.ne (i64.load (local.get $p)) (i64.const 0))
      (then (call $call_cycles_add128 (i64.const 0) (i64.load (local.get $p)))))
    (local.set $payload (i32.add (local.get $p) (i32.const 8)))
    (call $call_data_append (local.get $payload) (i32.sub (i32.add (i32.const 1024) (local.get $n)) (local.get $payload)))
    (call $call_perform))
  (func $check_perform (param $err i32)
    (if (i32.ne (local.get $err) (i32.const 0))
      (then (i32.store8 (i32.const 3000) (i32.const 0x45)) (i32.store8 (i32.const 3001) (local.get $err))
            (call $reply_bytes (i32.const 3000) (i32.const 2)))))
  (func $on_reply (param $env i32) (local $n i32)
    (local.set $n (call $arg_size))
    (i32.store8 (i32.const 8192) (i32.const 0x52))
    (call $arg_copy (i32.const 8193) (i32.const 0) (local.get $n))
    (call $reply_bytes (i32.const 8192) (i32.add (local.get $n) (i32.const 1))))
  (func $on_reject (param $env i32) (local $n i32)
    (local.set $n (call $reject_msg_size))
    (i32.store8 (i32.const 8192) (i32.const 0x4a))
    (i32.store8 (i32.const 8193) (call $reject_code))
    (call $reject_msg_copy (i32.const 8194) (i32.const 0) (local.get $n))
    (call $reply_bytes (i32.const 8192) (i32.add (local.get $n) (i32.const 2))))
  (func $cleanup (param $env i32) (i32.store (i32.const 100) (i32.const 1)))
  (func $on_reply_trap (param $env i32) (i32.store (i32.const 104) (i32.const 1)) (unreachable))
  (func (export "canister_update call")
    (call $check_perform (call $do_call (i32.const 0) (i32.const 1) (i32.const -1))))
  (func (export "canister_composite_query cq_call")
    (call $check_perform (call $do_call (i32.const 0) (i32.const 1) (i32.const -1))))
  (func (export "canister_update call_trap_in_callback")
    (call $check_perform (call $do_call (i32.const 3) (i32.const 3) (i32.const 2))))
  ;; one-way: invalid callback indices, replies at once
  (func (export "canister_update call_oneway")
    (drop (call $do_call (i32.const -1) (i32.const -1) (i32.const -1)))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  ;; five one-way calls carrying the bytes 1..5
  (func (export "canister_update fanout")
    (local $i i32)
    (drop (call $load_arg))
    (local.set $i (i32.const 1))
    (loop $l
      (call $call_new (i32.const 1025) (i32.load8_u (i32.const 1024)) (i32.const 2000) (i32.const 3)
        (i32.const -1) (i32.const 0) (i32.const -1) (i32.const 0))
      (i32.store8 (i32.const 2010) (local.get $i))
      (call $call_data_append (i32.const 2010) (i32.const 1))
      (drop (call $call_perform))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.le_u (local.get $i) (i32.const 5))))
    (call $reply_bytes (i32.const 0) (i32.const 0)))
  ;; calls, then traps: the call must not be sent
  (func (export "canister_update call_then_trap")
    (drop (call $do_call (i32.const 0) (i32.const 1) (i32.const -1)))
    (unreachable))
  (func (export "canister_query flags") (call $reply_bytes (i32.const 100) (i32.const 8)))
  (data (i32.const 2000) "log")
)"#
    )
}

/// A canister for heap rollback: it grows its heap, stamps a word into each
/// 4 KiB page of a range (by stores, or by `memory.fill`, which wasmtime
/// runs in host code), and sums the stamps. Arguments are little-endian
/// u32s at 1024: `grow_to [pages]`, `stamp [first page, pages, value]`,
/// `sum [first page, pages]`. The stamp sits at byte 8 of each page.
pub fn heap_wat() -> String {
    format!(
        r#"(module {PRELUDE}
  (func $arg (param $i i32) (result i32) (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
  ;; stamps every `step`-th page of the range
  (func $stamp_every (param $step i32) (local $p i32) (local $end i32)
    (drop (call $load_arg))
    (local.set $p (call $arg (i32.const 0)))
    (local.set $end (i32.add (local.get $p) (call $arg (i32.const 1))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (i32.store (i32.add (i32.shl (local.get $p) (i32.const 12)) (i32.const 8)) (call $arg (i32.const 2)))
      (local.set $p (i32.add (local.get $p) (local.get $step)))
      (br $l))))
  (func $stamp (call $stamp_every (i32.const 1)))
  (func $sum (result i32) (drop (call $load_arg)) (call $sum_args))
  (func $reply_u32 (param $v i32) (i32.store (i32.const 3000) (local.get $v)) (call $reply_i32_at (i32.const 3000)))
  (func (export "canister_update grow_to")
    (drop (call $load_arg))
    (if (i32.gt_u (call $arg (i32.const 0)) (memory.size))
      (then (drop (memory.grow (i32.sub (call $arg (i32.const 0)) (memory.size))))))
    (call $reply_u32 (memory.size)))
  (func (export "canister_update stamp") (call $stamp) (call $reply_u32 (i32.const 0)))
  (func (export "canister_update stamp_then_trap") (call $stamp) (unreachable))
  ;; stamps every other page of the range: each page a separate write
  (func (export "canister_update stamp_sparse") (call $stamp_every (i32.const 2)) (call $reply_u32 (i32.const 0)))
  ;; grows by one wasm page, stamps, traps: the grow and the stamps go
  (func (export "canister_update grow_stamp_then_trap") (drop (memory.grow (i32.const 1))) (call $stamp) (unreachable))
  ;; memory.fill over the pages' whole bytes with the value's low byte, then traps
  (func (export "canister_update fill_then_trap")
    (drop (call $load_arg))
    (memory.fill (i32.shl (call $arg (i32.const 0)) (i32.const 12)) (call $arg (i32.const 2))
      (i32.shl (call $arg (i32.const 1)) (i32.const 12)))
    (unreachable))
  (func (export "canister_update inc") (call $reply_u32 (i32.const 0)))
  (func (export "canister_query sum") (call $reply_u32 (call $sum)))
  ;; stamps in a query, then answers the sum it sees: the stamps go after
  (func (export "canister_query stamp_and_sum")
    (call $stamp)
    (call $reply_u32 (call $sum_args)))
  (func (export "canister_query pages") (call $reply_u32 (memory.size)))
  (func $sum_args (result i32) (local $p i32) (local $end i32) (local $s i32)
    (local.set $p (call $arg (i32.const 0)))
    (local.set $end (i32.add (local.get $p) (call $arg (i32.const 1))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (i32.shl (local.get $p) (i32.const 12)) (i32.const 8)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.get $s))
)"#
    )
}
