/** The server process's manners: graceful shutdown, and logs that never carry a secret. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/app/logger.js';
import { startServer } from '../../src/app/runtime.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { codeLogin, DEMO_PRODUCTS } from '../support/payments.js';
import { ADMIN_TOKEN, client } from '../support/server.js';

async function serverWithLogs(t: test.TestContext, gateway: MemoryGateway) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-runtime-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const server = await startServer({
    config: loadConfig(
      {},
      {
        host: '127.0.0.1',
        port: 0,
        databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
        adminToken: ADMIN_TOKEN,
      },
    ),
    gateway,
    wechatLogin: codeLogin,
    logger: createLogger('trace', sink),
    seedProducts: DEMO_PRODUCTS,
    jobs: false,
  });
  t.after(() => server.close());
  return { server, logs: () => lines.join('') };
}

test('close() lets a request in flight finish, then refuses new ones', async (t) => {
  const gateway = new MemoryGateway();
  const { server } = await serverWithLogs(t, gateway);
  const call = client(server.url);
  const token = (await call('POST', '/api/v1/login', { body: { code: 'code:alice' } })).json.token;
  gateway.prepayDelayMs = 400;
  const inFlight = call('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
    headers: { 'idempotency-key': 'graceful-1' },
  });
  // Close only once the request is inside the server (waiting on WeChat), however slow the machine.
  const deadline = Date.now() + 10_000;
  while (!gateway.calls.some((c) => c.op === 'prepay') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const closed = server.close();
  const answer = await inFlight;
  assert.equal(answer.status, 201, answer.text);
  assert.equal(answer.json.order?.status, 'PENDING');
  await closed;
  await assert.rejects(fetch(`${server.url}/healthz`), 'the port no longer answers');
});

test('trace-level logs of a whole flow carry no token, session key, key or signature', async (t) => {
  const gateway = new MemoryGateway();
  const { server, logs } = await serverWithLogs(t, gateway);
  const call = client(server.url);
  const login = await call('POST', '/api/v1/login', { body: { code: 'code:alice' } });
  const token = login.json.token as string;
  const order = await call('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
    headers: { 'idempotency-key': 'logs-1' },
  });
  const outTradeNo = order.json.order?.outTradeNo as string;
  gateway.pay(outTradeNo);
  await call('POST', '/wechatpay/v2/notify', {
    raw: gateway.notifyBody(outTradeNo),
    headers: { 'content-type': 'text/xml' },
  });
  await call('GET', '/admin/v1/session', { token: ADMIN_TOKEN });
  await call('GET', '/api/v1/orders', { token: 'wrong-token-value-123' });
  const text = logs();
  assert.ok(text.length > 0, 'something was logged');
  for (const secret of [token, 'sk-alice', ADMIN_TOKEN, 'wrong-token-value-123']) {
    assert.ok(!text.includes(secret), `the log holds ${secret.slice(0, 6)}…`);
  }
  assert.doesNotMatch(text, /"paySign":"(?!\[redacted\])/);
});
