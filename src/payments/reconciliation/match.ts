/**
 * The matching of one day: WeChat's bill against minipay's ledger, as a merge join. It holds no
 * more than one entry of each input at a time, so a day of millions of rows costs no memory:
 * each input must come sorted by its key, ascending in code-unit order (what JavaScript's `<`
 * and SQL's binary collation give; on PostgreSQL `ORDER BY key COLLATE "C"`), and an input out
 * of order is refused (`MatchInputError`), never half-matched.
 *
 * Payments are matched by out_trade_no, refunds by out_refund_no. The amounts compared are the
 * ones each side asked for: the order's total against the bill's 订单金额 (before coupons), the
 * refund's amount against 申请退款金额. Rows of another merchant or app are differences of
 * their own and are not matched. Pure: no I/O, no clock, no imports from the rest of minipay.
 */

/** A payment row of the bill (交易状态 SUCCESS). Money in fen, fees in 1/1000 fen. */
export interface BillPayment {
  outTradeNo: string;
  transactionId: string;
  appId: string;
  mchId: string;
  currency: string;
  /** 订单金额: what the order asked for. */
  amountFen: number;
  /** 应结订单金额: what settles (订单金额 less coupons). */
  settlementFen: number;
  feeMilliFen: number;
  /** 交易时间, ISO-8601: when WeChat says it was paid. */
  paidAt?: string;
  /** Its place among the bill's rows (from 1), for reports. */
  row?: number;
}

/** A refund row of the bill (交易状态 REFUND). */
export interface BillRefund {
  outRefundNo: string;
  outTradeNo: string;
  refundId: string;
  appId: string;
  mchId: string;
  /** 申请退款金额: what the refund asked for. */
  amountFen: number;
  /** 退款金额: what was refunded (申请退款金额 less coupon refunds). */
  refundFen: number;
  /** Negative: the fee given back. */
  feeMilliFen: number;
  row?: number;
}

/** An order minipay holds as paid on the day. */
export interface LedgerPayment {
  outTradeNo: string;
  transactionId: string | null;
  amountFen: number;
  currency: string;
  orderId?: string;
}

/** A refund minipay holds as accepted by WeChat on the day. */
export interface LedgerRefund {
  outRefundNo: string;
  outTradeNo: string;
  amountFen: number;
  orderId?: string;
}

/** Who we are: bill rows of any other merchant or app are not ours. */
export interface Merchant {
  mchId: string;
  appIds: readonly string[];
}

/**
 * Entries in key order, from memory, a file or a database cursor. `Paged` is read a page at a
 * time: the entries of a page without awaiting each, a promise only for the next page.
 */
export type Sorted<T> = Iterable<T> | AsyncIterable<T> | Paged<T>;

export interface Paged<T> {
  pages: AsyncIterable<readonly T[]>;
}

export interface DayInput {
  merchant: Merchant;
  bill: { payments: Sorted<BillPayment>; refunds: Sorted<BillRefund> };
  ledger: { payments: Sorted<LedgerPayment>; refunds: Sorted<LedgerRefund> };
}

export const DIFFERENCE_KINDS = [
  /** Paid at WeChat, not PAID here on that day. */
  'paid_not_recorded',
  /** PAID here on that day, not in WeChat's bill. */
  'recorded_not_billed',
  'amount_mismatch',
  'currency_mismatch',
  /** Both sides name the order, with different WeChat transactions. */
  'transaction_mismatch',
  /** A refund in the bill that minipay does not hold for that day. */
  'refund_not_recorded',
  /** A refund minipay holds for that day that the bill does not have. */
  'refund_not_billed',
  /** The refund's amount or order differ. */
  'refund_mismatch',
  /** A bill row of another merchant or app. */
  'foreign_trade',
  /** The same key twice on one side. */
  'duplicate',
] as const;

export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

export interface Difference {
  kind: DifferenceKind;
  /** out_trade_no of a payment, out_refund_no of a refund. */
  key: string;
  /** What differs, in words. */
  detail: string;
  bill?: BillPayment | BillRefund;
  ledger?: LedgerPayment | LedgerRefund;
}

interface Flow {
  count: number;
  fen: number;
}

export interface DayTotals {
  bill: {
    /** Payment rows: their count and 订单金额; `settlementFen` sums 应结订单金额. */
    payments: Flow & { settlementFen: number };
    /** Refund rows: their count and 申请退款金额; `refundFen` sums 退款金额. */
    refunds: Flow & { refundFen: number };
    /** Fees less fees given back, 1/1000 fen. */
    feeMilliFen: number;
    /** What WeChat settles for the day: 应结订单金额 less 退款金额 less fees, 1/1000 fen. */
    netMilliFen: number;
  };
  ledger: { payments: Flow; refunds: Flow };
  differences: Record<DifferenceKind, number>;
}

/** An input that breaks the matcher's contract (out of key order). */
export class MatchInputError extends Error {
  override readonly name = 'MatchInputError';
}

/** The day's matching: iterate it once for the differences; `totals` is final at the end. */
export interface DayMatch extends AsyncIterable<Difference> {
  readonly totals: DayTotals;
}

/** Matches one day's bill against the ledger. */
export function matchDay(input: DayInput): DayMatch {
  const totals = emptyTotals();
  return {
    totals,
    async *[Symbol.asyncIterator]() {
      const own = (row: BillPayment | BillRefund) =>
        row.mchId === input.merchant.mchId && input.merchant.appIds.includes(row.appId);
      const differences = [
        join(
          new Cursor(input.bill.payments, (p) => p.outTradeNo, 'bill payments'),
          new Cursor(input.ledger.payments, (p) => p.outTradeNo, 'ledger payments'),
          paymentRules(own, totals),
        ),
        join(
          new Cursor(input.bill.refunds, (r) => r.outRefundNo, 'bill refunds'),
          new Cursor(input.ledger.refunds, (r) => r.outRefundNo, 'ledger refunds'),
          refundRules(own, totals),
        ),
      ];
      for (const found of differences) {
        for await (const difference of found) {
          totals.differences[difference.kind]++;
          yield difference;
        }
      }
    },
  };
}

function emptyTotals(): DayTotals {
  const flow = () => ({ count: 0, fen: 0 });
  return {
    bill: {
      payments: { ...flow(), settlementFen: 0 },
      refunds: { ...flow(), refundFen: 0 },
      feeMilliFen: 0,
      netMilliFen: 0,
    },
    ledger: { payments: flow(), refunds: flow() },
    differences: Object.fromEntries(DIFFERENCE_KINDS.map((k) => [k, 0])) as Record<
      DifferenceKind,
      number
    >,
  };
}

/** What one merge join does with its entries: count them, tell which are ours, compare. */
interface Rules<B, L> {
  billSeen(row: B): void;
  ledgerSeen(entry: L): void;
  foreign(row: B): Difference | undefined;
  onlyInBill(row: B): Difference;
  onlyInLedger(entry: L): Difference;
  compare(row: B, entry: L): Difference[];
}

function paymentRules(
  own: (row: BillPayment) => boolean,
  totals: DayTotals,
): Rules<BillPayment, LedgerPayment> {
  return {
    billSeen: (row) => {
      const t = totals.bill;
      t.payments.count++;
      t.payments.fen += row.amountFen;
      t.payments.settlementFen += row.settlementFen;
      t.feeMilliFen += row.feeMilliFen;
      t.netMilliFen += row.settlementFen * 1000 - row.feeMilliFen;
    },
    ledgerSeen: (entry) => {
      totals.ledger.payments.count++;
      totals.ledger.payments.fen += entry.amountFen;
    },
    foreign: (row) => (own(row) ? undefined : foreign(row.outTradeNo, row)),
    onlyInBill: (row) => ({
      kind: 'paid_not_recorded',
      key: row.outTradeNo,
      detail: `paid at WeChat (${row.transactionId}, ${row.amountFen} fen), not PAID here that day`,
      bill: row,
    }),
    onlyInLedger: (entry) => ({
      kind: 'recorded_not_billed',
      key: entry.outTradeNo,
      detail: `PAID here (${entry.amountFen} fen), not in WeChat's bill`,
      ledger: entry,
    }),
    compare: (row, entry) => {
      const found: Difference[] = [];
      const differ = (kind: DifferenceKind, detail: string) =>
        found.push({ kind, key: row.outTradeNo, detail, bill: row, ledger: entry });
      if (row.amountFen !== entry.amountFen) {
        differ('amount_mismatch', `${entry.amountFen} fen here, ${row.amountFen} fen at WeChat`);
      }
      if (row.currency !== entry.currency) {
        differ('currency_mismatch', `${entry.currency} here, ${row.currency} at WeChat`);
      }
      if (entry.transactionId !== null && entry.transactionId !== row.transactionId) {
        differ(
          'transaction_mismatch',
          `transaction ${entry.transactionId} here, ${row.transactionId} at WeChat`,
        );
      }
      return found;
    },
  };
}

function refundRules(
  own: (row: BillRefund) => boolean,
  totals: DayTotals,
): Rules<BillRefund, LedgerRefund> {
  return {
    billSeen: (row) => {
      const t = totals.bill;
      t.refunds.count++;
      t.refunds.fen += row.amountFen;
      t.refunds.refundFen += row.refundFen;
      t.feeMilliFen += row.feeMilliFen;
      t.netMilliFen -= row.refundFen * 1000 + row.feeMilliFen;
    },
    ledgerSeen: (entry) => {
      totals.ledger.refunds.count++;
      totals.ledger.refunds.fen += entry.amountFen;
    },
    foreign: (row) => (own(row) ? undefined : foreign(row.outRefundNo, row)),
    onlyInBill: (row) => ({
      kind: 'refund_not_recorded',
      key: row.outRefundNo,
      detail: `refunded at WeChat (${row.refundId}, ${row.amountFen} fen of ${row.outTradeNo}), not here that day`,
      bill: row,
    }),
    onlyInLedger: (entry) => ({
      kind: 'refund_not_billed',
      key: entry.outRefundNo,
      detail: `refund of ${entry.amountFen} fen of ${entry.outTradeNo} here, not in WeChat's bill`,
      ledger: entry,
    }),
    compare: (row, entry) => {
      const problems: string[] = [];
      if (row.amountFen !== entry.amountFen) {
        problems.push(`${entry.amountFen} fen here, ${row.amountFen} fen at WeChat`);
      }
      if (row.outTradeNo !== entry.outTradeNo) {
        problems.push(`of ${entry.outTradeNo} here, of ${row.outTradeNo} at WeChat`);
      }
      if (problems.length === 0) return [];
      const detail = problems.join('; ');
      return [{ kind: 'refund_mismatch', key: row.outRefundNo, detail, bill: row, ledger: entry }];
    },
  };
}

function foreign(key: string, row: BillPayment | BillRefund): Difference {
  return {
    kind: 'foreign_trade',
    key,
    detail: `a row of merchant ${row.mchId}, app ${row.appId}`,
    bill: row,
  };
}

/** The merge join of two sorted inputs by key. */
async function* join<B extends BillPayment | BillRefund, L extends LedgerPayment | LedgerRefund>(
  bill: Cursor<B>,
  ledger: Cursor<L>,
  rules: Rules<B, L>,
): AsyncGenerator<Difference> {
  // Synchronous inputs are read without awaiting: a promise only when there is one.
  let pending = both(bill, ledger);
  for (;;) {
    if (pending) await pending;
    const b = bill.current;
    const l = ledger.current;
    if (b === undefined && l === undefined) return;
    if (b !== undefined && bill.repeated) {
      rules.billSeen(b);
      yield duplicate(bill.key, 'bill', { bill: b });
      pending = bill.advance();
    } else if (l !== undefined && ledger.repeated) {
      rules.ledgerSeen(l);
      yield duplicate(ledger.key, 'ledger', { ledger: l });
      pending = ledger.advance();
    } else if (l === undefined || (b !== undefined && bill.key < ledger.key)) {
      rules.billSeen(b!);
      yield rules.foreign(b!) ?? rules.onlyInBill(b!);
      pending = bill.advance();
    } else if (b === undefined || bill.key > ledger.key) {
      rules.ledgerSeen(l);
      yield rules.onlyInLedger(l);
      pending = ledger.advance();
    } else {
      rules.billSeen(b);
      rules.ledgerSeen(l);
      const foreignRow = rules.foreign(b);
      if (foreignRow) {
        yield foreignRow;
        yield rules.onlyInLedger(l);
      } else {
        yield* rules.compare(b, l);
      }
      pending = both(bill, ledger);
    }
  }
}

/** Advances both cursors; a promise only when one of them is asynchronous. */
function both(a: Advancing, b: Advancing): Promise<unknown> | undefined {
  const pa = a.advance();
  const pb = b.advance();
  return pa && pb ? Promise.all([pa, pb]) : (pa ?? pb);
}

function duplicate(key: string, side: string, entries: Partial<Difference>): Difference {
  return { kind: 'duplicate', key, detail: `${key} is in the ${side} more than once`, ...entries };
}

type Advancing = Pick<Cursor<unknown>, 'advance'>;

/** One input, read an entry at a time; checks the key order as it goes. */
class Cursor<T> {
  current: T | undefined;
  key = '';
  /** Whether `current` has the same key as the entry before it. */
  repeated = false;
  private readonly iterator: Iterator<T> | AsyncIterator<T> | undefined;
  private readonly pages: AsyncIterator<readonly T[]> | undefined;
  private page: readonly T[] = [];
  private index = 0;

  constructor(
    source: Sorted<T>,
    private readonly keyOf: (entry: T) => string,
    private readonly name: string,
  ) {
    if ('pages' in source) {
      this.pages = source.pages[Symbol.asyncIterator]();
      this.iterator = undefined;
    } else {
      this.pages = undefined;
      this.iterator =
        Symbol.asyncIterator in source
          ? source[Symbol.asyncIterator]()
          : (source as Iterable<T>)[Symbol.iterator]();
    }
  }

  /** The next entry; a promise only when the input is asynchronous (or paged, and a page ended). */
  advance(): Promise<void> | undefined {
    if (this.pages) return this.nextOfPage();
    const next = this.iterator!.next();
    if (next instanceof Promise) return next.then((n) => this.take(n));
    this.take(next);
    return undefined;
  }

  private nextOfPage(): Promise<void> | undefined {
    if (this.index < this.page.length) {
      this.take({ done: false, value: this.page[this.index++]! });
      return undefined;
    }
    return this.pages!.next().then((next) => {
      if (next.done) return this.take(next);
      this.page = next.value;
      this.index = 0;
      return this.nextOfPage();
    });
  }

  private take(next: IteratorResult<T>): void {
    if (next.done) {
      this.current = undefined;
      return;
    }
    const key = this.keyOf(next.value);
    if (this.current !== undefined && key < this.key) {
      throw new MatchInputError(
        `${this.name} are not sorted by key: ${JSON.stringify(key)} after ${JSON.stringify(this.key)}`,
      );
    }
    this.repeated = this.current !== undefined && key === this.key;
    this.current = next.value;
    this.key = key;
  }
}
