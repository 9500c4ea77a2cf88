/**
 * The rows a day's match passes between threads, and how each becomes the matcher's entry: the
 * bill's rows as staged (day-match-thread.ts keeps them in key order), the ledger's as its two
 * queries read them (ledger-repo.ts), arrays both, as structured clone copies them fastest.
 * Pure, and imported by the match's thread: it must stay free of the store and the server.
 */
import type { BillPayment, BillRefund, LedgerPayment, LedgerRefund } from './match.js';

/** Which input a staged bill row belongs to. */
export const SRC = { billPayments: 1, billRefunds: 2 } as const;

/**
 * A bill row as staged: src, key, seq (its row number), then the values the matcher reads. A
 * payment's trade number is its key (null here); app, merchant and currency are a `Parties`
 * number, as a day's rows share one or a few (strings cost the most to copy, store and read).
 */
export type StagedRow = [
  src: number,
  key: string,
  seq: number,
  tradeNo: string | null,
  wechatNo: string | null,
  party: number,
  amount: number,
  settle: number,
  fee: number,
  at: string | null,
];

/** `StagedRow`'s columns, in order. */
export const STAGED_COLUMNS = 'src, key, seq, trade_no, wechat_no, party, amount, settle, fee, at';

/** App, merchant and currency of bill rows. */
export type Party = [appId: string, mchId: string, currency: string];

/** The parties of a day's bill rows, numbered from 0 as they are first seen. */
export class Parties {
  readonly list: Party[] = [];
  private readonly ids = new Map<string, number>();
  private last: Party | undefined;
  private lastId = -1;

  id(appId: string, mchId: string, currency: string): number {
    const last = this.last;
    if (last && last[0] === appId && last[1] === mchId && last[2] === currency) return this.lastId;
    const key = `${appId}\n${mchId}\n${currency}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.list.push([appId, mchId, currency]) - 1;
      this.ids.set(key, id);
    }
    this.last = this.list[id];
    this.lastId = id;
    return id;
  }
}

/**
 * Rows a page holds: a message between the threads, one FETCH on PostgreSQL, the rows between two
 * yields of the event loop on SQLite. Pages of 5,000 lived long enough to be promoted out of V8's
 * young generation and grew the heap by tens of MiB before each full collection.
 */
export const PAGE = 1_000;

/** The ledger's two inputs, by the name their pages are asked for. */
export type LedgerInput = 'payments' | 'refunds';

/** A ledger row as read: out_trade_no, transaction_id, total_fen, currency, order id. */
export type LedgerPaymentRow = [string, string | null, number, string, string];
/** A ledger refund as read: out_refund_no, its order's out_trade_no, amount_fen, order id. */
export type LedgerRefundRow = [string, string, number, string];

type Raw = unknown[];

/** A staged payment read back (`SELECT key, seq, trade_no, wechat_no, party, …`: src dropped). */
export const billPayment = (r: Raw, parties: readonly Party[]): BillPayment => {
  const party = parties[r[4] as number]!;
  return {
    outTradeNo: r[0] as string,
    transactionId: (r[3] as string | null) ?? '',
    appId: party[0],
    mchId: party[1],
    currency: party[2],
    amountFen: r[5] as number,
    settlementFen: r[6] as number,
    feeMilliFen: r[7] as number,
    // Always there: a payment is staged with its 交易时间.
    paidAt: r[8] as string,
    row: r[1] as number,
  };
};

export const billRefund = (r: Raw, parties: readonly Party[]): BillRefund => {
  const party = parties[r[4] as number]!;
  return {
    outRefundNo: r[0] as string,
    outTradeNo: r[2] as string,
    refundId: (r[3] as string | null) ?? '',
    appId: party[0],
    mchId: party[1],
    amountFen: r[5] as number,
    refundFen: r[6] as number,
    feeMilliFen: r[7] as number,
    row: r[1] as number,
  };
};

export const ledgerPayment = (r: LedgerPaymentRow): LedgerPayment => ({
  outTradeNo: r[0],
  transactionId: r[1],
  amountFen: Number(r[2]),
  currency: r[3],
  orderId: r[4],
});

export const ledgerRefund = (r: LedgerRefundRow): LedgerRefund => ({
  outRefundNo: r[0],
  outTradeNo: r[1],
  amountFen: Number(r[2]),
  orderId: r[3],
});
