// Buying credit as `depot deposit` does (cli/src/billing.rs): the user
// approves the directory on a ledger (ICRC-2) for the amount plus the
// ledger's fee, for DEPOSIT_APPROVAL_SECS, then `deposit` takes it. The
// nonce makes a retry safe: the directory credits one nonce once, and a
// `DepositInProgress` answer is waited out with the same nonce.

import { Principal } from '@icp-sdk/core/principal';
import type { DepositRes, Payment, TokenPrice } from '../bindings/directory/directory';
import { billingOk, DepotError, type Depot } from './depot';

/** The cycles ledger, at the same id on mainnet and on devnet. */
export const CYCLES_LEDGER_ID = 'um5iw-rqaaa-aaaaq-qaaba-cai';
/** How long the approval lets the directory take the deposit. */
export const DEPOSIT_APPROVAL_SECS = 10n * 60n;
/** `DEPOSIT_NONCE_BYTES` in api/src/limits.rs. */
const NONCE_BYTES = 16;
/** Seconds a deposit whose outcome is unknown is asked about again. */
const IN_PROGRESS_WAITS = 60;

/** What one can pay with: cycles, or a token the directory prices. */
export interface Currency {
  label: string;
  ledger: string;
  decimals: number;
  payment: Payment;
}

export function currencies(tokens: TokenPrice[]): Currency[] {
  return [
    { label: 'T cycles', ledger: CYCLES_LEDGER_ID, decimals: 12, payment: { __kind__: 'CallerPaysIcrc2Cycles', CallerPaysIcrc2Cycles: null } },
    ...tokens.map((t) => ({
      label: t.symbol,
      ledger: t.ledger.toText(),
      decimals: t.decimals,
      payment: { __kind__: 'CallerPaysIcrc2Tokens', CallerPaysIcrc2Tokens: { ledger: t.ledger } } as Payment,
    })),
  ];
}

/** "2.5" with 6 decimals → 2500000n; null when it is not such a number. */
export function parseAmount(text: string, decimals: number): bigint | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m || (m[2] ?? '').length > decimals) return null;
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt((m[2] ?? '').padEnd(decimals, '0') || '0');
}

export async function deposit(depot: Depot, c: Currency, amount: bigint): Promise<DepositRes> {
  const ledger = depot.ledger(c.ledger);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const fee = await ledger.icrc1_fee();
  const approved = await ledger.icrc2_approve({
    spender: { owner: Principal.fromText(depot.directoryId) },
    amount: amount + fee,
    expires_at: nowNs + DEPOSIT_APPROVAL_SECS * 1_000_000_000n,
  });
  if (approved.__kind__ === 'Err') {
    const e = approved.Err;
    throw new DepotError(
      e.__kind__ === 'InsufficientFunds'
        ? `Your ${c.label} balance on the ledger cannot cover ${amount} plus the fee.`
        : `The ledger refused the approval (${e.__kind__}).`,
      e.__kind__,
    );
  }
  const req = { payment: c.payment, amount, nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)), created_at_ns: nowNs };
  for (let i = 0; i < IN_PROGRESS_WAITS; i++) {
    const r = await depot.directory.deposit(req);
    if (r.__kind__ === 'Err' && r.Err.__kind__ === 'DepositInProgress') {
      await new Promise((ok) => setTimeout(ok, 1000));
      continue;
    }
    return billingOk(r);
  }
  throw new DepotError('The deposit is still being settled: look at your balance in a minute.', 'DepositInProgress');
}
