/** An order's rows as the contract's Order and AdminOrder (docs/http-api.md "Order"). */
import type { Selectable } from 'kysely';
import type { AdminOrder, Order } from '../../contract/index.js';
import type { OrderItemsTable, OrdersTable } from '../../store/schema.js';

export type OrderRow = Selectable<OrdersTable>;
export type OrderItemRow = Selectable<OrderItemsTable>;

export function orderView(order: OrderRow, items: OrderItemRow[]): Order {
  return {
    id: order.id,
    outTradeNo: order.out_trade_no,
    status: order.status,
    description: order.description,
    totalFen: order.total_fen,
    currency: order.currency,
    items: [...items]
      .sort((a, b) => a.line_no - b.line_no)
      .map((i) => ({
        productId: i.product_id,
        name: i.name,
        unitPriceFen: i.unit_price_fen,
        quantity: i.quantity,
        amountFen: i.amount_fen,
      })),
    attach: order.attach,
    createdAt: order.created_at,
    updatedAt: order.updated_at,
    expiresAt: order.expires_at,
    paidAt: order.paid_at,
    closedAt: order.closed_at,
    transactionId: order.transaction_id,
    refundedFen: order.refunded_fen,
    failure:
      order.failure_code === null
        ? null
        : { code: order.failure_code, message: order.failure_message ?? '' },
  };
}

export function adminOrderView(order: OrderRow, items: OrderItemRow[]): AdminOrder {
  return {
    ...orderView(order, items),
    openid: order.openid,
    userId: order.user_id,
    refundRequired: order.refund_required === 1,
    closeReason: order.close_reason,
  };
}
