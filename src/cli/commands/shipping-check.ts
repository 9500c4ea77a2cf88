/**
 * `minipay shipping-check`: WeChat's unshipped orders against minipay (docs/shipping.md), the
 * command-line twin of `GET /admin/v1/shipping/check`, for cron and CI. Exit codes: 0 nothing
 * to act on, 1 findings, 2 usage, 3 the check could not run.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCliPayments } from '../../app/cli-payments.js';
import { loadConfig } from '../../app/config.js';
import { createLogger } from '../../app/logger.js';
import type { ShippingCheck } from '../../contract/index.js';
import { DomainError } from '../../payments/index.js';
import { type Command, UsageError } from '../command.js';

/** The admin API's bounds (ShippingCheckQuery). */
const MAX_DAYS = 30;
const DEFAULT_DAYS = 7;

const usage = `Usage: minipay shipping-check [--days N]

Asks WeChat's mini program platform (MINIPAY_WECHAT_API_BASE_URL: WeChat, or a sandbox) for its
unshipped orders (get_order_list, 待发货) paid in the last N days and compares them with the
database in MINIPAY_DATABASE_URL. Reports each order minipay does not know (a payment of another
system or merchant on this mini program) and each one minipay thinks shipped while WeChat has no
shipping info. Reads only.

Exit codes: 0 nothing to act on, 1 findings, 2 usage, 3 the check could not run (configuration,
demo mode, WeChat unreachable or refusing, database not migrated). Needs the merchant variables
(not demo mode) and a migrated database.

Options:
  --days N       how many days back, 1 to ${MAX_DAYS} (default ${DEFAULT_DAYS})
  -h, --help     show this help`;

const say = (line: string) => process.stdout.write(`${line}\n`);

export const shippingCheckCommand: Command = {
  name: 'shipping-check',
  summary: "Check WeChat's unshipped orders against minipay (exit 1 on findings)",
  usage,
  async run(argv) {
    const days = daysOf(argv);
    const fail = (message: string) => {
      process.stderr.write(`minipay shipping-check: ${message}\n`);
      return 3;
    };
    let opened: Awaited<ReturnType<typeof openCliPayments>>;
    try {
      const config = loadConfig();
      const logger = createLogger(config.logLevel, pino.destination(2));
      opened = await openCliPayments(config, logger, {
        inDemo: 'ask its GET /admin/v1/shipping/check',
        platform: true,
      });
    } catch (err) {
      return fail((err as Error).message);
    }
    try {
      const check = await opened.payments.shipping!.check(days);
      print(days, check);
      return check.findings.length === 0 ? 0 : 1;
    } catch (err) {
      const what =
        err instanceof DomainError ? `${err.code}: ${err.message}` : (err as Error).message;
      return fail(
        `${what} (WeChat did not answer the check: check MINIPAY_WECHAT_API_BASE_URL, MINIPAY_APPID and MINIPAY_APPSECRET, then run it again)`,
      );
    } finally {
      await opened.close();
    }
  },
};

function daysOf(argv: string[]): number {
  let days: string | undefined;
  try {
    ({
      values: { days },
    } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { days: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (days === undefined) return DEFAULT_DAYS;
  // The admin API's pattern (ShippingCheckQuery): 1 to 30, no leading zero.
  const n = /^([1-9]|[12][0-9]|30)$/.test(days) ? Number(days) : Number.NaN;
  if (!(n >= 1 && n <= MAX_DAYS)) {
    throw new UsageError(
      `--days must be a whole number from 1 to ${MAX_DAYS}, got "${days.slice(0, 40)}"`,
    );
  }
  return n;
}

const ADVICE: Record<ShippingCheck['findings'][number]['problem'], string> = {
  unknown_order:
    'minipay has no such order (another system or merchant on this mini program): upload its shipping info from the system that took it',
  shipped_in_minipay:
    "minipay thinks it shipped but WeChat has no shipping info: see the order's WeChat view in the console and enter the info in WeChat's own admin",
};

function print(days: number, check: ShippingCheck) {
  const { findings } = check;
  say(
    `minipay shipping-check, last ${days} day(s): ${findings.length === 0 ? 'nothing to act on' : `${findings.length} finding(s)`}`,
  );
  say(
    `  WeChat:  ${check.examined} unshipped order(s) paid ${check.from} to ${check.to} looked at`,
  );
  if (!check.complete) {
    say('  incomplete: stopped at the page limit before WeChat’s last page; use fewer --days');
  }
  for (const f of findings) {
    const order = f.orderId === null ? '' : `, order ${f.orderId}`;
    say(
      `  ${f.problem} ${f.merchantTradeNo} (transaction ${f.transactionId}, mch_id ${f.merchantId}${order}, paid ${f.paidAt ?? 'unknown'}): ${ADVICE[f.problem]}`,
    );
  }
}
