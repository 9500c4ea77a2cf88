/**
 * The PaymentGateway over WeChat Pay APIv3 (JSON, WECHATPAY2-SHA256-RSA2048, AEAD_AES_256_GCM
 * notifications): the same domain words as the v2 adapter, mapped to the v3 protocol layer,
 * every `WechatPayError` (v3's included) to a `GatewayError` of the same kind. Works against
 * api.mch.weixin.qq.com and the sandbox alike (`payBaseUrl`).
 *
 * Mappings (docs/wechatpay.md, "v2 → v3"):
 * - refund states: v3's ABNORMAL and CLOSED are the domain's (v2's) CHANGE and REFUNDCLOSE;
 * - a query's ORDER_NOT_EXIST is NOT_FOUND only when WeChat signed it (an unsigned refusal
 *   could come from a proxy, and NOT_FOUND lets the domain close the order);
 * - notifications are answered 204 when handled, 500 `{code: FAIL}` to be retried, 400 when
 *   refused (WeChat retries every failure on its schedule; the status is for its logs).
 */
import { BillFormatError, parseBill } from '../../wechatpay/index.js';
import {
  type ApiV3Key,
  buildRequestPaymentV3,
  closeOrder,
  createRefund,
  fundFlowBillStream,
  prepayJsapi,
  queryByOutTradeNo,
  queryRefund,
  readPaymentNotification,
  readRefundNotification,
  type Signer,
  tradeBill,
  tradeBillStream,
  type V3Refund,
  type V3RefundNotifyStatus,
  type V3RefundStatus,
  type V3Transaction,
  type Verification,
  type Verifier,
  WechatPayV3Client,
  WechatPayV3Error,
} from '../../wechatpay/v3/index.js';
import {
  type Bill,
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
  type TradeStatus,
} from './gateway.js';
import { billStream, gatewayAsync, gatewayCall, toGatewayError } from './wechatpay-v2-gateway.js';

export interface WechatPayV3GatewayOptions {
  appId: string;
  mchId: string;
  /** Signs requests and paySign: the merchant API private key with its certificate serial. */
  signer: Signer;
  /** Verifies answers and notifications: public key, platform certificates, or both. */
  verifier: Verifier;
  apiV3Key: ApiV3Key;
  /** Default https://api.mch.weixin.qq.com; the sandbox's URL in demo mode. */
  payBaseUrl?: string;
  backupBaseUrl?: string;
  timeoutMs?: number;
  retry?: { attempts?: number; delayMs?: number };
  /** Each verified answer or notification: which key verified it (metrics). */
  onVerified?: (verification: Verification) => void;
}

const PREPAY_TTL_MS = 2 * 3600 * 1000;

const REFUND_STATES: Readonly<Record<V3RefundStatus | V3RefundNotifyStatus, RefundState>> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  ABNORMAL: 'CHANGE',
  CLOSED: 'REFUNDCLOSE',
};

export class WechatPayV3Gateway implements PaymentGateway {
  readonly name = 'wechatpay-v3';
  readonly api = 'v3' as const;
  readonly appId: string;
  readonly mchId: string;
  /** The client, for what only it does (the certificate download shares its transport). */
  readonly client: WechatPayV3Client;
  private readonly signer: Signer;
  private readonly verifier: Verifier;
  private readonly apiV3Key: ApiV3Key;
  private readonly onVerified: (verification: Verification) => void;

  constructor(options: WechatPayV3GatewayOptions) {
    this.onVerified = options.onVerified ?? (() => undefined);
    this.client = gatewayCall(
      () =>
        new WechatPayV3Client({
          mchId: options.mchId,
          signer: options.signer,
          verifier: options.verifier,
          baseUrl: options.payBaseUrl,
          backupBaseUrl: options.backupBaseUrl,
          timeoutMs: options.timeoutMs,
          retry: options.retry,
          onVerified: ({ verification }) => this.onVerified(verification),
        }),
    );
    this.appId = options.appId;
    this.mchId = options.mchId;
    this.signer = options.signer;
    this.verifier = options.verifier;
    this.apiV3Key = options.apiV3Key;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** One API only: every order goes through it (v3 can query, close and refund v2's trades). */
  forApi(): PaymentGateway {
    return this;
  }

  async prepay(request: PrepayRequest): Promise<PrepayResult> {
    const issuedAt = Date.now();
    const res = await gatewayAsync(() =>
      prepayJsapi(this.client, {
        appId: this.appId,
        description: request.description,
        outTradeNo: request.outTradeNo,
        notifyUrl: request.notifyUrl,
        total: request.totalFen,
        payerOpenid: request.payerOpenid,
        attach: request.attach,
        timeExpire: request.expiresAt,
        payerClientIp: request.payerIp,
      }),
    );
    return { prepayId: res.prepayId, prepayExpiresAt: new Date(issuedAt + PREPAY_TTL_MS) };
  }

  paymentParams(prepayId: string): PaymentParams {
    return gatewayCall(() =>
      buildRequestPaymentV3({ appId: this.appId, prepayId, signer: this.signer }),
    );
  }

  async queryTrade(outTradeNo: string): Promise<TradeStatus> {
    try {
      return tradeStatus(await queryByOutTradeNo(this.client, outTradeNo));
    } catch (err) {
      if (err instanceof WechatPayV3Error && err.code === 'ORDER_NOT_EXIST' && err.verified) {
        return { outTradeNo, state: 'NOT_FOUND', stateDesc: err.description };
      }
      throw domainError(err);
    }
  }

  async closeTrade(outTradeNo: string): Promise<void> {
    try {
      await closeOrder(this.client, outTradeNo);
    } catch (err) {
      if (err instanceof WechatPayV3Error && err.code === 'ORDER_CLOSED') return;
      throw domainError(err);
    }
  }

  async refund(request: RefundRequest): Promise<RefundAccepted> {
    const res = await gatewayAsync(() =>
      createRefund(this.client, {
        outTradeNo: request.outTradeNo,
        outRefundNo: request.outRefundNo,
        total: request.totalFen,
        refund: request.refundFen,
        reason: request.reason,
        notifyUrl: request.notifyUrl,
        // v3 names only the available balance; the unsettled takings are its default.
        fundsAccount: request.account === 'RECHARGE_FUNDS' ? 'AVAILABLE' : undefined,
      }),
    );
    return { outRefundNo: res.outRefundNo, refundId: res.refundId, refundFen: res.amount.refund };
  }

  async queryRefund(outRefundNo: string): Promise<RefundStatus> {
    try {
      return refundStatus(await queryRefund(this.client, outRefundNo));
    } catch (err) {
      throw domainError(err, REFUND_QUERY_CODES);
    }
  }

  async readPaymentNotify(request: NotifyHttpRequest): Promise<PaymentNotice> {
    const n = await gatewayAsync(() =>
      readPaymentNotification(request, {
        verifier: this.verifier,
        apiV3Key: this.apiV3Key,
        mchId: this.mchId,
        appId: this.appId,
      }),
    );
    this.onVerified(n.verification);
    const t = n.transaction;
    return {
      outTradeNo: t.outTradeNo,
      succeeded: true,
      transactionId: t.transactionId,
      totalFen: t.amount?.total,
      currency: t.amount?.currency,
      appId: t.appId,
      mchId: t.mchId,
      payerOpenid: t.payerOpenid,
      paidAt: t.successTime,
      attach: t.attach,
      noticeId: t.transactionId ?? n.id,
    };
  }

  async readRefundNotify(request: NotifyHttpRequest): Promise<RefundStatus> {
    const n = await gatewayAsync(() =>
      readRefundNotification(request, {
        verifier: this.verifier,
        apiV3Key: this.apiV3Key,
        mchId: this.mchId,
      }),
    );
    this.onVerified(n.verification);
    const r = n.refund;
    return {
      outTradeNo: r.outTradeNo,
      outRefundNo: r.outRefundNo,
      refundId: r.refundId,
      transactionId: r.transactionId,
      state: REFUND_STATES[r.refundStatus],
      refundFen: r.amount.refund,
      totalFen: r.amount.total,
      succeededAt: r.successTime,
      receivedAccount: r.userReceivedAccount,
    };
  }

  notifyReply(outcome: NotifyOutcome, message?: string): NotifyHttpReply {
    if (outcome === 'ok') return { statusCode: 204, contentType: 'application/json', body: '' };
    const text = message ?? (outcome === 'retry' ? 'try again later' : 'rejected');
    return {
      statusCode: outcome === 'retry' ? 500 : 400,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ code: 'FAIL', message: text }),
    };
  }

  /**
   * The day's trade bill for reconciliation, streamed: its rows are read as the file arrives,
   * and its SHA1 checked when it ends (a mismatch fails the iteration: `BAD_HASH`).
   */
  openTradeBill(date: string): Promise<TradeBill | null> {
    return gatewayAsync(async () => {
      const reader = await tradeBillStream(
        this.client,
        { billDate: date, billType: 'ALL', gzip: true },
        { hash: 'sha256' },
      );
      return reader && billStream(reader, '/v3/bill/tradebill', (rows) => rows.map(billTradeRow));
    });
  }

  /** The basic account's fund-flow bill, streamed like the trade bill (no certificate on v3). */
  openFundFlowBill(date: string): Promise<FundFlowBill | null> {
    return gatewayAsync(async () => {
      const reader = await fundFlowBillStream(
        this.client,
        { billDate: date, accountType: 'BASIC', gzip: true },
        { hash: 'sha256' },
      );
      return reader && billStream(reader, '/v3/bill/fundflowbill', (rows) => rows);
    });
  }

  async downloadBill(date: string, type: BillType): Promise<Bill | null> {
    const text = await gatewayAsync(() =>
      tradeBill(this.client, { billDate: date, billType: type, gzip: true }),
    );
    if (text === null) return null;
    try {
      const bill = parseBill(text);
      return { date, type, rows: bill.rows.map(billTradeRow), summary: bill.summary };
    } catch (err) {
      if (err instanceof BillFormatError) {
        throw new GatewayError('invalid', 'MALFORMED_BILL', `tradebill: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}

/** v3 codes the domain acts on, by their v2 names (the port's vocabulary). */
const DOMAIN_CODES: Readonly<Record<string, string>> = {
  ORDER_NOT_EXIST: 'ORDERNOTEXIST',
  ORDER_CLOSED: 'ORDERCLOSED',
};
const REFUND_QUERY_CODES: Readonly<Record<string, string>> = {
  RESOURCE_NOT_EXISTS: 'REFUNDNOTEXIST',
};

/** A protocol error as a GatewayError, its code renamed where the domain reads it. */
function domainError(err: unknown, codes: Readonly<Record<string, string>> = DOMAIN_CODES) {
  const mapped = toGatewayError(err);
  if (!(mapped instanceof GatewayError)) return mapped;
  const code = codes[mapped.code];
  return code ? new GatewayError(mapped.kind, code, mapped.message, { cause: err }) : mapped;
}

function tradeStatus(t: V3Transaction): TradeStatus {
  return {
    outTradeNo: t.outTradeNo,
    state: t.tradeState,
    stateDesc: t.tradeStateDesc,
    transactionId: t.transactionId,
    totalFen: t.amount?.total,
    currency: t.amount?.currency,
    payerOpenid: t.payerOpenid,
    paidAt: t.successTime,
    appId: t.appId,
    mchId: t.mchId,
  };
}

function refundStatus(r: V3Refund): RefundStatus {
  return {
    outTradeNo: r.outTradeNo,
    outRefundNo: r.outRefundNo,
    refundId: r.refundId,
    transactionId: r.transactionId,
    state: REFUND_STATES[r.status],
    refundFen: r.amount.refund,
    totalFen: r.amount.total,
    succeededAt: r.successTime,
    receivedAccount: r.userReceivedAccount,
  };
}
