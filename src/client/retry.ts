/** When and how long the client waits before trying a request again. */

export interface RetryPolicy {
  /** Tries in all, the first included (1 = never retry). */
  attempts: number;
  /** Wait before the first retry; doubles each time. */
  baseDelayMs: number;
  /** The longest wait between two tries. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 300, maxDelayMs: 3000 };

/** Checks a caller's policy and fills the defaults; throws a RangeError that says what is wrong. */
export function retryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...partial };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1 || policy.attempts > 10) {
    throw new RangeError('retry.attempts must be a whole number from 1 to 10');
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0 || policy[name] > 60_000) {
      throw new RangeError(`retry.${name} must be from 0 to 60000 ms`);
    }
  }
  return policy;
}

/**
 * The wait before retry number `retry` (1 = the first retry): exponential, capped, with
 * jitter in [50%, 100%] so many phones that lost the network together do not come back
 * together.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const exponential = policy.baseDelayMs * 2 ** (retry - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (0.5 + random() / 2));
}

/** Answers worth trying again: the server was busy, overloaded or could not reach WeChat. */
export function isRetryableStatus(status: number, code: string | undefined): boolean {
  if (status === 409) return code === 'IDEMPOTENCY_IN_PROGRESS';
  return status === 429 || status >= 500;
}
