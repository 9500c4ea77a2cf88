/**
 * `minipay start` in its own process, in live mode against a sandbox (as a merchant runs it
 * against WeChat): a fixed port so the notify URL WeChat holds survives restarts, a SQLite
 * file, 1-second jobs, and optionally MINIPAY_CRASH_AT. Plus what a test does as the shop:
 * a product, a logged-in user, checkout, and reading the database file directly.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import type { PaymentParams } from '../../../src/payments/index.js';
import type { Credentials } from '../../../src/sandbox/index.js';
import { minipay } from '../../support/cli.js';
import { client } from '../../support/server.js';

export const ADMIN_TOKEN = 'reliability-admin-token-0123456789';
export const PRODUCT = { id: 'prd_reliability', name: 'Reliability tea', priceFen: 2345 };

export interface LiveServer {
  url: string;
  api: ReturnType<typeof client>;
  /** Resolves when the process has gone, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface LiveOptions {
  sandboxUrl: string;
  credentials: Readonly<Credentials>;
  port: number;
  /** A SQLite file path … */
  databaseFile?: string;
  /** … or a database URL (PostgreSQL). */
  databaseUrl?: string;
  crashAt?: string;
  /** More settings (webhooks, MINIPAY_MIGRATE, …). */
  env?: Record<string, string>;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function startLive(o: LiveOptions): Promise<LiveServer> {
  const url = `http://127.0.0.1:${o.port}`;
  const run = minipay(['start'], {
    MINIPAY_APPID: o.credentials.appId,
    MINIPAY_APPSECRET: o.credentials.appSecret,
    MINIPAY_MCHID: o.credentials.mchId,
    MINIPAY_MCH_KEY: o.credentials.mchKey,
    MINIPAY_NOTIFY_BASE_URL: url,
    MINIPAY_WECHATPAY_BASE_URL: o.sandboxUrl,
    MINIPAY_WECHAT_API_BASE_URL: o.sandboxUrl,
    MINIPAY_DATABASE_URL: o.databaseUrl ?? `sqlite:${o.databaseFile}`,
    MINIPAY_PORT: String(o.port),
    MINIPAY_ADMIN_TOKEN: ADMIN_TOKEN,
    MINIPAY_JOB_INTERVAL_SECONDS: '1',
    MINIPAY_GATEWAY_TIMEOUT_MS: '2000',
    // The chaos run's buyers check out for a minute on end, retrying through crashes: far
    // past the per-user limit, which these runs are not about.
    MINIPAY_RATE_LIMIT_ORDERS: '0',
    ...(o.crashAt ? { MINIPAY_CRASH_AT: o.crashAt } : {}),
    ...o.env,
  });
  const exited = once(run.child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  await run.waitFor(/Mini program API\s+http/);
  return {
    url,
    api: client(url),
    exited,
    stderr: () => run.output().stderr,
    async kill(signal = 'SIGKILL') {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      await exited;
    },
  };
}

/** The shop's side: a product in the catalogue and a logged-in user. */
export async function openShop(
  server: LiveServer,
  loginCode: () => { code: string; openid: string },
) {
  const product = await server.api('POST', '/admin/v1/products', {
    token: ADMIN_TOKEN,
    body: PRODUCT,
  });
  assert.ok(product.status === 201 || product.status === 409, product.text);
  const code = loginCode();
  const login = await server.api('POST', '/api/v1/login', { body: { code: code.code } });
  assert.equal(login.status, 200, login.text);
  return { token: login.json.token as string, openid: code.openid };
}

/** POST /api/v1/orders for one PRODUCT; resolves to the answer (throws when the connection dies). */
export async function checkout(server: LiveServer, token: string, key: string) {
  const res = await server.api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId: PRODUCT.id, quantity: 1 }] },
    headers: { 'idempotency-key': key },
  });
  return {
    status: res.status,
    text: res.text,
    order: res.json.order,
    payment: res.json.payment as PaymentParams | null | undefined,
    code: res.json.error?.code,
  };
}

/** Reads the server's SQLite file (read-only, beside the running server). */
export function readDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
