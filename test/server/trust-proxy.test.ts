/**
 * MINIPAY_TRUST_PROXY names the proxies whose X-Forwarded-For is believed; `true` and hop counts
 * are refused. The client address decides WeChat's spbill_create_ip and the per-address limits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { client, startTestServer } from '../support/server.js';

function problems(value: string): string {
  try {
    loadConfig({ MINIPAY_TRUST_PROXY: value });
    return '';
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.join('\n');
  }
}

describe('MINIPAY_TRUST_PROXY', () => {
  test('off, or a list of proxy addresses / ranges; true and hop counts refused with advice', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ MINIPAY_TRUST_PROXY: '0' }).trustProxy, false);
    assert.equal(loadConfig({ MINIPAY_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.deepEqual(
      loadConfig({ MINIPAY_TRUST_PROXY: '10.0.0.5, 10.0.1.0/24,loopback,::1,fd00::/8' }).trustProxy,
      ['10.0.0.5', '10.0.1.0/24', 'loopback', '::1', 'fd00::/8'],
    );
    for (const value of ['true', 'TRUE', '1', '2']) {
      assert.match(problems(value), /would believe X-Forwarded-For from whoever connects/, value);
      assert.match(problems(value), /give the proxies' addresses instead/, value);
    }
    for (const value of ['10.0.0.0/33', 'nginx', '10.0.0.1/8/1', '1.2.3']) {
      assert.match(problems(value), /must be a comma list of proxy addresses/, value);
    }
  });

  for (const [trusted, forwarded, expected] of [
    [false, '203.0.113.9', '127.0.0.1'],
    [['127.0.0.1'], '203.0.113.9', '203.0.113.9'],
    // The client wrote the left part, the proxy appended the right one: the right one counts.
    [['loopback'], '6.6.6.6, 203.0.113.9', '203.0.113.9'],
    [['10.9.9.9'], '203.0.113.9', '127.0.0.1'],
  ] as const) {
    test(`trusting ${JSON.stringify(trusted)}, X-Forwarded-For ${forwarded}: the payer is ${expected}`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'minipay-proxy-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const gateway = new MemoryGateway();
      const server = await startTestServer({
        databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
        gateway,
        config: { trustProxy: trusted === false ? false : [...trusted] },
      });
      t.after(() => server.close());
      const call = client(server.url);
      const headers = { 'x-forwarded-for': forwarded };
      const login = await call('POST', '/api/v1/login', { body: { code: 'code:p' }, headers });
      const res = await call('POST', '/api/v1/orders', {
        token: login.json.token!,
        body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
        headers: { ...headers, 'idempotency-key': 'proxy-1' },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(gateway.trades.get(res.json.order!.outTradeNo)!.request.payerIp, expected);
    });
  }

  test('behind a trusted proxy each client address has its own login count', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-proxy-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startTestServer({
      databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
      gateway: new MemoryGateway(),
      config: {
        trustProxy: ['127.0.0.1'],
        rateLimits: { ...loadConfig({}).rateLimits, loginPerMinute: 2 },
      },
    });
    t.after(() => server.close());
    const call = client(server.url);
    const login = (ip: string) =>
      call('POST', '/api/v1/login', {
        body: { code: `code:${ip}` },
        headers: { 'x-forwarded-for': ip },
      });
    assert.deepEqual(
      [
        (await login('203.0.113.1')).status,
        (await login('203.0.113.1')).status,
        (await login('203.0.113.1')).status,
        (await login('203.0.113.2')).status,
      ],
      [200, 200, 429, 200],
    );
  });
});
