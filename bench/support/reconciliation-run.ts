/**
 * One timed reconciliation, in a process of its own so that its peak RSS is its own:
 *
 *   node --import tsx bench/support/reconciliation-run.ts <database URL> <generated day dir>
 *   node --import tsx bench/support/reconciliation-run.ts none <generated day dir>   (the bill only)
 *   node --import tsx bench/support/reconciliation-run.ts matcher <dir> <rows>   (matchDay
 *     only: as many payments a side as the bill has rows, made on the fly in key order)
 *
 * Streams `bill.csv.gz` through `readTradeBill`, sorts it, matches it against the ledger already
 * in the database (reconciliation-day.ts), checks that the differences found are exactly the
 * planted ones, and prints one JSON line.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Confirmation } from '../../src/payments/confirmation/confirmation.js';
import { DEFAULT_SETTINGS, noMetrics, type PaymentsContext } from '../../src/payments/context.js';
import type { PaymentGateway } from '../../src/payments/gateway/gateway.js';
import { tradeBillFrom } from '../../src/payments/gateway/wechatpay-v2-gateway.js';
import { type Difference, matchDay } from '../../src/payments/reconciliation/match.js';
import { Reconciliation } from '../../src/payments/reconciliation/reconciliation.js';
import { openStore, type Store } from '../../src/store/index.js';
import { type BillSummary, readTradeBill } from '../../src/wechatpay/index.js';
import { DAY, MERCHANT, type Planted } from './reconciliation-data.js';
import { reconcilePostgres, reconcileSqlite } from './reconciliation-day.js';

const [url, dir] = process.argv.slice(2) as [string, string];
const engine = process.argv[5] === 'engine';
const store = url === 'none' || url === 'matcher' ? undefined : openStore(url);
const baselineMiB = Math.round(process.memoryUsage.rss() / 2 ** 20);
const started = performance.now();
const cpu = process.cpuUsage();
const mainCpu = mainThreadCpuMs();
const bill = readTradeBill(
  createReadStream(join(dir, 'bill.csv.gz'), { highWaterMark: 256 * 1024 }),
);
const day = {
  start: new Date(DAY.start).toISOString(),
  end: new Date(DAY.start + 86_400_000).toISOString(),
  merchant: MERCHANT,
};
const result = store
  ? withLedgerRows(await reconcile(store))
  : url === 'none'
    ? await readOnly()
    : await matcherOnly(Number(process.argv[4]));
const totalMs = Math.round(performance.now() - started);
const used = process.cpuUsage(cpu);
const cpuMs = Math.round((used.user + used.system) / 1000);
const mainCpuMs = mainThreadCpuMs() - mainCpu;
await store?.close();

const planted = JSON.parse(readFileSync(join(dir, 'planted.json'), 'utf8')) as Planted[];
const key = (d: { kind: string; key: string }) => `${d.kind} ${d.key}`;
const found = result.differences.map(key).sort();
const expected = store ? planted.map(key).sort() : [];
const missed = expected.filter((d) => !found.includes(d));
const extra = found.filter((d) => !expected.includes(d));

console.log(
  JSON.stringify({
    totalMs,
    cpuMs,
    mainCpuMs,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    baselineMiB,
    billRows: result.summary.tradeCount,
    ledgerRows: result.ledgerRows,
    differences: result.differences.length,
    exact: missed.length === 0 && extra.length === 0,
    missed: missed.slice(0, 5),
    extra: extra.slice(0, 5),
  }),
);

function reconcile(store: Store) {
  if (engine) return reconcileWithEngine(store);
  return url.startsWith('sqlite:')
    ? reconcileSqlite(url.slice('sqlite:'.length), bill, day)
    : reconcilePostgres(store, bill, day);
}

function withLedgerRows(r: Awaited<ReturnType<typeof reconcile>>) {
  return { ...r, ledgerRows: r.totals.ledger.payments.count + r.totals.ledger.refunds.count };
}

/** `matchDay` alone on `n` payments a side, one in a thousand with another amount. */
async function matcherOnly(n: number) {
  const key = (i: number) => `MP${String(i).padStart(20, '0')}ABCDEFGHIJ`;
  function* bill() {
    for (let i = 0; i < n; i++) {
      yield {
        outTradeNo: key(i),
        transactionId: `4200${i}`,
        appId: MERCHANT.appIds[0]!,
        mchId: MERCHANT.mchId,
        currency: 'CNY',
        amountFen: 100,
        settlementFen: 100,
        feeMilliFen: 1000,
      };
    }
  }
  function* ledger() {
    for (let i = 0; i < n; i++) {
      const amountFen = i % 1000 === 0 ? 101 : 100;
      yield { outTradeNo: key(i), transactionId: `4200${i}`, amountFen, currency: 'CNY' };
    }
  }
  const run = matchDay({
    merchant: MERCHANT,
    bill: { payments: bill(), refunds: [] },
    ledger: { payments: ledger(), refunds: [] },
  });
  let differences = 0;
  for await (const _ of run) differences++;
  if (differences !== Math.ceil(n / 1000)) throw new Error(`${differences} differences`);
  const summary = { tradeCount: n } as BillSummary;
  return { summary, differences: [] as Difference[], ledgerRows: n };
}

/** The bill read and checked, nothing else: the protocol layer's share of a run. */
async function readOnly() {
  for await (const _ of bill.batches());
  return { summary: bill.summary!, differences: [], ledgerRows: 0 };
}

/** The engine minipay runs: `Reconciliation.compare` (src/payments/reconciliation/ledger-repo.ts). */
async function reconcileWithEngine(store: Store) {
  const ctx: PaymentsContext = {
    db: store.db,
    // compare() asks the gateway for the merchant's identity only.
    gateway: { appId: MERCHANT.appIds[0]!, mchId: MERCHANT.mchId } as PaymentGateway,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    settings: { ...DEFAULT_SETTINGS, notifyUrl: '' },
    metrics: noMetrics,
  };
  const engineRun = new Reconciliation(ctx, new Confirmation(ctx));
  const source = createReadStream(join(dir, 'bill.csv.gz'), { highWaterMark: 256 * 1024 });
  const found = await engineRun.compare(tradeBillFrom(source), DAY.date);
  return {
    summary: {
      tradeCount: found.totals.bill.payments.count + found.totals.bill.refunds.count,
    } as BillSummary,
    totals: found.totals,
    differences: found.differences,
  };
}

/**
 * The main thread's CPU time alone (Linux: its /proc task, in clock ticks of 10 ms): what a run
 * whose other threads work beside it is bound by on an idle machine.
 */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
