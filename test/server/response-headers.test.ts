/**
 * Every /api and /admin answer, successes and every kind of error alike, says
 * `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { ADMIN_TOKEN, client, startTestServer } from '../support/server.js';

test('no-store and nosniff on every /api and /admin answer, errors included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-headers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startTestServer({
    databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
    gateway: new MemoryGateway(),
    config: { rateLimits: { ...loadConfig({}).rateLimits, orderActionsPerMinute: 1 } },
  });
  t.after(() => server.close());
  const call = client(server.url);
  const token = (await call('POST', '/api/v1/login', { body: { code: 'code:h' } })).json.token!;
  const json = { 'content-type': 'application/json' };
  const order = (key: string) =>
    call('POST', '/api/v1/orders', {
      token,
      body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
      headers: { 'idempotency-key': key },
    });
  const cases: [string, () => ReturnType<typeof call>, number][] = [
    ['products', () => call('GET', '/api/v1/products'), 200],
    ['checkout', () => order('h-1'), 201],
    ['rate limited', () => order('h-2'), 429],
    ['no token', () => call('GET', '/api/v1/orders'), 401],
    ['unknown path', () => call('GET', '/api/v1/nope'), 404],
    ['bad JSON', () => call('POST', '/api/v1/login', { raw: '{', headers: json }), 400],
    [
      'too large',
      () => call('POST', '/api/v1/login', { raw: 'x'.repeat(20_000), headers: json }),
      413,
    ],
    [
      'XML',
      () =>
        call('POST', '/api/v1/login', {
          raw: '<x/>',
          headers: { 'content-type': 'application/xml' },
        }),
      415,
    ],
    ['admin', () => call('GET', '/admin/v1/products', { token: ADMIN_TOKEN }), 200],
    ['admin, no token', () => call('GET', '/admin/v1/products'), 401],
    ['admin, wrong token', () => call('GET', '/admin/v1/products', { token: 'x'.repeat(30) }), 403],
    ['admin, unknown', () => call('GET', '/admin/v1/nope', { token: ADMIN_TOKEN }), 404],
    [
      'admin, bad body',
      () => call('POST', '/admin/v1/products', { token: ADMIN_TOKEN, body: {} }),
      400,
    ],
  ];
  for (const [what, send, status] of cases) {
    const res = await send();
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.equal(res.headers.get('cache-control'), 'no-store', what);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  }
});
