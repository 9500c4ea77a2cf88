/**
 * The ship form's state and the request it makes (POST /admin/v1/orders/:id/ship, or
 * …/shipment/correct with the same body): express
 * takes a courier and tracking number per parcel (several parcels: WeChat's split delivery),
 * same-city and pick-up one parcel without them. The server checks everything again.
 */
import type { ShipBody, Shipment } from './admin-api.js';
import type { MessageKey } from './i18n.js';

export interface ParcelForm {
  expressCompany: string;
  trackingNo: string;
  receiverPhone: string;
  itemDesc: string;
}

export interface ShipForm {
  logisticsType: ShipBody['logisticsType'];
  parcels: ParcelForm[];
}

/** WeChat takes at most 15 parcels. */
export const MAX_PARCELS = 15;

export function newParcel(): ParcelForm {
  return { expressCompany: '', trackingNo: '', receiverPhone: '', itemDesc: '' };
}

export function newShipForm(): ShipForm {
  return { logisticsType: 'express', parcels: [newParcel()] };
}

/**
 * The form filled with what WeChat has, to correct it. The receiver's phone is stored masked,
 * so SF needs it typed again.
 */
export function shipFormFrom(shipment: Shipment): ShipForm {
  const type = shipment.logisticsType;
  return {
    logisticsType: type === 'same-city' || type === 'pick-up' ? type : 'express',
    parcels: shipment.parcels.map((p) => ({
      expressCompany: p.expressCompany ?? '',
      trackingNo: p.trackingNo ?? '',
      receiverPhone: '',
      itemDesc: p.itemDesc,
    })),
  };
}

export type ShipRequest = { ok: true; body: ShipBody } | { ok: false; problem: MessageKey };

export function shipRequest(form: ShipForm): ShipRequest {
  const express = form.logisticsType === 'express';
  const parcels = express ? form.parcels : form.parcels.slice(0, 1);
  if (express && parcels.some((p) => !p.expressCompany || !p.trackingNo.trim())) {
    return { ok: false, problem: 'noCourier' };
  }
  return {
    ok: true,
    body: {
      logisticsType: form.logisticsType,
      parcels: parcels.map((p) => ({
        ...(express && { expressCompany: p.expressCompany, trackingNo: p.trackingNo.trim() }),
        ...(p.receiverPhone.trim() && { receiverPhone: p.receiverPhone.trim() }),
        ...(p.itemDesc.trim() && { itemDesc: p.itemDesc.trim() }),
      })),
    },
  };
}
