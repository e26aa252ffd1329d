// The canisters as the app talks to them: one agent for the signed-in
// identity, the directory's actor and one actor per bucket, from bindings
// generated from the .did files (npm run bindings). Typed errors become
// sentences that say what to do.

import { HttpAgent, type Identity } from '@icp-sdk/core/agent';
import { createActor as directoryActor, type Directory, type DirectoryError, type ShareError } from '../bindings/directory/directory';
import { createActor as bucketActor, type Bucket, type BucketError } from '../bindings/bucket/bucket';
import { createActor as ledgerActor, type Icrc2 } from '../bindings/icrc2/icrc2';
import type { BillingError } from '../bindings/directory/directory';
import { apiHost, type AppConfig } from './config';

export interface Depot {
  directory: Directory;
  directoryId: string;
  bucket: (id: string) => Bucket;
  /** An ICRC-1/ICRC-2 ledger (the cycles ledger or a token's). */
  ledger: (id: string) => Icrc2;
  principal: string;
}

export async function connect(config: AppConfig, identity: Identity): Promise<Depot> {
  const agent = HttpAgent.createSync({ identity, host: apiHost(config) });
  // Only a local network's root key is fetched: on mainnet it is built in.
  if (config.local_network) await agent.fetchRootKey();
  const buckets = new Map<string, Bucket>();
  return {
    directory: directoryActor(config.directory, { agent }),
    directoryId: config.directory,
    ledger: (id) => ledgerActor(id, { agent }),
    bucket: (id) => {
      let b = buckets.get(id);
      if (!b) buckets.set(id, (b = bucketActor(id, { agent })));
      return b;
    },
    principal: identity.getPrincipal().toText(),
  };
}

/** A refused call, with the directory's or bucket's typed error kept. */
export class DepotError extends Error {
  constructor(
    message: string,
    readonly kind: string,
    readonly retryAfterSecs?: number,
  ) {
    super(message);
  }
}

type Variant = { __kind__: string } & Record<string, unknown>;

export function bytes(n: bigint | number): string {
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Cycles in trillions, as the IC's tools show them. */
export const tcycles = (c: bigint) => `${(Number(c) / 1e12).toFixed(4)} T`;

export function duration(secs: number): string {
  if (!isFinite(secs)) return '—';
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function explainBucket(e: BucketError): DepotError {
  const v = e as unknown as Variant;
  const p = v[v.__kind__] as Record<string, bigint | number | string | unknown> | null;
  const why: Record<string, string> = {
    TokenExpired: 'The upload permission expired; it is renewed automatically.',
    OutOfSpace: 'The storage canister is full. Try again: a new upload goes to another one.',
    ReadOnly: 'The storage canister is read-only for now. Try again later.',
    HashMismatch: 'The bytes stored differ from the bytes read: the file changed while uploading. Pick it again.',
  };
  const detail = p && typeof p === 'object' && 'reason' in p ? `: ${p.reason}` : '';
  return new DepotError(why[v.__kind__] ?? `Storage refused the chunk (${v.__kind__}${detail}).`, v.__kind__);
}

export function explain(e: DirectoryError): DepotError {
  const v = e as unknown as Variant;
  const p = v[v.__kind__] as Record<string, bigint> & { reason?: string; limit?: number; error?: BucketError };
  switch (v.__kind__) {
    case 'QuotaExceeded':
      return new DepotError(
        `Not enough space: this needs ${bytes(p.requested)} and ${bytes(p.available)} is free. Delete files or ask the operator for a larger quota.`,
        v.__kind__,
      );
    case 'InsufficientCredit':
      return new DepotError(
        `Not enough credit: this needs ${p.required} cycles and ${p.available} are available. Deposit credit (depot deposit) and try again.`,
        v.__kind__,
      );
    case 'InvalidSize':
      return new DepotError(
        `This file's size (${bytes(p.size)}) is outside what Depot stores (${bytes(p.min)} to ${bytes(p.max)}).`,
        v.__kind__,
      );
    case 'RateLimited':
      return new DepotError(
        `Too many requests for now: waiting ${Number(p.retry_after_secs)} s.`,
        v.__kind__,
        Number(p.retry_after_secs),
      );
    case 'TooManyInProgressUploads':
      return new DepotError(
        `At most ${p.limit} uploads can be in progress. Let some finish or cancel them, then try again.`,
        v.__kind__,
      );
    case 'UploadExpired':
      return new DepotError('This upload expired before it finished. Pick the file again to start over.', v.__kind__);
    case 'Unauthorised':
      return new DepotError('You are not allowed to do this: sign in again.', v.__kind__);
    case 'NotFound':
    case 'UploadNotFound':
      return new DepotError('Not found: it may have been deleted.', v.__kind__);
    case 'Bucket':
      return explainBucket(p.error as BucketError);
    case 'ServiceTemporarilyUnavailable':
      return new DepotError(`Depot is busy (${p.reason}). Try again in a minute.`, v.__kind__);
    default:
      return new DepotError(`${v.__kind__}${p && p.reason ? `: ${p.reason}` : ''}`, v.__kind__);
  }
}

export function explainShare(e: ShareError): DepotError {
  const v = e as unknown as Variant;
  const p = v[v.__kind__] as { limit?: number; reason?: string; retry_after_secs?: bigint } | null;
  switch (v.__kind__) {
    case 'TooManyShares':
      return new DepotError(`You have ${p?.limit} shares, the most allowed: revoke some first.`, v.__kind__);
    case 'NotFound':
      return new DepotError('No such share (it may have been revoked).', v.__kind__);
    case 'Gone':
      return new DepotError('This share expired or its uses are spent.', v.__kind__);
    default:
      return new DepotError(`${v.__kind__}${p?.reason ? `: ${p.reason}` : ''}`, v.__kind__);
  }
}

export function explainBilling(e: BillingError): DepotError {
  const v = e as unknown as Variant;
  const p = v[v.__kind__] as Record<string, bigint | number | string> & { ledger?: { toText(): string } } | null;
  switch (v.__kind__) {
    case 'BelowMinimum':
      return new DepotError(`The least Depot accepts is ${tcycles(p!.min_cycles as bigint)} cycles of credit.`, v.__kind__);
    case 'InsufficientFunds':
      return new DepotError('The ledger holds too little for this deposit and its fee.', v.__kind__);
    case 'PaymentFailed':
      return new DepotError(`The ledger refused the payment: ${p!.reason}. Nothing was credited.`, v.__kind__);
    case 'RateLimited':
      return new DepotError(`Too many deposits for now: try again in ${Number(p!.retry_after_secs)} s.`, v.__kind__, Number(p!.retry_after_secs));
    case 'UnsupportedToken':
      return new DepotError('Depot does not accept this token.', v.__kind__);
    case 'DepositInProgress':
      return new DepotError('This deposit is still being settled.', v.__kind__);
    default:
      return new DepotError(`${v.__kind__}${p && p.reason ? `: ${p.reason}` : ''}`, v.__kind__);
  }
}

/** The Ok of a directory result, or its error explained. */
export function ok<T>(r: { __kind__: 'Ok'; Ok: T } | { __kind__: 'Err'; Err: DirectoryError }): T {
  if (r.__kind__ === 'Ok') return r.Ok;
  throw explain(r.Err);
}

export function billingOk<T>(r: { __kind__: 'Ok'; Ok: T } | { __kind__: 'Err'; Err: BillingError }): T {
  if (r.__kind__ === 'Ok') return r.Ok;
  throw explainBilling(r.Err);
}

export function shareOk<T>(r: { __kind__: 'Ok'; Ok: T } | { __kind__: 'Err'; Err: ShareError }): T {
  if (r.__kind__ === 'Ok') return r.Ok;
  throw explainShare(r.Err);
}

export const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const unhex = (s: string) => new Uint8Array((s.match(/../g) ?? []).map((h) => parseInt(h, 16)));
