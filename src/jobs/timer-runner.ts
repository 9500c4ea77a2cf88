/** In-process job runner: each job runs every `intervalMs`, never twice at once. */
import { type Job, type JobHooks, type JobRunner, runJob } from './runner.js';

export class TimerRunner implements JobRunner {
  readonly kind = 'timers';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly hooks: JobHooks) {}

  async start(jobs: Job[]): Promise<void> {
    this.stopped = false;
    for (const job of jobs) this.schedule(job);
  }

  private schedule(job: Job): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = runJob(job, this.hooks).finally(() => {
        this.running.delete(run);
        this.schedule(job);
      });
      this.running.add(run);
    }, job.intervalMs);
    timer.unref();
    this.timers.add(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.running);
  }
}
