/**
 * Whether the gateway still serves every API the open orders were made with. An order keeps
 * the API of its prepay_id (`orders.wechatpay_api`): its payment parameters must be signed the
 * way that API's prepay expects (MD5/HMAC-SHA256 for v2, RSA for v3) and its notifications come
 * in that API's format. A gateway without the API (a shop that removed MINIPAY_MCH_KEY while v2
 * orders were still open) would hand out parameters WeChat refuses.
 */
import type { Db } from '../lib/db.js';
import { type PaymentGateway, WECHATPAY_APIS, type WechatPayApi } from './gateway.js';

/** Orders still to be paid or closed: their prepay_id may still be handed out or paid. */
const OPEN_STATUSES = ['CREATED', 'PENDING', 'CLOSING'] as const;

/** The open orders of each API `gateway` does not serve (none: an empty list). */
export async function openOrdersWithoutApi(
  db: Db,
  gateway: PaymentGateway,
): Promise<{ api: WechatPayApi; orders: number }[]> {
  const missing = WECHATPAY_APIS.filter((api) => gateway.forApi(api).api !== api);
  if (missing.length === 0) return [];
  const rows = await db
    .selectFrom('orders')
    .select(['wechatpay_api', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('wechatpay_api', 'in', missing)
    .where('status', 'in', OPEN_STATUSES)
    .groupBy('wechatpay_api')
    .execute();
  return rows.map((r) => ({ api: r.wechatpay_api, orders: Number(r.n) }));
}
