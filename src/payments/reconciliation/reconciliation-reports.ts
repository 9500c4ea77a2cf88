/**
 * What the admin API and the console read of reconciliation: the runs (newest day first), a
 * day with its differences (filterable by kind), a day's differences as CSV; and a run asked
 * for by a person, whose WeChat failures become answers that say what to do.
 */
import type {
  ReconciliationDay,
  ReconciliationDayQuery,
  ReconciliationList,
  ReconciliationListQuery,
  ReconciliationRun,
} from '../../contract/index.js';
import type { PaymentsContext } from '../context.js';
import { GatewayError } from '../gateway/gateway.js';
import { DomainError, notFound, validation } from '../lib/errors.js';
import { decodeKeyCursor, encodeKeyCursor, parseLimit } from '../lib/page-cursor.js';
import { dayOf, isDay } from './days.js';
import { DIFFERENCE_KINDS } from './match.js';
import type { Reconciliation } from './reconciliation.js';
import { findRun, listItems, listRuns } from './reconciliation-repo.js';
import { itemView, runView } from './reconciliation-view.js';

const CSV_COLUMNS = [
  'date',
  'kind',
  'status',
  'key',
  'out_trade_no',
  'order_id',
  'bill_amount_fen',
  'ledger_amount_fen',
  'detail',
  'created_at',
];
const CSV_PAGE = 500;

export class ReconciliationReports {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly engine: Reconciliation,
  ) {}

  async list(query: ReconciliationListQuery = {}): Promise<ReconciliationList> {
    const limit = parseLimit(query.limit);
    const before =
      query.cursor === undefined
        ? undefined
        : decodeKeyCursor('reconciliations', query.cursor, 1)[0];
    const rows = await listRuns(this.ctx.db, limit + 1, before);
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return {
      runs: page.map(runView),
      nextCursor: more ? encodeKeyCursor('reconciliations', [page.at(-1)!.day]) : null,
    };
  }

  async day(date: string, query: ReconciliationDayQuery = {}): Promise<ReconciliationDay> {
    const run = await this.run(date);
    const limit = parseLimit(query.limit);
    const kind = checkedKind(query.kind);
    const after =
      query.cursor === undefined ? undefined : decodeKeyCursor(`items:${date}`, query.cursor, 3);
    const rows = await listItems(this.ctx.db, date, {
      kind,
      limit: limit + 1,
      after: after && { kind: after[0]!, key: after[1]!, id: after[2]! },
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      run,
      items: page.map(itemView),
      nextCursor:
        rows.length > limit && last
          ? encodeKeyCursor(`items:${date}`, [last.kind, last.key, last.id])
          : null,
    };
  }

  /**
   * The day's differences as CSV lines (a header first), read a page at a time; refused before
   * the first line when the day or the kind is not one.
   */
  async csv(date: string, kind?: string): Promise<AsyncIterable<string>> {
    await this.run(date);
    return this.csvLines(date, checkedKind(kind));
  }

  private async *csvLines(date: string, only: string | undefined): AsyncGenerator<string> {
    yield csvLine(CSV_COLUMNS);
    let after: { kind: string; key: string; id: string } | undefined;
    for (;;) {
      const rows = await listItems(this.ctx.db, date, { kind: only, limit: CSV_PAGE, after });
      for (const row of rows) {
        const item = itemView(row);
        yield csvLine([
          date,
          item.kind,
          item.status,
          item.key,
          item.outTradeNo ?? '',
          item.orderId ?? '',
          amount(item.bill),
          amount(item.ledger),
          item.detail,
          item.createdAt,
        ]);
      }
      if (rows.length < CSV_PAGE) return;
      const last = rows.at(-1)!;
      after = { kind: last.kind, key: last.key, id: last.id };
    }
  }

  /** Reconciles `date` now; WeChat's failures as answers that say what to do. */
  async runNow(date: string): Promise<ReconciliationRun> {
    checkedDate(date);
    if (date >= dayOf(this.ctx.clock())) {
      throw validation(`${date} has not ended in Beijing yet: WeChat has no bill for it`);
    }
    try {
      await this.engine.run(date);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.code === 'BILL_NOT_READY') {
        throw new DomainError(
          409,
          'BILL_NOT_READY',
          `WeChat has not published the bill of ${date} yet (after 10:00 Beijing the next day); the daily job asks again`,
        );
      }
      throw new DomainError(
        502,
        'RECONCILIATION_FAILED',
        `the bill could not be read: ${err.message}`,
      );
    }
    return this.run(date);
  }

  private async run(date: string): Promise<ReconciliationRun> {
    checkedDate(date);
    const row = await findRun(this.ctx.db, date);
    if (!row) throw notFound('reconciliation');
    return runView(row);
  }
}

function checkedDate(date: string): void {
  if (!isDay(date)) throw validation('date must be a day written yyyy-MM-dd');
}

function checkedKind(kind: string | undefined): string | undefined {
  if (kind === undefined) return undefined;
  if (!(DIFFERENCE_KINDS as readonly string[]).includes(kind)) {
    throw validation(`kind must be one of ${DIFFERENCE_KINDS.join(', ')}`);
  }
  return kind;
}

function amount(side: Record<string, unknown> | null): string {
  const fen = side?.amountFen;
  return typeof fen === 'number' ? String(fen) : '';
}

/**
 * One CSV line (RFC 4180): fields with a comma, quote or line break are quoted; a field that
 * a spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with an apostrophe.
 */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
