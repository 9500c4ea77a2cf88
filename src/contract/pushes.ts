/**
 * The pushes WeChat sent to `/wechat/v1/events` about an order (admin API, docs/shipping.md
 * "Message push"): the trade-management events, as received and what minipay did with them.
 */
import { type Static, Type } from 'typebox';
import { DateTime } from './common.js';

export const WechatPushEntry = Type.Object({
  id: Type.String(),
  /** WeChat's `Event`, e.g. `trade_manage_order_settlement`. */
  event: Type.String(),
  /** applied (it changed the order's shipment), recorded (nothing to do). */
  outcome: Type.Union([Type.Literal('applied'), Type.Literal('recorded')]),
  /** The message as WeChat sent it, decrypted (XML or JSON). */
  message: Type.String(),
  /** WeChat's `timestamp`. */
  sentAt: DateTime(),
  receivedAt: DateTime(),
});
export type WechatPushEntry = Static<typeof WechatPushEntry>;

export const WechatPushList = Type.Object({ pushes: Type.Array(WechatPushEntry) });
export type WechatPushList = Static<typeof WechatPushList>;
