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

/** How a message WeChat could not take for now is sent again: settings of the domain, shrunk by tests. */
export interface SubscribeRetry {
  /** Attempts before the message is given up (outcome failed). Default 8. */
  maxAttempts: number;
  /** The wait after the first failed attempt, doubled each time. Default 30 s. */
  retryBaseMs: number;
  /** The longest wait between attempts. Default 30 minutes. */
  retryCapMs: number;
}

/** Eight attempts over about an hour: a payment notice much later than that is no news. */
export const DEFAULT_SUBSCRIBE_RETRY: SubscribeRetry = {
  maxAttempts: 8,
  retryBaseMs: 30_000,
  retryCapMs: 30 * 60_000,
};
