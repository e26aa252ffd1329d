// Buys credit in the web app as a person would: signs in, asks the test to
// fund the new principal on the test ledgers (a line {"ask": "fund", ...}
// on stdout, answered on stdin), then deposits TUSD from the Account panel,
// after two refused attempts (not a number; below the directory's minimum).
// Prints what it saw as one JSON line (tests/tests/e2e_webapp.rs asserts).
//
// Input: env DEPOT_DEPOSIT_CASE = {"app": url, "token": symbol, "amount": text,
//   "tiny": text, "shots": dir}

import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { TIMEOUT_MS, distinctBytes, launch } from './launch.mjs';

const input = JSON.parse(process.env.DEPOT_DEPOSIT_CASE);
const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const out = { console_errors: [], attempts: {} };

async function attempt(page, amount) {
  await page.getByTestId('deposit-amount').fill(amount);
  await page.getByRole('button', { name: 'Deposit' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=deposit-result]').textContent.trim() !== ''
    || document.querySelector('.deposit [role=alert]') !== null);
  return {
    result: (await page.getByTestId('deposit-result').textContent()).trim(),
    error: (await page.locator('.deposit [role=alert]').count()) ? (await page.locator('.deposit [role=alert]').textContent()).trim() : null,
  };
}

const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
  await page.goto(input.app);
  await page.getByRole('button', { name: 'Local sign-in (this browser only)' }).click();
  await page.getByText('No files yet').waitFor();
  const principal = await page.locator('.who').getAttribute('title');
  console.log(JSON.stringify({ ask: 'fund', principal }));
  out.funded = JSON.parse((await replies.next()).value);

  await page.getByTestId('deposit-currency').selectOption({ label: input.token });
  out.attempts.not_a_number = await attempt(page, 'five');
  out.attempts.below_minimum = await attempt(page, input.tiny);
  out.attempts.paid = await attempt(page, input.amount);
  out.credit = (await page.locator('.account dd').first().textContent()).trim();
  const path = join(input.shots, 'deposit.png');
  out.screen = { distinct: distinctBytes(await page.screenshot({ path, fullPage: true })) };
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
process.exit(0);
