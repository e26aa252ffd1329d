//! A live canister instance: wasmtime store + instance, checkpoints for
//! rollback, and running one entry point with an instruction limit.

use std::sync::Arc;

use wasmtime::{Engine, Global, Instance, InstancePre, Linker, Memory, Store, Table, Val};

use super::context::{ExecContext, HostState};
use super::host::CanisterTrap;
use super::module::CanisterModule;
use super::rewrite::{MEMORY_EXPORT, TABLE_EXPORT};
use super::stable::{StableMark, StableMemory};

const WASM_PAGE: u64 = 64 * 1024;

/// What to run: an exported function or a table entry (callbacks).
#[derive(Debug, Clone)]
pub enum Entry {
    Export(String),
    Table { index: u32, env: u32 },
}

/// Everything needed to undo an execution. The heap is copied (cost grows
/// with the heap, bounded at 4 GiB); stable memory is journaled (cost grows
/// only with the pages written). The heap's size is part of the state too:
/// a wasm memory cannot shrink, so a rollback past a `memory.grow` swaps in
/// a fresh instance of the checkpoint's size (see `rollback`).
pub struct Checkpoint {
    heap: Vec<u8>,
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
    /// Heap snapshot buffers to reuse: a fresh multi-MiB allocation per
    /// message would cost page faults on every call.
    spare_heaps: Vec<Vec<u8>>,
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
    ) -> Result<Self, (String, Box<StableMemory>)> {
        let mut store = Store::new(engine, HostState::new(stable));
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
        })
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
        let mut heap = self.spare_heaps.pop().unwrap_or_default();
        heap.clear();
        heap.extend_from_slice(self.memory.data(&self.store));
        let globals = self.globals.iter().map(|g| g.get(&mut self.store)).collect();
        let data = self.store.data_mut();
        Checkpoint {
            heap,
            globals,
            stable: data.stable.checkpoint(),
            certified_data: data.certified_data.clone(),
            global_timer: data.global_timer,
        }
    }

    /// Restores the state at `cp`. Wasm memory cannot shrink: if the heap
    /// grew meanwhile, the extra pages are zeroed (the canister's allocator
    /// state, kept in globals and the heap, is restored and does not use them).
    pub fn rollback(&mut self, cp: Checkpoint) {
        if self.memory.data_size(&self.store) > cp.heap.len() {
            // Grown since the checkpoint. Left grown, the canister would see
            // a `memory.size` the IC never shows it, and its allocator, which
            // grows from the current end, would leak the pages each rolled
            // back query allocated: a bucket serving 1 MiB chunks gained
            // 2 MiB per query until its 4 GiB heap was full.
            self.fresh_instance(cp.heap.len());
        }
        let data = self.memory.data_mut(&mut self.store);
        // Write back only the 4 KiB blocks that changed: most executions
        // touch a few pages, and reading is cheaper than writing.
        for (now, then) in data[..cp.heap.len()].chunks_mut(4096).zip(cp.heap.chunks(4096)) {
            if now != then {
                now.copy_from_slice(then);
            }
        }
        data[cp.heap.len()..].fill(0);
        for (g, v) in self.globals.iter().zip(cp.globals) {
            // Setting a global of the type it had cannot fail.
            let _ = g.set(&mut self.store, v);
        }
        let st = self.store.data_mut();
        st.stable.rollback(cp.stable);
        st.certified_data = cp.certified_data;
        st.global_timer = cp.global_timer;
        self.recycle(cp.heap);
    }

    /// Moves the host state into a fresh instance whose memory is
    /// `heap_bytes` long; `rollback` then writes heap and globals back.
    /// Tables are re-initialised from the module's element segments, which
    /// is all a canister's table holds (no toolchain emits `table.set`).
    fn fresh_instance(&mut self, heap_bytes: usize) {
        let engine = self.store.engine().clone();
        let fuel = self.store.get_fuel().unwrap_or(0);
        let old = std::mem::replace(&mut self.store, Store::new(&engine, HostState::new(StableMemory::default())));
        let mut state = old.into_data();
        state.memory = None;
        self.store = Store::new(&engine, state);
        let _ = self.store.set_fuel(fuel);
        // The module instantiated before with this linker: it does again.
        let h = instantiate(&mut self.store, &self.pre, &self.module).expect("re-instantiating an instantiated module");
        let pages = (heap_bytes as u64).div_ceil(WASM_PAGE);
        let have = h.memory.size(&self.store);
        if pages > have {
            h.memory.grow(&mut self.store, pages - have).expect("growing to a size the memory had");
        }
        (self.instance, self.memory, self.table, self.globals) = (h.instance, h.memory, h.table, h.globals);
    }

    pub fn commit(&mut self, cp: Checkpoint) {
        self.store.data_mut().stable.commit(cp.stable);
        self.recycle(cp.heap);
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
        let outcome = self.invoke(entry);
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
