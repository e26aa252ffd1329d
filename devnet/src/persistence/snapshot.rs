//! A devnet's state as files, and back.
//!
//! A snapshot directory holds `manifest.cbor` (everything small), the
//! modules by hash (`wasm/<sha256>`), and per canister (`c-<id>/`) its heap,
//! its stable memory in 16 MiB segments (`stable-<n>`, resident pages only)
//! and its wasm chunk store. A file that did not change since the previous
//! snapshot is hard-linked from it rather than written again, so a save
//! costs what changed: a heap only when its canister committed an
//! execution, a stable segment only when a page in it was written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use candid::Principal;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use super::files::{io_err, link_or_copy, make_dir, write_synced};
use super::manifest::*;
use crate::certification::Certifier;
use crate::execution::canister::{Canister, CanisterStatus};
use crate::execution::clock::Clock;
use crate::execution::{Devnet, DevnetConfig};
use crate::runtime::instance::CanisterInstance;
use crate::runtime::stable::{SEGMENT_PAGES, StableMemory, WASM_PAGE};
use crate::types::{Reject, RejectCode, RequestStatus};

pub const MANIFEST: &str = "manifest.cbor";
const WASM_DIR: &str = "wasm";
const HEAP: &str = "heap";
const CHUNKS: &str = "chunks";
/// One stable page in a segment file: its index, then its bytes.
const PAGE_RECORD: usize = 8 + WASM_PAGE as usize;

fn canister_dir(id: &Principal) -> String {
    format!("c-{id}")
}

fn segment_file(n: u64) -> String {
    format!("stable-{n}")
}

/// What a written snapshot holds, to tell what changed since.
#[derive(Default)]
pub struct Written {
    pub snapshot: String,
    /// The manifest without what changes on its own (time, cycles burnt
    /// by storage fees): equal means there is nothing worth saving.
    pub significant: Vec<u8>,
    pub canisters: HashMap<Principal, WrittenCanister>,
}

pub struct WrittenCanister {
    heap: Option<(u64, u64)>,
    stable_uid: u64,
    stable_segments: BTreeSet<u64>,
    chunks: [u8; 32],
}

pub fn manifest_of(d: &mut Devnet) -> Result<Manifest, String> {
    let (root_secret, node_secret) = d.certifier.secrets();
    let mut canisters = Vec::new();
    for c in d.canisters.values_mut() {
        canisters.push(saved_canister(c)?);
    }
    // In expiry order: the order `prune_ingress` goes through them.
    let ingress: Vec<SavedIngress> = d
        .ingress_expiries
        .iter()
        .filter_map(|(expiry_ns, id)| {
            let status = match d.ingress.get(id)? {
                RequestStatus::Replied(b) => SavedStatus::Replied(ByteBuf::from(b.clone())),
                RequestStatus::Rejected(r) => SavedStatus::Rejected {
                    code: r.code.as_u32(),
                    message: r.message.clone(),
                    error_code: r.error_code.clone(),
                },
                RequestStatus::Done => SavedStatus::Done,
                // Unfinished: none while idle.
                RequestStatus::Received | RequestStatus::Processing => return None,
            };
            Some(SavedIngress { request_id: ByteBuf::from(id.to_vec()), status, expiry_ns: *expiry_ns })
        })
        .collect();
    Ok(Manifest {
        format: FORMAT,
        written_by: format!("depot-devnet {}", env!("CARGO_PKG_VERSION")),
        time_ns: d.clock.now(),
        fixed_clock: d.clock.is_fixed(),
        root_secret: ByteBuf::from(root_secret.to_vec()),
        node_secret: ByteBuf::from(node_secret.to_vec()),
        next_canister_index: d.next_canister_index,
        subnets: d.certifier.subnets().len(),
        next_subnet_indices: d.next_subnet_indices.iter().map(|(k, v)| (*k, *v)).collect(),
        ingress,
        canisters,
    })
}

fn saved_canister(c: &mut Canister) -> Result<SavedCanister, String> {
    let module = match c.instance.as_mut() {
        None => None,
        Some(inst) => {
            let mut globals = Vec::new();
            for v in inst.globals() {
                globals.push(SavedValue::from_val(&v).ok_or_else(|| format!("canister {}: a reference global", c.id))?);
            }
            let data = inst.store.data();
            Some(SavedModule {
                wasm_sha256: ByteBuf::from(inst.module.hash.to_vec()),
                heap_len: inst.heap_bytes(),
                globals,
                certified_data: ByteBuf::from(data.certified_data.clone()),
                global_timer: data.global_timer,
                stable_pages: data.stable.size_pages(),
                stable_segments: data.stable.resident_segments().into_iter().collect(),
            })
        }
    };
    Ok(SavedCanister {
        id: c.id,
        controllers: c.controllers.clone(),
        cycles: c.cycles,
        status: c.status.code(),
        generation: c.generation,
        version: c.version,
        freezing_threshold_secs: c.freezing_threshold_secs,
        settings: c.settings.clone(),
        storage_paid_until_ns: c.storage_paid_until_ns,
        executed_instructions: c.executed_instructions,
        ingress_admitted: c.ingress_admitted,
        has_chunks: !c.chunk_store.is_empty(),
        module,
    })
}

/// `manifest` without the fields that change with no execution.
pub fn significant(manifest: &Manifest) -> Vec<u8> {
    let mut m = manifest.clone();
    m.time_ns = 0;
    for c in &mut m.canisters {
        c.cycles = 0;
        c.storage_paid_until_ns = 0;
    }
    m.encode()
}

fn chunks_digest(c: &Canister) -> [u8; 32] {
    let mut h = Sha256::new();
    for k in c.chunk_store.keys() {
        h.update(k);
    }
    h.finalize().into()
}

/// Whether anything but time and storage fees changed since `prev`.
pub fn changed_since(d: &Devnet, manifest: &Manifest, prev: &Written) -> bool {
    if significant(manifest) != prev.significant {
        return true;
    }
    d.canisters.values().any(|c| {
        let Some(w) = prev.canisters.get(&c.id) else { return true };
        let heap = c.instance.as_ref().map(|i| i.heap_stamp());
        let stable_moved =
            c.instance.as_ref().is_some_and(|i| i.stable().uid() != w.stable_uid || i.stable().has_changed());
        heap != w.heap || stable_moved || chunks_digest(c) != w.chunks
    })
}

/// Writes the blobs of `d` into the snapshot directory `to`, linking from
/// `prev` (the snapshot directory `prev_dir`) what did not change, and
/// returns the bytes written.
pub fn write_blobs(
    d: &mut Devnet,
    to: &Path,
    prev: Option<(&Written, &Path)>,
    out: &mut Written,
) -> Result<u64, String> {
    let mut written = 0u64;
    let wasm_dir = make_dir(to, WASM_DIR)?;
    let mut wasms = BTreeSet::new();
    for c in d.canisters.values_mut() {
        let dir = make_dir(to, &canister_dir(&c.id))?;
        let was = prev.and_then(|(w, p)| w.canisters.get(&c.id).map(|wc| (wc, p.join(canister_dir(&c.id)))));
        let chunks = chunks_digest(c);
        if !c.chunk_store.is_empty() {
            match &was {
                Some((wc, p)) if wc.chunks == chunks => link_or_copy(&p.join(CHUNKS), &dir.join(CHUNKS))?,
                _ => {
                    let list: Vec<(ByteBuf, ByteBuf)> = c
                        .chunk_store
                        .iter()
                        .map(|(k, v)| (ByteBuf::from(k.to_vec()), ByteBuf::from(v.clone())))
                        .collect();
                    let mut bytes = Vec::new();
                    ciborium::into_writer(&list, &mut bytes).map_err(|e| e.to_string())?;
                    written += bytes.len() as u64;
                    write_synced(&dir.join(CHUNKS), &bytes)?;
                }
            }
        }
        let mut record = WrittenCanister { heap: None, stable_uid: 0, stable_segments: BTreeSet::new(), chunks };
        if let Some(inst) = c.instance.as_mut() {
            let hex = hex::encode(inst.module.hash);
            if wasms.insert(hex.clone()) {
                let path = wasm_dir.join(&hex);
                match prev {
                    Some((_, p)) if p.join(WASM_DIR).join(&hex).exists() => {
                        link_or_copy(&p.join(WASM_DIR).join(&hex), &path)?
                    }
                    _ => {
                        written += inst.module.installed.len() as u64;
                        write_synced(&path, &inst.module.installed)?;
                    }
                }
            }
            let stamp = inst.heap_stamp();
            match &was {
                Some((wc, p)) if wc.heap == Some(stamp) => link_or_copy(&p.join(HEAP), &dir.join(HEAP))?,
                _ => {
                    written += inst.heap().len() as u64;
                    write_synced(&dir.join(HEAP), inst.heap())?;
                }
            }
            let stable = inst.stable_mut();
            let changed = stable.take_changed_segments();
            let same_memory = matches!(&was, Some((wc, _)) if wc.stable_uid == stable.uid());
            for seg in stable.resident_segments() {
                let name = segment_file(seg);
                match &was {
                    Some((wc, p)) if same_memory && !changed.contains(&seg) && wc.stable_segments.contains(&seg) => {
                        link_or_copy(&p.join(&name), &dir.join(&name))?
                    }
                    _ => {
                        let mut bytes = Vec::new();
                        for (page, data) in stable.segment_pages(seg) {
                            bytes.extend_from_slice(&page.to_le_bytes());
                            bytes.extend_from_slice(data);
                        }
                        written += bytes.len() as u64;
                        write_synced(&dir.join(&name), &bytes)?;
                    }
                }
                record.stable_segments.insert(seg);
            }
            record.heap = Some(stamp);
            record.stable_uid = stable.uid();
        }
        out.canisters.insert(c.id, record);
    }
    Ok(written)
}

/// A devnet made from the snapshot directory `from`, and what it holds.
pub fn load(from: &Path, config: DevnetConfig) -> Result<(Devnet, Manifest), String> {
    let path = from.join(MANIFEST);
    let bytes = fs::read(&path).map_err(|e| io_err("cannot read", &path, e))?;
    // The format first, read alone: another format's manifest may not
    // decode as this one, and the message should say why.
    let head = ManifestHead::decode(&bytes).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    if head.format != FORMAT {
        return Err(format!(
            "{} has state format {} (written by {}); this devnet reads format {FORMAT}: start with a fresh state directory",
            from.display(),
            head.format,
            head.written_by
        ));
    }
    let m = Manifest::decode(&bytes).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    if !(1..=crate::subnets::MAX_SUBNETS).contains(&m.subnets) {
        return Err(format!("{} names {} subnets", path.display(), m.subnets));
    }
    // A state keeps its subnets: canister ids belong to their ranges.
    if config.subnets > 1 && config.subnets != m.subnets {
        return Err(format!(
            "{} holds a devnet of {} subnet(s); it cannot start with {}: start with a fresh state directory",
            from.display(),
            m.subnets,
            config.subnets
        ));
    }
    let certifier = Certifier::from_secrets(&m.root_secret, &m.node_secret)
        .ok_or_else(|| format!("{}: the saved keys are not keys", path.display()))?
        .with_subnets(m.subnets);
    let mut d = Devnet::new(config);
    d.root_key = certifier.root_key_der();
    d.subnet = certifier.subnet_id();
    d.certifier = Arc::new(certifier);
    d.clock = Clock::resuming_at(m.time_ns, m.fixed_clock);
    d.next_canister_index = m.next_canister_index;
    d.next_subnet_indices = m.next_subnet_indices.iter().copied().collect();
    for i in &m.ingress {
        let id: [u8; 32] =
            i.request_id.as_slice().try_into().map_err(|_| "a request id is not 32 bytes".to_string())?;
        let status = match &i.status {
            SavedStatus::Replied(b) => RequestStatus::Replied(b.to_vec()),
            SavedStatus::Rejected { code, message, error_code } => RequestStatus::Rejected(Reject {
                code: RejectCode::from_u32(*code).ok_or_else(|| format!("reject code {code}"))?,
                message: message.clone(),
                error_code: error_code.clone(),
            }),
            SavedStatus::Done => RequestStatus::Done,
        };
        d.ingress.insert(id, status);
        d.ingress_expiries.insert((i.expiry_ns, id));
    }
    let now = d.clock.now();
    for sc in &m.canisters {
        let c = load_canister(&mut d, from, sc, now).map_err(|e| format!("canister {}: {e}", sc.id))?;
        d.canisters.insert(sc.id, c);
    }
    Ok((d, m))
}

fn load_canister(d: &mut Devnet, from: &Path, sc: &SavedCanister, now: u64) -> Result<Canister, String> {
    let mut c = Canister::new(sc.id, sc.controllers.clone(), sc.cycles, now, sc.freezing_threshold_secs);
    c.status = match sc.status {
        1 => CanisterStatus::Running,
        2 => CanisterStatus::Stopping,
        3 => CanisterStatus::Stopped,
        other => return Err(format!("status {other}")),
    };
    c.generation = sc.generation;
    c.version = sc.version;
    c.settings = sc.settings.clone();
    c.storage_paid_until_ns = sc.storage_paid_until_ns;
    c.executed_instructions = sc.executed_instructions;
    c.ingress_admitted = sc.ingress_admitted;
    let dir = from.join(canister_dir(&sc.id));
    if sc.has_chunks {
        let path = dir.join(CHUNKS);
        let bytes = fs::read(&path).map_err(|e| io_err("cannot read", &path, e))?;
        let list: Vec<(ByteBuf, ByteBuf)> =
            ciborium::from_reader(&bytes[..]).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
        for (k, v) in list {
            let key: [u8; 32] = k.as_slice().try_into().map_err(|_| "a chunk hash is not 32 bytes".to_string())?;
            c.chunk_store.insert(key, v.into_vec());
        }
    }
    if let Some(sm) = &sc.module {
        c.instance = Some(load_instance(d, from, &dir, sm)?);
    }
    Ok(c)
}

fn load_instance(d: &mut Devnet, from: &Path, dir: &Path, sm: &SavedModule) -> Result<CanisterInstance, String> {
    let wasm_path = from.join(WASM_DIR).join(hex::encode(&sm.wasm_sha256));
    let wasm = fs::read(&wasm_path).map_err(|e| io_err("cannot read", &wasm_path, e))?;
    if Sha256::digest(&wasm).as_slice() != sm.wasm_sha256.as_slice() {
        return Err(format!("{} does not match its hash", wasm_path.display()));
    }
    let module = d.runtime.load(&wasm).map_err(|e| format!("the saved module does not load: {e}"))?;
    let mut pages = BTreeMap::new();
    for &seg in &sm.stable_segments {
        let path = dir.join(segment_file(seg));
        let bytes = fs::read(&path).map_err(|e| io_err("cannot read", &path, e))?;
        if !bytes.len().is_multiple_of(PAGE_RECORD) {
            return Err(format!("{} is damaged: {} bytes", path.display(), bytes.len()));
        }
        for rec in bytes.chunks_exact(PAGE_RECORD) {
            let page = u64::from_le_bytes(rec[..8].try_into().expect("8 bytes"));
            if page / SEGMENT_PAGES != seg || page >= sm.stable_pages {
                return Err(format!("{} is damaged: page {page}", path.display()));
            }
            pages.insert(page, rec[8..].to_vec());
        }
    }
    let stable = StableMemory::restore(sm.stable_pages, pages);
    let heap_path = dir.join(HEAP);
    let heap = fs::read(&heap_path).map_err(|e| io_err("cannot read", &heap_path, e))?;
    if heap.len() as u64 != sm.heap_len || !(heap.len() as u64).is_multiple_of(WASM_PAGE) {
        return Err(format!("{} is damaged: {} bytes, {} saved", heap_path.display(), heap.len(), sm.heap_len));
    }
    let limit = d.config.limits.install;
    let mut inst =
        CanisterInstance::new(&d.runtime.engine, &d.runtime.linker, module, stable, limit, d.config.heap_rollback)
            .map_err(|(e, _)| format!("instantiating the saved module: {e}"))?;
    let globals: Vec<wasmtime::Val> = sm.globals.iter().map(|g| g.to_val()).collect();
    inst.restore_heap(&heap, &globals)?;
    let data = inst.store.data_mut();
    data.certified_data = sm.certified_data.to_vec();
    data.global_timer = sm.global_timer;
    // Pages just loaded are on disk already.
    let _ = data.stable.take_changed_segments();
    Ok(inst)
}

/// What `load` left on disk, as the base of the next save's links.
pub fn written_after_load(d: &Devnet, snapshot: &str, manifest: &Manifest) -> Written {
    let mut w = Written { snapshot: snapshot.to_string(), significant: significant(manifest), ..Written::default() };
    for c in d.canisters.values() {
        let (heap, stable_uid, stable_segments) = match &c.instance {
            Some(i) => (Some(i.heap_stamp()), i.stable().uid(), i.stable().resident_segments()),
            None => (None, 0, BTreeSet::new()),
        };
        w.canisters.insert(c.id, WrittenCanister { heap, stable_uid, stable_segments, chunks: chunks_digest(c) });
    }
    w
}
