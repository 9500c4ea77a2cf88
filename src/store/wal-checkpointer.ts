/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses the threshold, so every thousand pages one payment notify's COMMIT also copied the log
 * back into the database and waited for its fsync, with the whole server stalled. With
 * checkpoints in a worker thread on its own connection, side by side, the server answered
 * 7–60 % more notifies a second and spent 15 % less CPU on each (BENCHMARKS.md). The
 * server's connection keeps an automatic checkpoint as a backstop at `BACKSTOP_PAGES`, should
 * the worker fall behind or stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** The server's own automatic checkpoint, in pages (4 KiB): about 40 MiB of log. */
export const BACKSTOP_PAGES = 10_000;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/**
 * The worker: its own connection to the file, a PASSIVE checkpoint (never waits for, nor blocks,
 * the server's connection) every `intervalMs`, one last one on 'stop'. Plain CommonJS given as
 * text, so that it runs the same from dist/ and from the TypeScript sources under tsx (a worker
 * does not inherit tsx's loader on Node 20).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.sqlite);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick tries again */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/** Starts checkpointing `file` every `intervalMs` in a worker; `database` gets the backstop. */
export function startWalCheckpointer(
  database: SQLite.Database,
  file: string,
  intervalMs = 100,
): WalCheckpointer {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, sqlite },
  });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  // A store nobody closes must not keep the process alive for its checkpoints.
  worker.unref();
  worker.on('error', () => {
    // The backstop below keeps the log bounded without the worker.
  });
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
