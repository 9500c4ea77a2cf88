/**
 * /metrics needs the bearer MINIPAY_METRICS_TOKEN (route names and counts say what the shop
 * does): missing 401, wrong 403, unset 403 whatever is sent; failing tokens are limited per
 * client address like the admin API's (each its own count).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { ADMIN_TOKEN, client, startTestServer } from '../support/server.js';

const TOKEN = 'metrics-token-0123456789abcdef';

async function serve(t: import('node:test').TestContext, metricsToken: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-metrics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startTestServer({
    databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
    gateway: new MemoryGateway(),
    config: { metricsToken },
  });
  t.after(() => server.close());
  return client(server.url);
}

test('MINIPAY_METRICS_TOKEN: at least 16 characters', () => {
  assert.equal(loadConfig({ MINIPAY_METRICS_TOKEN: TOKEN }).metricsToken, TOKEN);
  assert.equal(loadConfig({}).metricsToken, undefined);
  assert.throws(
    () => loadConfig({ MINIPAY_METRICS_TOKEN: 'short' }),
    (err) =>
      err instanceof ConfigError && /MINIPAY_METRICS_TOKEN must be at least 16/.test(err.message),
  );
});

test('/metrics with a token configured: 401 without, 403 wrong (the admin token too), 200 right', async (t) => {
  const call = await serve(t, TOKEN);
  const none = await call('GET', '/metrics');
  assert.equal(none.status, 401);
  assert.equal(none.json.error?.code, 'UNAUTHORIZED');
  assert.match(none.json.error!.message, /MINIPAY_METRICS_TOKEN/);
  assert.equal((await call('GET', '/metrics', { token: ADMIN_TOKEN })).status, 403);
  const ok = await call('GET', '/metrics', { token: TOKEN });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /minipay_http_requests_total\{/);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
});

test('/metrics without MINIPAY_METRICS_TOKEN serves nothing; failing tokens are limited', async (t) => {
  const call = await serve(t, undefined);
  const refused = await call('GET', '/metrics', { token: TOKEN });
  assert.equal(refused.status, 403);
  assert.match(refused.json.error!.message, /MINIPAY_METRICS_TOKEN is not set/);
  for (let i = 1; i < 20; i++) assert.equal((await call('GET', '/metrics')).status, 401);
  const limited = await call('GET', '/metrics', { token: TOKEN });
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error?.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  // The admin API counts its own failures.
  assert.equal((await call('GET', '/admin/v1/session', { token: ADMIN_TOKEN })).status, 200);
});
