/**
 * Starts minipay the way `minipay start` does in demo mode (server + in-process sandbox over
 * loopback), for integration tests. The sandbox's clock runs 1000× faster so retries and
 * refund delays take milliseconds.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/app/config.js';
import { type Launched, type LaunchOptions, launch } from '../../src/app/launch.js';
import type { PaymentParams } from '../../src/payments/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { client } from './server.js';

export interface Demo {
  launched: Launched;
  sandbox: Sandbox;
  url: string;
  api: ReturnType<typeof client>;
  /** Logs in a sandbox user through `wx.login` → POST /api/v1/login; returns the token. */
  login(openid?: string): Promise<{ token: string; openid: string }>;
}

export async function startDemo(
  t: TestContext | undefined,
  databaseUrl: string,
  options: Partial<LaunchOptions> & { env?: Record<string, string> } = {},
): Promise<Demo> {
  const config = loadConfig(
    { MINIPAY_JOB_INTERVAL_SECONDS: '1', ...options.env },
    {
      host: '127.0.0.1',
      port: 0,
      databaseUrl,
    },
  );
  const launched = await launch(config, {
    logger: options.logger ?? pino({ level: 'silent' }),
    sandbox: { timeScale: 1000, stateFile: null, ...options.sandbox },
    jobs: options.jobs,
    clock: options.clock,
    plugins: options.plugins,
    shipping: options.shipping,
    subscribeRetry: options.subscribeRetry,
  });
  t?.after(() => launched.close());
  const sandbox = launched.sandbox as Sandbox;
  const api = client(launched.server.url);
  return {
    launched,
    sandbox,
    url: launched.server.url,
    api,
    async login(openid) {
      const code = sandbox.loginCode(openid);
      const res = await api('POST', '/api/v1/login', { body: { code: code.code } });
      if (res.status !== 200 || !res.json.token)
        throw new Error(`login: ${res.status} ${res.text}`);
      return { token: res.json.token, openid: code.openid };
    },
  };
}

/** Polls an async condition every 20 ms until it holds; fails after `limitMs`. */
export async function eventually(
  predicate: () => Promise<boolean>,
  limitMs = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let keys = 0;
/** POST /api/v1/orders with a fresh Idempotency-Key; asserts 201. */
export async function checkout(
  demo: Demo,
  token: string,
  productId = 'prd_jasmine_tea',
  quantity = 2,
) {
  const res = await demo.api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId, quantity }] },
    headers: { 'idempotency-key': `demo-flow-${process.pid}-${++keys}` },
  });
  assert.equal(res.status, 201, res.text);
  return { order: res.json.order!, payment: res.json.payment as PaymentParams };
}

/** The order's status as its owner sees it (`sync`: ?sync=1). */
export async function status(demo: Demo, token: string, id: string, sync = false) {
  const res = await demo.api('GET', `/api/v1/orders/${id}${sync ? '?sync=1' : ''}`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json.order!.status;
}
