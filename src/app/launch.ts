/**
 * Starts minipay as `minipay start` does: with merchant credentials, the server against WeChat
 * (or whatever MINIPAY_WECHATPAY_BASE_URL / MINIPAY_WECHAT_API_BASE_URL name); without any,
 * demo mode: the sandbox in-process playing WeChat with its demo credentials (APIv2 by
 * default, APIv3 with MINIPAY_WECHATPAY_API=v3), a seeded demo catalogue and a generated
 * admin token.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProductInput } from '../payments/index.js';
import { wechatLogin } from '../payments/login/wechat-login.js';
import { DEMO_CREDENTIALS, type Sandbox, startSandbox } from '../sandbox/index.js';
import { Metrics } from '../server/metrics.js';
import type { Store } from '../store/index.js';
import type { FailoverEvent } from '../wechatpay/index.js';
import type { Config, MerchantCredentials } from './config.js';
import { type ClosableGateway, createGateway } from './gateways.js';
import { EVENTS_PATH, type RunningServer, type StartOptions, startServer } from './runtime.js';
import type { WechatPayV3Credentials } from './wechatpay-v3-config.js';

/** What demo mode sells. */
export const DEMO_CATALOGUE: ProductInput[] = [
  {
    id: 'prd_jasmine_tea',
    name: '茉莉花茶 Jasmine tea',
    description: '250 g, Fujian',
    priceFen: 3800,
  },
  { id: 'prd_mooncake', name: '广式月饼 Mooncake box', description: '6 pieces', priceFen: 12800 },
  {
    id: 'prd_tea_cup',
    name: '青瓷茶杯 Celadon cup',
    description: 'Longquan, 120 ml',
    priceFen: 6600,
  },
  {
    id: 'prd_sample',
    name: '一分钱体验 One-fen sample',
    description: 'for trying the flow',
    priceFen: 1,
  },
  {
    id: 'prd_member_month',
    name: '会员月卡 Monthly membership',
    description: 'virtual: reported shipped to WeChat when paid',
    priceFen: 990,
    virtual: true,
  },
];

/** Demo mode's subscribe messages: the sandbox's two templates. */
const DEMO_SUBSCRIBE: NonNullable<Config['subscribe']> = {
  paid: {
    templateId: 'sandbox-payment-success',
    fields: {
      character_string1: 'outTradeNo',
      amount2: 'totalFen',
      thing3: 'productName',
      time4: 'paidAt',
    },
  },
  refunded: {
    templateId: 'sandbox-refund-success',
    fields: { character_string1: 'outTradeNo', amount2: 'refundFen', time3: 'refundedAt' },
  },
  page: 'pages/orders/index',
};

export interface Launched {
  readonly server: RunningServer;
  /** The in-process sandbox (demo mode only). */
  readonly sandbox: Sandbox | undefined;
  readonly config: Config;
  /** The admin token in force (generated in demo mode when MINIPAY_ADMIN_TOKEN is unset). */
  readonly adminToken: string | undefined;
  close(): Promise<void>;
}

export interface LaunchOptions {
  logger: Logger;
  /** Extra Fastify plugins (web pages); they get the launch context. */
  plugins?: ((app: FastifyInstance, context: LaunchContext) => Promise<void>)[];
  /** Run the background jobs (default true). */
  jobs?: boolean;
  /** The server's clock (tests move it to reach expiry and sweep times). */
  clock?: () => Date;
  /** Demo mode: options for the in-process sandbox (tests speed up its clock). */
  sandbox?: { timeScale?: number; stateFile?: string | null };
  /** Demo mode on a non-loopback address (`--unsafe-public-demo`); refused otherwise. */
  unsafePublicDemo?: boolean;
  /** Sees every route of the merchant server as it is registered (see ServerOptions). */
  onRoute?: StartOptions['onRoute'];
  /** How shipping uploads are retried (tests shrink the waits). */
  shipping?: StartOptions['shipping'];
  /** How subscribe messages are sent again (tests shrink the waits). */
  subscribeRetry?: StartOptions['subscribeRetry'];
}

/** What plugins learn about the running system before it listens. */
export interface LaunchContext {
  config: Config;
  sandbox: Sandbox | undefined;
}

export async function launch(config: Config, options: LaunchOptions): Promise<Launched> {
  const { logger } = options;
  let sandbox: Sandbox | undefined;
  let merchant: MerchantCredentials;
  let effective = config;
  if (config.mode === 'demo' && !isLoopback(config.host) && !options.unsafePublicDemo) {
    throw new Error(
      `demo mode will not listen on ${config.host}: its merchant key is the sandbox's published demo key, so anyone who can reach the server could sign payment notifications and mark orders paid. Listen on 127.0.0.1 (the default), configure real merchant credentials, or pass --unsafe-public-demo to expose the demo anyway`,
    );
  }
  if (config.mode === 'demo') {
    sandbox = await startSandbox({
      host: '127.0.0.1',
      port: 0,
      backupPort: 0,
      logger: logger.child({ component: 'sandbox' }),
      stateFile: sandboxStateFile(config.databaseUrl, options.sandbox?.stateFile),
      timeScale: options.sandbox?.timeScale,
    });
    merchant = { ...DEMO_CREDENTIALS };
    effective = {
      ...config,
      // The sandbox's own templates (docs/sandbox.md), so the demo sends subscribe messages.
      subscribe: config.subscribe ?? DEMO_SUBSCRIBE,
      // The sandbox pushes to /wechat/v1/events in safe mode, as WeChat would.
      push: config.push ?? {
        token: randomBytes(12).toString('hex'),
        encodingAesKey: randomBytes(22).toString('hex').slice(0, 43),
        format: 'json',
      },
      wechatPayBaseUrl: sandbox.url,
      wechatPayBackupBaseUrl: sandbox.backupUrl,
      wechatApiBaseUrl: sandbox.url,
      wechatApiBackupBaseUrl: sandbox.backupUrl,
      adminToken: config.adminToken ?? randomBytes(18).toString('base64url'),
    };
  } else {
    merchant = config.merchant as MerchantCredentials;
  }
  const metrics = new Metrics();
  const apiFailover = (e: FailoverEvent) => {
    metrics.inc('minipay_wechatpay_failovers_total', { path: e.path, reason: e.reason });
    logger.warn(e, 'WeChat API request sent again to the other domain');
  };
  const v3 = sandbox && config.wechatpayApi === 'v3' ? demoV3(sandbox) : config.wechatpayV3;
  let gateway: ClosableGateway | undefined;
  const makeGateway = (store: Store) => {
    gateway = createGateway({ config: effective, merchant, v3, metrics, logger }, store);
    return gateway;
  };
  const context: LaunchContext = { config: effective, sandbox };
  let server: RunningServer;
  try {
    server = await startServer({
      config: effective,
      gateway: makeGateway,
      wechatLogin: wechatLogin({
        baseUrl: effective.wechatApiBaseUrl,
        backupBaseUrl: effective.wechatApiBackupBaseUrl,
        onFailover: apiFailover,
        appId: merchant.appId,
        appSecret: merchant.appSecret,
        timeoutMs: effective.gatewayTimeoutMs,
      }),
      logger,
      miniProgram: {
        appId: merchant.appId,
        appSecret: merchant.appSecret,
        baseUrl: effective.wechatApiBaseUrl,
        backupBaseUrl: effective.wechatApiBackupBaseUrl,
        onFailover: apiFailover,
        timeoutMs: effective.gatewayTimeoutMs,
      },
      seedProducts: effective.mode === 'demo' ? DEMO_CATALOGUE : undefined,
      jobs: options.jobs,
      clock: options.clock,
      metrics,
      // Against the demo sandbox WeChat's clock runs timeScale times faster.
      wechatTimeScale: sandbox ? (options.sandbox?.timeScale ?? 1) : 1,
      plugins: (options.plugins ?? []).map((plugin) => (app) => plugin(app, context)),
      onRoute: options.onRoute,
      shipping: options.shipping,
      subscribeRetry: options.subscribeRetry,
    });
  } catch (err) {
    await gateway?.close();
    await sandbox?.close();
    throw err;
  }
  if (sandbox && effective.push) {
    try {
      await sandbox.configurePush({ url: `${server.url}${EVENTS_PATH}`, ...effective.push });
    } catch (err) {
      await server.close();
      await gateway?.close();
      await sandbox.close();
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    sandbox,
    config: effective,
    adminToken: effective.adminToken,
    close() {
      closing ??= (async () => {
        await server.close();
        await gateway?.close();
        await sandbox?.close();
      })();
      return closing;
    },
  };
}

/**
 * Demo mode on APIv3: the sandbox's generated merchant key and its WeChat Pay public key. The
 * demo keeps the APIv2 key too, so orders a v2 demo made are finished through v2.
 */
function demoV3(sandbox: Sandbox): WechatPayV3Credentials {
  const demo = sandbox.demoMerchant!;
  const platform = sandbox.v3Platform();
  return {
    privateKeyPem: demo.privateKeyPem,
    certSerial: demo.serialNo,
    apiV3Key: sandbox.credentials.apiV3Key,
    publicKey: { id: platform.publicKeyId, pem: platform.publicKeyPem },
    nextPublicKey: {
      id: platform.nextPublicKey.publicKeyId,
      pem: platform.nextPublicKey.publicKeyPem,
    },
  };
}

/** Whether `host` is this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return /^::ffff:127\./.test(h);
}

/**
 * The demo sandbox keeps its state beside the demo SQLite database, so a restarted demo still
 * knows the trades its orders point at; in memory for PostgreSQL or an in-memory database.
 */
function sandboxStateFile(databaseUrl: string, given: string | null | undefined) {
  if (given !== undefined) return given ?? undefined;
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite::memory:') return undefined;
  const dir = dirname(databaseUrl.slice('sqlite:'.length));
  mkdirSync(dir, { recursive: true });
  return join(dir, 'sandbox.sqlite');
}
