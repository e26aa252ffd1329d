// depot-bench section 9: the web app timed in headless Chromium. Opens the
// app, signs in, and uploads one file, timing each step; prints one JSON
// line. (Figures, not asserts: tests/src/bench/webapp.rs prints them.)
//
// Input: env DEPOT_BENCH_CASE = {"app": url, "file": path}

import { basename } from 'node:path';
import { TIMEOUT_MS, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_BENCH_CASE);
const out = {};
const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10 * TIMEOUT_MS);
  let t = Date.now();
  await page.goto(input.app);
  const signIn = page.getByRole('button', { name: 'Local sign-in (this browser only)' });
  await signIn.waitFor();
  out.ms_to_sign_in = Date.now() - t;
  t = Date.now();
  await signIn.click();
  await page.getByText('No files yet').waitFor();
  out.ms_sign_in_to_list = Date.now() - t;

  const name = basename(input.file);
  // When the page stops hashing and starts sending (its status line says).
  await page.evaluate((n) => {
    window.__sending_at = null;
    new MutationObserver(() => {
      const li = document.querySelector(`[data-testid=upload][data-name="${CSS.escape(n)}"]`);
      if (li && window.__sending_at === null && /Starting|\/s ·/.test(li.textContent)) window.__sending_at = performance.now();
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, name);
  t = Date.now();
  const t0 = await page.evaluate(() => performance.now());
  await page.setInputFiles('[data-testid=file-input]', [input.file]);
  await page.waitForFunction((n) => {
    const li = document.querySelector(`[data-testid=upload][data-name="${CSS.escape(n)}"]`);
    return li && (li.dataset.state === 'done' || li.dataset.state === 'failed');
  }, name);
  out.ms_upload = Date.now() - t;
  out.ms_hashing = (await page.evaluate(() => window.__sending_at)) - t0;
  out.state = await page.locator(`[data-testid=upload][data-name="${name}"]`).getAttribute('data-state');
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
