/**
 * Refund result notifications (退款结果通知). The outer XML carries `appid`, `mch_id`,
 * `nonce_str` and `req_info`, and no `sign`: authenticity comes from `req_info`, encrypted
 * with AES-256-ECB (PKCS#7) under the lowercase hex MD5 of the APIv2 key, base64. Only the
 * key's holder can produce a `req_info` that decrypts to a well-formed `<root>` message, and
 * `readRefundNotify` also checks the envelope is this merchant's.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { parseFen, parseOptionalFen } from './amounts.js';
import { WechatPayError } from './errors.js';
import { parseBeijingTime } from './ids.js';
import { checkMerchant, decodeNotify } from './notify.js';
import { encodeXml, type XmlFields } from './xml.js';

export type RefundNotifyStatus = 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';
const STATUSES: readonly string[] = ['SUCCESS', 'CHANGE', 'REFUNDCLOSE'];

/** A decrypted, checked refund notification. Amounts in fen. */
export interface RefundNotify {
  appId: string;
  mchId: string;
  transactionId: string;
  outTradeNo: string;
  refundId: string;
  outRefundNo: string;
  totalFee: number;
  settlementTotalFee?: number;
  refundFee: number;
  settlementRefundFee?: number;
  cashRefundFee?: number;
  refundStatus: RefundNotifyStatus;
  /** Present for SUCCESS. */
  successTime?: Date;
  /** `refund_recv_accout` (sic): where the money went. */
  refundRecvAccount?: string;
  refundAccount?: string;
  refundRequestSource?: 'API' | 'VENDOR_PLATFORM';
  /** The decrypted `req_info` fields. */
  info: Readonly<XmlFields>;
}

function aesKey(mchKey: string): Buffer {
  if (!mchKey) throw new TypeError('WeChat Pay APIv2 key is empty: set the merchant API key');
  return Buffer.from(createHash('md5').update(mchKey, 'utf8').digest('hex'), 'ascii');
}

/** Encrypts a `<root>` plaintext into `req_info` (what WeChat does). */
export function encryptReqInfo(plaintext: string, mchKey: string): string {
  const cipher = createCipheriv('aes-256-ecb', aesKey(mchKey), null);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** Decrypts `req_info`; throws `WechatPayError('invalid')` when it does not decrypt. */
export function decryptReqInfo(reqInfo: string, mchKey: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(reqInfo) || reqInfo.length % 4 !== 0) {
    throw invalid('BAD_REQ_INFO', 'req_info is not base64');
  }
  const data = Buffer.from(reqInfo, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw invalid('BAD_REQ_INFO', 'req_info is not a whole number of AES blocks');
  }
  try {
    const decipher = createDecipheriv('aes-256-ecb', aesKey(mchKey), null);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new WechatPayError(
      'invalid',
      'BAD_REQ_INFO',
      'req_info does not decrypt with this APIv2 key: it is not from WeChat, or the APIv2 key is wrong',
      { cause: err, settings: ['apiKey'] },
    );
  }
}

/** The whole refund notification XML: `envelope` fields plus `req_info` encrypted from `info`. */
export function buildRefundNotify(
  envelope: Readonly<Record<string, string | number | null | undefined>>,
  info: Readonly<Record<string, string | number | null | undefined>>,
  mchKey: string,
): string {
  const reqInfo = encryptReqInfo(encodeXml(info, 'root'), mchKey);
  return encodeXml({ ...envelope, req_info: reqInfo });
}

/** Decrypts, checks and types a refund notification; throws `WechatPayError('invalid')`. */
export function readRefundNotify(
  body: Buffer | string,
  options: { mchKey: string; appId: string; mchId: string },
): RefundNotify {
  const outer = decodeNotify(body);
  if (outer.return_code !== 'SUCCESS') {
    throw invalid(
      'RETURN_FAIL',
      `the notification has return_code=${outer.return_code ?? '(none)'}`,
    );
  }
  checkMerchant(outer, options);
  if (!outer.req_info) throw invalid('MALFORMED', 'req_info is missing');
  const f = decodeNotify(decryptReqInfo(outer.req_info, options.mchKey), 'root');
  for (const name of ['transaction_id', 'out_trade_no', 'refund_id', 'out_refund_no']) {
    if (!f[name]) throw invalid('MALFORMED', `req_info has no ${name}`);
  }
  if (!STATUSES.includes(f.refund_status ?? '')) {
    throw invalid('MALFORMED', `refund_status must be one of ${STATUSES.join(', ')}`);
  }
  const source = f.refund_request_source;
  if (source && source !== 'API' && source !== 'VENDOR_PLATFORM') {
    throw invalid('MALFORMED', 'refund_request_source must be API or VENDOR_PLATFORM');
  }
  try {
    return {
      appId: outer.appid!,
      mchId: outer.mch_id!,
      transactionId: f.transaction_id!,
      outTradeNo: f.out_trade_no!,
      refundId: f.refund_id!,
      outRefundNo: f.out_refund_no!,
      totalFee: parseFen('total_fee', f.total_fee),
      settlementTotalFee: parseOptionalFen('settlement_total_fee', f.settlement_total_fee),
      refundFee: parseFen('refund_fee', f.refund_fee),
      settlementRefundFee: parseOptionalFen('settlement_refund_fee', f.settlement_refund_fee),
      cashRefundFee: parseOptionalFen('cash_refund_fee', f.cash_refund_fee),
      refundStatus: f.refund_status as RefundNotifyStatus,
      successTime: f.success_time ? parseBeijingTime(f.success_time) : undefined,
      refundRecvAccount: f.refund_recv_accout || undefined,
      refundAccount: f.refund_account || undefined,
      refundRequestSource: (source || undefined) as RefundNotify['refundRequestSource'],
      info: f,
    };
  } catch (err) {
    if (err instanceof RangeError) throw invalid('MALFORMED', err.message, err);
    throw err;
  }
}

function invalid(code: string, message: string, cause?: unknown): WechatPayError {
  return new WechatPayError('invalid', code, message, { cause });
}
