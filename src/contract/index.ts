/**
 * The HTTP API's contract (docs/http-api.md), written once: TypeBox schemas that the server
 * validates with and publishes as OpenAPI, and their TypeScript types (`Static<>`), which the
 * domain produces and the client library and the web pages read (`import type`). The status
 * lists are in statuses.ts, which imports nothing, for code that must not load TypeBox.
 */

import { Anomaly } from './anomalies.js';
import { ErrorBody } from './common.js';
import { AdminOrder, Order, PaymentParams } from './orders.js';
import { Product } from './products.js';
import { ReconciliationItem, ReconciliationRun } from './reconciliation.js';
import { Refund } from './refunds.js';
import { Shipment } from './shipping.js';
import { Delivery } from './webhooks.js';

export * from './admin.js';
export * from './anomalies.js';
export { ErrorBody, errorResponses, IdParams } from './common.js';
export * from './messages.js';
export * from './orders.js';
export * from './products.js';
export * from './profile.js';
export * from './pushes.js';
export * from './reconciliation.js';
export * from './refunds.js';
export * from './session.js';
export * from './shipping.js';
export * from './statuses.js';
export * from './webhooks.js';

/** The schemas other schemas `ref()`: registered once with the server, OpenAPI components. */
export const COMPONENTS = [
  ErrorBody,
  Product,
  Order,
  AdminOrder,
  PaymentParams,
  Refund,
  Anomaly,
  Delivery,
  Shipment,
  ReconciliationRun,
  ReconciliationItem,
] as const;
