/**
 * Reconciling a Beijing day: WeChat's trade bill (and fund-flow bill, when the gateway can ask
 * for it) against the ledger. The bill is streamed to a thread of its own, its summary checked
 * (a bill that fails leaves nothing behind), sorted and merge-joined by `matchDay` there with the
 * ledger read in key order here (ledger-repo.ts, day-matcher.ts). A payment WeChat has that is
 * not PAID here is repaired through `applyPaid`, the path a notify takes, and reported as
 * repaired; every other difference is an item of the run and an anomaly linked to its order. Running a day again changes nothing the second time:
 * the repaired orders now match, anomalies are de-duplicated, the items are replaced.
 */

import { recordAnomaly } from '../anomalies/anomalies.js';
import type { Confirmation, PaymentEvidence } from '../confirmation/confirmation.js';
import type { PaymentsContext } from '../context.js';
import {
  type BillTradeRow,
  type FundFlowBill,
  type FundFlowTotals,
  GatewayError,
  type TradeBill,
} from '../gateway/gateway.js';
import { logged } from '../gateway/gateway-log.js';
import { DomainError, validation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { emptySummary, type RunSummary } from '../lib/run-summary.js';
import { findOrderByOutTradeNo } from '../orders/orders-repo.js';
import { Parties, SRC, type StagedRow } from './day-rows.js';
import { addDays, beijingDay, beijingHour, dayOf } from './days.js';
import { type DayRange, matchWithLedger } from './ledger-repo.js';
import type { BillPayment, DayTotals, Difference } from './match.js';
import { openDigest, type RunClaim, writeRunEvents } from './reconciliation-events.js';
import {
  claimRun,
  finishRun,
  firstOrderAt,
  type RunOutcome,
  repairedKeys,
  replaceItems,
  settledDays,
} from './reconciliation-repo.js';

/** What a run stores as its totals. */
export interface RunTotals extends DayTotals {
  /** The basic account's fund-flow bill of the day, when the gateway can fetch it. */
  fundFlow: FundFlowTotals | null;
  /** Why the fund-flow bill could not be read, when it could not (the day is reconciled anyway). */
  fundFlowError: string | null;
  /** Whether WeChat had no bill for the day ("No Bill Exist": nothing happened there). */
  noBill: boolean;
}

/** A bill compared with the ledger, nothing changed (`compare`). */
export interface Comparison {
  day: string;
  totals: DayTotals;
  differences: Difference[];
  billSha256: string | null;
}

export interface RunResult {
  day: string;
  status: 'matched' | 'differences';
  totals: RunTotals;
  /** Differences still open (anomalies), and those repaired by this run. */
  open: Difference[];
  repaired: Difference[];
  /** Repairs by earlier runs of the day (their orders match now; their items stay). */
  repairedEarlier: number;
  billSha256: string | null;
  fundFlowSha256: string | null;
}

/** WeChat keeps bills for 3 months: days further back cannot be fetched. */
export const CATCH_UP_DAYS = 90;
/** Days one catch-up reconciles at most (the next run goes on). */
const DAYS_PER_CATCH_UP = 7;
/** Failures in a row after which the daily job leaves a day failed for a person to look at. */
export const MAX_FAILURES = 5;
/** WeChat publishes a day's bill from about 10:00 Beijing the next day. */
const BILL_HOUR = 10;

export class Reconciliation {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly confirmation: Confirmation,
  ) {}

  /**
   * Reconciles `day` (`yyyy-MM-dd`, Beijing). A bill not published yet is
   * `GatewayError('later', 'BILL_NOT_READY')` and the run is left `waiting`; any other failure
   * leaves it `failed` with why, and is thrown.
   */
  async run(day: string): Promise<RunResult> {
    const range = beijingDay(day);
    const db = this.ctx.db;
    const claim = await claimRun(db, day, this.ctx.clock());
    if (!claim) {
      throw new DomainError(
        409,
        'RECONCILIATION_RUNNING',
        `the reconciliation of ${day} is running`,
      );
    }
    try {
      const digestBefore = await openDigest(db, day);
      const result = await this.reconcile(day, range);
      await this.complete(claim, result, digestBefore);
      return result;
    } catch (err) {
      const waiting = err instanceof GatewayError && err.code === 'BILL_NOT_READY';
      const status = waiting ? 'waiting' : 'failed';
      const error = err instanceof Error ? err.message : String(err);
      await finishRun(db, claim, { status, error }, this.ctx.clock());
      throw err;
    }
  }

  /** Stores the run's outcome and writes its events, in one transaction. */
  private async complete(claim: RunClaim, result: RunResult, digestBefore: string) {
    const now = this.ctx.clock();
    await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await finishRun(trx, claim, this.outcome(result), now))) {
        throw new DomainError(
          409,
          'RECONCILIATION_RUNNING',
          `the reconciliation of ${claim.day} was taken over by another run`,
        );
      }
      await writeRunEvents(trx, claim, digestBefore, now);
    });
  }

  /**
   * The daily job: every day from the first order (at most `CATCH_UP_DAYS` back) to the latest
   * one whose bill WeChat has published that has no finished run yet, oldest first. A bill not
   * ready yet ends the catch-up without an error (the next run asks again); a day that fails
   * is counted as an error and tried again by the next run, `MAX_FAILURES` times in a row.
   */
  async catchUp(): Promise<RunSummary> {
    const now = this.ctx.clock();
    const latest = addDays(dayOf(now), beijingHour(now) >= BILL_HOUR ? -1 : -2);
    const first = await firstOrderAt(this.ctx.db);
    if (first === null) return emptySummary();
    let day = dayOf(new Date(first));
    const oldest = addDays(latest, 1 - CATCH_UP_DAYS);
    if (day < oldest) day = oldest;
    const days: string[] = [];
    for (; day <= latest; day = addDays(day, 1)) days.push(day);
    const done = await settledDays(this.ctx.db, days, MAX_FAILURES);
    const due = days.filter((d) => !done.has(d)).slice(0, DAYS_PER_CATCH_UP);
    const summary: RunSummary = { ...emptySummary(), examined: due.length };
    for (const d of due) {
      try {
        await this.run(d);
        summary.changed++;
      } catch (err) {
        if (err instanceof GatewayError && err.code === 'BILL_NOT_READY') break;
        if (err instanceof DomainError && err.code === 'RECONCILIATION_RUNNING') continue;
        summary.errors++;
        this.ctx.logger.error({ err, day: d }, 'reconciliation of a day failed');
        if (err instanceof GatewayError && err.kind !== 'invalid') break;
      }
    }
    return summary;
  }

  /**
   * Matches a bill from elsewhere (a downloaded file) against the ledger of its day and changes
   * nothing: no run, no repair, no anomaly (a file proves nothing, so it repairs nothing).
   * `day` defaults to the Beijing day of the bill's first payment row.
   */
  async compare(bill: TradeBill, day?: string): Promise<Comparison> {
    let of = day;
    const { found, totals } = await this.match(
      bill,
      of !== undefined
        ? beijingDay(of)
        : (first) => {
            of = first;
            if (of === undefined) {
              throw validation('the bill has no payment row to tell its day by: give the day');
            }
            return beijingDay(of);
          },
    );
    return { day: of!, totals, differences: found, billSha256: bill.sha256 ?? null };
  }

  private async reconcile(day: string, range: { start: string; end: string }): Promise<RunResult> {
    const gateway = this.ctx.gateway;
    const bill = await logged(this.ctx, null, 'downloadbill', () => gateway.openTradeBill(day));
    const { found, totals: matched } = await this.match(bill, range);
    const fundFlow = gateway.openFundFlowBill
      ? await this.readFundFlow(day, gateway.openFundFlowBill.bind(gateway))
      : null;
    const { open, repaired, repairedEarlier } = await this.settle(day, found);
    const totals: RunTotals = {
      ...matched,
      fundFlow: fundFlow?.totals ?? null,
      fundFlowError: fundFlow?.error ?? null,
      noBill: !bill,
    };
    const status: RunResult['status'] = open.length === 0 ? 'matched' : 'differences';
    const billSha256 = bill?.sha256 ?? null;
    const fundFlowSha256 = fundFlow?.sha256 ?? null;
    return { day, status, totals, open, repaired, repairedEarlier, billSha256, fundFlowSha256 };
  }

  /**
   * Stages the bill (none: WeChat had none), its summary checked when its stream ends, and
   * merge-joins it with the ledger of `range`: the day's, or a function given the Beijing day
   * of the bill's first payment row once the bill is staged.
   */
  private async match(
    bill: TradeBill | null,
    range: DayRange | ((first: string | undefined) => DayRange),
  ) {
    const gateway = this.ctx.gateway;
    let first: string | undefined;
    const parties = new Parties();
    async function* staged() {
      if (!bill) return;
      let seq = 0;
      for await (const rows of bill) {
        const batch = rows.map((row) => billEntry(row, ++seq, parties));
        first ??= batch.find((e) => e[9] !== null)?.[9] ?? undefined;
        yield batch;
      }
    }
    return matchWithLedger(
      this.ctx.db,
      { batches: staged(), parties },
      typeof range === 'function' ? () => range(first && dayOf(new Date(first))) : range,
      { mchId: gateway.mchId, appIds: [gateway.appId] },
    );
  }

  private outcome(result: RunResult): RunOutcome {
    return {
      status: result.status,
      totals: result.totals,
      differences: result.open.length + result.repaired.length + result.repairedEarlier,
      repaired: result.repaired.length + result.repairedEarlier,
      billSha256: result.billSha256,
      fundFlowSha256: result.fundFlowSha256,
    };
  }

  /**
   * The fund-flow bill's totals. It is not matched, so failing to read it does not fail the
   * day: the run says why in `totals.fundFlowError` (BILL_NOT_READY still waits, as it would
   * for the trade bill).
   */
  private async readFundFlow(
    day: string,
    open: (day: string) => Promise<FundFlowBill | null>,
  ): Promise<{ totals: FundFlowTotals | null; sha256: string | null; error: string | null }> {
    try {
      const bill = await logged(this.ctx, null, 'downloadfundflow', () => open(day));
      if (!bill) return { totals: null, sha256: null, error: null };
      for await (const _ of bill);
      return { totals: bill.summary!, sha256: bill.sha256 ?? null, error: null };
    } catch (err) {
      if (!(err instanceof GatewayError) || err.code === 'BILL_NOT_READY') throw err;
      this.ctx.logger.warn({ err, day }, 'reconciliation: the fund-flow bill could not be read');
      return { totals: null, sha256: null, error: `${err.code}: ${err.message}` };
    }
  }

  /** Repairs what can be repaired; records an item for every difference, an anomaly for the open. */
  private async settle(day: string, found: Difference[]) {
    const db = this.ctx.db;
    const repairedEarlier = (await repairedKeys(db, day)).size;
    const open: Difference[] = [];
    const repaired: Difference[] = [];
    const items = [];
    const now = this.ctx.clock();
    for (const difference of found) {
      const outTradeNo = difference.bill?.outTradeNo ?? difference.ledger?.outTradeNo ?? null;
      const order = outTradeNo === null ? undefined : await findOrderByOutTradeNo(db, outTradeNo);
      if (
        difference.kind === 'paid_not_recorded' &&
        order &&
        (await this.repair(order, difference))
      ) {
        repaired.push(difference);
        items.push(item(day, difference, 'repaired', order.id, outTradeNo, now));
        continue;
      }
      open.push(difference);
      items.push(item(day, difference, 'open', order?.id ?? null, outTradeNo, now));
      await recordAnomaly(
        db,
        {
          kind: 'reconciliation',
          orderId: order?.id ?? null,
          outTradeNo,
          dedupeKey: `${day}:${difference.kind}:${difference.key}`,
          detail: {
            day,
            difference: difference.kind,
            key: difference.key,
            detail: difference.detail,
          },
        },
        now,
      );
    }
    await replaceItems(db, day, items);
    return { open, repaired, repairedEarlier };
  }

  /**
   * A payment WeChat's bill has that is not PAID here, handed to `applyPaid` as a notify's would
   * be: a PENDING or CLOSING order becomes PAID (repaired); money for an order that cannot take
   * it (CLOSED, another amount) gets the anomaly a notify would give it, and stays a difference.
   */
  private async repair(
    order: NonNullable<Awaited<ReturnType<typeof findOrderByOutTradeNo>>>,
    difference: Difference,
  ): Promise<boolean> {
    const row = difference.bill as BillPayment;
    const evidence: PaymentEvidence = {
      source: 'bill',
      transactionId: row.transactionId,
      totalFen: row.amountFen,
      currency: row.currency,
      appId: row.appId,
      mchId: row.mchId,
      paidAt: row.paidAt === undefined ? undefined : new Date(row.paidAt),
    };
    const result = await this.confirmation.applyPaid(order, evidence);
    if (result === 'paid') {
      this.ctx.logger.warn(
        { orderId: order.id, outTradeNo: order.out_trade_no },
        'reconciliation: paid at WeChat but not here; made PAID from the bill',
      );
    }
    return result === 'paid';
  }
}

function item(
  day: string,
  difference: Difference,
  status: 'open' | 'repaired',
  orderId: string | null,
  outTradeNo: string | null,
  now: Date,
) {
  return {
    id: newId('rci'),
    day,
    kind: difference.kind,
    key: difference.key,
    status,
    order_id: orderId,
    out_trade_no: outTradeNo,
    detail: difference.detail,
    bill: difference.bill ? JSON.stringify(difference.bill) : null,
    ledger: difference.ledger ? JSON.stringify(difference.ledger) : null,
    created_at: now.toISOString(),
  };
}

/** A bill row as staged: a payment keyed by out_trade_no, a refund by out_refund_no. */
function billEntry(row: BillTradeRow, seq: number, parties: Parties): StagedRow {
  const refund = row.tradeState === 'REFUND';
  if (!refund && row.tradeState !== 'SUCCESS') {
    throw new GatewayError(
      'invalid',
      'MALFORMED_BILL',
      `bill row ${seq}: a ${row.tradeState} row is neither a payment nor a refund`,
    );
  }
  const party = parties.id(row.appId, row.mchId, row.currency);
  return refund
    ? [
        SRC.billRefunds,
        row.outRefundNo ?? '',
        seq,
        row.outTradeNo,
        row.refundId ?? null,
        party,
        row.requestedRefundFen,
        row.refundFen,
        row.feeMilliFen,
        null,
      ]
    : [
        SRC.billPayments,
        row.outTradeNo,
        seq,
        null,
        row.transactionId,
        party,
        row.orderFen,
        row.settlementFen,
        row.feeMilliFen,
        row.tradeTime.toISOString(),
      ];
}
