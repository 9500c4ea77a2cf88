/**
 * When a failed webhook delivery is tried again: exponential backoff with jitter for about a
 * day, then the delivery is dead-lettered (replayable from the admin API).
 *
 * Attempt n (n = 1 after the first failure) waits min(cap, base · 2^(n-1)) scaled by a jitter
 * factor in [0.5, 1] ("equal jitter": receivers that failed together do not retry together,
 * and no wait collapses to zero). A retry that would fall past `windowMs` after the first
 * attempt is not scheduled. With the defaults (30 s, cap 2 h, window 24 h) that is 19 to 31
 * attempts, 23 on average; Stripe retries for 3 days, WeChat's own notify for 24 h.
 */
export interface RetrySchedule {
  baseMs: number;
  capMs: number;
  windowMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: RetrySchedule = {
  baseMs: 30_000,
  capMs: 2 * 3600_000,
  windowMs: 24 * 3600_000,
};

/** A random number in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

/** The wait before retry number `failures` (1-based), jitter included. */
export function retryDelayMs(
  failures: number,
  schedule: RetrySchedule = DEFAULT_WEBHOOK_RETRY,
  random: Random = Math.random,
): number {
  if (!Number.isInteger(failures) || failures < 1) {
    throw new RangeError(`failures must be a positive integer, got ${failures}`);
  }
  // 2^30 already exceeds any sane cap; clamping the exponent avoids Infinity.
  const raw = Math.min(schedule.capMs, schedule.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(raw * (0.5 + 0.5 * random()));
}

/**
 * When to try again after `failures` failed attempts, or `null` when the delivery is dead:
 * the next attempt would be later than `firstAttemptAt + windowMs`.
 */
export function nextRetryAt(
  failures: number,
  firstAttemptAt: Date,
  now: Date,
  schedule: RetrySchedule = DEFAULT_WEBHOOK_RETRY,
  random: Random = Math.random,
): Date | null {
  const at = now.getTime() + retryDelayMs(failures, schedule, random);
  if (at > firstAttemptAt.getTime() + schedule.windowMs) return null;
  return new Date(at);
}

/** A schedule shrunk by `factor` (the sandbox's time scale in tests and demo mode). */
export function scaleSchedule(schedule: RetrySchedule, factor: number): RetrySchedule {
  if (!(factor > 0)) throw new RangeError('scale factor must be positive');
  return {
    baseMs: schedule.baseMs / factor,
    capMs: schedule.capMs / factor,
    windowMs: schedule.windowMs / factor,
  };
}
