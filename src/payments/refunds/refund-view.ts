/** A refund's row as the contract's Refund (docs/http-api.md "Refund"). */
import type { Selectable } from 'kysely';
import type { Refund, RefundSource, RefundStatus } from '../../contract/index.js';
import type { RefundsTable } from '../../store/schema.js';

export type RefundRow = Selectable<RefundsTable>;

export function refundView(r: RefundRow): Refund {
  return {
    id: r.id,
    orderId: r.order_id,
    outRefundNo: r.out_refund_no,
    refundId: r.refund_id,
    amountFen: r.amount_fen,
    reason: r.reason,
    status: r.status as RefundStatus,
    source: r.source as RefundSource,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    succeededAt: r.succeeded_at,
    failure:
      r.failure_code === null ? null : { code: r.failure_code, message: r.failure_message ?? '' },
    retry:
      r.status !== 'PENDING' || r.retry_code === null
        ? null
        : {
            code: r.retry_code,
            message: r.retry_message ?? '',
            attempts: r.query_attempts,
            nextAttemptAt: r.next_query_at,
          },
  };
}
