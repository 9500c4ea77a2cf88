/**
 * A running merchant server: store opened and migrated, payments domain, HTTP app listening,
 * background jobs started. `close()` stops the jobs, lets in-flight requests finish (new ones
 * get 503), then closes the database.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRunner, type JobRunner } from '../jobs/index.js';
import { MiniProgramClient, TokenManager } from '../miniprogram-api/index.js';
import {
  createPayments,
  DbTokenStore,
  DEFAULT_SETTINGS,
  openOrdersWithoutApi,
  type PaymentGateway,
  type Payments,
  type PaymentsSettings,
  type ProductInput,
  type RetrySchedule,
  type WebhookSender,
  type WechatLogin,
} from '../payments/index.js';
import { type App, buildServer } from '../server/app.js';
import { Metrics } from '../server/metrics.js';
import type { Readiness, ServerOptions } from '../server/options.js';
import { openStore, SchemaTooNewError, type Store } from '../store/index.js';
import type { FailoverEvent } from '../wechatpay/index.js';
import type { Config } from './config.js';
import { orderJobs, outboxJobs, reconciliationJobs } from './jobs.js';

export interface StartOptions {
  config: Config;
  /** The gateway, or how to make it once the store is open (certificate mode keeps its certificates there). */
  gateway: PaymentGateway | ((store: Store) => PaymentGateway);
  wechatLogin: WechatLogin;
  logger: Logger;
  /** Products inserted when missing (demo mode). */
  seedProducts?: ProductInput[];
  clock?: () => Date;
  /** Run the background jobs (default true). */
  jobs?: boolean;
  /** Webhook retry schedule (tests shrink it; default about a day). */
  webhookRetry?: RetrySchedule;
  /** How webhooks are sent (default fetch). */
  webhookSender?: WebhookSender;
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** Sees every route as it is registered (see ServerOptions). */
  onRoute?: ServerOptions['onRoute'];
  /** The counters (the gateway's failovers are counted before the server starts). */
  metrics?: Metrics;
  /** How much faster WeChat's clock runs than ours (a time-scaled sandbox); default 1. */
  wechatTimeScale?: number;
  /**
   * WeChat's mini program platform (api.weixin.qq.com or a sandbox): with it, paid orders are
   * shipped to WeChat (docs/shipping.md); without it, nothing after PAID.
   */
  miniProgram?: MiniProgramSettings;
  /** How shipping uploads are retried (tests shrink the waits). */
  shipping?: PaymentsSettings['shipping'];
  /** How subscribe messages are sent again (tests shrink the waits). */
  subscribeRetry?: PaymentsSettings['subscribeRetry'];
}

export interface MiniProgramSettings {
  appId: string;
  appSecret: string;
  baseUrl: string;
  /** api2.weixin.qq.com: tried when a call's exchange with `baseUrl` fails. */
  backupBaseUrl?: string;
  onFailover?: (event: FailoverEvent) => void;
  timeoutMs: number;
}

export interface RunningServer {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly app: App;
  readonly store: Store;
  readonly payments: Payments;
  readonly metrics: Metrics;
  readonly runner: JobRunner | undefined;
  /** Begins a shutdown: /readyz answers 503 and answers close their connections; all else serves. */
  drain(): void;
  close(): Promise<void>;
}

export const NOTIFY_PATH = '/wechatpay/v2/notify';
export const REFUND_NOTIFY_PATH = '/wechatpay/v2/refund-notify';
export const V3_NOTIFY_PATH = '/wechatpay/v3/notify';
export const V3_REFUND_NOTIFY_PATH = '/wechatpay/v3/refund-notify';
export const EVENTS_PATH = '/wechat/v1/events';

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const store = openStore(config.databaseUrl, { backgroundCheckpoints: true });
  let app: App | undefined;
  let runner: JobRunner | undefined;
  const readiness: Readiness = { draining: false };
  try {
    await readySchema(store, config.migrate, logger);
    const metrics = options.metrics ?? new Metrics();
    const settings: PaymentsSettings = {
      ...DEFAULT_SETTINGS,
      wechatTimeScale: options.wechatTimeScale ?? 1,
      ...(config.refundAccount && { refundAccount: config.refundAccount }),
      ...(options.shipping && { shipping: options.shipping }),
      ...(options.subscribeRetry && { subscribeRetry: options.subscribeRetry }),
      ...(config.subscribe && { subscribe: config.subscribe }),
      // A local demo serves avatars over http; anything public needs https.
      ...(config.mode === 'demo' && { allowHttpAvatars: true }),
      ...(config.push &&
        options.miniProgram && {
          push: {
            token: config.push.token,
            appId: options.miniProgram.appId,
            format: config.push.format,
            ...(config.push.encodingAesKey && { encodingAesKey: config.push.encodingAesKey }),
          },
        }),
      notifyUrl: config.notifyBaseUrl ? `${config.notifyBaseUrl}${NOTIFY_PATH}` : '',
      refundNotifyUrl: config.notifyBaseUrl ? `${config.notifyBaseUrl}${REFUND_NOTIFY_PATH}` : '',
      v3NotifyUrl: config.notifyBaseUrl ? `${config.notifyBaseUrl}${V3_NOTIFY_PATH}` : '',
      v3RefundNotifyUrl: config.notifyBaseUrl
        ? `${config.notifyBaseUrl}${V3_REFUND_NOTIFY_PATH}`
        : '',
      orderTtlMs: config.orderTtlSeconds * 1000,
      syncIntervalMs: config.syncIntervalSeconds * 1000,
      sessionsPerUser: config.sessionsPerUser,
      storeName: config.storeName,
      ...(config.webhookUrls.length > 0 && {
        webhooks: {
          urls: config.webhookUrls,
          secrets: config.webhookSecrets,
          ...(options.webhookRetry && { retry: options.webhookRetry }),
        },
      }),
    };
    const gateway =
      typeof options.gateway === 'function' ? options.gateway(store) : options.gateway;
    await refuseOrdersWithoutTheirApi(store, gateway);
    const payments = createPayments(
      {
        db: store.db,
        transact: store.transact,
        gateway,
        clock: options.clock ?? (() => new Date()),
        logger,
        settings,
        metrics,
      },
      options.wechatLogin,
      {
        webhookSender: options.webhookSender,
        platform: options.miniProgram && miniProgramClient(options.miniProgram, store),
      },
    );
    if (options.seedProducts) await payments.catalogue.seed(options.seedProducts);
    app = await buildServer({
      payments,
      store,
      metrics,
      logger,
      adminToken: config.adminToken,
      metricsToken: config.metricsToken,
      mode: config.mode,
      trustProxy: config.trustProxy,
      rateLimits: config.rateLimits,
      timeouts: {
        requestMs: config.requestTimeoutSeconds * 1000,
        keepAliveMs: config.keepAliveSeconds * 1000,
      },
      plugins: options.plugins,
      onRoute: options.onRoute,
      readiness,
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    // Without a public URL (demo, tests) WeChat is the local sandbox: it reaches us here.
    if (!settings.notifyUrl) settings.notifyUrl = `${url}${NOTIFY_PATH}`;
    if (!settings.refundNotifyUrl) settings.refundNotifyUrl = `${url}${REFUND_NOTIFY_PATH}`;
    if (!settings.v3NotifyUrl) settings.v3NotifyUrl = `${url}${V3_NOTIFY_PATH}`;
    if (!settings.v3RefundNotifyUrl) settings.v3RefundNotifyUrl = `${url}${V3_REFUND_NOTIFY_PATH}`;
    if (options.jobs !== false) {
      runner = createRunner(
        store,
        config.databaseUrl,
        {
          logger,
          onRun: (job, outcome) => metrics.inc('minipay_job_runs_total', { job, outcome }),
        },
        { migrate: config.migrate === 'auto' },
      );
      const intervalMs = config.jobIntervalSeconds * 1000;
      await runner.start([
        ...orderJobs(payments, intervalMs),
        ...outboxJobs(payments, intervalMs),
        ...reconciliationJobs(payments),
      ]);
    }
    // The console says whether WeChat manages this mini program's trades: asked now (a job
    // asks again every few hours); the answer is stored for every instance.
    payments.shipping
      ?.checkTradeManaged()
      .catch((err: unknown) => logger.warn({ err }, 'could not store is_trade_managed'));
    const started = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      app: started,
      store,
      payments,
      metrics,
      runner,
      drain() {
        readiness.draining = true;
      },
      close() {
        closing ??= (async () => {
          await runner?.stop();
          await started.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await runner?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
}

/** The mini program platform's client, its access_token shared through the database. */
export function miniProgramClient(settings: MiniProgramSettings, store: Store): MiniProgramClient {
  const tokens = new TokenManager({
    appId: settings.appId,
    appSecret: settings.appSecret,
    baseUrl: settings.baseUrl,
    backupBaseUrl: settings.backupBaseUrl,
    onFailover: settings.onFailover,
    timeoutMs: settings.timeoutMs,
    store: new DbTokenStore(store.db, settings.appId),
  });
  return new MiniProgramClient({
    appId: settings.appId,
    tokens,
    baseUrl: settings.baseUrl,
    backupBaseUrl: settings.backupBaseUrl,
    onFailover: settings.onFailover,
    timeoutMs: settings.timeoutMs,
  });
}

/**
 * Refuses to start while orders made with an API the gateway no longer has are open: their
 * prepay_id would be paid with parameters signed the other API's way, which WeChat refuses.
 */
async function refuseOrdersWithoutTheirApi(store: Store, gateway: PaymentGateway): Promise<void> {
  const open = await openOrdersWithoutApi(store.db, gateway);
  if (open.length === 0) return;
  const counts = open.map((o) => `${o.orders} ${o.api} order${o.orders > 1 ? 's' : ''}`);
  const v2 = open.some((o) => o.api === 'v2');
  throw new Error(
    `${counts.join(' and ')} still open (CREATED, PENDING or CLOSING), but this configuration has no WeChat Pay ${open.map((o) => o.api).join('/')}: their payment parameters and notifications need it. ${
      v2
        ? 'Keep MINIPAY_MCH_KEY set next to the APIv3 settings (new orders use v3, older ones stay on v2)'
        : 'Keep the APIv3 settings (MINIPAY_WECHATPAY_API=v3)'
    } until they are paid, closed or expired (MINIPAY_ORDER_TTL_SECONDS after they were made; the close job closes them), then remove it.`,
  );
}

/**
 * MINIPAY_MIGRATE=auto: runs the pending migrations (several instances starting at once take
 * turns on the migration lock). off: refuses a database that is behind. Either way a schema
 * newer than this minipay is refused (store.migrate and the check below).
 */
async function readySchema(store: Store, mode: Config['migrate'], logger: Logger): Promise<void> {
  if (mode === 'auto') {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    return;
  }
  const { pending, unknown } = await store.schema();
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);
  if (pending.length > 0) {
    throw new Error(
      `the database is not migrated: ${pending.length} migration${pending.length > 1 ? 's' : ''} pending (${pending.join(', ')}), and MINIPAY_MIGRATE=off keeps start-up from running them. Run \`minipay migrate\` once with this version, then start.`,
    );
  }
}
