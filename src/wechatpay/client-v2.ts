/**
 * The APIv2 client: unifiedorder, orderquery, closeorder, refund, refundquery, downloadbill,
 * downloadfundflow.
 *
 * - Every request carries appid, mch_id, a fresh nonce_str, `sign_type` when HMAC-SHA256, and
 *   its signature; values with leading/trailing whitespace are refused before sending.
 * - Every `return_code=SUCCESS` answer is signature-checked with the client's sign type and
 *   checked to be this merchant's before any field is read; one that fails is `invalid`.
 * - Errors are `WechatPayError` (errors.ts): transport failures, HTTP 5xx and SYSTEMERROR are
 *   `ambiguous`; err_codes map through `V2_ERR_CODES`.
 * - Retries: only orderquery, refundquery and downloadbill, which change nothing, are retried
 *   here (on `ambiguous`, `retry.attempts` more times, backing off). unifiedorder, closeorder
 *   and refund are never retried silently: the caller (the domain) retries them with the same
 *   out_trade_no / out_refund_no and parameters, which WeChat treats as the same request, and
 *   decides when to settle by a query instead.
 * - Failover: with `backupBaseUrl` (WeChat's api2.mch.weixin.qq.com), a request whose exchange
 *   fails (connection error, timeout, HTTP 5xx) is sent once more, byte for byte, to the other
 *   domain, and the backup is tried first for `failoverHoldMs` after that. Every call here may
 *   be repeated so: each names its trade or refund by out_trade_no / out_refund_no, and WeChat
 *   treats the same number with the same parameters as the same request.
 * - Answers are capped (64 KiB of XML; bills read whole `maxBillBytes`, default 32 MiB after
 *   gunzip). Streamed bills (`downloadBillStream`, `downloadFundFlowStream`) are read line by
 *   line as they arrive, capped by their `maxBytes` (default 4 GiB).
 * - The client certificate is used for `/secapi/pay/refund` and `/pay/downloadfundflow` only
 *   (they need it), through its own undici
 *   Agent: PEM cert + key, or PKCS#12. WeChat's `apiclient_cert.p12` is encrypted with RC2-40,
 *   which OpenSSL 3 (Node ≥ 17) refuses without the legacy provider; the constructor checks
 *   the certificate at once and says so. Use `apiclient_cert.pem` + `apiclient_key.pem`
 *   (WeChat ships both), or re-export the p12 with modern ciphers (docs/wechatpay.md).
 *
 * Longer than most files on purpose: one class, its eight calls each with the checks of its
 * arguments beside its request, and the transport they all share (signing, verification,
 * retries, failover), with the small helpers below used only here.
 */
import { createSecureContext } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { Agent, type Dispatcher } from 'undici';
import { MAX_TOTAL_FEE, parseFen, parseOptionalFen } from './amounts.js';
import { attachProblem } from './attach.js';
import { readTradeBill, type TradeBillReader } from './bill.js';
import { billAnswer } from './bill-download.js';
import type { BillReadOptions } from './bill-lines.js';
import { DomainFailover, type FailoverEvent } from './domain-failover.js';
import { errCodeError, returnFailError, WechatPayError, type WechatPaySetting } from './errors.js';
import {
  type FundFlowAccount,
  type FundFlowBillReader,
  readFundFlowBill,
} from './fund-flow-bill.js';
import {
  exchange,
  type HttpCall,
  type HttpExchange,
  type HttpStream,
  openExchange,
} from './http.js';
import {
  beijingCompact,
  nonce,
  OUT_REFUND_NO_PATTERN,
  OUT_TRADE_NO_PATTERN,
  parseBeijingTime,
} from './ids.js';
import { type LimitedField, TEXT_LIMITS, utf8Length } from './limits.js';
import { paymentFields } from './payment-fields.js';
import { assertWireSafe, type SignType, signV2, type V2Fields, verifyV2 } from './sign.js';
import { decodeXml, encodeXml, XML_MAX_BYTES, XmlError, type XmlFields } from './xml.js';

export type V2ClientTls =
  | { pfx: Buffer; passphrase?: string; ca?: string | Buffer }
  | { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };

export interface WechatPayV2ClientOptions {
  /** Default https://api.mch.weixin.qq.com */
  baseUrl?: string;
  /**
   * WeChat's backup domain (https://api2.mch.weixin.qq.com), tried when the exchange with
   * `baseUrl` fails; none when absent.
   */
  backupBaseUrl?: string;
  /** After a failover the backup is tried first for this long. Default 180,000 ms. */
  failoverHoldMs?: number;
  /** Called on every failover (for metrics and logs). */
  onFailover?: (event: FailoverEvent) => void;
  appId: string;
  mchId: string;
  /** The APIv2 key (32 characters). */
  key: string;
  /** Default MD5. */
  signType?: SignType;
  /** Deadline of one HTTP exchange, default 10,000 ms. */
  timeoutMs?: number;
  /** Merchant API client certificate, for refunds and fund-flow bills. */
  tls?: V2ClientTls;
  /** Trust this CA for every path (a private sandbox over HTTPS). */
  ca?: string | Buffer;
  /** Retries of the read-only calls. Default 2 more attempts, 200 ms then 400 ms apart. */
  retry?: { attempts?: number; delayMs?: number };
  /** Largest bill accepted, after gunzip. Default 32 MiB. */
  maxBillBytes?: number;
}

export interface UnifiedOrderRequest {
  body: string;
  outTradeNo: string;
  totalFee: number;
  spbillCreateIp: string;
  notifyUrl: string;
  /** Default JSAPI (mini programs). */
  tradeType?: 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB';
  openid?: string;
  attach?: string;
  detail?: string;
  deviceInfo?: string;
  feeType?: string;
  timeStart?: Date;
  timeExpire?: Date;
  goodsTag?: string;
  limitPay?: 'no_credit';
  sceneInfo?: string;
  profitSharing?: 'Y' | 'N';
}

export interface UnifiedOrderResponse {
  prepayId: string;
  tradeType: string;
  codeUrl?: string;
  fields: Readonly<XmlFields>;
}

export type TradeLookup = { outTradeNo: string } | { transactionId: string };

export interface OrderQueryResponse {
  tradeState: string;
  tradeStateDesc?: string;
  outTradeNo: string;
  transactionId?: string;
  totalFee?: number;
  cashFee?: number;
  feeType?: string;
  openid?: string;
  tradeType?: string;
  bankType?: string;
  attach?: string;
  isSubscribe?: string;
  timeEnd?: Date;
  fields: Readonly<XmlFields>;
}

export type RefundRequest = TradeLookup & {
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  refundDesc?: string;
  notifyUrl?: string;
  refundAccount?: 'REFUND_SOURCE_UNSETTLED_FUNDS' | 'REFUND_SOURCE_RECHARGE_FUNDS';
};

export interface RefundResponse {
  refundId: string;
  outRefundNo: string;
  outTradeNo: string;
  transactionId: string;
  refundFee: number;
  totalFee: number;
  cashFee?: number;
  fields: Readonly<XmlFields>;
}

export type RefundLookup =
  | { outRefundNo: string }
  | { refundId: string }
  | { outTradeNo: string }
  | { transactionId: string };

export interface RefundQueryItem {
  outRefundNo: string;
  refundId: string;
  refundFee: number;
  status: string;
  channel?: string;
  refundAccount?: string;
  recvAccount?: string;
  successTime?: Date;
}

export interface RefundQueryResponse {
  outTradeNo: string;
  transactionId: string;
  totalFee: number;
  totalRefundCount?: number;
  refunds: RefundQueryItem[];
  fields: Readonly<XmlFields>;
}

export interface DownloadBillRequest {
  /** `yyyyMMdd`, Beijing. */
  billDate: string;
  billType?: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
  /** Ask for `tar_type=GZIP` (the answer is gunzipped here). */
  gzip?: boolean;
}

export interface DownloadFundFlowRequest {
  /** `yyyyMMdd`, Beijing. */
  billDate: string;
  /** Default Basic (基本账户). */
  accountType?: FundFlowAccount;
  /** Ask for `tar_type=GZIP` (the answer is gunzipped here). */
  gzip?: boolean;
}

const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
const MAX_BILL_BYTES = 32 * 1024 * 1024;
const MAX_STREAMED_BILL_BYTES = 4 * 1024 ** 3;
/** Hosts of the real WeChat Pay, which requires an https notify_url. */
const WECHAT_HOST = /(^|\.)weixin\.qq\.com$/;

export class WechatPayV2Client {
  readonly appId: string;
  readonly mchId: string;
  readonly signType: SignType;
  private readonly baseUrl: string;
  private readonly backupBaseUrl: string | undefined;
  private readonly domains: DomainFailover;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly delayMs: number;
  private readonly maxBillBytes: number;
  private readonly plain: Dispatcher | undefined;
  private readonly secure: Dispatcher | undefined;

  constructor(options: WechatPayV2ClientOptions) {
    if (!options.appId) throw config('appId', 'appId is empty: set the mini program AppID');
    if (!/^[0-9]{1,32}$/.test(options.mchId ?? '')) {
      throw config('mchId', 'mchId must be the digits of the WeChat Pay merchant number');
    }
    if (!options.key) throw config('apiKey', 'the APIv2 key is empty: set it');
    const signType = options.signType ?? 'MD5';
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
      throw config('signType', 'signType must be MD5 or HMAC-SHA256');
    }
    this.appId = options.appId;
    this.mchId = options.mchId;
    this.key = options.key;
    this.signType = signType;
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.backupBaseUrl = options.backupBaseUrl?.replace(/\/+$/, '') || undefined;
    if (this.backupBaseUrl === this.baseUrl) {
      throw config(
        'backupBaseUrl',
        'backupBaseUrl must differ from baseUrl (WeChat: https://api2.mch.weixin.qq.com)',
      );
    }
    this.domains = new DomainFailover(
      this.baseUrl,
      this.backupBaseUrl,
      options.failoverHoldMs,
      options.onFailover,
    );
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = 1 + (options.retry?.attempts ?? 2);
    this.delayMs = options.retry?.delayMs ?? 200;
    this.maxBillBytes = options.maxBillBytes ?? MAX_BILL_BYTES;
    const ca = options.ca ?? options.tls?.ca;
    this.plain = ca ? new Agent({ connect: { ca } }) : undefined;
    this.secure = options.tls ? certificateAgent(options.tls, ca) : undefined;
  }

  /** Releases the connection pools. */
  async close(): Promise<void> {
    await Promise.all([this.plain?.close(), this.secure?.close()]);
  }

  /** `POST /pay/unifiedorder`: a prepay_id (valid 2 hours). Never retried here. */
  async unifiedOrder(req: UnifiedOrderRequest): Promise<UnifiedOrderResponse> {
    const tradeType = req.tradeType ?? 'JSAPI';
    checkOutTradeNo(req.outTradeNo);
    checkFen('totalFee', req.totalFee, 1);
    if (!req.body) argument('body is required');
    checkText('body', req.body);
    if (req.detail !== undefined) checkText('detail', req.detail);
    if (!/^https?:\/\/[^?#]{1,248}$/.test(req.notifyUrl)) {
      argument('notifyUrl must be an http(s) URL of at most 256 characters without a query');
    }
    if (!req.notifyUrl.startsWith('https:') && this.talksToWechat()) {
      argument('notifyUrl must be https: WeChat Pay requires an https notify_url');
    }
    if (tradeType === 'JSAPI' && !req.openid) argument('openid is required for JSAPI');
    const attach = req.attach === undefined ? null : attachProblem(req.attach);
    if (attach) argument(attach);
    if (!req.spbillCreateIp) argument('spbillCreateIp is required');
    const f = await this.call('/pay/unifiedorder', {
      body: req.body,
      out_trade_no: req.outTradeNo,
      total_fee: req.totalFee,
      spbill_create_ip: req.spbillCreateIp,
      notify_url: req.notifyUrl,
      trade_type: tradeType,
      openid: req.openid,
      attach: req.attach,
      detail: req.detail,
      device_info: req.deviceInfo,
      fee_type: req.feeType,
      time_start: req.timeStart && beijingCompact(req.timeStart),
      time_expire: req.timeExpire && beijingCompact(req.timeExpire),
      goods_tag: req.goodsTag,
      limit_pay: req.limitPay,
      scene_info: req.sceneInfo,
      profit_sharing: req.profitSharing,
    });
    const prepayId = field(f, 'prepay_id', '/pay/unifiedorder');
    return {
      prepayId,
      tradeType: f.trade_type ?? tradeType,
      codeUrl: f.code_url || undefined,
      fields: f,
    };
  }

  /** `POST /pay/orderquery` (retried on ambiguous failures). */
  async orderQuery(lookup: TradeLookup): Promise<OrderQueryResponse> {
    const f = await this.call('/pay/orderquery', tradeLookupFields(lookup), { retry: true });
    const tradeState = field(f, 'trade_state', '/pay/orderquery');
    return typed('/pay/orderquery', () => ({
      tradeState,
      tradeStateDesc: f.trade_state_desc || undefined,
      outTradeNo: field(f, 'out_trade_no', '/pay/orderquery'),
      ...paymentFields(f),
      fields: f,
    }));
  }

  /** `POST /pay/closeorder`. Never retried here; ORDERCLOSED / ORDERPAID come back as errors. */
  async closeOrder(outTradeNo: string): Promise<void> {
    checkOutTradeNo(outTradeNo);
    await this.call('/pay/closeorder', { out_trade_no: outTradeNo });
  }

  /** `POST /secapi/pay/refund` with the client certificate: accepted, not yet refunded. */
  async refund(req: RefundRequest): Promise<RefundResponse> {
    if (!OUT_REFUND_NO_PATTERN.test(req.outRefundNo)) {
      argument('outRefundNo must be 1 to 64 of 0-9 a-z A-Z _ - | * @');
    }
    checkFen('totalFee', req.totalFee, 1);
    checkFen('refundFee', req.refundFee, 1);
    if (req.refundFee > req.totalFee) argument('refundFee must not exceed totalFee');
    if (req.refundDesc !== undefined) checkText('refund_desc', req.refundDesc);
    if ('outTradeNo' in req) checkOutTradeNo(req.outTradeNo);
    const f = await this.call(
      '/secapi/pay/refund',
      {
        ...tradeLookupFields(req),
        out_refund_no: req.outRefundNo,
        total_fee: req.totalFee,
        refund_fee: req.refundFee,
        refund_desc: req.refundDesc,
        notify_url: req.notifyUrl,
        refund_account: req.refundAccount,
      },
      { certificate: true },
    );
    const at = '/secapi/pay/refund';
    return typed(at, () => ({
      refundId: field(f, 'refund_id', at),
      outRefundNo: field(f, 'out_refund_no', at),
      outTradeNo: field(f, 'out_trade_no', at),
      transactionId: field(f, 'transaction_id', at),
      refundFee: parseFen('refund_fee', f.refund_fee),
      totalFee: parseFen('total_fee', f.total_fee),
      cashFee: parseOptionalFen('cash_fee', f.cash_fee),
      fields: f,
    }));
  }

  /** `POST /pay/refundquery` (retried on ambiguous failures). */
  async refundQuery(lookup: RefundLookup, offset?: number): Promise<RefundQueryResponse> {
    const at = '/pay/refundquery';
    const fields: Record<string, string | number | undefined> = {
      out_refund_no: 'outRefundNo' in lookup ? lookup.outRefundNo : undefined,
      refund_id: 'refundId' in lookup ? lookup.refundId : undefined,
      out_trade_no: 'outTradeNo' in lookup ? lookup.outTradeNo : undefined,
      transaction_id: 'transactionId' in lookup ? lookup.transactionId : undefined,
      offset,
    };
    const f = await this.call(at, fields, { retry: true });
    return typed(at, () => {
      const count = parseFen('refund_count', f.refund_count);
      const refunds: RefundQueryItem[] = [];
      for (let i = 0; i < count; i++) {
        refunds.push({
          outRefundNo: field(f, `out_refund_no_${i}`, at),
          refundId: field(f, `refund_id_${i}`, at),
          refundFee: parseFen(`refund_fee_${i}`, f[`refund_fee_${i}`]),
          status: field(f, `refund_status_${i}`, at),
          channel: f[`refund_channel_${i}`] || undefined,
          refundAccount: f[`refund_account_${i}`] || undefined,
          recvAccount: f[`refund_recv_accout_${i}`] || undefined,
          successTime: f[`refund_success_time_${i}`]
            ? parseBeijingTime(f[`refund_success_time_${i}`]!)
            : undefined,
        });
      }
      return {
        outTradeNo: field(f, 'out_trade_no', at),
        transactionId: field(f, 'transaction_id', at),
        totalFee: parseFen('total_fee', f.total_fee),
        totalRefundCount: parseOptionalFen('total_refund_count', f.total_refund_count),
        refunds,
        fields: f,
      };
    });
  }

  /**
   * `POST /pay/downloadbill`: the bill's text, or `null` when WeChat has no bill for the day
   * ("No Bill Exist"). Retried on ambiguous failures. Parse it with `parseBill`.
   */
  async downloadBill(req: DownloadBillRequest): Promise<string | null> {
    const at = '/pay/downloadbill';
    checkBillDate(req.billDate);
    const message = this.signed({
      bill_date: req.billDate,
      bill_type: req.billType ?? 'ALL',
      tar_type: req.gzip ? 'GZIP' : undefined,
    });
    return this.withRetry(true, async () => {
      const res = await this.post(at, message, {
        maxBytes: this.maxBillBytes,
        dispatcher: this.plain,
      });
      checkStatus(res.status, at);
      let body = res.body;
      if (body[0] === 0x1f && body[1] === 0x8b) {
        try {
          body = gunzipSync(body, { maxOutputLength: this.maxBillBytes });
        } catch (err) {
          throw new WechatPayError(
            'invalid',
            'BAD_GZIP',
            `${at}: the gzip answer does not inflate`,
            {
              cause: err,
            },
          );
        }
      }
      const text = utf8(body, at);
      if (!text.trimStart().startsWith('<xml>')) return text;
      return noBill(decodeAnswer(text, at), at, req.billDate);
    });
  }

  /**
   * `POST /pay/downloadbill`, streamed: the bill read line by line as it arrives (never whole in
   * memory), or `null` when WeChat has no bill for the day. "Bill Creating" is
   * `WechatPayError('later', 'BILL_NOT_READY')`. The request is retried on ambiguous failures
   * until the answer starts; a failure while the rows arrive is thrown by the iteration
   * (download again). The rows count only once the reader's summary check passed.
   */
  async downloadBillStream(
    req: DownloadBillRequest,
    options: BillReadOptions = {},
  ): Promise<TradeBillReader | null> {
    const at = '/pay/downloadbill';
    checkBillDate(req.billDate);
    const message = this.signed({
      bill_date: req.billDate,
      bill_type: req.billType ?? 'ALL',
      tar_type: req.gzip ? 'GZIP' : undefined,
    });
    const bill = await this.openBill(at, message, req.billDate, this.plain, options);
    return bill && readTradeBill(bill, options);
  }

  /**
   * `POST /pay/downloadfundflow`, streamed like `downloadBillStream`: one account's fund flow
   * for a day. WeChat requires the merchant API certificate and HMAC-SHA256, whatever the
   * client's sign type.
   */
  async downloadFundFlowStream(
    req: DownloadFundFlowRequest,
    options: BillReadOptions = {},
  ): Promise<FundFlowBillReader | null> {
    const at = '/pay/downloadfundflow';
    checkBillDate(req.billDate);
    this.needCertificate(at);
    const message = this.signed(
      {
        bill_date: req.billDate,
        account_type: req.accountType ?? 'Basic',
        tar_type: req.gzip ? 'GZIP' : undefined,
      },
      'HMAC-SHA256',
    );
    const bill = await this.openBill(at, message, req.billDate, this.secure ?? this.plain, options);
    return bill && readFundFlowBill(bill, options);
  }

  /** Sends a bill request: the bill's bytes (gunzipped), `null` for "No Bill Exist". */
  private openBill(
    at: string,
    message: string,
    billDate: string,
    dispatcher: Dispatcher | undefined,
    options: BillReadOptions,
  ): Promise<AsyncIterable<Buffer> | null> {
    const maxBytes = options.maxBytes ?? MAX_STREAMED_BILL_BYTES;
    return this.withRetry(true, async () => {
      const res = await this.postStream(at, message, { maxBytes, dispatcher });
      if (res.status !== 200) res.discard();
      checkStatus(res.status, at);
      const answer = await billAnswer(res.body, XML_MAX_BYTES, at);
      if ('bill' in answer) return answer.bill;
      return noBill(decodeAnswer(utf8(answer.xml, at), at), at, billDate);
    });
  }

  /** Signs `fields` with the merchant's identity and a fresh nonce; returns the XML. */
  private signed(fields: V2Fields, signType: SignType = this.signType): string {
    const message: Record<string, string | number | null | undefined> = {
      appid: this.appId,
      mch_id: this.mchId,
      nonce_str: nonce(),
      sign_type: signType === 'MD5' ? undefined : signType,
      ...fields,
    };
    try {
      assertWireSafe(message);
    } catch (err) {
      argument((err as Error).message);
    }
    message.sign = signV2(message, this.key, signType);
    return encodeXml(message);
  }

  /** Refuses a call that needs the merchant certificate when none is configured. */
  private needCertificate(path: string): void {
    if (!this.secure && this.baseUrl.startsWith('https:')) {
      throw config(
        'clientCertificate',
        `${path} needs the merchant API client certificate: configure tls`,
      );
    }
  }

  private async call(
    path: string,
    fields: V2Fields,
    options: { retry?: boolean; certificate?: boolean } = {},
  ): Promise<XmlFields> {
    if (options.certificate) this.needCertificate(path);
    return this.withRetry(options.retry === true, async () => {
      const res = await this.post(path, this.signed(fields), {
        maxBytes: XML_MAX_BYTES,
        dispatcher: options.certificate ? (this.secure ?? this.plain) : this.plain,
      });
      checkStatus(res.status, path);
      return this.verified(decodeAnswer(utf8(res.body, path), path), path);
    });
  }

  /**
   * POSTs `body` to the preferred domain; when that exchange fails (connection error, timeout,
   * HTTP 5xx) and a backup domain is configured, the same bytes go to the other one.
   */
  private post(
    path: string,
    body: string,
    options: Pick<HttpCall, 'maxBytes' | 'dispatcher'>,
  ): Promise<HttpExchange> {
    return this.domains.send(path, (base) => exchange(this.request(base, path, body, options)));
  }

  /** `post`, with the answer's body read as it arrives. */
  private postStream(
    path: string,
    body: string,
    options: Pick<HttpCall, 'maxBytes' | 'dispatcher'>,
  ): Promise<HttpStream> {
    return this.domains.send(
      path,
      (base) => openExchange(this.request(base, path, body, options)),
      (res) => res.discard(),
    );
  }

  private request(
    base: string,
    path: string,
    body: string,
    options: Pick<HttpCall, 'maxBytes' | 'dispatcher'>,
  ): HttpCall {
    return {
      method: 'POST',
      url: base + path,
      body,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      timeoutMs: this.timeoutMs,
      what: path,
      ...options,
    };
  }

  /** Whether the base URL is the real WeChat Pay (not a sandbox). */
  private talksToWechat(): boolean {
    return WECHAT_HOST.test(new URL(this.baseUrl).hostname);
  }

  /** return_code → signature → merchant → result_code. */
  private verified(f: XmlFields, path: string): XmlFields {
    if (f.return_code === 'FAIL') throw returnFailError(path, f.return_msg);
    if (f.return_code !== 'SUCCESS') {
      throw new WechatPayError(
        'invalid',
        'MALFORMED_RESPONSE',
        `${path}: no return_code in the answer`,
      );
    }
    if (!verifyV2(f, this.key, this.signType)) {
      throw new WechatPayError(
        'invalid',
        'BAD_SIGNATURE',
        `${path}: the answer's signature does not verify; it was not trusted (a proxy or a wrong baseUrl?)`,
      );
    }
    // Some answers come without appid/mch_id (closeorder SUCCESS, orderquery NOTPAY have been
    // seen so); the signature already proves they are for this key. Present, they must match.
    if (f.mch_id && f.mch_id !== this.mchId) {
      throw wrongMerchant(path, `mch_id ${f.mch_id}, not ${this.mchId}`);
    }
    if (f.result_code === 'FAIL') throw errCodeError(path, f.err_code ?? 'UNKNOWN', f.err_code_des);
    if (f.result_code !== 'SUCCESS') {
      throw new WechatPayError(
        'invalid',
        'MALFORMED_RESPONSE',
        `${path}: no result_code in the answer`,
      );
    }
    // A refusal may echo another appid (APPID_MCHID_NOT_MATCH); a success must be for ours.
    if (f.appid && f.appid !== this.appId) {
      throw wrongMerchant(path, `appid ${f.appid}, not ${this.appId}`);
    }
    return f;
  }

  private async withRetry<T>(retry: boolean, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        const again = retry && i < this.attempts && err instanceof WechatPayError && err.retryable;
        if (!again) throw err;
        await new Promise((r) => setTimeout(r, this.delayMs * 2 ** (i - 1)));
      }
    }
  }
}

function certificateAgent(tls: V2ClientTls, ca: string | Buffer | undefined): Agent {
  const connect =
    'pfx' in tls
      ? { pfx: tls.pfx, passphrase: tls.passphrase, ca }
      : { cert: tls.cert, key: tls.key, ca };
  try {
    createSecureContext(connect);
  } catch (err) {
    const legacy = /unsupported|RC2|legacy/i.test((err as Error).message);
    throw config(
      'clientCertificate',
      legacy
        ? 'the PKCS#12 certificate uses a legacy cipher (RC2) that OpenSSL 3 refuses: use apiclient_cert.pem + apiclient_key.pem, or re-export it (docs/wechatpay.md)'
        : `the merchant API certificate cannot be loaded: ${(err as Error).message} (check the file and its passphrase, which is the mch_id for WeChat's p12)`,
      err,
    );
  }
  return new Agent({ connect });
}

function tradeLookupFields(lookup: TradeLookup): Record<string, string | undefined> {
  return 'transactionId' in lookup
    ? { transaction_id: lookup.transactionId }
    : { out_trade_no: lookup.outTradeNo };
}

function wrongMerchant(path: string, what: string): WechatPayError {
  return new WechatPayError(
    'invalid',
    'WRONG_MERCHANT',
    `${path}: the answer is for ${what}; not trusted`,
  );
}

function checkStatus(status: number, path: string): void {
  if (status >= 500) {
    throw new WechatPayError(
      'ambiguous',
      `HTTP_${status}`,
      `${path}: HTTP ${status}; retry or query`,
    );
  }
  if (status !== 200) {
    throw new WechatPayError(
      'config',
      `HTTP_${status}`,
      `${path}: HTTP ${status}; check the base URL`,
      { settings: ['baseUrl'] },
    );
  }
}

function utf8(body: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (err) {
    throw new WechatPayError('invalid', 'NOT_UTF8', `${path}: the answer is not UTF-8`, {
      cause: err,
    });
  }
}

function decodeAnswer(text: string, path: string): XmlFields {
  try {
    return decodeXml(text);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    throw new WechatPayError(
      'invalid',
      `XML_${err.code}`,
      `${path}: the answer is not WeChat XML: ${err.message}`,
      {
        cause: err,
      },
    );
  }
}

function field(f: XmlFields, name: string, path: string): string {
  const v = f[name];
  if (!v)
    throw new WechatPayError('invalid', 'MALFORMED_RESPONSE', `${path}: the answer has no ${name}`);
  return v;
}

function typed<T>(path: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof RangeError) {
      throw new WechatPayError('invalid', 'MALFORMED_RESPONSE', `${path}: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/** A text field within WeChat's limit, counted in bytes of UTF-8. */
function checkText(field: LimitedField, value: string): void {
  const bytes = utf8Length(value);
  if (bytes > TEXT_LIMITS[field]) {
    argument(
      `${field} is ${bytes} bytes of UTF-8; WeChat allows ${TEXT_LIMITS[field]} (a Chinese character is 3)`,
    );
  }
}

/** The XML a bill download answered instead of a bill: `null` for "No Bill Exist", or throws. */
function noBill(f: XmlFields, path: string, billDate: string): null {
  const said = f.err_code ?? f.return_msg ?? '';
  if (/^no[ _]bill[ _]exist$/i.test(said)) return null;
  if (/^bill[ _]creating$/i.test(said)) throw billNotReady(path, billDate);
  if (f.return_code === 'FAIL') throw returnFailError(path, f.return_msg);
  if (f.result_code === 'FAIL') throw errCodeError(path, f.err_code ?? 'UNKNOWN', f.err_code_des);
  throw new WechatPayError('invalid', 'MALFORMED_RESPONSE', `${path}: an XML answer without FAIL`);
}

function checkBillDate(billDate: string): void {
  if (!/^[0-9]{8}$/.test(billDate)) argument('billDate must be yyyyMMdd');
}

function billNotReady(path: string, billDate: string): WechatPayError {
  return new WechatPayError(
    'later',
    'BILL_NOT_READY',
    `${path}: the bill of ${billDate} is not ready; WeChat publishes a day's bill the next morning (after 10:00 Beijing): ask again later`,
    { description: 'Bill Creating' },
  );
}

function checkOutTradeNo(value: string): void {
  if (!OUT_TRADE_NO_PATTERN.test(value))
    argument('outTradeNo must be 6 to 32 of 0-9 a-z A-Z _ - | *');
}

function checkFen(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > MAX_TOTAL_FEE)
    argument(`${name} must be a whole number of fen from ${min} to ${MAX_TOTAL_FEE}`);
}

function argument(message: string): never {
  throw new WechatPayError('rejected', 'INVALID_ARGUMENT', message);
}

function config(setting: WechatPaySetting, message: string, cause?: unknown): WechatPayError {
  return new WechatPayError('config', 'CONFIG', message, { cause, settings: [setting] });
}
