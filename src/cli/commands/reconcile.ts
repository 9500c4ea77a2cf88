/**
 * `minipay reconcile`: a day's WeChat bill against the ledger, from the command line, for cron
 * and CI (docs/reconciliation.md). Exit codes: 0 no open difference, 1 differences, 2 usage,
 * 3 the day could not be reconciled (bill not out yet, unreadable, configuration).
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCliPayments } from '../../app/cli-payments.js';
import { loadConfig } from '../../app/config.js';
import { createLogger } from '../../app/logger.js';
import { tradeBillFrom } from '../../payments/gateway/wechatpay-v2-gateway.js';
import { DomainError, GatewayError, isDay } from '../../payments/index.js';
import type { DayTotals, Difference } from '../../payments/reconciliation/match.js';
import { type Command, UsageError } from '../command.js';

const usage = `Usage: minipay reconcile --date YYYY-MM-DD
       minipay reconcile --bill FILE [--date YYYY-MM-DD]

--date: reconciles that Beijing day as the daily job does: asks WeChat (MINIPAY_WECHATPAY_BASE_URL:
WeChat, or a sandbox) for its trade bill, matches it against the ledger in MINIPAY_DATABASE_URL,
repairs payments WeChat has that are not PAID here, records the run and its differences.

--bill: offline: matches a downloaded trade bill (plain or gzip, as WeChat sends it) against
the ledger of its day (the day of its first payment row, or --date) and changes nothing.

Prints the totals and every open difference, and exits 0 when there is none, 1 when there are
differences, 3 when the day could not be reconciled (WeChat has not published the bill yet, the
bill does not add up, the configuration is wrong). Needs the merchant variables (not demo mode)
and a migrated database.

Options:
  --date DAY     the Beijing day, e.g. 2026-12-03
  --bill FILE    a trade bill file (offline)
  -h, --help     show this help`;

const say = (line: string) => process.stdout.write(`${line}\n`);

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: "Reconcile a day: WeChat's bill against the ledger (exit 1 on differences)",
  usage,
  async run(argv) {
    const { date, bill } = options(argv);
    let opened: Awaited<ReturnType<typeof openCliPayments>>;
    try {
      const config = loadConfig();
      const logger = createLogger(config.logLevel, pino.destination(2));
      opened = await openCliPayments(config, logger, { inDemo: 'reconcile from the console' });
    } catch (err) {
      process.stderr.write(`minipay reconcile: ${(err as Error).message}\n`);
      return 3;
    }
    const engine = opened.payments.reconciliation;
    try {
      if (bill !== undefined) {
        const found = await engine.compare(tradeBillFrom(createReadStream(bill)), date);
        print(`${found.day} (offline, ${bill})`, found.totals, found.differences, []);
        return found.differences.length === 0 ? 0 : 1;
      }
      const run = await engine.run(date!);
      print(run.day, run.totals, run.open, run.repaired);
      return run.open.length === 0 ? 0 : 1;
    } catch (err) {
      process.stderr.write(`minipay reconcile: ${explain(err)}\n`);
      return 3;
    } finally {
      await opened.close();
    }
  },
};

function options(argv: string[]): { date?: string; bill?: string } {
  let values: { date?: string; bill?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { date: { type: 'string' }, bill: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.date === undefined && values.bill === undefined) {
    throw new UsageError('give --date (ask WeChat) or --bill (a downloaded bill)');
  }
  if (values.date !== undefined && !isDay(values.date)) {
    throw new UsageError(
      `--date must be a day written YYYY-MM-DD, got "${values.date.slice(0, 40)}"`,
    );
  }
  return values;
}

function explain(err: unknown): string {
  if (err instanceof GatewayError && err.code === 'BILL_NOT_READY') {
    return `${err.message} (exit 3: try again later)`;
  }
  if (err instanceof GatewayError || err instanceof DomainError)
    return `${err.code}: ${err.message}`;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT')
    return `no such file: ${(err as Error).message}`;
  return (err as Error).message;
}

const fen = (n: number) => `${(n / 100).toFixed(2)} yuan`;
const milliFen = (n: number) => `${(n / 100_000).toFixed(5)} yuan`;

function print(what: string, totals: DayTotals, open: Difference[], repaired: Difference[]) {
  const { bill, ledger } = totals;
  say(
    `minipay reconcile ${what}: ${open.length === 0 ? 'matched' : `${open.length} difference(s)`}`,
  );
  say(
    `  bill:    ${bill.payments.count} payments ${fen(bill.payments.fen)}, ${bill.refunds.count} refunds ${fen(bill.refunds.fen)}, fees ${milliFen(bill.feeMilliFen)}, net ${milliFen(bill.netMilliFen)}`,
  );
  say(
    `  ledger:  ${ledger.payments.count} payments ${fen(ledger.payments.fen)}, ${ledger.refunds.count} refunds ${fen(ledger.refunds.fen)}`,
  );
  for (const d of repaired) say(`  repaired ${d.kind} ${d.key}: ${d.detail}`);
  for (const d of open) say(`  ${d.kind} ${d.key}: ${d.detail}`);
}
