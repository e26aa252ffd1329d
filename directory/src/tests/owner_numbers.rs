//! The file index names owners by number (`FilePlace::Numbered`); indexes
//! written by earlier versions name them inline and keep working.

use super::record_figures::record;
use crate::model::State;
use crate::model::files::FileRecord;
use crate::model::memory::{FILE_INDEX_MEMORY, FILES_MEMORY};
use crate::model::storable::{FilePlace, InlinePlace, ListKey};
use depot_api::FileKey;
use ic_stable_structures::memory_manager::MemoryManager;
use ic_stable_structures::{DefaultMemoryImpl, StableBTreeMap};

fn key_of(r: &FileRecord) -> FileKey {
    r.meta.file_id.key().unwrap()
}

#[test]
fn owners_are_numbered_once_in_order_and_keep_their_numbers_across_an_upgrade() {
    let memory = DefaultMemoryImpl::default();
    let mut s = State::load_for_tests(memory.clone());
    // Three owners, files interleaved: record(n, 3) belongs to owner n % 3.
    let records: Vec<FileRecord> = (0..9).map(|n| record(n, 3)).collect();
    for r in &records {
        s.insert_file(r.clone());
    }
    let owners: Vec<_> = records[..3].iter().map(|r| r.meta.file_id.owner).collect();
    assert_eq!(s.numbered_owners().collect::<Vec<_>>(), vec![(0, owners[0]), (1, owners[1]), (2, owners[2])]);
    for (i, r) in records.iter().enumerate() {
        let place = s.file_index.get(&key_of(r).0).unwrap();
        assert_eq!(place, FilePlace::Numbered { owner_number: (i % 3) as u64, created_at_ns: r.meta.created_at_ns });
    }
    super::invariants::check_file_index(&s);
    drop(s);

    // An upgrade opens the same memory: the numbers stand, a known owner's
    // next file takes its number, a new owner the next one.
    let mut s = State::load_for_tests(memory);
    for r in &records {
        assert_eq!(s.file_by_key(&key_of(r).0).map(|(_, f)| f), Some(r.clone()));
    }
    let again = record(10, 3);
    s.insert_file(again.clone());
    assert!(matches!(s.file_index.get(&key_of(&again).0), Some(FilePlace::Numbered { owner_number: 1, .. })));
    let newcomer = record(11, 4); // owner 11 % 4 = 3, new
    s.insert_file(newcomer.clone());
    assert!(matches!(s.file_index.get(&key_of(&newcomer).0), Some(FilePlace::Numbered { owner_number: 3, .. })));
    // An owner whose files are all gone keeps its number.
    for r in records.iter().step_by(3) {
        assert!(s.remove_file(&key_of(r)).is_some());
    }
    assert_eq!(s.numbered_owners().count(), 4);
    super::invariants::check_file_index(&s);
}

/// A state written by the previous version (files placed inline in the
/// index) opens: its files are found, listed, updated and deleted, and the
/// files added after it are placed by number beside them.
#[test]
fn a_state_with_inline_places_opens_and_mixes_with_numbered_ones() {
    let memory = DefaultMemoryImpl::default();
    let old: Vec<FileRecord> = (0..40).map(|n| record(n, 2)).collect();
    {
        let manager = MemoryManager::init_with_bucket_size(memory.clone(), 1);
        let mut index: StableBTreeMap<[u8; 16], InlinePlace, _> = StableBTreeMap::init(manager.get(FILE_INDEX_MEMORY));
        let mut files = crate::model::files::FileTable::init(manager.get(FILES_MEMORY));
        for r in &old {
            let m = &r.meta;
            let key = ListKey::new(m.file_id.owner, m.created_at_ns, key_of(r));
            index.insert(
                key_of(r).0,
                InlinePlace(FilePlace::Owner { owner: m.file_id.owner, created_at_ns: m.created_at_ns }),
            );
            files.insert(key, r.clone());
        }
    }
    let mut s = State::load_for_tests(memory);
    assert_eq!(s.numbered_owners().count(), 0, "numbers are given to owners as they add files");
    let new: Vec<FileRecord> = (40..400).map(|n| record(n, 2)).collect();
    for r in &new {
        s.insert_file(r.clone());
    }
    super::invariants::check_file_index(&s);
    for r in old.iter().chain(&new) {
        let (list_key, f) = s.file_by_key(&key_of(r).0).expect("every file is found");
        assert_eq!(&f, r);
        assert_eq!(list_key.owner(), r.meta.file_id.owner);
    }
    assert!(matches!(s.file_index.get(&key_of(&old[5]).0), Some(FilePlace::Owner { .. })));
    // An owner's listing holds its old and new files in creation order.
    let owner = old[0].meta.file_id.owner;
    let listed: Vec<u64> =
        s.files.range(ListKey::first_of(owner)..=ListKey::last_of(owner)).map(|(k, _)| k.created_at_ns).collect();
    assert_eq!(listed.len(), 200);
    assert!(listed.is_sorted());
    // Old entries are removed as new ones are.
    for r in old.iter().chain(&new).step_by(2) {
        assert_eq!(s.remove_file(&key_of(r)).as_ref(), Some(r));
        assert!(s.file_by_key(&key_of(r).0).is_none());
    }
    assert_eq!(s.files.len(), 200);
    super::invariants::check_file_index(&s);
}
