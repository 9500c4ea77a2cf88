/** What one run of a background job did, and the loop every batch job runs its rows through. */

export interface RunSummary {
  /** Rows the run looked at. */
  examined: number;
  /** Rows it moved on (a status changed, an event dispatched, a webhook delivered). */
  changed: number;
  /** Rows whose step failed; the next run tries them again. */
  errors: number;
}

export const emptySummary = (): RunSummary => ({ examined: 0, changed: 0, errors: 0 });

/**
 * Takes `step` on each row in turn: a row whose step resolves true counts as changed, one that
 * throws as an error (`failed` logs it) without stopping the run. `unchanged` runs after a row
 * that did not move on, failed or not (the job schedules its next look at it).
 */
export async function runEach<R>(
  rows: readonly R[],
  step: (row: R) => Promise<boolean>,
  on: { failed: (err: unknown, row: R) => void; unchanged?: (row: R) => Promise<void> },
): Promise<RunSummary> {
  const summary: RunSummary = { ...emptySummary(), examined: rows.length };
  for (const row of rows) {
    try {
      if (await step(row)) {
        summary.changed++;
        continue;
      }
    } catch (err) {
      summary.errors++;
      on.failed(err, row);
    }
    await on.unchanged?.(row);
  }
  return summary;
}
