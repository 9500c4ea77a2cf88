/**
 * A checkout without HTTP and without WeChat: `checkout.checkout` in this process on a fresh
 * store, `concurrency` at a time, each with a new Idempotency-Key, against the real APIv2
 * gateway whose unifiedorder answers at once (a prepay_id, no network), so the domain's and
 * the store's share of a checkout can be measured and profiled apart from the server and the
 * sandbox (`node --cpu-prof --import tsx bench/checkout-domain.bench.ts`). Prints checkouts per
 * second, CPU time per checkout (the steadier figure on a shared machine), SQL statements and
 * commits per checkout (SQLite), and checks every order ended PENDING with a completed key.
 *
 *   node --import tsx bench/checkout-domain.bench.ts [checkouts, default 3000] [concurrency, default 10] [database URL, default a temp SQLite file]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pino from 'pino';
import type { PrepayRequest, PrepayResult } from '../src/payments/gateway/gateway.js';
import { WechatPayV2Gateway } from '../src/payments/gateway/wechatpay-v2-gateway.js';
import { createPayments, DEFAULT_SETTINGS } from '../src/payments/index.js';
import { DEMO_CREDENTIALS } from '../src/sandbox/credentials.js';
import { openStore, transactionPerUnit } from '../src/store/index.js';

const count = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'minipay-bench-checkout-domain-'));
const databaseUrl = process.argv[4] ?? `sqlite:${join(dir, 'minipay.sqlite')}`;

/** The real gateway (payment parameters signed as in production), WeChat answering at once. */
class InstantGateway extends WechatPayV2Gateway {
  override async prepay(_request: PrepayRequest): Promise<PrepayResult> {
    return {
      prepayId: `wx${randomBytes(14).toString('hex')}`,
      prepayExpiresAt: new Date(Date.now() + 2 * 3600_000),
    };
  }
}

// SQLite statements and commits, counted where better-sqlite3 runs them: a commit is a COMMIT
// or a write outside any transaction (autocommit). BEGIN/COMMIT are not counted as statements.
let statements = 0;
let commits = 0;
const prepare = SQLite.prototype.prepare;
SQLite.prototype.prepare = function (this: SQLite.Database, text: string) {
  const statement = prepare.call(this, text);
  const control = /^(begin|commit|rollback)/i.test(text);
  for (const method of ['run', 'all', 'get'] as const) {
    const run = statement[method] as (...args: unknown[]) => unknown;
    (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (/^commit/i.test(text)) commits++;
      else if (!control) {
        statements++;
        if (!statement.readonly && !this.inTransaction) commits++;
      }
      return run.apply(statement, args);
    };
  }
  return statement;
} as typeof SQLite.prototype.prepare;
const store = openStore(databaseUrl);
await store.migrate();
const gateway = new InstantGateway({ ...DEMO_CREDENTIALS, signType: 'MD5' });
const payments = createPayments(
  {
    db: store.db,
    // As `minipay start` runs it (group commit on SQLite); BENCH_PLAIN_TX=1: a transaction each.
    transact: process.env.BENCH_PLAIN_TX ? transactionPerUnit(store.db) : store.transact,
    gateway,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    settings: { ...DEFAULT_SETTINGS, notifyUrl: 'http://127.0.0.1:9/wechatpay/v2/notify' },
    metrics: { inc: () => undefined },
  },
  {
    code2Session: async (code) => ({ openid: `oBench${code}`, sessionKey: 'bench-session-key' }),
  },
);
await payments.catalogue.seed([{ id: 'prd_tea', name: 'Jasmine tea', priceFen: 600 }]);
const { token } = await payments.login.login('checkout');
const items = [{ productId: 'prd_tea', quantity: 2 }];

let next = 0;
statements = 0;
commits = 0;
const started = process.hrtime.bigint();
const cpuBefore = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      // As the route does: the session first, then the checkout.
      const user = await payments.login.authenticate(token);
      if (!user) throw new Error('the session was not found');
      const r = await payments.checkout.checkout(user, { items }, `bench-${i}`, '127.0.0.1');
      if (r.status !== 201 || r.body.payment === null) {
        throw new Error(`checkout ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const sqlite = databaseUrl.startsWith('sqlite:');
const perCheckout = sqlite
  ? `${(statements / count).toFixed(1)} SQL statements in ${(commits / count).toFixed(1)} commits each`
  : 'statements not counted on PostgreSQL';
const pending = await sql<{
  n: number;
}>`select count(*) as n from orders where status = 'PENDING' and prepay_id is not null`.execute(
  store.db,
);
const keys = await sql<{
  n: number;
}>`select count(*) as n from idempotency_keys where state = 'done' and resource_id is not null`.execute(
  store.db,
);
await store.close();
await gateway.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `checkout on ${databaseUrl.split(':')[0]}: ${count} checkouts, ${concurrency} at a time: ${(count / seconds).toFixed(0)}/s, ${((cpu.user + cpu.system) / count).toFixed(0)} µs CPU, ${perCheckout} (Node ${process.versions.node})`,
);
const n = (r: { rows: { n: number }[] }) => Number(r.rows[0]?.n ?? 0);
if (n(pending) !== count || n(keys) !== count) {
  console.error(`NOT every checkout PENDING with a completed key: ${n(pending)} / ${n(keys)}`);
  process.exitCode = 1;
}
