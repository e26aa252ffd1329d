// Loads Depot URLs in headless Chromium the way a web page would and prints
// what the browser saw as one JSON line. Asserting is left to the Rust test
// (tests/tests/e2e_browser.rs); this script only observes.
//
// Input: env DEPOT_BROWSER_CASE = {"image": url, "audio": url, "seek_to": s,
//        "fetch": url, "download": url}

import { createHash } from 'node:crypto';
import { TIMEOUT_MS, clickAndDownload, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_BROWSER_CASE);

const browser = await launch();
const out = { requests: [] };
try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('response', (r) => {
    const req = r.request();
    out.requests.push({ url: r.url(), range: req.headers()['range'] ?? null, status: r.status() });
  });
  // A page of its own origin (opaque: about:blank), so every load below is
  // cross-origin, as from a web app embedding Depot files.
  await page.setContent(`<img id="img" src="${input.image}">
    <audio id="audio" preload="metadata" src="${input.audio}"></audio>
    <a id="dl" href="${input.download}">download</a>`);

  out.image = await page.evaluate(() => new Promise((resolve) => {
    const img = document.getElementById('img');
    const done = () => resolve({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight });
    if (img.complete) done(); else { img.onload = done; img.onerror = done; }
  }));

  out.audio = await page.evaluate((seekTo) => new Promise((resolve) => {
    const a = document.getElementById('audio');
    const fail = () => resolve({ error: a.error ? a.error.code : 'unknown' });
    a.onerror = fail;
    const seek = () => {
      const duration = a.duration;
      a.onseeked = () => resolve({ duration, current_time: a.currentTime, ready_state: a.readyState });
      a.currentTime = seekTo;
    };
    if (a.readyState >= 1) seek(); else a.onloadedmetadata = seek;
  }), input.seek_to);

  out.fetch = await page.evaluate(async (url) => {
    const r = await fetch(url);
    // crypto.subtle needs a secure context, which about:blank is not: the
    // body goes back to Node (base64) to be hashed there.
    const body = new Uint8Array(await r.arrayBuffer());
    let binary = '';
    for (let i = 0; i < body.length; i += 0x8000) binary += String.fromCharCode(...body.subarray(i, i + 0x8000));
    const ranged = await fetch(url, { headers: { Range: 'bytes=5-9' } });
    const part = Array.from(new Uint8Array(await ranged.arrayBuffer()));
    return { status: r.status, body: btoa(binary), range_status: ranged.status, range_bytes: part };
  }, input.fetch);
  const fetched = Buffer.from(out.fetch.body, 'base64');
  delete out.fetch.body;
  out.fetch.length = fetched.length;
  out.fetch.sha256 = createHash('sha256').update(fetched).digest('hex');

  out.download = await clickAndDownload(page, '#dl');
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
