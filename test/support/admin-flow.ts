/**
 * Admin API test helpers: a server over MemoryGateway with a clock tests can set, a client
 * that keeps every admin answer (to search them for secrets), and the shopper's side of a
 * payment (log in, order, pay, notify).
 */

import { loadConfig } from '../../src/app/config.js';
import type { RunningServer } from '../../src/app/runtime.js';
import type { PaymentNotice } from '../../src/payments/gateway/gateway.js';
import { MemoryGateway } from './memory-gateway.js';
import { ADMIN_TOKEN, client, startTestServer } from './server.js';
import type { StoreFactory } from './stores.js';

/** A clock that follows real time, or stands still at `frozen` (to make equal createdAt). */
export class SettableClock {
  frozen: Date | null = null;
  offsetMs = 0;
  now = (): Date => (this.frozen ? new Date(this.frozen) : new Date(Date.now() + this.offsetMs));
}

export interface AdminHarness {
  server: RunningServer;
  gateway: MemoryGateway;
  clock: SettableClock;
  /** Any call (mini program or admin), no token unless given. */
  call: ReturnType<typeof client>;
  /** An admin call with the admin token; its answer text is kept in `answers`. */
  admin(method: string, path: string, body?: unknown): ReturnType<ReturnType<typeof client>>;
  answers: string[];
  login(openid: string): Promise<string>;
  /** Places an order of `quantity` teas (600 fen each); resolves to its id and out_trade_no. */
  placeOrder(token: string, quantity?: number): Promise<{ id: string; outTradeNo: string }>;
  /** The user pays at WeChat; resolves to the notify body (not sent). */
  pay(outTradeNo: string, overrides?: Partial<PaymentNotice>): Buffer;
  notify(body: Buffer): Promise<string>;
  /**
   * POST /admin/v1/orders/:id/close once WeChat allows it: the clock moves 5 minutes on (and
   * stays there, so what happens next is later).
   */
  closeLater(id: string): ReturnType<ReturnType<typeof client>>;
}

/** WeChat's "no closeorder within 5 minutes of the order". */
export const CLOSE_MIN_AGE_MS = 5 * 60_000;

let keys = 0;

export async function startAdminHarness(stores: StoreFactory): Promise<AdminHarness> {
  const gateway = new MemoryGateway();
  const clock = new SettableClock();
  const server = await startTestServer({
    databaseUrl: await stores.freshUrl(),
    gateway,
    clock: clock.now,
    // The suites try every admin route with missing and wrong tokens, far past the limit of
    // failing admin requests per address (test/server/rate-limits.test.ts tests that limit).
    config: { rateLimits: { ...loadConfig({}).rateLimits, adminFailuresPerMinute: 0 } },
  });
  const call = client(server.url);
  const answers: string[] = [];
  const admin: AdminHarness['admin'] = async (method, path, body) => {
    const r = await call(method, path, { token: ADMIN_TOKEN, body });
    answers.push(r.text);
    return r;
  };
  return {
    server,
    gateway,
    clock,
    call,
    answers,
    admin,
    async login(openid) {
      const r = await call('POST', '/api/v1/login', { body: { code: `code:${openid}` } });
      if (!r.json.token) throw new Error(`login failed: ${r.text}`);
      return r.json.token;
    },
    async placeOrder(token, quantity = 1) {
      const r = await call('POST', '/api/v1/orders', {
        token,
        body: { items: [{ productId: 'prd_tea', quantity }] },
        headers: { 'idempotency-key': `admin-test-${++keys}` },
      });
      if (r.status !== 201 || !r.json.order) throw new Error(`order failed: ${r.text}`);
      return { id: r.json.order.id, outTradeNo: r.json.order.outTradeNo };
    },
    pay(outTradeNo, overrides) {
      return gateway.pay(outTradeNo, overrides);
    },
    async notify(body) {
      const r = await call('POST', '/wechatpay/v2/notify', {
        raw: body,
        headers: { 'content-type': 'text/xml' },
      });
      return (JSON.parse(r.text) as { outcome: string }).outcome;
    },
    async closeLater(id) {
      clock.offsetMs += CLOSE_MIN_AGE_MS;
      return admin('POST', `/admin/v1/orders/${id}/close`);
    },
  };
}

/** What must never appear in an admin answer: session keys, token hashes, tokens, keys. */
export async function secretsOf(h: AdminHarness, tokens: string[]): Promise<string[]> {
  const db = h.server.store.db;
  const users = await db.selectFrom('users').select('session_key').execute();
  const sessions = await db.selectFrom('sessions').select('token_hash').execute();
  return [
    ...users.map((u) => u.session_key).filter((k): k is string => !!k),
    ...sessions.map((s) => s.token_hash),
    ...tokens,
    ADMIN_TOKEN,
    'memory-gateway-notify-key',
  ];
}
