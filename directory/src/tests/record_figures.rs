//! Stable bytes per file record at 10⁵ and 10⁶ files, stored the way
//! `commit_upload` stores them (`State::insert_file`), for issue 13's
//! directory measure. Figures, not asserts, and too slow for every run:
//! `cargo test -p depot-directory --release record_figures -- --ignored --nocapture`.

use crate::model::State;
use crate::model::files::FileRecord;
use candid::Principal;
use depot_api::directory::{FileMeta, FileStatus};
use depot_api::{FileId, FileKey};
use ic_stable_structures::DefaultMemoryImpl;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

const NAMES: [&str; 4] = ["IMG_2024", "report final", "holiday-video", "notes"];
const TYPES: [(&str, &str); 4] =
    [("jpg", "image/jpeg"), ("pdf", "application/pdf"), ("mp4", "video/mp4"), ("md", "text/x-markdown")];

/// A file as users make them: names of 10–30 bytes, common and uncommon
/// types, a declared SHA-256, ten buckets, `owners` users.
pub(super) fn record(n: u64, owners: u64) -> FileRecord {
    let h: [u8; 32] = Sha256::digest(n.to_le_bytes()).into();
    let (ext, mime) = TYPES[(n % 4) as usize];
    let created = 1_700_000_000_000_000_000 + n * 1_000_000_000;
    FileRecord {
        meta: FileMeta {
            file_id: FileId::new(
                Principal::self_authenticating((n % owners).to_le_bytes()),
                FileKey(h[..16].try_into().unwrap()),
            ),
            name: format!("{} {n}.{ext}", NAMES[(n % 4) as usize]),
            mime: mime.into(),
            size_bytes: 1 + h[16] as u64 * 100_000,
            chunk_size: 2_000_000,
            chunk_count: 1,
            created_at_ns: created,
            updated_at_ns: created + 4_000_000_000,
            status: FileStatus::Ready,
            sha256: Some(ByteBuf::from(h.to_vec())),
            bucket: Principal::from_slice(&[0, 0, 0, 0, 0, 0x10, 0, (n % 10) as u8, 1, 1]),
            delete_at_ns: None,
        },
        upload_id: None,
        suspended: false,
    }
}

fn bytes_of(s: &State, name: &str) -> u64 {
    s.memory_bytes().into_iter().find(|(n, _)| n == name).expect("a named memory").1
}

#[test]
#[ignore = "a figure; run with --release --ignored --nocapture"]
fn record_figures() {
    for owners in [1, 1_000] {
        let mut s = State::load_for_tests(DefaultMemoryImpl::default());
        let mut stored = 0u64;
        let (mut last_bytes, mut last_files) = (0, 0);
        for target in [100_000u64, 1_000_000] {
            while stored < target {
                s.insert_file(record(stored, owners));
                stored += 1;
            }
            let (files, index) = (bytes_of(&s, "files"), bytes_of(&s, "file_index"));
            let numbers = bytes_of(&s, "owner_numbers") + bytes_of(&s, "numbered_owners");
            let all = files + index + numbers;
            println!(
                "{owners:>5} owners, {target:>9} files: files {:.0} B/file, file_index {:.0} B/file, \
                 owner numbers {:.1} B/file, together {:.0} B/file (growth since the last figure: {:.0} B/file)",
                files as f64 / target as f64,
                index as f64 / target as f64,
                numbers as f64 / target as f64,
                all as f64 / target as f64,
                (all - last_bytes) as f64 / (target - last_files) as f64,
            );
            (last_bytes, last_files) = (all, target);
        }
    }
}
