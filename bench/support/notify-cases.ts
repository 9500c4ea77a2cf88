/**
 * Payment notifies that tell a correct APIv2 notify reader from a careless one, for the peer
 * SDK comparison (bench/peer-sdks.bench.ts) and minipay's own test of the same cases
 * (test/bench/notify-cases.test.ts). Every body is encoded as WeChat sends it: strings in
 * CDATA, numbers bare, no `sign_type` unless a case says so.
 *
 * A case holds one or more bodies ("readings"): a reader passes a `refuse` case only if it
 * refuses all of them, and an `accept` case only if it accepts all of them.
 */
import { type SignType, signV2 } from '../../src/wechatpay/index.js';

export interface BenchMerchant {
  appId: string;
  mchId: string;
  key: string;
  /** The sign type the merchant orders with (and so the one its notifies carry). */
  signType: SignType;
}

export interface NotifyReading {
  label: string;
  body: string;
}

export interface NotifyCase {
  id: string;
  /** What the row of the table says. */
  title: string;
  merchant: BenchMerchant;
  expect: 'accept' | 'refuse';
  readings: NotifyReading[];
}

const BASE = {
  appId: 'wx5a5db0c000000001',
  mchId: '1900000109',
  key: 'minipaybenchpeersdkskey000000001',
};
export const MD5_MERCHANT: BenchMerchant = { ...BASE, signType: 'MD5' };
export const HMAC_MERCHANT: BenchMerchant = { ...BASE, signType: 'HMAC-SHA256' };
const OTHER_KEY = 'minipaybenchpeersdksotherkey0002';

/** The fields of a successful payment notify for `merchant`, before `sign`. */
export function notifyFields(merchant: BenchMerchant): Record<string, string> {
  return {
    appid: merchant.appId,
    attach: 'order 42',
    bank_type: 'OTHERS',
    cash_fee: '1999',
    fee_type: 'CNY',
    is_subscribe: 'N',
    mch_id: merchant.mchId,
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    out_trade_no: 'MP20260101120000ABCDEFGHJKLMNPQR',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20260101120507',
    total_fee: '1999',
    trade_type: 'JSAPI',
    transaction_id: '4200001234202601011234567890',
  };
}

const NUMERIC = new Set(['cash_fee', 'total_fee']);

/** `<xml>` with each field as WeChat writes it; `raw` fields go in unescaped (entities). */
export function wechatXml(
  fields: Readonly<Record<string, string>>,
  options: { prologue?: string; raw?: ReadonlySet<string>; extra?: string } = {},
): string {
  let xml = `${options.prologue ?? ''}<xml>`;
  for (const [name, value] of Object.entries(fields)) {
    xml +=
      NUMERIC.has(name) || options.raw?.has(name)
        ? `<${name}>${value}</${name}>`
        : `<${name}><![CDATA[${value}]]></${name}>`;
  }
  return `${xml}${options.extra ?? ''}</xml>`;
}

function signedXml(
  fields: Record<string, string>,
  key: string,
  signType: SignType,
  options?: Parameters<typeof wechatXml>[1],
): string {
  return wechatXml({ ...fields, sign: signV2(fields, key, signType) }, options);
}

/** A valid notify for `merchant`, as WeChat sends it: the hot path of every benchmark. */
export function validNotify(merchant: BenchMerchant): string {
  return signedXml(notifyFields(merchant), merchant.key, merchant.signType);
}

export function notifyCases(): NotifyCase[] {
  const md5 = notifyFields(MD5_MERCHANT);
  const hmac = notifyFields(HMAC_MERCHANT);
  const spaced = { ...md5, attach: '  gift for Lee ' };
  const entity = '<!DOCTYPE xml [<!ENTITY paid "SUCCESS">]>';
  const duplicate = `<total_fee>100000</total_fee>`;
  return [
    {
      id: 'md5',
      title: 'valid MD5 notify accepted',
      merchant: MD5_MERCHANT,
      expect: 'accept',
      readings: [{ label: 'MD5', body: validNotify(MD5_MERCHANT) }],
    },
    {
      id: 'hmac',
      title: 'valid HMAC-SHA256 notify accepted (no sign_type, as WeChat sends it)',
      merchant: HMAC_MERCHANT,
      expect: 'accept',
      readings: [{ label: 'HMAC', body: validNotify(HMAC_MERCHANT) }],
    },
    {
      id: 'hmac-declared',
      title: 'valid HMAC-SHA256 notify with sign_type=HMAC-SHA256 accepted',
      merchant: HMAC_MERCHANT,
      expect: 'accept',
      readings: [
        {
          label: 'HMAC, declared',
          body: signedXml({ ...hmac, sign_type: 'HMAC-SHA256' }, BASE.key, 'HMAC-SHA256'),
        },
      ],
    },
    {
      id: 'spaces',
      title: "value with leading/trailing spaces (attach='  gift for Lee ') accepted",
      merchant: MD5_MERCHANT,
      expect: 'accept',
      readings: [{ label: 'signed as sent', body: signedXml(spaced, BASE.key, 'MD5') }],
    },
    {
      id: 'downgrade',
      title: 'MD5-signed notify to an HMAC-SHA256 merchant refused (no sign_type downgrade)',
      merchant: HMAC_MERCHANT,
      expect: 'refuse',
      readings: [
        {
          label: 'sign_type=MD5',
          body: signedXml({ ...hmac, sign_type: 'MD5' }, BASE.key, 'MD5'),
        },
        { label: 'no sign_type', body: signedXml(hmac, BASE.key, 'MD5') },
      ],
    },
    {
      id: 'doctype',
      title: 'DOCTYPE / ENTITY body refused',
      merchant: MD5_MERCHANT,
      expect: 'refuse',
      readings: [
        {
          label: 'entity expanded',
          body: wechatXml(
            { ...md5, result_code: '&paid;', sign: signV2(md5, BASE.key, 'MD5') },
            { prologue: entity, raw: new Set(['result_code']) },
          ),
        },
        {
          label: 'DOCTYPE only',
          body: signedXml(md5, BASE.key, 'MD5', { prologue: entity }),
        },
      ],
    },
    {
      id: 'wrong-key',
      title: 'notify signed with another key refused',
      merchant: MD5_MERCHANT,
      expect: 'refuse',
      readings: [{ label: 'other key', body: signedXml(md5, OTHER_KEY, 'MD5') }],
    },
    {
      id: 'duplicate',
      title: 'duplicated field (a second <total_fee>) refused',
      merchant: MD5_MERCHANT,
      expect: 'refuse',
      readings: [
        {
          label: 'first wins',
          body: signedXml(md5, BASE.key, 'MD5', { extra: duplicate }),
        },
        {
          label: 'last wins',
          body: wechatXml(
            {
              ...md5,
              sign: signV2({ ...md5, total_fee: '100000' }, BASE.key, 'MD5'),
            },
            { extra: duplicate },
          ),
        },
        {
          label: 'joined',
          body: wechatXml(
            {
              ...md5,
              sign: signV2({ ...md5, total_fee: '1999,100000' }, BASE.key, 'MD5'),
            },
            { extra: duplicate },
          ),
        },
      ],
    },
  ];
}
