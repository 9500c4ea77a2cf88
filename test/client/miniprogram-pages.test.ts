/**
 * The sample mini program's own pages (miniprogram/), compiled as DevTools compiles them and
 * driven with WeChat's offline component tools (test/support/miniprogram.ts), against the REAL
 * server and sandbox over loopback. The user taps what the WXML shows; `wx` is the sandbox
 * shim (src/client/sandbox-wx.ts), which plays wx.login and the payment sheet as WeChat does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RequestPaymentParams } from '../../src/client/platform.js';
import { createSandboxWx, type PayerChoice } from '../../src/client/sandbox-wx.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';
import {
  compileSample,
  launchSample,
  type MiniProgram,
  type ModalAnswer,
  type PageHandle,
} from '../support/miniprogram.js';

interface PhoneOptions {
  payer?: (params: RequestPaymentParams) => PayerChoice;
  fetch?: typeof fetch;
  modal?: ModalAnswer;
  /** Run the sample in its demo configuration (its own sandboxed() and modal sheet). */
  demoConfig?: boolean;
  /** The phone's files (chooseAvatar's temporary paths), for wx.uploadFile. */
  readFile?: (path: string) => Promise<Uint8Array>;
}

interface Phone {
  app: MiniProgram;
  sheets: RequestPaymentParams[];
  logins(): number;
  openid(): string | undefined;
  ordersInDb(): Promise<{ id: string; status: string; total_fen: number; out_trade_no: string }[]>;
}

/** Waits until the page on top is `route` and has finished loading. */
async function pageAt(
  app: MiniProgram,
  route: string,
  ready = (p: PageHandle) => !p.data().loading,
) {
  await eventually(
    async () => app.routes().at(-1) === route && ready(app.top()),
    15_000,
    `${route} loaded (stack: ${app.routes().join(' > ')}, showing: ${safeText(app)})`,
  );
  return app.top();
}

function safeText(app: MiniProgram): string {
  try {
    return app.top().text();
  } catch {
    return '(nothing)';
  }
}

describe('the sample mini program, driven offline against the real server and sandbox', () => {
  let demo: Demo;
  let sample: ReturnType<typeof compileSample>;
  let dir: string;

  before(async () => {
    sample = compileSample();
    dir = mkdtempSync(join(tmpdir(), 'minipay-sample-db-'));
    demo = await startDemo(undefined, `sqlite:${join(dir, 'demo.sqlite')}`);
  });
  after(async () => {
    await demo?.launched.close();
    sample?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A new user's phone with the sample freshly started on it. */
  function phone(options: PhoneOptions = {}): Phone {
    const sheets: RequestPaymentParams[] = [];
    let logins = 0;
    const wx = createSandboxWx({
      sandboxUrl: demo.sandbox.url,
      appId: demo.sandbox.credentials.appId,
      fetch: options.fetch,
      readFile: options.readFile,
      payer: (params) => {
        sheets.push(params);
        return options.payer?.(params) ?? 'pay';
      },
    });
    const platform = {
      login: (cb: Parameters<typeof wx.login>[0]) => {
        logins++;
        return wx.login(cb);
      },
      request: wx.request,
      requestPayment: wx.requestPayment,
      openBusinessView: wx.openBusinessView,
      uploadFile: wx.uploadFile,
      getStorageSync: wx.getStorageSync,
      setStorageSync: wx.setStorageSync,
      removeStorageSync: wx.removeStorageSync,
    };
    const appId = demo.sandbox.credentials.appId;
    const app = launchSample({
      dir: sample.dir,
      config: {
        baseUrl: `${demo.url}/api/v1`,
        sandbox: options.demoConfig ? { url: demo.sandbox.url, appId } : null,
      },
      wx: platform,
      modal: options.modal,
    });
    const openid = () =>
      options.demoConfig ? wx.getStorageSync('minipay.sandbox.openid') || undefined : wx.openid;
    return {
      app,
      sheets,
      logins: () => logins,
      openid,
      ordersInDb: async () => {
        const who = openid();
        if (!who) return [];
        return demo.launched.server.store.db
          .selectFrom('orders')
          .select(['id', 'status', 'total_fen', 'out_trade_no'])
          .where('openid', '=', who)
          .execute();
      },
    };
  }

  /** Catalogue → `quantity` of `productId` → Check out → the confirm page, loaded. */
  async function toConfirm(app: MiniProgram, productId: string, quantity: number) {
    const catalogue = await pageAt(app, 'pages/catalogue/index');
    for (let i = 0; i < quantity; i++) catalogue.tap('.more', { dataId: productId });
    await eventually(async () => catalogue.data().count === quantity, 5000, 'the cart counted');
    catalogue.tap('#checkout');
    return pageAt(app, 'pages/confirm/index');
  }

  test('My profile: the chosen avatar is uploaded and shown, the nickname saved; an SVG refused', async () => {
    const fixtures = new URL('../fixtures/avatars/', import.meta.url);
    const { app, openid } = phone({
      readFile: async (path) =>
        path.endsWith('.svg')
          ? new TextEncoder().encode('<svg onload="alert(1)"/>')
          : readFile(new URL(path.replace('http://tmp/', ''), fixtures)),
    });
    const catalogue = await pageAt(app, 'pages/catalogue/index');
    catalogue.tap('#open-profile');
    const profile = await pageAt(app, 'pages/profile/index');
    await eventually(async () => profile.data().loading === false, 5000, 'the profile loaded');
    assert.match(profile.text(), /Choose an avatar/);

    profile.fire('#choose-avatar', 'chooseavatar', { avatarUrl: 'http://tmp/avatar.jpg' });
    await eventually(async () => profile.data().notice === 'Avatar saved.', 5000, 'uploaded');
    const avatarUrl = String(profile.data().avatarUrl);
    assert.match(avatarUrl, new RegExp(`^${demo.url}/api/v1/avatars/avt_`));
    const served = await fetch(avatarUrl);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');

    profile.fire('#nickname', 'input', { value: '  Lin Mei ' });
    profile.tap('#save-nickname');
    await eventually(async () => profile.data().notice === 'Nickname saved.', 5000, 'saved');
    const user = await demo.launched.server.store.db
      .selectFrom('user_profiles')
      .innerJoin('users', 'users.id', 'user_profiles.user_id')
      .select(['user_profiles.nickname'])
      .where('users.openid', '=', openid()!)
      .executeTakeFirstOrThrow();
    assert.equal(user.nickname, 'Lin Mei');

    profile.fire('#choose-avatar', 'chooseavatar', { avatarUrl: 'http://tmp/evil.svg' });
    await eventually(async () => profile.data().error !== '', 5000, 'refused');
    assert.match(String(profile.data().error), /not accepted.*; choose a PNG, JPEG or WebP image/);
    assert.equal(profile.data().avatarUrl, avatarUrl, 'the saved avatar stays');
  });

  test('catalogue → confirm → pay → result: the server says PAID, and My orders lists it', async () => {
    const { app, sheets, logins, ordersInDb } = phone();
    const catalogue = await pageAt(app, 'pages/catalogue/index');
    assert.match(catalogue.text(), /茉莉花茶 Jasmine tea 250 g, Fujian ¥38\.00/);
    const confirm = await toConfirm(app, 'prd_jasmine_tea', 2);
    assert.equal(confirm.data().estimate, '¥76.00');
    assert.match(confirm.text(), /Jasmine tea × 2 ¥76\.00/);
    assert.equal(logins(), 0, 'the catalogue needs no login');

    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.deepEqual(app.routes(), ['pages/catalogue/index', 'pages/result/index']);
    assert.equal(result.data().outcome, 'paid', result.text());
    assert.match(result.text(), /Payment received .*Status Paid Amount ¥76\.00/);
    assert.equal(logins(), 1);
    assert.equal(sheets.length, 1, 'one payment sheet');

    const [order] = await ordersInDb();
    assert.equal(order?.status, 'PAID');
    assert.equal(order?.total_fen, 7600);
    assert.equal(demo.sandbox.trade(order!.out_trade_no)?.tradeState, 'SUCCESS');
    assert.equal(sheets[0]?.package.startsWith('prepay_id='), true);

    result.tap('#orders');
    const orders = await pageAt(app, 'pages/orders/index');
    assert.deepEqual(
      (orders.data().orders as { id: string; statusText: string }[]).map((o) => [
        o.id,
        o.statusText,
      ]),
      [[order!.id, 'Paid']],
    );
  });

  test('a virtual order: the delivery turns Shipped, Confirm receipt opens WeChat’s page → Received', async () => {
    const { app, ordersInDb } = phone();
    const confirm = await toConfirm(app, 'prd_member_month', 1);
    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.equal(result.data().outcome, 'paid', result.text());
    const stage = () => (result.data().shipping as { stage?: string } | null)?.stage;
    await eventually(async () => stage() !== undefined, 10_000, 'the delivery shown');
    await eventually(
      async () => {
        if (stage() === 'Shipped') return true;
        result.tap('#refresh-shipping');
        await new Promise((r) => setTimeout(r, 200));
        return false;
      },
      15_000,
      'the virtual order shipped',
    );
    assert.match(result.text(), /Delivery Shipped/);
    result.tap('#confirm-receipt');
    await eventually(async () => stage() === 'Received', 15_000, 'receipt confirmed');
    const [order] = await ordersInDb();
    const shipment = await demo.launched.server.store.db
      .selectFrom('shipments')
      .select(['receipt_confirmed_at', 'settled_at'])
      .where('order_id', '=', order!.id)
      .executeTakeFirstOrThrow();
    assert.ok(shipment.receipt_confirmed_at && shipment.settled_at);
  });

  test('the user closes the payment sheet: cancelled, the order stays open, then Cancel order closes it', async (t) => {
    const { app, ordersInDb } = phone({ payer: () => 'cancel' });
    const confirm = await toConfirm(app, 'prd_mooncake', 1);
    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.equal(result.data().outcome, 'cancelled');
    assert.match(result.text(), /Payment cancelled .*Status Awaiting payment/);
    assert.match(result.text(), /Pay now/, 'the order can still be paid');
    const [open] = await ordersInDb();
    assert.equal(open?.status, 'PENDING');
    assert.equal(demo.sandbox.trade(open!.out_trade_no)?.tradeState, 'NOTPAY');

    // WeChat closes no order within 5 minutes of it (0.3 s at the demo's 1000×, which a slow
    // machine may pass), and here the first close it accepts closes nothing: the order is
    // CLOSING (cancelled for the user) whatever the timing, then the close job closes it.
    await demo.sandbox.setFaults({ closeLeavesNotpay: 1 });
    t.after(() => demo.sandbox.setFaults({ closeLeavesNotpay: 0 }));
    result.tap('#cancel');
    await eventually(
      async () => result.data().headline === 'Order cancelled',
      10_000,
      'the order cancelled on screen',
    );
    assert.equal(app.modals[0]?.title, 'Cancel this order?');
    assert.match(result.text(), /Status Being cancelled/);
    assert.doesNotMatch(result.text(), /Pay now/);
    await eventually(
      async () => (await ordersInDb())[0]?.status === 'CLOSED',
      undefined,
      'closed by the close job',
    );
    const [closed] = await ordersInDb();
    assert.equal(demo.sandbox.trade(closed!.out_trade_no)?.tradeState, 'CLOSED');
  });

  test('the network drops every answer to Pay: "Try again" resends the same Idempotency-Key, one order', async () => {
    const keys: string[] = [];
    let offline = true;
    // Each checkout reaches the server, but while offline its answer never comes back.
    const lossy: typeof fetch = async (input, init) => {
      const isCheckout =
        init?.method === 'POST' && new URL(String(input)).pathname === '/api/v1/orders';
      if (isCheckout) {
        keys.push(
          String((init?.headers as Record<string, string> | undefined)?.['Idempotency-Key']),
        );
      }
      const res = await fetch(input, init);
      if (isCheckout && offline) {
        await res.arrayBuffer();
        throw new TypeError('fetch failed: connection reset');
      }
      return res;
    };
    const { app, ordersInDb } = phone({ fetch: lossy });
    const confirm = await toConfirm(app, 'prd_sample', 1);
    confirm.tap('#pay');
    await eventually(
      async () => !confirm.data().submitting && confirm.data().error !== '',
      15_000,
      'the network error on screen',
    );
    assert.match(confirm.text(), /No connection to the shop\. .*Try again/);
    assert.equal(keys.length, 3, 'the client tried three times');
    assert.equal(new Set(keys).size, 1, 'with one key');
    const [made] = await ordersInDb();
    assert.equal(made?.status, 'PENDING', 'the server made the order although no answer came');

    offline = false;
    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.equal(result.data().outcome, 'paid', result.text());
    assert.equal(keys.length, 4);
    assert.equal(new Set(keys).size, 1, 'the retried tap sent the same key');
    const orders = await ordersInDb();
    assert.deepEqual(
      orders.map((o) => [o.id, o.status]),
      [[made!.id, 'PAID']],
      'one order, paid',
    );
  });

  test('the server expired the session: My orders logs in once more and shows the orders', async () => {
    const { app, logins, ordersInDb } = phone();
    const confirm = await toConfirm(app, 'prd_tea_cup', 1);
    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.equal(result.data().outcome, 'paid');
    assert.equal(logins(), 1);
    const [order] = await ordersInDb();
    // The server ends the session early; the phone's stored expiry still looks valid.
    await demo.launched.server.store.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();

    result.tap('#orders');
    const orders = await pageAt(app, 'pages/orders/index');
    assert.equal(orders.data().error, '', orders.text());
    assert.deepEqual(
      (orders.data().orders as { id: string }[]).map((o) => o.id),
      [order!.id],
    );
    assert.equal(logins(), 2, 'one fresh wx.login after the 401');
  });

  test('demo configuration: the sample plays WeChat through the sandbox, a modal is the sheet', async () => {
    const { app, ordersInDb, sheets } = phone({
      demoConfig: true,
      modal: ({ title }) => title === 'Sandbox payment',
    });
    const confirm = await toConfirm(app, 'prd_sample', 3);
    confirm.tap('#pay');
    const result = await pageAt(app, 'pages/result/index');
    assert.equal(result.data().outcome, 'paid', result.text());
    assert.deepEqual(
      app.modals.map((m) => [m.title, m.confirmed]),
      [['Sandbox payment', true]],
    );
    assert.deepEqual(sheets, [], "the sample's own sandboxed() paid, not the shim");
    const [order] = await ordersInDb();
    assert.equal(order?.status, 'PAID');
    assert.equal(order?.total_fen, 3);
  });
});
