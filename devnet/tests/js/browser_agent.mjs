// The JS agent (@icp-sdk/core) inside headless Chromium, as a web app uses
// it: bundled with esbuild, loaded by a page on its own origin
// (http://app.localhost:<port>, a secure context, cross-origin to devnet), making
// update calls (sync and polling) and signature-verified queries. Prints
// one JSON line of results; devnet/tests/client_js.rs asserts on them.
//
// Env: DEVNET_URL, DEVNET_CANISTER (its `echo` update and query reply with
// their argument bytes), DEVNET_QUERY_METHOD, CHROMIUM.

import { createServer } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const entry = `
import { HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
window.runAgent = async (host, canisterId, queryMethod) => {
  const arg = new TextEncoder().encode('hello');
  const agent = await HttpAgent.create({ host, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const out = { root_key_len: agent.rootKey.length };
  out.sync = hex((await agent.update(canisterId, { methodName: 'echo', arg, effectiveCanisterId: canisterId })).reply);
  out.polled = hex((await agent.update(canisterId, { methodName: 'echo', arg, effectiveCanisterId: canisterId, callSync: false })).reply);
  const q = await agent.query(canisterId, { methodName: queryMethod, arg, effectiveCanisterId: canisterId });
  out.query_status = q.status;
  out.query = hex(q.reply.arg);
  out.secure_context = window.isSecureContext;
  return out;
};
`;

const bundle = await build({
  stdin: { contents: entry, resolveDir: import.meta.dirname, loader: 'js' },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  write: false,
});

const page_html = `<!doctype html><script>${bundle.outputFiles[0].text}</script>`;
const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page_html));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run'],
});
let out;
const console_lines = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => console_lines.push(m.text()));
  page.on('requestfailed', (r) => console_lines.push(`failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  // The app's page from a loopback server of its own, as a dev server
  // would serve it (Chromium lets loopback pages call loopback APIs).
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  await page.goto(`http://app.localhost:${server.address().port}/`);
  out = await page.evaluate(([h, c, q]) => window.runAgent(h, c, q),
    [process.env.DEVNET_URL, process.env.DEVNET_CANISTER, process.env.DEVNET_QUERY_METHOD ?? 'echo']);
} catch (e) {
  out = { error: String(e && e.message || e) };
} finally {
  await browser.close();
  server.close();
}
out.console = console_lines;
console.log(JSON.stringify(out));
