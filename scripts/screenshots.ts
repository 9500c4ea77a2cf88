/**
 * `npm run screenshots`: starts minipay in demo mode on a throwaway database, plays a few
 * purchases, and saves pictures of the demo and the console to docs/screenshots/ (README).
 * Needs the built pages (`npm run build`) and Chromium (MINIPAY_CHROMIUM, default
 * /usr/bin/chromium).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/app/config.js';
import { launch } from '../src/app/launch.js';
import type { RequestPaymentParams } from '../src/client/index.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { webPages } from '../src/server/web-pages.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs', 'screenshots');
const dir = mkdtempSync(join(tmpdir(), 'minipay-screenshots-'));

const config = loadConfig(
  { MINIPAY_JOB_INTERVAL_SECONDS: '1' },
  { host: '127.0.0.1', port: 0, databaseUrl: `sqlite:${join(dir, 'demo.sqlite')}` },
);
const launched = await launch(config, {
  logger: pino({ level: 'silent' }),
  sandbox: { timeScale: 1000, stateFile: null },
  plugins: [webPages()],
});
const sandbox = launched.sandbox as Sandbox;
const url = launched.server.url;
const token = launched.adminToken ?? '';

async function api(method: string, path: string, body?: unknown, headers = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as {
    token?: string;
    order?: { id: string };
    payment?: RequestPaymentParams & { appId: string };
  };
}

/** The mooncake order, refunded in part by seed(). */
let refundable: string | undefined;

/** A few orders so the console has something to show: paid, paid and refunded, open. */
async function seed() {
  const baskets = [
    [{ productId: 'prd_jasmine_tea', quantity: 2 }],
    [{ productId: 'prd_mooncake', quantity: 1 }],
    [{ productId: 'prd_tea_cup', quantity: 3 }],
    [{ productId: 'prd_sample', quantity: 1 }],
  ];
  for (const [i, items] of baskets.entries()) {
    const code = sandbox.loginCode();
    const session = await api('POST', '/api/v1/login', { code: code.code });
    const auth = { authorization: `Bearer ${session.token}` };
    const created = await api(
      'POST',
      '/api/v1/orders',
      { items },
      {
        ...auth,
        'idempotency-key': `screenshot-${i}`,
      },
    );
    if (i < 3 && created.payment) sandbox.pay({ openid: code.openid, ...created.payment });
    if (i === 1) refundable = created.order?.id;
  }
  await new Promise((r) => setTimeout(r, 1500));
  // A partial refund, so an order's timeline shows the whole story.
  if (refundable) {
    await api(
      'POST',
      `/admin/v1/orders/${refundable}/refunds`,
      { amountFen: 2800, reason: '包装破损 damaged box' },
      { authorization: `Bearer ${token}`, 'idempotency-key': 'screenshot-refund' },
    );
    await new Promise((r) => setTimeout(r, 1500));
  }
}

async function shoot(page: Page, name: string) {
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

try {
  mkdirSync(out, { recursive: true });
  await seed();
  const browser = await chromium.launch({
    executablePath: process.env.MINIPAY_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const demo = await (
      await browser.newContext({ viewport: { width: 860, height: 780 } })
    ).newPage();
    await demo.goto(`${url}/demo/`);
    await demo.getByTestId('login').waitFor();
    await shoot(demo, 'demo-login');
    await demo.getByTestId('login').click();
    await demo.getByTestId('buy-prd_jasmine_tea').click();
    await demo.frameLocator('[data-testid=cashier]').locator('#pay:not([disabled])').waitFor();
    await shoot(demo, 'demo-cashier');
    await demo.frameLocator('[data-testid=cashier]').locator('#pay').click();
    await demo.getByText('已支付 Paid').first().waitFor();
    await shoot(demo, 'demo-paid');

    const admin = await (
      await browser.newContext({ viewport: { width: 1280, height: 800 } })
    ).newPage();
    await admin.goto(`${url}/admin/`);
    await admin.getByTestId('token').fill(token);
    await admin.getByTestId('sign-in').click();
    await admin.getByTestId('mode').waitFor();
    await admin.waitForTimeout(1000);
    await shoot(admin, 'admin-overview');
    await admin.getByTestId('tab-orders').click();
    await admin.waitForTimeout(1000);
    await shoot(admin, 'admin-orders');
    if (refundable) {
      await admin.goto(`${url}/admin/#/orders/${refundable}`);
      await admin.getByTestId('timeline').waitFor();
      await shoot(admin, 'admin-order');
      await admin.getByTestId('refund').click();
      await admin.getByTestId('refund-partial').check();
      await admin.getByTestId('refund-amount').fill('20');
      await shoot(admin, 'admin-refund');
    }
  } finally {
    await browser.close();
  }
} finally {
  await launched.close();
  rmSync(dir, { recursive: true, force: true });
}
