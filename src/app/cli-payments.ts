/**
 * The payments layer outside the server, for one-shot commands (`minipay reconcile`, `minipay
 * shipping-check`): the configured database, gateway and mini program platform, no HTTP, no
 * jobs. It refuses demo mode and a database that is not migrated to this version.
 */
import type { Logger } from 'pino';
import { createPayments, DEFAULT_SETTINGS, type Payments } from '../payments/index.js';
import { wechatLogin } from '../payments/login/wechat-login.js';
import { Metrics } from '../server/metrics.js';
import { openStore, type Store } from '../store/index.js';
import type { Config } from './config.js';
import { createGateway } from './gateways.js';
import { miniProgramClient } from './runtime.js';

export interface CliPayments {
  payments: Payments;
  close(): Promise<void>;
}

export interface CliPaymentsOptions {
  /** Where demo mode does the same instead (its refusal says so). */
  inDemo: string;
  /**
   * Also WeChat's mini program platform (MINIPAY_WECHAT_API_BASE_URL), for `payments.shipping`.
   * Off for reconcile, so that its repairs stay in the ledger and never call the platform.
   */
  platform?: boolean;
}

export async function openCliPayments(
  config: Config,
  logger: Logger,
  options: CliPaymentsOptions,
): Promise<CliPayments> {
  if (!config.merchant) {
    throw new Error(
      `demo mode has no WeChat to ask (its sandbox lives inside \`minipay start\`): ${options.inDemo}, or set the merchant variables (MINIPAY_WECHATPAY_BASE_URL and MINIPAY_WECHAT_API_BASE_URL may name a \`minipay sandbox\`)`,
    );
  }
  const store = openExistingStore(config.databaseUrl);
  try {
    const { pending, unknown } = await store.schema().catch((err: Error) => {
      throw new Error(
        `${store.description} does not answer (${err.message}): check MINIPAY_DATABASE_URL`,
      );
    });
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
  const platform =
    options.platform === true
      ? miniProgramClient(
          {
            appId: merchant.appId,
            appSecret: merchant.appSecret,
            baseUrl: config.wechatApiBaseUrl,
            backupBaseUrl: config.wechatApiBackupBaseUrl,
            timeoutMs: config.gatewayTimeoutMs,
          },
          store,
        )
      : undefined;
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
    { platform },
  );
  return {
    payments,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}

function openExistingStore(url: string): Store {
  try {
    return openStore(url, { mustExist: true });
  } catch (err) {
    throw new Error(
      `${(err as Error).message}: check MINIPAY_DATABASE_URL, or create it with \`minipay migrate\``,
    );
  }
}
