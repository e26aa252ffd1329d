// Who the user is. On mainnet: Internet Identity through @icp-sdk/auth. On a
// local network, where no Internet Identity canister exists: a P-256 key
// made in this browser, non-extractable (script can sign with it but never
// read it), kept in IndexedDB. Its files belong to that key: clearing the
// browser's data loses access, which the sign-in screen says.

import { AuthClient, IdbKeyVal } from '@icp-sdk/auth/client';
import { ECDSAKeyIdentity } from '@icp-sdk/core/identity';
import type { Identity } from '@icp-sdk/core/agent';
import type { AppConfig } from './config';

const DB = { dbName: 'depot-local-identity', storeName: 'keys' };
const KEY = 'key-pair';

export interface SignedIn {
  identity: Identity;
  /** What the sign-in was, for the header. */
  kind: 'local' | 'internet-identity';
  signOut: () => Promise<void>;
}

async function localStore(): Promise<IdbKeyVal> {
  return IdbKeyVal.create(DB);
}

async function restoreLocal(): Promise<SignedIn | null> {
  const store = await localStore();
  const pair = await store.get<CryptoKeyPair>(KEY);
  if (!pair) return null;
  return { identity: await ECDSAKeyIdentity.fromKeyPair(pair), kind: 'local', signOut: () => store.remove(KEY) };
}

async function newLocal(): Promise<SignedIn> {
  const store = await localStore();
  const identity = await ECDSAKeyIdentity.generate({ extractable: false });
  await store.set(KEY, identity.getKeyPair());
  return { identity, kind: 'local', signOut: () => store.remove(KEY) };
}

async function withII(client: AuthClient): Promise<SignedIn> {
  return { identity: await client.getIdentity(), kind: 'internet-identity', signOut: () => client.signOut() };
}

/** The session kept from an earlier visit, if any. */
export async function restore(config: AppConfig): Promise<SignedIn | null> {
  if (config.local_network) return restoreLocal();
  const client = new AuthClient();
  return client.isAuthenticated() ? withII(client) : null;
}

export async function signIn(config: AppConfig): Promise<SignedIn> {
  if (config.local_network) return newLocal();
  const client = new AuthClient();
  await client.signIn();
  return withII(client);
}
