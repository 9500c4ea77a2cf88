/**
 * `wx.requestPayment` parameters for APIv2 (小程序调起支付): `appId`, `timeStamp`, `nonceStr`,
 * `package=prepay_id=…`, `signType` signed into `paySign` with the APIv2 key. The sign type
 * must be the one unifiedorder was called with. Official vector in
 * test/wechatpay/request-payment.test.ts.
 */
import { nonce, unixSeconds } from './ids.js';
import { type SignType, signV2, verifyV2 } from './sign.js';

export interface RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: SignType;
  paySign: string;
}

export interface BuildRequestPaymentOptions {
  appId: string;
  prepayId: string;
  key: string;
  signType: SignType;
  /** Seconds since the epoch; default now. */
  timeStamp?: string;
  /** Default: 32 random characters. */
  nonceStr?: string;
}

/** Signs fresh `wx.requestPayment` parameters for a prepay_id. */
export function buildRequestPayment(options: BuildRequestPaymentOptions): RequestPaymentParams {
  if (!options.prepayId) throw new TypeError('prepayId is empty: call unifiedorder first');
  if (!options.appId) throw new TypeError('appId is empty: set the mini program AppID');
  const unsigned = {
    appId: options.appId,
    timeStamp: options.timeStamp ?? unixSeconds(),
    nonceStr: options.nonceStr ?? nonce(),
    package: `prepay_id=${options.prepayId}`,
    signType: options.signType,
  };
  return { ...unsigned, paySign: signV2(unsigned, options.key, options.signType) };
}

/** Whether `params.paySign` is right for the other five fields (constant time). */
export function verifyRequestPayment(params: RequestPaymentParams, key: string): boolean {
  if (params.signType !== 'MD5' && params.signType !== 'HMAC-SHA256') return false;
  const { paySign, ...rest } = params;
  return verifyV2({ ...rest, sign: paySign }, key, params.signType);
}
