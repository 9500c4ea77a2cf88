/**
 * One timer for "the next thing that falls due": it sleeps until the earliest due time (in
 * sandbox time) and wakes again whenever something new is scheduled or the clock jumps.
 */
import type { SandboxClock } from './clock.js';

/** setTimeout's largest delay; longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2_147_483_647;

export class DueTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly clock: SandboxClock,
    private readonly nextDue: () => number | undefined,
    private readonly runDue: () => void,
  ) {
    this.unsubscribe = clock.onAdvance(() => this.arm());
  }

  /** (Re)computes the next wake-up. Safe to call at any time. */
  arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.nextDue();
    if (due === undefined) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, due - this.clock.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.runDue();
      this.arm();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
