/**
 * Background jobs: named, periodic, never overlapping with themselves. Two runners behind one
 * interface: in-process timers (SQLite: one process owns the database) and pg-boss
 * (PostgreSQL: several instances share the work without doing it twice).
 */
import type { Logger } from 'pino';

export interface Job {
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
}

export interface JobRunner {
  readonly kind: 'timers' | 'pg-boss';
  start(jobs: Job[]): Promise<void>;
  /** Stops scheduling and waits for running jobs to finish. */
  stop(): Promise<void>;
}

export interface JobHooks {
  logger: Logger;
  /** Called after every run: `ok` or `error`. */
  onRun?(job: string, outcome: 'ok' | 'error'): void;
}

/** Runs a job once, logging and reporting the outcome; never throws. */
export async function runJob(job: Job, hooks: JobHooks): Promise<void> {
  try {
    const result = await job.run();
    hooks.logger.debug({ job: job.name, result }, 'job ran');
    hooks.onRun?.(job.name, 'ok');
  } catch (err) {
    hooks.logger.error({ err, job: job.name }, 'job failed');
    hooks.onRun?.(job.name, 'error');
  }
}
