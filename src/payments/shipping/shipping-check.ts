/**
 * The shipping check (docs/shipping.md): pages through WeChat's unshipped orders (get_order_list,
 * order_state 1 待发货) paid in the last days and reports each that minipay does not know (a
 * payment of another system, or of another merchant on the same mini program) or thinks
 * shipped (an upload WeChat has not kept). Reads only; an admin acts on the findings.
 */
import type { ShippingCheck } from '../../contract/index.js';
import { MiniProgramApiError, type ShippingOrder } from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import { DomainError } from '../lib/errors.js';
import type { MiniProgramPlatform } from '../platform/platform.js';
import { findShipment } from './shipments-repo.js';

const DAY_MS = 24 * 3600_000;
const PAGE_SIZE = 100;
/** At most this many pages a run (10,000 unshipped orders); `complete` says if it stopped. */
const MAX_PAGES = 100;
const TO_BE_SHIPPED = 1;

type Finding = ShippingCheck['findings'][number];

export async function checkShipping(
  ctx: PaymentsContext,
  platform: MiniProgramPlatform,
  days: number,
): Promise<ShippingCheck> {
  const to = ctx.clock();
  const from = new Date(to.getTime() - days * DAY_MS);
  const findings: Finding[] = [];
  let examined = 0;
  let lastIndex: string | undefined;
  let pages = 0;
  do {
    const page = await listPage(platform, { from, to, lastIndex });
    pages++;
    for (const order of page.orders) {
      examined++;
      const finding = await compare(ctx, order);
      if (finding) findings.push(finding);
    }
    lastIndex = page.hasMore ? page.lastIndex : undefined;
  } while (lastIndex !== undefined && pages < MAX_PAGES);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    examined,
    complete: lastIndex === undefined,
    findings,
  };
}

async function listPage(
  platform: MiniProgramPlatform,
  q: { from: Date; to: Date; lastIndex: string | undefined },
) {
  try {
    return await platform.getOrderList({
      paidFrom: q.from,
      paidTo: q.to,
      state: TO_BE_SHIPPED,
      pageSize: PAGE_SIZE,
      ...(q.lastIndex !== undefined && { lastIndex: q.lastIndex }),
    });
  } catch (err) {
    if (!(err instanceof MiniProgramApiError)) throw err;
    throw new DomainError(502, `WECHAT_${err.code}`, err.message);
  }
}

/** What is wrong with WeChat's unshipped order on minipay's side, if anything. */
async function compare(ctx: PaymentsContext, order: ShippingOrder): Promise<Finding | undefined> {
  const ours = await ctx.db
    .selectFrom('orders')
    .select('id')
    .where('transaction_id', '=', order.transactionId)
    .executeTakeFirst();
  const base = {
    transactionId: order.transactionId,
    merchantId: order.merchantId,
    merchantTradeNo: order.merchantTradeNo,
    paidAt: order.payTime?.toISOString() ?? null,
  };
  if (!ours) return { problem: 'unknown_order', ...base, orderId: null };
  const shipment = await findShipment(ctx.db, ours.id);
  if (shipment?.status === 'UPLOADED') {
    return { problem: 'shipped_in_minipay', ...base, orderId: ours.id };
  }
  return undefined;
}
