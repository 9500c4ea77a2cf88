// The bill sorter that bill-sorter.ts starts: a day's bill rows staged in a private temporary
// SQLite database (a file SQLite deletes on close, and at once on a crash) and read back in key
// order, on a thread of its own so that the run's main thread parses the bill and reads the
// ledger meanwhile. Plain JavaScript because a worker thread does not inherit tsx's loader on
// Node 20: this file runs as it is from src/ under tsx, and from dist/ (scripts/build.mjs).
//
// Messages in: { rows } (staged rows, answered { ack }), { sort: [src, ...] } (no more rows:
// sort those inputs now), { pull: src } (answered { src, page }: the next rows of that input in
// key order, fewer than a page at its end; the page after it is read ahead). A failure is
// answered { error: { message, code } }.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const { page: PAGE, cacheKiB, columns, query } = workerData;

// '' is a temporary database: in SQLite's page cache while small, spilled to a deleted file.
const db = new SQLite('');
db.pragma('journal_mode = OFF');
db.pragma('synchronous = OFF');
db.pragma(`cache_size = ${-cacheKiB}`);
db.exec(`CREATE TABLE bill (src INTEGER, key TEXT, seq INTEGER, trade_no TEXT, wechat_no TEXT,
  app_id TEXT, mch_id TEXT, currency TEXT, amount INTEGER, settle INTEGER, fee INTEGER, at TEXT)`);
const insert = db.prepare(
  `INSERT INTO bill (${columns}) VALUES (${columns.split(',').fill('?').join(',')})`,
);
// One statement per row: a statement of 50 rows was no faster (binding is the cost).
const stage = db.transaction((rows) => {
  for (const row of rows) insert.run(row);
});

/** The open sorted reads, by src; each sorts its rows on its first step. */
const reads = new Map();

function sorted(src) {
  let read = reads.get(src);
  if (!read) {
    read = db.prepare(query).raw(true).iterate(src);
    reads.set(src, read);
  }
  return read;
}

function nextPage(src) {
  const read = sorted(src);
  const page = [];
  for (let next = read.next(); !next.done; next = read.next()) {
    page.push(next.value);
    if (page.length === PAGE) break;
  }
  return page;
}

/** The next page of each input, read ahead while the main thread works on the last one. */
const ahead = new Map();

parentPort.on('message', (message) => {
  try {
    handle(message);
  } catch (err) {
    // A thrown SqliteError would reach the main thread as a bare object: say it in words.
    parentPort.postMessage({ error: { message: String(err?.message ?? err), code: err?.code } });
  }
});

function handle(message) {
  if (message.rows) {
    stage(message.rows);
    parentPort.postMessage({ ack: true });
  } else if (message.sort) {
    for (const src of message.sort) ahead.set(src, nextPage(src));
  } else if (message.pull !== undefined) {
    const src = message.pull;
    const page = ahead.get(src) ?? nextPage(src);
    parentPort.postMessage({ src, page });
    if (page.length === PAGE) ahead.set(src, nextPage(src));
    else ahead.delete(src);
  }
}
