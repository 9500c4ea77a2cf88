/** How a timeline entry looks: its family (colour of the dot) and a short label. */
import type { Lang } from '../common/labels.js';

export type Tone = 'ok' | 'wait' | 'bad' | 'info' | 'muted';

const LABELS: Record<string, [zh: string, en: string]> = {
  'order.created': ['创建订单', 'Order created'],
  'order.pending': ['等待支付', 'Awaiting payment'],
  'order.paid': ['支付成功', 'Paid'],
  'order.failed': ['下单失败', 'Order failed'],
  'order.closing': ['关单中', 'Closing'],
  'order.closed': ['订单关闭', 'Closed'],
  'order.partially_refunded': ['部分退款', 'Partially refunded'],
  'order.refunded': ['全额退款', 'Refunded'],
  'prepay.requested': ['请求预支付', 'Prepay requested'],
  'prepay.succeeded': ['预支付成功', 'Prepay ok'],
  'prepay.failed': ['预支付失败', 'Prepay failed'],
  'payment.params_issued': ['下发支付参数', 'Payment parameters issued'],
  'notify.received': ['收到支付通知', 'Notify received'],
  'notify.rejected': ['拒绝支付通知', 'Notify rejected'],
  'notify.repeated': ['重复通知', 'Notify repeated'],
  'query.made': ['查单', 'Order query'],
  'close.requested': ['请求关单', 'Close requested'],
  'refund.requested': ['申请退款', 'Refund requested'],
  'refund.created': ['申请退款', 'Refund requested'],
  'refund.succeeded': ['退款成功', 'Refund succeeded'],
  'refund.failed': ['退款失败', 'Refund failed'],
  'webhook.delivered': ['Webhook 已送达', 'Webhook delivered'],
  'webhook.failed': ['Webhook 失败', 'Webhook failed'],
  'anomaly.detected': ['发现异常', 'Anomaly detected'],
  'anomaly.resolved': ['异常已解决', 'Anomaly resolved'],
};

export function timelineLabel(kind: string, lang: Lang): string {
  const names = LABELS[kind];
  if (!names) return kind;
  return lang === 'en' ? names[1] : names[0];
}

export function timelineTone(kind: string): Tone {
  if (/failed|rejected|anomaly\.detected/.test(kind)) return 'bad';
  if (/paid|succeeded|delivered|resolved|refunded/.test(kind)) return 'ok';
  if (/closed/.test(kind)) return 'muted';
  if (/pending|requested|repeated/.test(kind)) return 'wait';
  return 'info';
}

/** `data` as short text for the entry's details (nothing secret is in it, per the API). */
export function timelineData(data: unknown): string {
  if (data === null || data === undefined) return '';
  if (typeof data === 'object' && Object.keys(data as object).length === 0) return '';
  return JSON.stringify(data, null, 2);
}
