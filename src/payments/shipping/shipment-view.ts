/** A shipment's row as the contract's Shipment (docs/shipping.md). */
import type { Selectable } from 'kysely';
import type {
  LogisticsType,
  Parcel,
  Shipment,
  ShipmentKind,
  ShipmentStatus,
} from '../../contract/index.js';
import type { ShipmentsTable } from '../../store/schema.js';

export type ShipmentRow = Selectable<ShipmentsTable>;

export function shipmentView(s: ShipmentRow): Shipment {
  return {
    orderId: s.order_id,
    kind: s.kind as ShipmentKind,
    status: s.status as ShipmentStatus,
    logisticsType: s.logistics_type as LogisticsType | null,
    parcels: JSON.parse(s.parcels) as Parcel[],
    attempts: s.attempts,
    nextAttemptAt: s.next_attempt_at,
    lastError:
      s.last_error_code === null ? null : { code: s.last_error_code, message: s.last_error ?? '' },
    uploadedAt: s.uploaded_at,
    receiptConfirmedAt: s.receipt_confirmed_at,
    settledAt: s.settled_at,
    correctedAt: s.corrected_at,
    receiptRemindedAt: s.receipt_reminded_at,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
  };
}
