/**
 * The order shipping service (小程序发货信息管理服务) as the sandbox plays it:
 * `upload_shipping_info`, `get_order`, `notify_confirm_receive`, `is_trade_managed`,
 * `get_delivery_list`, and the user's side (confirming receipt, which settles the order).
 * Requests are checked with the protocol layer's `shippingBodyProblem`, the same rules the
 * merchant's client applies before sending.
 *
 * A trade's shipping goes: to be shipped (1) → shipped (2, the shipment is complete: unified
 * delivery, or split with `is_all_delivered`) → receipt confirmed and settled (4). A completed
 * shipment may be corrected once (a later upload with other info); an identical upload is
 * 10060023, a second correction 10060003, parcels after completion 10060002. Completing the
 * shipment and settling each push `trade_manage_order_settlement` to the merchant.
 */
import { shippingBodyProblem } from '../../miniprogram-api/shipping.js';
import type { SandboxCore } from '../core.js';
import type { ShipmentRow } from '../state/platform-store.js';
import type { TradeRow } from '../state/trade-store.js';
import { isObject, ok, type PlatformAnswer, refuse } from './answers.js';

/** How long after the shipment completes WeChat plans to settle (shown in the shipped push). */
export const SETTLEMENT_AFTER_MS = 10 * 86_400_000;

/** A push the shipping service wants sent (the platform hands it to the push sender). */
export type ShippingPush = (
  event: string,
  trade: TradeRow,
  fields: Record<string, unknown>,
) => void;

/** A few of WeChat's ~1,400 couriers: enough to pick one and to meet SF's contact rule. */
export const SANDBOX_COURIERS: readonly { delivery_id: string; delivery_name: string }[] = [
  { delivery_id: 'SF', delivery_name: '顺丰速运' },
  { delivery_id: 'YTO', delivery_name: '圆通速递' },
  { delivery_id: 'ZTO', delivery_name: '中通快递' },
  { delivery_id: 'STO', delivery_name: '申通快递' },
  { delivery_id: 'YD', delivery_name: '韵达速递' },
  { delivery_id: 'JTSD', delivery_name: '极兔速递' },
  { delivery_id: 'EMS', delivery_name: 'EMS' },
  { delivery_id: 'YZPY', delivery_name: '邮政快递包裹' },
  { delivery_id: 'JD', delivery_name: '京东物流' },
  { delivery_id: 'DBL', delivery_name: '德邦快递' },
];

const seconds = (ms: number | null) => (ms === null ? 0 : Math.floor(ms / 1000));

/** The paid trade an `order_key` (upload) names; 10060001 when there is none. */
function tradeOfOrderKey(core: SandboxCore, key: Record<string, unknown>): TradeRow {
  const { mchId } = core.credentials;
  const trade =
    key.order_number_type === 2
      ? core.state.trades.byTransactionId(mchId, String(key.transaction_id))
      : key.mchid === mchId
        ? core.state.trades.get(mchId, String(key.out_trade_no))
        : undefined;
  return paidOrRefuse(trade);
}

/** The trade `get_order` and `notify_confirm_receive` name (other field names than upload). */
function tradeOfLookup(core: SandboxCore, body: unknown): TradeRow {
  if (!isObject(body)) refuse(47001, 'data format error');
  const { mchId } = core.credentials;
  const { transaction_id: tx, merchant_id: merchant, merchant_trade_no: no } = body;
  if (typeof tx === 'string' && tx !== '') {
    return paidOrRefuse(core.state.trades.byTransactionId(mchId, tx));
  }
  if (typeof merchant !== 'string' || typeof no !== 'string' || merchant === '' || no === '') {
    refuse(
      10060014,
      'invalid parameter: give transaction_id, or merchant_id and merchant_trade_no',
    );
  }
  return paidOrRefuse(merchant === mchId ? core.state.trades.get(mchId, no) : undefined);
}

/** WeChat's shipping service knows paid trades only. */
function paidOrRefuse(trade: TradeRow | undefined): TradeRow {
  if (trade?.state !== 'SUCCESS' || !trade.transaction_id) {
    refuse(10060001, '支付单不存在');
  }
  return trade;
}

function refunded(core: SandboxCore, trade: TradeRow): boolean {
  const done = core.state.refunds
    .ofTrade(trade.mch_id, trade.out_trade_no)
    .filter((r) => r.status === 'SUCCESS' || r.status === 'CHANGE' || r.status === 'PROCESSING')
    .reduce((sum, r) => sum + r.refund_fee, 0);
  return done >= trade.total_fee;
}

/** `order_state` of a trade: 1 to be shipped … 5 refunded (see ORDER_STATES). */
export function orderState(core: SandboxCore, trade: TradeRow, s: ShipmentRow | undefined): number {
  if (s?.settled_at) return 4;
  if (refunded(core, trade)) return 5;
  if (s?.confirmed_at) return 3;
  return s?.finished ? 2 : 1;
}

/** `POST /wxa/sec/order/upload_shipping_info`. */
export function uploadShippingInfo(
  core: SandboxCore,
  body: unknown,
  push: ShippingPush,
): PlatformAnswer {
  const problem = shippingBodyProblem(body);
  if (problem) refuse(problem.errcode, problem.message);
  const upload = body as Record<string, unknown> & {
    order_key: Record<string, unknown>;
    logistics_type: number;
    delivery_mode: number;
    is_all_delivered?: boolean;
    shipping_list: Record<string, unknown>[];
    upload_time: string;
    payer: { openid: string };
  };
  const trade = tradeOfOrderKey(core, upload.order_key);
  if (upload.payer.openid !== trade.openid) refuse(10060031, '支付单与 openid 不匹配');
  const now = core.clock.now();
  const before = core.state.platform.shipment(trade.transaction_id!);
  const state = orderState(core, trade, before);
  if (state >= 3) refuse(10060004, '支付单处于不可发货的状态');
  const info = JSON.stringify([
    upload.logistics_type,
    upload.delivery_mode,
    upload.is_all_delivered ?? null,
    upload.shipping_list,
  ]);
  const parcels = upload.shipping_list.map((p) => ({ ...p, upload_time: seconds(now) }));
  const next = before?.finished
    ? correct(before, upload, info, parcels)
    : extend(before, upload, info, parcels, trade.transaction_id!);
  const completes = next.finished === 1 && !before?.finished;
  if (completes) next.shipped_at = now;
  core.state.platform.saveShipment(next);
  if (completes) {
    push('trade_manage_order_settlement', trade, {
      shipped_time: seconds(now),
      estimated_settlement_time: seconds(now + SETTLEMENT_AFTER_MS),
    });
  }
  return ok();
}

type Upload = {
  logistics_type: number;
  delivery_mode: number;
  is_all_delivered?: boolean;
  upload_time: string;
};

/** A first upload, or more parcels of a split delivery not yet complete. */
function extend(
  before: ShipmentRow | undefined,
  upload: Upload,
  info: string,
  parcels: object[],
  transactionId: string,
): ShipmentRow {
  if (before && before.delivery_mode === 2 && upload.delivery_mode === 2) {
    const all = [...(JSON.parse(before.parcels) as object[]), ...parcels];
    if (all.length > 15) refuse(10060024, '物流信息列表超过上限');
    return {
      ...before,
      parcels: JSON.stringify(all),
      upload_time: upload.upload_time,
      last_info: info,
      finished: upload.is_all_delivered ? 1 : 0,
      finish_count: upload.is_all_delivered ? 1 : 0,
    };
  }
  const finished = upload.delivery_mode === 1 || upload.is_all_delivered === true;
  return {
    transaction_id: transactionId,
    logistics_type: upload.logistics_type,
    delivery_mode: upload.delivery_mode,
    parcels: JSON.stringify(parcels),
    upload_time: upload.upload_time,
    last_info: info,
    finished: finished ? 1 : 0,
    finish_count: finished ? 1 : 0,
    shipped_at: null,
    reminded_at: null,
    confirmed_at: null,
    confirm_method: null,
    settled_at: null,
  };
}

/** An upload for a completed shipment: the one correction WeChat allows. */
function correct(
  before: ShipmentRow,
  upload: Upload,
  info: string,
  parcels: object[],
): ShipmentRow {
  if (info === before.last_info) refuse(10060023, '发货信息未更新');
  if (upload.delivery_mode === 2 && upload.is_all_delivered !== true) {
    refuse(10060002, '支付单已完成发货，无法继续发货');
  }
  if (before.finish_count >= 2) refuse(10060003, '支付单已完成发货，没有更多重新发货的机会');
  if (Date.parse(upload.upload_time) <= Date.parse(before.upload_time)) {
    refuse(10060014, '参数错误: upload_time must be later than the previous upload');
  }
  return {
    ...before,
    logistics_type: upload.logistics_type,
    delivery_mode: upload.delivery_mode,
    parcels: JSON.stringify(parcels),
    upload_time: upload.upload_time,
    last_info: info,
    finish_count: 2,
  };
}

/** `POST /wxa/sec/order/get_order`. */
export function getOrder(core: SandboxCore, body: unknown): PlatformAnswer {
  const trade = tradeOfLookup(core, body);
  const s = core.state.platform.shipment(trade.transaction_id!);
  return ok({ order: orderView(core, trade, s) });
}

/** The `order` of `get_order`. */
export function orderView(core: SandboxCore, trade: TradeRow, s: ShipmentRow | undefined) {
  const parcels = s ? (JSON.parse(s.parcels) as Record<string, unknown>[]) : [];
  const description = [...new Set(parcels.map((p) => String(p.item_desc)))].join(';');
  return {
    transaction_id: trade.transaction_id,
    merchant_id: trade.mch_id,
    sub_merchant_id: '',
    merchant_trade_no: trade.out_trade_no,
    description: [...(description || trade.body)].slice(0, 120).join(''),
    paid_amount: trade.total_fee,
    openid: trade.openid,
    trade_create_time: seconds(trade.created_at),
    pay_time: seconds(trade.paid_at),
    order_state: orderState(core, trade, s),
    in_complaint: false,
    shipping: s && {
      delivery_mode: s.delivery_mode,
      logistics_type: s.logistics_type,
      finish_shipping: s.finished === 1,
      goods_desc: description,
      finish_shipping_count: s.finish_count,
      shipping_list: parcels.map((p) => ({
        tracking_no: p.tracking_no ?? '',
        express_company: p.express_company ?? '',
        goods_desc: p.item_desc,
        upload_time: p.upload_time,
        contact: p.contact ?? {},
      })),
    },
  };
}

/** `POST /wxa/sec/order/notify_confirm_receive`. */
export function notifyConfirmReceive(core: SandboxCore, body: unknown): PlatformAnswer {
  const trade = tradeOfLookup(core, body);
  const received = (body as Record<string, unknown>).received_time;
  if (typeof received !== 'number' || !Number.isSafeInteger(received) || received <= 0) {
    refuse(10060014, '参数错误: received_time must be a time in seconds');
  }
  const s = core.state.platform.shipment(trade.transaction_id!);
  if (!s || orderState(core, trade, s) !== 2) refuse(10060028, '当前支付单不处于已发货状态');
  if (s.logistics_type !== 1) refuse(10060032, '非快递发货的订单不支持提醒确认收货');
  // WeChat keeps times in seconds: a signing in the second of shipping is not before it.
  if (received < seconds(s.shipped_at)) refuse(10060029, '签收时间不合法');
  if (s.reminded_at !== null) refuse(10060030, '该订单已经提醒过确认收货');
  core.state.platform.saveShipment({ ...s, reminded_at: core.clock.now() });
  return ok();
}

/** `POST /wxa/sec/order/is_trade_managed`. */
export function isTradeManaged(core: SandboxCore, body: unknown, managed: boolean): PlatformAnswer {
  if (!isObject(body)) refuse(47001, 'data format error');
  if (body.appid !== core.credentials.appId) refuse(40097, 'invalid args: appid');
  return ok({ is_trade_managed: managed });
}

/** `POST /cgi-bin/express/delivery/open_msg/get_delivery_list`. */
export function deliveryList(): PlatformAnswer {
  return ok({ delivery_list: SANDBOX_COURIERS, count: SANDBOX_COURIERS.length });
}

/** Why the user cannot confirm receipt now (the sandbox API answers 404 or 409). */
export class ConfirmRefusal extends Error {
  override readonly name = 'ConfirmRefusal';
  constructor(
    readonly code: 'NOT_FOUND' | 'NOT_SHIPPED' | 'ALREADY_CONFIRMED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The user confirms receipt (in `weappOrderConfirm`) or WeChat does it automatically; the
 * sandbox settles at once and pushes the settlement.
 */
export function confirmReceipt(
  core: SandboxCore,
  trade: TradeRow | undefined,
  method: 'user' | 'auto',
  push: ShippingPush,
) {
  if (trade?.state !== 'SUCCESS' || !trade.transaction_id) {
    throw new ConfirmRefusal('NOT_FOUND', 'no paid trade with this number');
  }
  const s = core.state.platform.shipment(trade.transaction_id);
  const state = orderState(core, trade, s);
  if (state >= 3 && state !== 5) {
    throw new ConfirmRefusal('ALREADY_CONFIRMED', 'receipt of this order is already confirmed');
  }
  if (!s || state !== 2) {
    throw new ConfirmRefusal(
      'NOT_SHIPPED',
      'the order is not shipped: the merchant must upload its complete shipping info first',
    );
  }
  const now = core.clock.now();
  const settled: ShipmentRow = {
    ...s,
    confirmed_at: now,
    confirm_method: method === 'auto' ? 1 : 2,
    settled_at: now,
  };
  core.state.platform.saveShipment(settled);
  push('trade_manage_order_settlement', trade, {
    shipped_time: seconds(s.shipped_at),
    confirm_receive_method: settled.confirm_method,
    confirm_receive_time: seconds(now),
    settlement_time: seconds(now),
  });
  return orderView(core, trade, settled);
}
