/**
 * A running merchant server: store opened and migrated, payments domain, HTTP app listening,
 * background jobs started. `close()` stops the jobs, lets in-flight requests finish (new ones
 * get 503), then closes the database.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createRunner, type JobRunner, orderJobs } from '../jobs/index.js';
import {
  createPayments,
  DEFAULT_SETTINGS,
  type PaymentGateway,
  type Payments,
  type PaymentsSettings,
  type ProductInput,
  type WechatLogin,
} from '../payments/index.js';
import { openStore, type Store } from '../store/index.js';
import { type App, buildServer } from './app.js';
import { Metrics } from './metrics.js';

export interface StartOptions {
  config: Config;
  gateway: PaymentGateway;
  wechatLogin: WechatLogin;
  logger: Logger;
  /** Products inserted when missing (demo mode). */
  seedProducts?: ProductInput[];
  clock?: () => Date;
  /** Run the expiry and sweep jobs (default true). */
  jobs?: boolean;
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

export interface RunningServer {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly app: App;
  readonly store: Store;
  readonly payments: Payments;
  readonly metrics: Metrics;
  readonly runner: JobRunner | undefined;
  close(): Promise<void>;
}

export const NOTIFY_PATH = '/wechatpay/v2/notify';
export const REFUND_NOTIFY_PATH = '/wechatpay/v2/refund-notify';

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const store = openStore(config.databaseUrl);
  let app: App | undefined;
  let runner: JobRunner | undefined;
  try {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const metrics = new Metrics();
    const settings: PaymentsSettings = {
      ...DEFAULT_SETTINGS,
      notifyUrl: config.notifyBaseUrl ? `${config.notifyBaseUrl}${NOTIFY_PATH}` : '',
      refundNotifyUrl: config.notifyBaseUrl ? `${config.notifyBaseUrl}${REFUND_NOTIFY_PATH}` : '',
      orderTtlMs: config.orderTtlSeconds * 1000,
      storeName: config.storeName,
    };
    const payments = createPayments(
      {
        db: store.db,
        gateway: options.gateway,
        clock: options.clock ?? (() => new Date()),
        logger,
        settings,
        metrics,
      },
      options.wechatLogin,
    );
    if (options.seedProducts) await payments.catalogue.seed(options.seedProducts);
    app = await buildServer({
      payments,
      store,
      metrics,
      logger,
      adminToken: config.adminToken,
      mode: config.mode,
      trustProxy: config.trustProxy,
      plugins: options.plugins,
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    // Without a public URL (demo, tests) WeChat is the local sandbox: it reaches us here.
    if (!settings.notifyUrl) settings.notifyUrl = `${url}${NOTIFY_PATH}`;
    if (!settings.refundNotifyUrl) settings.refundNotifyUrl = `${url}${REFUND_NOTIFY_PATH}`;
    if (options.jobs !== false) {
      runner = createRunner(store, config.databaseUrl, {
        logger,
        onRun: (job, outcome) => metrics.inc('minipay_job_runs_total', { job, outcome }),
      });
      await runner.start(orderJobs(payments, config.jobIntervalSeconds * 1000));
    }
    const started = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      app: started,
      store,
      payments,
      metrics,
      runner,
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
