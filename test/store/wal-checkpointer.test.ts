import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/index.js';

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
