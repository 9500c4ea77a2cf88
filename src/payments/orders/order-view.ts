/** The public shape of an order (docs/http-api.md "Order"), built from its rows. */
import type { Selectable } from 'kysely';
import type { OrderItemsTable, OrderStatus, OrdersTable } from '../../store/schema.js';

export type OrderRow = Selectable<OrdersTable>;
export type OrderItemRow = Selectable<OrderItemsTable>;

export interface OrderItemView {
  productId: string;
  name: string;
  unitPriceFen: number;
  quantity: number;
  amountFen: number;
}

export interface OrderView {
  id: string;
  outTradeNo: string;
  status: OrderStatus;
  description: string;
  totalFen: number;
  currency: string;
  items: OrderItemView[];
  attach: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  paidAt: string | null;
  closedAt: string | null;
  transactionId: string | null;
  refundedFen: number;
  failure: { code: string; message: string } | null;
}

/** Admin answers add who ordered, whether the money must go back, and why it was closed. */
export interface AdminOrderView extends OrderView {
  openid: string;
  userId: string;
  refundRequired: boolean;
  /** CLOSING and CLOSED orders: cancelled, expired, admin or closed_by_wechat. */
  closeReason: string | null;
}

export function orderView(order: OrderRow, items: OrderItemRow[]): OrderView {
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

export function adminOrderView(order: OrderRow, items: OrderItemRow[]): AdminOrderView {
  return {
    ...orderView(order, items),
    openid: order.openid,
    userId: order.user_id,
    refundRequired: order.refund_required === 1,
    closeReason: order.close_reason,
  };
}
