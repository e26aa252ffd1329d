//! Helpers shared by the System API functions: context access, permission
//! checks, bounds-checked memory access, traps and instruction charges.

use candid::Principal;
use wasmtime::Caller;

use super::context::{EntryKind, ExecContext, HostState};

/// A trap raised by the System API (or explicitly by the canister).
#[derive(Debug, Clone)]
pub struct CanisterTrap(pub String);

impl std::fmt::Display for CanisterTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanisterTrap {}

pub type C<'a> = Caller<'a, HostState>;
pub type R<T> = wasmtime::Result<T>;

pub fn trap<T>(msg: impl Into<String>) -> R<T> {
    Err(wasmtime::Error::new(CanisterTrap(msg.into())))
}

pub fn ctx<'a>(c: &'a mut C<'_>) -> R<&'a mut ExecContext> {
    match c.data_mut().exec.as_mut() {
        Some(x) => Ok(x),
        None => trap("System API called outside of a canister execution"),
    }
}

/// Traps unless the current entry point may call `name`.
pub fn allow(c: &mut C<'_>, name: &str, ok: impl Fn(EntryKind) -> bool) -> R<()> {
    let kind = ctx(c)?.kind;
    if ok(kind) { Ok(()) } else { trap(format!("\"{name}\" cannot be called in {kind:?} mode")) }
}

fn memory(c: &C<'_>) -> R<wasmtime::Memory> {
    match c.data().memory {
        Some(m) => Ok(m),
        None => trap("canister has no memory"),
    }
}

pub fn read_bytes(c: &mut C<'_>, src: i32, size: i32) -> R<Vec<u8>> {
    let (src, size) = (src as u32 as usize, size as u32 as usize);
    let mem = memory(c)?;
    charge(c, size as u64 / 16)?;
    let data = mem.data(&*c);
    match src.checked_add(size).and_then(|end| data.get(src..end)) {
        Some(s) => Ok(s.to_vec()),
        None => trap(format!("memory access out of bounds: {src}+{size} > {}", data.len())),
    }
}

pub fn write_bytes(c: &mut C<'_>, dst: i32, bytes: &[u8]) -> R<()> {
    let dst = dst as u32 as usize;
    let mem = memory(c)?;
    charge(c, bytes.len() as u64 / 16)?;
    let data = mem.data_mut(&mut *c);
    let len = data.len();
    match dst.checked_add(bytes.len()).and_then(|end| data.get_mut(dst..end)) {
        Some(s) => {
            s.copy_from_slice(bytes);
            Ok(())
        }
        None => trap(format!("memory access out of bounds: {dst}+{} > {len}", bytes.len())),
    }
}

/// Copies `source[offset..offset+size]` to memory at `dst` (the `*_copy` pattern).
pub fn copy_out(c: &mut C<'_>, dst: i32, offset: i32, size: i32, source: &[u8]) -> R<()> {
    let (off, size) = (offset as u32 as usize, size as u32 as usize);
    match off.checked_add(size).and_then(|end| source.get(off..end)) {
        Some(s) => {
            let s = s.to_vec();
            write_bytes(c, dst, &s)
        }
        None => trap(format!("copy out of bounds: offset {off} size {size} > length {}", source.len())),
    }
}

pub fn write_u128(c: &mut C<'_>, dst: i32, v: u128) -> R<()> {
    write_bytes(c, dst, &v.to_le_bytes())
}

pub fn u128_of(high: i64, low: i64) -> u128 {
    ((high as u64 as u128) << 64) | (low as u64 as u128)
}

/// Charges `n` extra instructions (System API work) against the fuel.
pub fn charge(c: &mut C<'_>, n: u64) -> R<()> {
    if n == 0 {
        return Ok(());
    }
    let fuel = c.get_fuel()?;
    if fuel < n {
        c.set_fuel(0)?;
        return Err(wasmtime::Error::new(wasmtime::Trap::OutOfFuel));
    }
    c.set_fuel(fuel - n)
}

/// Instructions used so far in this execution.
pub fn instructions_used(c: &mut C<'_>) -> R<u64> {
    let fuel = c.get_fuel()?;
    let limit = ctx(c)?.instruction_limit;
    Ok(limit.saturating_sub(fuel))
}

pub fn principal_from(bytes: &[u8]) -> R<Principal> {
    match Principal::try_from_slice(bytes) {
        Ok(p) => Ok(p),
        Err(e) => trap(format!("invalid principal: {e}")),
    }
}
