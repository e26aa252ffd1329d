//! Heap rollback that costs what an execution writes, not the heap's size.
//!
//! Why: an execution that traps (and every query) must leave the heap as it
//! found it. Copying the whole heap at each checkpoint made a trivial update
//! on a 90 MB canister cost a 90 MB copy, and slowed seeding a bucket from
//! 134 to about 30 files per second as its certification tree grew. The IC
//! has no such cost: the replica tracks the pages an execution writes.
//!
//! How (as the replica does it): outside executions every page of the heap
//! is read-only. The first write of an execution to a page faults; the
//! fault handler, which wasmtime calls for this store before its own
//! (`StoreExt::set_signal_handler`), copies the page into a journal and
//! makes it writable, and the write is retried. A rollback copies the saved
//! pages back; a commit forgets them. Either way the pages written are made
//! read-only again before the next execution. Faults in host functions
//! (`ic0.msg_arg_data_copy` writing the heap) are handled the same way,
//! since they run inside the wasm call.
//!
//! Checkpoints nest (a composite query's callbacks inside the query, an
//! upgrade's `pre_upgrade` inside its install): opening one re-protects the
//! pages written so far, so the first write under the new checkpoint saves
//! the page again. Rolling back to a mark restores the pages saved after it,
//! newest first, so the oldest copy of a page is the one that stays.
//!
//! Pages are the host's 4 KiB pages, as on the IC. Only the heap as it was
//! when the outermost checkpoint opened is tracked: pages grown since are
//! discarded by a rollback anyway (`CanisterInstance::rollback`).

use std::cell::UnsafeCell;
use std::ptr;

use libc::{c_int, c_void, siginfo_t};

/// The host page: the unit of tracking.
pub const PAGE: usize = 4096;

/// Address space reserved for saved pages. Only what is used is backed by
/// memory; one execution saves at most the heap's 4 GiB once per open
/// checkpoint, so 64 GiB allows a composite query 15 callbacks that each
/// rewrite a full heap.
const SAVED_RESERVE: usize = 64 << 30;

/// Above this many saved bytes, a finished execution returns the saved
/// pages' memory to the system instead of keeping it for the next one.
const SAVED_KEEP: usize = 64 << 20;

/// The journal. The fault handler touches it on the faulting thread, in
/// the middle of an execution, so everything it needs is allocated before
/// the execution starts (`begin`): the handler only copies into memory
/// that exists and pushes within reserved capacity.
struct Journal {
    /// Heap base address the protections apply to.
    base: usize,
    /// Pages `[0, tracked)` are read-only unless listed in `writable`.
    tracked: usize,
    /// Pages saved, in fault order; the copy of `saved[i]` is slot `i`.
    saved: Vec<u32>,
    /// Tracked pages made writable since they were last protected.
    writable: Vec<u32>,
    /// `SAVED_RESERVE` bytes of address space for the copies.
    slots: *mut u8,
    /// Slots backed by read-write memory.
    slots_usable: usize,
    /// Open checkpoints.
    depth: usize,
    /// The handler hit a write it could not save (a bug): the next rollback
    /// or commit panics rather than restore a wrong heap.
    broken: bool,
    /// A page could not be made writable: the process has as many memory
    /// mappings as the kernel allows (`vm.max_map_count`; each separate
    /// writable page splits the heap's mapping). The write did not happen
    /// and the execution traps; `take_map_limit_hit` tells why.
    map_limit_hit: bool,
}

/// Dirty-page tracking for one heap (see the module comment).
pub struct DirtyPages {
    journal: Box<UnsafeCell<Journal>>,
}

// The journal is touched by its owner (which holds `&mut DirtyPages`) and by
// the signal handler, which runs on the owner's thread, inside an execution
// the owner started: never by two threads at once.
unsafe impl Send for DirtyPages {}

struct JournalPtr(*mut Journal);
unsafe impl Send for JournalPtr {}
unsafe impl Sync for JournalPtr {}

impl JournalPtr {
    // A method, so that closures capture the whole (Send) wrapper rather
    // than its raw-pointer field.
    fn get(&self) -> *mut Journal {
        self.0
    }
}

impl DirtyPages {
    /// `None` if the address space for saved pages cannot be reserved: the
    /// caller then copies the heap instead.
    pub fn new() -> Option<Self> {
        // SAFETY: an anonymous private mapping with no access; it is only
        // used through `slots`, and unmapped in `drop`.
        let slots = unsafe {
            libc::mmap(
                ptr::null_mut(),
                SAVED_RESERVE,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if slots == libc::MAP_FAILED {
            return None;
        }
        let journal = Journal {
            base: 0,
            tracked: 0,
            saved: Vec::new(),
            writable: Vec::new(),
            slots: slots.cast(),
            slots_usable: 0,
            depth: 0,
            broken: false,
            map_limit_hit: false,
        };
        Some(DirtyPages { journal: Box::new(UnsafeCell::new(journal)) })
    }

    fn journal(&mut self) -> &mut Journal {
        self.journal.get_mut()
    }

    /// The handler to install on the heap's store. It handles only write
    /// faults on tracked pages, and declines everything else (wasmtime then
    /// turns out-of-bounds accesses into traps as usual).
    pub fn handler(&self) -> impl Fn(c_int, *const siginfo_t, *const c_void) -> bool + Send + Sync + 'static {
        let journal = JournalPtr(self.journal.get());
        move |signum, info, _context| {
            if signum != libc::SIGSEGV && signum != libc::SIGBUS {
                return false;
            }
            // SAFETY: the kernel passes a valid siginfo for these signals;
            // the journal outlives the store (see `CanisterInstance`), and
            // only this thread uses it during the execution.
            unsafe {
                let addr = (*info).si_addr() as usize;
                on_fault(&mut *journal.get(), addr)
            }
        }
    }

    /// Opens a checkpoint for the heap at `base`, `len` bytes long, and
    /// returns its mark. Costs what the previous executions wrote, plus the
    /// pages grown since the last checkpoint.
    pub fn begin(&mut self, base: *mut u8, len: usize) -> usize {
        let j = self.journal();
        let pages = len / PAGE;
        if j.base != base as usize {
            // A heap this journal has not protected yet (a first checkpoint,
            // or a fresh instance after a rollback).
            assert_eq!(j.depth, 0, "the heap moved while a checkpoint was open");
            j.base = base as usize;
            j.tracked = 0;
            j.writable.clear();
        }
        j.protect_writable();
        if pages > j.tracked {
            protect(j.base + j.tracked * PAGE, (pages - j.tracked) * PAGE, libc::PROT_READ);
            j.tracked = pages;
        }
        // Enough room for this execution to write every tracked page once.
        let room = j.saved.len() + j.tracked;
        j.saved.reserve(room - j.saved.len());
        j.writable.reserve(j.tracked);
        j.back_slots(room);
        j.depth += 1;
        j.saved.len()
    }

    /// Restores every page saved since `mark` and closes that checkpoint.
    pub fn rollback(&mut self, mark: usize) {
        let j = self.journal();
        assert!(!j.broken, "devnet: a heap write could not be saved; the heap cannot be rolled back");
        let mut pages: Vec<u32> = j.saved[mark..].to_vec();
        pages.sort_unstable();
        pages.dedup();
        // A nested checkpoint may have protected them again. Unprotecting
        // pages one by one can need more mappings than the kernel allows
        // (the reason an execution trapped, perhaps): then the whole heap.
        let whole = !j.set_runs(&pages, libc::PROT_READ | libc::PROT_WRITE);
        if whole {
            protect(j.base, j.tracked * PAGE, libc::PROT_READ | libc::PROT_WRITE);
        }
        for i in (mark..j.saved.len()).rev() {
            let at = j.base + j.saved[i] as usize * PAGE;
            // SAFETY: slot `i` holds a saved page and `at` a tracked page,
            // both PAGE bytes, now writable.
            unsafe { ptr::copy_nonoverlapping(j.slots.add(i * PAGE), at as *mut u8, PAGE) };
        }
        // Restored pages must fault again on the next write, even before
        // the next checkpoint: an outer checkpoint is still open and must
        // see the writes that follow.
        if whole {
            j.writable.clear();
            protect(j.base, j.tracked * PAGE, libc::PROT_READ);
        } else {
            j.writable.extend(pages);
            j.protect_writable();
        }
        j.saved.truncate(mark);
        j.close();
    }

    /// Keeps the writes since `mark` and closes that checkpoint. An outer
    /// checkpoint still open keeps the saved pages, to undo them too.
    pub fn commit(&mut self, _mark: usize) {
        let j = self.journal();
        assert!(!j.broken, "devnet: a heap write could not be saved; the heap cannot be rolled back");
        j.close();
    }

    /// The heap moved to a fresh instance (`len` bytes at `base`) while
    /// checkpoints may be open: every page is protected, so that an outer
    /// rollback sees every write from here on. Costs the heap's size; it
    /// happens only when a rollback undoes a `memory.grow`.
    pub fn moved(&mut self, base: *mut u8, len: usize) {
        let j = self.journal();
        j.base = base as usize;
        j.writable.clear();
        j.tracked = len / PAGE;
        protect(j.base, j.tracked * PAGE, libc::PROT_READ);
    }

    /// Whether an execution trapped because a page could not be made
    /// writable (see `Journal::map_limit_hit`); clears the flag.
    pub fn take_map_limit_hit(&mut self) -> bool {
        std::mem::take(&mut self.journal().map_limit_hit)
    }
}

impl Journal {
    /// Makes every page written since the last protection read-only again.
    fn protect_writable(&mut self) {
        let mut pages = std::mem::take(&mut self.writable);
        pages.sort_unstable();
        pages.dedup();
        if !self.set_runs(&pages, libc::PROT_READ) {
            // Protecting runs merges mappings, so this should not fail; if
            // it does, one call over the heap needs no new mapping at all.
            protect(self.base, self.tracked * PAGE, libc::PROT_READ);
        }
        pages.clear();
        self.writable = pages;
    }

    /// Sets `prot` on the sorted `pages`, one call per run of consecutive
    /// pages. False if the kernel refused (out of memory mappings).
    fn set_runs(&self, pages: &[u32], prot: c_int) -> bool {
        let mut runs = pages.iter().copied();
        let Some(first) = runs.next() else { return true };
        let (mut start, mut end) = (first, first + 1);
        let mut ok = true;
        for p in runs.chain(std::iter::once(u32::MAX)) {
            if p == end {
                end += 1;
                continue;
            }
            ok &= try_protect(self.base + start as usize * PAGE, (end - start) as usize * PAGE, prot);
            (start, end) = (p, p.saturating_add(1));
        }
        ok
    }

    fn back_slots(&mut self, slots: usize) {
        if slots <= self.slots_usable {
            return;
        }
        assert!(
            slots * PAGE <= SAVED_RESERVE,
            "devnet: nested checkpoints saved more than {} GiB of heap pages",
            SAVED_RESERVE >> 30
        );
        protect(self.slots as usize, slots * PAGE, libc::PROT_READ | libc::PROT_WRITE);
        self.slots_usable = slots;
    }

    fn close(&mut self) {
        self.depth -= 1;
        if self.depth > 0 {
            return;
        }
        if self.saved.len() * PAGE > SAVED_KEEP {
            // SAFETY: the slots are ours and hold nothing needed any more.
            unsafe { libc::madvise(self.slots.cast(), self.slots_usable * PAGE, libc::MADV_DONTNEED) };
        }
        self.saved.clear();
    }
}

/// The fault handler's work: save the page at `addr` and make it writable.
/// Returns false for faults that are not ours.
///
/// # Safety
/// Called from the signal handler on the thread running the execution that
/// `journal` belongs to. Only async-signal-safe operations: a copy into
/// memory that is already backed, pushes within reserved capacity, and
/// `mprotect`.
unsafe fn on_fault(j: &mut Journal, addr: usize) -> bool {
    if j.depth == 0 || addr < j.base || addr >= j.base + j.tracked * PAGE {
        return false;
    }
    let page = (addr - j.base) / PAGE;
    let at = j.base + page * PAGE;
    let slot = j.saved.len();
    if slot >= j.slots_usable || slot == j.saved.capacity() || j.writable.len() == j.writable.capacity() {
        // Cannot happen: `begin` makes room for every tracked page. If it
        // did, making the page writable without a copy would lose the undo.
        j.broken = true;
    } else {
        // SAFETY: the slot is backed and the page is readable.
        unsafe { ptr::copy_nonoverlapping(at as *const u8, j.slots.add(slot * PAGE), PAGE) };
        j.saved.push(page as u32);
        j.writable.push(page as u32);
    }
    // SAFETY: `at` is a page of the heap this journal tracks.
    let unprotected = unsafe { libc::mprotect(at as *mut c_void, PAGE, libc::PROT_READ | libc::PROT_WRITE) == 0 };
    if !unprotected {
        // The page stays as it was (its saved copy restores the same
        // bytes); declining the fault makes wasmtime trap the execution.
        j.map_limit_hit = true;
    }
    unprotected
}

fn protect(addr: usize, len: usize, prot: c_int) {
    assert!(try_protect(addr, len, prot), "devnet: mprotect failed: {}", std::io::Error::last_os_error());
}

fn try_protect(addr: usize, len: usize, prot: c_int) -> bool {
    if len == 0 {
        return true;
    }
    // SAFETY: callers pass page-aligned ranges of memory they own: the heap
    // (inside wasmtime's mapping, which stays mapped while the instance
    // lives) or the saved-page reservation.
    unsafe { libc::mprotect(addr as *mut c_void, len, prot) == 0 }
}

impl Drop for DirtyPages {
    fn drop(&mut self) {
        let j = self.journal();
        // SAFETY: the reservation made in `new`, no longer used.
        unsafe { libc::munmap(j.slots.cast(), SAVED_RESERVE) };
    }
}
