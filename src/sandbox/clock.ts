/**
 * The sandbox's notion of "now": real time plus an offset that only grows. Tests (and people)
 * move it forward with `POST /sandbox/v1/clock` to reach prepay expiry, code expiry or the next
 * day's bill without waiting; scheduled deliveries that become due run at once.
 */
export class SandboxClock {
  private offsetMs: number;
  private readonly listeners = new Set<() => void>();

  constructor(
    offsetMs = 0,
    private readonly realNow: () => number = Date.now,
  ) {
    this.offsetMs = offsetMs;
  }

  /** Milliseconds since the epoch, in sandbox time. */
  now(): number {
    return this.realNow() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Moves sandbox time forward (never back: WeChat's clock does not go backwards). */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new RangeError('the clock only moves forward by a whole number of milliseconds');
    }
    this.offsetMs += ms;
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every `advance`; returns a function that removes it. */
  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
