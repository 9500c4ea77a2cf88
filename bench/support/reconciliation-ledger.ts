/**
 * The generated ledger (reconciliation-data.ts) written into minipay's own tables, as checkout,
 * the notify and refunds leave them: a PAID order per paid row, a SUCCESS refund per refund.
 * Setup for the reconciliation benchmark, not timed.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CompiledQuery } from 'kysely';
import type { Store } from '../../src/store/index.js';

const USER = 'u_bench';

/** Loads `ledger-payments.csv` and `ledger-refunds.csv` of `dir`; resolves to the row counts. */
export async function loadLedger(store: Store, dir: string) {
  const now = new Date().toISOString();
  await insertMany(
    store,
    'users',
    ['id', 'openid', 'created_at', 'updated_at'],
    [[USER, 'oBench', now, now]],
  );
  const orders = await loadCsv(
    store,
    join(dir, 'ledger-payments.csv'),
    'orders',
    ORDER_COLUMNS,
    (f) => {
      const [outTradeNo, transactionId, fen, currency, paidAt] = f as [
        string,
        string,
        string,
        string,
        string,
      ];
      return [
        `o_${outTradeNo}`,
        outTradeNo,
        USER,
        'oBench',
        'PAID',
        '咖啡豆 250g',
        Number(fen),
        currency,
        '127.0.0.1',
        transactionId,
        paidAt,
        paidAt,
        paidAt,
        paidAt,
      ];
    },
  );
  const refunds = await loadCsv(
    store,
    join(dir, 'ledger-refunds.csv'),
    'refunds',
    REFUND_COLUMNS,
    (f) => {
      const [outRefundNo, outTradeNo, fen, at] = f as [string, string, string, string];
      return [
        `r_${outRefundNo}`,
        `o_${outTradeNo}`,
        outRefundNo,
        `50${outRefundNo}`,
        Number(fen),
        'SUCCESS',
        'admin',
        at,
        at,
        at,
      ];
    },
  );
  return { orders, refunds };
}

const ORDER_COLUMNS = [
  'id',
  'out_trade_no',
  'user_id',
  'openid',
  'status',
  'description',
  'total_fen',
  'currency',
  'payer_ip',
  'transaction_id',
  'paid_at',
  'expires_at',
  'created_at',
  'updated_at',
];
const REFUND_COLUMNS = [
  'id',
  'order_id',
  'out_refund_no',
  'refund_id',
  'amount_fen',
  'status',
  'source',
  'created_at',
  'updated_at',
  'succeeded_at',
];

async function loadCsv(
  store: Store,
  path: string,
  table: string,
  columns: string[],
  row: (fields: string[]) => unknown[],
): Promise<number> {
  let batch: unknown[][] = [];
  let count = 0;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    batch.push(row(line.split(',')));
    if (batch.length === 2000) {
      await insertMany(store, table, columns, batch);
      count += batch.length;
      batch = [];
    }
  }
  await insertMany(store, table, columns, batch);
  return count + batch.length;
}

async function insertMany(store: Store, table: string, columns: string[], rows: unknown[][]) {
  if (rows.length === 0) return;
  if (store.dialect === 'postgres') {
    const arrays = columns.map((_, c) => rows.map((r) => r[c]));
    const unnest = columns
      .map((_, c) => `$${c + 1}::${typeof rows[0]![c] === 'number' ? 'int4' : 'text'}[]`)
      .join(', ');
    const text = `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${unnest})`;
    await store.db.executeQuery(CompiledQuery.raw(text, arrays));
    return;
  }
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows.length).fill(tuple).join(',')}`;
  await store.db.executeQuery(CompiledQuery.raw(text, rows.flat()));
}
