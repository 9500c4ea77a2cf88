/**
 * Trades as WeChat keeps them: `unifiedorder`, `orderquery`, `closeorder` and the rules
 * behind them (re-entry, expiry, ORDERPAID / ORDERCLOSED).
 *
 * Decisions on UNCONFIRMED points (docs/sandbox.md lists them all):
 * - Re-entry compares every field except `nonce_str`, `sign` and `sign_type`: same → the same
 *   prepay_id while it is valid (a fresh one after its 2 hours); different → INVALID_REQUEST
 *   "201 商户订单号重复". OUT_TRADE_NO_USED is never produced for JSAPI.
 * - A trade past its `time_expire` reads CLOSED (WeChat closes it; gateway.ts relies on it).
 *   Without `time_expire` an unpaid trade stays NOTPAY until closed.
 * - orderquery for a trade that is not paid answers `out_trade_no`, `attach`, `trade_state`,
 *   `trade_state_desc` and `total_fee` only; merchants must not expect more.
 * - closeorder on an unknown trade: ORDERNOTEXIST (not in WeChat's closeorder table, which has
 *   no code for it; WxJava lists it, and APIv3 answers ORDER_NOT_EXIST); on a closed one:
 *   ORDERCLOSED; on a paid one: ORDERPAID; within 5 minutes (scaled) of the order:
 *   INVALID_REQUEST with WeChat's sentence. The `closeLeavesNotpay` fault answers SUCCESS and
 *   closes nothing, as WeChat has been seen to.
 * - Text fields are limited in bytes of UTF-8 (docs/wechat-rules.md), refused as WeChat words it.
 */
import { isIP } from 'node:net';
import {
  OUT_TRADE_NO_PATTERN,
  parseBeijingTime,
  TEXT_LIMITS,
  utf8Length,
  type XmlFields,
} from '../wechatpay/index.js';
import { type SandboxCore, scaled } from './core.js';
import { prepayId } from './identifiers.js';
import { paymentFields } from './payment-fields.js';
import type { StoredTradeState, TradeRow } from './state/trade-store.js';
import { invalid, refuse, type V2Answer, V2Invalid, type V2Request } from './v2-endpoint.js';

/** `trade_state` as orderquery reports it. */
export type TradeState = StoredTradeState | 'REFUND';

/** A prepay_id is valid for 2 hours (official unifiedorder doc). */
export const PREPAY_TTL_MS = 2 * 3600 * 1000;
/** `time_expire` must leave at least 5 minutes for JSAPI ("刷卡至少1分钟，其他5分钟"). */
export const MIN_EXPIRE_MS = 5 * 60 * 1000;
export const MAX_NOTIFY_URL_CHARS = 256;
/** WeChat caps a single JSAPI payment well below this; it keeps sums inside safe integers. */
export const MAX_TOTAL_FEE = 10_000_000_000;

const TRADE_STATE_DESC: Readonly<Record<TradeState, string>> = {
  NOTPAY: '订单未支付',
  SUCCESS: '支付成功',
  REFUND: '订单发生过退款，退款详情请查询退款单',
  CLOSED: '订单已关闭',
};

/** Fields that are transport, not business: they differ on every honest retry. */
const NOT_BUSINESS = new Set(['nonce_str', 'sign', 'sign_type']);

/** Canonical JSON of the business parameters of a request. */
export function businessParams(fields: XmlFields): string {
  const entries = Object.keys(fields)
    .filter((name) => !NOT_BUSINESS.has(name) && fields[name] !== '')
    .sort()
    .map((name) => [name, fields[name]]);
  return JSON.stringify(entries);
}

/** Throws LACK_PARAMS for the first of `names` that is missing or empty. */
export function requireFields(fields: XmlFields, names: readonly string[]): void {
  for (const name of names) {
    if (!fields[name]) refuse('LACK_PARAMS', `缺少参数${name}`);
  }
}

/** What WeChat calls the fields it limits, in its refusals. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  body: '商品描述',
  attach: '附加数据',
  detail: '商品详情',
  device_info: '设备号',
  goods_tag: '订单优惠标记',
  refund_desc: '退款原因',
};

/**
 * A text field within `max` bytes of UTF-8, refused in WeChat's observed words: "输入源
 * “/body/xml/body”映射到值字段“商品描述”字符串规则校验失败，字节数 145，大于最大值 127".
 */
export function checkBytes(fields: XmlFields, name: string, max: number): void {
  const value = fields[name];
  if (value === undefined) return;
  const bytes = utf8Length(value);
  if (bytes <= max) return;
  throw new V2Invalid(
    `输入源“/body/xml/${name}”映射到值字段“${FIELD_LABELS[name] ?? name}”字符串规则校验失败，字节数 ${bytes}，大于最大值 ${max}`,
  );
}

/**
 * The trade's state now: a stored NOTPAY trade past its `time_expire` is closed here (and
 * stored so), a paid trade with a refund that is not closed reads REFUND.
 */
export function currentTradeState(core: SandboxCore, trade: TradeRow): TradeState {
  const now = core.clock.now();
  if (trade.state === 'NOTPAY' && trade.expires_at !== null && now >= trade.expires_at) {
    core.state.trades.transition(trade.mch_id, trade.out_trade_no, ['NOTPAY'], 'CLOSED', {
      closed_at: trade.expires_at,
    });
    trade.state = 'CLOSED';
    trade.closed_at = trade.expires_at;
  }
  if (trade.state === 'SUCCESS') {
    const refunds = core.state.refunds.ofTrade(trade.mch_id, trade.out_trade_no);
    if (refunds.some((r) => r.status !== 'REFUNDCLOSE')) return 'REFUND';
  }
  return trade.state;
}

/** `POST /pay/unifiedorder`. */
export function unifiedOrder(core: SandboxCore, { fields, signType }: V2Request): V2Answer {
  requireFields(fields, [
    'body',
    'out_trade_no',
    'total_fee',
    'spbill_create_ip',
    'notify_url',
    'trade_type',
  ]);
  validateOrder(fields);
  const now = core.clock.now();
  const mchId = core.credentials.mchId;
  const outTradeNo = fields.out_trade_no!;
  const params = businessParams(fields);
  const existing = core.state.trades.get(mchId, outTradeNo);
  if (existing) {
    const state = currentTradeState(core, existing);
    if (state === 'SUCCESS' || state === 'REFUND') refuse('ORDERPAID', '该订单已支付');
    if (state === 'CLOSED') refuse('ORDERCLOSED', '该订单已关闭');
    if (existing.params !== params) refuse('INVALID_REQUEST', '201 商户订单号重复');
    let prepay = existing.prepay_id;
    if (now >= existing.prepay_expires_at) {
      prepay = prepayId(now);
      core.state.trades.renewPrepay(mchId, outTradeNo, prepay, now, now + PREPAY_TTL_MS);
    }
    return { type: 'ok', fields: { trade_type: existing.trade_type, prepay_id: prepay } };
  }
  let expiresAt: number | null = null;
  if (fields.time_expire) {
    expiresAt = parseBeijingTime(fields.time_expire).getTime();
    if (expiresAt - now < MIN_EXPIRE_MS) {
      refuse('INVALID_REQUEST', 'time_expire时间过短，刷卡至少1分钟，其他5分钟');
    }
  }
  const trade: TradeRow = {
    mch_id: mchId,
    out_trade_no: outTradeNo,
    appid: fields.appid!,
    openid: fields.openid!,
    body: fields.body!,
    attach: fields.attach || null,
    device_info: fields.device_info || null,
    total_fee: Number(fields.total_fee),
    fee_type: fields.fee_type || 'CNY',
    trade_type: fields.trade_type!,
    notify_url: fields.notify_url!,
    sign_type: signType,
    params,
    created_at: now,
    expires_at: expiresAt,
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
  return { type: 'ok', fields: { trade_type: trade.trade_type, prepay_id: trade.prepay_id } };
}

function validateOrder(fields: XmlFields): void {
  if (!OUT_TRADE_NO_PATTERN.test(fields.out_trade_no!)) {
    invalid('out_trade_no', '6 to 32 of 0-9 a-z A-Z _ - | *');
  }
  checkFen(fields, 'total_fee');
  if (fields.fee_type && fields.fee_type !== 'CNY') invalid('fee_type', 'only CNY');
  checkBytes(fields, 'body', TEXT_LIMITS.body);
  checkBytes(fields, 'attach', TEXT_LIMITS.attach);
  checkBytes(fields, 'detail', TEXT_LIMITS.detail);
  checkBytes(fields, 'device_info', 32);
  checkBytes(fields, 'goods_tag', 32);
  if (isIP(fields.spbill_create_ip!) === 0) invalid('spbill_create_ip', 'an IPv4 or IPv6 address');
  checkNotifyUrl(fields.notify_url!);
  const tradeType = fields.trade_type!;
  if (tradeType === 'NATIVE' || tradeType === 'APP' || tradeType === 'MWEB') {
    refuse('NOAUTH', '商户无此接口权限 (the sandbox plays a mini program merchant: JSAPI only)');
  }
  if (tradeType !== 'JSAPI') invalid('trade_type', 'JSAPI for mini programs');
  if (!fields.openid) refuse('LACK_PARAMS', 'JSAPI支付必须传openid');
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(fields.openid))
    invalid('openid', "the payer's openid from jscode2session");
  if (fields.limit_pay && fields.limit_pay !== 'no_credit') invalid('limit_pay', 'only no_credit');
  for (const name of ['time_start', 'time_expire']) {
    const value = fields[name];
    if (value === undefined || value === '') continue;
    let ok = /^[0-9]{14}$/.test(value);
    if (ok) {
      try {
        parseBeijingTime(value);
      } catch {
        ok = false;
      }
    }
    if (!ok) invalid(name, 'yyyyMMddHHmmss, Beijing time');
  }
}

/** An amount in fen: a whole number from 1 to MAX_TOTAL_FEE, without leading zeros. */
export function checkFen(fields: XmlFields, name: string): number {
  const value = fields[name]!;
  if (!/^[1-9][0-9]{0,10}$/.test(value) || Number(value) > MAX_TOTAL_FEE) {
    invalid(name, 'a whole number of fen, at least 1');
  }
  return Number(value);
}

/** `notify_url`: an absolute http(s) URL of at most 256 characters without a query string. */
export function checkNotifyUrl(value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    value.length > MAX_NOTIFY_URL_CHARS ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    value.includes('?')
  ) {
    invalid('notify_url', 'an http(s) URL of at most 256 characters, without a query string');
  }
}

/** Finds the trade a query names (transaction_id first, as WeChat prefers it). */
export function findTrade(core: SandboxCore, fields: XmlFields): TradeRow | undefined {
  const mchId = core.credentials.mchId;
  if (fields.transaction_id) return core.state.trades.byTransactionId(mchId, fields.transaction_id);
  if (fields.out_trade_no) return core.state.trades.get(mchId, fields.out_trade_no);
  return undefined;
}

/** `POST /pay/orderquery`. */
export function orderQuery(core: SandboxCore, { fields }: V2Request): V2Answer {
  if (!fields.transaction_id && !fields.out_trade_no) {
    refuse('LACK_PARAMS', 'transaction_id和out_trade_no必须填一个');
  }
  const trade = findTrade(core, fields);
  if (!trade) refuse('ORDERNOTEXIST', '订单不存在');
  const state = currentTradeState(core, trade);
  if (state !== 'SUCCESS' && state !== 'REFUND') {
    return {
      type: 'ok',
      fields: {
        out_trade_no: trade.out_trade_no,
        attach: trade.attach,
        trade_state: state,
        trade_state_desc: TRADE_STATE_DESC[state],
        total_fee: trade.total_fee,
      },
    };
  }
  return { type: 'ok', fields: paidTradeFields(trade, state) };
}

/** The fields of a paid trade, as orderquery answers them (and the notify carries most of them). */
export function paidTradeFields(
  trade: TradeRow,
  state: TradeState,
): Record<string, string | number | null> {
  return {
    ...paymentFields(trade),
    device_info: trade.device_info,
    attach: trade.attach,
    trade_state: state,
    trade_state_desc: TRADE_STATE_DESC[state],
  };
}

/** `POST /pay/closeorder`. */
export function closeOrder(core: SandboxCore, { fields }: V2Request): V2Answer {
  requireFields(fields, ['out_trade_no']);
  const trade = core.state.trades.get(core.credentials.mchId, fields.out_trade_no!);
  if (!trade) refuse('ORDERNOTEXIST', '订单不存在');
  const now = core.clock.now();
  const state = currentTradeState(core, trade);
  if (state === 'SUCCESS' || state === 'REFUND') refuse('ORDERPAID', '订单已支付，不能发起关单');
  if (state === 'CLOSED') refuse('ORDERCLOSED', '订单已关闭，无需继续调用');
  const minAge = scaled(core.config, core.config.closeMinAgeMs);
  if (now - trade.created_at < minAge) {
    refuse('INVALID_REQUEST', '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟');
  }
  if (core.faults.spendCloseLeavesNotpay()) return { type: 'ok', fields: { result_msg: 'OK' } };
  if (
    !core.state.trades.transition(trade.mch_id, trade.out_trade_no, ['NOTPAY'], 'CLOSED', {
      closed_at: now,
    })
  ) {
    refuse('SYSTEMERROR', '系统繁忙，请稍后再试');
  }
  return { type: 'ok', fields: { result_msg: 'OK' } };
}

/** The description WeChat gives a trade state (orderquery `trade_state_desc`). */
export function tradeStateDesc(state: TradeState): string {
  return TRADE_STATE_DESC[state];
}
