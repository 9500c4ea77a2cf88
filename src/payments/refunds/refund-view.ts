/** The public shape of a refund (docs/http-api.md "Refund"), built from its row. */
import type { Selectable } from 'kysely';
import type { RefundsTable } from '../../store/schema.js';

export type RefundRow = Selectable<RefundsTable>;

/**
 * PENDING: recorded, WeChat not yet known to have it (also while WeChat refuses it for now:
 * `retry` says why and when it is asked again); PROCESSING: accepted by WeChat (or the
 * request's answer was lost); SUCCESS / CHANGE / REFUNDCLOSE: WeChat's outcome; FAILED: WeChat
 * refused the request outright, or an admin gave it up.
 */
export type RefundStatus =
  | 'PENDING'
  | 'PROCESSING'
  | 'SUCCESS'
  | 'CHANGE'
  | 'REFUNDCLOSE'
  | 'FAILED';

export const REFUND_STATUSES: readonly RefundStatus[] = [
  'PENDING',
  'PROCESSING',
  'SUCCESS',
  'CHANGE',
  'REFUNDCLOSE',
  'FAILED',
];

/** `minipay`: asked for through minipay; `merchant_portal`: made outside, learnt by notify. */
export type RefundSource = 'minipay' | 'merchant_portal';

export interface RefundView {
  id: string;
  orderId: string;
  outRefundNo: string;
  refundId: string | null;
  amountFen: number;
  reason: string | null;
  status: RefundStatus;
  source: RefundSource;
  createdAt: string;
  updatedAt: string;
  succeededAt: string | null;
  failure: { code: string; message: string } | null;
  /** Why a PENDING refund waits (WeChat refused it for now) and when it is sent again. */
  retry: { code: string; message: string; attempts: number; nextAttemptAt: string | null } | null;
}

export function refundView(r: RefundRow): RefundView {
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
