/**
 * At most one WeChat query per order in `intervalMs`, in this process: `?sync=1` asked in
 * between (or while the first query runs) is answered from the store. On the domain's clock,
 * so tests move it; at most `maxOrders` remembered (the oldest forgotten first).
 */
export class QueryThrottle {
  /** Order id → when WeChat was last asked, oldest first (Map keeps insertion order). */
  private readonly asked = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => Date,
    private readonly maxOrders = 10_000,
  ) {}

  /** True when the caller may ask WeChat about `orderId` now; the ask is then recorded. */
  take(orderId: string): boolean {
    const now = this.clock().getTime();
    const last = this.asked.get(orderId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.asked.delete(orderId);
    this.asked.set(orderId, now);
    this.forget(now);
    return true;
  }

  private forget(now: number): void {
    for (const [id, at] of this.asked) {
      if (now - at < this.intervalMs && this.asked.size <= this.maxOrders) return;
      this.asked.delete(id);
    }
  }
}
