/**
 * The day matcher: a clean day, each kind of difference, the day's totals, inputs out of order,
 * and a differential test against a naive matcher (maps in memory) on random days.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BillPayment,
  type BillRefund,
  type DayInput,
  type Difference,
  type DifferenceKind,
  type LedgerPayment,
  type LedgerRefund,
  MatchInputError,
  matchDay,
} from '../../../src/payments/reconciliation/match.js';

const MERCHANT = { mchId: '1900000109', appIds: ['wxapp1', 'wxapp2'] };

function billPayment(outTradeNo: string, amountFen: number, extra: Partial<BillPayment> = {}) {
  return {
    outTradeNo,
    transactionId: `4200${outTradeNo}`,
    appId: 'wxapp1',
    mchId: MERCHANT.mchId,
    currency: 'CNY',
    amountFen,
    settlementFen: amountFen,
    feeMilliFen: amountFen * 6,
    ...extra,
  } satisfies BillPayment;
}
function ledgerPayment(outTradeNo: string, amountFen: number, extra: Partial<LedgerPayment> = {}) {
  return {
    outTradeNo,
    transactionId: `4200${outTradeNo}`,
    amountFen,
    currency: 'CNY',
    ...extra,
  } satisfies LedgerPayment;
}
function billRefund(outRefundNo: string, outTradeNo: string, amountFen: number) {
  return {
    outRefundNo,
    outTradeNo,
    refundId: `50${outRefundNo}`,
    appId: 'wxapp1',
    mchId: MERCHANT.mchId,
    amountFen,
    refundFen: amountFen,
    feeMilliFen: -amountFen * 6,
  } satisfies BillRefund;
}
function ledgerRefund(outRefundNo: string, outTradeNo: string, amountFen: number) {
  return { outRefundNo, outTradeNo, amountFen } satisfies LedgerRefund;
}

type Day = Omit<DayInput, 'merchant'>;

async function run(day: Day) {
  const match = matchDay({ merchant: MERCHANT, ...day });
  const found: Difference[] = [];
  for await (const difference of match) found.push(difference);
  return { found, totals: match.totals };
}
const kinds = (found: Difference[]) => found.map((d) => `${d.kind} ${d.key}`);

const CLEAN: Day = {
  bill: {
    payments: [billPayment('A1', 100), billPayment('A2', 250), billPayment('A3', 600)],
    refunds: [billRefund('R1', 'A3', 100)],
  },
  ledger: {
    payments: [ledgerPayment('A1', 100), ledgerPayment('A2', 250), ledgerPayment('A3', 600)],
    refunds: [ledgerRefund('R1', 'A3', 100)],
  },
};

describe('reconciliation: matching a day', () => {
  it('a clean day has no difference, and its totals', async () => {
    const { found, totals } = await run(CLEAN);
    assert.deepEqual(found, []);
    assert.deepEqual(totals.bill, {
      payments: { count: 3, fen: 950, settlementFen: 950 },
      refunds: { count: 1, fen: 100, refundFen: 100 },
      feeMilliFen: 950 * 6 - 100 * 6,
      netMilliFen: (950 - 100) * 1000 - (950 - 100) * 6,
      // net = settled − refunded − fees (fees given back on the refund)
    });
    assert.deepEqual(totals.ledger, {
      payments: { count: 3, fen: 950 },
      refunds: { count: 1, fen: 100 },
    });
    assert.ok(Object.values(totals.differences).every((n) => n === 0));
  });

  it('each kind of payment difference, with both sides attached', async () => {
    const { found, totals } = await run({
      bill: {
        payments: [
          billPayment('B0', 100),
          billPayment('B1', 100),
          billPayment('B2', 999),
          billPayment('B3', 100, { currency: 'USD' }),
          billPayment('B4', 100, { transactionId: '4200OTHER' }),
          billPayment('B5', 100),
        ],
        refunds: [],
      },
      ledger: {
        payments: [
          ledgerPayment('B1', 100),
          ledgerPayment('B2', 100),
          ledgerPayment('B3', 100),
          ledgerPayment('B4', 100),
          ledgerPayment('B5', 100, { transactionId: null }),
          ledgerPayment('B6', 300, { orderId: 'order-6' }),
        ],
        refunds: [],
      },
    });
    assert.deepEqual(kinds(found), [
      'paid_not_recorded B0',
      'amount_mismatch B2',
      'currency_mismatch B3',
      'transaction_mismatch B4',
      'recorded_not_billed B6',
    ]);
    assert.match(found[1]!.detail, /100 fen here, 999 fen at WeChat/);
    assert.equal((found[1]!.bill as BillPayment).amountFen, 999);
    assert.equal((found[4]!.ledger as LedgerPayment).orderId, 'order-6');
    assert.equal(found[0]!.ledger, undefined);
    assert.equal(totals.differences.amount_mismatch, 1);
    assert.equal(totals.ledger.payments.count, 6);
  });

  it('each kind of refund difference', async () => {
    const { found } = await run({
      bill: {
        payments: [],
        refunds: [
          billRefund('R0', 'A1', 10),
          billRefund('R1', 'A1', 10),
          billRefund('R2', 'A1', 10),
          billRefund('R3', 'A2', 10),
        ],
      },
      ledger: {
        payments: [],
        refunds: [
          ledgerRefund('R1', 'A1', 10),
          ledgerRefund('R2', 'A1', 20),
          ledgerRefund('R3', 'A1', 10),
          ledgerRefund('R4', 'A1', 10),
        ],
      },
    });
    assert.deepEqual(kinds(found), [
      'refund_not_recorded R0',
      'refund_mismatch R2',
      'refund_mismatch R3',
      'refund_not_billed R4',
    ]);
    assert.match(found[1]!.detail, /20 fen here, 10 fen at WeChat/);
    assert.match(found[2]!.detail, /of A1 here, of A2 at WeChat/);
  });

  it("another merchant's or app's rows are foreign, not matched; duplicates are named", async () => {
    const { found, totals } = await run({
      bill: {
        payments: [
          billPayment('C1', 100, { mchId: '1900000999' }),
          billPayment('C2', 100, { appId: 'wxother' }),
          billPayment('C3', 100, { appId: 'wxapp2' }),
          billPayment('C4', 100),
          billPayment('C4', 100),
        ],
        refunds: [{ ...billRefund('R9', 'C9', 5), mchId: '1900000999' }],
      },
      ledger: {
        payments: [
          ledgerPayment('C2', 100),
          ledgerPayment('C3', 100),
          ledgerPayment('C4', 100),
          ledgerPayment('C5', 100),
          ledgerPayment('C5', 100),
        ],
        refunds: [],
      },
    });
    assert.deepEqual(kinds(found), [
      'foreign_trade C1',
      'foreign_trade C2',
      'recorded_not_billed C2',
      'duplicate C4',
      'recorded_not_billed C5',
      'duplicate C5',
      'foreign_trade R9',
    ]);
    assert.match(found[0]!.detail, /merchant 1900000999/);
    assert.equal(totals.bill.payments.count, 5, "the bill's totals are all its rows");
    assert.equal(totals.differences.foreign_trade, 3);
  });

  it('refuses an input out of key order, whichever it is', async () => {
    const unsorted: [string, Day][] = [
      [
        'bill payments',
        { ...CLEAN, bill: { ...CLEAN.bill, payments: [billPayment('B', 1), billPayment('A', 1)] } },
      ],
      [
        'ledger payments',
        {
          ...CLEAN,
          ledger: { ...CLEAN.ledger, payments: [ledgerPayment('B', 1), ledgerPayment('A', 1)] },
        },
      ],
      [
        'bill refunds',
        {
          ...CLEAN,
          bill: { ...CLEAN.bill, refunds: [billRefund('R2', 'A', 1), billRefund('R1', 'A', 1)] },
        },
      ],
      [
        'ledger refunds',
        {
          ...CLEAN,
          ledger: {
            ...CLEAN.ledger,
            refunds: [ledgerRefund('R2', 'A', 1), ledgerRefund('R1', 'A', 1)],
          },
        },
      ],
    ];
    for (const [name, day] of unsorted) {
      await assert.rejects(
        run(day),
        (e) => e instanceof MatchInputError && e.message.startsWith(`${name} are not sorted`),
      );
    }
    // Code-unit order: 'Z' < 'a', as SQL's binary collation sorts them.
    const caseSorted = { payments: [billPayment('Z1', 1), billPayment('a1', 1)], refunds: [] };
    assert.equal(
      (await run({ bill: caseSorted, ledger: { payments: [], refunds: [] } })).found.length,
      2,
    );
  });

  it('reads async inputs the same as arrays', async () => {
    async function* slowly<T>(items: T[]) {
      for (const item of items) {
        await new Promise((r) => setImmediate(r));
        yield item;
      }
    }
    const day = (await run(CLEAN)).totals;
    const asyncDay = await run({
      bill: { payments: slowly(CLEAN.bill.payments as BillPayment[]), refunds: slowly([]) },
      ledger: {
        payments: CLEAN.ledger.payments,
        refunds: slowly(CLEAN.ledger.refunds as LedgerRefund[]),
      },
    });
    assert.deepEqual(asyncDay.found, [
      {
        kind: 'refund_not_billed',
        key: 'R1',
        detail: "refund of 100 fen of A3 here, not in WeChat's bill",
        ledger: ledgerRefund('R1', 'A3', 100),
      },
    ]);
    assert.deepEqual(asyncDay.totals.bill.payments, day.bill.payments);
  });
});

describe('reconciliation: the merge join agrees with a naive matcher', () => {
  it('on 200 random days', async () => {
    let seed = 7;
    const random = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    for (let day = 0; day < 200; day++) {
      const keys = Array.from({ length: 30 }, (_, i) => `K${String(i).padStart(3, '0')}`);
      const bill: BillPayment[] = [];
      const ledger: LedgerPayment[] = [];
      for (const key of keys) {
        const amount = 100 + random(3);
        const roll = random(10);
        if (roll !== 0) bill.push(billPayment(key, amount, random(15) === 0 ? { appId: 'x' } : {}));
        if (roll !== 1) ledger.push(ledgerPayment(key, random(8) === 0 ? amount + 1 : amount));
        if (roll === 2) bill.push(billPayment(key, amount));
      }
      const { found } = await run({
        bill: { payments: bill, refunds: [] },
        ledger: { payments: ledger, refunds: [] },
      });
      assert.deepEqual(kinds(found).sort(), naive(bill, ledger).sort(), `day ${day}`);
    }
  });
});

/** What the merge join must find, by maps in memory. */
function naive(bill: BillPayment[], ledger: LedgerPayment[]): string[] {
  const out: string[] = [];
  const diff = (kind: DifferenceKind, key: string) => out.push(`${kind} ${key}`);
  const billByKey = new Map<string, BillPayment>();
  for (const row of bill) {
    if (billByKey.has(row.outTradeNo)) diff('duplicate', row.outTradeNo);
    else billByKey.set(row.outTradeNo, row);
  }
  const ledgerByKey = new Map(ledger.map((l) => [l.outTradeNo, l]));
  for (const [key, row] of billByKey) {
    const entry = ledgerByKey.get(key);
    if (row.appId !== 'wxapp1') {
      diff('foreign_trade', key);
      if (entry) diff('recorded_not_billed', key);
    } else if (!entry) diff('paid_not_recorded', key);
    else if (entry.amountFen !== row.amountFen) diff('amount_mismatch', key);
  }
  for (const key of ledgerByKey.keys()) if (!billByKey.has(key)) diff('recorded_not_billed', key);
  return out;
}
