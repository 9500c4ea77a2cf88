/**
 * The reconciliation engine outside the server (`minipay reconcile`): the configured database
 * and gateway, no HTTP, no jobs. It refuses a database that is not migrated to this version.
 */
import type { Logger } from 'pino';
import { createPayments, DEFAULT_SETTINGS, type Payments } from '../payments/index.js';
import { wechatLogin } from '../payments/login/wechat-login.js';
import { Metrics } from '../server/metrics.js';
import { openStore } from '../store/index.js';
import type { Config } from './config.js';
import { createGateway } from './gateways.js';

export interface Reconciler {
  payments: Payments;
  close(): Promise<void>;
}

export async function openReconciler(config: Config, logger: Logger): Promise<Reconciler> {
  if (!config.merchant) {
    throw new Error(
      'demo mode has no WeChat to ask (its sandbox lives inside `minipay start`): reconcile from the console, or set the merchant variables (MINIPAY_WECHATPAY_BASE_URL may name a `minipay sandbox`)',
    );
  }
  const store = openStore(config.databaseUrl, { mustExist: true });
  try {
    const { pending, unknown } = await store.schema();
    if (pending.length > 0 || unknown.length > 0) {
      throw new Error(
        `the database is not at this version's schema (${pending.length} pending, ${unknown.length} unknown): run \`minipay migrate\` with the same minipay`,
      );
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  const metrics = new Metrics();
  const merchant = config.merchant;
  const v3 = config.wechatpayV3;
  const gateway = createGateway({ config, merchant, v3, metrics, logger }, store);
  const payments = createPayments(
    {
      db: store.db,
      transact: store.transact,
      gateway,
      clock: () => new Date(),
      logger,
      settings: { ...DEFAULT_SETTINGS, notifyUrl: '' },
      metrics,
    },
    wechatLogin({
      baseUrl: config.wechatApiBaseUrl,
      appId: config.merchant.appId,
      appSecret: config.merchant.appSecret,
      timeoutMs: config.gatewayTimeoutMs,
    }),
  );
  return {
    payments,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}
