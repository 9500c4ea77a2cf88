/** The gateway of the API an order was made with, for calls that start from a refund. */
import type { PaymentsContext } from '../context.js';
import type { PaymentGateway } from './gateway.js';

export async function gatewayOfOrder(
  ctx: PaymentsContext,
  orderId: string,
): Promise<PaymentGateway> {
  const row = await ctx.db
    .selectFrom('orders')
    .select('wechatpay_api')
    .where('id', '=', orderId)
    .executeTakeFirst();
  return ctx.gateway.forApi(row?.wechatpay_api ?? ctx.gateway.api);
}
