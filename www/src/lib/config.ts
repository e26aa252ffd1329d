// What the gateway tells the app at install (gateway/src/assets.rs writes
// /config.json): the directory's id, and, on a local network (devnet), that
// network's origin. Certified like every other asset.

export interface AppConfig {
  directory: string;
  /** `http://localhost:<port>` on devnet; null on mainnet. */
  local_network: string | null;
}

export async function loadConfig(): Promise<AppConfig> {
  const r = await fetch('/config.json', { cache: 'no-cache' });
  if (!r.ok) throw new Error(`/config.json answered ${r.status}`);
  const c = (await r.json()) as AppConfig;
  if (typeof c.directory !== 'string') throw new Error('/config.json names no directory');
  return c;
}

/** Where the agent sends calls: the page's own origin on devnet (devnet
 * answers /api/ on every host), mainnet's API otherwise. */
export function apiHost(c: AppConfig): string {
  return c.local_network ? window.location.origin : 'https://icp-api.io';
}
