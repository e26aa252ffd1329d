// Plays a Depot video in headless Chromium the way a page would: a
// <video preload=metadata>, then seeks to each point in turn. Prints what
// the browser saw as one JSON line (each seek's result and every response
// for the video with its Range and Content-Range). Asserting is left to
// the Rust test (tests/tests/e2e_media.rs).
//
// Input: env DEPOT_MEDIA_CASE = {"video": url, "seeks": [seconds, ...]}

import { TIMEOUT_MS, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_MEDIA_CASE);

const browser = await launch();
const out = { requests: [], seeks: [] };
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('response', async (r) => {
    const req = r.request();
    const headers = await req.allHeaders();
    out.requests.push({
      range: headers['range'] ?? null,
      dest: headers['sec-fetch-dest'] ?? null,
      status: r.status(),
      content_range: r.headers()['content-range'] ?? null,
    });
  });
  await page.setContent(`<video id="v" preload="metadata" muted src="${input.video}"></video>`);
  out.duration = await page.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('v');
    v.onerror = () => resolve({ error: v.error ? v.error.code : 'unknown' });
    if (v.readyState >= 1) resolve(v.duration); else v.onloadedmetadata = () => resolve(v.duration);
  }));
  for (const to of input.seeks) {
    // A seek is done when the frame at the new time can be shown.
    out.seeks.push(await page.evaluate((to) => new Promise((resolve) => {
      const v = document.getElementById('v');
      const t0 = performance.now();
      v.onerror = () => resolve({ to, error: v.error ? v.error.code : 'unknown' });
      v.onseeked = () => resolve({ to, current_time: v.currentTime, ready_state: v.readyState,
                                   ms: performance.now() - t0 });
      v.currentTime = to;
    }), to));
  }
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
