/**
 * Background jobs that work in batches take batch after batch in one run while the backlog
 * lasts, instead of one batch a run: at one batch of 100 events (or 50 webhooks) every 2 s a
 * shop paying more than 50 times a second never caught up. A run stops when a batch comes back
 * short (the backlog is gone), has errors, or the time budget is spent; between batches it
 * yields to requests.
 */
import type { RunSummary } from '../lib/run-summary.js';

export async function drainBatches(
  batch: () => Promise<RunSummary>,
  batchSize: number,
  budgetMs: number,
): Promise<RunSummary> {
  const total: RunSummary = { examined: 0, changed: 0, errors: 0 };
  const until = Date.now() + budgetMs;
  for (;;) {
    const run = await batch();
    total.examined += run.examined;
    total.changed += run.changed;
    total.errors += run.errors;
    if (run.examined < batchSize || run.errors > 0 || Date.now() >= until) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
