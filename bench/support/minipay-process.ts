/**
 * minipay itself under benchmark: `minipay start` (the compiled CLI, as an operator runs it) in
 * its own process, its database seeded beforehand, checked afterwards.
 *
 * PENDING orders for the notify benchmark are written straight into the store (one transaction,
 * rows shaped as checkout writes them: an order, its item line, a prepay_id, an expiry two
 * hours out and no sweep due within the hour, so no background job touches them during a run).
 * Going through the API would cost a checkout per order, minutes per round on two cores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { newId } from '../../src/payments/lib/ids.js';
import { openStore } from '../../src/store/index.js';
import { orderRow, userRow } from '../../test/support/rows.js';
import { type ChildServer, startChildServer } from './child-server.js';
import type { PendingOrder } from './notify-bodies.js';

/** The banner line of `minipay start` naming the server (demo mode prints the sandbox's first). */
const SERVER_URL = /Mini program API\s+(https?:\/\/\S+?)\/api\/v1/;

/** Builds dist/ when it is missing or older than src/ (the CLI runs from it); never installs. */
export function ensureBuilt(): void {
  const stamp = mtime('dist/.build-stamp');
  if (stamp > 0 && stamp >= newest('src')) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/build.mjs failed');
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return latest;
}

/**
 * Node flags for a server under test: `BENCH_CPU_PROF=<dir>` writes a V8 CPU profile of each
 * minipay process there when it stops (open it in Chrome DevTools or `node scripts/…`).
 */
export function profileFlags(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
    : [];
}

/**
 * `minipay start` on a free port with `env` (MINIPAY_* variables) on top of quiet logging;
 * `root`: another checkout's build (a before/after comparison), default this one.
 */
export function startMinipay(
  env: Record<string, string>,
  name = 'minipay',
  root = '.',
): Promise<ChildServer> {
  return startChildServer(
    process.execPath,
    [...profileFlags(name), join(root, 'bin/minipay.js'), 'start', '--port', '0'],
    { MINIPAY_LOG_LEVEL: 'warn', ...env },
    { urlPattern: SERVER_URL },
  );
}

/** Migrates the database at `databaseUrl` and writes `orders` as PENDING orders of one user. */
export async function seedPendingOrders(
  databaseUrl: string,
  orders: readonly PendingOrder[],
): Promise<void> {
  const store = openStore(databaseUrl);
  try {
    await store.migrate();
    const now = new Date();
    const iso = now.toISOString();
    const inTwoHours = new Date(now.getTime() + 2 * 3600_000).toISOString();
    const inAnHour = new Date(now.getTime() + 3600_000).toISOString();
    await store.db.transaction().execute(async (trx) => {
      const userIds = new Map<string, string>();
      for (const openid of new Set(orders.map((o) => o.openid))) userIds.set(openid, newId('usr'));
      const users = [...userIds].map(([openid, id]) => userRow(iso, id, openid));
      for (let i = 0; i < users.length; i += 500) {
        const batch = users.slice(i, i + 500);
        await trx
          .insertInto('users')
          .values(batch)
          .onConflict((oc) => oc.column('openid').doNothing())
          .execute();
        // An openid already there keeps its user.
        const rows = await trx
          .selectFrom('users')
          .select(['id', 'openid'])
          .where(
            'openid',
            'in',
            batch.map((u) => u.openid),
          )
          .execute();
        for (const row of rows) userIds.set(row.openid, row.id);
      }
      for (let i = 0; i < orders.length; i += 500) {
        const batch = orders.slice(i, i + 500).map((o) => ({ ...o, id: newId('ord') }));
        await trx
          .insertInto('orders')
          .values(
            batch.map((o) =>
              orderRow(iso, {
                id: o.id,
                out_trade_no: o.outTradeNo,
                user_id: userIds.get(o.openid) as string,
                openid: o.openid,
                status: 'PENDING',
                description: 'minipay - Bench tea',
                total_fen: o.totalFen,
                prepay_id: `wx${newId('bench').slice(6)}`,
                prepay_expires_at: inTwoHours,
                next_query_at: inAnHour,
                expires_at: inTwoHours,
                version: 1,
              }),
            ),
          )
          .execute();
        await trx
          .insertInto('order_items')
          .values(
            batch.map((o) => ({
              order_id: o.id,
              line_no: 1,
              product_id: 'prd_bench_tea',
              name: 'Bench tea',
              unit_price_fen: o.totalFen,
              quantity: 1,
              amount_fen: o.totalFen,
            })),
          )
          .execute();
      }
    });
  } finally {
    await store.close();
  }
}

export interface PaidCheck {
  paid: number;
  /** `order.paid` events, all of them and for how many distinct orders. */
  paidEvents: number;
  paidEventOrders: number;
}

/** How many orders are PAID and how many `order.paid` events exist (exactly once: all equal). */
export async function countPaid(databaseUrl: string): Promise<PaidCheck> {
  const store = openStore(databaseUrl);
  try {
    const paid = await store.db
      .selectFrom('orders')
      .select(sql<number>`count(*)`.as('n'))
      .where('status', '=', 'PAID')
      .where('transaction_id', 'is not', null)
      .executeTakeFirstOrThrow();
    const events = await store.db
      .selectFrom('order_events')
      .select([sql<number>`count(*)`.as('n'), sql<number>`count(distinct order_id)`.as('orders')])
      .where('type', '=', 'order.paid')
      .executeTakeFirstOrThrow();
    return {
      paid: Number(paid.n),
      paidEvents: Number(events.n),
      paidEventOrders: Number(events.orders),
    };
  } finally {
    await store.close();
  }
}
