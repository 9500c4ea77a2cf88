/**
 * The admin console's reads as the shop grows: one database per store grown to each size in
 * turn (test/support/growth-seed.ts: orders, items, events, notifications, refunds), and at
 * each size every read the console makes, run `runs` times one after another (after 5 warm-up
 * runs) with new values each time, through the domain's AdminQueries (the SQL the HTTP routes
 * run; the routes add their JSON on top). Prints p50 and p95 per read, size and store.
 *
 *   node --import tsx bench/admin-growth.bench.ts [sizes, default 10000,100000,1000000] [stores, default sqlite,postgres] [runs, default 40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AdminQueries } from '../src/payments/admin/admin-queries.js';
import { DEFAULT_SETTINGS, type PaymentsContext } from '../src/payments/context.js';
import { openStore, type Store } from '../src/store/index.js';
import { BUYERS, lastOrderDay, seedGrowth } from '../test/support/growth-seed.js';
import { startPostgres } from '../test/support/postgres.js';

const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
const stores = (process.argv[3] ?? 'sqlite,postgres').split(',');
const runs = Number(process.argv[4] ?? 40);

const pad = (n: number) => String(n).padStart(12, '0');
const pick = (n: number) => Math.floor(Math.random() * n);

type Read = (q: AdminQueries, size: number) => Promise<unknown>;

/** Every read of the console, each with fresh values on each run. */
const READS: [string, Read][] = [
  ['orders, newest first (50)', (q) => q.listOrders({})],
  [
    'orders, second page (cursor)',
    async (q) => q.listOrders({ cursor: (await q.listOrders({})).nextCursor ?? undefined }),
  ],
  ['orders, status PAID', (q) => q.listOrders({ status: 'PAID' })],
  ['orders, status PENDING,CLOSING', (q) => q.listOrders({ status: 'PENDING,CLOSING' })],
  ['orders, by openid', (q) => q.listOrders({ openid: `oGrowth${pad(pick(BUYERS))}` })],
  [
    'orders, one day (from/to)',
    (q, size) => {
      const day = new Date(Date.UTC(2026, 0, 1) + pick(Math.max(1, (size * 31) / 86400)) * 86400e3);
      const next = new Date(day.getTime() + 86400e3);
      return q.listOrders({ from: day.toISOString(), to: next.toISOString() });
    },
  ],
  ['orders, by outTradeNo', (q, size) => q.listOrders({ outTradeNo: `MPG${pad(pick(size))}` })],
  ['order page (order, refunds, timeline)', (q, size) => q.order(`ord_g${pad(pick(size))}`)],
  ['daily stats, 30 days', (q, size) => q.dailyStats({ to: lastOrderDay(size) })],
  ['events, order.paid', (q) => q.listEvents({ type: 'order.paid' })],
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(store: Store, size: number) {
  const ctx = {
    db: store.db,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    settings: DEFAULT_SETTINGS,
  } as unknown as PaymentsContext;
  const q = new AdminQueries(ctx);
  const rows: string[] = [];
  for (const [name, read] of READS) {
    for (let i = 0; i < 5; i++) await read(q, size);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await read(q, size);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    rows.push(
      `| ${store.dialect} | ${size.toLocaleString('en')} | ${name} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} |`,
    );
  }
  return rows;
}

const load = () => loadavg()[0]!.toFixed(1);
console.log(`admin reads, ${runs} runs each after 5 warm-up; Node ${process.versions.node}`);
console.log('| store | orders | read | p50 ms | p95 ms |\n|---|---|---|---|---|');
const notes: string[] = [];
for (const kind of stores) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-growth-'));
  const cluster = kind === 'postgres' ? await startPostgres() : null;
  const url =
    kind === 'postgres' ? await cluster!.createDatabase() : `sqlite:${join(dir, 'growth.sqlite')}`;
  const store = openStore(url);
  try {
    await store.migrate();
    let seeded = 0;
    for (const size of sizes) {
      const t = performance.now();
      const before = load();
      await seedGrowth(store, seeded, size);
      seeded = size;
      const seedS = ((performance.now() - t) / 1000).toFixed(1);
      const rows = await measure(store, size);
      console.log(rows.join('\n'));
      notes.push(`${kind} ${size}: seeded in ${seedS} s; load average ${before} → ${load()}`);
    }
  } finally {
    await store.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(notes.join('\n'));
