/**
 * The day matcher (a thread that stages, sorts and matches the bill) and the ledger reading
 * around it: rows are matched in key order across pages both ways; the thread ends whatever
 * happens to the run (the bill fails while it is read, the ledger fails, the thread fails), and
 * the error the run gets is the one that happened.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../../src/payments/gateway/gateway.js';
import {
  DayMatcher,
  liveDayMatchers,
  type NextPage,
} from '../../../src/payments/reconciliation/day-matcher.js';
import {
  type LedgerPaymentRow,
  PAGE,
  Parties,
  SRC,
  type StagedRow,
} from '../../../src/payments/reconciliation/day-rows.js';
import { matchWithLedger } from '../../../src/payments/reconciliation/ledger-repo.js';
import { MatchInputError } from '../../../src/payments/reconciliation/match.js';
import type { Store } from '../../../src/store/index.js';
import { describeOnStores } from '../../support/stores.js';

const MERCHANT = { mchId: '1900000109', appIds: ['wxapp1'] };
const DAY = { start: '2026-12-02T16:00:00.000Z', end: '2026-12-03T16:00:00.000Z' };
const PAID_AT = '2026-12-03T01:00:00.000Z';

/** The parties of the rows below: a test's rows are numbered by one table, as a run's are. */
const parties = new Parties();

function row(src: number, key: string, seq: number, fen = 100, app = 'wxapp1'): StagedRow {
  const party = parties.id(app, MERCHANT.mchId, 'CNY');
  return src === SRC.billPayments
    ? [src, key, seq, null, `4200${key}`, party, fen, fen, 600, PAID_AT]
    : [src, key, seq, `T${key}`, `50${key}`, party, fen, fen, -600, null];
}

const ledgerRow = (key: string, fen = 100): LedgerPaymentRow => [
  key,
  `4200${key}`,
  fen,
  'CNY',
  `o_${key}`,
];

/** Pages of `rows` as the store would hand them, counting the pages asked for. */
function pages(rows: unknown[][]): NextPage & { asked: number } {
  let at = 0;
  const next = Object.assign(
    async () => {
      next.asked++;
      const page = rows.slice(at, at + PAGE);
      at += page.length;
      return page;
    },
    { asked: 0 },
  );
  return next;
}

const none = () => pages([]);

/** Runs `use` with a day matcher, closes it whatever happens, and checks its thread is gone. */
async function withMatcher(use: (matcher: DayMatcher) => Promise<void>) {
  const matcher = new DayMatcher();
  try {
    await use(matcher);
  } finally {
    await matcher.close();
  }
  assert.equal(liveDayMatchers(), 0);
}

test('the bill is sorted and matched against the ledger, a page at a time both ways', async () => {
  await withMatcher(async (matcher) => {
    // In time order, not key order; `b` twice; `x` only in the bill, `y` only in the ledger.
    const keys = ['m', 'b', 'z', 'a', 'b', 'k', 'x'];
    const payment = (key: string, i: number) =>
      row(SRC.billPayments, key, i + 1, key === 'k' ? 99 : 100);
    await matcher.add(keys.map(payment), parties);
    // A party first seen in a later batch: another app's refund.
    await matcher.add([row(SRC.billRefunds, 'r1', 8, 100, 'wxother')], parties);
    await matcher.add([], parties);
    // Enough ledger rows for three pages: keys sort after the bill's single letters but `y`/`z`.
    const many = Array.from({ length: 2 * PAGE + 10 }, (_, i) => `p${String(i).padStart(5, '0')}`);
    const payments = pages(['a', 'b', 'k', 'm', ...many, 'y', 'z'].map((k) => ledgerRow(k)));
    const { found, totals } = await matcher.match(MERCHANT, { payments, refunds: none() });
    const kinds = found.map((d) => `${d.kind} ${d.key}`).sort();
    assert.deepEqual(kinds, [
      'amount_mismatch k',
      'duplicate b',
      'foreign_trade r1',
      'paid_not_recorded x',
      ...many.map((k) => `recorded_not_billed ${k}`),
      'recorded_not_billed y',
    ]);
    assert.equal(payments.asked, 3, 'three pages, the last one short');
    assert.equal(totals.bill.payments.count, 7);
    assert.equal(totals.bill.payments.fen, 699);
    assert.equal(totals.ledger.payments.count, many.length + 6);
    assert.equal(totals.bill.refunds.count, 1);
    assert.equal(totals.differences.recorded_not_billed, many.length + 1);
    const k = found.find((d) => d.key === 'k');
    assert.deepEqual(k?.ledger, {
      outTradeNo: 'k',
      transactionId: '4200k',
      amountFen: 100,
      currency: 'CNY',
      orderId: 'o_k',
    });
    assert.deepEqual(k?.bill, {
      outTradeNo: 'k',
      transactionId: '4200k',
      appId: 'wxapp1',
      mchId: MERCHANT.mchId,
      currency: 'CNY',
      amountFen: 99,
      settlementFen: 99,
      feeMilliFen: 600,
      paidAt: PAID_AT,
      row: 6,
    });
    assert.deepEqual(found.find((d) => d.key === 'r1')?.bill, {
      outRefundNo: 'r1',
      outTradeNo: 'Tr1',
      refundId: '50r1',
      appId: 'wxother',
      mchId: MERCHANT.mchId,
      amountFen: 100,
      refundFen: 100,
      feeMilliFen: -600,
      row: 8,
    });
  });
});

test('a ledger out of key order is refused as such, and the thread is gone', async () => {
  await withMatcher(async (matcher) => {
    await matcher.add([row(SRC.billPayments, 'a', 1)], parties);
    const payments = pages([ledgerRow('b'), ledgerRow('a')]);
    await assert.rejects(
      matcher.match(MERCHANT, { payments, refunds: none() }),
      (e) => e instanceof MatchInputError && /ledger payments are not sorted/.test(e.message),
    );
    await assert.rejects(matcher.add([row(SRC.billPayments, 'c', 2)], parties), MatchInputError);
  });
});

test('a ledger that fails fails the match with its own error', async () => {
  const failed = new Error('the connection was lost');
  await withMatcher(async (matcher) => {
    await matcher.add([row(SRC.billPayments, 'a', 1)], parties);
    const payments: NextPage = async () => {
      throw failed;
    };
    await assert.rejects(matcher.match(MERCHANT, { payments, refunds: none() }), failed);
  });
});

test("the thread's own failure says so", async () => {
  await withMatcher(async (matcher) => {
    // A row of too few values: SQLite refuses it in the thread.
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 8; i++) {
          await matcher.add([[SRC.billPayments] as unknown as StagedRow], parties);
        }
      })(),
      /the day's match failed: .*(bind|parameters|values)/i,
    );
  });
});

describeOnStores('a bill matched against the ledger of a store', (stores) => {
  /** `n` payments, keys in falling order (the bill's time order is not its key order). */
  const payments = (n: number, prefix = 'MP') =>
    Array.from({ length: n }, (_, i) =>
      row(SRC.billPayments, `${prefix}${String(n - i).padStart(6, '0')}`, i + 1),
    );

  async function* bill(batches: StagedRow[][], failure?: Error) {
    for (const batch of batches) yield batch;
    if (failure) throw failure;
  }

  /** `n` orders PAID within the day, keys `MP000001`… */
  async function paidOrders(store: Store, n: number) {
    const now = new Date().toISOString();
    await store.db
      .insertInto('users')
      .values({ id: 'u_1', openid: 'o1', created_at: now, updated_at: now })
      .execute();
    const rows = Array.from({ length: n }, (_, i) => {
      const key = `MP${String(i + 1).padStart(6, '0')}`;
      return {
        id: `o_${key}`,
        out_trade_no: key,
        user_id: 'u_1',
        openid: 'o1',
        status: 'PAID' as const,
        description: 'beans',
        total_fen: 100,
        currency: 'CNY',
        payer_ip: '127.0.0.1',
        transaction_id: `4200${key}`,
        paid_at: PAID_AT,
        expires_at: PAID_AT,
        created_at: PAID_AT,
        updated_at: PAID_AT,
        refunded_fen: 0,
        refund_required: 0,
        query_attempts: 0,
        wechatpay_api: 'v2' as const,
        version: 1,
      };
    });
    for (let i = 0; i < rows.length; i += 500) {
      await store.db
        .insertInto('orders')
        .values(rows.slice(i, i + 500))
        .execute();
    }
  }

  test('every row is matched across pages, the day known first or asked for, no warning', async () => {
    const store = await stores.fresh();
    await paidOrders(store, 2500);
    // The driver warns (a process warning) of a query sent while another runs on its client.
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', warned);
    try {
      for (const range of [DAY, () => DAY]) {
        const { found, totals } = await matchWithLedger(
          store.db,
          { batches: bill([payments(2400), payments(10, 'MQ')]), parties },
          range,
          MERCHANT,
        );
        assert.equal(totals.ledger.payments.count, 2500);
        assert.equal(totals.bill.payments.count, 2410);
        const kinds = found.map((d) => d.kind);
        assert.equal(kinds.filter((k) => k === 'recorded_not_billed').length, 100);
        assert.equal(kinds.filter((k) => k === 'paid_not_recorded').length, 10);
        assert.equal(found.length, 110);
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', warned);
    }
    assert.deepEqual(warnings, []);
    assert.equal(liveDayMatchers(), 0);
  });

  test('a bill that fails while it is read fails the run with its own error, the thread ended', async () => {
    const store = await stores.fresh();
    const match = (
      batches: AsyncIterable<StagedRow[]>,
      range = DAY as typeof DAY | (() => typeof DAY),
    ) => matchWithLedger(store.db, { batches, parties }, range, MERCHANT);
    const summary = new GatewayError('invalid', 'MALFORMED_BILL', 'the bill: the summary is off');
    await assert.rejects(match(bill([payments(50)], summary)), summary);
    assert.equal(liveDayMatchers(), 0);
    await assert.rejects(
      match(bill([payments(50)], summary), () => DAY),
      summary,
    );
    assert.equal(liveDayMatchers(), 0);
    const gzip = new GatewayError('invalid', 'MALFORMED_BILL', 'the bill: not a gzip file');
    await assert.rejects(
      match(bill([], gzip), () => DAY),
      gzip,
    );
    assert.equal(liveDayMatchers(), 0);
  });
});
