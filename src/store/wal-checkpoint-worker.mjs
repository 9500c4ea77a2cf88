// The WAL checkpoint worker that wal-checkpointer.ts starts: its own connection to the database
// file, a PASSIVE checkpoint (it never waits for, nor blocks, the server's connection) every
// `intervalMs`, one last one on 'stop'. Plain JavaScript because a worker thread does not
// inherit tsx's loader on Node 20: this file runs as it is from src/ under tsx, and from dist/
// (scripts/build.mjs copies it there).
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const db = new SQLite(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let reported = false;

function checkpoint() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // Busy: the next tick tries again. Anything else would fail every tick: tell the server once.
    if (err?.code === 'SQLITE_BUSY' || err?.code === 'SQLITE_LOCKED' || reported) return;
    reported = true;
    parentPort.postMessage({ error: { message: String(err?.message ?? err), code: err?.code } });
  }
}

const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
