/**
 * Shipping information (小程序发货信息管理服务): the request of `upload_shipping_info` and WeChat's
 * rules on it, the order states of `get_order`, and the time and phone formats it wants.
 *
 * `shippingInfoBody` turns a typed request into the wire body; `shippingBodyProblem` checks a
 * wire body against WeChat's documented limits and names the errcode WeChat answers. The
 * client runs it before sending (a refusal costs no call); the sandbox runs the same function
 * on what it receives, so both sides hold one set of rules (docs/miniprogram-api.md).
 */
import { invalidAnswer } from './http.js';

/** The order a call is about: by WeChat Pay's transaction_id, or by mchid + out_trade_no. */
export type OrderKey = { transactionId: string } | { mchId: string; outTradeNo: string };

/** `logistics_type`: 1 express, 2 same-city delivery, 3 virtual goods, 4 picked up by the user. */
export const LOGISTICS_TYPES = { express: 1, 'same-city': 2, virtual: 3, 'pick-up': 4 } as const;
export type LogisticsType = keyof typeof LOGISTICS_TYPES;

/** `delivery_mode`: 1 unified (one parcel), 2 split (several). */
export const DELIVERY_MODES = { unified: 1, split: 2 } as const;
export type DeliveryMode = keyof typeof DELIVERY_MODES;

export interface Parcel {
  /** Required for express (logistics_type 1), 1..128 bytes. */
  trackingNo?: string;
  /** The courier's id from `get_delivery_list` (e.g. `SF`, `YTO`); required for express. */
  expressCompany?: string;
  /** What is in the parcel, e.g. `微信红包抱枕*1个`: 1..120 characters. */
  itemDesc: string;
  /**
   * A masked phone number (`maskPhone`), sender's or receiver's: WeChat requires one when the
   * courier is SF (顺丰).
   */
  contact?: { consignorContact?: string; receiverContact?: string };
}

export interface UploadShippingInfoRequest {
  order: OrderKey;
  logisticsType: LogisticsType;
  deliveryMode: DeliveryMode;
  /** Split delivery only: whether these parcels complete the order (WeChat then tells the user). */
  isAllDelivered?: boolean;
  /** 1 parcel for unified delivery, 1..15 for split. */
  parcels: readonly Parcel[];
  /** The openid that paid. */
  payerOpenid: string;
  /**
   * Orders WeChat's updates: a correction must carry a later time. When retrying a call whose
   * answer was lost, send the same time again (and read `get_order` first), so that WeChat
   * sees the same info (10060023) rather than a correction, of which there is only one.
   */
  uploadTime: Date;
}

export const SHIPPING_LIMITS = {
  parcels: 15,
  itemDescChars: 120,
  trackingNoBytes: 128,
  expressCompanyBytes: 128,
  contactChars: 1024,
  openidBytes: 128,
} as const;

/** The wire body of `upload_shipping_info`. */
export interface UploadShippingInfoBody {
  order_key:
    | { order_number_type: 2; transaction_id: string }
    | { order_number_type: 1; mchid: string; out_trade_no: string };
  logistics_type: number;
  delivery_mode: number;
  is_all_delivered?: boolean;
  shipping_list: {
    tracking_no?: string;
    express_company?: string;
    item_desc: string;
    contact?: { consignor_contact?: string; receiver_contact?: string };
  }[];
  upload_time: string;
  payer: { openid: string };
}

export function shippingInfoBody(request: UploadShippingInfoRequest): UploadShippingInfoBody {
  const body: UploadShippingInfoBody = {
    order_key:
      'transactionId' in request.order
        ? { order_number_type: 2, transaction_id: request.order.transactionId }
        : {
            order_number_type: 1,
            mchid: request.order.mchId,
            out_trade_no: request.order.outTradeNo,
          },
    logistics_type: LOGISTICS_TYPES[request.logisticsType],
    delivery_mode: DELIVERY_MODES[request.deliveryMode],
    shipping_list: request.parcels.map((p) => ({
      tracking_no: p.trackingNo,
      express_company: p.expressCompany,
      item_desc: p.itemDesc,
      contact: p.contact && {
        consignor_contact: p.contact.consignorContact,
        receiver_contact: p.contact.receiverContact,
      },
    })),
    upload_time: rfc3339Beijing(request.uploadTime),
    payer: { openid: request.payerOpenid },
  };
  if (request.deliveryMode === 'split') body.is_all_delivered = request.isAllDelivered;
  return body;
}

/** What WeChat would refuse in a wire body, and with which errcode. */
export interface ShippingProblem {
  errcode: number;
  message: string;
}

/** The first rule `body` breaks, or undefined. `body` may be anything (the sandbox's input). */
export function shippingBodyProblem(body: unknown): ShippingProblem | undefined {
  if (!isObject(body)) return problem(47001, 'the body is not a JSON object');
  const keyProblem = orderKeyProblem(body.order_key);
  if (keyProblem) return keyProblem;
  const logistics = body.logistics_type;
  if (!isIntIn(logistics, 1, 4)) return problem(10060005, 'logistics_type must be 1, 2, 3 or 4');
  const mode = body.delivery_mode;
  if (!isIntIn(mode, 1, 2)) return problem(268485224, 'delivery_mode must be 1 or 2');
  const list = body.shipping_list;
  if (!Array.isArray(list) || list.length === 0) {
    return problem(10060014, 'shipping_list must list at least one parcel');
  }
  if (list.length > SHIPPING_LIMITS.parcels) {
    return problem(10060024, `shipping_list has more than ${SHIPPING_LIMITS.parcels} parcels`);
  }
  if (mode === 1 && list.length !== 1) {
    return problem(268485228, 'unified delivery takes exactly one parcel');
  }
  if (mode === 2 && logistics !== 1) {
    return problem(10060006, 'split delivery is for express (logistics_type 1) only');
  }
  if (mode === 2 && typeof body.is_all_delivered !== 'boolean') {
    return problem(10060007, 'split delivery needs is_all_delivered (true or false)');
  }
  for (const [i, parcel] of list.entries()) {
    const p = parcelProblem(parcel, logistics === 1, `shipping_list[${i}]`);
    if (p) return p;
  }
  if (typeof body.upload_time !== 'string' || !isRfc3339(body.upload_time)) {
    return problem(268485216, 'upload_time must be RFC 3339, e.g. 2022-12-15T13:29:35.120+08:00');
  }
  const payer = body.payer;
  if (!isObject(payer) || !isBytes(payer.openid, 1, SHIPPING_LIMITS.openidBytes)) {
    return problem(10060014, 'payer.openid must be the payer’s openid (1..128 bytes)');
  }
  return undefined;
}

function orderKeyProblem(key: unknown): ShippingProblem | undefined {
  if (!isObject(key)) return problem(10060014, 'order_key is missing');
  if (key.order_number_type === 2) {
    if (!nonEmpty(key.transaction_id)) return problem(268485195, 'transaction_id is missing');
    if (!TRANSACTION_ID.test(key.transaction_id)) {
      return problem(10060014, 'transaction_id is not a WeChat Pay transaction id');
    }
    return undefined;
  }
  if (key.order_number_type === 1) {
    if (!nonEmpty(key.mchid)) return problem(268485196, 'mchid is missing');
    if (!nonEmpty(key.out_trade_no)) return problem(268485197, 'out_trade_no is missing');
    if (!MCH_ID.test(key.mchid)) return problem(10060014, 'mchid is not a merchant id');
    if (!OUT_TRADE_NO.test(key.out_trade_no)) {
      return problem(10060014, 'out_trade_no is not a merchant order number');
    }
    return undefined;
  }
  return problem(268485194, 'order_number_type must be 1 (mchid + out_trade_no) or 2');
}

function parcelProblem(
  parcel: unknown,
  express: boolean,
  where: string,
): ShippingProblem | undefined {
  if (!isObject(parcel)) return problem(10060014, `${where} is not an object`);
  const desc = parcel.item_desc;
  if (typeof desc !== 'string' || desc.trim() === '') {
    return problem(10060008, `${where}.item_desc is empty`);
  }
  if (charLength(desc) > SHIPPING_LIMITS.itemDescChars) {
    return problem(10060009, `${where}.item_desc is longer than 120 characters`);
  }
  const { tracking_no: trackingNo, express_company: company } = parcel;
  if (express && !nonEmpty(trackingNo)) {
    return problem(268485226, `${where}.tracking_no is required for express`);
  }
  if (express && !nonEmpty(company)) {
    return problem(268485227, `${where}.express_company is required for express`);
  }
  if (trackingNo !== undefined && !isBytes(trackingNo, 1, SHIPPING_LIMITS.trackingNoBytes)) {
    return problem(10060026, `${where}.tracking_no is longer than 128 bytes`);
  }
  if (company !== undefined && !isBytes(company, 1, SHIPPING_LIMITS.expressCompanyBytes)) {
    return problem(10060025, `${where}.express_company is longer than 128 bytes`);
  }
  return contactProblem(parcel.contact, company === 'SF', where);
}

function contactProblem(
  contact: unknown,
  required: boolean,
  where: string,
): ShippingProblem | undefined {
  if (contact === undefined) {
    return required ? problem(10060014, `${where}.contact is required for SF Express`) : undefined;
  }
  if (!isObject(contact)) return problem(10060014, `${where}.contact is not an object`);
  const phones = [contact.consignor_contact, contact.receiver_contact].filter(
    (c) => c !== undefined,
  );
  if (required && phones.length === 0) {
    return problem(10060014, `${where}.contact needs the sender's or the receiver's phone for SF`);
  }
  for (const phone of phones) {
    if (typeof phone !== 'string' || !isMaskedPhone(phone)) {
      return problem(
        10060014,
        `${where}.contact must be a masked phone number with its last 4 digits shown, e.g. 189****1234`,
      );
    }
  }
  return undefined;
}

/** `out_trade_no` as WeChat Pay accepts it. */
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{1,32}$/;
const MCH_ID = /^\d{1,32}$/;
const TRANSACTION_ID = /^[0-9A-Za-z_-]{1,64}$/;

function problem(errcode: number, message: string): ShippingProblem {
  return { errcode, message };
}

/**
 * A masked phone number as WeChat wants it: digits, `*` and separators, at least one `*`, and
 * the last 4 digits not masked (`189****1234`, `021-****1234`, `0**2-******23-10`).
 */
export function isMaskedPhone(value: string): boolean {
  if (value.length > SHIPPING_LIMITS.contactChars || !/^[0-9*+\-() ]+$/.test(value)) return false;
  const marks = value.replace(/[^0-9*]/g, '');
  return marks.includes('*') && /\d{4}$/.test(marks);
}

/**
 * `13812345678` → `138****5678`: the last 4 digits stay, and the first 3 of a mobile number
 * (11 digits or more); the rest is masked.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 5) throw new RangeError('a phone number has more than 4 digits');
  const head = digits.length >= 11 ? digits.slice(-11, -8) : '';
  return `${head}****${digits.slice(-4)}`;
}

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** `2022-12-15T13:29:35.120+08:00`: RFC 3339 in Beijing time, as `upload_time`. */
export function rfc3339Beijing(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('not a valid date');
  return `${new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 23)}+08:00`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** Whether `value` is an RFC 3339 date-time with a real date and an offset. */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const check = new Date(Date.UTC(y, mo - 1, d));
  return (
    check.getUTCMonth() === mo - 1 &&
    check.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    s < 60 &&
    (m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60))
  );
}

/** `order_state` of `get_order`: code → machine name and WeChat's label. */
export const ORDER_STATES = {
  1: { name: 'to_be_shipped', label: '待发货' },
  2: { name: 'shipped', label: '已发货' },
  3: { name: 'receipt_confirmed', label: '确认收货' },
  4: { name: 'completed', label: '交易完成' },
  5: { name: 'refunded', label: '已退款' },
  6: { name: 'settlement_pending', label: '资金待结算' },
} as const;

export type OrderStateName = (typeof ORDER_STATES)[keyof typeof ORDER_STATES]['name'];

/** The name of a state code; `unknown` for a code WeChat added after this table. */
export function orderStateName(state: number): OrderStateName | 'unknown' {
  return ORDER_STATES[state as keyof typeof ORDER_STATES]?.name ?? 'unknown';
}

/** Characters as people count them: code points (a Chinese character is one). */
export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isBytes(value: unknown, min: number, max: number): value is string {
  if (typeof value !== 'string') return false;
  const n = Buffer.byteLength(value, 'utf8');
  return n >= min && n <= max;
}

/** `get_order` and `notify_confirm_receive` name the order with other field names. */
export function tradeLookup(
  order: OrderKey,
): { transaction_id: string } | { merchant_id: string; merchant_trade_no: string } {
  return 'transactionId' in order
    ? { transaction_id: order.transactionId }
    : { merchant_id: order.mchId, merchant_trade_no: order.outTradeNo };
}

/** WeChat's view of a paid order (`get_order`). Amounts in fen. */
export interface ShippingOrder {
  transactionId: string;
  merchantId: string;
  subMerchantId?: string;
  merchantTradeNo: string;
  /** The items' descriptions joined by `;`, cut at 120 characters. */
  description?: string;
  paidAmount?: number;
  openid?: string;
  tradeCreateTime?: Date;
  payTime?: Date;
  /** `order_state`: 1..6, see `ORDER_STATES`. */
  state: number;
  stateName: OrderStateName | 'unknown';
  inComplaint: boolean;
  shipping?: {
    deliveryMode?: number;
    logisticsType?: number;
    finishShipping: boolean;
    /** 0 before the shipment completes, 1 after, 2 after a completed correction. */
    finishShippingCount?: number;
    goodsDesc?: string;
    parcels: {
      trackingNo?: string;
      expressCompany?: string;
      goodsDesc?: string;
      uploadTime?: Date;
      consignorContact?: string;
      receiverContact?: string;
    }[];
  };
}

/** The `order` of a `get_order` answer; throws `invalid` when it is not one. */
export function parseShippingOrder(json: Record<string, unknown>, path: string): ShippingOrder {
  return parseOrder(json.order, path);
}

/** What `get_order_list` is asked: the filters WeChat documents (all optional). */
export interface OrderListQuery {
  /** Pay time range, both ends included (WeChat keeps seconds). */
  paidFrom?: Date;
  paidTo?: Date;
  /** `order_state` 1..6 (`ORDER_STATES`): 1 to be shipped. */
  state?: number;
  openid?: string;
  /** `last_index` of the previous page. */
  lastIndex?: string;
  /** 1..100; WeChat's default 100. */
  pageSize?: number;
}

export interface OrderListPage {
  orders: ShippingOrder[];
  /** Give it back as `lastIndex` for the next page while `hasMore`. */
  lastIndex: string;
  hasMore: boolean;
}

/** The body of `get_order_list`; throws `RangeError` for a query WeChat would refuse. */
export function orderListBody(q: OrderListQuery): Record<string, unknown> {
  const secs = (d: Date | undefined, name: string) => {
    if (d === undefined) return undefined;
    const s = Math.floor(d.getTime() / 1000);
    if (!Number.isSafeInteger(s) || s < 0 || s > 0xffff_ffff)
      throw new RangeError(`${name}: a time`);
    return s;
  };
  const begin = secs(q.paidFrom, 'paidFrom');
  const end = secs(q.paidTo, 'paidTo');
  if (begin !== undefined && end !== undefined && begin > end) {
    throw new RangeError('paidFrom is after paidTo');
  }
  if (q.state !== undefined && !isIntIn(q.state, 1, 6)) throw new RangeError('state: 1..6');
  if (q.pageSize !== undefined && !isIntIn(q.pageSize, 1, 100)) {
    throw new RangeError('pageSize: 1..100');
  }
  return {
    ...((begin !== undefined || end !== undefined) && {
      pay_time_range: {
        ...(begin !== undefined && { begin_time: begin }),
        ...(end !== undefined && { end_time: end }),
      },
    }),
    ...(q.state !== undefined && { order_state: q.state }),
    ...(q.openid !== undefined && { openid: q.openid }),
    ...(q.lastIndex !== undefined && { last_index: q.lastIndex }),
    ...(q.pageSize !== undefined && { page_size: q.pageSize }),
  };
}

/** A `get_order_list` answer; throws `invalid` when it is not one. */
export function parseOrderListPage(json: Record<string, unknown>, path: string): OrderListPage {
  if (!Array.isArray(json.order_list)) throw invalidAnswer(path, 'order_list is missing');
  const hasMore = json.has_more === true;
  const lastIndex = typeof json.last_index === 'string' ? json.last_index : '';
  if (hasMore && lastIndex === '') throw invalidAnswer(path, 'has_more without last_index');
  return { orders: json.order_list.map((o) => parseOrder(o, path)), lastIndex, hasMore };
}

function parseOrder(order: unknown, path: string): ShippingOrder {
  if (!isObject(order)) throw invalidAnswer(path, 'the answer has no order');
  const transactionId = str(order.transaction_id);
  const merchantTradeNo = str(order.merchant_trade_no);
  const state = order.order_state;
  if (!transactionId || !merchantTradeNo || !isIntIn(state, 0, 1000)) {
    throw invalidAnswer(path, 'the order lacks transaction_id, merchant_trade_no or order_state');
  }
  return {
    transactionId,
    merchantId: str(order.merchant_id) ?? '',
    subMerchantId: str(order.sub_merchant_id),
    merchantTradeNo,
    description: str(order.description),
    paidAmount: isIntIn(order.paid_amount, 0, Number.MAX_SAFE_INTEGER)
      ? order.paid_amount
      : undefined,
    openid: str(order.openid),
    tradeCreateTime: seconds(order.trade_create_time),
    payTime: seconds(order.pay_time),
    state,
    stateName: orderStateName(state),
    inComplaint: order.in_complaint === true,
    shipping: isObject(order.shipping) ? parseShipping(order.shipping) : undefined,
  };
}

function parseShipping(s: Record<string, unknown>): NonNullable<ShippingOrder['shipping']> {
  const list = Array.isArray(s.shipping_list) ? s.shipping_list.filter(isObject) : [];
  return {
    deliveryMode: isIntIn(s.delivery_mode, 1, 2) ? s.delivery_mode : undefined,
    logisticsType: isIntIn(s.logistics_type, 1, 4) ? s.logistics_type : undefined,
    finishShipping: s.finish_shipping === true,
    finishShippingCount: isIntIn(s.finish_shipping_count, 0, 100)
      ? s.finish_shipping_count
      : undefined,
    goodsDesc: str(s.goods_desc),
    parcels: list.map((p) => {
      const contact = isObject(p.contact) ? p.contact : {};
      return {
        trackingNo: str(p.tracking_no),
        expressCompany: str(p.express_company),
        goodsDesc: str(p.goods_desc),
        uploadTime: seconds(p.upload_time),
        consignorContact: str(contact.consignor_contact),
        receiverContact: str(contact.receiver_contact),
      };
    }),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function seconds(value: unknown): Date | undefined {
  return isIntIn(value, 1, 1e11) ? new Date(value * 1000) : undefined;
}
