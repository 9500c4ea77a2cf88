/**
 * The bill sorter (a worker thread) and the staging around it: rows come back in key order, a
 * page at a time; its worker ends whatever happens to the run (the bill fails while it is read,
 * the join fails, the join stops early, the worker itself fails), and the error the run gets is
 * the one that happened.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../../src/payments/gateway/gateway.js';
import { BillSorter, liveBillSorters } from '../../../src/payments/reconciliation/bill-sorter.js';
import { matchDay } from '../../../src/payments/reconciliation/match.js';
import {
  matchStaged,
  SRC,
  type StagedRow,
} from '../../../src/payments/reconciliation/staging-repo.js';
import { describeOnStores } from '../../support/stores.js';

const COLUMNS =
  'src, key, seq, trade_no, wechat_no, app_id, mch_id, currency, amount, settle, fee, at';
const QUERY = 'SELECT key, seq FROM bill WHERE src = ? ORDER BY key, seq';
const MERCHANT = { mchId: '1900000109', appIds: ['wxapp1'] };
const DAY = { start: '2026-12-02T16:00:00.000Z', end: '2026-12-03T16:00:00.000Z' };

function row(src: number, key: string, seq: number): StagedRow {
  const at = src === SRC.billPayments ? '2026-12-03T01:00:00.000Z' : null;
  return [src, key, seq, key, `4200${key}`, 'wxapp1', MERCHANT.mchId, 'CNY', 100, 100, 600, at];
}

async function drain(pages: AsyncIterable<unknown[][]>) {
  const rows: unknown[][] = [];
  const sizes: number[] = [];
  for await (const page of pages) {
    sizes.push(page.length);
    rows.push(...page);
  }
  return { rows, sizes };
}

test('rows come back per input in (key, seq) order, a page at a time', async () => {
  const sorter = new BillSorter({ columns: COLUMNS, query: QUERY, page: 3 });
  try {
    const keys = ['m', 'b', 'z', 'a', 'b', 'k', 'c'];
    await sorter.add(keys.map((key, i) => row(SRC.billPayments, key, i + 1)));
    await sorter.add([row(SRC.billRefunds, 'r2', 8), row(SRC.billRefunds, 'r1', 9)]);
    await sorter.add([]);
    sorter.sort([SRC.billPayments, SRC.billRefunds]);
    const payments = await drain(sorter.pages(SRC.billPayments));
    assert.deepEqual(payments.rows, [
      ['a', 4],
      ['b', 2],
      ['b', 5],
      ['c', 7],
      ['k', 6],
      ['m', 1],
      ['z', 3],
    ]);
    assert.deepEqual(payments.sizes, [3, 3, 1]);
    assert.deepEqual((await drain(sorter.pages(SRC.billRefunds))).rows, [
      ['r1', 9],
      ['r2', 8],
    ]);
  } finally {
    await sorter.close();
  }
  assert.equal(liveBillSorters(), 0);
});

test('a worker that fails hands its error to whoever waits, and is gone', async () => {
  const sorter = new BillSorter({
    columns: COLUMNS,
    query: 'SELECT missing FROM bill WHERE src = ?',
    page: 3,
  });
  try {
    await sorter.add([row(SRC.billPayments, 'a', 1)]);
    sorter.sort([SRC.billPayments]);
    await assert.rejects(
      drain(sorter.pages(SRC.billPayments)),
      /the bill sorter failed: no such column: missing/,
    );
    await assert.rejects(sorter.add([row(SRC.billPayments, 'b', 2)]), /no such column/);
  } finally {
    await sorter.close();
  }
  assert.equal(liveBillSorters(), 0);
});

describeOnStores('staging a bill for the join', (stores) => {
  /** `n` payments, keys in falling order (the bill's time order is not its key order). */
  const payments = (n: number, prefix = 'MP') =>
    Array.from({ length: n }, (_, i) =>
      row(SRC.billPayments, `${prefix}${String(n - i).padStart(6, '0')}`, i + 1),
    );

  async function* bill(batches: StagedRow[][], failure?: Error) {
    for (const batch of batches) yield batch;
    if (failure) throw failure;
  }

  /** `range` the day itself (PostgreSQL opens the ledger first) or asked for once staged. */
  const matchAll = (
    db: Parameters<typeof matchStaged>[0],
    batches: AsyncIterable<StagedRow[]>,
    range: Parameters<typeof matchStaged>[2] = () => DAY,
  ) =>
    matchStaged(db, batches, range, async (inputs) => {
      const kinds: string[] = [];
      for await (const d of matchDay({ merchant: MERCHANT, ...inputs })) kinds.push(d.kind);
      return kinds;
    });

  test('every bill row is matched (here: none in the ledger), in pages, and the worker ends', async () => {
    const store = await stores.fresh();
    // The driver warns (a process warning) of a query sent while another runs on its client.
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', warned);
    try {
      for (const range of [DAY, () => DAY]) {
        const kinds = await matchAll(store.db, bill([payments(2500), payments(10, 'MQ')]), range);
        assert.equal(kinds.length, 2510);
        assert.ok(kinds.every((k) => k === 'paid_not_recorded'));
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', warned);
    }
    assert.deepEqual(warnings, []);
    assert.equal(liveBillSorters(), 0);
  });

  test('a bill that fails while it is read fails the run with its own error, the worker ended', async () => {
    const store = await stores.fresh();
    const summary = new GatewayError('invalid', 'MALFORMED_BILL', 'the bill: the summary is off');
    await assert.rejects(matchAll(store.db, bill([payments(50)], summary), DAY), summary);
    assert.equal(liveBillSorters(), 0);
    await assert.rejects(matchAll(store.db, bill([payments(50)], summary)), summary);
    assert.equal(liveBillSorters(), 0);
    const gzip = new GatewayError('invalid', 'MALFORMED_BILL', 'the bill: not a gzip file');
    await assert.rejects(matchAll(store.db, bill([], gzip)), gzip);
    assert.equal(liveBillSorters(), 0);
  });

  test('a join that fails or stops early ends the worker', async () => {
    const store = await stores.fresh();
    const failed = new Error('the join failed');
    await assert.rejects(
      matchStaged(
        store.db,
        bill([payments(3000)]),
        () => DAY,
        async (inputs) => {
          for await (const _ of matchDay({ merchant: MERCHANT, ...inputs })) throw failed;
        },
      ),
      failed,
    );
    assert.equal(liveBillSorters(), 0);
    const first = await matchStaged(
      store.db,
      bill([payments(3000)]),
      () => DAY,
      async (inputs) => {
        for await (const d of matchDay({ merchant: MERCHANT, ...inputs })) return d.key;
      },
    );
    assert.equal(first, 'MP000001');
    assert.equal(liveBillSorters(), 0);
  });
});
