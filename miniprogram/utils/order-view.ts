/** An order as the pages show it: strings ready for WXML. */
import type { Order } from '../lib/minipay';
import { statusText, when, yuan } from './format';

export interface OrderView {
  id: string;
  outTradeNo: string;
  status: string;
  statusText: string;
  total: string;
  created: string;
  paid: string;
  expires: string;
  payable: boolean;
  summary: string;
  lines: { name: string; quantity: number; amount: string }[];
}

export function orderView(order: Order): OrderView {
  return {
    id: order.id,
    outTradeNo: order.outTradeNo,
    status: order.status,
    statusText: statusText(order.status),
    total: yuan(order.totalFen),
    created: when(order.createdAt),
    paid: when(order.paidAt),
    expires: when(order.expiresAt),
    payable: order.status === 'PENDING',
    summary: order.items.map((i) => `${i.name} × ${i.quantity}`).join(', '),
    lines: order.items.map((i) => ({
      name: i.name,
      quantity: i.quantity,
      amount: yuan(i.amountFen),
    })),
  };
}
