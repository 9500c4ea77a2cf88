/** Anomalies: what must not happen and a person has to look at (docs/http-api.md "Admin API"). */
import { type Static, Type } from 'typebox';
import { DateTime, FreeForm, filter, Nullable, OneOf, Page, pageQuery, ref } from './common.js';
import { ANOMALY_STATUSES } from './statuses.js';

export const Anomaly = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    orderId: Nullable(Type.String()),
    outTradeNo: Nullable(Type.String()),
    detail: FreeForm('what was seen (free-form JSON, no secrets)'),
    status: OneOf(ANOMALY_STATUSES),
    createdAt: DateTime(),
    resolvedAt: Nullable(DateTime()),
    resolution: Nullable(Type.String()),
  },
  { $id: 'Anomaly' },
);
export type Anomaly = Static<typeof Anomaly>;

export const AnomalyListQuery = Type.Object(
  { status: filter(16, 'open or resolved'), ...pageQuery },
  { additionalProperties: false },
);
export type AnomalyListQuery = Static<typeof AnomalyListQuery>;

export const AnomalyList = Page('anomalies', ref(Anomaly));
export type AnomalyList = Static<typeof AnomalyList>;

export const ResolveBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 1000, description: 'what was done about it' }) },
  { additionalProperties: false },
);
export type ResolveBody = Static<typeof ResolveBody>;

export const AnomalyAnswer = Type.Object({ anomaly: ref(Anomaly) });
export type AnomalyAnswer = Static<typeof AnomalyAnswer>;
