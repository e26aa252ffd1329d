// Headless Chromium as the tests run it: the Debian package (or $CHROMIUM)
// with the flags this machine needs (no sandbox as root, no GPU, nothing
// fetched from the network), and the timeout every step shares.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const TIMEOUT_MS = 60_000;

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
}

// Clicks `selector`, waits for the download it starts and describes the
// saved file: the name the browser suggested, its length and SHA-256.
export async function clickAndDownload(page, selector) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const bytes = await readFile(await download.path());
  return {
    suggested_name: download.suggestedFilename(),
    length: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

// How many distinct byte values a PNG's decompressed pixel rows hold: a
// blank (one-colour) screenshot has a handful, a real screen hundreds.
export function distinctBytes(png) {
  const idat = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  return new Set(inflateSync(Buffer.concat(idat))).size;
}
