/**
 * The real merchant server against the real sandbox over loopback, with a clock the test moves
 * (so the follow-up jobs can be run "later" without waiting) and jobs off unless asked for:
 * the test calls the job bodies itself.
 */
import type { TestContext } from 'node:test';
import type { Config } from '../../src/app/config.js';
import type { RunningServer } from '../../src/app/runtime.js';
import { ApiSwitchGateway } from '../../src/payments/gateway/api-switch-gateway.js';
import { WechatPayV2Gateway } from '../../src/payments/gateway/wechatpay-v2-gateway.js';
import { WechatPayV3Gateway } from '../../src/payments/gateway/wechatpay-v3-gateway.js';
import type {
  Order,
  PaymentGateway,
  PaymentParams,
  RetrySchedule,
} from '../../src/payments/index.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { createRsaSigner, loadApiV3Key, publicKeyVerifier } from '../../src/wechatpay/v3/index.js';
import { TestClock } from './payments.js';
import { ADMIN_TOKEN, client, startTestServer } from './server.js';

export interface SandboxServer {
  sandbox: Sandbox;
  server: RunningServer;
  clock: TestClock;
  api: ReturnType<typeof client>;
  /** An admin call (bearer ADMIN_TOKEN). */
  admin: (
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ) => ReturnType<ReturnType<typeof client>>;
  /** A user logs in, orders `quantity` × prd_tea (600 fen), pays in the sandbox: PAID order. */
  paidOrder(quantity?: number): Promise<Order>;
  /** Paid in the sandbox, but WeChat never notifies: the order is still PENDING here. */
  silentlyPaidOrder(quantity?: number): Promise<Order>;
  /** A user orders and gets the payment parameters; nothing is paid: a PENDING order. */
  pendingOrder(
    quantity?: number,
  ): Promise<{ order: Order; payment: PaymentParams; openid: string; token: string }>;
}

let users = 0;
let keys = 0;
/** WeChat's clock in the sandbox runs this much faster (refund delays take milliseconds). */
const TIME_SCALE = 1000;
/** WeChat's "refunds of one order at least a minute apart". */
export const REFUND_INTERVAL_MS = 60_000;

export async function startSandboxServer(
  t: TestContext,
  databaseUrl: string,
  options: {
    sandbox?: SandboxOptions;
    config?: Partial<Config>;
    jobs?: boolean;
    webhookRetry?: RetrySchedule;
    /** The API new orders use: v2 (default), v3, or v3 with v2 kept for older orders. */
    api?: 'v2' | 'v3' | 'v2+v3';
    /** This sandbox (the caller closes it) instead of a new one: a switch keeps its trades. */
    sandboxInstance?: Sandbox;
    /** This gateway instead of the one of `api` (the caller closes it). */
    gateway?: PaymentGateway;
  } = {},
): Promise<SandboxServer> {
  const sandbox =
    options.sandboxInstance ?? (await startSandbox({ timeScale: TIME_SCALE, ...options.sandbox }));
  if (!options.sandboxInstance) t.after(() => sandbox.close());
  let gateway = options.gateway;
  if (!gateway) {
    const own = sandboxGateway(sandbox, options.api ?? 'v2');
    t.after(() => own.close());
    gateway = own;
  }
  const clock = new TestClock();
  const server = await startTestServer({
    databaseUrl,
    gateway,
    clock: clock.now,
    config: options.config,
    jobs: options.jobs,
    webhookRetry: options.webhookRetry,
    wechatTimeScale: options.sandbox?.timeScale ?? TIME_SCALE,
  });
  t.after(() => server.close());
  const api = client(server.url);
  const admin: SandboxServer['admin'] = (method, path, o = {}) =>
    api(method, path, { ...o, token: ADMIN_TOKEN });
  const checkout = async (quantity: number) => {
    const openid = `o${process.pid}u${++users}${Date.now()}`;
    const login = await api('POST', '/api/v1/login', { body: { code: `code:${openid}` } });
    const token = login.json.token!;
    const res = await api('POST', '/api/v1/orders', {
      token,
      body: { items: [{ productId: 'prd_tea', quantity }] },
      headers: { 'idempotency-key': `sandbox-server-${++keys}` },
    });
    if (res.status !== 201) throw new Error(`checkout: ${res.status} ${res.text}`);
    return { order: res.json.order!, payment: res.json.payment as PaymentParams, openid, token };
  };
  return {
    sandbox,
    server,
    clock,
    api,
    admin,
    pendingOrder: (quantity = 2) => checkout(quantity),
    async silentlyPaidOrder(quantity = 2) {
      const { order, payment, openid } = await checkout(quantity);
      sandbox.pay({ ...payment, openid, notify: false });
      return order;
    },
    async paidOrder(quantity = 2) {
      const { order, payment, openid, token } = await checkout(quantity);
      sandbox.pay({ ...payment, openid });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = await api('GET', `/api/v1/orders/${order.id}`, { token });
        if (now.json.order?.status === 'PAID') return now.json.order;
        if (Date.now() > deadline) throw new Error('the payment notify never made the order PAID');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/**
 * The gateway of `api` for the sandbox's merchant (its demo v3 material), calling `baseUrl`
 * (the sandbox, or a proxy in front of it).
 */
export function sandboxGateway(
  sandbox: Sandbox,
  api: 'v2' | 'v3' | 'v2+v3',
  baseUrl: string = sandbox.url,
): PaymentGateway & { close(): Promise<void> } {
  const c = sandbox.credentials;
  const v2 = () =>
    new WechatPayV2Gateway({
      appId: c.appId,
      mchId: c.mchId,
      mchKey: c.mchKey,
      signType: 'MD5',
      payBaseUrl: baseUrl,
      timeoutMs: 5000,
      retry: { attempts: 1, delayMs: 10 },
    });
  if (api === 'v2') return v2();
  const demo = sandbox.demoMerchant!;
  const platform = sandbox.v3Platform();
  const v3 = new WechatPayV3Gateway({
    appId: c.appId,
    mchId: c.mchId,
    signer: createRsaSigner({ privateKey: demo.privateKeyPem, serialNo: demo.serialNo }),
    verifier: publicKeyVerifier({ keyId: platform.publicKeyId, publicKey: platform.publicKeyPem }),
    apiV3Key: loadApiV3Key(c.apiV3Key),
    payBaseUrl: baseUrl,
    timeoutMs: 5000,
    retry: { attempts: 1, delayMs: 10 },
  });
  return api === 'v3' ? v3 : new ApiSwitchGateway(v3, v2());
}

/** Polls an async condition every 20 ms until it holds; fails after `limitMs`. */
export async function until(
  predicate: () => Promise<boolean> | boolean,
  limitMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
