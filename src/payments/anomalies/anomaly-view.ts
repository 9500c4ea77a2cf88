/** An anomaly's row as the contract's Anomaly (docs/http-api.md "Admin API"). */
import type { Selectable } from 'kysely';
import type { Anomaly } from '../../contract/index.js';
import type { AnomaliesTable } from '../../store/schema.js';

export type AnomalyRow = Selectable<AnomaliesTable>;

export function anomalyView(row: AnomalyRow): Anomaly {
  return {
    id: row.id,
    kind: row.kind,
    orderId: row.order_id,
    outTradeNo: row.out_trade_no,
    detail: parseJsonObject(row.detail),
    status: row.status === 'resolved' ? 'resolved' : 'open',
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
    resolution: row.resolution,
  };
}

/** A stored JSON object; anything else (never expected) comes back as `{ value }`. */
export function parseJsonObject(text: string | null): Record<string, unknown> {
  if (text === null || text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value };
  } catch {
    return { value: text };
  }
}
