/** Builds the payments domain over a store and a gateway, with a controllable clock. */
import pino from 'pino';
import {
  createPayments,
  DEFAULT_SETTINGS,
  LoginCodeRejected,
  type PaymentGateway,
  type Payments,
  type PaymentsSettings,
  type WechatLogin,
} from '../../src/payments/index.js';
import { Metrics } from '../../src/server/metrics.js';
import type { Store } from '../../src/store/index.js';

/** A clock tests can move forward. */
export class TestClock {
  offsetMs = 0;
  now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Login double: code "code:<openid>" logs in as that openid; anything else is refused. */
export const codeLogin: WechatLogin = {
  async code2Session(code) {
    const m = /^code:(.+)$/.exec(code);
    if (!m) throw new LoginCodeRejected('invalid code');
    return { openid: m[1]!, sessionKey: `sk-${m[1]}` };
  },
};

export function buildPayments(
  store: Store,
  gateway: PaymentGateway,
  options: {
    clock?: TestClock;
    login?: WechatLogin;
    notifyUrl?: string;
    metrics?: Metrics;
    /** Transactions through the store's `transact` (group commit on SQLite), as the server runs them. */
    storeTransact?: boolean;
    settings?: Partial<PaymentsSettings>;
  } = {},
): Payments {
  const clock = options.clock ?? new TestClock();
  return createPayments(
    {
      db: store.db,
      ...(options.storeTransact && { transact: store.transact }),
      gateway,
      clock: clock.now,
      logger: pino({ level: 'silent' }),
      settings: {
        ...DEFAULT_SETTINGS,
        notifyUrl: options.notifyUrl ?? 'http://127.0.0.1:9/wechatpay/v2/notify',
        retryDelayMs: 5,
        ...options.settings,
      },
      metrics: options.metrics ?? new Metrics(),
    },
    options.login ?? codeLogin,
  );
}

export const DEMO_PRODUCTS = [
  { id: 'prd_tea', name: 'Jasmine tea', priceFen: 600 },
  { id: 'prd_cake', name: 'Mooncake', priceFen: 1500 },
  { id: 'prd_gone', name: 'Discontinued', priceFen: 100, active: false },
];
