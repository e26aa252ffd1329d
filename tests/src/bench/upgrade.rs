//! Section 5: the bucket's `post_upgrade` (certification tree rebuild) per
//! file and per chunk, extrapolated to the upgrade instruction budget, and
//! the wasm heap the rebuilt tree takes per small file.

use super::*;
use crate::wasm::canister_wasm;
use depot_api::methods::directory as dm;
use depot_devnet::InstallMode;

/// Instructions an upgrade may take on the IC.
const UPGRADE_BUDGET: f64 = 300e9;
/// Chunk size here: small, so many chunks cost little to upload.
const CHUNK: usize = 64 * KIB;
/// Single-chunk files in the first bucket.
const SMALL_FILES: usize = 2_000;
/// Large files in the second bucket, and chunks in each.
const LARGE_FILES: usize = 4;
const CHUNKS_PER_LARGE_FILE: usize = 250;

fn set_state(dev: &mut Devnet, d: &Deployment, bucket: Principal, state: BucketState) -> Result<()> {
    let r: Result<(), DirectoryError> = {
        let out = dev.update(d.admin, d.directory, dm::ADMIN_SET_BUCKET_STATE.name, &Encode!(&bucket, &state)?)?;
        Decode!(&reply("admin_set_bucket_state", &out)?, Result<(), DirectoryError>)?
    };
    r.map_err(|e| anyhow!("admin_set_bucket_state: {e}"))
}

fn upgrade_instructions(dev: &mut Devnet, d: &Deployment, bucket: Principal) -> Result<u64> {
    let wasm = canister_wasm("bucket")?;
    dev.install_code(d.admin, bucket, &wasm, &Encode!()?, InstallMode::Upgrade)?;
    Ok(dev.last_instructions())
}

pub fn run() -> Result<()> {
    let (mut dev, d) = setup(CHUNK as u32, 2)?;
    let (small, large) = (d.buckets[0], d.buckets[1]);
    let empty = upgrade_instructions(&mut dev, &d, small)?;
    let empty_heap = dev.heap_size(small);
    // Park the second bucket so every small file lands in the first.
    set_state(&mut dev, &d, large, BucketState::Draining)?;
    for i in 0..SMALL_FILES {
        upload(&mut dev, &d, format!("file {i}").as_bytes(), &format!("f{i}.txt"))?;
        // Within the highest start_upload rate the bench user is set to.
        if i % 500 == 499 {
            dev.advance_time(std::time::Duration::from_secs(depot_api::limits::RATE_WINDOW_SECS + 1));
        }
    }
    let with_files = upgrade_instructions(&mut dev, &d, small)?;
    let per_file = (with_files - empty) as f64 / SMALL_FILES as f64;
    // A fresh heap after each upgrade: the difference is the rebuilt tree.
    let heap_per_file = dev.heap_size(small).saturating_sub(empty_heap) as f64 / SMALL_FILES as f64;
    set_state(&mut dev, &d, small, BucketState::Draining)?;
    set_state(&mut dev, &d, large, BucketState::Writable)?;
    for i in 0..LARGE_FILES {
        upload(&mut dev, &d, &pattern(CHUNKS_PER_LARGE_FILE * CHUNK, i as u8), &format!("big{i}.bin"))?;
    }
    let with_chunks = upgrade_instructions(&mut dev, &d, large)?;
    let chunks = (LARGE_FILES * CHUNKS_PER_LARGE_FILE) as f64;
    let per_chunk = ((with_chunks - empty) as f64 - LARGE_FILES as f64 * per_file) / chunks;

    heading("5. Bucket post_upgrade (certification tree rebuild)");
    row("empty bucket", minstr(empty as f64));
    row(&format!("per file ({SMALL_FILES} single-chunk files)"), minstr(per_file));
    row("wasm heap per single-chunk file, after the rebuild", format!("{heap_per_file:>10.0} B"));
    println!(
        "  (whole 64 KiB pages: {} -> {} bytes); the 4 GiB heap would hold about {:.1} M such files",
        thousands(empty_heap),
        thousands(dev.heap_size(small)),
        4.0 * 1024.0 * 1024.0 * 1024.0 / heap_per_file.max(1.0) / 1e6
    );
    row(
        &format!("per extra chunk ({LARGE_FILES} files of {CHUNKS_PER_LARGE_FILE} chunks)"),
        minstr(per_chunk.max(0.0)),
    );
    let max_files = (UPGRADE_BUDGET - empty as f64) / per_file;
    // Below a thousand instructions a chunk, the rebuild is bounded by files.
    if per_chunk >= 1e3 {
        let max_chunks = (UPGRADE_BUDGET - empty as f64) / per_chunk;
        println!(
            "  one message would reach the 300 B upgrade budget at about {:.0} K chunks ({:.0} GiB at 1 MiB chunks)",
            max_chunks / 1e3,
            max_chunks / 1024.0
        );
    } else {
        println!(
            "  a file's further chunks cost the rebuild next to nothing: it reads each file's stored response set"
        );
    }
    println!(
        "  one message would reach the 300 B upgrade budget at about {:.0} K single-chunk files;",
        max_files / 1e3
    );
    println!("  post_upgrade stops at 150 B and timer steps finish the rebuild (docs/storage.md section 4)");
    Ok(())
}
