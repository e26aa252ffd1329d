//! Stable memory: sparse 64 KiB pages plus an undo journal.
//!
//! Why a journal: rollback after a trap must not cost time proportional to
//! the stable memory size (canisters keep GiBs there). Before the first write
//! to a page inside a checkpoint we save that page's previous content; a
//! rollback restores only the saved pages. Nested checkpoints (composite
//! queries, upgrades) work because each checkpoint gets a fresh epoch and a
//! page is saved again the first time it is written under a newer epoch.

use std::collections::HashMap;

pub const WASM_PAGE: u64 = 64 * 1024;
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

#[derive(Default)]
pub struct StableMemory {
    pages: HashMap<u64, (Page, u64)>,
    size_pages: u64,
    journal: Vec<JournalEntry>,
    /// Epoch of the innermost open checkpoint (0 = none open).
    epoch: u64,
    next_epoch: u64,
    open: usize,
}

impl StableMemory {
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
