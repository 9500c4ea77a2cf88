/**
 * Payment result notifications (支付结果通知): WeChat POSTs signed XML to `notify_url` and
 * retries until the merchant answers HTTP 200 with `<return_code>SUCCESS</return_code>`.
 *
 * Reading one, in this order, each step refusing with `WechatPayError('invalid')`:
 * decode (the strict flat reader: DOCTYPE, oversized, nested or truncated XML refused) →
 * `return_code` must be SUCCESS (a FAIL message carries no signature, so it proves nothing) →
 * the signature, with the sign type the merchant ordered with, never the one the message
 * names (notifies usually leave `sign_type` out, and letting the message choose would let an
 * attacker pick the weaker algorithm) → `appid` / `mch_id` must be ours → typed fields, amounts
 * parsed strictly as digits. Whether `total_fee` matches the order is the caller's check.
 *
 * Replies: WeChat only tells SUCCESS from anything else. A plain-text `SUCCESS` body is not an
 * XML reply; the official doc asks for the XML and says any
 * non-conforming reply counts as a failure, so `isNotifyReplySuccess` (which the sandbox uses
 * to judge merchants) refuses it, as it refuses any status other than 200.
 */
import { parseOptionalFen } from './amounts.js';
import { WechatPayError, type WechatPaySetting } from './errors.js';
import { paymentFields } from './payment-fields.js';
import { type SignType, signV2, type V2Fields, verifyV2 } from './sign.js';
import { decodeXml, encodeXml, XmlError, type XmlFields } from './xml.js';

/** A verified payment notification. Amounts in fen. */
export interface PaymentNotify {
  appId: string;
  mchId: string;
  /** false when WeChat reports `result_code=FAIL` for the trade. */
  succeeded: boolean;
  errCode?: string;
  errCodeDes?: string;
  outTradeNo: string;
  transactionId?: string;
  totalFee?: number;
  settlementTotalFee?: number;
  cashFee?: number;
  couponFee?: number;
  feeType?: string;
  openid?: string;
  isSubscribe?: string;
  tradeType?: string;
  bankType?: string;
  attach?: string;
  deviceInfo?: string;
  timeEnd?: Date;
  nonceStr: string;
  /** Every field as received (verified). */
  fields: Readonly<XmlFields>;
}

export interface ReadNotifyOptions {
  key: string;
  /** The sign type the merchant uses for unifiedorder. */
  signType: SignType;
  appId: string;
  mchId: string;
}

/** Signs `fields` (a payment notification without `sign`) and encodes it: what WeChat sends. */
export function buildPaymentNotify(fields: V2Fields, key: string, signType: SignType): string {
  return encodeXml({ ...fields, sign: signV2(fields, key, signType) });
}

/** Verifies and types a payment notification body; throws `WechatPayError('invalid')`. */
export function readPaymentNotify(
  body: Buffer | string,
  options: ReadNotifyOptions,
): PaymentNotify {
  const f = decodeNotify(body);
  if (f.return_code !== 'SUCCESS') {
    throw invalid('RETURN_FAIL', `the notification has return_code=${f.return_code ?? '(none)'}`);
  }
  const expectedLength = options.signType === 'MD5' ? 32 : 64;
  if (f.sign?.length !== expectedLength || !verifyV2(f, options.key, options.signType)) {
    throw invalid(
      'BAD_SIGNATURE',
      `the notification's signature does not verify with the ${options.signType} key: it is not from WeChat, or the APIv2 key or the sign type is wrong`,
      undefined,
      ['apiKey', 'signType'],
    );
  }
  checkMerchant(f, options);
  if (f.result_code !== 'SUCCESS' && f.result_code !== 'FAIL') {
    throw invalid('MALFORMED', 'result_code must be SUCCESS or FAIL');
  }
  const succeeded = f.result_code === 'SUCCESS';
  const need = succeeded
    ? ['out_trade_no', 'nonce_str', 'transaction_id', 'total_fee', 'time_end']
    : ['out_trade_no', 'nonce_str'];
  for (const name of need) if (!f[name]) throw invalid('MALFORMED', `${name} is missing`);
  try {
    return {
      appId: f.appid!,
      mchId: f.mch_id!,
      succeeded,
      errCode: f.err_code || undefined,
      errCodeDes: f.err_code_des || undefined,
      outTradeNo: f.out_trade_no!,
      ...paymentFields(f),
      settlementTotalFee: parseOptionalFen('settlement_total_fee', f.settlement_total_fee),
      couponFee: parseOptionalFen('coupon_fee', f.coupon_fee),
      deviceInfo: f.device_info || undefined,
      nonceStr: f.nonce_str!,
      fields: f,
    };
  } catch (err) {
    if (err instanceof RangeError) throw invalid('MALFORMED', err.message, err);
    throw err;
  }
}

/** The XML reply to a notification: SUCCESS stops WeChat's retries, FAIL asks for another. */
export function notifyReplyXml(ok: boolean, message?: string): string {
  return encodeXml({
    return_code: ok ? 'SUCCESS' : 'FAIL',
    return_msg: message ?? (ok ? 'OK' : 'FAIL'),
  });
}

/** Whether WeChat counts a reply as received: HTTP 200 and XML `return_code` SUCCESS. */
export function isNotifyReplySuccess(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    return decodeXml(body).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}

/** Decodes a notification body, turning XML refusals into `invalid`. */
export function decodeNotify(body: Buffer | string, root = 'xml'): XmlFields {
  try {
    return decodeXml(body, { root });
  } catch (err) {
    if (err instanceof XmlError) {
      throw invalid(`XML_${err.code}`, `the notification is not WeChat XML: ${err.message}`, err);
    }
    throw err;
  }
}

/** `appid` and `mch_id` must be the merchant's own. */
export function checkMerchant(f: XmlFields, merchant: { appId: string; mchId: string }): void {
  if (f.mch_id !== merchant.mchId || f.appid !== merchant.appId) {
    throw invalid(
      'WRONG_MERCHANT',
      `the notification is for appid ${f.appid ?? '(none)'} / mch_id ${f.mch_id ?? '(none)'}, not this merchant (${merchant.appId} / ${merchant.mchId})`,
    );
  }
}

function invalid(
  code: string,
  message: string,
  cause?: unknown,
  settings?: readonly WechatPaySetting[],
): WechatPayError {
  return new WechatPayError('invalid', code, message, { cause, settings });
}
