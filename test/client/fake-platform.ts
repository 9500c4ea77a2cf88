/**
 * A scripted Platform for unit tests: every request goes to a handler the test writes (a tiny
 * fake server), and everything the client does is recorded for assertions.
 */
import type { Order, PaymentParams } from '../../src/client/api-types.js';
import { PlatformCallError } from '../../src/client/errors.js';
import type {
  Platform,
  PlatformRequest,
  PlatformResponse,
  RequestPaymentParams,
} from '../../src/client/platform.js';

export type Handler = (req: PlatformRequest) => PlatformResponse | 'network-error';

export class FakePlatform implements Platform {
  readonly requests: PlatformRequest[] = [];
  readonly payments: RequestPaymentParams[] = [];
  readonly store = new Map<string, string>();
  readonly sleeps: number[] = [];
  codes = 0;
  /** What `requestPayment` does: `ok`, or the errMsg it fails with. */
  paymentOutcome: 'ok' | string = 'ok';

  constructor(public handler: Handler) {}

  login = async (): Promise<string> => {
    this.codes++;
    return `code-${this.codes}`;
  };

  requestPayment = async (params: RequestPaymentParams): Promise<void> => {
    this.payments.push(params);
    if (this.paymentOutcome !== 'ok') throw new PlatformCallError(this.paymentOutcome);
  };

  request = async (req: PlatformRequest): Promise<PlatformResponse> => {
    this.requests.push(req);
    const res = this.handler(req);
    if (res === 'network-error') throw new PlatformCallError('request:fail timeout');
    return res;
  };

  storage = {
    get: (key: string) => this.store.get(key),
    set: (key: string, value: string) => {
      this.store.set(key, value);
    },
    remove: (key: string) => {
      this.store.delete(key);
    },
  };

  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
  };

  /** Requests to a path (without the base URL and query), in order. */
  to(method: string, path: string): PlatformRequest[] {
    return this.requests.filter((r) => r.method === method && new URL(r.url).pathname === path);
  }
}

export function json(statusCode: number, data: unknown): PlatformResponse {
  return { statusCode, data, header: { 'x-request-id': 'req-1' } };
}

export function apiError(statusCode: number, code: string, message = code): PlatformResponse {
  return json(statusCode, { error: { code, message } });
}

export function order(overrides: Partial<Order> = {}): Order {
  return {
    id: 'ord_1',
    outTradeNo: 'MP1',
    status: 'PENDING',
    description: 'tea',
    totalFen: 1200,
    currency: 'CNY',
    items: [{ productId: 'prd_tea', name: 'tea', unitPriceFen: 600, quantity: 2, amountFen: 1200 }],
    attach: null,
    createdAt: '2026-11-22T08:00:00.000Z',
    updatedAt: '2026-11-22T08:00:00.000Z',
    expiresAt: '2026-11-22T08:30:00.000Z',
    paidAt: null,
    closedAt: null,
    transactionId: null,
    refundedFen: 0,
    failure: null,
    ...overrides,
  };
}

export const PAYMENT: PaymentParams = {
  appId: 'wxd678efh567hg6787',
  timeStamp: '1763798400',
  nonceStr: 'n0nce',
  package: 'prepay_id=wx2017',
  signType: 'MD5',
  paySign: 'ABCDEF0123456789ABCDEF0123456789',
};

/** A login answer that expires in an hour. */
export function loginAnswer(token: string): PlatformResponse {
  return json(200, {
    token,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    user: { id: 'usr_1' },
  });
}
