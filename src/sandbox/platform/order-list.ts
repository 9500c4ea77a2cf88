/**
 * `POST /wxa/sec/order/get_order_list` (docs/miniprogram-api.md, "get_order_list"): the paid
 * trades of the shipping service, filtered by pay time (seconds, `end_time` included), state
 * and payer, oldest payment first, `page_size` (default 100) at a time; `has_more` and an
 * opaque `last_index` give the next page. A `last_index` the sandbox did not make is 10060011.
 */
import type { SandboxCore } from '../core.js';
import { isObject, ok, type PlatformAnswer, refuse } from './answers.js';
import { orderState, orderView } from './shipping.js';

const DEFAULT_PAGE = 100;
/** The end of WeChat's range when none is given: the largest unsigned 32-bit time. */
const MAX_SECONDS = 0xffff_ffff;

const isSeconds = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_SECONDS;

/** Where a page ends: the last trade's pay time (ms) and transaction id. */
function encodeIndex(paidAt: number, transactionId: string): string {
  return Buffer.from(`${paidAt}:${transactionId}`).toString('base64url');
}

function decodeIndex(raw: unknown): { paidAt: number; transactionId: string } {
  if (typeof raw !== 'string' || raw === '' || raw.length > 200)
    refuse(10060011, 'last_index 不合法');
  const [at, tx] = Buffer.from(raw, 'base64url').toString('utf8').split(':');
  const paidAt = Number(at);
  if (!Number.isSafeInteger(paidAt) || !tx || !/^\d{1,32}$/.test(tx)) {
    refuse(10060011, 'last_index 不合法');
  }
  return { paidAt, transactionId: tx };
}

interface ListQuery {
  begin: number;
  end: number;
  state?: number;
  openid?: string;
  after?: { paidAt: number; transactionId: string };
  pageSize: number;
}

function listQuery(body: unknown): ListQuery {
  if (!isObject(body)) refuse(47001, 'data format error');
  const range = body.pay_time_range ?? {};
  if (!isObject(range)) refuse(10060014, '参数错误: pay_time_range');
  const begin = range.begin_time ?? 0;
  const end = range.end_time ?? MAX_SECONDS;
  if (!isSeconds(begin) || !isSeconds(end) || begin > end) {
    refuse(10060014, '参数错误: pay_time_range');
  }
  const state = body.order_state;
  if (
    state !== undefined &&
    !(Number.isInteger(state) && Number(state) >= 1 && Number(state) <= 6)
  ) {
    refuse(10060014, '参数错误: order_state');
  }
  const openid = body.openid;
  if (openid !== undefined && (typeof openid !== 'string' || openid.length > 128)) {
    refuse(10060014, '参数错误: openid');
  }
  const size = body.page_size ?? DEFAULT_PAGE;
  if (!Number.isInteger(size) || Number(size) < 1 || Number(size) > DEFAULT_PAGE) {
    refuse(10060014, '参数错误: page_size');
  }
  return {
    begin,
    end,
    ...(state !== undefined && { state: Number(state) }),
    ...(openid !== undefined && { openid }),
    ...(body.last_index !== undefined && { after: decodeIndex(body.last_index) }),
    pageSize: Number(size),
  };
}

export function getOrderList(core: SandboxCore, body: unknown): PlatformAnswer {
  const q = listQuery(body);
  const { mchId } = core.credentials;
  const matching = core.state.trades
    .paidBetween(mchId, q.begin * 1000, (q.end + 1) * 1000)
    .filter((t) => t.transaction_id && t.paid_at !== null)
    .filter((t) => q.openid === undefined || t.openid === q.openid)
    .map((trade) => ({ trade, s: core.state.platform.shipment(trade.transaction_id!) }))
    .filter(({ trade, s }) => q.state === undefined || orderState(core, trade, s) === q.state)
    .sort(
      (a, b) =>
        a.trade.paid_at! - b.trade.paid_at! ||
        (a.trade.transaction_id! < b.trade.transaction_id! ? -1 : 1),
    );
  const after = q.after;
  const rest = after
    ? matching.filter(
        ({ trade }) =>
          trade.paid_at! > after.paidAt ||
          (trade.paid_at === after.paidAt && trade.transaction_id! > after.transactionId),
      )
    : matching;
  const page = rest.slice(0, q.pageSize);
  const last = page.at(-1);
  return ok({
    order_list: page.map(({ trade, s }) => orderView(core, trade, s)),
    last_index: last ? encodeIndex(last.trade.paid_at!, last.trade.transaction_id!) : '',
    has_more: rest.length > page.length,
  });
}
