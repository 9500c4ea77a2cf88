/**
 * The reconciliation benchmark's day, small: the generated bill is a valid bill whose summary
 * adds up, and the pipeline the benchmark measures (and phase 2 is proposed) finds exactly the
 * planted differences, every kind, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import {
  DAY,
  type GeneratedDay,
  generateDay,
  MERCHANT,
  PLANTED_PER_KIND,
} from '../../bench/support/reconciliation-data.js';
import { reconcilePostgres, reconcileSqlite } from '../../bench/support/reconciliation-day.js';
import { loadLedger } from '../../bench/support/reconciliation-ledger.js';
import { DIFFERENCE_KINDS } from '../../src/payments/reconciliation/match.js';
import { openStore } from '../../src/store/index.js';
import { readTradeBill } from '../../src/wechatpay/index.js';
import { describeOnStores } from '../support/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'minipay-reconciliation-day-'));
let generated: GeneratedDay;
before(async () => {
  generated = await generateDay(dir, 3000);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const bill = () => readTradeBill(createReadStream(join(dir, 'bill.csv.gz')));
const day = {
  start: new Date(DAY.start).toISOString(),
  end: new Date(DAY.start + 86_400_000).toISOString(),
  merchant: MERCHANT,
};

it('the generated bill reads with its summary checked, and plants every kind but duplicates', async () => {
  const reader = bill();
  let rows = 0;
  for await (const _ of reader) rows++;
  assert.equal(rows, 3000);
  assert.equal(reader.summary!.tradeCount, 3000);
  assert.equal(reader.type, 'ALL');
  const kinds = new Set(generated.planted.map((p) => p.kind));
  assert.deepEqual([...kinds].sort(), DIFFERENCE_KINDS.filter((k) => k !== 'duplicate').sort());
  assert.equal(generated.planted.length, kinds.size * PLANTED_PER_KIND);
});

describeOnStores('reconciling the generated day', (stores) => {
  it('finds exactly the planted differences', async () => {
    const url = await stores.freshUrl();
    const store = openStore(url);
    try {
      await store.migrate();
      const loaded = await loadLedger(store, dir);
      assert.equal(loaded.orders, generated.ledgerPayments);
      const result = url.startsWith('sqlite:')
        ? await reconcileSqlite(url.slice('sqlite:'.length), bill(), day)
        : await reconcilePostgres(store, bill(), day);
      const found = result.differences.map((d) => `${d.kind} ${d.key}`).sort();
      assert.deepEqual(found, generated.planted.map((p) => `${p.kind} ${p.key}`).sort());
      assert.equal(result.totals.bill.payments.count, generated.payments);
      assert.equal(result.totals.bill.refunds.count, generated.refunds);
      assert.equal(result.totals.ledger.payments.count, generated.ledgerPayments);
      assert.equal(result.totals.ledger.refunds.count, generated.ledgerRefunds);
      assert.equal(result.summary.tradeCount, 3000);
    } finally {
      await store.close();
    }
  });
});
