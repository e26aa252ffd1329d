//! Sections 1 and 2: the bucket's upload and serving paths, on a bucket built
//! with the `bench` feature (the release code plus `bench_sha256`).

use super::*;
use crate::deploy::add_bucket;
use crate::wasm::bench_bucket_wasm;
use depot_api::methods::directory as dm;
use ic_http_certification::HttpResponse;
use ic_utils::interfaces::http_request::{HttpRequestStreamingCallbackAny, StreamingStrategy, Token};

/// Chunk size of this deployment: 1 MiB, so that figures read per MiB and
/// stay comparable across releases (the production default,
/// `depot_api::limits::CHUNK_SIZE`, is 2,000,000 bytes); figures below are
/// per chunk.
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
    // A round, as on any network: the bucket's timer fetches its
    // streaming-token secret from `raw_rand`, so the callbacks measured
    // below check the bucket's seal, as they do in production.
    dev.tick();

    let data = pattern(CHUNKED_FILE_BYTES, 1);
    let executed = |dev: &Devnet| dev.executed_instructions(d.directory) + dev.executed_instructions(bucket);
    let before = executed(&dev);
    let up = upload(&mut dev, &d, &data, "bench.bin")?;
    let whole_upload = executed(&dev) - before;
    upload_path(&mut dev, bucket, &data[..CHUNK], &up.put_instructions, whole_upload)?;

    heading("2. Bucket http_request (query, certified), per response");
    let whole = http_get(&mut dev, &d, &up.file_id, bucket, None)?;
    whole.print(&format!("{} file, plain GET (chunk 0)", size_label(CHUNKED_FILE_BYTES)));
    let range = format!("bytes={}-", RANGE_CHUNK * CHUNK);
    let ranged = http_get(&mut dev, &d, &up.file_id, bucket, Some(&range))?;
    ranged.print(&format!("same file, Range: {range}"));
    ranged.print_phases();
    let bare = bare_read(&mut dev, bucket, &up.file_id, RANGE_CHUNK as u32)?;
    row("bench_read: that chunk read bare from stable memory, replied as a blob", minstr(bare as f64));
    row("certified 206 / bare read", format!("{:>10.2} x", ranged.instructions as f64 / bare as f64));
    for size in SINGLE_CHUNK_FILES {
        let f = upload(&mut dev, &d, &pattern(size, 2), &format!("single-{size}.bin"))?;
        let served = http_get(&mut dev, &d, &f.file_id, bucket, None)?;
        served.print(&format!("{} single-chunk file, plain GET", size_label(size)));
        if size == KIB {
            served.print_phases();
        }
    }
    serving_per_mib(&mut dev, &d, &up.file_id, bucket)
}

/// Instructions per served MiB on each serving path of a multi-chunk file:
/// the certified chunk of a plain GET, the chunk a media element's seek
/// gets, the exact answer of an upgraded range, and each streaming callback.
fn serving_per_mib(dev: &mut Devnet, d: &Deployment, file_id: &depot_api::FileId, bucket: Principal) -> Result<()> {
    heading("2b. Serving paths of that file, instructions per served MiB");
    let per_mib = |instructions: u64, bytes: usize| instructions as f64 * MIB as f64 / bytes.max(1) as f64;
    let show = |label: &str, instructions: u64, bytes: usize| {
        row(label, format!("{}   {} per MiB", minstr(instructions as f64), minstr(per_mib(instructions, bytes))))
    };
    let path = signed_path(dev, d, file_id)?;
    let get = |dev: &mut Devnet, headers: Vec<(String, String)>| -> Result<(HttpResponse<'static>, u64)> {
        let req = ic_http_certification::HttpRequest::get(path.clone()).with_headers(headers).build();
        let out = dev.query(Principal::anonymous(), bucket, "http_request", &Encode!(&req)?)?;
        Ok((Decode!(&reply("http_request", &out)?, HttpResponse)?, out.instructions))
    };
    let (plain, n) = get(dev, vec![])?;
    show("plain GET: certified 206 of chunk 0 (query)", n, plain.body().len());
    let seek = format!("bytes={}-", RANGE_CHUNK * CHUNK + 12_345);
    let media = vec![("Range".to_string(), seek.clone()), ("Sec-Fetch-Dest".to_string(), "video".to_string())];
    let (m, n) = get(dev, media)?;
    if m.status_code().as_u16() != 206 || m.upgrade() == Some(true) {
        return Err(anyhow!("a media seek was not answered by the query"));
    }
    show(&format!("<video> seek, Range: {seek}: certified chunk (query)"), n, m.body().len());

    let exact = vec![("Range".to_string(), seek.clone())];
    let (q, _) = get(dev, exact.clone())?;
    if q.upgrade() != Some(true) {
        return Err(anyhow!("an exact range was not upgraded"));
    }
    let req = ic_http_certification::HttpRequest::get(path.clone()).with_headers(exact).build_update();
    let out = dev.update(Principal::anonymous(), bucket, "http_request_update", &Encode!(&req)?)?;
    let resp = Decode!(&reply("http_request_update", &out)?, StreamingReply)?;
    show(&format!("curl -C - style Range: {seek}: update reply"), out.instructions, resp.body.len());
    let mut token = resp.streaming_strategy.map(|StreamingStrategy::Callback(c)| c.token);
    let (mut calls, mut total, mut bytes) = (0u64, 0u64, 0usize);
    while let Some(t) = token {
        // The token travels as the untyped value it arrived as (as ic-utils sends it).
        let arg = candid::IDLArgs::new(&[t.0]).to_bytes()?;
        let out = dev.query(Principal::anonymous(), bucket, "http_request_streaming_callback", &arg)?;
        let next = Decode!(&reply("http_request_streaming_callback", &out)?, StreamingCallbackHttpResponse)?;
        calls += 1;
        total += out.instructions;
        bytes += next.body.len();
        token = next.token;
    }
    if calls == 0 {
        return Err(anyhow!("the exact range did not stream"));
    }
    show(&format!("  then each streaming callback (mean of {calls}, query)"), total / calls, bytes / calls as usize);
    Ok(())
}

fn signed_path(dev: &mut Devnet, d: &Deployment, file_id: &depot_api::FileId) -> Result<String> {
    let url_req = GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: None };
    let url: Result<DownloadUrl, DirectoryError> = call(dev, user(), d.directory, dm::GET_DOWNLOAD_URL, (url_req,))?;
    let url = url.map_err(|e| anyhow!("get_download_url: {e}"))?.url;
    Ok(url[url.find("/f/").ok_or_else(|| anyhow!("no path in {url}"))?..].to_string())
}

/// The bucket's `http_request_update` reply and callbacks, decoded as the
/// gateway decodes them (ic-utils' types with an opaque token).
type StreamingReply = ic_utils::interfaces::http_request::HttpResponse<Token, HttpRequestStreamingCallbackAny>;
type StreamingCallbackHttpResponse = ic_utils::interfaces::http_request::StreamingCallbackHttpResponse<Token>;

/// Section 1: `put_chunk` beside a bare SHA-256 of one chunk's bytes.
/// `whole_upload`: every replicated execution of the directory and the
/// bucket from `start_upload` to the end of `commit_upload`.
fn upload_path(dev: &mut Devnet, bucket: Principal, chunk: &[u8], puts: &[u64], whole_upload: u64) -> Result<()> {
    let out = dev.update(user(), bucket, "bench_sha256", &Encode!(&ByteBuf::from(chunk.to_vec()))?)?;
    let (digest, digest_instructions) = Decode!(&reply("bench_sha256", &out)?, ByteBuf, u64)?;
    if digest.as_slice() != Sha256::digest(chunk).as_slice() {
        return Err(anyhow!("bench_sha256 returned a wrong digest"));
    }
    let put = mean(puts);
    let (last, absorbed) = puts.split_last().ok_or_else(|| anyhow!("no put_chunk measured"))?;
    heading("1. Bucket upload path, per 1 MiB chunk (bucket built with --features bench)");
    row(&format!("put_chunk, mean of the {} chunks of one file", puts.len()), minstr(put));
    row(
        &format!("  chunks 0-{}: the whole-file hash advanced in the same pass", absorbed.len() - 1),
        minstr(mean(absorbed)),
    );
    row(&format!("  chunk {}, the last: its whole blocks too", absorbed.len()), minstr(*last as f64));
    row("bench_sha256 update, whole call (decodes the 1 MiB arg)", minstr(out.instructions as f64));
    row("  of which the SHA-256 digest alone", minstr(digest_instructions as f64));
    row("put_chunk mean / SHA-256 digest", format!("{:>10.2} x", put / digest_instructions as f64));
    row("put_chunk mean / bench_sha256 whole call", format!("{:>10.2} x", put / out.instructions as f64));
    let per_mib = whole_upload as f64 * MIB as f64 / (puts.len() * chunk.len()) as f64;
    row("whole upload, every call (directory + bucket), per MiB", minstr(per_mib));
    let (raw, gz) = (crate::wasm::canister_wasm("bucket")?.len(), crate::wasm::embedded_bucket_wasm()?.len());
    row(
        "release bucket wasm (gzipped: what the directory embeds)",
        format!("{} B, gzipped {} B", thousands(raw as u64), thousands(gz as u64)),
    );
    Ok(())
}

struct Served {
    status: u16,
    body_bytes: usize,
    instructions: u64,
    /// `bench_http_phases` for the same request: each phase's instructions.
    phases: Vec<(String, u64)>,
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

    /// Where the instructions went: the phases `phases::mark` notes, and
    /// what the real call spent beyond them (sending the reply).
    fn print_phases(&self) {
        for (phase, spent) in &self.phases {
            row(&format!("  {phase}"), format!("{:>8} k", thousands(spent / 1000)));
        }
        let marked: u64 = self.phases.iter().map(|(_, n)| n).sum();
        let rest = self.instructions.saturating_sub(marked);
        row("  reply sent (the call's total beyond the phases)", format!("{:>8} k", thousands(rest / 1000)));
    }
}

/// Instructions of `bench_read`: chunk `index` of the file, read and replied
/// with nothing else (the floor of serving it).
fn bare_read(dev: &mut Devnet, bucket: Principal, file_id: &depot_api::FileId, index: u32) -> Result<u64> {
    let arg = Encode!(&ByteBuf::from(file_id.id.clone()), &index)?;
    let out = dev.query(Principal::anonymous(), bucket, "bench_read", &arg)?;
    let bytes = Decode!(&reply("bench_read", &out)?, ByteBuf)?;
    if bytes.len() != CHUNK {
        return Err(anyhow!("bench_read returned {} bytes", bytes.len()));
    }
    Ok(out.instructions)
}

/// `http_request` for the file's signed URL, as the gateway sends it.
fn http_get(
    dev: &mut Devnet,
    d: &Deployment,
    file_id: &depot_api::FileId,
    bucket: Principal,
    range: Option<&str>,
) -> Result<Served> {
    let path = signed_path(dev, d, file_id)?;
    let headers = range.map(|r| vec![("Range".to_string(), r.to_string())]).unwrap_or_default();
    let req = Encode!(&ic_http_certification::HttpRequest::get(path).with_headers(headers).build())?;
    let out = dev.query(Principal::anonymous(), bucket, "http_request", &req)?;
    let resp = Decode!(&reply("http_request", &out)?, HttpResponse)?;
    let phases = dev.query(Principal::anonymous(), bucket, "bench_http_phases", &req)?;
    let phases = Decode!(&reply("bench_http_phases", &phases)?, Vec<(String, u64)>)?;
    Ok(Served {
        status: resp.status_code().as_u16(),
        body_bytes: resp.body().len(),
        instructions: out.instructions,
        phases,
    })
}
