//! A live canister instance: wasmtime store + instance, checkpoints for
//! rollback, and running one entry point with an instruction limit.

use std::sync::Arc;

use wasmtime::{Engine, Global, Instance, InstancePre, Linker, Memory, Store, Table, Val};

use super::context::{ExecContext, HostState};
use super::dirty_pages::DirtyPages;
use super::host::CanisterTrap;
use super::module::CanisterModule;
use super::rewrite::{MEMORY_EXPORT, TABLE_EXPORT};
use super::stable::{StableMark, StableMemory};

const WASM_PAGE: u64 = 64 * 1024;

static NEXT_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// What to run: an exported function or a table entry (callbacks).
#[derive(Debug, Clone)]
pub enum Entry {
    Export(String),
    Table { index: u32, env: u32 },
}

/// How a checkpoint undoes heap writes (`DevnetConfig::heap_rollback`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeapRollback {
    /// Save each page on its first write (`dirty_pages.rs`): an execution
    /// costs what it writes. Where the platform lacks it, `Copy`.
    #[default]
    DirtyPages,
    /// Copy the whole heap at each checkpoint: an execution costs the
    /// heap's size. Kept to compare against, and as the fallback.
    Copy,
}

/// What a checkpoint keeps to restore the heap's bytes.
enum HeapUndo {
    Copy(Vec<u8>),
    /// A mark in the instance's dirty-page journal.
    Journal(usize),
}

/// Everything needed to undo an execution. The heap is journaled by page
/// (or copied, see `HeapRollback`); stable memory is journaled too. The
/// heap's size is part of the state: a wasm memory cannot shrink, so a
/// rollback past a `memory.grow` swaps in a fresh instance of the
/// checkpoint's size (see `rollback`).
pub struct Checkpoint {
    heap: HeapUndo,
    heap_len: usize,
    globals: Vec<Val>,
    stable: StableMark,
    certified_data: Vec<u8>,
    global_timer: u64,
}

impl Checkpoint {
    pub fn stable_mark(&self) -> StableMark {
        self.stable
    }
}

pub struct ExecResult {
    pub ctx: ExecContext,
    /// Trap message, if the execution trapped.
    pub trap: Option<String>,
    pub instructions: u64,
}

pub struct CanisterInstance {
    pub store: Store<HostState>,
    pub module: Arc<CanisterModule>,
    instance: Instance,
    memory: Memory,
    table: Option<Table>,
    globals: Vec<Global>,
    /// The module linked against the System API, to re-instantiate cheaply.
    pre: InstancePre<HostState>,
    /// Heap snapshot buffers to reuse (`HeapRollback::Copy`): a fresh
    /// multi-MiB allocation per message would cost page faults on every call.
    spare_heaps: Vec<Vec<u8>>,
    /// Tells instances apart, and counts the commits of this one: a saved
    /// state writes the heap again only when this pair changed.
    uid: u64,
    commits: u64,
    /// The heap's dirty-page journal (`HeapRollback::DirtyPages`). Declared
    /// after `store`, whose signal handler points into it, so it is dropped
    /// after the store.
    dirty: Option<DirtyPages>,
}

/// The handles of one instantiation.
struct Handles {
    instance: Instance,
    memory: Memory,
    table: Option<Table>,
    globals: Vec<Global>,
}

fn instantiate(
    store: &mut Store<HostState>,
    pre: &InstancePre<HostState>,
    module: &CanisterModule,
) -> Result<Handles, String> {
    let instance = pre.instantiate(&mut *store).map_err(|e| describe_error(&e))?;
    let Some(memory) = instance.get_memory(&mut *store, MEMORY_EXPORT) else {
        return Err("module has no memory".into());
    };
    store.data_mut().memory = Some(memory);
    let table = instance.get_table(&mut *store, TABLE_EXPORT);
    let mut globals = Vec::new();
    for name in &module.host.mutable_globals {
        let Some(g) = instance.get_global(&mut *store, name) else {
            return Err(format!("missing host export {name}"));
        };
        globals.push(g);
    }
    Ok(Handles { instance, memory, table, globals })
}

impl CanisterInstance {
    /// Instantiates the module (running its wasm `start` function, if any).
    pub fn new(
        engine: &Engine,
        linker: &Linker<HostState>,
        module: Arc<CanisterModule>,
        stable: StableMemory,
        fuel: u64,
        heap_rollback: HeapRollback,
    ) -> Result<Self, (String, Box<StableMemory>)> {
        let mut store = Store::new(engine, HostState::new(stable));
        let dirty = match heap_rollback {
            HeapRollback::DirtyPages => DirtyPages::new(),
            HeapRollback::Copy => None,
        };
        if let Some(d) = &dirty {
            watch_writes(&mut store, d);
        }
        // On failure the stable memory is handed back (an upgrade must not lose it).
        let give_back = |store: Store<HostState>, msg: String| (msg, Box::new(store.into_data().stable));
        if let Err(e) = store.set_fuel(fuel) {
            return Err(give_back(store, e.to_string()));
        }
        let pre = match linker.instantiate_pre(&module.module) {
            Ok(p) => p,
            Err(e) => {
                let msg = describe_error(&e);
                return Err(give_back(store, msg));
            }
        };
        let h = match instantiate(&mut store, &pre, &module) {
            Ok(h) => h,
            Err(msg) => return Err(give_back(store, msg)),
        };
        Ok(CanisterInstance {
            store,
            module,
            instance: h.instance,
            memory: h.memory,
            table: h.table,
            globals: h.globals,
            pre,
            spare_heaps: Vec::new(),
            uid: NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            commits: 0,
            dirty,
        })
    }

    /// How this instance undoes heap writes (`Copy` where the journal
    /// could not be set up).
    pub fn heap_rollback(&self) -> HeapRollback {
        if self.dirty.is_some() { HeapRollback::DirtyPages } else { HeapRollback::Copy }
    }

    /// (instance, commits): changes whenever the heap or globals may have.
    pub fn heap_stamp(&self) -> (u64, u64) {
        (self.uid, self.commits)
    }

    pub fn heap(&self) -> &[u8] {
        self.memory.data(&self.store)
    }

    /// The canister's mutable globals, in `module.host.mutable_globals` order.
    pub fn globals(&mut self) -> Vec<Val> {
        self.globals.iter().map(|g| g.get(&mut self.store)).collect()
    }

    /// Puts a saved heap and globals in place (`persistence`): the heap
    /// grows to `heap.len()` (a multiple of 64 KiB) and is overwritten.
    pub fn restore_heap(&mut self, heap: &[u8], globals: &[Val]) -> Result<(), String> {
        if globals.len() != self.globals.len() {
            return Err(format!("{} globals saved, the module has {}", globals.len(), self.globals.len()));
        }
        let pages = (heap.len() as u64).div_ceil(WASM_PAGE);
        let have = self.memory.size(&self.store);
        if pages < have {
            return Err(format!("a saved heap of {pages} pages is smaller than the module's {have}"));
        }
        self.memory.grow(&mut self.store, pages - have).map_err(|e| format!("growing the heap: {e:#}"))?;
        self.memory.data_mut(&mut self.store)[..heap.len()].copy_from_slice(heap);
        for (g, v) in self.globals.iter().zip(globals) {
            g.set(&mut self.store, *v).map_err(|e| format!("restoring a global: {e:#}"))?;
        }
        Ok(())
    }

    pub fn heap_bytes(&self) -> u64 {
        self.memory.data_size(&self.store) as u64
    }

    pub fn stable(&self) -> &StableMemory {
        &self.store.data().stable
    }

    pub fn stable_mut(&mut self) -> &mut StableMemory {
        &mut self.store.data_mut().stable
    }

    pub fn take_stable(&mut self) -> StableMemory {
        std::mem::take(&mut self.store.data_mut().stable)
    }

    pub fn checkpoint(&mut self) -> Checkpoint {
        let heap_len = self.memory.data_size(&self.store);
        let heap = match &mut self.dirty {
            Some(d) => HeapUndo::Journal(d.begin(self.memory.data_ptr(&self.store), heap_len)),
            None => {
                let mut heap = self.spare_heaps.pop().unwrap_or_default();
                heap.clear();
                heap.extend_from_slice(self.memory.data(&self.store));
                HeapUndo::Copy(heap)
            }
        };
        let globals = self.globals.iter().map(|g| g.get(&mut self.store)).collect();
        let data = self.store.data_mut();
        Checkpoint {
            heap,
            heap_len,
            globals,
            stable: data.stable.checkpoint(),
            certified_data: data.certified_data.clone(),
            global_timer: data.global_timer,
        }
    }

    /// Restores the state at `cp`. Wasm memory cannot shrink: if the heap
    /// grew meanwhile, a fresh instance of the checkpoint's size takes over.
    pub fn rollback(&mut self, cp: Checkpoint) {
        if let (HeapUndo::Journal(mark), Some(d)) = (&cp.heap, &mut self.dirty) {
            d.rollback(*mark);
        }
        if self.memory.data_size(&self.store) > cp.heap_len {
            // Grown since the checkpoint. Left grown, the canister would see
            // a `memory.size` the IC never shows it, and its allocator, which
            // grows from the current end, would leak the pages each rolled
            // back query allocated: a bucket serving 1 MiB chunks gained
            // 2 MiB per query until its 4 GiB heap was full.
            self.fresh_instance(cp.heap_len);
        }
        if let HeapUndo::Copy(heap) = &cp.heap {
            let data = self.memory.data_mut(&mut self.store);
            // Write back only the 4 KiB blocks that changed: most executions
            // touch a few pages, and reading is cheaper than writing.
            for (now, then) in data[..heap.len()].chunks_mut(4096).zip(heap.chunks(4096)) {
                if now != then {
                    now.copy_from_slice(then);
                }
            }
        }
        for (g, v) in self.globals.iter().zip(cp.globals) {
            // Setting a global of the type it had cannot fail.
            let _ = g.set(&mut self.store, v);
        }
        let st = self.store.data_mut();
        st.stable.rollback(cp.stable);
        st.certified_data = cp.certified_data;
        st.global_timer = cp.global_timer;
        if let HeapUndo::Copy(heap) = cp.heap {
            self.recycle(heap);
        }
    }

    /// Moves the host state into a fresh instance whose memory holds the
    /// first `heap_bytes` of the current one; `rollback` then writes the
    /// globals back. Tables are re-initialised from the module's element
    /// segments, which is all a canister's table holds (no toolchain emits
    /// `table.set`). Costs a copy of the heap: it happens only when a
    /// rollback undoes a `memory.grow`.
    fn fresh_instance(&mut self, heap_bytes: usize) {
        let engine = self.store.engine().clone();
        let fuel = self.store.get_fuel().unwrap_or(0);
        let mut state = std::mem::replace(self.store.data_mut(), HostState::new(StableMemory::default()));
        state.memory = None;
        let mut store = Store::new(&engine, state);
        let _ = store.set_fuel(fuel);
        if let Some(d) = &self.dirty {
            watch_writes(&mut store, d);
        }
        // The module instantiated before with this linker: it does again.
        let h = instantiate(&mut store, &self.pre, &self.module).expect("re-instantiating an instantiated module");
        let pages = (heap_bytes as u64).div_ceil(WASM_PAGE);
        let have = h.memory.size(&store);
        if pages > have {
            h.memory.grow(&mut store, pages - have).expect("growing to a size the memory had");
        }
        let old = &self.memory.data(&self.store)[..heap_bytes];
        h.memory.data_mut(&mut store)[..heap_bytes].copy_from_slice(old);
        if let Some(d) = &mut self.dirty {
            d.moved(h.memory.data_ptr(&store), heap_bytes);
        }
        // The old store, and the old heap with it, goes here.
        self.store = store;
        (self.instance, self.memory, self.table, self.globals) = (h.instance, h.memory, h.table, h.globals);
    }

    pub fn commit(&mut self, cp: Checkpoint) {
        self.commits += 1;
        self.store.data_mut().stable.commit(cp.stable);
        match cp.heap {
            HeapUndo::Journal(mark) => {
                if let Some(d) = &mut self.dirty {
                    d.commit(mark);
                }
            }
            HeapUndo::Copy(heap) => self.recycle(heap),
        }
    }

    fn recycle(&mut self, heap: Vec<u8>) {
        if self.spare_heaps.len() < 2 {
            self.spare_heaps.push(heap);
        }
    }

    /// Runs `entry` with `ctx` and an instruction limit. State changes stay
    /// in place (even after a trap): callers decide via checkpoints.
    pub fn run(&mut self, entry: &Entry, mut ctx: ExecContext, limit: u64) -> ExecResult {
        ctx.instruction_limit = limit;
        self.store.data_mut().exec = Some(ctx);
        let _ = self.store.set_fuel(limit);
        let mut outcome = self.invoke(entry);
        if outcome.is_err() && self.dirty.as_mut().is_some_and(|d| d.take_map_limit_hit()) {
            outcome = Err(map_limit_message());
        }
        let remaining = self.store.get_fuel().unwrap_or(0);
        let ctx = self.store.data_mut().exec.take();
        let ctx = ctx.unwrap_or_else(unreachable_ctx);
        ExecResult { ctx, trap: outcome.err(), instructions: limit.saturating_sub(remaining) }
    }

    fn invoke(&mut self, entry: &Entry) -> Result<(), String> {
        match entry {
            Entry::Export(name) => {
                let f = self
                    .instance
                    .get_typed_func::<(), ()>(&mut self.store, name)
                    .map_err(|e| format!("export {name} missing or of the wrong type: {e}"))?;
                f.call(&mut self.store, ()).map_err(|e| describe_error(&e))
            }
            Entry::Table { index, env } => {
                let Some(table) = self.table else {
                    return Err("callback: module has no function table".into());
                };
                let func = match table.get(&mut self.store, u64::from(*index)) {
                    Some(r) => r.as_func().flatten().copied(),
                    None => None,
                };
                let Some(func) = func else {
                    return Err(format!("callback: table index {index} is not a function"));
                };
                let f = func
                    .typed::<i32, ()>(&self.store)
                    .map_err(|e| format!("callback at table index {index} has the wrong type: {e}"))?;
                f.call(&mut self.store, *env as i32).map_err(|e| describe_error(&e))
            }
        }
    }

    /// True if `index` names a function in table 0 (one-way calls pass an
    /// invalid index, which means "no callback").
    pub fn has_table_func(&mut self, index: u32) -> bool {
        let Some(table) = self.table else { return false };
        matches!(table.get(&mut self.store, u64::from(index)), Some(r) if r.as_func().flatten().is_some())
    }
}

/// Why an execution trapped when the heap's mappings ran out.
fn map_limit_message() -> String {
    let limit = std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap_or_default();
    format!(
        "devnet: this execution wrote more separate heap pages than the kernel's memory-map limit allows \
         (vm.max_map_count = {}); raise it (`sysctl -w vm.max_map_count=1048576`) or run devnet with \
         HeapRollback::Copy",
        limit.trim()
    )
}

/// Routes the store's write faults on the heap to the dirty-page journal.
fn watch_writes(store: &mut Store<HostState>, dirty: &DirtyPages) {
    use wasmtime::unix::StoreExt;
    // SAFETY: the handler only copies within memory the journal reserved
    // and calls `mprotect` (async-signal-safe), and the journal outlives
    // the store (`CanisterInstance::dirty` is dropped after `store`).
    unsafe { store.set_signal_handler(dirty.handler()) };
}

fn unreachable_ctx() -> ExecContext {
    // The context is put in before the call and only taken out here.
    ExecContext::new(
        super::context::EntryKind::Update,
        candid::Principal::anonymous(),
        candid::Principal::anonymous(),
        0,
    )
}

/// Turns a wasmtime error into the message a canister developer needs.
pub fn describe_error(e: &wasmtime::Error) -> String {
    if let Some(t) = e.downcast_ref::<CanisterTrap>() {
        return t.0.clone();
    }
    if let Some(t) = e.downcast_ref::<wasmtime::Trap>() {
        return match t {
            wasmtime::Trap::OutOfFuel => "instruction limit exceeded".to_string(),
            other => format!("wasm trap: {other}"),
        };
    }
    format!("{e:#}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use crate::runtime::context::EntryKind;

    /// Stores `value` at byte 8 of 4 KiB page `page` (exports `canister_update w<page>_<value>`).
    const WAT: &str = r#"(module
      (memory (export "memory") 4)
      (func (export "canister_update w1_1") (i32.store (i32.const 4104) (i32.const 1)))
      (func (export "canister_update w1_2") (i32.store (i32.const 4104) (i32.const 2)))
      (func (export "canister_update w2_2") (i32.store (i32.const 8200) (i32.const 2)))
      (func (export "canister_update w2_3") (i32.store (i32.const 8200) (i32.const 3)))
      (func (export "canister_update w3_4_trap") (i32.store (i32.const 12296) (i32.const 4)) (unreachable)))"#;

    fn run(inst: &mut CanisterInstance, name: &str) {
        let ctx =
            ExecContext::new(EntryKind::Update, candid::Principal::anonymous(), candid::Principal::anonymous(), 0);
        inst.run(&Entry::Export(format!("canister_update {name}")), ctx, 1_000_000);
    }

    fn word(inst: &CanisterInstance, page: usize) -> u32 {
        let at = page * 4096 + 8;
        u32::from_le_bytes(inst.memory.data(&inst.store)[at..at + 4].try_into().unwrap())
    }

    /// Nested checkpoints, as composite query callbacks and upgrades open
    /// them: an inner commit keeps its writes for the outer rollback to
    /// undo, an inner rollback undoes only its own, and writes made between
    /// inner checkpoints are undone by the outer one.
    #[test]
    fn nested_checkpoints_undo_each_level() {
        for mode in [HeapRollback::DirtyPages, HeapRollback::Copy] {
            let mut rt = Runtime::new().unwrap();
            let module = rt.load(&wat::parse_str(WAT).unwrap()).unwrap();
            let mut inst =
                CanisterInstance::new(&rt.engine, &rt.linker, module, StableMemory::default(), 1_000_000, mode)
                    .map_err(|e| e.0)
                    .unwrap();
            assert_eq!(inst.heap_rollback(), mode);
            let outer = inst.checkpoint();
            run(&mut inst, "w1_1");
            let inner = inst.checkpoint();
            run(&mut inst, "w1_2");
            run(&mut inst, "w2_2");
            inst.commit(inner);
            assert_eq!((word(&inst, 1), word(&inst, 2)), (2, 2));
            run(&mut inst, "w2_3");
            let inner = inst.checkpoint();
            run(&mut inst, "w3_4_trap");
            run(&mut inst, "w1_1");
            assert_eq!((word(&inst, 1), word(&inst, 3)), (1, 4));
            inst.rollback(inner);
            assert_eq!((word(&inst, 1), word(&inst, 2), word(&inst, 3)), (2, 3, 0), "{mode:?}: inner rollback");
            // A write after the inner rollback, to a page it restored.
            run(&mut inst, "w1_1");
            inst.rollback(outer);
            assert_eq!((word(&inst, 1), word(&inst, 2), word(&inst, 3)), (0, 0, 0), "{mode:?}: outer rollback");
            // And the next execution is tracked again.
            let cp = inst.checkpoint();
            run(&mut inst, "w2_3");
            inst.rollback(cp);
            assert_eq!(word(&inst, 2), 0);
        }
    }
}
