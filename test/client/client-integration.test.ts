/**
 * The client library against the REAL server and sandbox (demo mode over loopback), on SQLite
 * and PostgreSQL. The `wx` is the sandbox shim: `wx.login` asks the sandbox for a code and
 * `wx.requestPayment` pays as the user (the sandbox checks paySign as WeChat does), so every
 * answer here is the server's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { fromWx } from '../../src/client/adapters.js';
import { createMinipayClient, type MinipayClient } from '../../src/client/client.js';
import { MinipayError } from '../../src/client/errors.js';
import type { RequestPaymentParams } from '../../src/client/platform.js';
import { createSandboxWx, type PayerChoice, type SandboxWx } from '../../src/client/sandbox-wx.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

interface Phone {
  wx: SandboxWx;
  client: MinipayClient;
  /** What requestPayment was called with, in order. */
  sheets: RequestPaymentParams[];
  /** How many times the mini program called wx.login. */
  logins(): number;
  /** This user's orders as the database has them. */
  ordersInDb(): Promise<{ id: string; status: string }[]>;
}

interface PhoneOptions {
  payer?: (params: RequestPaymentParams) => PayerChoice;
  fetch?: typeof fetch;
  confirmAttempts?: number;
}

/** A new user's "phone" running the client library against the demo server. */
function phone(demo: Demo, options: PhoneOptions = {}): Phone {
  const sheets: RequestPaymentParams[] = [];
  const wx = createSandboxWx({
    sandboxUrl: demo.sandbox.url,
    appId: demo.sandbox.credentials.appId,
    fetch: options.fetch,
    payer: (params) => {
      sheets.push(params);
      return options.payer?.(params) ?? 'pay';
    },
  });
  let logins = 0;
  const login = wx.login.bind(wx);
  wx.login = ((cb: Parameters<typeof wx.login>[0]) => {
    logins++;
    return login(cb);
  }) as typeof wx.login;
  const client = createMinipayClient({
    baseUrl: demo.url,
    platform: fromWx(wx),
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
    confirm: { attempts: options.confirmAttempts ?? 20, intervalMs: 50 },
  });
  const ordersInDb = async () =>
    wx.openid === undefined
      ? []
      : demo.launched.server.store.db
          .selectFrom('orders')
          .select(['id', 'status'])
          .where('openid', '=', wx.openid)
          .execute();
  return { wx, client, sheets, logins: () => logins, ordersInDb };
}

/** Sets sandbox faults for one test and puts the defaults back after it. */
async function faultsFor(
  t: TestContext,
  demo: Demo,
  change: Parameters<Demo['sandbox']['setFaults']>[0],
) {
  await demo.sandbox.setFaults(change);
  t.after(() => demo.sandbox.setFaults({ dropNotifyRate: 0, delayNotifyMs: 0 }));
}

async function eventsOf(demo: Demo, orderId: string, type: string) {
  const rows = await demo.launched.server.store.db
    .selectFrom('order_events')
    .select('type')
    .where('order_id', '=', orderId)
    .where('type', '=', type)
    .execute();
  return rows.length;
}

/** A header of a request the shim's fetch sends (its headers are a plain object). */
function headerOf(init: RequestInit | undefined, name: string): string {
  return String((init?.headers as Record<string, string> | undefined)?.[name]);
}

async function rejects(promise: Promise<unknown>, code: string): Promise<MinipayError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MinipayError, `expected a MinipayError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

describeOnStores('client library against the real server and sandbox', (stores) => {
  // One demo server per store (jobs off: only the client's ?sync=1 may find a payment), a new
  // user per test. A nested suite so it closes before the store's database goes away.
  describe('a demo server', () => {
    let demo: Demo;
    before(async () => {
      demo = await startDemo(undefined, await stores.freshUrl(), {
        jobs: false,
        // Every ?sync=1 asks the sandbox: these tests are about what the client does with
        // WeChat's answers (the server's interval between asks: test/server/rate-limits.test.ts).
        env: { MINIPAY_SYNC_INTERVAL_SECONDS: '0' },
      });
    });
    after(() => demo.launched.close());

    test('happy path: login, products, checkout, pay, and the server says PAID', async () => {
      const { wx, client, sheets, ordersInDb } = phone(demo);
      const session = await client.login();
      assert.match(session.user.id, /\S/);
      assert.match(wx.openid ?? '', /^o/);

      const products = await client.listProducts();
      const tea = products.find((p) => p.id === 'prd_jasmine_tea');
      assert.equal(tea?.priceFen, 3800);

      const checkout = await client.checkout([{ productId: 'prd_jasmine_tea', quantity: 2 }], {
        attach: 'table 4',
      });
      assert.equal(checkout.order.status, 'PENDING');
      assert.equal(checkout.order.totalFen, 7600);
      assert.equal(checkout.order.attach, 'table 4');
      assert.ok(checkout.payment);

      const result = await client.pay(checkout);
      assert.equal(result.status, 'paid', result.error?.message);
      assert.equal(result.order.status, 'PAID');
      assert.equal(result.order.id, checkout.order.id);
      assert.ok(result.order.transactionId, 'the server recorded WeChat transaction id');

      // The sheet got exactly the server's signed parameters, without appId.
      const { appId: _signedNotPassed, ...expected } = checkout.payment;
      assert.deepEqual(sheets, [expected]);
      assert.equal(demo.sandbox.trade(checkout.order.outTradeNo)?.tradeState, 'SUCCESS');
      const [row] = await ordersInDb();
      assert.equal(row?.status, 'PAID');
      assert.equal(await eventsOf(demo, checkout.order.id, 'order.paid'), 1);

      const page = await client.orders();
      assert.deepEqual(
        page.orders.map((o) => [o.id, o.status]),
        [[checkout.order.id, 'PAID']],
      );
    });

    test('the user cancels the sheet: a typed result, the order stays PENDING, then cancel: CLOSING, CLOSED', async (t) => {
      const { client } = phone(demo, { payer: () => 'cancel' });
      const checkout = await client.checkout([{ productId: 'prd_mooncake', quantity: 1 }]);
      const result = await client.pay(checkout);
      assert.equal(result.status, 'cancelled');
      assert.equal(result.error, undefined, 'a cancel is not an error');
      assert.equal((await client.order(checkout.order.id)).status, 'PENDING');
      assert.equal(demo.sandbox.trade(checkout.order.outTradeNo)?.tradeState, 'NOTPAY');

      // WeChat closes no order within 5 minutes of it (0.3 s here, which a slow machine may
      // pass), and the first close it accepts closes nothing: CLOSING whatever the timing, then
      // CLOSED by the close job.
      await demo.sandbox.setFaults({ closeLeavesNotpay: 1 });
      t.after(() => demo.sandbox.setFaults({ closeLeavesNotpay: 0 }));
      const closing = await client.cancel(checkout.order);
      assert.equal(closing.status, 'CLOSING');
      const refused = await client.pay(closing);
      assert.equal(refused.status, 'failed', 'no sheet for an order being cancelled');
      assert.equal(refused.error?.code, 'NOT_PAYABLE');
      await eventually(async () => {
        await demo.launched.server.payments.maintenance.close(); // the close job (jobs are off)
        return (await client.order(checkout.order.id)).status === 'CLOSED';
      });
      assert.equal(demo.sandbox.trade(checkout.order.outTradeNo)?.tradeState, 'CLOSED');
      // Paying a closed order is refused by the client without opening the sheet.
      const again = await client.pay(await client.order(checkout.order.id));
      assert.equal(again.status, 'failed');
      assert.equal(again.error?.code, 'NOT_PAYABLE');
    });

    test('a cancelled order can still be paid later: pay(order) fetches fresh parameters', async () => {
      const choices: PayerChoice[] = ['cancel', 'pay'];
      const { client, sheets, ordersInDb } = phone(demo, {
        payer: () => choices.shift() ?? 'pay',
      });
      const checkout = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
      assert.equal((await client.pay(checkout)).status, 'cancelled');
      const later = await client.pay(checkout.order);
      assert.equal(later.status, 'paid', later.error?.message);
      assert.equal(sheets.length, 2);
      assert.equal((await ordersInDb()).length, 1);
    });

    test('the session expired on the server: 401, the client logs in again and retries once', async () => {
      const { client, logins, ordersInDb } = phone(demo);
      const { user } = await client.login();
      assert.equal(logins(), 1);
      // The server ends the session early; the client's stored expiry still looks valid.
      await demo.launched.server.store.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('user_id', '=', user.id)
        .execute();

      const checkout = await client.checkout([{ productId: 'prd_tea_cup', quantity: 1 }]);
      assert.equal(checkout.order.status, 'PENDING');
      assert.equal(logins(), 2, 'one fresh wx.login after the 401');
      assert.equal((await ordersInDb()).length, 1);
      const sessions = await demo.launched.server.store.db
        .selectFrom('sessions')
        .select('expires_at')
        .where('user_id', '=', user.id)
        .execute();
      assert.equal(sessions.length, 2);

      // The renewed session is stored and used from now on: no more logins.
      await client.orders();
      assert.equal(logins(), 2);
    });

    test('a lost answer to checkout is retried with the same Idempotency-Key: one order', async () => {
      const keys: string[] = [];
      let dropped = 0;
      // A network that delivers the first checkout to the server, then loses its answer.
      const lossy: typeof fetch = async (input, init) => {
        const url = String(input);
        const isCheckout = init?.method === 'POST' && new URL(url).pathname === '/api/v1/orders';
        if (isCheckout) keys.push(headerOf(init, 'Idempotency-Key'));
        const res = await fetch(input, init);
        if (isCheckout && dropped === 0) {
          dropped++;
          await res.arrayBuffer();
          throw new TypeError('fetch failed: connection reset');
        }
        return res;
      };
      const { client, ordersInDb } = phone(demo, { fetch: lossy });
      const checkout = await client.checkout([{ productId: 'prd_jasmine_tea', quantity: 1 }]);
      assert.equal(keys.length, 2, 'the checkout was sent twice');
      assert.equal(keys[0], keys[1], 'with the same key');
      const rows = await ordersInDb();
      assert.deepEqual(
        rows.map((r) => r.id),
        [checkout.order.id],
        'the server made exactly one order',
      );
      assert.equal((await client.pay(checkout)).status, 'paid');
    });

    test('every retry lost: NETWORK_ERROR, and the caller retrying with the same key gets the same order', async () => {
      const keys: string[] = [];
      let online = false;
      const lossy: typeof fetch = async (input, init) => {
        const isCheckout =
          init?.method === 'POST' && new URL(String(input)).pathname === '/api/v1/orders';
        if (isCheckout) keys.push(headerOf(init, 'Idempotency-Key'));
        const res = await fetch(input, init);
        if (isCheckout && !online) {
          await res.arrayBuffer();
          throw new TypeError('fetch failed: network is unreachable');
        }
        return res;
      };
      const { client, ordersInDb } = phone(demo, { fetch: lossy });
      const err = await rejects(
        client.checkout([{ productId: 'prd_mooncake', quantity: 1 }], { idempotencyKey: 'tap-1' }),
        'NETWORK_ERROR',
      );
      assert.equal(err.status, 0);
      assert.deepEqual(keys, ['tap-1', 'tap-1', 'tap-1'], 'three tries, one key');
      const [created] = await ordersInDb();
      assert.ok(created, 'the server made the order even though no answer arrived');

      online = true;
      const checkout = await client.checkout([{ productId: 'prd_mooncake', quantity: 1 }], {
        idempotencyKey: 'tap-1',
      });
      assert.equal(checkout.order.id, created.id);
      assert.ok(checkout.payment, 'the stored answer carries the payment parameters');
      assert.equal((await ordersInDb()).length, 1);
    });

    test('paid but the notify never comes: confirm still ends PAID by asking WeChat (?sync=1)', async () => {
      const { client } = phone(demo, {
        payer: () => ({ notify: false }),
      });
      const checkout = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
      const result = await client.pay(checkout);
      assert.equal(result.status, 'paid', result.error?.message);
      assert.equal(result.order.status, 'PAID');
      const notified = demo.sandbox
        .notifications()
        .filter((n) => n.outTradeNo === checkout.order.outTradeNo);
      assert.deepEqual(
        notified.map((n) => [n.status, n.attemptCount]),
        [['suppressed', 0]],
        'the notification was never sent',
      );
      assert.equal(await eventsOf(demo, checkout.order.id, 'order.paid'), 1);
    });

    test('paid but every notify is dropped on the way: confirm ends PAID, once', async (t) => {
      const { client } = phone(demo);
      await faultsFor(t, demo, { dropNotifyRate: 1 });
      const checkout = await client.checkout([{ productId: 'prd_tea_cup', quantity: 2 }]);
      const result = await client.pay(checkout);
      assert.equal(result.status, 'paid', result.error?.message);
      assert.equal(result.order.totalFen, 13200);
      const delivered = demo.sandbox
        .notifications()
        .filter((n) => n.outTradeNo === checkout.order.outTradeNo && n.status === 'delivered');
      assert.deepEqual(delivered, [], 'no notification reached the server');
      assert.equal(await eventsOf(demo, checkout.order.id, 'order.paid'), 1);
    });

    test('paid and the notify comes late: confirm ends PAID first, the late notify changes nothing', async (t) => {
      const { client } = phone(demo);
      await faultsFor(t, demo, { delayNotifyMs: 1500 });
      const checkout = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
      const result = await client.pay(checkout);
      assert.equal(result.status, 'paid', result.error?.message);
      const outTradeNo = checkout.order.outTradeNo;
      await eventually(
        async () =>
          demo.sandbox
            .notifications()
            .some((n) => n.outTradeNo === outTradeNo && n.status === 'delivered'),
        10_000,
        'the late notify delivered',
      );
      assert.equal(await eventsOf(demo, checkout.order.id, 'order.paid'), 1);
      assert.equal((await client.order(checkout.order.id)).status, 'PAID');
    });

    test('the sheet says ok but the server cannot confirm yet: pending, and a later confirm says PAID', async (t) => {
      // WeChat has the money, but its notify is not sent and orderquery is failing for now.
      const { client } = phone(demo, {
        payer: () => ({ notify: false }),
        confirmAttempts: 2,
      });
      const checkout = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
      await demo.sandbox.setFaults({ systemErrorRate: { '/pay/orderquery': 1 } });
      t.after(() => demo.sandbox.setFaults({ systemErrorRate: { '/pay/orderquery': 0 } }));
      const result = await client.pay(checkout);
      assert.equal(result.status, 'pending');
      assert.equal(result.order.status, 'PENDING');
      await demo.sandbox.setFaults({ systemErrorRate: { '/pay/orderquery': 0 } });
      const confirmed = await client.confirm(checkout.order);
      assert.equal(confirmed.status, 'paid', confirmed.error?.message);
    });

    test('the bank refuses the payment: failed with PAYMENT_FAILED, the order stays open', async () => {
      const { client } = phone(demo, {
        payer: () => ({ result: 'PAYERROR' }),
      });
      const checkout = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
      const result = await client.pay(checkout);
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'PAYMENT_FAILED');
      assert.match(result.error?.errMsg ?? '', /^requestPayment:fail /);
      assert.notEqual(result.order.status, 'PAID');
    });

    test('the server refuses an unknown product with a typed error and makes no order', async () => {
      const { client, ordersInDb } = phone(demo);
      const err = await rejects(
        client.checkout([{ productId: 'prd_does_not_exist', quantity: 1 }]),
        'PRODUCT_UNAVAILABLE',
      );
      assert.equal(err.status, 422);
      assert.match(err.requestId ?? '', /\S/, 'the request id to quote');
      assert.deepEqual(await ordersInDb(), []);
      // A bad quantity is refused before anything is sent.
      await rejects(
        client.checkout([{ productId: 'prd_sample', quantity: 0 }]),
        'VALIDATION_FAILED',
      );
      assert.deepEqual(await ordersInDb(), []);
    });
  });
});
