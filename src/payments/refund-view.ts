/** The public shape of a refund (docs/http-api.md "Refund"), built from its row. */
import type { Selectable } from 'kysely';
import type { RefundsTable } from '../store/schema.js';

export type RefundRow = Selectable<RefundsTable>;

export interface RefundView {
  id: string;
  orderId: string;
  outRefundNo: string;
  refundId: string | null;
  amountFen: number;
  reason: string | null;
  status: string;
  source: string;
  createdAt: string;
  succeededAt: string | null;
  failure: { code: string; message: string } | null;
}

export function refundView(row: RefundRow): RefundView {
  return {
    id: row.id,
    orderId: row.order_id,
    outRefundNo: row.out_refund_no,
    refundId: row.refund_id,
    amountFen: row.amount_fen,
    reason: row.reason,
    status: row.status,
    source: row.source,
    createdAt: row.created_at,
    succeededAt: row.succeeded_at,
    failure:
      row.failure_code === null
        ? null
        : { code: row.failure_code, message: row.failure_message ?? '' },
  };
}
