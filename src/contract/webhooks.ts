/** Webhook deliveries (docs/webhooks.md): one row per event and URL, until delivered or dead. */
import { type Static, Type } from 'typebox';
import { checkedPageQuery, DateTime, Nullable, OneOf, Page, ref } from './common.js';
import { DELIVERY_STATUSES } from './statuses.js';

export const Delivery = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    /** Query string and credentials redacted. */
    url: Type.String(),
    status: OneOf(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    lastAttemptAt: Nullable(DateTime()),
    nextAttemptAt: Nullable(DateTime()),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    createdAt: DateTime(),
  },
  { $id: 'Delivery' },
);
export type Delivery = Static<typeof Delivery>;

export const DeliveryListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 100 })),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...checkedPageQuery,
  },
  { additionalProperties: false },
);
export type DeliveryListQuery = Static<typeof DeliveryListQuery>;

export const DeliveryList = Page('deliveries', ref(Delivery));
export type DeliveryList = Static<typeof DeliveryList>;

export const DeliveryAnswer = Type.Object({ delivery: ref(Delivery) });
export type DeliveryAnswer = Static<typeof DeliveryAnswer>;
