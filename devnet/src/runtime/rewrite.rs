//! Module rewriting at install time.
//!
//! Rust canisters export neither their function table (needed to run
//! `call_new` callbacks by index) nor their globals (needed to roll a trapped
//! execution back, e.g. `__stack_pointer`) nor, sometimes, their memory under
//! a known name. We re-emit the module with one extra export per such item;
//! every other section is copied byte for byte.

use wasm_encoder::{ExportKind, ExportSection, Section};
use wasmparser::{ExternalKind, Parser, Payload};

pub const MEMORY_EXPORT: &str = "__devnet_memory";
pub const TABLE_EXPORT: &str = "__devnet_table";
pub const GLOBAL_EXPORT_PREFIX: &str = "__devnet_global_";

/// What the rewritten module exports for the host.
#[derive(Debug, Clone, Default)]
pub struct HostExports {
    pub has_memory: bool,
    pub has_table: bool,
    /// Names of exported mutable globals defined by the module.
    pub mutable_globals: Vec<String>,
}

/// Returns the rewritten module and what it exports for the host.
pub fn add_host_exports(wasm: &[u8]) -> Result<(Vec<u8>, HostExports), String> {
    let mut counts = Counts::default();
    let mut exports_out: Option<Vec<u8>> = None;
    let mut out: Vec<u8> = Vec::with_capacity(wasm.len() + 256);
    let mut host = HostExports::default();
    let mut pending_export_emitted = false;

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("invalid wasm: {e}"))?;
        match &payload {
            Payload::Version { .. } => out.extend_from_slice(&wasm[0..8]),
            Payload::ImportSection(r) => {
                for imp in r.clone().into_imports() {
                    let imp = imp.map_err(|e| e.to_string())?;
                    match imp.ty {
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => counts.funcs += 1,
                        wasmparser::TypeRef::Table(_) => counts.tables += 1,
                        wasmparser::TypeRef::Memory(_) => counts.memories += 1,
                        wasmparser::TypeRef::Global(_) => counts.imported_globals += 1,
                        wasmparser::TypeRef::Tag(_) => {}
                    }
                }
            }
            Payload::TableSection(r) => counts.tables += r.count(),
            Payload::MemorySection(r) => counts.memories += r.count(),
            Payload::GlobalSection(r) => {
                for (i, g) in r.clone().into_iter().enumerate() {
                    let g = g.map_err(|e| e.to_string())?;
                    if g.ty.mutable {
                        counts.mutable_defined.push(counts.imported_globals + i as u32);
                    }
                }
            }
            Payload::ExportSection(r) => {
                let mut sec = ExportSection::new();
                let mut memory_exported = None;
                let mut table_exported = None;
                for e in r.clone() {
                    let e = e.map_err(|e| e.to_string())?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    if e.name.starts_with("__devnet_") {
                        return Err(format!("export name {} is reserved by devnet", e.name));
                    }
                    if kind == ExportKind::Memory && e.index == 0 {
                        memory_exported = Some(());
                    }
                    if kind == ExportKind::Table && e.index == 0 {
                        table_exported = Some(());
                    }
                    sec.export(e.name, kind, e.index);
                }
                let _ = (memory_exported, table_exported);
                add_extra(&mut sec, &counts, &mut host);
                exports_out = Some(encode_section(&sec));
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            // The export section has id 7; sections with higher ids (start,
            // element, code, data, data count) come after it, custom sections
            // (id 0) may come anywhere.
            let orderly_after_exports = matches!(id, 8..=12);
            if orderly_after_exports && !pending_export_emitted {
                if exports_out.is_none() {
                    let mut sec = ExportSection::new();
                    add_extra(&mut sec, &counts, &mut host);
                    exports_out = Some(encode_section(&sec));
                }
                pending_export_emitted = true;
                out.extend(exports_out.take().unwrap_or_default());
            }
            if id == 7 {
                pending_export_emitted = true;
                out.extend(exports_out.take().unwrap_or_default());
            } else {
                out.push(id);
                leb128_u32(&mut out, range.len() as u32);
                out.extend_from_slice(&wasm[range]);
            }
        }
    }
    if !pending_export_emitted {
        if exports_out.is_none() {
            let mut sec = ExportSection::new();
            add_extra(&mut sec, &counts, &mut host);
            exports_out = Some(encode_section(&sec));
        }
        out.extend(exports_out.take().unwrap_or_default());
    }
    Ok((out, host))
}

#[derive(Default)]
struct Counts {
    funcs: u32,
    tables: u32,
    memories: u32,
    imported_globals: u32,
    mutable_defined: Vec<u32>,
}

fn add_extra(sec: &mut ExportSection, counts: &Counts, host: &mut HostExports) {
    if counts.memories > 0 {
        sec.export(MEMORY_EXPORT, ExportKind::Memory, 0);
        host.has_memory = true;
    }
    if counts.tables > 0 {
        sec.export(TABLE_EXPORT, ExportKind::Table, 0);
        host.has_table = true;
    }
    for idx in &counts.mutable_defined {
        let name = format!("{GLOBAL_EXPORT_PREFIX}{idx}");
        sec.export(&name, ExportKind::Global, *idx);
        host.mutable_globals.push(name);
    }
    let _ = counts.funcs;
}

fn encode_section(sec: &ExportSection) -> Vec<u8> {
    let mut bytes = Vec::new();
    sec.append_to(&mut bytes);
    bytes
}

fn leb128_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_table_memory_and_mutable_globals() {
        let wasm = wat::parse_str(
            r#"(module
                (global $sp (mut i32) (i32.const 1024))
                (global $c i32 (i32.const 1))
                (memory 1)
                (table 2 funcref)
                (func $f (param i32))
                (elem (i32.const 0) $f)
                (func (export "canister_update x"))
                (@custom "icp:public n" "v"))"#,
        )
        .unwrap();
        let (out, host) = add_host_exports(&wasm).unwrap();
        wasmparser::validate(&out).unwrap();
        assert!(host.has_memory && host.has_table);
        assert_eq!(host.mutable_globals, vec![format!("{GLOBAL_EXPORT_PREFIX}0")]);
        // A module with no export section gets one.
        let bare = wat::parse_str("(module (memory 1) (global (mut i64) (i64.const 0)) (func))").unwrap();
        let (out, host) = add_host_exports(&bare).unwrap();
        wasmparser::validate(&out).unwrap();
        assert_eq!(host.mutable_globals.len(), 1);
    }
}
