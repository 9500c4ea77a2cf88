/**
 * Rate limits with the default configuration: logins per client address, admin requests with a
 * failing token per client address, checkout / payment / cancel per user, `?sync=1` asking
 * WeChat at most once per order in its interval; WeChat's notifies never limited. A refusal is
 * 429 RATE_LIMITED with Retry-After and writes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import type { RunningServer } from '../../src/app/runtime.js';
import { SettableClock } from '../support/admin-flow.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { ADMIN_TOKEN, client, startTestServer } from '../support/server.js';

const DEFAULTS = loadConfig({}).rateLimits;

function assertLimited(res: { status: number; headers: Headers; json: { error?: unknown } }) {
  assert.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`);
  const error = res.json.error as { code: string; message: string };
  assert.equal(error.code, 'RATE_LIMITED');
  assert.match(error.message, /^too many .*; retry in \d+ s/);
}

describe('rate limits (defaults)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-rate-'));
  let server: RunningServer;
  let gateway: MemoryGateway;
  let call: ReturnType<typeof client>;
  // Frozen: the sync interval passes only when the test says so, however slow the machine.
  const clock = new SettableClock();
  clock.frozen = new Date();
  let users = 0;
  const login = async () => {
    const r = await call('POST', '/api/v1/login', { body: { code: `code:rate-${++users}` } });
    assert.equal(r.status, 200, r.text);
    return r.json.token!;
  };
  let keys = 0;
  const checkout = (token: string) =>
    call('POST', '/api/v1/orders', {
      token,
      body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
      headers: { 'idempotency-key': `rate-${++keys}` },
    });
  const rows = async (table: 'orders' | 'sessions') =>
    (await server.store.db.selectFrom(table).selectAll().execute()).length;
  const calls = (op: string, outTradeNo?: string) =>
    gateway.calls.filter((c) => c.op === op && (!outTradeNo || c.outTradeNo === outTradeNo)).length;

  before(async () => {
    gateway = new MemoryGateway();
    server = await startTestServer({
      databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
      gateway,
      clock: clock.now,
    });
    call = client(server.url);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('they are on by default', () => {
    assert.deepEqual(DEFAULTS, {
      loginPerMinute: 60,
      adminFailuresPerMinute: 20,
      orderActionsPerMinute: 30,
    });
    assert.equal(loadConfig({}).syncIntervalSeconds, 3);
    const off = loadConfig({
      MINIPAY_RATE_LIMIT_LOGIN: '0',
      MINIPAY_RATE_LIMIT_ADMIN_FAILURES: '0',
      MINIPAY_RATE_LIMIT_ORDERS: '0',
      MINIPAY_SYNC_INTERVAL_SECONDS: '0',
    });
    assert.deepEqual(off.rateLimits, {
      loginPerMinute: 0,
      adminFailuresPerMinute: 0,
      orderActionsPerMinute: 0,
    });
    assert.throws(
      () => loadConfig({ MINIPAY_RATE_LIMIT_LOGIN: 'lots' }),
      /MINIPAY_RATE_LIMIT_LOGIN/,
    );
  });

  test('checkout, payment and cancel: per user, each; other users unaffected; nothing written', async () => {
    const alice = await login();
    const bob = await login();
    const max = DEFAULTS.orderActionsPerMinute;
    let firstOrder = '';
    for (let i = 0; i < max; i++) {
      const r = await checkout(alice);
      assert.equal(r.status, 201, r.text);
      firstOrder ||= r.json.order!.id;
    }
    const orders = await rows('orders');
    const prepays = calls('prepay');
    const refused = await checkout(alice);
    assertLimited(refused);
    assert.equal(await rows('orders'), orders, 'a refused checkout writes no order');
    assert.equal(calls('prepay'), prepays, 'and never reaches WeChat');
    assert.equal((await checkout(bob)).status, 201, 'another user is not limited');
    // The limit counts requests, not only successes: the 429s count too.
    assertLimited(await checkout(alice));

    for (let i = 0; i < max; i++) {
      const r = await call('POST', `/api/v1/orders/${firstOrder}/payment`, { token: alice });
      assert.equal(r.status, 200, r.text);
    }
    assertLimited(await call('POST', `/api/v1/orders/${firstOrder}/payment`, { token: alice }));
    for (let i = 0; i < max; i++) {
      const r = await call('POST', `/api/v1/orders/${firstOrder}/cancel`, { token: alice });
      assert.equal(r.status, 200, r.text);
    }
    assertLimited(await call('POST', `/api/v1/orders/${firstOrder}/cancel`, { token: alice }));
    // Reads are not limited.
    assert.equal((await call('GET', `/api/v1/orders/${firstOrder}`, { token: alice })).status, 200);
    // Without a session: 401 first, nothing counted against anybody.
    assert.equal((await checkout('no-such-token')).status, 401);
  });

  test('?sync=1 asks WeChat at most once per order in its interval, and answers from the store', async () => {
    const token = await login();
    const order = (await checkout(token)).json.order!;
    const sync = () => call('GET', `/api/v1/orders/${order.id}?sync=1`, { token });
    const answers = await Promise.all(Array.from({ length: 100 }, sync));
    for (let i = 0; i < 200; i++) answers.push(await sync());
    assert.ok(answers.every((a) => a.status === 200 && a.json.order?.status === 'PENDING'));
    assert.equal(calls('queryTrade', order.outTradeNo), 1, 'one orderquery for 300 syncs');
    // Paid meanwhile: the store answers PENDING until the interval has passed, then WeChat.
    gateway.pay(order.outTradeNo);
    assert.equal((await sync()).json.order?.status, 'PENDING');
    clock.frozen = new Date(clock.frozen!.getTime() + 3000);
    assert.equal((await sync()).json.order?.status, 'PAID');
    assert.equal(calls('queryTrade', order.outTradeNo), 2);
  });

  test("WeChat's notifies are never limited", async () => {
    const token = await login();
    const order = (await checkout(token)).json.order!;
    const body = gateway.pay(order.outTradeNo);
    for (let i = 0; i < 300; i++) {
      const r = await call('POST', '/wechatpay/v2/notify', {
        raw: body,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 200, `notify ${i}: ${r.status} ${r.text}`);
      assert.equal(r.headers.get('retry-after'), null);
    }
  });

  test('admin: failing tokens per client address, then 429 whatever the token; a right one is not counted', async () => {
    const max = DEFAULTS.adminFailuresPerMinute;
    for (let i = 0; i < 3 * max; i++) {
      const r = await call('GET', '/admin/v1/session', { token: ADMIN_TOKEN });
      assert.equal(r.status, 200, 'right tokens are never counted');
    }
    for (let i = 0; i < max; i++) {
      const r = await call('GET', '/admin/v1/session', i % 2 ? { token: `wrong-${i}` } : {});
      assert.equal(r.status, i % 2 ? 403 : 401);
    }
    assertLimited(await call('GET', '/admin/v1/session', { token: 'wrong-again' }));
    // Past the limit the token is not even looked at, so guessing gets nowhere.
    assertLimited(await call('GET', '/admin/v1/products', { token: ADMIN_TOKEN }));
    assertLimited(await call('GET', '/%61dmin/v1/products'));
  });

  test('login: per client address; a refusal makes no session', async () => {
    // Earlier tests logged in from this address too: use up what is left of the minute.
    let answered = 200;
    let logins = 0;
    while (answered === 200) {
      const r = await call('POST', '/api/v1/login', { body: { code: `code:many-${logins}` } });
      answered = r.status;
      if (answered === 200) logins++;
      else assertLimited(r);
    }
    assert.ok(logins <= DEFAULTS.loginPerMinute);
    const sessions = await rows('sessions');
    assertLimited(await call('POST', '/api/v1/login', { body: { code: 'code:one-more' } }));
    assert.equal(await rows('sessions'), sessions);
    // Another address is not this one's: X-Forwarded-For is not trusted by default.
    const forwarded = await call('POST', '/api/v1/login', {
      body: { code: 'code:spoofed' },
      headers: { 'x-forwarded-for': '198.51.100.9' },
    });
    assertLimited(forwarded);
  });
});
