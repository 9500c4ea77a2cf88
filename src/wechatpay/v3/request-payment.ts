/**
 * `wx.requestPayment` parameters for APIv3 (小程序调起支付, docs/wechat-rules.md): `signType: "RSA"`, `paySign` = SHA256-RSA with the merchant API private key over
 * `appId\ntimeStamp\nnonceStr\npackage\n` (`package` = `prepay_id=…`). Official vector in
 * docs/wechat-rules.md and test/wechatpay/v3/request-payment.test.ts.
 */
import type { KeyObject } from 'node:crypto';
import { nonce, unixSeconds } from '../ids.js';
import { loadPublicKey } from './keys.js';
import type { Signer } from './sign.js';
import { rsaVerify } from './verify.js';

export interface RequestPaymentV3Params {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** The string `paySign` signs. */
export function requestPaymentMessage(
  appId: string,
  timeStamp: string,
  nonceStr: string,
  pkg: string,
): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}

/** Fresh `wx.requestPayment` parameters for a prepay_id, signed by the merchant's signer. */
export function buildRequestPaymentV3(options: {
  appId: string;
  prepayId: string;
  signer: Signer;
  timeStamp?: string;
  nonceStr?: string;
}): RequestPaymentV3Params {
  if (!options.prepayId) throw new TypeError('prepayId is empty: prepay first');
  if (!options.appId) throw new TypeError('appId is empty: set the mini program AppID');
  const timeStamp = options.timeStamp ?? unixSeconds();
  const nonceStr = options.nonceStr ?? nonce();
  const pkg = `prepay_id=${options.prepayId}`;
  const { signature } = options.signer.sign(
    requestPaymentMessage(options.appId, timeStamp, nonceStr, pkg),
  );
  return {
    appId: options.appId,
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign: signature,
  };
}

/** Whether `paySign` is the merchant's signature of the other fields (what WeChat checks). */
export function verifyRequestPaymentV3(
  params: RequestPaymentV3Params,
  merchantPublicKey: string | Buffer | KeyObject,
): boolean {
  if (params.signType !== 'RSA' || typeof params.paySign !== 'string') return false;
  const key =
    typeof merchantPublicKey === 'string' || Buffer.isBuffer(merchantPublicKey)
      ? loadPublicKey(merchantPublicKey, 'the merchant public key')
      : merchantPublicKey;
  const message = requestPaymentMessage(
    params.appId,
    params.timeStamp,
    params.nonceStr,
    params.package,
  );
  return rsaVerify(key, Buffer.from(message, 'utf8'), params.paySign);
}
