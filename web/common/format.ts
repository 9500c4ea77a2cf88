/** Display helpers shared by the demo and the console. Money is integer fen everywhere. */

/** 12345 → "¥123.45" (no floating point: fen are split with integer arithmetic). */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** 1/1000 fen (bill fees) → "¥0.04000", five decimals as WeChat's bills write them. */
export function yuanMilli(milliFen: number): string {
  const sign = milliFen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(milliFen));
  return `${sign}¥${Math.floor(abs / 100_000)}.${String(abs % 100_000).padStart(5, '0')}`;
}

/** "123.45" or "123" typed by a person → fen; undefined when it is not an amount. */
export function parseYuan(text: string): number | undefined {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** A UTC ISO time shown in Beijing time (the merchants' clock): "2026-11-22 16:00:05". */
export function beijingTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
}

/** The CSS class of a status badge (the colours are in web/common/base.css). */
export function statusTone(status: string): string {
  switch (status) {
    case 'PAID':
    case 'SUCCESS':
    case 'delivered':
    case 'resolved':
    case 'UPLOADED':
    case 'matched':
    case 'repaired':
    case 'sent':
    case 'applied':
      return 'badge ok';
    case 'PENDING':
    case 'CLOSING':
    case 'CREATED':
    case 'PROCESSING':
    case 'pending':
    case 'PARTIALLY_REFUNDED':
    case 'AWAITING_SHIPMENT':
    case 'UPLOADING':
    case 'running':
    case 'waiting':
      return 'badge wait';
    case 'REFUNDED':
    case 'CLOSED':
    case 'recorded':
      return 'badge muted';
    default:
      return 'badge bad';
  }
}
