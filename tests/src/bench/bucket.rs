//! Sections 1 and 2: the bucket's upload and serving paths, on a bucket built
//! with the `bench` feature (the release code plus `bench_sha256`).

use super::*;
use crate::deploy::add_bucket;
use crate::wasm::bench_bucket_wasm;
use depot_api::methods::directory as dm;
use ic_http_certification::HttpResponse;

/// Chunk size of this deployment: 1 MiB, the production default
/// (`depot_api::limits::CHUNK_SIZE`); figures below are per chunk.
const CHUNK: usize = MIB;
/// A multi-chunk file: its `put_chunk`s are averaged, its chunks served as 206.
const CHUNKED_FILE_BYTES: usize = 8 * MIB;
/// The chunk a Range request starts at (chunk-aligned: a certified 206).
const RANGE_CHUNK: usize = 3;
/// Single-chunk files, answered whole (200) to a plain GET.
const SINGLE_CHUNK_FILES: [usize; 3] = [KIB, 64 * KIB, MIB];

pub fn run() -> Result<()> {
    println!("building the bucket with --features bench (target dir {})", crate::wasm::bench_target_dir().display());
    let wasm = bench_bucket_wasm()?;
    let mut dev = new_devnet();
    let mut d = deploy_on(&mut dev, 0, raised_limits(CHUNK as u32))?;
    let bucket = add_bucket(&mut dev, &mut d, &wasm)?;

    let data = pattern(CHUNKED_FILE_BYTES, 1);
    let up = upload(&mut dev, &d, &data, "bench.bin")?;
    upload_path(&mut dev, bucket, &data[..CHUNK], &up.put_instructions)?;

    heading("2. Bucket http_request (query, certified), per response");
    let whole = http_get(&mut dev, &d, &up.file_id, bucket, None)?;
    whole.print(&format!("{} file, plain GET (chunk 0)", size_label(CHUNKED_FILE_BYTES)));
    let range = format!("bytes={}-", RANGE_CHUNK * CHUNK);
    http_get(&mut dev, &d, &up.file_id, bucket, Some(&range))?.print(&format!("same file, Range: {range}"));
    for size in SINGLE_CHUNK_FILES {
        let f = upload(&mut dev, &d, &pattern(size, 2), &format!("single-{size}.bin"))?;
        http_get(&mut dev, &d, &f.file_id, bucket, None)?
            .print(&format!("{} single-chunk file, plain GET", size_label(size)));
    }
    Ok(())
}

/// Section 1: `put_chunk` beside a bare SHA-256 of one chunk's bytes.
fn upload_path(dev: &mut Devnet, bucket: Principal, chunk: &[u8], puts: &[u64]) -> Result<()> {
    let out = dev.update(user(), bucket, "bench_sha256", &Encode!(&ByteBuf::from(chunk.to_vec()))?)?;
    let (digest, digest_instructions) = Decode!(&reply("bench_sha256", &out)?, ByteBuf, u64)?;
    if digest.as_slice() != Sha256::digest(chunk).as_slice() {
        return Err(anyhow!("bench_sha256 returned a wrong digest"));
    }
    let put = mean(puts);
    let (last, absorbed) = puts.split_last().ok_or_else(|| anyhow!("no put_chunk measured"))?;
    heading("1. Bucket upload path, per 1 MiB chunk (bucket built with --features bench)");
    row(&format!("put_chunk, mean of the {} chunks of one file", puts.len()), minstr(put));
    row(&format!("  chunks 0-{}: also absorbed into the whole-file hash", absorbed.len() - 1), minstr(mean(absorbed)));
    row(&format!("  chunk {}, the last: absorbed at commit", absorbed.len()), minstr(*last as f64));
    row("bench_sha256 update, whole call (decodes the 1 MiB arg)", minstr(out.instructions as f64));
    row("  of which the SHA-256 digest alone", minstr(digest_instructions as f64));
    row("put_chunk mean / SHA-256 digest", format!("{:>10.2} x", put / digest_instructions as f64));
    row("put_chunk mean / bench_sha256 whole call", format!("{:>10.2} x", put / out.instructions as f64));
    Ok(())
}

struct Served {
    status: u16,
    body_bytes: usize,
    instructions: u64,
}

impl Served {
    fn print(&self, label: &str) {
        row(
            label,
            format!(
                "{}   status {}, body {} B",
                minstr(self.instructions as f64),
                self.status,
                thousands(self.body_bytes as u64)
            ),
        );
    }
}

/// `http_request` for the file's signed URL, as the gateway sends it.
fn http_get(
    dev: &mut Devnet,
    d: &Deployment,
    file_id: &depot_api::FileId,
    bucket: Principal,
    range: Option<&str>,
) -> Result<Served> {
    let url_req = GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: None };
    let url: Result<DownloadUrl, DirectoryError> =
        call(dev, user(), d.directory, dm::GET_DOWNLOAD_URL, (url_req.clone(),))?;
    let url = url.map_err(|e| anyhow!("get_download_url: {e}"))?.url;
    let path = &url[url.find("/f/").ok_or_else(|| anyhow!("no path in {url}"))?..];
    let headers = range.map(|r| vec![("Range".to_string(), r.to_string())]).unwrap_or_default();
    let req = ic_http_certification::HttpRequest::get(path).with_headers(headers).build();
    let out = dev.query(Principal::anonymous(), bucket, "http_request", &Encode!(&req)?)?;
    let resp = Decode!(&reply("http_request", &out)?, HttpResponse)?;
    Ok(Served { status: resp.status_code().as_u16(), body_bytes: resp.body().len(), instructions: out.instructions })
}
