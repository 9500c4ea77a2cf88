/**
 * The subscribe messages minipay sent, or tries to send, on payment and refund (admin API,
 * docs/http-api.md): one per event, with WeChat's answer or why it is sent again.
 */
import { type Static, Type } from 'typebox';
import { DateTime, Failure, filter, Nullable, OneOf, Page, pageQuery } from './common.js';
import { SUBSCRIBE_KINDS, SUBSCRIBE_OUTCOMES } from './statuses.js';

export const SubscribeMessageEntry = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  kind: OneOf(SUBSCRIBE_KINDS),
  templateId: Type.String(),
  outcome: OneOf(SUBSCRIBE_OUTCOMES),
  /** Attempts made so far. */
  attempts: Type.Integer(),
  /** When the next attempt is due (pending only). */
  nextAttemptAt: Nullable(DateTime()),
  /** WeChat's errcode (or minipay's code) and what it means: why it was not sent, or not yet. */
  result: Nullable(Failure()),
  createdAt: DateTime(),
  updatedAt: Nullable(DateTime()),
});
export type SubscribeMessageEntry = Static<typeof SubscribeMessageEntry>;

export const SubscribeMessageQuery = Type.Object(
  {
    outcome: Type.Optional(OneOf(SUBSCRIBE_OUTCOMES)),
    orderId: filter(64, "one order's messages"),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type SubscribeMessageQuery = Static<typeof SubscribeMessageQuery>;

export const SubscribeMessageList = Page('messages', SubscribeMessageEntry);
export type SubscribeMessageList = Static<typeof SubscribeMessageList>;
