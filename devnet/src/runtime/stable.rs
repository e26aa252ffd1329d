//! Stable memory: sparse 64 KiB pages plus an undo journal.
//!
//! Why a journal: rollback after a trap must not cost time proportional to
//! the stable memory size (canisters keep GiBs there). Before the first write
//! to a page inside a checkpoint we save that page's previous content; a
//! rollback restores only the saved pages. Nested checkpoints (composite
//! queries, upgrades) work because each checkpoint gets a fresh epoch and a
//! page is saved again the first time it is written under a newer epoch.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

pub const WASM_PAGE: u64 = 64 * 1024;
/// Pages per segment: the unit a saved state writes again when a page in
/// it changed (`persistence`), 16 MiB.
pub const SEGMENT_PAGES: u64 = 256;
/// 500 GiB, the IC's per-canister stable memory limit.
pub const MAX_STABLE_PAGES: u64 = 500 * 1024 * 1024 * 1024 / WASM_PAGE;

type Page = Box<[u8]>;

struct JournalEntry {
    page: u64,
    old: Option<Page>,
    old_epoch: u64,
}

/// Position in the journal a rollback returns to.
#[derive(Debug, Clone, Copy)]
pub struct StableMark {
    journal_len: usize,
    size_pages: u64,
    epoch: u64,
}

pub struct StableMemory {
    /// Tells one stable memory from another (an upgrade moves it to the
    /// new instance; a reinstall starts another), for `changed_segments`.
    uid: u64,
    /// Segments written since `take_changed_segments`.
    changed: BTreeSet<u64>,
    pages: HashMap<u64, (Page, u64)>,
    size_pages: u64,
    journal: Vec<JournalEntry>,
    /// Epoch of the innermost open checkpoint (0 = none open).
    epoch: u64,
    next_epoch: u64,
    open: usize,
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

impl Default for StableMemory {
    fn default() -> Self {
        StableMemory {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            changed: BTreeSet::new(),
            pages: HashMap::new(),
            size_pages: 0,
            journal: Vec::new(),
            epoch: 0,
            next_epoch: 0,
            open: 0,
        }
    }
}

impl StableMemory {
    /// A stable memory of `size_pages` holding `pages` (page index, 64 KiB
    /// of bytes): how a saved state comes back.
    pub fn restore(size_pages: u64, pages: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Self {
        let mut m = StableMemory { size_pages, ..StableMemory::default() };
        for (page, bytes) in pages {
            m.pages.insert(page, (bytes.into_boxed_slice(), 0));
        }
        m
    }

    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Segments written (or restored by a rollback) since the last call.
    pub fn take_changed_segments(&mut self) -> BTreeSet<u64> {
        std::mem::take(&mut self.changed)
    }

    pub fn has_changed(&self) -> bool {
        !self.changed.is_empty()
    }

    /// Segments that hold any non-zero page.
    pub fn resident_segments(&self) -> BTreeSet<u64> {
        self.pages.keys().map(|p| p / SEGMENT_PAGES).collect()
    }

    /// The resident pages of `segment`, in order.
    pub fn segment_pages(&self, segment: u64) -> Vec<(u64, &[u8])> {
        let first = segment * SEGMENT_PAGES;
        let mut out: Vec<(u64, &[u8])> = (first..first + SEGMENT_PAGES)
            .filter_map(|p| self.pages.get(&p).map(|(bytes, _)| (p, &bytes[..])))
            .collect();
        out.sort_unstable_by_key(|(p, _)| *p);
        out
    }

    pub fn size_pages(&self) -> u64 {
        self.size_pages
    }

    pub fn size_bytes(&self) -> u64 {
        self.size_pages * WASM_PAGE
    }

    /// Grows by `new_pages`; returns the old size or `None` if over the limit.
    pub fn grow(&mut self, new_pages: u64, limit_pages: u64) -> Option<u64> {
        let old = self.size_pages;
        let new = old.checked_add(new_pages)?;
        if new > limit_pages.min(MAX_STABLE_PAGES) {
            return None;
        }
        self.size_pages = new;
        Some(old)
    }

    /// Checks that `[offset, offset+len)` lies inside stable memory.
    pub fn in_bounds(&self, offset: u64, len: u64) -> bool {
        offset.checked_add(len).is_some_and(|end| end <= self.size_bytes())
    }

    pub fn read(&self, offset: u64, out: &mut [u8]) {
        let mut done = 0usize;
        while done < out.len() {
            let pos = offset + done as u64;
            let (page, within) = (pos / WASM_PAGE, (pos % WASM_PAGE) as usize);
            let n = (WASM_PAGE as usize - within).min(out.len() - done);
            match self.pages.get(&page) {
                Some((p, _)) => out[done..done + n].copy_from_slice(&p[within..within + n]),
                None => out[done..done + n].fill(0),
            }
            done += n;
        }
    }

    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut done = 0usize;
        while done < data.len() {
            let pos = offset + done as u64;
            let (page, within) = (pos / WASM_PAGE, (pos % WASM_PAGE) as usize);
            let n = (WASM_PAGE as usize - within).min(data.len() - done);
            self.journal_page(page);
            self.changed.insert(page / SEGMENT_PAGES);
            let epoch = self.epoch;
            let entry =
                self.pages.entry(page).or_insert_with(|| (vec![0u8; WASM_PAGE as usize].into_boxed_slice(), epoch));
            entry.0[within..within + n].copy_from_slice(&data[done..done + n]);
            entry.1 = epoch;
            done += n;
        }
    }

    fn journal_page(&mut self, page: u64) {
        if self.open == 0 {
            return;
        }
        match self.pages.get(&page) {
            Some((_, e)) if *e >= self.epoch => {}
            Some((p, e)) => self.journal.push(JournalEntry { page, old: Some(p.clone()), old_epoch: *e }),
            None => self.journal.push(JournalEntry { page, old: None, old_epoch: 0 }),
        }
    }

    /// Opens a checkpoint; pair with `rollback` or `commit`.
    pub fn checkpoint(&mut self) -> StableMark {
        let mark = StableMark { journal_len: self.journal.len(), size_pages: self.size_pages, epoch: self.epoch };
        self.next_epoch += 1;
        self.epoch = self.next_epoch;
        self.open += 1;
        mark
    }

    pub fn rollback(&mut self, mark: StableMark) {
        while self.journal.len() > mark.journal_len {
            let Some(e) = self.journal.pop() else { break };
            self.changed.insert(e.page / SEGMENT_PAGES);
            match e.old {
                Some(p) => {
                    self.pages.insert(e.page, (p, e.old_epoch));
                }
                None => {
                    self.pages.remove(&e.page);
                }
            }
        }
        self.size_pages = mark.size_pages;
        self.close(mark);
    }

    pub fn commit(&mut self, mark: StableMark) {
        self.close(mark);
    }

    fn close(&mut self, mark: StableMark) {
        self.open = self.open.saturating_sub(1);
        self.epoch = mark.epoch;
        if self.open == 0 {
            self.journal.clear();
            self.epoch = 0;
        }
    }

    /// Number of pages that hold data (for memory accounting and tests).
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read8(m: &StableMemory, off: u64) -> [u8; 8] {
        let mut b = [0u8; 8];
        m.read(off, &mut b);
        b
    }

    #[test]
    fn rollback_restores_written_pages_and_size() {
        let mut m = StableMemory::default();
        m.grow(2, MAX_STABLE_PAGES).unwrap();
        m.write(0, b"AAAAAAAA");
        let cp = m.checkpoint();
        m.write(0, b"BBBBBBBB");
        m.write(WASM_PAGE - 4, b"CCCCCCCC"); // spans two pages
        m.grow(10, MAX_STABLE_PAGES).unwrap();
        m.rollback(cp);
        assert_eq!(&read8(&m, 0), b"AAAAAAAA");
        assert_eq!(read8(&m, WASM_PAGE - 4), [0; 8]);
        assert_eq!(m.size_pages(), 2);
        assert_eq!(m.resident_pages(), 1);
    }

    #[test]
    fn nested_checkpoints() {
        let mut m = StableMemory::default();
        m.grow(1, MAX_STABLE_PAGES).unwrap();
        m.write(0, b"00000000");
        let outer = m.checkpoint();
        m.write(0, b"11111111");
        let inner = m.checkpoint();
        m.write(0, b"22222222");
        m.rollback(inner);
        assert_eq!(&read8(&m, 0), b"11111111");
        let inner = m.checkpoint();
        m.write(0, b"33333333");
        m.commit(inner);
        m.write(0, b"44444444");
        assert_eq!(&read8(&m, 0), b"44444444");
        m.rollback(outer);
        assert_eq!(&read8(&m, 0), b"00000000");
        // Closed: writes are no longer journaled.
        m.write(0, b"55555555");
        assert!(m.journal.is_empty());
    }

    #[test]
    fn growth_is_bounded() {
        let mut m = StableMemory::default();
        assert_eq!(m.grow(3, 2), None);
        assert_eq!(m.grow(2, 2), Some(0));
        assert!(m.in_bounds(0, 2 * WASM_PAGE));
        assert!(!m.in_bounds(1, 2 * WASM_PAGE));
        assert!(!m.in_bounds(u64::MAX, 2));
    }
}
