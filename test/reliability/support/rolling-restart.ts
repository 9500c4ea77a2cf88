/**
 * A rolling restart under load: two `minipay start` processes on one PostgreSQL behind a load
 * balancer (support/balancer.ts), which is also the notify URL the sandbox (WeChat) calls.
 * Buyers check out, pay and read their orders through the balancer without pause while each
 * instance in turn gets SIGTERM, drains (MINIPAY_SHUTDOWN_DRAIN_SECONDS), stops, and is
 * started again. Counted: every request a buyer made and every notify WeChat sent that did
 * not get its normal answer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PaymentParams } from '../../../src/payments/index.js';
import { DEMO_CREDENTIALS } from '../../../src/sandbox/credentials.js';
import { minipay } from '../../support/cli.js';
import { eventually } from '../../support/demo.js';
import { startPostgres } from '../../support/postgres.js';
import { client } from '../../support/server.js';
import { startBalancer } from './balancer.js';
import { startSandboxProcess } from './chaos.js';
import { freePort, type LiveServer, openShop, PRODUCT, readDb, startLive } from './live-server.js';

export interface RollingOptions {
  buyers: number;
  /** How many times each of the two instances is restarted, one after the other. */
  rounds: number;
  drainSeconds: number;
}

export interface RollingResult {
  restarts: number;
  requests: number;
  /** Requests answered other than 2xx, or not at all. */
  failed: string[];
  /** What the balancer saw fail after sending (each is also one of `failed`, as a 502). */
  upstreamErrors: string[];
  /** Requests the balancer passed on because an instance refused the connection. */
  passedOn: number;
  paidAtWechat: number;
  paidInStore: number;
  notifyAttempts: number;
  notifyFailed: number;
  /** Exit codes of the instances stopped with SIGTERM. */
  exitCodes: (number | null)[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rollingRestart(o: RollingOptions): Promise<RollingResult> {
  const began = performance.now();
  const cluster = await startPostgres();
  assert.ok(cluster, 'PostgreSQL binaries are needed');
  const databaseUrl = await cluster.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'minipay-rolling-'));
  const sandboxFile = join(dir, 'sandbox.sqlite');
  const sandbox = await startSandboxProcess(sandboxFile, 23);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const ports = [await freePort(), await freePort()];
  const balancer = await startBalancer(ports.map((p) => `http://127.0.0.1:${p}`));
  const servers: LiveServer[] = [];
  try {
    const migrate = minipay(['migrate'], { MINIPAY_DATABASE_URL: databaseUrl });
    const [code] = await once(migrate.child, 'exit');
    assert.equal(code, 0, migrate.output().stderr);
    const start = (i: number) =>
      startLive({
        sandboxUrl: sandbox.url,
        credentials: DEMO_CREDENTIALS,
        port: ports[i]!,
        databaseUrl,
        env: {
          MINIPAY_MIGRATE: 'off',
          MINIPAY_NOTIFY_BASE_URL: balancer.url,
          MINIPAY_SHUTDOWN_DRAIN_SECONDS: String(o.drainSeconds),
        },
      });
    servers.push(await start(0));
    servers.push(await start(1));
    const ready = async (i: number) =>
      eventually(
        async () => (await fetch(`${servers[i]!.url}/readyz`).catch(() => null))?.status === 200,
        60_000,
        `instance ${i} ready`,
      );
    await Promise.all([ready(0), ready(1)]);

    const api = client(balancer.url);
    const shop = { ...servers[0]!, api };
    const buyers = [];
    for (let i = 0; i < o.buyers; i++) {
      const c = (await sandbox.post('/sandbox/v1/login-code', {})).json as {
        code: string;
        openid: string;
      };
      buyers.push(await openShop(shop, () => c));
    }

    let requests = 0;
    const failed: string[] = [];
    const call = async (
      method: string,
      path: string,
      options: Parameters<typeof api>[2],
    ): Promise<Awaited<ReturnType<typeof api>> | null> => {
      requests++;
      try {
        const res = await api(method, path, options);
        if (res.status >= 200 && res.status < 300) return res;
        failed.push(`${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
      } catch (err) {
        failed.push(`${method} ${path}: ${(err as Error).message}`);
      }
      return null;
    };

    let flowing = true;
    const buyer = async (b: { token: string; openid: string }, n: number) => {
      for (let k = 0; flowing; k++) {
        const order = await call('POST', '/api/v1/orders', {
          token: b.token,
          body: { items: [{ productId: PRODUCT.id, quantity: 1 }] },
          headers: { 'idempotency-key': `rolling-${n}-${k}` },
        });
        if (!order) continue;
        const payment = order.json.payment as PaymentParams;
        const paid = await sandbox.post('/sandbox/v1/pay', { openid: b.openid, ...payment });
        assert.equal(paid.status, 200);
        await call('GET', `/api/v1/orders/${order.json.order!.id}`, { token: b.token });
      }
    };
    const load = buyers.map((b, n) => buyer(b, n));

    const exitCodes: (number | null)[] = [];
    let restarts = 0;
    await sleep(1000);
    for (let round = 0; round < o.rounds; round++) {
      for (const i of [0, 1]) {
        await servers[i]!.kill('SIGTERM');
        exitCodes.push((await servers[i]!.exited).code);
        servers[i] = await start(i);
        await ready(i);
        restarts++;
        await sleep(1000);
      }
    }
    flowing = false;
    await Promise.all(load);

    const sandboxPaid = () =>
      readDb(sandboxFile, (s) =>
        s.prepare("SELECT out_trade_no, transaction_id FROM trades WHERE state = 'SUCCESS'").all(),
      ) as { out_trade_no: string; transaction_id: string }[];
    const storePaid = async () =>
      new Map(
        (
          await db.query<{ out_trade_no: string; transaction_id: string }>(
            "SELECT out_trade_no, transaction_id FROM orders WHERE status = 'PAID'",
          )
        ).rows.map((r) => [r.out_trade_no, r.transaction_id]),
      );
    await eventually(
      async () => {
        const store = await storePaid();
        return sandboxPaid().every((t) => store.get(t.out_trade_no) === t.transaction_id);
      },
      120_000,
      'every trade PAID',
    );
    const log = (await sandbox.get('/sandbox/v1/notifications')) as {
      notifications: { attempts: { outcome: string }[] }[];
    };
    const attempts = log.notifications.flatMap((n) => n.attempts);
    return {
      restarts,
      requests,
      failed,
      upstreamErrors: balancer.lost,
      passedOn: balancer.passedOn,
      paidAtWechat: sandboxPaid().length,
      paidInStore: (await storePaid()).size,
      notifyAttempts: attempts.length,
      notifyFailed: attempts.filter((a) => a.outcome !== 'success').length,
      exitCodes,
      seconds: Math.round((performance.now() - began) / 1000),
    };
  } finally {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await balancer.close();
    await db.end();
    await sandbox.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
