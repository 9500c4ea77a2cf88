/** How background jobs are run: in-process timers on SQLite, pg-boss on PostgreSQL. */
import type { Store } from '../store/index.js';
import { PgBossRunner } from './pg-boss-runner.js';
import type { JobHooks, JobRunner } from './runner.js';
import { TimerRunner } from './timer-runner.js';

export { migrateJobQueue, PgBossRunner } from './pg-boss-runner.js';
export type { Job, JobHooks, JobRunner } from './runner.js';
export { TimerRunner } from './timer-runner.js';

/**
 * pg-boss on PostgreSQL, timers on SQLite. `migrate: false`: pg-boss only checks that its
 * schema is current (`minipay migrate` installs it) instead of creating or upgrading it.
 */
export function createRunner(
  store: Store,
  databaseUrl: string,
  hooks: JobHooks,
  options: { migrate?: boolean } = {},
): JobRunner {
  return store.dialect === 'postgres'
    ? new PgBossRunner(databaseUrl, hooks, undefined, options.migrate ?? true)
    : new TimerRunner(hooks);
}
