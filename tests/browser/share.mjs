// Opens a Depot share page in headless Chromium as a visitor would (a new
// context: no sign-in, nothing stored), plays its media and seeks, then
// clicks Download. Prints what the browser saw as one JSON line, with every
// console error (a Content-Security-Policy violation is reported there).
// Asserting is left to the Rust test (tests/tests/e2e_browser.rs).
//
// Input: env DEPOT_SHARE_CASE = {"page": url, "seek_to": seconds}

import { TIMEOUT_MS, clickAndDownload, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_SHARE_CASE);

const browser = await launch();
const out = { console_errors: [] };
try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
  const response = await page.goto(input.page);
  out.status = response.status();
  out.title = await page.title();
  out.heading = await page.textContent('h1');
  out.media = await page.evaluate((to) => new Promise((resolve) => {
    const m = document.querySelector('audio, video');
    if (!m) { resolve({ error: 'no media element' }); return; }
    m.onerror = () => resolve({ error: m.error ? m.error.code : 'unknown' });
    const seek = () => {
      m.onseeked = () => resolve({ duration: m.duration, current_time: m.currentTime });
      m.currentTime = to;
    };
    if (m.readyState >= 1) seek(); else m.onloadedmetadata = seek;
  }), input.seek_to);
  out.download = await clickAndDownload(page, 'text=Download');
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
