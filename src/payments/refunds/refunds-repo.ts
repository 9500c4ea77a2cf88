/**
 * The refunds repository: the ONE writer of `refunds` rows, each change in ONE transaction with
 * what it does to its order (through the orders repository) and its outbox events. Two
 * compare-and-sets keep the money right on SQLite and PostgreSQL alike:
 * - reserving a refund re-reads the ledger and claims the order's version only if nobody else
 *   changed the order since, so of two concurrent requests that both "fit" one commits and the
 *   other re-reads;
 * - a settled SUCCESS adds to the order's `refunded_fen` and moves it through the state machine
 *   under the same version check.
 */

import type { Kysely, Transaction, Updateable } from 'kysely';
import {
  type AdminOrder,
  type Order,
  REFUNDABLE_STATUSES,
  type RefundStatus,
} from '../../contract/index.js';
import type { Database, RefundsTable } from '../../store/schema.js';
import type { Db } from '../lib/db.js';
import { DomainError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { retrying } from '../lib/retry.js';
import { adminOrderView, type OrderRow } from '../orders/order-view.js';
import {
  addRefunded,
  appendEvent,
  claimVersion,
  findOrder,
  loadOrderView,
} from '../orders/orders-repo.js';
import { type RefundLedger, refundedStatus } from './refund-amounts.js';
import { type RefundRow, refundView } from './refund-view.js';

/** Refunds whose outcome is not known yet (the follow-up job queries them). */
export const UNSETTLED: readonly RefundStatus[] = ['PENDING', 'PROCESSING'];
/** Refunds that hold part of the paid amount (CHANGE: WeChat keeps it until it is resolved). */
const IN_FLIGHT: readonly string[] = ['PENDING', 'PROCESSING', 'CHANGE'];

/** Another transaction changed the order first: roll back and read again. */
class VersionConflict extends Error {}

/** Runs `body` in a transaction, again (up to `attempts` times) when it hit a VersionConflict. */
async function withVersionRetry<T>(
  db: Kysely<Database>,
  body: (trx: Transaction<Database>) => Promise<T>,
  attempts = 8,
): Promise<T> {
  try {
    return await retrying(
      () => db.transaction().execute(body),
      { attempts, delayMs: 0 },
      (err) => err instanceof VersionConflict,
    );
  } catch (err) {
    if (!(err instanceof VersionConflict)) throw err;
    throw new DomainError(
      409,
      'ORDER_BUSY',
      'the order kept changing while this was being recorded; retry in a moment',
    );
  }
}

export async function findRefund(db: Db, id: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** An order's refunds, oldest first. */
export function findRefundsOfOrder(db: Db, orderId: string): Promise<RefundRow[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function findRefundByOutRefundNo(
  db: Db,
  outRefundNo: string,
): Promise<RefundRow | undefined> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('out_refund_no', '=', outRefundNo)
    .executeTakeFirst();
}

export async function loadAdminOrder(db: Db, order: OrderRow): Promise<AdminOrder> {
  const items = await db
    .selectFrom('order_items')
    .selectAll()
    .where('order_id', '=', order.id)
    .execute();
  return adminOrderView(order, items);
}

/** What has been paid, refunded and is being refunded, from the refund rows. */
export async function ledgerOf(db: Db, order: OrderRow): Promise<RefundLedger> {
  const rows = await db
    .selectFrom('refunds')
    .select(['status', 'amount_fen'])
    .where('order_id', '=', order.id)
    .execute();
  const sum = (pick: (status: string) => boolean) =>
    rows.filter((r) => pick(r.status)).reduce((s, r) => s + r.amount_fen, 0);
  return {
    paidFen: order.total_fen,
    succeededFen: sum((s) => s === 'SUCCESS'),
    inFlightFen: sum((s) => IN_FLIGHT.includes(s)),
    refundCount: rows.filter((r) => r.status !== 'FAILED').length,
  };
}

export interface NewRefund {
  outRefundNo: string;
  amountFen: number;
  reason: string | null;
  source: 'minipay' | 'merchant_portal';
  status: 'PENDING' | 'PROCESSING';
  refundId?: string | null;
  nextQueryAt: Date;
}

/**
 * Records a refund. `check` sees the order and its ledger inside the transaction and throws to
 * refuse; `link` runs in the same transaction (the idempotency key's resource). The order's
 * version is claimed, so two reservations can never both see the same ledger.
 */
export async function insertRefund(
  db: Kysely<Database>,
  orderId: string,
  refund: NewRefund,
  at: Date,
  check: (order: OrderRow, ledger: RefundLedger) => void,
  link?: (trx: Transaction<Database>, refundId: string) => Promise<unknown>,
): Promise<RefundRow> {
  return withVersionRetry(db, async (trx) => {
    const order = await findOrder(trx, orderId);
    if (!order) throw new DomainError(404, 'NOT_FOUND', 'no such order for this caller');
    check(order, await ledgerOf(trx, order));
    const iso = at.toISOString();
    const row: RefundRow = {
      id: newId('rfd'),
      order_id: order.id,
      out_refund_no: refund.outRefundNo,
      refund_id: refund.refundId ?? null,
      amount_fen: refund.amountFen,
      reason: refund.reason,
      status: refund.status,
      source: refund.source,
      failure_code: null,
      failure_message: null,
      created_at: iso,
      updated_at: iso,
      succeeded_at: null,
      query_attempts: 0,
      next_query_at: refund.nextQueryAt.toISOString(),
      retry_code: null,
      retry_message: null,
    };
    await trx.insertInto('refunds').values(row).execute();
    if (!(await claimVersion(trx, order, at))) throw new VersionConflict();
    await link?.(trx, row.id);
    const after = (await findOrder(trx, order.id))!;
    await appendEvent(
      trx,
      order.id,
      'refund.created',
      { order: await loadOrderView(trx, after), refund: refundView(row) },
      at,
    );
    return row;
  });
}

/** PENDING → PROCESSING (WeChat accepted it, or its answer was lost); false if it had moved. */
export function markProcessing(
  db: Db,
  refund: RefundRow,
  refundId: string | null,
  nextQueryAt: Date,
  at: Date,
): Promise<boolean> {
  return changeRefund(db, refund.id, UNSETTLED, at, {
    status: 'PROCESSING',
    refund_id: refundId ?? refund.refund_id,
    next_query_at: nextQueryAt.toISOString(),
    retry_code: null,
    retry_message: null,
  });
}

/**
 * WeChat refused the refund for now (NOTENOUGH, FREQUENCY_LIMITED): it waits PENDING, its
 * amount still reserved, with why and when it is sent again (same out_refund_no). False if it
 * had settled meanwhile.
 */
export function deferRefund(
  db: Db,
  refund: RefundRow,
  reason: { code: string; message: string },
  nextAttemptAt: Date,
  at: Date,
): Promise<boolean> {
  return changeRefund(db, refund.id, UNSETTLED, at, {
    status: 'PENDING',
    retry_code: reason.code,
    retry_message: reason.message.slice(0, 500),
    query_attempts: refund.query_attempts + 1,
    next_query_at: nextAttemptAt.toISOString(),
  });
}

/**
 * A refund an admin gave up on that WeChat accepted after all (a request in flight when it
 * was given up): FAILED → PROCESSING, its amount reserved again, so the follow-up settles it
 * with WeChat's outcome. False when it was not a given-up refund.
 */
export function reopenGivenUp(
  db: Db,
  refund: RefundRow,
  refundId: string | null,
  nextQueryAt: Date,
  at: Date,
): Promise<boolean> {
  return changeRefund(
    db,
    refund.id,
    ['FAILED'],
    at,
    {
      status: 'PROCESSING',
      refund_id: refundId ?? refund.refund_id,
      failure_code: null,
      failure_message: null,
      next_query_at: nextQueryAt.toISOString(),
    },
    GIVEN_UP,
  );
}

/**
 * Applies `set` (and `updated_at`) to a refund still in one of `from` (and, when given, failed
 * with `failureCode`): the compare-and-set every change of a refund is. False if it had moved.
 */
async function changeRefund(
  db: Db,
  id: string,
  from: readonly string[],
  at: Date,
  set: Updateable<RefundsTable>,
  failureCode?: string,
): Promise<boolean> {
  let q = db
    .updateTable('refunds')
    .set({ ...set, updated_at: at.toISOString() })
    .where('id', '=', id)
    .where('status', 'in', [...from]);
  if (failureCode !== undefined) q = q.where('failure_code', '=', failureCode);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The failure code of a refund an admin gave up. */
export const GIVEN_UP = 'GIVEN_UP';

export interface RefundOutcome {
  status: 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE' | 'FAILED';
  refundId?: string;
  succeededAt?: Date;
  failure?: { code: string; message: string };
}

export type SettleResult = 'settled' | 'duplicate';

/**
 * Settles an unsettled refund with WeChat's outcome and, for SUCCESS, adds it to the order:
 * PAID / PARTIALLY_REFUNDED → PARTIALLY_REFUNDED / REFUNDED. An order in any other state (money
 * for a closed order refunded from the portal) keeps its status. 'duplicate' when the refund
 * was already settled: nothing changes.
 */
export async function settleRefund(
  db: Kysely<Database>,
  refundRowId: string,
  outcome: RefundOutcome,
  at: Date,
): Promise<SettleResult> {
  return withVersionRetry(db, async (trx) => {
    const refund = await findRefund(trx, refundRowId);
    if (!refund || !UNSETTLED.includes(refund.status as RefundStatus)) return 'duplicate';
    const updated = await changeRefund(trx, refund.id, [refund.status], at, {
      status: outcome.status,
      refund_id: outcome.refundId ?? refund.refund_id,
      succeeded_at: outcome.status === 'SUCCESS' ? (outcome.succeededAt ?? at).toISOString() : null,
      failure_code: outcome.failure?.code ?? null,
      failure_message: outcome.failure?.message.slice(0, 500) ?? null,
      next_query_at: null,
    });
    if (!updated) return 'duplicate';
    const settled = (await findRefund(trx, refund.id))!;
    const order = (await findOrder(trx, refund.order_id))!;
    const refunded = refundView(settled);
    let view: Order | undefined;
    if (outcome.status === 'SUCCESS' && REFUNDABLE_STATUSES.includes(order.status)) {
      const to = refundedStatus(order.total_fen, order.refunded_fen + refund.amount_fen);
      if (to === 'PAID') throw new Error('refund settlement: a refund that refunds nothing');
      const moved = await addRefunded(trx, order, refund.amount_fen, to, at, { refund: refunded });
      if (!moved) throw new VersionConflict();
      view = moved.view;
    }
    const type = outcome.status === 'SUCCESS' ? 'refund.succeeded' : 'refund.failed';
    view ??= await loadOrderView(trx, order);
    await appendEvent(trx, order.id, type, { order: view, refund: refunded }, at);
    return 'settled';
  });
}

/** Pushes an unsettled refund's next follow-up query back. */
export async function postponeQuery(db: Db, refund: RefundRow, next: Date): Promise<void> {
  await db
    .updateTable('refunds')
    .set({ query_attempts: refund.query_attempts + 1, next_query_at: next.toISOString() })
    .where('id', '=', refund.id)
    .where('status', 'in', UNSETTLED)
    .execute();
}
