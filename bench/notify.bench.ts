/**
 * Notify throughput: unique, validly signed APIv2 payment notifies for PENDING orders, sent by
 * autocannon to each target in its own process, side by side in one run:
 *   - bare-fastify: a Fastify route that answers SUCCESS and does nothing (the ceiling);
 *   - seed-koa: the seed-style handler (Koa + raw-body + xml2js + MD5 + a SQLite UPDATE);
 *   - minipay-sqlite / minipay-postgres: `minipay start` (demo mode, logs at its default level
 *     unless BENCH_LOG_LEVEL says otherwise) on SQLite, and on a throwaway PostgreSQL when the
 *     server binaries are installed; its PENDING orders are written into the store beforehand
 *     (bench/support/minipay-process.ts).
 * Every target gets a warm-up of its own orders first; afterwards the script checks that every
 * order of a storing target is PAID, and for minipay that each has exactly one `order.paid`
 * event (a fast wrong answer is not a result).
 *
 * The machine is shared, so targets run interleaved for several rounds and each is reported by
 * its median round (every round's req/s is printed too).
 *
 *   node --import tsx bench/notify.bench.ts [notifies per target, default 5000] [connections, default 10] [rounds, default 3]
 *
 * BENCH_TARGETS=minipay-sqlite,seed-koa runs only those; BENCH_CPU_PROF=<dir> writes a CPU
 * profile of every minipay process there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEMO_CREDENTIALS } from '../src/sandbox/credentials.js';
import { type PgCluster, startPostgres } from '../test/support/postgres.js';
import { type ChildServer, startChildServer } from './support/child-server.js';
import {
  interleavedRounds,
  loadArgs,
  loadAverage,
  medians,
  type Row,
  sendAll,
  table,
  targetWanted,
} from './support/load.js';
import {
  countPaid,
  ensureBuilt,
  seedPendingOrders,
  startMinipay,
} from './support/minipay-process.js';
import { type Merchant, type PendingOrder, paymentNotifyXml } from './support/notify-bodies.js';

const { count, connections, rounds, logLevel } = loadArgs(5000);
const warmup = Math.min(1000, Math.ceil(count / 5));
const merchant: Merchant = DEMO_CREDENTIALS;
const NOTIFY_PATH = '/wechatpay/v2/notify';

/** A server under test: how to start it with `n` PENDING orders, and how to count PAID ones. */
interface Target {
  name: string;
  start(orders: readonly PendingOrder[]): Promise<ChildServer>;
  /** Throws unless every one of the `n` orders is PAID (exactly once, where it can tell). */
  verify?(n: number): Promise<void>;
  cleanup(): Promise<void>;
}

function orders(prefix: string, n: number): PendingOrder[] {
  return Array.from({ length: n }, (_, i) => ({
    outTradeNo: `${prefix}${String(i).padStart(12, '0')}`,
    totalFen: 100 + (i % 900),
    openid: `oBench${String(i % 1000).padStart(6, '0')}`,
  }));
}

function bareFastify(): Target {
  return {
    name: 'bare-fastify',
    start: () => startChildServer(process.execPath, ['bench/baselines/bare-fastify.mjs']),
    cleanup: async () => undefined,
  };
}

function seedKoa(): Target {
  let dir = '';
  let file = '';
  return {
    name: 'seed-koa',
    async start(list) {
      dir = mkdtempSync(join(tmpdir(), 'minipay-bench-seed-'));
      file = join(dir, 'orders.sqlite');
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE orders (
        id INTEGER PRIMARY KEY, out_trade_no TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
        total_fen INTEGER NOT NULL, transaction_id TEXT, paid_at TEXT, updated_at TEXT)`);
      const insert = db.prepare(
        "INSERT INTO orders (out_trade_no, status, total_fen) VALUES (?, 'PENDING', ?)",
      );
      db.transaction(() => {
        for (const o of list) insert.run(o.outTradeNo, o.totalFen);
      })();
      db.close();
      return startChildServer(process.execPath, ['bench/baselines/seed-notify-koa.mjs'], {
        BENCH_DB: file,
        BENCH_MCH_KEY: merchant.mchKey,
        BENCH_APPID: merchant.appId,
        BENCH_MCHID: merchant.mchId,
      });
    },
    async verify(n) {
      const db = new Database(file, { readonly: true });
      const row = db.prepare("SELECT count(*) AS n FROM orders WHERE status = 'PAID'").get() as {
        n: number;
      };
      db.close();
      if (row.n !== n) throw new Error(`seed-koa: ${row.n} of ${n} orders PAID after the run`);
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `minipay start` on the database `createDatabase()` names, one fresh database per round. */
function minipay(
  name: string,
  createDatabase: () => Promise<{ url: string; drop(): Promise<void> }>,
  root?: string,
): Target {
  let database: { url: string; drop(): Promise<void> } | undefined;
  return {
    name,
    async start(list) {
      database = await createDatabase();
      await seedPendingOrders(database.url, list);
      return startMinipay(
        { MINIPAY_DATABASE_URL: database.url, MINIPAY_LOG_LEVEL: logLevel },
        name,
        root,
      );
    },
    async verify(n) {
      const c = await countPaid((database as { url: string }).url);
      if (c.paid !== n || c.paidEvents !== n || c.paidEventOrders !== n) {
        throw new Error(
          `${name}: ${c.paid} of ${n} orders PAID, ${c.paidEvents} order.paid events for ${c.paidEventOrders} orders`,
        );
      }
    },
    cleanup: async () => database?.drop(),
  };
}

function sqliteDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-bench-notify-'));
  return Promise.resolve({
    url: `sqlite:${join(dir, 'minipay.sqlite')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  });
}

async function measure(target: Target, index: number): Promise<Row> {
  const all = orders(`BN${index}${process.pid}`, warmup + count);
  const server = await target.start(all);
  try {
    const url = `${server.url}${NOTIFY_PATH}`;
    const headers = { 'content-type': 'text/xml' };
    const bodies = all.map((o) => paymentNotifyXml(merchant, o));
    await sendAll({ url, bodies: bodies.slice(0, warmup), connections, headers });
    const stopRss = server.watchRss();
    const cpuBefore = server.cpuSeconds();
    const loadBefore = loadAverage();
    const result = await sendAll({ url, bodies: bodies.slice(warmup), connections, headers });
    const load: [number, number] = [loadBefore, loadAverage()];
    const peakRssMiB = stopRss();
    const cpuUsPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / result.requests;
    await server.stop();
    await target.verify?.(all.length);
    return { name: target.name, result, peakRssMiB, cpuUsPerRequest, load };
  } finally {
    await server.stop();
    await target.cleanup();
  }
}

ensureBuilt();
const wanted = targetWanted(() => true);
let cluster: PgCluster | null = null;
if (wanted('minipay-postgres')) {
  cluster = await startPostgres();
  if (!cluster) console.log('minipay-postgres skipped: PostgreSQL server binaries not found');
}
const pg = cluster;
const pgDatabase = async () => ({ url: await pg!.createDatabase(), drop: async () => undefined });
// BENCH_BEFORE=<another checkout, built>: its minipay too, in the same rounds (before/after).
const before = process.env.BENCH_BEFORE;
const targets = [
  bareFastify(),
  seedKoa(),
  minipay('minipay-sqlite', sqliteDatabase),
  ...(pg ? [minipay('minipay-postgres', pgDatabase)] : []),
  ...(before ? [minipay('minipay-sqlite@before', sqliteDatabase, before)] : []),
  ...(before && pg ? [minipay('minipay-postgres@before', pgDatabase, before)] : []),
].filter((t) => wanted(t.name));
const runs = await interleavedRounds(rounds, targets, (target, round, i) =>
  measure(target, round * 10 + i),
);
console.log(
  `notify: ${count} unique signed notifies per target after ${warmup} warm-up, ${connections} connections, median of ${rounds} interleaved rounds, minipay logging at ${logLevel} (Node ${process.versions.node})`,
);
console.log(table(medians(runs), ['seed-koa', 'bare-fastify']));
await cluster?.stop();
for (const [name, list] of runs) {
  console.log(
    `${name} req/s by round: ${list.map((r) => r.result.perSecond.toFixed(0)).join(', ')}`,
  );
}
