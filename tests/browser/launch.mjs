// Headless Chromium as the tests run it: the Debian package (or $CHROMIUM)
// with the flags this machine needs (no sandbox as root, no GPU, nothing
// fetched from the network), and the timeout every step shares.

import { chromium } from 'playwright-core';

export const TIMEOUT_MS = 60_000;

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
}
