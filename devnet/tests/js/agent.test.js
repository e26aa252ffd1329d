// The JS agent (@icp-sdk/core, the successor of @dfinity/agent) against a
// running devnet. Started by devnet/tests/client_js.rs, which passes the
// server URL and a canister id whose `echo` method (update and query)
// replies with its argument bytes. Query signatures are verified (default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';

const host = process.env.DEVNET_URL;
const canisterId = process.env.DEVNET_CANISTER;
const updateMethod = process.env.DEVNET_UPDATE_METHOD ?? 'echo';
const queryMethod = process.env.DEVNET_QUERY_METHOD ?? 'echo';
const expectedUpdate = process.env.DEVNET_UPDATE_REPLY_HEX;
const expectedQuery = process.env.DEVNET_QUERY_REPLY_HEX;
const argHex = process.env.DEVNET_ARG_HEX ?? '68656c6c6f';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const arg = Uint8Array.from(Buffer.from(argHex, 'hex'));

async function agentWith(identity) {
  const agent = await HttpAgent.create({ host, identity, shouldFetchRootKey: true });
  assert.equal(agent.rootKey.length, 133, 'root key is a 133-byte DER BLS key');
  return agent;
}

for (const [name, makeIdentity] of [
  ['ed25519', () => Ed25519KeyIdentity.generate()],
  ['secp256k1', () => Secp256k1KeyIdentity.generate()],
]) {
  test(`update (sync call) with ${name}`, async () => {
    const agent = await agentWith(makeIdentity());
    const result = await agent.update(canisterId, { methodName: updateMethod, arg, effectiveCanisterId: canisterId });
    assert.equal(hex(result.reply), expectedUpdate ?? argHex);
  });

  test(`update (async call + polling) with ${name}`, async () => {
    const agent = await agentWith(makeIdentity());
    const result = await agent.update(canisterId, {
      methodName: updateMethod,
      arg,
      effectiveCanisterId: canisterId,
      callSync: false,
    });
    assert.equal(hex(result.reply), expectedUpdate ?? argHex);
  });

  test(`query with signature verification with ${name}`, async () => {
    const agent = await agentWith(makeIdentity());
    const response = await agent.query(canisterId, { methodName: queryMethod, arg, effectiveCanisterId: canisterId });
    assert.equal(response.status, 'replied');
    assert.equal(hex(response.reply.arg), expectedQuery ?? argHex);
  });
}
