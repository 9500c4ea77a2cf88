/**
 * A generated day for the reconciliation benchmark: WeChat's ALL bill of `rows` rows (nine
 * payments to one refund, in time order, gzip, as downloadbill sends it) and minipay's ledger of
 * that day (orders paid, refunds succeeded), equal but for a known set of planted differences,
 * `PLANTED_PER_KIND` of each kind the matcher reports (duplicates aside: WeChat does not bill a
 * trade twice). Deterministic for a seed. Keys look like minipay's (`MP` + Beijing time of the
 * order + 16 random characters), so the bill is nearly, not exactly, in key order.
 *
 * Files written to `dir`: `bill.csv.gz`, `ledger-payments.csv`, `ledger-refunds.csv` (plain
 * comma-separated, no quoting: no value holds a comma) and `planted.json` ([{kind, key}]).
 */
import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { DifferenceKind } from '../../src/payments/reconciliation/match.js';
import {
  type BillRow,
  beijingCompact,
  formatBillHeader,
  formatBillRow,
  formatBillSummary,
  TRADE_BILL,
} from '../../src/wechatpay/index.js';

export const MERCHANT = { mchId: '1900000109', appIds: ['wxd930ea5d5a258f4f'] };
const APP_ID = MERCHANT.appIds[0]!;
/** The day: 2026-12-03, Beijing. */
export const DAY = { date: '2026-12-03', start: Date.parse('2026-12-02T16:00:00Z') };
const DAY_MS = 86_400_000;
export const PLANTED_PER_KIND = 20;

export interface Planted {
  kind: DifferenceKind;
  key: string;
}

export interface GeneratedDay {
  dir: string;
  rows: number;
  payments: number;
  refunds: number;
  ledgerPayments: number;
  ledgerRefunds: number;
  planted: Planted[];
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** mulberry32: a small seeded generator, so a size always gives the same day. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    int: (n: number) => next() % n,
    code: (length: number) => {
      let s = '';
      for (let i = 0; i < length; i++) s += ALPHABET[next() % 32];
      return s;
    },
  };
}

interface Payment {
  outTradeNo: string;
  transactionId: string;
  paidAt: number;
  fen: number;
  /** Whether minipay holds it (refunds are only of these). */
  recorded: boolean;
}

/** Writes the day's files; returns what is in them. */
export async function generateDay(dir: string, rows: number, seed = 18): Promise<GeneratedDay> {
  const rng = generator(seed);
  const paymentCount = Math.round(rows * 0.9);
  const refundCount = rows - paymentCount;
  // Planted rows are picked by index: distinct, spread over the day.
  const pick = (n: number, kinds: DifferenceKind[]) => {
    const chosen = new Map<number, DifferenceKind>();
    for (const kind of kinds) {
      for (let k = 0; k < PLANTED_PER_KIND; k++) {
        let i = rng.int(n);
        while (chosen.has(i)) i = rng.int(n);
        chosen.set(i, kind);
      }
    }
    return chosen;
  };
  const paymentPlants = pick(paymentCount, [
    'paid_not_recorded',
    'amount_mismatch',
    'currency_mismatch',
    'transaction_mismatch',
    'foreign_trade',
  ]);
  const refundPlants = pick(refundCount, ['refund_not_recorded', 'refund_mismatch']);
  const planted: Planted[] = [];

  const bill = gzipFile(join(dir, 'bill.csv.gz'));
  const ledgerPayments = textFile(join(dir, 'ledger-payments.csv'));
  const ledgerRefunds = textFile(join(dir, 'ledger-refunds.csv'));
  const totals = TRADE_BILL.zero();
  await bill.write(`\uFEFF${formatBillHeader('ALL')}\n`);

  const payments: Payment[] = [];
  let nextRefund = 0;
  let ledgerPaymentRows = 0;
  let ledgerRefundRows = 0;
  const refundAt = (j: number) => DAY.start + Math.floor(((j + 0.5) * DAY_MS) / refundCount);

  const writeRefund = async (j: number) => {
    let payment = payments[rng.int(payments.length)]!;
    while (!payment.recorded) payment = payments[rng.int(payments.length)]!;
    const at = refundAt(j);
    const outRefundNo = `RF${beijingCompact(new Date(at))}${rng.code(16)}`;
    const fen = 1 + rng.int(payment.fen);
    const row = refundRow(payment, outRefundNo, at, fen, j);
    TRADE_BILL.add(totals, row);
    await bill.write(`${formatBillRow('ALL', row)}\n`);
    const plant = refundPlants.get(j);
    if (plant) planted.push({ kind: plant, key: outRefundNo });
    if (plant === 'refund_not_recorded') return;
    const ledgerFen = plant === 'refund_mismatch' ? fen + 1 : fen;
    ledgerRefundRows++;
    await ledgerRefunds.write(
      `${outRefundNo},${payment.outTradeNo},${ledgerFen},${new Date(at).toISOString()}\n`,
    );
  };

  for (let i = 0; i < paymentCount; i++) {
    const paidAt = DAY.start + Math.floor(((i + 0.5) * DAY_MS) / paymentCount);
    while (nextRefund < refundCount && refundAt(nextRefund) < paidAt && ledgerPaymentRows > 0) {
      await writeRefund(nextRefund++);
    }
    const createdAt = paidAt - rng.int(300_000);
    const plant = paymentPlants.get(i);
    const payment: Payment = {
      outTradeNo: `MP${beijingCompact(new Date(createdAt))}${rng.code(16)}`,
      transactionId: `4200002026120300${String(i).padStart(12, '0')}`,
      paidAt,
      fen: 100 + rng.int(100_000),
      recorded: plant !== 'paid_not_recorded' && plant !== 'foreign_trade',
    };
    payments.push(payment);
    const row = paymentRow(payment, plant === 'foreign_trade' ? '1900000999' : MERCHANT.mchId);
    if (plant === 'currency_mismatch') row.currency = 'USD';
    TRADE_BILL.add(totals, row);
    await bill.write(`${formatBillRow('ALL', row)}\n`);
    if (plant) planted.push({ kind: plant, key: payment.outTradeNo });
    if (!payment.recorded) continue;
    const fen = plant === 'amount_mismatch' ? payment.fen + 1 : payment.fen;
    const transactionId =
      plant === 'transaction_mismatch'
        ? `4200009${payment.transactionId.slice(7)}`
        : payment.transactionId;
    ledgerPaymentRows++;
    await ledgerPayments.write(
      `${payment.outTradeNo},${transactionId},${fen},CNY,${new Date(paidAt).toISOString()}\n`,
    );
  }
  while (nextRefund < refundCount) await writeRefund(nextRefund++);
  for (const line of formatBillSummary('ALL', totals)) await bill.write(`${line}\n`);

  // Paid or refunded here that day, in no bill.
  for (let k = 0; k < PLANTED_PER_KIND; k++) {
    const at = DAY.start + rng.int(DAY_MS);
    const outTradeNo = `MP${beijingCompact(new Date(at - 60_000))}${rng.code(16)}`;
    planted.push({ kind: 'recorded_not_billed', key: outTradeNo });
    ledgerPaymentRows++;
    await ledgerPayments.write(
      `${outTradeNo},4200008${String(k).padStart(21, '0')},1000,CNY,${new Date(at).toISOString()}\n`,
    );
    let payment = payments[rng.int(payments.length)]!;
    while (!payment.recorded) payment = payments[rng.int(payments.length)]!;
    const outRefundNo = `RF${beijingCompact(new Date(at))}${rng.code(16)}`;
    planted.push({ kind: 'refund_not_billed', key: outRefundNo });
    ledgerRefundRows++;
    await ledgerRefunds.write(
      `${outRefundNo},${payment.outTradeNo},1,${new Date(at).toISOString()}\n`,
    );
  }
  await Promise.all([bill.end(), ledgerPayments.end(), ledgerRefunds.end()]);
  planted.sort((a, b) => (a.kind + a.key < b.kind + b.key ? -1 : 1));
  writeFileSync(join(dir, 'planted.json'), `${JSON.stringify(planted, null, 1)}\n`);
  return {
    dir,
    rows,
    payments: paymentCount,
    refunds: refundCount,
    ledgerPayments: ledgerPaymentRows,
    ledgerRefunds: ledgerRefundRows,
    planted,
  };
}

function paymentRow(p: Payment, mchId: string): BillRow {
  return {
    ...TRADE_BILL.blank(),
    tradeTime: new Date(p.paidAt),
    appId: APP_ID,
    mchId,
    subMchId: '0',
    transactionId: p.transactionId,
    outTradeNo: p.outTradeNo,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'OTHERS',
    currency: 'CNY',
    settlementFen: p.fen,
    productName: '咖啡豆 250g',
    feeMilliFen: Math.round((p.fen * 60) / 10_000) * 1000,
    rate: '0.60%',
    orderFen: p.fen,
  };
}

function refundRow(p: Payment, outRefundNo: string, at: number, fen: number, j: number): BillRow {
  return {
    ...paymentRow(p, MERCHANT.mchId),
    tradeTime: new Date(at),
    tradeState: 'REFUND',
    settlementFen: 0,
    orderFen: 0,
    refundId: `50300020261203${String(j).padStart(15, '0')}`,
    outRefundNo,
    refundFen: fen,
    requestedRefundFen: fen,
    refundType: 'ORIGINAL',
    refundState: 'SUCCESS',
    feeMilliFen: -Math.round((fen * 60) / 10_000) * 1000,
  };
}

/** A file written line by line, waiting when the stream asks to. */
function sink(stream: Writable, file: Writable = stream) {
  return {
    write: async (text: string) => {
      if (!stream.write(text)) await once(stream, 'drain');
    },
    end: async () => {
      stream.end();
      await once(file, 'finish');
    },
  };
}

function gzipFile(path: string) {
  const gzip = createGzip();
  const file = createWriteStream(path);
  gzip.pipe(file);
  return sink(gzip, file);
}

function textFile(path: string) {
  return sink(createWriteStream(path));
}
