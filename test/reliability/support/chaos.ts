/**
 * Chaos: `minipay sandbox` in its own process (state file, a fixed fault seed, 30 % of notify
 * deliveries dropped) and `minipay start` in live mode against it (SQLite file), killed with
 * SIGKILL every few seconds and started again while buyers check out and pay. Buyers behave
 * like the client library: a purchase keeps its Idempotency-Key across retries, and one that
 * stays blocked (a crashed attempt holds its key for 60 s) is abandoned for a new purchase.
 * Afterwards, from the two databases themselves: every trade the sandbox holds as paid is PAID
 * in the store with its transaction_id, no order is paid twice, and no order is PAID that
 * WeChat did not take money for.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PaymentParams } from '../../../src/payments/index.js';
import { DEMO_CREDENTIALS } from '../../../src/sandbox/credentials.js';
import { minipay } from '../../support/cli.js';
import { eventually } from '../../support/demo.js';
import { freePort, type LiveServer, openShop, PRODUCT, readDb, startLive } from './live-server.js';

export interface ChaosOptions {
  /** Payments flow at least this long (real ms) while the server is being killed … */
  flowMs: number;
  /** … and until it has been killed at least this often (restarts are slow on a busy machine) … */
  minKills: number;
  /** … and until WeChat has taken at least this many payments (default 0). */
  minPaid?: number;
  /** Kill the server this often: a pause drawn from [min, max] ms after each restart. */
  killEveryMs: [number, number];
  buyers: number;
  seed: number;
  dropNotifyRate: number;
  /** How long to wait, afterwards, for every paid trade to be PAID in the store. */
  settleMs: number;
}

export interface ChaosResult {
  kills: number;
  purchasesStarted: number;
  purchasesAbandoned: number;
  paidAtWechat: number;
  paidInStore: number;
  /** Paid trades whose order is not PAID in the store. */
  missing: string[];
  /** Orders with more than one order.paid event. */
  doublePaid: number;
  /** PAID orders whose trade the sandbox does not hold as paid (money never taken). */
  paidWithoutMoney: number;
  notifyAttempts: number;
  notifyDropped: number;
  notifyFailedOther: number;
  /** How long after the last kill every paid trade was PAID in the store (ms). */
  settledAfterMs: number;
  flowMs: number;
}

/** A tiny seeded PRNG (mulberry32), so a run's kill schedule can be repeated. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `minipay sandbox` in its own process, with a state file the test can read. */
export async function startSandboxProcess(stateFile: string, seed: number) {
  const run = minipay([
    'sandbox',
    '--port',
    '0',
    '--time-scale',
    '200',
    '--seed',
    String(seed),
    '--state-file',
    stateFile,
  ]);
  const [, url] = await run.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    url: url as string,
    async post(path: string, body: unknown) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async get(path: string) {
      return (await (await fetch(`${url}${path}`)).json()) as Record<string, unknown>;
    },
    async stop() {
      if (run.child.exitCode === null) {
        run.child.kill('SIGTERM');
        await once(run.child, 'exit');
      }
    },
  };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-chaos-'));
  const dbFile = join(dir, 'minipay.sqlite');
  const sandbox = await startSandboxProcess(join(dir, 'sandbox.sqlite'), o.seed);
  let server: LiveServer | undefined;
  try {
    const faults = await sandbox.post('/sandbox/v1/faults', { dropNotifyRate: o.dropNotifyRate });
    assert.equal(faults.status, 200);
    const port = await freePort();
    const start = () =>
      startLive({
        sandboxUrl: sandbox.url,
        credentials: DEMO_CREDENTIALS,
        port,
        databaseFile: dbFile,
      });
    server = await start();
    const loginCode = async () => {
      const r = await sandbox.post('/sandbox/v1/login-code', {});
      return r.json as { code: string; openid: string };
    };
    const buyers = [];
    for (let i = 0; i < o.buyers; i++) {
      const code = await loginCode();
      buyers.push(await openShop(server, () => code));
    }

    const counters = { started: 0, abandoned: 0 };
    const paid = new Map<string, string>(); // out_trade_no → transaction_id
    let flowing = true;
    const current = () => server as LiveServer;

    const buyer = async (b: { token: string; openid: string }, n: number) => {
      let purchase = 0;
      while (flowing) {
        const key = `chaos-${n}-${++purchase}`;
        counters.started++;
        const params = await checkoutThroughCrashes(current, b.token, key);
        if (!params) {
          counters.abandoned++;
          continue;
        }
        const res = await sandbox.post('/sandbox/v1/pay', { openid: b.openid, ...params });
        if (res.status === 200 && res.json.tradeState === 'SUCCESS') {
          paid.set(res.json.outTradeNo as string, res.json.transactionId as string);
        }
      }
    };

    let kills = 0;
    const rand = random(o.seed);
    const killer = async () => {
      const [min, max] = o.killEveryMs;
      while (flowing) {
        await sleep(min + rand() * (max - min));
        if (!flowing) break;
        await current().kill('SIGKILL');
        kills++;
        server = await start();
      }
    };

    const flowStart = performance.now();
    const work = [...buyers.map((b, i) => buyer(b, i)), killer()];
    await sleep(o.flowMs);
    while (kills < o.minKills || paid.size < (o.minPaid ?? 0)) await sleep(100);
    flowing = false;
    await Promise.all(work);
    const flowMs = Math.round(performance.now() - flowStart);

    // Every trade the sandbox holds as paid, from its own database (not from what buyers saw).
    const settledFrom = performance.now();
    const sandboxPaid = () =>
      readDb(join(dir, 'sandbox.sqlite'), (db) =>
        db.prepare("SELECT out_trade_no, transaction_id FROM trades WHERE state = 'SUCCESS'").all(),
      ) as { out_trade_no: string; transaction_id: string }[];
    const storePaid = () =>
      new Map(
        (
          readDb(dbFile, (db) =>
            db
              .prepare(
                "SELECT out_trade_no, transaction_id FROM orders WHERE status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')",
              )
              .all(),
          ) as { out_trade_no: string; transaction_id: string }[]
        ).map((r) => [r.out_trade_no, r.transaction_id]),
      );
    const missingNow = () => {
      const store = storePaid();
      return sandboxPaid()
        .filter((t) => store.get(t.out_trade_no) !== t.transaction_id)
        .map((t) => t.out_trade_no);
    };
    await eventually(
      async () => missingNow().length === 0,
      o.settleMs,
      'every paid trade PAID',
    ).catch(() => undefined);
    const settledAfterMs = Math.round(performance.now() - settledFrom);

    const wechat = sandboxPaid();
    const store = storePaid();
    const wechatSet = new Set(wechat.map((t) => t.out_trade_no));
    const doublePaid = readDb(dbFile, (db) =>
      db
        .prepare(
          "SELECT order_id FROM order_events WHERE type = 'order.paid' GROUP BY order_id HAVING count(*) > 1",
        )
        .all(),
    ).length;
    const log = (await sandbox.get('/sandbox/v1/notifications')) as {
      notifications: { attempts: { outcome: string }[] }[];
    };
    const attempts = log.notifications.flatMap((n) => n.attempts);
    for (const [outTradeNo, transactionId] of paid) {
      assert.ok(
        wechat.some((t) => t.out_trade_no === outTradeNo && t.transaction_id === transactionId),
        'what the buyers paid is what the sandbox holds',
      );
    }
    return {
      kills,
      purchasesStarted: counters.started,
      purchasesAbandoned: counters.abandoned,
      paidAtWechat: wechat.length,
      paidInStore: store.size,
      missing: missingNow(),
      doublePaid,
      paidWithoutMoney: [...store.keys()].filter((no) => !wechatSet.has(no)).length,
      notifyAttempts: attempts.length,
      notifyDropped: attempts.filter((a) => a.outcome === 'dropped').length,
      notifyFailedOther: attempts.filter((a) => a.outcome !== 'dropped' && a.outcome !== 'success')
        .length,
      settledAfterMs,
      flowMs,
    };
  } finally {
    await server?.kill('SIGTERM');
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Checkout as a client does through a crashing server: the same key until an answer, waiting
 * while the server is down; null when the key stays blocked by a crashed attempt (then the
 * buyer starts a new purchase).
 */
async function checkoutThroughCrashes(
  server: () => LiveServer,
  token: string,
  key: string,
): Promise<PaymentParams | null> {
  const deadline = Date.now() + 20_000;
  let blockedSince: number | null = null;
  while (Date.now() < deadline) {
    try {
      const res = await server().api('POST', '/api/v1/orders', {
        token,
        body: { items: [{ productId: PRODUCT.id, quantity: 1 }] },
        headers: { 'idempotency-key': key },
      });
      if (res.status === 201) return (res.json.payment as PaymentParams | null) ?? null;
      if (res.json.error?.code === 'IDEMPOTENCY_IN_PROGRESS') {
        blockedSince ??= Date.now();
        if (Date.now() - blockedSince > 3000) return null;
      } else if (res.status < 500) {
        throw new Error(`checkout refused: ${res.status} ${res.text}`);
      }
    } catch (err) {
      if ((err as Error).message.startsWith('checkout refused')) throw err;
      // The server is down or restarting: try again.
    }
    await sleep(100);
  }
  return null;
}
