/**
 * Checkout throughput: one user logs in once, then POST /api/v1/orders (price from the
 * catalogue, unifiedorder against the sandbox, signed payment parameters) with a new
 * Idempotency-Key each time, sent by autocannon. Each target runs in its own process against
 * a fresh sandbox in another process, side by side in one run:
 *   - seed-koa: the seed-style baseline (Koa + raw-body + fetch + xml2js + MD5 + SQLite);
 *   - minipay-sqlite: `minipay start` with the sandbox's credentials as a live merchant (so
 *     WeChat is the sandbox process, as for the baseline), its product created through the
 *     admin API; minipay-postgres too when BENCH_TARGETS names it (PostgreSQL installed);
 * Every answer must be 201 with payment parameters (autocannon counts anything else).
 * The machine is shared, so targets run interleaved for several rounds and each is reported by
 * its median round.
 *
 *   node --import tsx bench/checkout.bench.ts [orders per target, default 1500] [connections, default 10] [rounds, default 3]
 *
 * BENCH_TARGETS=minipay-sqlite,seed-koa runs only those; BENCH_CPU_PROF=<dir> writes a CPU
 * profile of every minipay process there; BENCH_LOG_LEVEL sets minipay's (default info).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PgCluster, startPostgres } from '../test/support/postgres.js';
import { type ChildServer, startChildServer } from './support/child-server.js';
import {
  interleavedRounds,
  loadArgs,
  medians,
  type Row,
  sendAll,
  table,
  targetWanted,
} from './support/load.js';
import { startMinipay } from './support/minipay-process.js';
import {
  ensureBuilt,
  loginCode,
  SANDBOX_CREDENTIALS,
  startSandboxProcess,
} from './support/sandbox-process.js';

const { count, connections, rounds, logLevel } = loadArgs(1500);
const warmup = Math.min(500, Math.ceil(count / 5));

/** A merchant server under test, started against the sandbox at `wechatUrl`. */
interface Target {
  name: string;
  start(wechatUrl: string, dir: string): Promise<ChildServer>;
  /** A product id to order. */
  productId(server: ChildServer): Promise<string>;
}

function seedKoa(): Target {
  const c = SANDBOX_CREDENTIALS;
  return {
    name: 'seed-koa',
    start: (wechatUrl, dir) =>
      startChildServer(process.execPath, ['bench/baselines/seed-checkout-koa.mjs'], {
        BENCH_DB: join(dir, 'shop.sqlite'),
        BENCH_WECHAT_URL: wechatUrl,
        BENCH_APPID: c.appId,
        BENCH_APPSECRET: c.appSecret,
        BENCH_MCHID: c.mchId,
        BENCH_MCH_KEY: c.mchKey,
      }),
    productId: async () => 'prd_tea',
  };
}

/** `minipay start` as a live merchant whose WeChat is the sandbox at `wechatUrl`. */
function minipay(name: string, databaseUrl: (dir: string) => Promise<string>): Target {
  const c = SANDBOX_CREDENTIALS;
  const adminToken = randomBytes(18).toString('base64url');
  return {
    name,
    start: async (wechatUrl, dir) =>
      startMinipay(
        {
          MINIPAY_APPID: c.appId,
          MINIPAY_APPSECRET: c.appSecret,
          MINIPAY_MCHID: c.mchId,
          MINIPAY_MCH_KEY: c.mchKey,
          MINIPAY_NOTIFY_BASE_URL: 'http://127.0.0.1:9',
          MINIPAY_WECHATPAY_BASE_URL: wechatUrl,
          MINIPAY_WECHAT_API_BASE_URL: wechatUrl,
          MINIPAY_DATABASE_URL: await databaseUrl(dir),
          MINIPAY_ADMIN_TOKEN: adminToken,
          MINIPAY_LOG_LEVEL: logLevel,
          // One user places every order: off, or the limit (30 a minute per user) would answer.
          MINIPAY_RATE_LIMIT_ORDERS: '0',
        },
        name,
      ),
    async productId(server) {
      const res = await fetch(`${server.url}/admin/v1/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ id: 'prd_tea', name: 'Jasmine tea', priceFen: 600 }),
      });
      if (res.status !== 201) throw new Error(`create product: ${res.status} ${await res.text()}`);
      return 'prd_tea';
    },
  };
}

async function login(server: ChildServer, sandboxUrl: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: await loginCode(sandboxUrl) }),
  });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function measure(target: Target, round: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-bench-checkout-'));
  const sandbox = await startSandboxProcess();
  let server: ChildServer | undefined;
  try {
    server = await target.start(sandbox.url, dir);
    const token = await login(server, sandbox.url);
    const productId = await target.productId(server);
    const body = JSON.stringify({ items: [{ productId, quantity: 2 }] });
    const url = `${server.url}/api/v1/orders`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const key = (offset: number) => (i: number) => ({
      'idempotency-key': `bench-${round}-${offset + i}`,
    });
    const bodies = (n: number) => Array.from({ length: n }, () => body);
    await sendAll({ url, bodies: bodies(warmup), connections, headers, headersFor: key(0) });
    const stopRss = server.watchRss();
    const cpuBefore = server.cpuSeconds();
    const sandboxCpuBefore = sandbox.cpuSeconds();
    const result = await sendAll({
      url,
      bodies: bodies(count),
      connections,
      headers,
      headersFor: key(warmup),
    });
    const peakRssMiB = stopRss();
    const cpuUsPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / result.requests;
    const sandboxUs = ((sandbox.cpuSeconds() - sandboxCpuBefore) * 1e6) / result.requests;
    sandboxCpu.set(target.name, [...(sandboxCpu.get(target.name) ?? []), sandboxUs]);
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    return { name: target.name, result, peakRssMiB, cpuUsPerRequest };
  } finally {
    await server?.stop();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sandbox's (WeChat's) CPU µs per checkout, by target and round: the same work for each. */
const sandboxCpu = new Map<string, number[]>();

ensureBuilt();
const wanted = targetWanted((name) => ['seed-koa', 'minipay-sqlite'].includes(name));
let cluster: PgCluster | null = null;
if (wanted('minipay-postgres')) {
  cluster = await startPostgres();
  if (!cluster) console.log('minipay-postgres skipped: PostgreSQL server binaries not found');
}
const pg = cluster;
const targets = [
  seedKoa(),
  minipay('minipay-sqlite', async (dir) => `sqlite:${join(dir, 'minipay.sqlite')}`),
  ...(pg ? [minipay('minipay-postgres', () => pg.createDatabase())] : []),
].filter((t) => wanted(t.name));
const runs = await interleavedRounds(rounds, targets, measure);
console.log(
  `checkout: ${count} orders per target after ${warmup} warm-up, ${connections} connections, median of ${rounds} interleaved rounds, minipay logging at ${logLevel} (Node ${process.versions.node})`,
);
console.log(table(medians(runs), ['seed-koa']));
await cluster?.stop();
for (const [name, list] of runs) {
  console.log(
    `${name} req/s by round: ${list.map((r) => r.result.perSecond.toFixed(0)).join(', ')}; server CPU µs/req ${list.map((r) => r.cpuUsPerRequest.toFixed(0)).join(', ')}; sandbox CPU µs/req ${(sandboxCpu.get(name) ?? []).map((us) => us.toFixed(0)).join(', ')}`,
  );
}
