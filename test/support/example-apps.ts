/**
 * The Taro and uni-app examples (examples/*): their builds, and their H5 builds' pay flows in
 * headless Chromium against the real server and sandbox over loopback. Both apps show the
 * same screens with the same ids (a shop page and an order page); the sandbox's cashier page,
 * in a frame over the app, is the payment sheet (as on /demo/). The H5 build is served under
 * the server's own origin (test/support/h5-app.ts), as its dev server's proxy does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from './browser.js';
import { type Demo, eventually, startDemo } from './demo.js';
import { serveBuild } from './h5-app.js';

const root = join(import.meta.dirname, '..', '..');

export interface ExampleApp {
  /** Directory under examples/. */
  name: string;
  /** The example's own CLI (node_modules/.bin) and its arguments, per target. */
  builds: Record<string, { bin: string; args: string[]; out: string }>;
  /** The target whose build the browser runs. */
  h5: string;
  /** The confirm button of the framework's own H5 modal. */
  modalConfirm: string;
  /** Hosts the framework's H5 runtime reaches by itself (blocked here, and listed in its README). */
  outsideHosts?: string[];
}

export function exampleDir(app: ExampleApp): string {
  return join(root, 'examples', app.name);
}

/** Runs the example's build for `target`; returns the output directory. */
export function build(app: ExampleApp, target: string): string {
  const dir = exampleDir(app);
  const { bin, args, out } = app.builds[target]!;
  const cli = join(dir, 'node_modules', '.bin', bin);
  assert.ok(
    existsSync(cli),
    `${app.name}'s dependencies are not installed: node scripts/examples.mjs install`,
  );
  rmSync(join(dir, out), { recursive: true, force: true });
  const r = spawnSync(cli, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `${bin} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return join(dir, out);
}

/** app.json of a mini program build: the pages it registers. */
export function appPages(out: string): string[] {
  return (JSON.parse(readFileSync(join(out, 'app.json'), 'utf8')) as { pages: string[] }).pages;
}

interface Shop {
  page: Page;
  errors: string[];
  /** Requests that left the server's origin. */
  outside: string[];
  /** Idempotency-Key of every checkout the app sent. */
  keys: string[];
  /** While true, checkouts reach the server but their answers are lost. */
  offline: { value: boolean };
}

/** The H5 pay flows, for one example whose H5 build is already in place. */
export function describeH5Flows(app: ExampleApp, dist: () => string): void {
  const skip = browserSkipReason();
  describe(`${app.name} H5 build in Chromium against the real server and sandbox`, {
    skip: skip ?? false,
  }, () => {
    let demo: Demo;
    let browser: Browser;
    let dir: string;
    const closeAfterAll: (() => unknown)[] = [];
    before(async () => {
      browser = await launchBrowser({ after: (fn) => closeAfterAll.push(fn) });
      dir = mkdtempSync(join(tmpdir(), `minipay-${app.name}-`));
      demo = await startDemo(undefined, `sqlite:${join(dir, 'demo.sqlite')}`, {
        plugins: [webPages()],
      });
    });
    after(async () => {
      for (const close of closeAfterAll) await close();
      await demo?.launched.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A new phone (browser context: its own storage, so a new user) on the shop page. */
    async function openShop(t: TestContext): Promise<Shop> {
      const outside: string[] = [];
      const keys: string[] = [];
      const offline = { value: false };
      const { page, errors } = await openPage(
        browser,
        `${demo.url}/h5/index.html`,
        { width: 390, height: 844 },
        async (p) => {
          await serveBuild(p, demo.url, '/h5', dist());
          await p.route(
            (url) => url.origin !== demo.url,
            async (route) => {
              outside.push(route.request().url());
              await route.abort('blockedbyclient');
            },
          );
          await p.route(`${demo.url}/api/v1/orders`, async (route) => {
            const request = route.request();
            if (request.method() !== 'POST') return route.continue();
            keys.push((await request.allHeaders())['idempotency-key'] ?? '');
            const answer = await route.fetch();
            if (offline.value) return route.abort('connectionreset');
            return route.fulfill({ response: answer });
          });
        },
      );
      t.after(() => page.context().close());
      await seeText(page.locator('#product-prd_jasmine_tea'), '¥38.00');
      return { page, errors, outside, keys, offline };
    }

    function allowedOutside(shop: Shop) {
      const allowed = app.outsideHosts ?? [];
      const unexpected = shop.outside.filter((url) => !allowed.includes(new URL(url).host));
      assert.deepEqual(unexpected, [], 'the app reached only the minipay server');
    }

    async function ordersInDb() {
      return demo.launched.server.store.db
        .selectFrom('orders')
        .select(['id', 'status', 'total_fen', 'out_trade_no'])
        .orderBy('created_at', 'desc')
        .execute();
    }

    async function payInCashier(page: Page, amount: string, button: '#pay' | '#cancel') {
      const cashier = page.frameLocator('#minipay-cashier');
      await seeText(cashier.locator('#amount'), amount);
      await cashier.locator(button).click();
      await page.locator('#minipay-cashier').waitFor({ state: 'detached' });
    }

    test('buy two teas, pay in the cashier → the order page says Paid, and so does the server', async (t) => {
      const shop = await openShop(t);
      const { page } = shop;
      await page.locator('#more-prd_jasmine_tea').click();
      await page.locator('#more-prd_jasmine_tea').click();
      await seeText(page.locator('#total'), '¥76.00');
      await page.locator('#pay').click();
      await payInCashier(page, '¥ 76.00', '#pay');
      await seeText(page.locator('#headline'), 'Payment received');
      await seeText(page.locator('#status'), 'Paid');
      await seeText(page.locator('#amount'), '¥76.00');

      const outTradeNo = (await page.locator('#out-trade-no').textContent())?.trim() ?? '';
      const [order] = (await ordersInDb()).filter((o) => o.out_trade_no === outTradeNo);
      assert.equal(order?.status, 'PAID');
      assert.equal(order?.total_fen, 7600);
      assert.equal(demo.sandbox.trade(outTradeNo)?.tradeState, 'SUCCESS');
      assert.equal(shop.keys.length, 1);
      allowedOutside(shop);
      assert.deepEqual(shop.errors, [], 'no console errors');
    });

    test('close the cashier → Payment cancelled, the order stays open; Cancel order closes it', async (t) => {
      const shop = await openShop(t);
      const { page } = shop;
      await page.locator('#more-prd_sample').click();
      await page.locator('#pay').click();
      await payInCashier(page, '¥ 0.01', '#cancel');
      await seeText(page.locator('#headline'), 'Payment cancelled');
      await seeText(page.locator('#status'), 'Awaiting payment');
      await page.locator('#pay-again').waitFor();
      const outTradeNo = (await page.locator('#out-trade-no').textContent())?.trim() ?? '';
      assert.equal(demo.sandbox.trade(outTradeNo)?.tradeState, 'NOTPAY');

      // WeChat closes no order within 5 minutes of it (0.3 s at the demo's 1000×, which a slow
      // machine may pass), and here every close it accepts closes nothing until the page has
      // shown the order CLOSING (cancelled for the user): on a loaded machine the close job
      // could otherwise finish the close before the page is looked at. Then it closes.
      await demo.sandbox.setFaults({ closeLeavesNotpay: 1_000 });
      t.after(() => demo.sandbox.setFaults({ closeLeavesNotpay: 0 }));
      await page.locator('#cancel').click();
      await page.locator(app.modalConfirm).click();
      await seeText(page.locator('#headline'), 'Order cancelled');
      await seeText(page.locator('#status'), 'Being cancelled');
      await demo.sandbox.setFaults({ closeLeavesNotpay: 0 });
      await eventually(async () => {
        const [order] = (await ordersInDb()).filter((o) => o.out_trade_no === outTradeNo);
        return order?.status === 'CLOSED';
      });
      assert.equal(demo.sandbox.trade(outTradeNo)?.tradeState, 'CLOSED');
      allowedOutside(shop);
      assert.deepEqual(shop.errors, [], 'no console errors');
    });

    test('every answer to Pay is lost: "Try again" sends the same Idempotency-Key, one order, paid', async (t) => {
      const shop = await openShop(t);
      const { page } = shop;
      const before = (await ordersInDb()).length;
      await page.locator('#more-prd_tea_cup').click();
      shop.offline.value = true;
      await page.locator('#pay').click();
      await seeText(page.locator('#error'), 'No connection to the shop');
      await seeText(page.locator('#pay'), 'Try again');
      assert.equal(shop.keys.length, 3, 'the client tried three times');
      assert.equal((await ordersInDb()).length, before + 1, 'the server made the order');

      shop.offline.value = false;
      await page.locator('#pay').click();
      await payInCashier(page, '¥ 66.00', '#pay');
      await seeText(page.locator('#headline'), 'Payment received');
      assert.equal(shop.keys.length, 4);
      assert.equal(new Set(shop.keys).size, 1, 'one key for every try');
      const orders = await ordersInDb();
      assert.equal(orders.length, before + 1, 'still one order');
      assert.equal(orders[0]?.status, 'PAID');
      allowedOutside(shop);
    });
  });
}
