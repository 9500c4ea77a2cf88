/** Starts the real merchant server (HTTP on 127.0.0.1, port 0) for tests. */
import pino from 'pino';
import { type Config, loadConfig } from '../../src/app/config.js';
import { type RunningServer, startServer } from '../../src/app/runtime.js';
import type {
  Order,
  PaymentGateway,
  PaymentParams,
  Product,
  RetrySchedule,
  WechatLogin,
} from '../../src/payments/index.js';
import { codeLogin, DEMO_PRODUCTS } from './payments.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function startTestServer(options: {
  databaseUrl: string;
  gateway: PaymentGateway;
  wechatLogin?: WechatLogin;
  clock?: () => Date;
  config?: Partial<Config>;
  /** Run the background jobs (default false: tests call the job bodies themselves). */
  jobs?: boolean;
  webhookRetry?: RetrySchedule;
  /** How much faster WeChat's clock runs (the sandbox's timeScale); default 1. */
  wechatTimeScale?: number;
}): Promise<RunningServer> {
  const config = loadConfig(
    {},
    {
      host: '127.0.0.1',
      port: 0,
      databaseUrl: options.databaseUrl,
      adminToken: ADMIN_TOKEN,
      ...options.config,
    },
  );
  return startServer({
    config,
    gateway: options.gateway,
    wechatLogin: options.wechatLogin ?? codeLogin,
    logger: pino({ level: 'silent' }),
    seedProducts: DEMO_PRODUCTS,
    clock: options.clock,
    jobs: options.jobs ?? false,
    webhookRetry: options.webhookRetry,
    wechatTimeScale: options.wechatTimeScale,
  });
}

/** Every field any JSON answer of the API may have (tests read what they need). */
export interface Answer {
  error?: { code: string; message: string };
  token?: string;
  expiresAt?: string;
  user?: { id: string };
  order?: Order;
  payment?: PaymentParams | null;
  orders?: Order[];
  nextCursor?: string | null;
  products?: Product[];
  product?: Product;
  ok?: boolean;
  mode?: string;
  paths?: Record<string, unknown>;
}

/** A small JSON client over fetch. */
export function client(base: string) {
  return async (
    method: string,
    path: string,
    options: {
      token?: string;
      body?: unknown;
      raw?: string | Buffer;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let json: Answer = {};
    try {
      json = JSON.parse(text) as Answer;
    } catch {
      json = {};
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}
