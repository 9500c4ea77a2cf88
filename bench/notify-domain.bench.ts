/**
 * A payment notify without HTTP: `confirmation.handleNotify` in this process on a seeded store,
 * `concurrency` at a time, so the domain's and the store's share of a notify can be measured
 * and profiled apart from the server (`node --cpu-prof --import tsx bench/notify-domain.bench.ts`).
 * Prints notifies per second, CPU time per notify (the steadier figure on a shared machine), SQL
 * statements per notify, and checks every order ended PAID exactly once.
 *
 *   node --import tsx bench/notify-domain.bench.ts [notifies, default 5000] [concurrency, default 10] [database URL, default a temp SQLite file]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import pino from 'pino';
import { WechatPayV2Gateway } from '../src/payments/gateway/wechatpay-v2-gateway.js';
import { createPayments, DEFAULT_SETTINGS } from '../src/payments/index.js';
import { DEMO_CREDENTIALS } from '../src/sandbox/credentials.js';
import { groupCommit, openStore, transactionPerUnit } from '../src/store/index.js';
import { countPaid, seedPendingOrders } from './support/minipay-process.js';
import { type PendingOrder, paymentNotifyXml } from './support/notify-bodies.js';

const count = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'minipay-bench-domain-'));
const databaseUrl = process.argv[4] ?? `sqlite:${join(dir, 'minipay.sqlite')}`;

const orders: PendingOrder[] = Array.from({ length: count }, (_, i) => ({
  outTradeNo: `BD${process.pid}${String(i).padStart(12, '0')}`,
  totalFen: 100 + (i % 900),
  openid: `oBench${String(i % 1000).padStart(6, '0')}`,
}));
await seedPendingOrders(databaseUrl, orders);
const bodies = orders.map((o) => Buffer.from(paymentNotifyXml(DEMO_CREDENTIALS, o)));

let statements = 0;
// Counted as they run (a prepared query is compiled once but runs every time); group commit's
// savepoints are counted, BEGIN and COMMIT are not.
const counting: KyselyPlugin = {
  transformQuery: (args) => args.node,
  transformResult: async (args) => {
    statements++;
    return args.result;
  },
};
const store = openStore(databaseUrl);
const countingDb = store.db.withPlugin(counting);
const gateway = new WechatPayV2Gateway({ ...DEMO_CREDENTIALS, signType: 'MD5' });
const payments = createPayments(
  {
    db: countingDb,
    transact:
      store.dialect === 'sqlite' && !process.env.BENCH_PLAIN_TX
        ? groupCommit(countingDb)
        : transactionPerUnit(countingDb),
    gateway,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    settings: { ...DEFAULT_SETTINGS, notifyUrl: 'http://127.0.0.1:9/wechatpay/v2/notify' },
    metrics: { inc: () => undefined },
  },
  { code2Session: async () => Promise.reject(new Error('no logins here')) },
);

let next = 0;
const results = new Map<string, number>();
const started = process.hrtime.bigint();
const cpuBefore = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as Buffer;
      const handled = await payments.confirmation.handleNotify({ headers: {}, body });
      const key = `${handled.outcome}/${handled.result}`;
      results.set(key, (results.get(key) ?? 0) + 1);
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
await store.close();
await gateway.close();
const paid = await countPaid(databaseUrl);
rmSync(dir, { recursive: true, force: true });

console.log(
  `handleNotify on ${databaseUrl.split(':')[0]}: ${count} notifies, ${concurrency} at a time: ${(count / seconds).toFixed(0)}/s, ${((cpu.user + cpu.system) / count).toFixed(0)} µs CPU and ${(statements / count).toFixed(1)} SQL statements each (savepoints included) (Node ${process.versions.node})`,
);
console.log(`outcomes: ${[...results].map(([k, v]) => `${k} ${v}`).join(', ')}`);
if (paid.paid !== count || paid.paidEvents !== count || paid.paidEventOrders !== count) {
  console.error(`NOT all paid exactly once: ${JSON.stringify(paid)}`);
  process.exitCode = 1;
}
