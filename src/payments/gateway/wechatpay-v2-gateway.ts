/**
 * The PaymentGateway over WeChat Pay APIv2 (XML, MD5 / HMAC-SHA256): the domain's words mapped
 * to the protocol layer's calls, and every `WechatPayError` to a `GatewayError` of the same
 * kind. Works against api.mch.weixin.qq.com and against the sandbox alike (`payBaseUrl`).
 */
import {
  BillFormatError,
  type BillSource,
  buildRequestPayment,
  type FailoverEvent,
  notifyReplyXml,
  parseBill,
  readPaymentNotify,
  readRefundNotify,
  readTradeBill,
  type SignType,
  type V2ClientTls,
  WechatPayError,
  WechatPayV2Client,
} from '../../wechatpay/index.js';
import {
  type Bill,
  type BillStream,
  type BillType,
  billTradeRow,
  type FundFlowBill,
  GatewayError,
  type NotifyHttpReply,
  type NotifyHttpRequest,
  type NotifyOutcome,
  type PaymentGateway,
  type PaymentNotice,
  type PaymentParams,
  type PrepayRequest,
  type PrepayResult,
  type RefundAccepted,
  type RefundRequest,
  type RefundState,
  type RefundStatus,
  type TradeBill,
  type TradeState,
  type TradeStatus,
} from './gateway.js';

export interface WechatPayV2GatewayOptions {
  appId: string;
  mchId: string;
  /** The APIv2 key. */
  mchKey: string;
  signType: SignType;
  /** Default https://api.mch.weixin.qq.com; the sandbox's URL in demo mode. */
  payBaseUrl?: string;
  /** The backup domain (https://api2.mch.weixin.qq.com), tried when the main one fails. */
  backupBaseUrl?: string;
  /** Called on every failover to the other domain (metrics, logs). */
  onFailover?: (event: FailoverEvent) => void;
  /** Deadline of one HTTP exchange with WeChat. Default 10,000 ms. */
  timeoutMs?: number;
  /** Merchant API client certificate (refunds, fund-flow bills). */
  tls?: V2ClientTls;
  /** Trust this CA for WeChat Pay's addresses (a private sandbox over HTTPS). */
  ca?: string | Buffer;
  /** Retries of the read-only calls (see WechatPayV2Client). */
  retry?: { attempts?: number; delayMs?: number };
}

/** A prepay_id is valid for 2 hours after it is issued. */
const PREPAY_TTL_MS = 2 * 3600 * 1000;

const TRADE_STATES: readonly string[] = [
  'NOTPAY',
  'ACCEPT',
  'SUCCESS',
  'CLOSED',
  'REFUND',
  'USERPAYING',
  'PAYERROR',
  'REVOKED',
];
const REFUND_STATES: readonly string[] = ['PROCESSING', 'SUCCESS', 'CHANGE', 'REFUNDCLOSE'];

export class WechatPayV2Gateway implements PaymentGateway {
  readonly name = 'wechatpay-v2';
  readonly api = 'v2' as const;
  readonly appId: string;
  readonly mchId: string;
  private readonly client: WechatPayV2Client;
  private readonly key: string;
  private readonly signType: SignType;
  private readonly fundFlow: boolean;

  constructor(options: WechatPayV2GatewayOptions) {
    this.client = gatewayCall(
      () =>
        new WechatPayV2Client({
          baseUrl: options.payBaseUrl,
          backupBaseUrl: options.backupBaseUrl,
          onFailover: options.onFailover,
          appId: options.appId,
          mchId: options.mchId,
          key: options.mchKey,
          signType: options.signType,
          timeoutMs: options.timeoutMs,
          tls: options.tls,
          ca: options.ca,
          retry: options.retry,
        }),
    );
    this.appId = options.appId;
    this.mchId = options.mchId;
    this.key = options.mchKey;
    this.signType = options.signType;
    this.fundFlow = options.tls !== undefined;
  }

  /** Releases the HTTP connection pools. */
  close(): Promise<void> {
    return this.client.close();
  }

  /** One API only: every order goes through it. */
  forApi(): PaymentGateway {
    return this;
  }

  async prepay(request: PrepayRequest): Promise<PrepayResult> {
    const issuedAt = Date.now();
    const res = await gatewayAsync(() =>
      this.client.unifiedOrder({
        body: request.description,
        outTradeNo: request.outTradeNo,
        totalFee: request.totalFen,
        spbillCreateIp: request.payerIp,
        notifyUrl: request.notifyUrl,
        tradeType: 'JSAPI',
        openid: request.payerOpenid,
        attach: request.attach,
        timeExpire: request.expiresAt,
      }),
    );
    return { prepayId: res.prepayId, prepayExpiresAt: new Date(issuedAt + PREPAY_TTL_MS) };
  }

  paymentParams(prepayId: string): PaymentParams {
    return gatewayCall(() =>
      buildRequestPayment({ appId: this.appId, prepayId, key: this.key, signType: this.signType }),
    );
  }

  async queryTrade(outTradeNo: string): Promise<TradeStatus> {
    try {
      const q = await this.client.orderQuery({ outTradeNo });
      if (!TRADE_STATES.includes(q.tradeState)) {
        throw new GatewayError(
          'invalid',
          'UNKNOWN_TRADE_STATE',
          `orderquery: unknown trade_state ${q.tradeState}`,
        );
      }
      return {
        outTradeNo: q.outTradeNo,
        state: q.tradeState as TradeState,
        stateDesc: q.tradeStateDesc,
        transactionId: q.transactionId,
        totalFen: q.totalFee,
        currency: q.feeType,
        payerOpenid: q.openid,
        paidAt: q.timeEnd,
        appId: q.fields.appid,
        mchId: q.fields.mch_id,
      };
    } catch (err) {
      if (err instanceof WechatPayError && err.code === 'ORDERNOTEXIST') {
        return { outTradeNo, state: 'NOT_FOUND', stateDesc: err.description };
      }
      throw toGatewayError(err);
    }
  }

  async closeTrade(outTradeNo: string): Promise<void> {
    try {
      await this.client.closeOrder(outTradeNo);
    } catch (err) {
      if (err instanceof WechatPayError && err.code === 'ORDERCLOSED') return;
      throw toGatewayError(err);
    }
  }

  async refund(request: RefundRequest): Promise<RefundAccepted> {
    const res = await gatewayAsync(() =>
      this.client.refund({
        outTradeNo: request.outTradeNo,
        outRefundNo: request.outRefundNo,
        totalFee: request.totalFen,
        refundFee: request.refundFen,
        refundDesc: request.reason,
        notifyUrl: request.notifyUrl,
        refundAccount: request.account && `REFUND_SOURCE_${request.account}`,
      }),
    );
    return { outRefundNo: res.outRefundNo, refundId: res.refundId, refundFen: res.refundFee };
  }

  async queryRefund(outRefundNo: string): Promise<RefundStatus> {
    const q = await gatewayAsync(() => this.client.refundQuery({ outRefundNo }));
    const item = q.refunds.find((r) => r.outRefundNo === outRefundNo);
    if (!item) {
      throw new GatewayError(
        'invalid',
        'MALFORMED_RESPONSE',
        `refundquery: the answer does not list ${outRefundNo}`,
      );
    }
    if (!REFUND_STATES.includes(item.status)) {
      throw new GatewayError(
        'invalid',
        'UNKNOWN_REFUND_STATE',
        `refundquery: unknown refund_status ${item.status}`,
      );
    }
    return {
      outTradeNo: q.outTradeNo,
      outRefundNo,
      refundId: item.refundId,
      transactionId: q.transactionId,
      state: item.status as RefundState,
      refundFen: item.refundFee,
      totalFen: q.totalFee,
      succeededAt: item.successTime,
      receivedAccount: item.recvAccount,
    };
  }

  async readPaymentNotify(request: NotifyHttpRequest): Promise<PaymentNotice> {
    const n = gatewayCall(() =>
      readPaymentNotify(request.body, {
        key: this.key,
        signType: this.signType,
        appId: this.appId,
        mchId: this.mchId,
      }),
    );
    return {
      outTradeNo: n.outTradeNo,
      succeeded: n.succeeded,
      transactionId: n.transactionId,
      totalFen: n.totalFee,
      currency: n.feeType,
      appId: n.appId,
      mchId: n.mchId,
      payerOpenid: n.openid,
      paidAt: n.timeEnd,
      attach: n.attach,
      noticeId: n.transactionId ?? `${n.outTradeNo}:${n.nonceStr}`,
    };
  }

  async readRefundNotify(request: NotifyHttpRequest): Promise<RefundStatus> {
    const n = gatewayCall(() =>
      readRefundNotify(request.body, { mchKey: this.key, appId: this.appId, mchId: this.mchId }),
    );
    return {
      outTradeNo: n.outTradeNo,
      outRefundNo: n.outRefundNo,
      refundId: n.refundId,
      transactionId: n.transactionId,
      state: n.refundStatus,
      refundFen: n.refundFee,
      totalFen: n.totalFee,
      succeededAt: n.successTime,
      receivedAccount: n.refundRecvAccount,
      source: n.refundRequestSource,
    };
  }

  /**
   * WeChat only tells SUCCESS from anything else: `retry` and `reject` are both a FAIL reply
   * (WeChat retries either on its schedule); the message is for the logs on WeChat's side.
   */
  notifyReply(outcome: NotifyOutcome, message?: string): NotifyHttpReply {
    const ok = outcome === 'ok';
    const text = message ?? (ok ? 'OK' : outcome === 'retry' ? 'try again later' : 'rejected');
    return {
      statusCode: 200,
      contentType: 'text/xml; charset=utf-8',
      body: notifyReplyXml(ok, text),
    };
  }

  async downloadBill(date: string, type: BillType): Promise<Bill | null> {
    const billDate = date.replaceAll('-', '');
    const text = await gatewayAsync(() =>
      this.client.downloadBill({ billDate, billType: type, gzip: true }),
    );
    if (text === null) return null;
    try {
      const bill = parseBill(text);
      return { date, type, rows: bill.rows.map(billTradeRow), summary: bill.summary };
    } catch (err) {
      if (err instanceof BillFormatError) {
        throw new GatewayError('invalid', 'MALFORMED_BILL', `downloadbill: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  openTradeBill(date: string): Promise<TradeBill | null> {
    return gatewayAsync(async () => {
      const reader = await this.client.downloadBillStream(
        { billDate: date.replaceAll('-', ''), billType: 'ALL', gzip: true },
        { hash: 'sha256' },
      );
      return reader && billStream(reader, '/pay/downloadbill', (r) => r.map(billTradeRow));
    });
  }

  /** Only with the merchant API client certificate (`tls`): WeChat requires it. */
  get openFundFlowBill(): ((date: string) => Promise<FundFlowBill | null>) | undefined {
    if (!this.fundFlow) return undefined;
    return (date) =>
      gatewayAsync(async () => {
        const reader = await this.client.downloadFundFlowStream(
          { billDate: date.replaceAll('-', ''), accountType: 'Basic', gzip: true },
          { hash: 'sha256' },
        );
        return reader && billStream(reader, '/pay/downloadfundflow', (rows) => rows);
      });
  }
}

/** A trade bill read from bytes (a downloaded file, plain or gzip), as the port's `TradeBill`. */
export function tradeBillFrom(source: BillSource): TradeBill {
  return billStream(readTradeBill(source, { hash: 'sha256' }), 'the bill', (r) =>
    r.map(billTradeRow),
  );
}

/** A protocol-layer bill reader as the port's `BillStream`, its errors as `GatewayError`. */
export function billStream<R, S, D>(
  reader: { batches(): AsyncGenerator<R[]>; summary: S | undefined; digest: string | undefined },
  path: string,
  rows: (batch: R[]) => D[],
): BillStream<D, S> {
  return {
    get summary() {
      return reader.summary;
    },
    get sha256() {
      return reader.digest;
    },
    async *[Symbol.asyncIterator]() {
      try {
        for await (const batch of reader.batches()) yield rows(batch);
      } catch (err) {
        if (err instanceof BillFormatError) {
          throw new GatewayError('invalid', 'MALFORMED_BILL', `${path}: ${err.message}`, {
            cause: err,
          });
        }
        throw toGatewayError(err);
      }
    },
  };
}

/** The domain's error for a protocol-layer error (same kind, code and message). */
export function toGatewayError(err: unknown): unknown {
  if (err instanceof WechatPayError) {
    return new GatewayError(err.kind, err.code, err.message, { cause: err });
  }
  return err;
}

/** Runs a protocol-layer call, its errors as the domain's. */
export function gatewayCall<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw toGatewayError(err);
  }
}

/** The same for an asynchronous call. */
export async function gatewayAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw toGatewayError(err);
  }
}
