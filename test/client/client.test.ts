import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMinipayClient, type MinipayClient } from '../../src/client/client.js';
import { isSafeToRetry, MinipayError } from '../../src/client/errors.js';
import type { PlatformRequest, PlatformResponse } from '../../src/client/platform.js';
import { retryAfterMs, SESSION_STORAGE_KEY } from '../../src/client/transport.js';
import {
  apiError,
  FakePlatform,
  type Handler,
  json,
  loginAnswer,
  order,
  PAYMENT,
} from './fake-platform.js';

const BASE = 'http://127.0.0.1:9';

function client(platform: FakePlatform, confirmAttempts = 3): MinipayClient {
  return createMinipayClient({
    baseUrl: BASE,
    platform,
    sleep: platform.sleep,
    random: () => 1,
    confirm: { attempts: confirmAttempts, intervalMs: 700 },
  });
}

/** A fake server: login gives token-N; other routes answer from `routes` by "METHOD /path". */
function server(
  routes: Record<string, (req: PlatformRequest) => PlatformResponse | 'network-error'>,
): Handler {
  let logins = 0;
  return (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === 'POST' && path === '/api/v1/login') return loginAnswer(`token-${++logins}`);
    const route = routes[`${req.method} ${path}`];
    if (!route) return apiError(404, 'NOT_FOUND', `no route ${req.method} ${path}`);
    return route(req);
  };
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

describe('client: session', () => {
  test('logs in once, sends the token, and a second client reuses the stored session', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders': () => json(200, { orders: [], nextCursor: null }) }),
    );
    await client(platform).orders();
    await client(platform).orders({ limit: 5, cursor: 'c 1' });
    assert.equal(platform.to('POST', '/api/v1/login').length, 1);
    assert.deepEqual(platform.to('POST', '/api/v1/login')[0]?.data, { code: 'code-1' });
    const listed = platform.to('GET', '/api/v1/orders');
    assert.deepEqual(
      listed.map((r) => r.header.Authorization),
      ['Bearer token-1', 'Bearer token-1'],
    );
    assert.equal(listed[1]?.url, `${BASE}/api/v1/orders?limit=5&cursor=c%201`);
    assert.match(platform.store.get(SESSION_STORAGE_KEY) ?? '', /token-1/);
  });

  test('a 401 logs in again with a new code and retries the call once with the new token', async () => {
    const platform = new FakePlatform(
      server({
        'GET /api/v1/orders/ord_1': (req) =>
          req.header.Authorization === 'Bearer token-1'
            ? apiError(401, 'UNAUTHORIZED', 'token expired')
            : json(200, { order: order() }),
      }),
    );
    const got = await client(platform).order('ord_1');
    assert.equal(got.id, 'ord_1');
    assert.equal(platform.codes, 2);
    assert.deepEqual(
      platform.to('GET', '/api/v1/orders/ord_1').map((r) => r.header.Authorization),
      ['Bearer token-1', 'Bearer token-2'],
    );
  });

  test('a second 401 is not retried again: the caller gets UNAUTHORIZED', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders/ord_1': () => apiError(401, 'UNAUTHORIZED', 'no') }),
    );
    const err = await rejects(client(platform).order('ord_1'), 'UNAUTHORIZED');
    assert.equal(err.status, 401);
    assert.equal(err.requestId, 'req-1');
    assert.equal(platform.to('GET', '/api/v1/orders/ord_1').length, 2);
  });

  test('a login lost to the network is retried with a fresh wx.login code', async () => {
    let loginCalls = 0;
    const platform = new FakePlatform((req) => {
      if (new URL(req.url).pathname === '/api/v1/login') {
        return ++loginCalls === 1 ? 'network-error' : loginAnswer('token-x');
      }
      return json(200, { orders: [], nextCursor: null });
    });
    await client(platform).orders();
    assert.deepEqual(
      platform.to('POST', '/api/v1/login').map((r) => r.data),
      [{ code: 'code-1' }, { code: 'code-2' }],
    );
  });

  test('baseUrl may be the API URL minipay start prints (…/api/v1), with or without a slash', async () => {
    for (const baseUrl of [`${BASE}/api/v1`, `${BASE}/api/v1/`, `${BASE}/`]) {
      const platform = new FakePlatform(
        server({ 'GET /api/v1/products': () => json(200, { products: [] }) }),
      );
      await createMinipayClient({ baseUrl, platform }).listProducts();
      assert.equal(platform.requests[0]?.url, `${BASE}/api/v1/products`, baseUrl);
    }
  });

  test('a session stored for another server is not sent to this one', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders': () => json(200, { orders: [], nextCursor: null }) }),
    );
    platform.store.set(
      SESSION_STORAGE_KEY,
      JSON.stringify({
        baseUrl: 'http://elsewhere',
        token: 'foreign',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        user: { id: 'u' },
      }),
    );
    await client(platform).orders();
    assert.equal(platform.to('GET', '/api/v1/orders')[0]?.header.Authorization, 'Bearer token-1');
  });
  test('logout ends the session on the server, then forgets it here', async () => {
    const platform = new FakePlatform(
      server({
        'GET /api/v1/orders': () => json(200, { orders: [], nextCursor: null }),
        'POST /api/v1/logout': () => json(200, { ok: true }),
      }),
    );
    const c = client(platform);
    await c.orders();
    await c.logout();
    const [loggedOut] = platform.to('POST', '/api/v1/logout');
    assert.equal(loggedOut?.header.Authorization, 'Bearer token-1');
    assert.equal(platform.store.get(SESSION_STORAGE_KEY), undefined);
    await c.orders();
    assert.equal(platform.to('POST', '/api/v1/login').length, 2, 'the next call logs in again');
  });

  test('logout without a session asks nothing; offline it still forgets the session', async () => {
    const quiet = new FakePlatform(server({}));
    await client(quiet).logout();
    assert.equal(quiet.requests.length, 0);

    const offline = new FakePlatform(
      server({
        'GET /api/v1/orders': () => json(200, { orders: [], nextCursor: null }),
        'POST /api/v1/logout': () => 'network-error',
      }),
    );
    const c = client(offline);
    await c.orders();
    await c.logout();
    assert.equal(offline.store.get(SESSION_STORAGE_KEY), undefined);
    assert.equal(offline.to('POST', '/api/v1/logout').length, 1, 'no retries on the way out');
  });
});

describe('client: checkout and retries', () => {
  test('a network error is retried with the same Idempotency-Key; a new checkout gets a new key', async () => {
    let posts = 0;
    const platform = new FakePlatform(
      server({
        'POST /api/v1/orders': () =>
          ++posts === 1 ? 'network-error' : json(201, { order: order(), payment: PAYMENT }),
      }),
    );
    const c = client(platform);
    const first = await c.checkout([{ productId: 'prd_tea', quantity: 2 }], { attach: 'table 4' });
    assert.equal(first.order.id, 'ord_1');
    await c.checkout([{ productId: 'prd_tea', quantity: 2 }]);
    const keys = platform.to('POST', '/api/v1/orders').map((r) => r.header['Idempotency-Key']);
    assert.equal(keys.length, 3);
    assert.match(keys[0] ?? '', /^mp_[0-9a-f]{32}$/);
    assert.equal(keys[1], keys[0], 'the retry reuses the key');
    assert.notEqual(keys[2], keys[0], 'another checkout has its own key');
    assert.deepEqual(platform.to('POST', '/api/v1/orders')[0]?.data, {
      items: [{ productId: 'prd_tea', quantity: 2 }],
      attach: 'table 4',
    });
    assert.deepEqual(platform.sleeps, [300], 'one backoff before the retry');
  });

  test('a caller-kept key is sent as is, so a repeated tap cannot make a second order', async () => {
    const platform = new FakePlatform(
      server({ 'POST /api/v1/orders': () => json(201, { order: order(), payment: PAYMENT }) }),
    );
    await client(platform).checkout([{ productId: 'prd_tea', quantity: 1 }], {
      idempotencyKey: 'kept-key-1',
    });
    assert.equal(platform.to('POST', '/api/v1/orders')[0]?.header['Idempotency-Key'], 'kept-key-1');
    for (const bad of ['', 'x'.repeat(256), 'has space', 'ключ']) {
      await rejects(
        client(platform).checkout([{ productId: 'prd_tea', quantity: 1 }], { idempotencyKey: bad }),
        'VALIDATION_FAILED',
      );
    }
    assert.equal(platform.to('POST', '/api/v1/orders').length, 1, 'bad keys are never sent');
  });

  test('retries are bounded, back off exponentially up to the cap, then NETWORK_ERROR', async () => {
    const platform = new FakePlatform(server({ 'POST /api/v1/orders': () => 'network-error' }));
    const c = createMinipayClient({
      baseUrl: BASE,
      platform,
      sleep: platform.sleep,
      random: () => 1,
      retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 500 },
    });
    const err = await rejects(c.checkout([{ productId: 'prd_tea', quantity: 1 }]), 'NETWORK_ERROR');
    assert.equal(err.status, 0);
    assert.equal(err.errMsg, 'request:fail timeout');
    const posts = platform.to('POST', '/api/v1/orders');
    assert.equal(posts.length, 5);
    assert.equal(new Set(posts.map((r) => r.header['Idempotency-Key'])).size, 1);
    assert.deepEqual(platform.sleeps, [100, 200, 400, 500]);
  });

  test('jitter keeps each wait between half and all of the planned delay', async () => {
    const platform = new FakePlatform(server({ 'GET /api/v1/orders': () => 'network-error' }));
    const c = createMinipayClient({
      baseUrl: BASE,
      platform,
      sleep: platform.sleep,
      random: () => 0,
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    });
    await rejects(c.orders(), 'NETWORK_ERROR');
    assert.deepEqual(platform.sleeps, [50, 100]);
  });

  test('IDEMPOTENCY_IN_PROGRESS and 502 are retried; business refusals are not', async () => {
    const answers = [
      apiError(409, 'IDEMPOTENCY_IN_PROGRESS'),
      apiError(502, 'WECHATPAY_UNAVAILABLE'),
      json(201, { order: order(), payment: PAYMENT }),
    ];
    const platform = new FakePlatform(
      server({ 'POST /api/v1/orders': () => answers.shift() ?? apiError(500, 'INTERNAL') }),
    );
    const created = await client(platform).checkout([{ productId: 'prd_tea', quantity: 1 }]);
    assert.equal(created.payment?.paySign, PAYMENT.paySign);
    assert.equal(platform.to('POST', '/api/v1/orders').length, 3);

    const refusing = new FakePlatform(
      server({
        'POST /api/v1/orders': () => apiError(422, 'PRODUCT_UNAVAILABLE', 'prd_x is not for sale'),
      }),
    );
    const err = await rejects(
      client(refusing).checkout([{ productId: 'prd_x', quantity: 1 }]),
      'PRODUCT_UNAVAILABLE',
    );
    assert.equal(err.message, 'prd_x is not for sale');
    assert.equal(refusing.to('POST', '/api/v1/orders').length, 1);
  });

  test('a 429 with Retry-After waits as long as the server asks, never less', async () => {
    const answers = [
      { ...apiError(429, 'RATE_LIMITED'), header: { 'Retry-After': '2' } },
      json(200, { orders: [], nextCursor: null }),
    ];
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders': () => answers.shift() ?? apiError(500, 'INTERNAL') }),
    );
    const c = createMinipayClient({
      baseUrl: BASE,
      platform,
      sleep: platform.sleep,
      random: () => 1,
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 3000 },
    });
    await c.orders();
    assert.deepEqual(platform.sleeps, [2000]);
    assert.equal(platform.to('GET', '/api/v1/orders').length, 2);
  });

  test('a Retry-After longer than the policy allows is not waited for: the caller gets it', async () => {
    const platform = new FakePlatform(
      server({
        'POST /api/v1/orders': () => ({
          ...apiError(429, 'RATE_LIMITED', 'too many orders; retry in 40 s'),
          header: { 'retry-after': '40' },
        }),
      }),
    );
    const err = await rejects(
      client(platform).checkout([{ productId: 'prd_tea', quantity: 1 }]),
      'RATE_LIMITED',
    );
    assert.equal(err.retryAfterMs, 40_000);
    assert.deepEqual(platform.sleeps, []);
    assert.equal(platform.to('POST', '/api/v1/orders').length, 1);
  });

  test('Retry-After is read as seconds or an HTTP date; anything else is ignored', () => {
    const now = Date.parse('2026-12-05T04:00:00Z');
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Sat, 05 Dec 2026 04:00:07 GMT', now), 7000);
    assert.equal(retryAfterMs('Sat, 05 Dec 2026 03:00:00 GMT', now), 0);
    for (const bad of [undefined, '', '-1', '1.5', 'soon', '99999999999', '12:00']) {
      assert.equal(retryAfterMs(bad, now), undefined, String(bad));
    }
  });

  test('isSafeToRetry: no answer, still in progress or a server failure keep the key; refusals do not', async () => {
    const failing = async (answer: ReturnType<Handler>) => {
      const platform = new FakePlatform(server({ 'POST /api/v1/orders': () => answer }));
      try {
        await client(platform).checkout([{ productId: 'prd_tea', quantity: 1 }]);
      } catch (err) {
        return err;
      }
      assert.fail('expected the checkout to fail');
    };
    const keep = [
      'network-error' as const,
      apiError(409, 'IDEMPOTENCY_IN_PROGRESS'),
      apiError(503, 'SERVICE_UNAVAILABLE'),
      apiError(429, 'RATE_LIMITED'),
    ];
    for (const answer of keep) assert.equal(isSafeToRetry(await failing(answer)), true);
    const drop = [
      apiError(422, 'PRODUCT_UNAVAILABLE'),
      apiError(422, 'IDEMPOTENCY_KEY_REUSED'),
      apiError(409, 'ORDER_NOT_PENDING'),
      apiError(400, 'VALIDATION_FAILED'),
      json(200, 'not json'),
    ];
    for (const answer of drop) assert.equal(isSafeToRetry(await failing(answer)), false);
    assert.equal(isSafeToRetry(new Error('not from minipay')), false);
  });

  test('bad items are refused before anything is sent', async () => {
    const platform = new FakePlatform(server({}));
    const c = client(platform);
    await rejects(c.checkout([]), 'VALIDATION_FAILED');
    await rejects(c.checkout([{ productId: 'prd_tea', quantity: 0 }]), 'VALIDATION_FAILED');
    await rejects(c.checkout([{ productId: 'prd_tea', quantity: 1.5 }]), 'VALIDATION_FAILED');
    await rejects(c.checkout([{ productId: '', quantity: 1 }]), 'VALIDATION_FAILED');
    const many = Array.from({ length: 21 }, () => ({ productId: 'p', quantity: 1 }));
    await rejects(c.checkout(many), 'VALIDATION_FAILED');
    await rejects(
      c.checkout([{ productId: 'p', quantity: 1 }], { attach: 'x'.repeat(128) }),
      'VALIDATION_FAILED',
    );
    assert.equal(platform.requests.length, 0);
  });

  test('an answer that is not minipay JSON is a BAD_RESPONSE that names baseUrl', async () => {
    const platform = new FakePlatform(() => json(200, '<html>captive portal</html>'));
    const err = await rejects(client(platform).listProducts(), 'BAD_RESPONSE');
    assert.match(err.message, /baseUrl/);
    const notFound = new FakePlatform(() => json(404, 'Not Found'));
    await rejects(client(notFound).listProducts(), 'BAD_RESPONSE');
    assert.throws(
      () => createMinipayClient({ baseUrl: 'pay.example.com', platform }),
      /baseUrl must be an http\(s\) URL/,
    );
  });
});

describe('client: pay and confirm', () => {
  test('requestPayment gets exactly the server parameters (without appId), then the server confirms', async () => {
    const platform = new FakePlatform(
      server({
        'GET /api/v1/orders/ord_1': () => json(200, { order: order({ status: 'PAID' }) }),
      }),
    );
    const result = await client(platform).pay({ order: order(), payment: PAYMENT });
    assert.equal(result.status, 'paid');
    const { appId: _signedOnly, ...expected } = PAYMENT;
    assert.deepEqual(platform.payments, [expected]);
    const asked = platform.to('GET', '/api/v1/orders/ord_1');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.url, `${BASE}/api/v1/orders/ord_1?sync=1`);
  });

  test('requestPayment:fail cancel is a cancelled result and asks the server nothing', async () => {
    const platform = new FakePlatform(server({}));
    platform.paymentOutcome = 'requestPayment:fail cancel';
    const result = await client(platform).pay({ order: order(), payment: PAYMENT });
    assert.equal(result.status, 'cancelled');
    assert.equal(result.order.status, 'PENDING');
    assert.equal(result.error, undefined);
    assert.equal(platform.requests.length, 0);
  });

  test('another requestPayment failure asks the server once, then is a typed failure', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders/ord_1': () => json(200, { order: order() }) }),
    );
    platform.paymentOutcome = 'requestPayment:fail (detail message)';
    const result = await client(platform).pay({ order: order(), payment: PAYMENT });
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'PAYMENT_FAILED');
    assert.equal(result.error?.errMsg, 'requestPayment:fail (detail message)');
    assert.equal(platform.to('GET', '/api/v1/orders/ord_1').length, 1);
  });

  test('a failure callback does not hide a payment the server has', async () => {
    const platform = new FakePlatform(
      server({
        'GET /api/v1/orders/ord_1': () => json(200, { order: order({ status: 'PAID' }) }),
      }),
    );
    platform.paymentOutcome = 'requestPayment:fail system error';
    assert.equal((await client(platform).pay({ order: order(), payment: PAYMENT })).status, 'paid');
  });

  test('confirm polls a bounded number of times and never declares PAID by itself', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders/ord_1': () => json(200, { order: order() }) }),
    );
    const result = await client(platform, 4).pay({ order: order(), payment: PAYMENT });
    assert.equal(result.status, 'pending', 'requestPayment:ok alone proves nothing');
    assert.equal(platform.to('GET', '/api/v1/orders/ord_1').length, 4);
    assert.deepEqual(platform.sleeps, [700, 700, 700]);
  });

  test('confirm stops as soon as the server has decided', async () => {
    const states = ['PENDING', 'PENDING', 'PAID'] as const;
    let i = 0;
    const platform = new FakePlatform(
      server({
        'GET /api/v1/orders/ord_1': () =>
          json(200, { order: order({ status: states[Math.min(i++, 2)] }) }),
      }),
    );
    const result = await client(platform, 10).confirm('ord_1');
    assert.equal(result.status, 'paid');
    assert.equal(platform.to('GET', '/api/v1/orders/ord_1').length, 3);
  });

  test('confirm reports pending (not failed) when the server cannot be reached', async () => {
    const platform = new FakePlatform(
      server({ 'GET /api/v1/orders/ord_1': () => 'network-error' }),
    );
    const result = await client(platform).confirm(order());
    assert.equal(result.status, 'pending');
    assert.equal(result.error?.code, 'NETWORK_ERROR');
  });

  test('paying an order without parameters fetches fresh ones first', async () => {
    const platform = new FakePlatform(
      server({
        'POST /api/v1/orders/ord_1/payment': () =>
          json(200, { order: order(), payment: { ...PAYMENT, nonceStr: 'fresh' } }),
        'GET /api/v1/orders/ord_1': () => json(200, { order: order({ status: 'PAID' }) }),
      }),
    );
    const result = await client(platform).pay(order());
    assert.equal(result.status, 'paid');
    assert.equal(platform.payments[0]?.nonceStr, 'fresh');
  });

  test('an order the server no longer lets pay is confirmed instead of paid twice', async () => {
    const platform = new FakePlatform(
      server({
        'POST /api/v1/orders/ord_1/payment': () => apiError(409, 'ORDER_NOT_PENDING'),
        'GET /api/v1/orders/ord_1': () => json(200, { order: order({ status: 'PAID' }) }),
      }),
    );
    assert.equal((await client(platform).pay(order())).status, 'paid');
    assert.equal(platform.payments.length, 0);
  });

  test('FAILED and CLOSED orders are failed results, without opening the payment sheet', async () => {
    const platform = new FakePlatform(server({}));
    const failed = await client(platform).pay({
      order: order({ status: 'FAILED', failure: { code: 'NOAUTH', message: 'no permission' } }),
      payment: null,
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'NOAUTH');
    const closed = await client(platform).pay(order({ status: 'CLOSED' }));
    assert.equal(closed.error?.code, 'NOT_PAYABLE');
    assert.equal(platform.payments.length + platform.requests.length, 0);
  });

  test('cancel posts to the order and returns what the server says', async () => {
    const platform = new FakePlatform(
      server({
        'POST /api/v1/orders/ord_1/cancel': () => json(200, { order: order({ status: 'CLOSED' }) }),
      }),
    );
    assert.equal((await client(platform).cancel(order())).status, 'CLOSED');
  });
});
