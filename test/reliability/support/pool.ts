/** Runs `work` over `items` with at most `limit` in flight; resolves to the results in order. */
export async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Milliseconds between two `performance.now()` readings, rounded. */
export const elapsedMs = (since: number) => Math.round(performance.now() - since);
