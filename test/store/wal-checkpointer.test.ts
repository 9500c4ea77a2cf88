import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/index.js';
import { type CheckpointLogger, startWalCheckpointer } from '../../src/store/wal-checkpointer.js';

/** Writes about 1 MiB in 64 commits: 260-odd pages of log, below any automatic checkpoint. */
async function writeAMegabyte(store: Store): Promise<void> {
  await sql`create table blobs (id integer primary key, body text not null)`.execute(store.db);
  const body = 'x'.repeat(16 * 1024);
  for (let i = 0; i < 64; i++) {
    await sql`insert into blobs (body) values (${body})`.execute(store.db);
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

test('the background checkpointer copies the log into the database file; close stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-wal-'));
  const file = join(dir, 'w.sqlite');
  const store = openStore(`sqlite:${file}`, { backgroundCheckpoints: true });
  try {
    await writeAMegabyte(store);
    // The server's own connection would not checkpoint below 10,000 pages: only the worker can
    // have put the megabyte into the database file.
    assert.ok(
      await until(() => statSync(file).size > 1024 * 1024, 15_000),
      `database file is ${statSync(file).size} bytes`,
    );
    const rows = await sql<{ n: number }>`select count(*) as n from blobs`.execute(store.db);
    assert.equal(Number(rows.rows[0]?.n), 64);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without it the log stays in the -wal file until SQLite checkpoints by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-wal-'));
  const file = join(dir, 'w.sqlite');
  const store = openStore(`sqlite:${file}`);
  try {
    await writeAMegabyte(store);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(statSync(file).size < 1024 * 1024, 'nothing copied the log back yet');
    assert.ok(statSync(`${file}-wal`).size > 1024 * 1024);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A logger that keeps what it is told. */
function recording(): CheckpointLogger & { lines: { details: object; message: string }[] } {
  const lines: { details: object; message: string }[] = [];
  return { lines, warn: (details, message) => void lines.push({ details, message }) };
}

test('a worker that cannot start logs its error once; the backstop stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-wal-'));
  const database = new SQLite(join(dir, 'w.sqlite'));
  const logger = recording();
  try {
    // The worker's own connection must find the file: this one is not there.
    const checkpointer = startWalCheckpointer(database, join(dir, 'missing', 'w.sqlite'), {
      logger,
    });
    assert.ok(await until(() => logger.lines.length > 0, 15_000), 'the failure was logged');
    await checkpointer.stop();
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!.message, /SQLite's own checkpoint every 10000 pages/);
    const { err } = logger.lines[0]!.details as { err: { message: string } };
    assert.match(err.message, /Cannot open database/);
    assert.equal(database.pragma('wal_autocheckpoint', { simple: true }), 10_000);
  } finally {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint that fails on every tick is logged once, with SQLite’s code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-wal-'));
  const database = new SQLite(':memory:');
  const notADatabase = join(dir, 'notes.txt');
  writeFileSync(notADatabase, 'not a database, '.repeat(512));
  const logger = recording();
  try {
    const checkpointer = startWalCheckpointer(database, notADatabase, { intervalMs: 5, logger });
    assert.ok(await until(() => logger.lines.length > 0, 15_000), 'the failure was logged');
    // stop() runs one last checkpoint, which fails again: still one line.
    await checkpointer.stop();
    assert.equal(logger.lines.length, 1);
    const { err } = logger.lines[0]!.details as { err: { code?: string } };
    assert.equal(err.code, 'SQLITE_NOTADB');
  } finally {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openStore hands its logger to the checkpointer: a healthy worker logs nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-wal-'));
  const logger = recording();
  const store = openStore(`sqlite:${join(dir, 'w.sqlite')}`, {
    backgroundCheckpoints: true,
    logger,
  });
  try {
    await writeAMegabyte(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(logger.lines, []);
});
