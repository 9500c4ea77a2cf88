/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for the browser tests.
 * Pages that log a console error or throw fail the test that opened them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MINIPAY_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set MINIPAY_CHROMIUM)`;
}

/** Chromium, closed after `t` (a test's context, or `{ after }` for a whole suite). */
export async function launchBrowser(t: {
  after(fn: () => Promise<void>): unknown;
}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container cannot use Chromium's sandbox; these pages are our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  t.after(() => browser.close());
  return browser;
}

export interface OpenedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed page loads (not API answers) so far. */
  errors: string[];
}

/**
 * A new page of the given size that records console errors and page exceptions; `prepare`
 * runs before the first navigation (e.g. to route requests).
 */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 900 },
  prepare?: (page: Page) => Promise<void>,
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  await prepare?.(page);
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (message) => {
    // An API answering 4xx is logged by Chromium too; those the pages handle on purpose.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    const api = path.startsWith('/api/') || path.startsWith('/admin/v1/');
    if (!api && response.status() >= 400) errors.push(`${response.status()} ${path}`);
  });
  await page.goto(url);
  return { page, errors };
}

/** Waits (up to 10 s) until the element's text contains `expected`; fails saying what it saw. */
export async function seeText(locator: Locator, expected: string, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  let seen: string | null = null;
  while (Date.now() < deadline) {
    seen = await locator.textContent({ timeout: 1000 }).catch(() => null);
    if (seen?.includes(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`expected "${expected}" on screen, saw ${JSON.stringify(seen)}`);
}
