/**
 * Trades on APIv3: JSAPI prepay, query by out_trade_no or transaction_id, close. The trades
 * are the ones APIv2 makes (one table, one set of rules: trades.ts): a v3 trade is one whose
 * `sign_type` is `RSA` (what its `wx.requestPayment` is signed with), and it is notified in
 * v3's format. Either API can query or close a trade the other made, as at WeChat.
 *
 * Decisions (docs/sandbox.md, "APIv3"): re-entry with the same body answers the same
 * prepay_id, with another body 400 INVALID_REQUEST "201 商户订单号重复" (as v2); a paid trade
 * 403 ORDERPAID, a closed one 400 ORDER_CLOSED; close of an unknown trade 404 ORDER_NOT_EXIST;
 * `notify_url` may be http (a local merchant), as in v2.
 */
import { isIP } from 'node:net';
import { OUT_TRADE_NO_PATTERN } from '../wechatpay/index.js';
import { formatRfc3339, type Json, parseRfc3339 } from '../wechatpay/v3/index.js';
import { type SandboxCore, scaled } from './core.js';
import { prepayId } from './identifiers.js';
import type { TradeRow } from './state/trade-store.js';
import {
  checkNotifyUrl,
  currentTradeState,
  MAX_TOTAL_FEE,
  MIN_EXPIRE_MS,
  PREPAY_TTL_MS,
  type TradeState,
  tradeStateDesc,
} from './trades.js';
import { V2Invalid } from './v2-endpoint.js';
import { badField, refuseV3, type V3Answer, type V3Request } from './v3-endpoint.js';
import { bytes, object, optionalString, string } from './v3-fields.js';

/** The `signType` of a v3 trade's `wx.requestPayment`, and its mark in the trade table. */
export const V3_SIGN_TYPE = 'RSA';

/** `POST /v3/pay/transactions/jsapi`. */
export function prepayJsapi(core: SandboxCore, { json }: V3Request): V3Answer {
  const order = readOrder(core, json!);
  const now = core.clock.now();
  const mchId = core.credentials.mchId;
  const existing = core.state.trades.get(mchId, order.outTradeNo);
  if (existing) {
    const state = currentTradeState(core, existing);
    if (state === 'SUCCESS' || state === 'REFUND') refuseV3(403, 'ORDERPAID', '该订单已支付');
    if (state === 'CLOSED') refuseV3(400, 'ORDER_CLOSED', '该订单已关闭');
    if (existing.params !== order.params) {
      refuseV3(400, 'INVALID_REQUEST', '201 商户订单号重复');
    }
    let prepay = existing.prepay_id;
    if (now >= existing.prepay_expires_at) {
      prepay = prepayId(now);
      core.state.trades.renewPrepay(mchId, order.outTradeNo, prepay, now, now + PREPAY_TTL_MS);
    }
    return { status: 200, json: { prepay_id: prepay } };
  }
  if (order.expiresAt !== null && order.expiresAt - now < MIN_EXPIRE_MS) {
    refuseV3(400, 'INVALID_REQUEST', 'time_expire时间过短，刷卡至少1分钟，其他5分钟');
  }
  const trade: TradeRow = {
    mch_id: mchId,
    out_trade_no: order.outTradeNo,
    appid: order.appId,
    openid: order.openid,
    body: order.description,
    attach: order.attach,
    device_info: null,
    total_fee: order.total,
    fee_type: 'CNY',
    trade_type: 'JSAPI',
    notify_url: order.notifyUrl,
    sign_type: V3_SIGN_TYPE,
    params: order.params,
    created_at: now,
    expires_at: order.expiresAt,
    prepay_id: prepayId(now),
    prepay_expires_at: now + PREPAY_TTL_MS,
    state: 'NOTPAY',
    closed_at: null,
    transaction_id: null,
    paid_at: null,
    bank_type: null,
    is_subscribe: null,
  };
  core.state.trades.insert(trade);
  return { status: 200, json: { prepay_id: trade.prepay_id } };
}

interface Order {
  appId: string;
  outTradeNo: string;
  description: string;
  attach: string | null;
  notifyUrl: string;
  total: number;
  openid: string;
  expiresAt: number | null;
  params: string;
}

function readOrder(core: SandboxCore, json: Json): Order {
  const appId = string(json, 'appid', 32);
  const mchId = string(json, 'mchid', 32);
  if (mchId !== core.credentials.mchId) {
    refuseV3(400, 'INVALID_REQUEST', `mchid ${mchId} 与请求签名的商户号不一致`);
  }
  if (appId !== core.credentials.appId) {
    refuseV3(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
  }
  const outTradeNo = string(json, 'out_trade_no', 32);
  if (!OUT_TRADE_NO_PATTERN.test(outTradeNo))
    badField('out_trade_no', '6 to 32 of 0-9 a-z A-Z _ - | *');
  const description = string(json, 'description', 1000);
  bytes('description', description, 127);
  const attach = optionalString(json, 'attach');
  if (attach !== undefined) bytes('attach', attach, 128);
  const goodsTag = optionalString(json, 'goods_tag');
  if (goodsTag !== undefined) bytes('goods_tag', goodsTag, 32);
  const notifyUrl = string(json, 'notify_url', 255);
  try {
    checkNotifyUrl(notifyUrl);
  } catch (err) {
    if (!(err instanceof V2Invalid)) throw err;
    badField('notify_url', 'must be an http(s) URL of at most 255 characters without a query');
  }
  const amount = object(json, 'amount');
  const total = amount.total;
  if (!Number.isSafeInteger(total) || (total as number) < 1 || (total as number) > MAX_TOTAL_FEE) {
    badField('amount.total', 'must be a whole number of fen, at least 1');
  }
  if (amount.currency !== undefined && amount.currency !== 'CNY') {
    badField('amount.currency', 'must be CNY');
  }
  const payer = object(json, 'payer');
  const openid = payer.openid;
  if (typeof openid !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(openid)) {
    badField('payer.openid', "must be the payer's openid from jscode2session");
  }
  const sceneIp = (json.scene_info as Json | undefined)?.payer_client_ip;
  if (sceneIp !== undefined && (typeof sceneIp !== 'string' || isIP(sceneIp) === 0)) {
    badField('scene_info.payer_client_ip', 'must be an IPv4 or IPv6 address');
  }
  const timeExpire = optionalString(json, 'time_expire');
  let expiresAt: number | null = null;
  if (timeExpire !== undefined) {
    try {
      expiresAt = parseRfc3339(timeExpire, 'time_expire').getTime();
    } catch {
      badField('time_expire', 'must be RFC 3339, e.g. 2018-06-08T10:34:56+08:00');
    }
  }
  return {
    appId,
    outTradeNo,
    description,
    attach: attach ?? null,
    notifyUrl,
    total: total as number,
    openid,
    expiresAt,
    params: canonical(json),
  };
}

/** `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…`. */
export function queryByOutTradeNo(
  core: SandboxCore,
  request: V3Request,
  outTradeNo: string,
): V3Answer {
  checkQueryMchId(core, request);
  const trade = core.state.trades.get(core.credentials.mchId, outTradeNo);
  if (!trade) refuseV3(404, 'ORDER_NOT_EXIST', '订单不存在');
  return { status: 200, json: transactionJson(trade, currentTradeState(core, trade)) };
}

/** `GET /v3/pay/transactions/id/{transaction_id}?mchid=…`. */
export function queryByTransactionId(
  core: SandboxCore,
  request: V3Request,
  transactionId: string,
): V3Answer {
  checkQueryMchId(core, request);
  const trade = core.state.trades.byTransactionId(core.credentials.mchId, transactionId);
  if (!trade) refuseV3(404, 'ORDER_NOT_EXIST', '订单不存在');
  return { status: 200, json: transactionJson(trade, currentTradeState(core, trade)) };
}

function checkQueryMchId(core: SandboxCore, { query }: V3Request): void {
  const mchId = query.get('mchid');
  if (!mchId) badField('mchid', 'is required in the query string');
  if (mchId !== core.credentials.mchId) {
    refuseV3(400, 'INVALID_REQUEST', `mchid ${mchId.slice(0, 32)} 与请求签名的商户号不一致`);
  }
}

/** `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` → 204. */
export function closeTrade(core: SandboxCore, { json }: V3Request, outTradeNo: string): V3Answer {
  const mchId = string(json!, 'mchid', 32);
  if (mchId !== core.credentials.mchId) {
    refuseV3(400, 'INVALID_REQUEST', `mchid ${mchId} 与请求签名的商户号不一致`);
  }
  const trade = core.state.trades.get(core.credentials.mchId, outTradeNo);
  if (!trade) refuseV3(404, 'ORDER_NOT_EXIST', '订单不存在');
  const state = currentTradeState(core, trade);
  if (state === 'SUCCESS' || state === 'REFUND') {
    refuseV3(403, 'ORDERPAID', '订单已支付，不能发起关单');
  }
  if (state === 'CLOSED') refuseV3(400, 'ORDER_CLOSED', '订单已关闭，无需继续调用');
  const now = core.clock.now();
  if (now - trade.created_at < scaled(core.config, core.config.closeMinAgeMs)) {
    refuseV3(400, 'INVALID_REQUEST', '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟');
  }
  if (core.faults.spendCloseLeavesNotpay()) return { status: 204 };
  const closed = core.state.trades.transition(
    trade.mch_id,
    trade.out_trade_no,
    ['NOTPAY'],
    'CLOSED',
    {
      closed_at: now,
    },
  );
  if (!closed) refuseV3(500, 'SYSTEM_ERROR', '系统错误，请稍后再试');
  return { status: 204 };
}

/** A trade as v3 answers a query and carries it in a payment notification (`Transaction`). */
export function transactionJson(trade: TradeRow, state: TradeState): Json {
  const paid = state === 'SUCCESS' || state === 'REFUND';
  const base = {
    appid: trade.appid,
    mchid: trade.mch_id,
    out_trade_no: trade.out_trade_no,
    trade_state: state,
    trade_state_desc: tradeStateDesc(state),
    attach: trade.attach ?? '',
  };
  if (!paid) return { ...base, amount: { total: trade.total_fee, currency: 'CNY' } };
  return {
    ...base,
    transaction_id: trade.transaction_id,
    trade_type: trade.trade_type,
    bank_type: trade.bank_type ?? 'OTHERS',
    success_time: formatRfc3339(new Date(trade.paid_at ?? 0)),
    payer: { openid: trade.openid },
    amount: {
      total: trade.total_fee,
      payer_total: trade.total_fee,
      currency: 'CNY',
      payer_currency: 'CNY',
    },
  };
}

/** The body's fields in a canonical order, for the re-entry check. */
function canonical(json: Json): string {
  const sort = (v: unknown): unknown =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
        )
      : v;
  return JSON.stringify(sort(json));
}
