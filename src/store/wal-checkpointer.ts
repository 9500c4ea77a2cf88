/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses the threshold, so every thousand pages one payment notify's COMMIT also copied the log
 * back into the database and waited for its fsync, with the whole server stalled. A worker
 * thread on its own connection checkpoints instead (its effect on notify throughput is measured
 * in BENCHMARKS.md, "WAL checkpoints"). The server's connection keeps an automatic checkpoint
 * as a backstop at `BACKSTOP_PAGES`, should the worker fall behind or stop.
 */
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** The server's own automatic checkpoint, in pages (4 KiB): about 40 MiB of log. */
export const BACKSTOP_PAGES = 10_000;

/** Where a failing checkpointer says so (pino's logger fits). */
export interface CheckpointLogger {
  warn(details: object, message: string): void;
}

export interface WalCheckpointerOptions {
  /** Default 100 ms. */
  intervalMs?: number;
  /** Gets the worker's first error; default: a process warning on stderr. */
  logger?: CheckpointLogger;
}

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/** Plain JavaScript, so that it runs the same from src/ under tsx and from dist/. */
const WORKER_FILE = new URL('./wal-checkpoint-worker.mjs', import.meta.url);

/** Starts checkpointing `file` in a worker; `database` gets the backstop. */
export function startWalCheckpointer(
  database: SQLite.Database,
  file: string,
  options: WalCheckpointerOptions = {},
): WalCheckpointer {
  const worker = new Worker(WORKER_FILE, {
    workerData: { file, intervalMs: options.intervalMs ?? 100 },
  });
  const report = firstErrorReporter(file, options.logger);
  worker.on('error', (err) => report({ message: err.message, code: codeOf(err) }));
  worker.on('message', (message: { error?: { message: string; code?: string } }) => {
    if (message.error) report(message.error);
  });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  // A store nobody closes must not keep the process alive for its checkpoints.
  worker.unref();
  database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (exited) return resolve();
        worker.once('exit', () => resolve());
        worker.ref(); // now its exit is awaited
        worker.postMessage('stop');
        // A worker that cannot answer is ended after a second.
        setTimeout(() => void worker.terminate(), 1000).unref();
      });
      return stopped;
    },
  };
}

const FAILED = `WAL checkpoints in the background failed; SQLite's own checkpoint every ${BACKSTOP_PAGES} pages keeps the log bounded`;

/**
 * Logs the first failure only: a checkpoint that fails once fails on every tick, and the
 * backstop keeps the log bounded meanwhile, so one line says all there is to say.
 */
function firstErrorReporter(file: string, logger: CheckpointLogger | undefined) {
  let reported = false;
  return (error: { message: string; code?: string }) => {
    if (reported) return;
    reported = true;
    if (logger) logger.warn({ file, err: error }, FAILED);
    else process.emitWarning(`${FAILED}: ${error.message}`, { code: 'MINIPAY_WAL_CHECKPOINT' });
  };
}

function codeOf(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
