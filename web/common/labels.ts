/** Status names in Chinese and English, for badges on both pages. */
export type Lang = 'zh-CN' | 'en';

const STATUS: Record<string, [zh: string, en: string]> = {
  CREATED: ['已创建', 'Created'],
  PENDING: ['待支付', 'Pending'],
  CLOSING: ['取消中', 'Closing'],
  PAID: ['已支付', 'Paid'],
  PARTIALLY_REFUNDED: ['部分退款', 'Partially refunded'],
  REFUNDED: ['已退款', 'Refunded'],
  CLOSED: ['已关闭', 'Closed'],
  FAILED: ['失败', 'Failed'],
  PROCESSING: ['退款中', 'Processing'],
  SUCCESS: ['成功', 'Succeeded'],
  CHANGE: ['退款异常', 'Bank refused (CHANGE)'],
  REFUNDCLOSE: ['退款关闭', 'Refund closed'],
  pending: ['待投递', 'Pending'],
  delivered: ['已送达', 'Delivered'],
  failed: ['失败', 'Failed'],
  dead: ['已放弃', 'Dead'],
  open: ['未处理', 'Open'],
  resolved: ['已解决', 'Resolved'],
  AWAITING_SHIPMENT: ['待发货', 'Awaiting shipment'],
  UPLOADING: ['上传中', 'Uploading'],
  UPLOADED: ['已发货', 'Shipped'],
  matched: ['已对平', 'Matched'],
  differences: ['有差异', 'Differences'],
  running: ['对账中', 'Running'],
  waiting: ['等待账单', 'Waiting for the bill'],
  repaired: ['已修复', 'Repaired'],
  sent: ['已发送', 'Sent'],
  refused: ['被拒绝', 'Refused'],
  applied: ['已处理', 'Applied'],
  recorded: ['已记录', 'Recorded'],
};

export function statusLabel(status: string, lang: Lang): string {
  const names = STATUS[status];
  if (!names) return status;
  return lang === 'en' ? names[1] : names[0];
}

/** "已支付 Paid": the demo shows both languages at once. */
export function bilingualStatus(status: string): string {
  const names = STATUS[status];
  return names ? `${names[0]} ${names[1]}` : status;
}
