import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../../src/app/runtime.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { ADMIN_TOKEN, client, startTestServer } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

const METRICS_TOKEN = 'test-metrics-token-0123456789';

describeOnStores('HTTP API', (stores) => {
  let server: RunningServer;
  let gateway: MemoryGateway;
  let call: ReturnType<typeof client>;
  let alice: string;
  let bob: string;

  const count = async (
    table: 'orders' | 'users' | 'idempotency_keys' | 'notifications' | 'products',
  ) => (await server.store.db.selectFrom(table).selectAll().execute()).length;
  const order = (token: string, key: string, body: unknown) =>
    call('POST', '/api/v1/orders', { token, body, headers: { 'idempotency-key': key } });

  before(async () => {
    gateway = new MemoryGateway();
    server = await startTestServer({
      databaseUrl: await stores.freshUrl(),
      gateway,
      config: { metricsToken: METRICS_TOKEN },
    });
    call = client(server.url);
    alice = (await call('POST', '/api/v1/login', { body: { code: 'code:alice' } })).json.token!;
    bob = (await call('POST', '/api/v1/login', { body: { code: 'code:bob' } })).json.token!;
  });
  after(() => server.close());

  test('login answers a token, never the session key; a bad code is 401', async () => {
    const r = await call('POST', '/api/v1/login', { body: { code: 'code:carol' } });
    assert.equal(r.status, 200);
    assert.match(r.json.token!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(r.json.user?.id.startsWith('usr_'));
    assert.ok(!r.text.includes('sk-carol'));
    const bad = await call('POST', '/api/v1/login', { body: { code: 'nope' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error?.code, 'UNAUTHORIZED');
    // Every answer has its own request id; a well-formed one the client sent is kept.
    assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f]{10}-[0-9a-z]+$/);
    assert.notEqual(r.headers.get('x-request-id'), bad.headers.get('x-request-id'));
    const traced = await call('GET', '/healthz', { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(traced.headers.get('x-request-id'), 'trace-42');
  });

  test('malformed bodies get a clear 4xx and write nothing', async () => {
    const users = await count('users');
    const cases: [
      string,
      { raw?: string | Buffer; body?: unknown; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      [
        'not JSON',
        { raw: '{"code":', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['extra field', { body: { code: 'code:x', admin: true } }, 400, 'VALIDATION_FAILED'],
      ['wrong type', { body: { code: 42 } }, 400, 'VALIDATION_FAILED'],
      [
        'empty',
        { raw: '', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'XML (XXE)',
        {
          raw: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
          headers: { 'content-type': 'application/xml' },
        },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'oversized',
        {
          raw: JSON.stringify({ code: 'x'.repeat(20_000) }),
          headers: { 'content-type': 'application/json' },
        },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'prototype poisoning',
        {
          raw: '{"code":"code:p","__proto__":{"x":1}}',
          headers: { 'content-type': 'application/json' },
        },
        400,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [what, options, status, code] of cases) {
      const r = await call('POST', '/api/v1/login', options);
      assert.equal(r.status, status, what);
      assert.equal(r.json.error?.code, code, what);
      assert.ok(r.json.error?.message, what);
    }
    for (const [what, options, status, code] of cases.slice(0, 1).concat(cases.slice(4))) {
      const r = await call('POST', '/api/v1/orders', {
        ...options,
        token: alice,
        headers: { ...options.headers, 'idempotency-key': `bad-${what}` },
      });
      assert.equal(r.status, status, `orders: ${what}`);
      assert.equal(r.json.error?.code, code, `orders: ${what}`);
    }
    assert.equal(await count('users'), users);
    assert.equal(await count('orders'), 0);
    assert.equal(await count('idempotency_keys'), 0);
  });

  test('products: active only, prices in fen', async () => {
    const r = await call('GET', '/api/v1/products');
    assert.equal(r.status, 200);
    assert.deepEqual(
      // Both are seeded in one millisecond or two: the order between them is not the point here.
      r.json.products!.map((p) => [p.id, p.priceFen]).sort(),
      [
        ['prd_cake', 1500],
        ['prd_tea', 600],
      ],
    );
  });

  test('orders need a token, an Idempotency-Key, and ignore client prices', async () => {
    assert.equal((await call('GET', '/api/v1/orders')).status, 401);
    assert.equal(
      (await call('GET', '/api/v1/orders', { token: 'forged' })).json.error?.code,
      'UNAUTHORIZED',
    );
    const noKey = await call('POST', '/api/v1/orders', {
      token: alice,
      body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
    });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.json.error?.code, 'IDEMPOTENCY_KEY_REQUIRED');
    const cheap = await order(alice, 'cheap-1', {
      items: [{ productId: 'prd_tea', quantity: 2, priceFen: 1, unitPriceFen: 1 }],
      totalFen: 2,
    });
    assert.equal(cheap.status, 201);
    assert.equal(cheap.json.order?.totalFen, 1200);
    assert.equal(gateway.trades.get(cheap.json.order!.outTradeNo)!.request.totalFen, 1200);
    const again = await order(alice, 'cheap-1', { items: [{ productId: 'prd_tea', quantity: 2 }] });
    assert.equal(
      again.json.order?.id,
      cheap.json.order?.id,
      'a price change is not a different request',
    );
    const other = await order(alice, 'cheap-1', { items: [{ productId: 'prd_tea', quantity: 3 }] });
    assert.equal(other.status, 422);
    assert.equal(other.json.error?.code, 'IDEMPOTENCY_KEY_REUSED');
    const unavailable = await order(alice, 'gone', {
      items: [{ productId: 'prd_gone', quantity: 1 }],
    });
    assert.equal(unavailable.status, 422);
    assert.equal(unavailable.json.error?.code, 'PRODUCT_UNAVAILABLE');
  });

  test("a user only sees their own orders; another's is 404 everywhere", async () => {
    const mine = await order(alice, 'mine-1', { items: [{ productId: 'prd_cake', quantity: 1 }] });
    const id = mine.json.order!.id;
    for (const [method, path] of [
      ['GET', `/api/v1/orders/${id}`],
      ['GET', `/api/v1/orders/${id}?sync=1`],
      ['POST', `/api/v1/orders/${id}/payment`],
      ['POST', `/api/v1/orders/${id}/cancel`],
    ] as const) {
      const r = await call(method, path, { token: bob });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.json.error?.code, 'NOT_FOUND');
    }
    const list = await call('GET', '/api/v1/orders', { token: bob });
    assert.deepEqual(list.json.orders, []);
    const own = await call('GET', `/api/v1/orders/${id}`, { token: alice });
    assert.equal(own.json.order?.status, 'PENDING');
  });

  test('orders list pages newest first with a cursor', async () => {
    const token = (await call('POST', '/api/v1/login', { body: { code: 'code:pager' } })).json
      .token!;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await order(token, `page-${i}`, { items: [{ productId: 'prd_tea', quantity: 1 }] })).json
          .order!.id,
      );
    }
    const first = await call('GET', '/api/v1/orders?limit=2', { token });
    assert.equal(first.json.orders?.length, 2);
    const second = await call('GET', `/api/v1/orders?limit=2&cursor=${first.json.nextCursor}`, {
      token,
    });
    assert.equal(second.json.orders?.length, 1);
    assert.equal(second.json.nextCursor, null);
    const seen = [...first.json.orders!, ...second.json.orders!].map((o) => o.id);
    assert.deepEqual(new Set(seen), new Set(ids));
    assert.equal((await call('GET', '/api/v1/orders?limit=abc', { token })).status, 400);
    assert.equal((await call('GET', '/api/v1/orders?cursor=%%%', { token })).status, 400);
  });

  test('notify over HTTP: PAID, duplicates ok; oversized and garbage refused, nothing written', async () => {
    const placed = await order(alice, 'notify-1', {
      items: [{ productId: 'prd_tea', quantity: 1 }],
    });
    const body = gateway.pay(placed.json.order!.outTradeNo);
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/wechatpay/v2/notify', {
        raw: body,
        headers: { 'content-type': 'text/xml' },
      });
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.text).outcome, 'ok');
    }
    const paid = await call('GET', `/api/v1/orders/${placed.json.order!.id}`, { token: alice });
    assert.equal(paid.json.order?.status, 'PAID');
    const notes = await count('notifications');
    const big = await call('POST', '/wechatpay/v2/notify', {
      raw: 'x'.repeat(70_000),
      headers: { 'content-type': 'text/xml' },
    });
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.text).outcome, 'reject');
    const garbage = await call('POST', '/wechatpay/v2/notify', { raw: '<xml><a>1</a></xml>' });
    assert.equal(JSON.parse(garbage.text).outcome, 'reject');
    assert.equal(await count('notifications'), notes);
  });

  test('admin: 401 without token, 403 with a wrong one; products can be created and changed', async () => {
    assert.equal((await call('GET', '/admin/v1/products')).status, 401);
    const wrong = await call('GET', '/admin/v1/products', { token: 'x'.repeat(27) });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.error?.code, 'FORBIDDEN');
    const session = await call('GET', '/admin/v1/session', { token: ADMIN_TOKEN });
    assert.equal(session.json.ok, true);
    const created = await call('POST', '/admin/v1/products', {
      token: ADMIN_TOKEN,
      body: { id: 'prd_new', name: 'Oolong', priceFen: 800 },
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.product?.priceFen, 800);
    const dup = await call('POST', '/admin/v1/products', {
      token: ADMIN_TOKEN,
      body: { id: 'prd_new', name: 'x', priceFen: 1 },
    });
    assert.equal(dup.status, 409);
    const bad = await call('POST', '/admin/v1/products', {
      token: ADMIN_TOKEN,
      body: { name: 'x', priceFen: 1.5 },
    });
    assert.equal(bad.status, 400);
    const patched = await call('PATCH', '/admin/v1/products/prd_new', {
      token: ADMIN_TOKEN,
      body: { active: false },
    });
    assert.equal(patched.json.product?.active, false);
    const all = await call('GET', '/admin/v1/products', { token: ADMIN_TOKEN });
    assert.ok(all.json.products!.some((p) => p.id === 'prd_new' && !p.active));
    const missing = await call('PATCH', '/admin/v1/products/prd_nope', {
      token: ADMIN_TOKEN,
      body: { active: false },
    });
    assert.equal(missing.status, 404);
  });

  test('stock: the catalogue shows what is left; sold out is 409 OUT_OF_STOCK, nothing written', async () => {
    const made = await call('POST', '/admin/v1/products', {
      token: ADMIN_TOKEN,
      body: { id: 'prd_two_left', name: 'Last two', priceFen: 900, stock: 2 },
    });
    assert.equal(made.status, 201, made.text);
    const left = async () =>
      (await call('GET', '/api/v1/products')).json.products!.find((p) => p.id === 'prd_two_left')
        ?.stock;
    assert.equal(await left(), 2);
    const bought = await order(bob, 'two-left-1', {
      items: [{ productId: 'prd_two_left', quantity: 2 }],
    });
    assert.equal(bought.status, 201, bought.text);
    assert.equal(await left(), 0);
    const orders = await count('orders');
    const soldOut = await order(alice, 'two-left-2', {
      items: [{ productId: 'prd_two_left', quantity: 1 }],
    });
    assert.equal(soldOut.status, 409);
    assert.deepEqual(soldOut.json.error, {
      code: 'OUT_OF_STOCK',
      message: '"Last two" (prd_two_left) is sold out',
    });
    assert.equal(await count('orders'), orders);
    // Bob cancels: CLOSING (WeChat closes no order within 5 minutes of it) still holds them.
    const id = bought.json.order!.id;
    const cancelled = await call('POST', `/api/v1/orders/${id}/cancel`, { token: bob });
    assert.equal(cancelled.json.order?.status, 'CLOSING');
    assert.equal(await left(), 0);
    // Six minutes on, the close job closes it at WeChat: CLOSED, the two are for sale again.
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000).toISOString();
    await server.store.db
      .updateTable('orders')
      .set({ created_at: sixMinutesAgo, next_query_at: sixMinutesAgo })
      .where('id', '=', id)
      .execute();
    await server.payments.maintenance.close();
    assert.equal(
      (await call('GET', `/api/v1/orders/${id}`, { token: bob })).json.order?.status,
      'CLOSED',
    );
    assert.equal(await left(), 2);
    const admin = await call('GET', '/admin/v1/products', { token: ADMIN_TOKEN });
    assert.equal(admin.json.products!.find((p) => p.id === 'prd_two_left')?.stock, 2);
  });

  test('attach WeChat could not return unchanged is a 400; nothing written, WeChat not asked', async () => {
    const carol = (await call('POST', '/api/v1/login', { body: { code: 'code:carol-attach' } }))
      .json.token!;
    const before = {
      orders: await count('orders'),
      keys: await count('idempotency_keys'),
      prepays: gateway.calls.filter((c) => c.op === 'prepay').length,
    };
    const attaches: [string, RegExp][] = [
      ['table\u00004', /control/],
      ['table\n4', /control/],
      [' table 4', /whitespace/],
      ['', /empty/],
      ['桌'.repeat(43), /129 bytes/],
    ];
    for (const [i, [attach, reason]] of attaches.entries()) {
      const r = await order(carol, `attach-${i}`, {
        items: [{ productId: 'prd_tea', quantity: 1 }],
        attach,
      });
      assert.equal(r.status, 400, `${JSON.stringify(attach)}: ${r.text}`);
      assert.equal(r.json.error?.code, 'VALIDATION_FAILED');
      assert.match(r.json.error!.message, reason);
    }
    const lone = await call('POST', '/api/v1/orders', {
      token: carol,
      raw: '{"items":[{"productId":"prd_tea","quantity":1}],"attach":"t\\ud800"}',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'attach-lone' },
    });
    assert.equal(lone.status, 400, lone.text);
    assert.match(lone.json.error!.message, /surrogate/);
    assert.deepEqual(
      {
        orders: await count('orders'),
        keys: await count('idempotency_keys'),
        prepays: gateway.calls.filter((c) => c.op === 'prepay').length,
      },
      before,
    );
    const ok = await order(carol, 'attach-ok', {
      items: [{ productId: 'prd_tea', quantity: 1 }],
      attach: '桌'.repeat(42),
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.order?.attach, '桌'.repeat(42));
  });

  test('a total over what WeChat carries (2,147,483,647 fen) is a 422 before WeChat; prices are capped', async () => {
    for (const id of ['prd_max_a', 'prd_max_b', 'prd_max_c']) {
      const made = await call('POST', '/admin/v1/products', {
        token: ADMIN_TOKEN,
        body: { id, name: `Gold ${id}`, priceFen: 10_000_000 },
      });
      assert.equal(made.status, 201, made.text);
    }
    const over = await call('POST', '/admin/v1/products', {
      token: ADMIN_TOKEN,
      body: { name: 'Too dear', priceFen: 10_000_001 },
    });
    assert.equal(over.status, 400);
    assert.equal(over.json.error?.code, 'VALIDATION_FAILED');
    const raised = await call('PATCH', '/admin/v1/products/prd_max_a', {
      token: ADMIN_TOKEN,
      body: { priceFen: 2_147_483_648 },
    });
    assert.equal(raised.status, 400);
    const dave = (await call('POST', '/api/v1/login', { body: { code: 'code:dave-total' } })).json
      .token!;
    const orders = await count('orders');
    const prepays = gateway.calls.filter((c) => c.op === 'prepay').length;
    // 3 × 99 × ¥100,000 = ¥29,700,000.00 = 2,970,000,000 fen.
    const tooMuch = await order(dave, 'total-1', {
      items: ['prd_max_a', 'prd_max_b', 'prd_max_c'].map((productId) => ({
        productId,
        quantity: 99,
      })),
    });
    assert.equal(tooMuch.status, 422, tooMuch.text);
    assert.deepEqual(tooMuch.json.error, {
      code: 'TOTAL_TOO_LARGE',
      message:
        'the order comes to ¥29700000.00; one WeChat Pay payment carries at most ¥21474836.47: order fewer',
    });
    assert.equal(await count('orders'), orders);
    assert.equal(gateway.calls.filter((c) => c.op === 'prepay').length, prepays);
    // Two lines of the same: ¥19,800,000.00, under the ceiling.
    const fits = await order(dave, 'total-2', {
      items: ['prd_max_a', 'prd_max_b'].map((productId) => ({ productId, quantity: 99 })),
    });
    assert.equal(fits.status, 201, fits.text);
    assert.equal(fits.json.order?.totalFen, 1_980_000_000);
  });

  test('health, readiness, metrics and OpenAPI', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 200);
    // /metrics takes MINIPAY_METRICS_TOKEN only; without one configured it serves nothing.
    assert.equal((await call('GET', '/metrics')).status, 401);
    assert.equal((await call('GET', '/metrics', { token: ADMIN_TOKEN })).status, 403);
    const metrics = await call('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(metrics.status, 200, metrics.text);
    assert.match(metrics.text, /# TYPE minipay_http_requests_total counter/);
    assert.match(metrics.text, /minipay_orders_created_total \d+/);
    const openapi = await call('GET', '/docs/openapi.json');
    assert.ok(openapi.json.paths?.['/api/v1/orders']);
    assert.ok(openapi.json.paths?.['/wechatpay/v2/notify']);
    assert.equal((await call('GET', '/openapi.json')).status, 200);
    const unknown = await call('GET', '/api/v1/nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error?.code, 'NOT_FOUND');
  });
});
