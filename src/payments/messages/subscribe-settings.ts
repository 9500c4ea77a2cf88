/** Which subscribe messages are sent, from configuration (docs/shipping.md, "Subscribe messages"). */
import type { MiniprogramState, TemplateFieldMapping } from '../../miniprogram-api/index.js';

export interface SubscribeTemplate {
  templateId: string;
  /** Template key → the name of a value minipay provides (`SUBSCRIBE_VALUES`). */
  fields: TemplateFieldMapping;
}

export interface SubscribeSettings {
  /** Sent when an order is paid. */
  paid?: SubscribeTemplate;
  /** Sent when a refund succeeds. */
  refunded?: SubscribeTemplate;
  /** The page the message opens, `?orderId=` added (none: no link). */
  page?: string;
  /** Which version of the mini program the link opens; WeChat's default is formal. */
  miniprogramState?: MiniprogramState;
}

/** The values a template can be filled with. */
export const SUBSCRIBE_VALUES = [
  'outTradeNo',
  'description',
  'productName',
  'totalFen',
  'paidAt',
  'refundFen',
  'refundedAt',
  'storeName',
] as const;
