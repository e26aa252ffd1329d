//! Chunk bytes in one stable memory, in size-class slots.
//!
//! Slots are powers of two from `MIN_SLOT` (4 KiB) to 1 MiB, plus one class
//! of exactly `MAX_SLOT` (the largest chunk, 2,000,000 bytes), so a chunk is
//! one contiguous read and a freed slot is reused by the next chunk of its
//! class. Full chunks of the default size or of a power-of-two size (the
//! common case) fill their slot exactly; only last chunks, and chunks of
//! sizes a directory was configured with between 1 MiB and `MAX_SLOT`,
//! waste part of a slot. Freed slots are kept
//! per class in a stable B-tree; the bump pointer lives in the data
//! memory's first 8 bytes so the slab needs no other state.

use ic_stable_structures::{Memory, StableBTreeMap};

pub const MIN_SLOT: u64 = 4 * 1024;
/// Largest power-of-two slot: class `POWER_CLASSES - 1`.
const MAX_POWER_SLOT: u64 = 1024 * 1024;
const POWER_CLASSES: u8 = 9; // 4 KiB << 0..=8
/// The last class: slots of exactly the largest chunk. Classes are stored
/// in free-slot keys, so a class never changes its size once used.
pub const MAX_SLOT: u64 = depot_api::limits::MAX_CHUNK_SIZE as u64;
pub const CLASSES: u8 = POWER_CLASSES + 1;
const _: () = assert!(MAX_SLOT > MAX_POWER_SLOT);
const HEADER: u64 = 64;
const WASM_PAGE: u64 = 64 * 1024;

/// Size class of a chunk of `len` bytes, or `None` when larger than a slot.
pub fn class_of(len: u64) -> Option<u8> {
    (0..CLASSES).find(|&c| slot_size(c) >= len)
}

pub fn slot_size(class: u8) -> u64 {
    if class < POWER_CLASSES { MIN_SLOT << class } else { MAX_SLOT }
}

fn free_key(class: u8, offset: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = class;
    k[1..].copy_from_slice(&offset.to_be_bytes());
    k
}

#[derive(Debug, PartialEq, Eq)]
pub struct NoSpace;

pub struct Slab<D: Memory, F: Memory> {
    data: D,
    free: StableBTreeMap<[u8; 9], (), F>,
}

impl<D: Memory, F: Memory> Slab<D, F> {
    pub fn init(data: D, free: F) -> Self {
        let slab = Self { data, free: StableBTreeMap::init(free) };
        if slab.data.size() == 0 {
            if slab.data.grow(1) < 0 {
                panic!("stable memory cannot grow by one page at init");
            }
            slab.data.write(0, &HEADER.to_le_bytes());
        }
        slab
    }

    /// First byte never handed out: the high-water mark.
    pub fn high_water(&self) -> u64 {
        let mut b = [0u8; 8];
        self.data.read(0, &mut b);
        u64::from_le_bytes(b)
    }

    pub fn free_slots(&self) -> u64 {
        self.free.len()
    }

    /// Takes a slot for `len` bytes: a freed one of its class, else a new one.
    pub fn allocate(&mut self, len: u64) -> Result<(u64, u8), NoSpace> {
        let class = class_of(len).ok_or(NoSpace)?;
        let reuse = self.free.range(free_key(class, 0)..=free_key(class, u64::MAX)).next().map(|e| *e.key());
        if let Some(k) = reuse {
            self.free.remove(&k);
            return Ok((u64::from_be_bytes(k[1..].try_into().unwrap()), class));
        }
        let offset = self.high_water();
        let end = offset + slot_size(class);
        let have = self.data.size() * WASM_PAGE;
        if end > have {
            let pages = (end - have).div_ceil(WASM_PAGE);
            if self.data.grow(pages) < 0 {
                return Err(NoSpace);
            }
        }
        self.data.write(0, &end.to_le_bytes());
        Ok((offset, class))
    }

    pub fn release(&mut self, offset: u64, class: u8) {
        self.free.insert(free_key(class, offset), ());
    }

    pub fn write(&self, offset: u64, bytes: &[u8]) {
        self.data.write(offset, bytes);
    }

    pub fn read(&self, offset: u64, buf: &mut [u8]) {
        self.data.read(offset, buf);
    }

    /// `len` bytes from `offset`, into a new buffer that is never zeroed
    /// first: zeroing it cost one instruction per byte in wasm (1.05 M per
    /// MiB, a sixth of a certified 206).
    pub fn read_vec(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(len);
        // SAFETY: `read_unsafe` writes all `len` bytes at `buf`'s start
        // (or traps), which has room for them; then they are initialised.
        unsafe {
            self.data.read_unsafe(offset, buf.as_mut_ptr(), len);
            buf.set_len(len);
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_stable_structures::VectorMemory;

    fn slab() -> Slab<VectorMemory, VectorMemory> {
        Slab::init(VectorMemory::default(), VectorMemory::default())
    }

    #[test]
    fn classes_at_their_edges() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(MIN_SLOT), Some(0));
        assert_eq!(class_of(MIN_SLOT + 1), Some(1));
        assert_eq!(class_of(MAX_POWER_SLOT), Some(8));
        assert_eq!(class_of(MAX_POWER_SLOT + 1), Some(9));
        assert_eq!(class_of(MAX_SLOT - 1), Some(9));
        assert_eq!(class_of(MAX_SLOT), Some(9));
        assert_eq!(slot_size(9), 2_000_000, "the default chunk fills its slot exactly");
        assert_eq!(class_of(MAX_SLOT + 1), None);
    }

    #[test]
    fn freed_slots_are_reused_by_their_class_only() {
        let mut s = slab();
        let (a, ca) = s.allocate(MAX_SLOT).unwrap();
        let (b, _) = s.allocate(10).unwrap();
        assert_eq!(a, HEADER);
        assert_eq!(b, HEADER + MAX_SLOT);
        s.release(a, ca);
        let (c, _) = s.allocate(10).unwrap();
        assert_eq!(c, HEADER + MAX_SLOT + MIN_SLOT, "a small chunk must not take a big slot");
        let (d, _) = s.allocate(MAX_SLOT - 5).unwrap();
        assert_eq!(d, a, "a big chunk reuses the freed big slot");
        assert_eq!(s.free_slots(), 0);
    }

    #[test]
    fn bytes_round_trip_and_persist_high_water() {
        let data = VectorMemory::default();
        let free = VectorMemory::default();
        let mut s = Slab::init(data.clone(), free.clone());
        let (o, _) = s.allocate(5).unwrap();
        s.write(o, b"hello");
        let hw = s.high_water();
        let s2 = Slab::init(data, free);
        assert_eq!(s2.high_water(), hw);
        let mut buf = [0u8; 5];
        s2.read(o, &mut buf);
        assert_eq!(&buf, b"hello");
    }

    #[test]
    fn oversized_allocation_is_refused() {
        assert_eq!(slab().allocate(MAX_SLOT + 1), Err(NoSpace));
    }
}
