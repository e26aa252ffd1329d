//! Section 3: the directory with many files stored. One user's files are
//! seeded through the real path (start_upload, get_upload_token, put_chunk,
//! commit_upload) on devnet's library API; at each checkpoint the section
//! measures start_upload, commit_upload, list_files pages and the stable
//! memory of each structure.

use super::*;
use crate::deploy::query;
use depot_api::directory::MemoryStat;
use depot_api::limits::{DEFAULT_START_UPLOAD_PER_MINUTE, RATE_WINDOW_SECS};
use depot_api::methods::directory as dm;
use std::time::{Duration, Instant};

/// Files stored at each measurement (one user owns them all). The second
/// can be lowered for a quicker run: `DEPOT_BENCH_FILES=20000`.
const CHECKPOINTS: [usize; 2] = [1_000, 100_000];
const FILES_ENV: &str = "DEPOT_BENCH_FILES";

fn checkpoints() -> Result<[usize; 2]> {
    let [small, large] = CHECKPOINTS;
    match std::env::var(FILES_ENV) {
        Err(_) => Ok(CHECKPOINTS),
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > small => Ok([small, n]),
            _ => Err(anyhow!("{FILES_ENV} must be a number of files above {small} (default {large})")),
        },
    }
}
/// Bytes per seeded file.
const SEED_FILE_BYTES: usize = 32;
/// Buckets the files spread over.
const BUCKETS: usize = 2;
/// `list_files` page size measured.
const PAGE: u32 = 100;
/// Uploads measured at each checkpoint (start_upload, commit_upload means).
const MEASURED_UPLOADS: usize = 5;
/// Seeding progress is printed every this many files.
const PROGRESS_EVERY: usize = 5_000;

/// The start_upload rate limit stays at its default: a raised limit would
/// keep every start of the last minute in the user's record (the window
/// holds up to `start_upload_per_minute` timestamps), so the record, and
/// what start_upload and commit_upload pay to read and write it, would
/// grow with the seeding speed. Instead devnet's clock moves on by this much
/// before each start, as for a user uploading at the allowed rate.
const CLOCK_STEP: Duration = Duration::from_secs(RATE_WINDOW_SECS / DEFAULT_START_UPLOAD_PER_MINUTE as u64 + 1);

/// Every limit but the rate raised (see `CLOCK_STEP`).
fn limits() -> DirectoryInit {
    DirectoryInit { start_upload_per_minute: None, ..raised_limits(depot_api::limits::CHUNK_SIZE) }
}

struct Checkpoint {
    files: usize,
    start_upload: f64,
    commit_upload: f64,
    list_first: u64,
    list_deep: u64,
    memory: Vec<MemoryStat>,
    stable_total: u64,
    directory_heap: u64,
    /// Wasm heap of all buckets together (mostly the certification tree).
    buckets_heap: u64,
}

pub fn run() -> Result<()> {
    let mut dev = new_devnet();
    let d = deploy_on(&mut dev, BUCKETS, limits())?;
    heading(&format!("3. Directory with many files (one user, {SEED_FILE_BYTES} B files over {BUCKETS} buckets)"));
    println!("  seeding through start_upload, get_upload_token, put_chunk, commit_upload;");
    println!("  devnet's clock moves {} s before each start (default rate limit)", CLOCK_STEP.as_secs());
    let began = Instant::now();
    let mut stored = 0;
    let mut seeding = Duration::ZERO;
    let mut points = vec![];
    let checkpoints = checkpoints()?;
    for target in checkpoints {
        let t = Instant::now();
        seed(&mut dev, &d, stored, target, began)?;
        seeding += t.elapsed();
        stored = target;
        let point = measure(&mut dev, &d, stored)?;
        stored += MEASURED_UPLOADS;
        points.push(point);
    }
    let seeded = stored - checkpoints.len() * MEASURED_UPLOADS;
    println!(
        "  seeded {} files in {:.0} s: {:.0} files/s",
        thousands(seeded as u64),
        seeding.as_secs_f64(),
        seeded as f64 / seeding.as_secs_f64()
    );
    report(&points);
    Ok(())
}

fn seed(dev: &mut Devnet, d: &Deployment, from: usize, to: usize, began: Instant) -> Result<()> {
    for i in from..to {
        dev.advance_time(CLOCK_STEP);
        let mut data = format!("depot-bench seed file {i:010}").into_bytes();
        data.resize(SEED_FILE_BYTES, b'.');
        upload(dev, d, &data, &format!("seed-{i:06}.txt"))?;
        if (i + 1) % PROGRESS_EVERY == 0 {
            let s = began.elapsed().as_secs_f64();
            println!(
                "  … {:>7} files stored, {:>5.0} s, {:>4.0} files/s",
                thousands(i as u64 + 1),
                s,
                (i + 1) as f64 / s
            );
        }
    }
    Ok(())
}

fn list_page(dev: &mut Devnet, d: &Deployment, cursor: Option<ByteBuf>, limit: u32) -> Result<(ListFilesRes, u64)> {
    let req = ListFilesReq { cursor, limit: Some(limit), include_pending: None, name_contains: None };
    let out = dev.query(user(), d.directory, dm::LIST_FILES.name, &Encode!(&req)?)?;
    let page = Decode!(&reply("list_files", &out)?, ListFilesResult)?.map_err(|e| anyhow!("list_files: {e}"))?;
    Ok((page, out.instructions))
}

/// The cursor after the first `position` files, by paging through.
fn cursor_at(dev: &mut Devnet, d: &Deployment, position: usize) -> Result<ByteBuf> {
    let max = depot_api::limits::MAX_LIST_LIMIT as usize;
    let (mut cursor, mut seen) = (None, 0);
    while seen < position {
        let (page, _) = list_page(dev, d, cursor, (position - seen).min(max) as u32)?;
        seen += page.files.len();
        cursor = Some(page.next.ok_or_else(|| anyhow!("list_files ended at {seen} of {position}"))?);
    }
    cursor.ok_or_else(|| anyhow!("no cursor at {position}"))
}

fn measure(dev: &mut Devnet, d: &Deployment, files: usize) -> Result<Checkpoint> {
    let memory: Vec<MemoryStat> = {
        let r: Result<Vec<MemoryStat>, DirectoryError> =
            query(dev, d.admin, d.directory, dm::ADMIN_GET_MEMORY_STATS, ())?;
        r.map_err(|e| anyhow!("admin_get_memory_stats: {e}"))?
    };
    let stable_total = dev.stable_memory_size(d.directory);
    let directory_heap = dev.heap_size(d.directory);
    let buckets_heap = d.buckets.iter().map(|b| dev.heap_size(*b)).sum();
    let (first, list_first) = list_page(dev, d, None, PAGE)?;
    let cursor = cursor_at(dev, d, files / 2)?;
    let (deep, list_deep) = list_page(dev, d, Some(cursor), PAGE)?;
    if first.files.len() != PAGE as usize || deep.files.len() != PAGE as usize {
        return Err(anyhow!("list_files returned {} and {} files", first.files.len(), deep.files.len()));
    }
    let (mut starts, mut commits) = (vec![], vec![]);
    for i in 0..MEASURED_UPLOADS {
        dev.advance_time(CLOCK_STEP);
        let up = upload(dev, d, &pattern(SEED_FILE_BYTES, i as u8), &format!("measured-{files}-{i}.txt"))?;
        starts.push(up.start_instructions);
        commits.push(up.commit_instructions);
    }
    Ok(Checkpoint {
        files,
        start_upload: mean(&starts),
        commit_upload: mean(&commits),
        list_first,
        list_deep,
        memory,
        stable_total,
        directory_heap,
        buckets_heap,
    })
}

fn report(points: &[Checkpoint]) {
    let cols = |f: &dyn Fn(&Checkpoint) -> String| points.iter().map(f).collect::<Vec<_>>().join(" ");
    println!();
    row("files stored", cols(&|p| format!("{:>16}", thousands(p.files as u64))));
    row(&format!("start_upload (mean of {MEASURED_UPLOADS})"), cols(&|p| instr_col(p.start_upload)));
    row(&format!("commit_upload (mean of {MEASURED_UPLOADS}; directory side)"), cols(&|p| instr_col(p.commit_upload)));
    row(&format!("list_files({PAGE}), first page"), cols(&|p| instr_col(p.list_first as f64)));
    row(&format!("list_files({PAGE}), page after half the files"), cols(&|p| instr_col(p.list_deep as f64)));
    row("stable memory, whole canister (bytes)", cols(&|p| format!("{:>16}", thousands(p.stable_total))));
    for (i, stat) in points[0].memory.iter().enumerate() {
        row(&format!("  {} (bytes)", stat.name), cols(&|p| format!("{:>16}", thousands(p.memory[i].bytes))));
    }
    row("directory wasm heap (bytes)", cols(&|p| format!("{:>16}", thousands(p.directory_heap))));
    row(
        &format!("wasm heap of the {BUCKETS} buckets together (bytes)"),
        cols(&|p| format!("{:>16}", thousands(p.buckets_heap))),
    );
    let (a, b) = (&points[0], &points[points.len() - 1]);
    let added = (b.files - a.files) as f64;
    let sum = |p: &Checkpoint| p.memory.iter().map(|m| m.bytes).sum::<u64>();
    println!(
        "\n  stable memory growth per file, {} -> {} files:",
        thousands(a.files as u64),
        thousands(b.files as u64)
    );
    row("all structures", format!("{:>10.0} B/file", (sum(b) - sum(a)) as f64 / added));
    row(
        "whole canister (grows in 8 MiB memory-manager buckets)",
        format!("{:>10.0} B/file", (b.stable_total - a.stable_total) as f64 / added),
    );
    for (before, after) in a.memory.iter().zip(&b.memory) {
        if after.bytes > before.bytes {
            row(&format!("  {}", after.name), format!("{:>10.0} B/file", (after.bytes - before.bytes) as f64 / added));
        }
    }
    println!("  wasm heap growth per file (never shrinks; whole 64 KiB pages):");
    row("directory", format!("{:>10.0} B/file", b.directory_heap.saturating_sub(a.directory_heap) as f64 / added));
    row(
        "buckets (certification tree)",
        format!("{:>10.0} B/file", b.buckets_heap.saturating_sub(a.buckets_heap) as f64 / added),
    );
}

fn instr_col(n: f64) -> String {
    format!("{:>16}", format!("{:.2} M", n / 1e6))
}
