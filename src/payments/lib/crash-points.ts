/**
 * Crash points for the reliability tests (test/reliability, RELIABILITY.md): with
 * MINIPAY_CRASH_AT=<point> in its environment, the process kills itself with SIGKILL when it
 * reaches that point, the way a power cut would: no finally blocks, no reply, no rollback but
 * the database's own. Inert unless the variable is set (one comparison per point).
 */

export const CRASH_POINTS = [
  /** Inside the PENDING → PAID transaction (notify or query), before COMMIT. */
  'order-paid-before-commit',
  /** After PENDING → PAID committed, before anyone hears about it (e.g. the notify reply). */
  'order-paid-after-commit',
  /** Checkout: the order is written CREATED, unifiedorder not yet sent. */
  'checkout-before-prepay',
  /** Checkout: unifiedorder answered with a prepay_id, the order still CREATED. */
  'checkout-after-prepay',
  /** Refund: the refund row is written and its amount reserved, WeChat not yet asked. */
  'refund-before-wechat',
  /** Refund: WeChat accepted the refund, the row still PENDING. */
  'refund-after-wechat',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = process.env.MINIPAY_CRASH_AT;

/** Whether MINIPAY_CRASH_AT names this point. */
export function crashPointArmed(point: CrashPoint): boolean {
  return armed === point;
}

/** Dies here, now, when MINIPAY_CRASH_AT names this point. */
export function crashPoint(point: CrashPoint): void {
  if (armed !== point) return;
  process.stderr.write(`minipay: MINIPAY_CRASH_AT=${point}: killing this process\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal is asynchronous: block until it lands so not one more line runs.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
