/**
 * Mini program payments on APIv3 (JSAPI下单, 查询订单, 关闭订单; sources in
 * docs/wechat-rules.md): prepay, query by out_trade_no or by transaction_id, close. Arguments are checked before sending (`INVALID_ARGUMENT`), with the
 * same rules as the v2 client where WeChat's are the same (docs/wechat-rules.md).
 *
 * Prepay and close act and are never retried here (the caller retries with the same
 * out_trade_no, or queries); queries are retried on ambiguous failures.
 */

import { checkBytes, checkFen, checkNotifyUrl, checkOutTradeNo } from './checks.js';
import type { WechatPayV3Client } from './client.js';
import { argument, invalid } from './errors.js';
import { Fields, formatRfc3339, type Json } from './fields.js';

export interface JsapiPrepayRequest {
  /** The mini program's AppID. */
  appId: string;
  /** 商品描述: at most 127 bytes of UTF-8. */
  description: string;
  outTradeNo: string;
  /** https, at most 255 characters, no query (https is not required of a sandbox). */
  notifyUrl: string;
  /** Fen, 1 to `MAX_TOTAL_FEE`. */
  total: number;
  payerOpenid: string;
  timeExpire?: Date;
  /** At most 128 bytes; comes back unchanged in the query and the notification. */
  attach?: string;
  goodsTag?: string;
  supportFapiao?: boolean;
  payerClientIp?: string;
  profitSharing?: boolean;
}

const JSAPI_PATH = '/v3/pay/transactions/jsapi';

/** `POST /v3/pay/transactions/jsapi`: a prepay_id (valid 2 hours). Never retried here. */
export async function prepayJsapi(
  client: WechatPayV3Client,
  req: JsapiPrepayRequest,
): Promise<{ prepayId: string }> {
  if (!req.appId) argument('appId is required (the mini program AppID)');
  checkOutTradeNo(req.outTradeNo);
  checkBytes('description', req.description, 1, 127);
  if (req.attach !== undefined) checkBytes('attach', req.attach, 1, 128);
  checkFen('total', req.total);
  if (!req.payerOpenid || req.payerOpenid.length > 128) argument('payerOpenid is required (≤ 128)');
  checkNotifyUrl(client, req.notifyUrl);
  const body: Json = {
    appid: req.appId,
    mchid: client.mchId,
    description: req.description,
    out_trade_no: req.outTradeNo,
    time_expire: req.timeExpire && formatRfc3339(req.timeExpire),
    attach: req.attach,
    notify_url: req.notifyUrl,
    goods_tag: req.goodsTag,
    support_fapiao: req.supportFapiao,
    amount: { total: req.total, currency: 'CNY' },
    payer: { openid: req.payerOpenid },
    scene_info: req.payerClientIp ? { payer_client_ip: req.payerClientIp } : undefined,
    settle_info:
      req.profitSharing === undefined ? undefined : { profit_sharing: req.profitSharing },
  };
  const answer = await client.request({ method: 'POST', path: JSAPI_PATH, body });
  return { prepayId: Fields.of(answer.json, `the POST ${JSAPI_PATH} answer`).string('prepay_id') };
}

export type V3TradeState =
  | 'SUCCESS'
  | 'REFUND'
  | 'NOTPAY'
  | 'CLOSED'
  | 'REVOKED'
  | 'USERPAYING'
  | 'PAYERROR';
export const V3_TRADE_STATES: readonly V3TradeState[] = [
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
];

/** A trade as a query answers it and a payment notification carries it. Amounts in fen. */
export interface V3Transaction {
  appId: string;
  mchId: string;
  outTradeNo: string;
  tradeState: V3TradeState;
  tradeStateDesc?: string;
  transactionId?: string;
  tradeType?: string;
  bankType?: string;
  attach?: string;
  successTime?: Date;
  payerOpenid?: string;
  amount?: { total: number; payerTotal?: number; currency?: string; payerCurrency?: string };
  /** The verified JSON as received. */
  raw: Json;
}

/** Types a `Transaction` object; a paid one must have its id, amount and time. */
export function readTransaction(json: unknown, at: string, mchId: string): V3Transaction {
  const f = Fields.of(json, at);
  const tradeState = f.oneOf('trade_state', V3_TRADE_STATES);
  const amount = f.optionalObject('amount');
  const payer = f.optionalObject('payer');
  const paid = tradeState === 'SUCCESS' || tradeState === 'REFUND';
  const t: V3Transaction = {
    appId: f.string('appid'),
    mchId: f.string('mchid'),
    outTradeNo: f.string('out_trade_no'),
    tradeState,
    tradeStateDesc: f.optionalString('trade_state_desc'),
    transactionId: paid ? f.string('transaction_id') : f.optionalString('transaction_id'),
    tradeType: f.optionalString('trade_type'),
    bankType: f.optionalString('bank_type'),
    attach: f.optionalString('attach'),
    successTime: paid ? f.time('success_time') : f.optionalTime('success_time'),
    payerOpenid: payer?.optionalString('openid'),
    amount: amount && {
      total: amount.fen('total'),
      payerTotal: amount.optionalFen('payer_total'),
      currency: amount.optionalString('currency'),
      payerCurrency: amount.optionalString('payer_currency'),
    },
    raw: f.json,
  };
  if (paid && !t.amount) throw invalid('MALFORMED', `${at}: a paid trade without amount`);
  if (t.mchId !== mchId) {
    throw invalid('WRONG_MERCHANT', `${at} is for mchid ${t.mchId}, not ${mchId}: not trusted`);
  }
  return t;
}

/** `GET /v3/pay/transactions/out-trade-no/{out_trade_no}` (retried on ambiguous failures). */
export async function queryByOutTradeNo(
  client: WechatPayV3Client,
  outTradeNo: string,
): Promise<V3Transaction> {
  checkOutTradeNo(outTradeNo);
  return query(client, `/v3/pay/transactions/out-trade-no/${outTradeNo}`);
}

/** `GET /v3/pay/transactions/id/{transaction_id}` (only paid trades have one). */
export async function queryByTransactionId(
  client: WechatPayV3Client,
  transactionId: string,
): Promise<V3Transaction> {
  if (!/^[0-9A-Za-z]{1,32}$/.test(transactionId))
    argument('transactionId must be 1 to 32 letters or digits');
  return query(client, `/v3/pay/transactions/id/${transactionId}`);
}

async function query(client: WechatPayV3Client, path: string): Promise<V3Transaction> {
  const answer = await client.request({
    method: 'GET',
    path: `${path}?mchid=${client.mchId}`,
    retry: true,
  });
  return readTransaction(answer.json, `the GET ${path} answer`, client.mchId);
}

/**
 * `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` → 204. Never retried here; a
 * paid order comes back as an error, and a 204 alone does not prove the trade is closed (query).
 */
export async function closeOrder(client: WechatPayV3Client, outTradeNo: string): Promise<void> {
  checkOutTradeNo(outTradeNo);
  await client.request({
    method: 'POST',
    path: `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`,
    body: { mchid: client.mchId },
  });
}
