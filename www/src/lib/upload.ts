// Uploads one file with the CLI's protocol (cli/src/upload.rs):
// start_upload → one token for every chunk → PARALLEL_CHUNKS put_chunk calls
// to the bucket in flight → commit_upload. Unlike the CLI it does not call
// mark_chunk_uploaded: that only feeds get_upload's progress, while commit
// and resume both ask the bucket which chunks it holds. Skipping it halves
// the update calls per chunk (each costs the directory cycles and the page
// a certificate check; depot-bench section 9 measured 1.3 s of a 100 MiB
// upload's 15 s on it).
//
// The file is read twice, as the CLI reads it: first to hash it (streamed
// through @noble/hashes, as WebCrypto has no streaming digest), so that
// start_upload declares its SHA-256 and the bucket checks the whole file at
// commit and records it; then chunk by chunk to send it, with at most
// PARALLEL_CHUNKS chunks in memory whatever the file's size. Each put_chunk
// answers the chunk's SHA-256, which must also equal WebCrypto's digest of
// the bytes sent. (Reading once and declaring nothing would leave files
// without a recorded SHA-256: `depot upload --skip-existing` and verified
// downloads need it.)
//
// Resume: the upload id is kept in localStorage under (principal, size,
// lastModified, name). Picking the same file again after a reload asks the
// directory for the session and the bucket for the chunks it holds, and
// sends only the others.

import { sha256 } from '@noble/hashes/sha2.js';
import type { FileMeta, StartUploadRes, UploadToken } from '../bindings/directory/directory';
import type { Bucket } from '../bindings/bucket/bucket';
import { DepotError, explain, explainBucket, hex, ok, unhex, type Depot } from './depot';

/** put_chunk calls in flight per file: the CLI's default. */
export const PARALLEL_CHUNKS = 4;
/** Longest total wait for rate limits before an upload gives up. */
export const MAX_RATE_WAIT_SECS = 600;
/** Attempts of one call that failed in transit (not a typed refusal). */
export const CALL_ATTEMPTS = 3;
const RESUME_PREFIX = 'depot-upload:';

/** Bytes read per step while hashing. */
const HASH_BLOCK_BYTES = 4 * 1024 * 1024;

export interface Progress {
  phase: 'hashing' | 'starting' | 'waiting' | 'uploading' | 'committing';
  /** Bytes hashed so far (phase `hashing`). */
  hashed: number;
  /** Bytes the bucket holds, resumed chunks included. */
  stored: number;
  total: number;
  /** Bytes per second sent in this session (not counting resumed bytes). */
  rate: number;
  /** Seconds left at that rate. */
  eta: number;
  /** Chunks found already stored when resuming. */
  resumedChunks: number;
  chunkCount: number;
  note?: string;
}

export interface Uploaded {
  meta: FileMeta;
  resumedChunks: number;
  sentChunks: number;
}

function resumeKey(depot: Depot, file: File): string {
  return `${RESUME_PREFIX}${depot.principal}:${file.size}:${file.lastModified}:${file.name}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Cancelled already (while the call before this wait was in flight).
    if (signal.aborted) return reject(cancelled());
    const abort = () => (clearTimeout(t), reject(cancelled()));
    const t = setTimeout(() => (signal.removeEventListener('abort', abort), resolve()), ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

const digest = async (b: Uint8Array) => hex(new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)));

const cancelled = () => new DepotError('Cancelled.', 'Cancelled');

/** A call retried only when it failed in transit; typed refusals are thrown at once. */
async function attempt<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (e) {
      if (e instanceof DepotError || i >= CALL_ATTEMPTS || signal.aborted) throw e;
      await sleep(500 * i, signal);
    }
  }
}

/** A directory call that waits out `RateLimited`, telling the user how long. */
async function waiting<T>(call: () => Promise<T>, note: (s: string) => void, signal: AbortSignal): Promise<T> {
  let waited = 0;
  for (;;) {
    try {
      return await attempt(call, signal);
    } catch (e) {
      if (!(e instanceof DepotError) || e.kind !== 'RateLimited' || waited >= MAX_RATE_WAIT_SECS) throw e;
      const secs = Math.max(1, e.retryAfterSecs ?? 1);
      note(e.message);
      await sleep(secs * 1000, signal);
      waited += secs;
    }
  }
}

interface Session {
  upload_id: Uint8Array;
  bucket: string;
  chunk_size: number;
  chunk_count: number;
}

async function hashFile(file: File, onBytes: (n: number) => void, signal: AbortSignal): Promise<Uint8Array> {
  const h = sha256.create();
  for (let at = 0; at < file.size; at += HASH_BLOCK_BYTES) {
    if (signal.aborted) throw cancelled();
    h.update(new Uint8Array(await file.slice(at, Math.min(file.size, at + HASH_BLOCK_BYTES)).arrayBuffer()));
    onBytes(Math.min(file.size, at + HASH_BLOCK_BYTES));
  }
  return h.digest();
}

async function openSession(depot: Depot, file: File, name: string, sha: Uint8Array, note: (s: string) => void, signal: AbortSignal) {
  const key = resumeKey(depot, file);
  const saved = localStorage.getItem(key);
  if (saved) {
    const r = await attempt(() => depot.directory.get_upload(unhex(saved)), signal);
    if (r.__kind__ === 'Ok') {
      const p = r.Ok;
      const session = { upload_id: p.upload_id, bucket: p.bucket.toText(), chunk_size: p.chunk_size, chunk_count: p.expected_chunk_count };
      const c = await attempt(() => depot.bucket(session.bucket).list_chunks(p.file_id), signal);
      const present = new Set<number>(c.__kind__ === 'Ok' ? Array.from(c.Ok.present) : []);
      return { session, present, key };
    }
    localStorage.removeItem(key); // expired or aborted: start over
  }
  const res: StartUploadRes = await waiting(
    async () => ok(await depot.directory.start_upload({ name, size_bytes: BigInt(file.size), mime: file.type || undefined, sha256: sha })),
    note,
    signal,
  );
  localStorage.setItem(key, hex(res.upload_id));
  const session = { upload_id: res.upload_id, bucket: res.bucket.toText(), chunk_size: res.chunk_size, chunk_count: res.expected_chunk_count };
  return { session, present: new Set<number>(), key };
}

async function readChunk(file: File, s: Session, i: number): Promise<Uint8Array> {
  const start = i * s.chunk_size;
  return new Uint8Array(await file.slice(start, Math.min(file.size, start + s.chunk_size)).arrayBuffer());
}

export async function upload(
  depot: Depot,
  file: File,
  name: string,
  onProgress: (p: Progress) => void,
  signal: AbortSignal,
): Promise<Uploaded> {
  let sentBytes = 0;
  let stored = 0;
  let resumedChunks = 0;
  let chunkCount = 0;
  let hashed = 0;
  let phase: Progress['phase'] = 'hashing';
  let sendingSince = 0;
  const report = (note?: string) => {
    const secs = (performance.now() - sendingSince) / 1000;
    const rate = sendingSince > 0 && secs > 0 ? sentBytes / secs : 0;
    onProgress({ phase, hashed, stored, total: file.size, rate, eta: rate > 0 ? (file.size - stored) / rate : Infinity, resumedChunks, chunkCount, note });
  };
  const note = (s: string) => ((phase = 'waiting'), report(s));
  report();
  const sha = await hashFile(file, (n) => ((hashed = n), report()), signal);
  phase = 'starting';
  report();

  const { session, present, key } = await openSession(depot, file, name, sha, note, signal);
  sendingSince = performance.now();
  const s = session;
  chunkCount = s.chunk_count;
  resumedChunks = present.size;
  for (const i of present) stored += Math.min(s.chunk_size, file.size - i * s.chunk_size);
  const bucket: Bucket = depot.bucket(s.bucket);

  let token: Promise<UploadToken> | null = null;
  /** Renews the token unless another chunk already did. */
  const expired = (used: Promise<UploadToken>) => {
    if (token === used) token = null;
  };
  const getToken = () =>
    (token ??= waiting(
      async () => ok(await depot.directory.get_upload_token({ upload_id: s.upload_id, first_chunk: 0, last_chunk: Math.max(0, s.chunk_count - 1) })),
      note,
      signal,
    ));
  const send = async (i: number, bytes: Uint8Array) => {
    for (let renewed = false; ; renewed = true) {
      const used = getToken();
      const t = await used;
      const r = await attempt(() => bucket.put_chunk({ chunk_index: i, token: t, bytes }), signal);
      if (r.__kind__ === 'Ok') {
        if (hex(r.Ok.etag) !== (await digest(bytes))) {
          throw new DepotError(`Chunk ${i} was stored with other bytes than were sent. Pick the file again.`, 'HashMismatch');
        }
        break;
      }
      if (r.Err.__kind__ === 'TokenExpired' && !renewed) {
        expired(used);
        continue;
      }
      throw explainBucket(r.Err);
    }
    sentBytes += bytes.length;
    stored += bytes.length;
    phase = 'uploading';
    report();
  };

  const inflight = new Set<Promise<void>>();
  let sent = 0;
  try {
    for (let i = 0; i < s.chunk_count; i++) {
      if (signal.aborted) throw cancelled();
      if (present.has(i)) continue;
      const bytes = await readChunk(file, s, i);
      while (inflight.size >= PARALLEL_CHUNKS) await Promise.race(inflight);
      const p: Promise<void> = send(i, bytes).finally(() => inflight.delete(p));
      inflight.add(p);
      sent++;
    }
    await Promise.all(inflight);
    // Cancelled while the last chunks were in flight: no commit.
    if (signal.aborted) throw cancelled();
  } catch (e) {
    await Promise.allSettled(inflight);
    if (signal.aborted) {
      // Cancelled: the session is dropped and its reservation freed.
      localStorage.removeItem(key);
      await depot.directory.abort_upload(s.upload_id).catch(() => {});
      throw cancelled();
    }
    throw e; // the session is kept: picking the file again resumes it
  }

  phase = 'committing';
  report();
  const commit = () =>
    attempt(() => depot.directory.commit_upload({ upload_id: s.upload_id, uploaded_chunk_count: s.chunk_count, final_sha256: sha }), signal);
  let r = await commit();
  if (r.__kind__ === 'Err' && r.Err.__kind__ === 'UploadIncomplete') {
    // The bucket lacks chunks we believed sent: send them once more.
    for (const i of r.Err.UploadIncomplete.missing) await send(i, await readChunk(file, s, i));
    r = await commit();
  }
  if (r.__kind__ === 'Err') {
    const e = explain(r.Err);
    if (e.kind === 'UploadExpired' || e.kind === 'HashMismatch' || e.kind === 'UploadNotFound') localStorage.removeItem(key);
    throw e;
  }
  localStorage.removeItem(key);
  const whole = hex(sha);
  if (!r.Ok.sha256 || hex(r.Ok.sha256) !== whole) {
    throw new DepotError(`The stored file's SHA-256 is not the SHA-256 of the file read (${whole}). Delete it and upload again.`, 'HashMismatch');
  }
  return { meta: r.Ok, resumedChunks, sentChunks: sent };
}
