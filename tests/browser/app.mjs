// Uses Depot's web app in headless Chromium as a person would, once each:
// a local sign-in; three files picked at once, whose progress is watched;
// a search; a video previewed, seeked and played; a download; a share link
// created, opened signed out in a second context and fetched with `curl -L`
// on its direct link, then revoked and tried again; a delete with its
// confirmation; a reload in the middle of a large upload, then the same file
// picked again; a cancelled upload; a file over the quota; a file dropped on
// the drop zone. Screenshots of each screen go to `shots` and axe-core checks
// the screens. Prints what it saw as one JSON line; asserting is left to the
// Rust test (tests/tests/e2e_browser.rs).
//
// Input: env DEPOT_APP_CASE = {"app": url, "files": [path, path, path],
//   "video": name, "text": name, "image": name, "pdf": name, "seek_to": secs, "big": path,
//   "cancel": path, "over_quota": path, "shots": dir}

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import { TIMEOUT_MS, clickAndDownload, distinctBytes, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_APP_CASE);
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const out = { console_errors: [], screens: {}, axe: {} };

// A screenshot kept as an artefact, and how many distinct byte values its
// pixel rows hold (a blank screen has a handful).
async function shot(page, name) {
  const path = join(input.shots, `${name}.png`);
  const png = await page.screenshot({ path, fullPage: true });
  out.screens[name] = { path, bytes: png.length, distinct: distinctBytes(png) };
}

// axe-core's serious and critical violations on the current screen. It is
// evaluated through the DevTools protocol, which the page's CSP does not
// govern: the app itself is never given a script it did not ship.
async function axe(page, name) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  out.axe[name] = r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

// Records, for each file, the largest progress value the page showed and
// whether a rate ("/s") was displayed: every DOM change is observed, so a
// quick upload is not missed between polls.
async function watchProgress(page) {
  await page.evaluate(() => {
    window.__progress = {};
    const look = () => {
      for (const li of document.querySelectorAll('[data-testid=upload]')) {
        const p = li.querySelector('progress');
        const seen = (window.__progress[li.dataset.name] ??= { max: 0, max_of: 0, rate_shown: false });
        if (p) { seen.max = Math.max(seen.max, p.value); seen.max_of = p.max; }
        if (/\/s ·/.test(li.textContent)) seen.rate_shown = true;
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

const uploadsDone = (page, names, states = ['done', 'failed']) => page.waitForFunction(([names, states]) => names.every((n) => {
  const li = document.querySelector(`[data-testid=upload][data-name="${CSS.escape(n)}"]`);
  return li && states.includes(li.dataset.state);
}), [names, states]);

const uploadStates = (page) => page.$$eval('[data-testid=upload]', (lis) =>
  lis.map((li) => ({ name: li.dataset.name, state: li.dataset.state, text: li.textContent.replace(/\s+/g, ' ').trim() })));

const listed = (page) => page.$$eval('[data-testid=file]', (lis) => lis.map((li) => li.dataset.name));

function curl(url) {
  const file = join(input.shots, 'curl.out');
  const code = execFileSync('curl', ['-sS', '-L', '-o', file, '-w', '%{http_code}', url], { encoding: 'utf8' });
  return readFile(file).then((b) => ({ status: Number(code), length: b.length, sha256: createHash('sha256').update(b).digest('hex') }));
}

const browser = await launch();
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });

  // Open the app: time to the sign-in screen.
  let t = Date.now();
  const response = await page.goto(input.app);
  out.status = response.status();
  out.csp = response.headers()['content-security-policy'] ?? null;
  await page.getByRole('button', { name: 'Local sign-in (this browser only)' }).waitFor();
  out.ms_to_sign_in = Date.now() - t;
  await shot(page, 'sign-in');
  await axe(page, 'sign-in');

  // Sign in: time to an interactive (empty) file list.
  t = Date.now();
  await page.getByRole('button', { name: 'Local sign-in (this browser only)' }).click();
  await page.getByText('No files yet').waitFor();
  out.ms_to_list = Date.now() - t;
  out.principal = await page.locator('.who').getAttribute('title');
  // The local key is in IndexedDB and cannot be read out, only used.
  out.key_export = await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('depot-local-identity');
    req.onsuccess = () => {
      const get = req.result.transaction('keys').objectStore('keys').get('key-pair');
      get.onsuccess = () => {
        const pair = get.result;
        if (!pair) { resolve('no key stored'); return; }
        crypto.subtle.exportKey('pkcs8', pair.privateKey).then(() => resolve('exported'), (e) => resolve(`refused: ${e.name}`));
      };
    };
    req.onerror = () => resolve('no database');
  }));

  // Three files at once.
  await watchProgress(page);
  await page.setInputFiles('[data-testid=file-input]', input.files);
  const names = input.files.map((f) => basename(f));
  await uploadsDone(page, names);
  out.uploads = await uploadStates(page);
  out.progress = await page.evaluate(() => window.__progress);
  out.listed = await listed(page);
  await shot(page, 'files');
  await axe(page, 'files');

  // Search by name.
  await page.getByLabel('Search files by name').fill(input.text.slice(2, 7).toUpperCase());
  await page.waitForFunction((n) => {
    const names = [...document.querySelectorAll('[data-testid=file]')].map((li) => li.dataset.name);
    return names.length === 1 && names[0] === n;
  }, input.text);
  out.search = await listed(page);
  await page.getByLabel('Search files by name').fill('');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=file]').length === n, names.length);

  // Preview the image, then the PDF (Chrome's viewer loads inside the frame).
  await page.getByRole('button', { name: `Preview ${input.image}` }).click();
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid=preview] img'); return i && i.complete && i.naturalWidth > 0; });
  out.image_width = await page.$eval('[data-testid=preview] img', (i) => i.naturalWidth);
  await page.getByRole('button', { name: `Preview ${input.pdf}` }).click();
  await page.locator('[data-testid=preview] iframe').waitFor();
  // Chrome's viewer is an extension frame inside ours; it draws the page a
  // moment after it loads. Wait (at most 10 s) until the frame shows more
  // than its blank grey background.
  const viewer = () => page.frames().some((f) => f.url().startsWith('chrome-extension://'));
  out.pdf = { viewer: false, distinct: 0 };
  for (let i = 0; i < 50 && out.pdf.distinct < 64; i++) {
    await page.waitForTimeout(200);
    out.pdf.viewer = viewer();
    out.pdf.distinct = distinctBytes(await page.locator('[data-testid=preview] iframe').screenshot());
  }
  await shot(page, 'pdf');

  // Preview the video: seek, then play from there.
  await page.getByRole('button', { name: `Preview ${input.video}` }).click();
  await page.locator('[data-testid=preview-video]').waitFor();
  out.video = await page.evaluate((to) => new Promise((resolve) => {
    const v = document.querySelector('[data-testid=preview-video]');
    v.muted = true;
    v.onerror = () => resolve({ error: v.error ? v.error.code : 'unknown' });
    const seek = () => {
      v.onseeked = () => {
        const seeked_to = v.currentTime;
        v.ontimeupdate = () => {
          if (v.currentTime > seeked_to + 0.3) { v.pause(); resolve({ duration: v.duration, seeked_to, played_to: v.currentTime }); }
        };
        v.play().catch((e) => resolve({ error: String(e) }));
      };
      v.currentTime = to;
    };
    if (v.readyState >= 1) seek(); else v.onloadedmetadata = seek;
  }), input.seek_to);
  await shot(page, 'preview');
  await axe(page, 'preview');
  await page.getByRole('button', { name: 'Close the preview' }).click();

  // Download the text file.
  out.download = await clickAndDownload(page, `button[aria-label="Download ${input.text}"]`);

  // Share the video; open the link signed out; curl its direct link.
  await page.getByRole('button', { name: `Share ${input.video}` }).click();
  await page.getByTestId('share-max-uses').fill('3');
  await page.getByRole('button', { name: 'Create link' }).click();
  const shareUrl = await page.locator('[data-testid=share-url]').inputValue();
  const rawUrl = await page.locator('[data-testid=share-raw-url]').inputValue();
  // Focus moves to the new link (a timeout here fails the run).
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'share-url');
  out.focus_after_create = 'share-url';
  out.share = { url: shareUrl, raw_url: rawUrl };
  await shot(page, 'share');
  await axe(page, 'share');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.locator('[data-testid=share]').first().waitFor();
  out.share_row = (await page.locator('[data-testid=share]').first().textContent()).replace(/\s+/g, ' ').trim();
  const stranger = await browser.newContext({ acceptDownloads: true });
  const visitor = await stranger.newPage();
  visitor.setDefaultTimeout(TIMEOUT_MS);
  // Errors until the revocation, after which the page is meant to fail.
  let revoked = false;
  visitor.on('console', (m) => { if (m.type() === 'error' && !revoked) out.console_errors.push(`visitor: ${m.text()}`); });
  out.share.page_status = (await visitor.goto(shareUrl)).status();
  out.share.heading = await visitor.textContent('h1');
  out.share.has_video = (await visitor.locator('video').count()) === 1;
  out.share.download = await clickAndDownload(visitor, 'text=Download');
  out.share.curl = await curl(rawUrl);

  // Revoke it in the app; the page and the direct link then fail.
  await page.getByRole('button', { name: `Revoke the share of ${input.video}` }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=share]').length === 0);
  revoked = true;
  out.share.page_status_after_revoke = (await visitor.goto(shareUrl)).status();
  out.share.curl_after_revoke = await curl(rawUrl);
  await stranger.close();

  // Delete the text file, confirming.
  await page.getByRole('button', { name: `Delete ${input.text}` }).click();
  await shot(page, 'delete-confirm');
  await page.locator('[data-testid=confirm-delete]').click();
  await page.waitForFunction((n) => ![...document.querySelectorAll('[data-testid=file]')].some((li) => li.dataset.name === n), input.text);
  await page.reload();
  await page.locator('[data-testid=file]').first().waitFor();
  out.listed_after_delete = await listed(page);

  // A large file: reload once a quarter is stored, then pick it again.
  const big = basename(input.big);
  await watchProgress(page);
  await page.setInputFiles('[data-testid=file-input]', [input.big]);
  await page.waitForFunction((n) => { const p = window.__progress[n]; return p && p.max_of > 0 && p.max >= p.max_of / 4; }, big);
  out.big_before_reload = await page.evaluate((n) => window.__progress[n], big);
  await page.reload();
  await page.locator('[data-testid=file]').first().waitFor();
  await watchProgress(page);
  await page.setInputFiles('[data-testid=file-input]', [input.big]);
  await uploadsDone(page, [big]);
  out.big = (await uploadStates(page)).find((u) => u.name === big);

  // Cancel an upload: its reservation is released.
  const cancelName = basename(input.cancel);
  await watchProgress(page);
  await page.setInputFiles('[data-testid=file-input]', [input.cancel]);
  await page.waitForFunction((n) => (window.__progress[n]?.max ?? 0) > 0, cancelName);
  await page.getByRole('button', { name: `Cancel upload of ${cancelName}` }).click();
  await uploadsDone(page, [cancelName], ['cancelled', 'failed', 'done']);
  out.cancelled = (await uploadStates(page)).find((u) => u.name === cancelName);
  await page.waitForFunction(() => !/in progress/.test(document.querySelector('[data-testid=usage-line]').textContent));
  out.usage_after_cancel = await page.locator('[data-testid=usage-line]').textContent();

  // A file past the free tier and over the quota: its price is shown before
  // it starts; confirmed, it is refused with what to do.
  await page.setInputFiles('[data-testid=file-input]', [input.over_quota]);
  const price = page.getByRole('group', { name: 'Price of this upload' });
  out.price = (await price.textContent()).replace(/\s+/g, ' ').trim();
  await price.getByRole('button', { name: 'Upload' }).click();
  await uploadsDone(page, [basename(input.over_quota)]);
  out.over_quota = (await uploadStates(page)).find((u) => u.name === basename(input.over_quota));

  // Drag and drop, of a file whose name is markup: it must stay text.
  page.on('dialog', (d) => { out.dialogs = (out.dialogs ?? 0) + 1; d.dismiss(); });
  const dropped = await page.evaluateHandle((name) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped on the zone\n'], name, { type: 'text/html' }));
    return dt;
  }, input.hostile_name);
  await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: dropped });
  await uploadsDone(page, [input.hostile_name]);
  out.dropped = (await uploadStates(page)).find((u) => u.name === input.hostile_name);
  // Its preview shows the markup as text, never as a page.
  await page.getByRole('button', { name: `Preview ${input.hostile_name}` }).click();
  out.hostile_preview = await page.locator('[data-testid=preview-text]').textContent();
  out.title_after_hostile = await page.title();
  await page.getByRole('button', { name: 'Close the preview' }).click();
  out.listed_at_end = await listed(page);

  // A phone-sized screen.
  await page.setViewportSize({ width: 360, height: 740 });
  await shot(page, 'phone');
  await axe(page, 'phone');
  out.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
} catch (e) {
  out.error = String((e && e.stack) || e);
  // The screen as it was when the step failed, kept with the others.
  for (const p of browser.contexts().flatMap((c) => c.pages())) {
    await p.screenshot({ path: join(input.shots, `failed-${Date.now()}.png`), fullPage: true }).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
