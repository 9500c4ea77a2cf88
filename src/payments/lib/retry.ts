/** The one retry loop of the domain: the same call again while it fails in a way worth retrying. */

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** The wait after the first failure, doubled after each next one; 0: none. */
  delayMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `call` until it succeeds, throws what `retryable` refuses, or has been called
 * `policy.attempts` times; the last failure is thrown.
 */
export async function retrying<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  retryable: (err: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.attempts || !retryable(err)) throw err;
      if (policy.delayMs > 0) await sleep(policy.delayMs * 2 ** (attempt - 1));
    }
  }
}
