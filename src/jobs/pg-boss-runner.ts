/**
 * Job runner on PostgreSQL with pg-boss: every instance offers a job each interval with a
 * singleton slot (`singletonSeconds`), so one job per slot exists however many instances run;
 * the queue's `singleton` policy keeps one run active at a time. Any instance may work it.
 */
import { hostname } from 'node:os';
import PgBoss from 'pg-boss';
import { type Job, type JobHooks, type JobRunner, runJob } from './runner.js';

const JOB_SCHEMA = 'minipay_jobs';

/** Stored as each job's output: which instance ran it (`minipay_jobs.job.output`). */
const INSTANCE = `${hostname()}:${process.pid}`;

/** Creates or upgrades pg-boss's schema (part of `minipay migrate` on PostgreSQL). */
export async function migrateJobQueue(connectionString: string): Promise<void> {
  const boss = new PgBoss({
    connectionString,
    schema: JOB_SCHEMA,
    max: 2,
    schedule: false,
    supervise: false,
    migrate: true,
  });
  boss.on('error', () => undefined);
  await startOrClose(boss);
  await boss.stop({ graceful: false, wait: true });
}

/**
 * Starts pg-boss; when start fails, closes the pool it opened (its stop() does nothing before
 * a successful start, and the idle connections would keep the process alive).
 */
async function startOrClose(boss: PgBoss): Promise<void> {
  try {
    await boss.start();
  } catch (err) {
    await (boss.getDb() as unknown as { close(): Promise<void> }).close().catch(() => undefined);
    throw err;
  }
}

export class PgBossRunner implements JobRunner {
  readonly kind = 'pg-boss';
  private readonly boss: PgBoss;
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;

  constructor(
    connectionString: string,
    private readonly hooks: JobHooks,
    jobCount = 12,
    migrate = true,
  ) {
    // One connection per worker and room for pg-boss's own queries: a worker whose fetch waits
    // for a connection when stop() ends the pool never finishes (pg-pool drops its waiters),
    // and pg-boss then polls for it every second forever, keeping the process alive.
    const max = jobCount + 4;
    this.boss = new PgBoss({ connectionString, schema: JOB_SCHEMA, max, schedule: false, migrate });
    this.boss.on('error', (err) => hooks.logger.error({ err }, 'pg-boss error'));
  }

  /** Creates the job's queue, or brings an existing one to these settings. */
  private async ensureQueue(queue: PgBoss.Queue): Promise<void> {
    const existing = await this.boss.getQueue(queue.name);
    if (!existing) await this.boss.createQueue(queue.name, queue);
    else if (
      existing.policy !== queue.policy ||
      existing.expireInSeconds !== queue.expireInSeconds
    ) {
      await this.boss.updateQueue(queue.name, queue);
    }
  }

  async start(jobs: Job[]): Promise<void> {
    try {
      await startOrClose(this.boss);
    } catch (err) {
      if (/not installed|requires migrations/.test((err as Error).message)) {
        throw new Error(
          `the job queue's schema (pg-boss, ${JOB_SCHEMA}) is missing or older than this minipay, and MINIPAY_MIGRATE=off keeps start-up from creating it. Run \`minipay migrate\` once with this version, then start.`,
          { cause: err },
        );
      }
      throw err;
    }
    this.started = true;
    for (const job of jobs) {
      const seconds = Math.max(1, Math.round(job.intervalMs / 1000));
      // A run cut short by a SIGKILLed instance stays active until it expires, and the singleton
      // queue starts no other run of that job meanwhile: expire it after ten intervals (1–15 min).
      const queue = {
        name: job.name,
        policy: 'singleton' as const,
        expireInSeconds: Math.min(15 * 60, Math.max(60, seconds * 10)),
      };
      await retryOnDeadlock(() => this.ensureQueue(queue));
      await this.boss.work(job.name, { pollingIntervalSeconds: Math.min(seconds, 2) }, async () => {
        // When the run itself began and ended: pg-boss's started_on is its fetch transaction's
        // start, which can precede the commit of the run before it that the fetch waited for.
        const ranFrom = new Date().toISOString();
        await runJob(job, this.hooks);
        return { instance: INSTANCE, ranFrom, ranTo: new Date().toISOString() };
      });
      const offer = () => {
        this.boss
          .send(job.name, {}, { singletonKey: job.name, singletonSeconds: seconds })
          .catch((err: unknown) =>
            this.hooks.logger.warn({ err, job: job.name }, 'could not queue a job'),
          );
      };
      offer();
      const timer = setInterval(offer, job.intervalMs);
      timer.unref();
      this.timers.add(timer);
    }
  }

  /** Queues one run now (tests, `minipay` admin actions); resolves to the job id. */
  async trigger(name: string): Promise<string | null> {
    return this.boss.send(name, {});
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    if (this.started) await this.boss.stop({ graceful: true, wait: true, timeout: 15_000 });
    this.started = false;
  }
}

/**
 * Instances starting together on one database create and update the same queues, and
 * PostgreSQL may pick one of them as a deadlock victim (seen with three instances): try again
 * after a short random pause, as PostgreSQL's documentation advises for 40P01.
 */
async function retryOnDeadlock(step: () => Promise<void>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * i));
    }
  }
}
