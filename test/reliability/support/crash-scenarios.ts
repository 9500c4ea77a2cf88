/**
 * Crash points: `minipay start` (live mode, its own process, SQLite file) is killed by
 * MINIPAY_CRASH_AT at a chosen point inside notify handling, checkout and refund creation,
 * then started again. WeChat (the sandbox, in the test process) retries what it did not hear
 * back about, and the client retries with its Idempotency-Key. Afterwards no money is lost
 * (every payment WeChat took is PAID, every refund WeChat made is recorded) and none is
 * doubled (one trade per order, one refund per request, one order.paid event).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { CrashPoint } from '../../../src/payments/lib/crash-points.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { eventually } from '../../support/demo.js';
import {
  ADMIN_TOKEN,
  checkout,
  freePort,
  type LiveServer,
  openShop,
  readDb,
  startLive,
} from './live-server.js';

let sandbox: Sandbox;
let dir: string;
const running: LiveServer[] = [];

/** The sandbox (WeChat) stays up in this process; only the merchant server crashes. */
function hooks() {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minipay-crash-'));
    // 200×: WeChat's retries come at 75 ms, 75 ms, 150 ms, 0.9 s, 3 s, 6 s, 9 s, … — the
    // restarted server is up again before they run out.
    sandbox = await startSandbox({ timeScale: 200 });
  });
  after(async () => {
    await Promise.all(running.map((s) => s.kill()));
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A server on its own port and database, first started with `crashAt` armed. */
async function scenario(name: string, crashAt: CrashPoint) {
  const file = join(dir, `${name}.sqlite`);
  const port = await freePort();
  const start = async (armed?: CrashPoint) => {
    const server = await startLive({
      sandboxUrl: sandbox.url,
      credentials: sandbox.credentials,
      port,
      databaseFile: file,
      crashAt: armed,
    });
    running.push(server);
    return server;
  };
  const first = await start(crashAt);
  return {
    file,
    first,

    /** Waits for the armed server to have killed itself at `crashAt`. */
    async crashed() {
      const how = await first.exited;
      assert.equal(how.signal, 'SIGKILL', `it died at ${crashAt}: ${first.stderr()}`);
      assert.match(first.stderr(), new RegExp(`MINIPAY_CRASH_AT=${crashAt}`));
    },
    /** Starts it again, unarmed. */
    restart: () => start(),
  };
}

/**
 * Sends the checkout again with the same key. A crashed attempt holds its key for 60 s
 * (409 IDEMPOTENCY_IN_PROGRESS); when the retry finds it held, the lock is moved into the
 * past, standing for that minute passing, and the retry is sent once more.
 */
async function retryPastTheLock<T extends { status: number; text: string; code?: string }>(
  file: string,
  key: string,
  send: () => Promise<T>,
): Promise<T> {
  const first = await send();
  if (first.status !== 409) return first;
  assert.equal(first.code, 'IDEMPOTENCY_IN_PROGRESS', first.text);
  letTheKeyLockLapse(file, key);
  return send();
}

/** A crashed attempt holds its Idempotency-Key for 60 s; this stands for that minute passing. */
function letTheKeyLockLapse(file: string, key: string) {
  const db = new Database(file);
  try {
    db.prepare(
      "UPDATE idempotency_keys SET locked_until = '2000-01-01T00:00:00.000Z' WHERE key = ?",
    ).run(key);
  } finally {
    db.close();
  }
}

function orderRow(file: string, id: string) {
  return readDb(file, (db) => ({
    order: db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as {
      status: string;
      out_trade_no: string;
      transaction_id: string | null;
      total_fen: number;
      refunded_fen: number;
    },
    paidEvents: (
      db
        .prepare(
          "SELECT count(*) AS n FROM order_events WHERE order_id = ? AND type = 'order.paid'",
        )
        .get(id) as { n: number }
    ).n,
    orders: (db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n,
    refunds: db.prepare('SELECT * FROM refunds WHERE order_id = ?').all(id) as {
      status: string;
      amount_fen: number;
      out_refund_no: string;
    }[],
  }));
}

/** Checks out and pays an order on a server that stays up; resolves once it is PAID. */
async function paidOrder(server: LiveServer, file: string, key: string) {
  const shop = await openShop(server, () => sandbox.loginCode());
  const c = await checkout(server, shop.token, key);
  assert.equal(c.status, 201, c.text);
  sandbox.pay({ openid: shop.openid, ...c.payment! });
  await eventually(async () => orderRow(file, c.order!.id).order.status === 'PAID', 60_000, 'PAID');
  return c.order!;
}

/** Kills the server inside notify handling; WeChat's retries must end it PAID, once. */
export function notifyCrashSuite(points: readonly CrashPoint[]) {
  describe('crash points inside notify handling', () => {
    hooks();
    for (const point of points) {
      test(`${point}: WeChat retries; the order ends PAID once`, async () => {
        const s = await scenario(point, point);
        const shop = await openShop(s.first, () => sandbox.loginCode());
        const c = await checkout(s.first, shop.token, `${point}-1`);
        assert.equal(c.status, 201, c.text);
        sandbox.pay({ openid: shop.openid, ...c.payment! });
        await s.crashed();
        const id = c.order!.id;
        const atCrash = orderRow(s.file, id);
        if (point === 'order-paid-before-commit') {
          // Killed before COMMIT: nothing of the payment is in the database.
          assert.equal(atCrash.order.status, 'PENDING');
          assert.equal(atCrash.paidEvents, 0);
        } else {
          // Killed after COMMIT, before answering WeChat: PAID, and WeChat will send it again.
          assert.equal(atCrash.order.status, 'PAID');
          assert.equal(atCrash.paidEvents, 1);
        }
        const second = await s.restart();
        await eventually(async () => orderRow(s.file, id).order.status === 'PAID', 60_000, 'PAID');
        const after = orderRow(s.file, id);
        assert.equal(after.paidEvents, 1, 'one order.paid event');
        assert.equal(after.order.transaction_id, sandbox.trade(c.order!.outTradeNo)?.transactionId);
        await second.kill('SIGTERM');
      });
    }
  });
}

/** Kills the server inside checkout; the client's retry with its key must resume the order. */
export function checkoutCrashSuite(points: readonly CrashPoint[]) {
  describe('crash points inside checkout', () => {
    hooks();
    for (const point of points) {
      test(`${point}: the retry with the same key resumes the same order; paid once`, async () => {
        const s = await scenario(point, point);
        const shop = await openShop(s.first, () => sandbox.loginCode());
        const key = `${point}-1`;
        await assert.rejects(checkout(s.first, shop.token, key), 'the connection dies');
        await s.crashed();
        const second = await s.restart();
        const c = await retryPastTheLock(s.file, key, () => checkout(second, shop.token, key));
        assert.equal(c.status, 201, c.text);
        assert.equal(c.order?.status, 'PENDING');
        const trade = sandbox.trade(c.order!.outTradeNo);
        assert.equal(trade?.totalFen, c.order!.totalFen, 'WeChat was asked for the order total');
        sandbox.pay({ openid: shop.openid, ...c.payment! });
        await eventually(async () => orderRow(s.file, c.order!.id).order.status === 'PAID', 60_000);
        const after = orderRow(s.file, c.order!.id);
        assert.equal(after.orders, 1, 'one order for one purchase');
        assert.equal(after.paidEvents, 1);
        await second.kill('SIGTERM');
      });
    }
  });
}

/** Kills the server inside refund creation; the retry with the same key must refund once. */
export function refundCrashSuite(points: readonly CrashPoint[]) {
  describe('crash points inside refund creation', () => {
    hooks();
    for (const point of points) {
      test(`${point}: the retry with the same key refunds once`, async () => {
        const s = await scenario(point, point);
        const order = await paidOrder(s.first, s.file, `${point}-order`);
        const key = `${point}-refund`;
        const refund = (server: LiveServer) =>
          server.api('POST', `/admin/v1/orders/${order.id}/refunds`, {
            token: ADMIN_TOKEN,
            body: { amountFen: order.totalFen, reason: 'crash test' },
            headers: { 'idempotency-key': key },
          });
        await assert.rejects(refund(s.first), 'the connection dies');
        await s.crashed();
        const second = await s.restart();
        const res = await retryPastTheLock(s.file, key, async () => {
          const r = await refund(second);
          return { ...r, code: r.json.error?.code };
        });
        assert.equal(res.status, 201, res.text);
        await eventually(
          async () => orderRow(s.file, order.id).order.status === 'REFUNDED',
          60_000,
          'REFUNDED',
        );
        const after = orderRow(s.file, order.id);
        assert.equal(after.refunds.length, 1, 'one refund row');
        assert.equal(after.order.refunded_fen, order.totalFen);
        const atWechat = sandbox.trade(order.outTradeNo)!;
        assert.equal(atWechat.refunds.length, 1, 'WeChat made one refund');
        assert.equal(atWechat.refundedFen, order.totalFen, 'WeChat refunded the amount once');
        await second.kill('SIGTERM');
      });
    }
  });
}
