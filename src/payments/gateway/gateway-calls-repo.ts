/** The gateway calls repository: one `gateway_calls` row per call to WeChat about an order. */
import { preparedQuery } from '../../store/prepared-query.js';
import type { Db } from '../lib/db.js';

/** A `gateway_calls` row. */
export type GatewayCallRow = {
  id: string;
  order_id: string | null;
  operation: string;
  outcome: string;
  detail: string;
  duration_ms: number;
  created_at: string;
};

/** Writes a call's row (in the caller's transaction, when `db` is one: a failure fails it). */
export async function writeGatewayCall(db: Db, record: GatewayCallRow): Promise<void> {
  await insertCall(db, record);
}

const insertCall = preparedQuery<GatewayCallRow, never>((db, p) =>
  db.insertInto('gateway_calls').values({
    id: p('id'),
    order_id: p('order_id'),
    operation: p('operation'),
    outcome: p('outcome'),
    detail: p('detail'),
    duration_ms: p('duration_ms'),
    created_at: p('created_at'),
  }),
);
