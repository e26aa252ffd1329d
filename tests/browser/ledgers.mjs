// DFINITY's own JS clients for ledgers (@icp-sdk/canisters: IcrcLedgerCanister
// and CyclesLedgerCanister, with the real ledgers' Candid IDL) against
// devnet's test ledgers, unmodified. Prints what they answered as one JSON
// line; asserting is left to the Rust test (tests/tests/e2e_ledgers.rs).
//
// Input: env DEPOT_LEDGERS_CASE = {"url", "token", "cycles", "seed_hex",
//        "to": principal text, "receiver": canister id text}

import { HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { IcrcLedgerCanister } from '@icp-sdk/canisters/ledger/icrc';
import { CyclesLedgerCanister } from '@icp-sdk/canisters/ledger/cycles';

const input = JSON.parse(process.env.DEPOT_LEDGERS_CASE);
const str = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x)));
const out = {};
try {
  const identity = Ed25519KeyIdentity.generate(Uint8Array.from(Buffer.from(input.seed_hex, 'hex')));
  const agent = await HttpAgent.create({ host: input.url, identity, shouldFetchRootKey: true });
  const me = identity.getPrincipal();
  out.me = me.toText();
  const to = { owner: Principal.fromText(input.to), subaccount: [] };

  const token = IcrcLedgerCanister.create({ agent, canisterId: Principal.fromText(input.token) });
  out.metadata = str(await token.metadata({ certified: false }));
  out.fee = str(await token.transactionFee({ certified: false }));
  out.standards = str(await token.icrc1SupportedStandards({ certified: false }));
  out.minting = str(await token.getMintingAccount({ certified: false }));
  // certified: true makes these update calls.
  out.balance_before = str(await token.balance({ owner: me, certified: true }));
  out.transfer_block = str(await token.transfer({ to, amount: 5n }));
  out.approve_block = str(await token.approve({ spender: to, amount: 100n }));
  out.allowance = str(await token.allowance({ account: { owner: me, subaccount: [] }, spender: to, certified: true }));
  out.balance_after = str(await token.balance({ owner: me, certified: false }));
  out.supply = str(await token.totalTokensSupply({ certified: false }));
  try {
    await token.transfer({ to, amount: 1n, fee: 1n });
    out.bad_fee = 'accepted';
  } catch (e) {
    // The library's IcrcTransferError carries the ledger's error variant.
    out.bad_fee = str(e.errorType ?? String(e));
  }

  const cyclesAsIcrc = IcrcLedgerCanister.create({ agent, canisterId: Principal.fromText(input.cycles) });
  out.cycles_fee = str(await cyclesAsIcrc.transactionFee({ certified: false }));
  out.cycles_before = str(await cyclesAsIcrc.balance({ owner: me, certified: true }));
  const cycles = CyclesLedgerCanister.create({ agent, canisterId: Principal.fromText(input.cycles) });
  out.withdraw = str(await cycles.withdraw({ amount: 1_000_000_000_000n, to: Principal.fromText(input.receiver) }));
  out.cycles_after = str(await cyclesAsIcrc.balance({ owner: me, certified: true }));
} catch (e) {
  out.error = String(e?.stack ?? e);
}
console.log(JSON.stringify(out));
