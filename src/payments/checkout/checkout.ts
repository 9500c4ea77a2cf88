/**
 * Checkout: prices from the catalogue only, the stock taken and the order written CREATED in
 * one transaction, then unifiedorder (retried with the same out_trade_no when WeChat's answer
 * is ambiguous), then PENDING with the prepay_id, or FAILED with WeChat's reason. Guarded by
 * the caller's Idempotency-Key.
 */

import type { Updateable } from 'kysely';
import type { CheckoutAnswer, Order } from '../../contract/index.js';
import type { Transactor } from '../../store/group-commit.js';
import type { OrdersTable } from '../../store/schema.js';
import { fenToYuan, MAX_TOTAL_FEE } from '../../wechatpay/amounts.js';
import { attachProblem } from '../../wechatpay/attach.js';
import { outTradeNo } from '../../wechatpay/ids.js';
import { fitUtf8, TEXT_LIMITS } from '../../wechatpay/limits.js';
import { notifyUrlFor, type PaymentsContext, transactorOf } from '../context.js';
import { GatewayError, type PrepayResult } from '../gateway/gateway.js';
import { type GatewayCallRow, writeGatewayCall } from '../gateway/gateway-calls-repo.js';
import { logged, loggedLater } from '../gateway/gateway-log.js';
import { IdempotencyKeys } from '../idempotency/idempotency-repo.js';
import {
  checkKey,
  idempotent,
  type KeyLink,
  type KeyRef,
  requestHash,
} from '../idempotency/idempotent-request.js';
import { crashPoint } from '../lib/crash-points.js';
import type { Db } from '../lib/db.js';
import { DomainError, validation, wechatUnavailable, wechatUnverified } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { retrying } from '../lib/retry.js';
import type { SessionUser } from '../login/login-service.js';
import type { OrderRow } from '../orders/order-view.js';
import { createOrder, findOrder, loadOrderView, transition } from '../orders/orders-repo.js';

export const MAX_LINES = 20;
export const MAX_QUANTITY = 99;

export interface CheckoutInput {
  items: { productId: string; quantity: number }[];
  attach?: string | null;
}

/** Completes the caller's Idempotency-Key with the answer, in the transaction that settles it. */
type CompleteKey = (body: CheckoutAnswer, db: Db) => Promise<void>;

export class Checkout {
  private readonly keys: IdempotencyKeys;
  /** The store's: on SQLite, checkouts (and notifies) that arrive together share a COMMIT. */
  private readonly transact: Transactor;

  constructor(private readonly ctx: PaymentsContext) {
    this.keys = new IdempotencyKeys(ctx.db);
    this.transact = transactorOf(ctx);
  }

  /**
   * Resolves to the HTTP status and body (201 on success, the stored answer on a replay).
   * A new key takes two commits: key + order + items + `order.created`, then (after
   * unifiedorder) the gateway call + PENDING + `order.pending` + the key's stored answer.
   */
  async checkout(
    user: SessionUser,
    input: CheckoutInput,
    idempotencyKey: string | undefined,
    payerIp: string,
  ): Promise<{ status: number; body: CheckoutAnswer }> {
    const key = checkKey(idempotencyKey);
    const lines = normalizeLines(input);
    const attach = checkAttach(input.attach);
    const ref: KeyRef = {
      scope: `user:${user.id}:orders`,
      key,
      hash: requestHash({ lines, attach }),
    };
    const { keys, ctx } = this;
    // The common case, a key never seen, is claimed in the transaction that writes the order.
    return idempotent<OrderRow, CheckoutAnswer>(
      { keys, ref, now: ctx.clock(), logger: ctx.logger, claimInCreate: true },
      {
        create: (link) => this.createOrder(user, lines, attach, payerIp, link),
        load: (id) => findOrder(this.ctx.db, id),
        finish: (order, complete) => this.prepay(order, complete),
      },
    );
  }

  /**
   * Writes the order CREATED with its items and `order.created`, and in the same transaction
   * ties it to the caller's key (`link`); resolves null, writing nothing, when the key is taken.
   */
  private async createOrder(
    user: SessionUser,
    lines: { productId: string; quantity: number }[],
    attach: string | null,
    payerIp: string,
    link: KeyLink,
  ): Promise<OrderRow | null> {
    const now = this.ctx.clock();
    const iso = now.toISOString();
    const id = newId('ord');
    const order = await this.transact(async (trx) => {
      if (!(await link(trx, id))) return null;
      const priced = await priceLines(trx, lines);
      const totalFen = priced.reduce((sum, l) => sum + l.amountFen, 0);
      if (totalFen > MAX_TOTAL_FEE) throw totalTooLarge(totalFen);
      await reserveStock(trx, priced, iso);
      const items = priced.map((l, i) => ({
        order_id: id,
        line_no: i + 1,
        product_id: l.productId,
        name: l.name,
        unit_price_fen: l.unitPriceFen,
        quantity: l.quantity,
        amount_fen: l.amountFen,
        stock_reserved: l.limited ? l.quantity : 0,
      }));
      return createOrder(
        trx,
        {
          id,
          outTradeNo: outTradeNo('MP', now),
          userId: user.id,
          openid: user.openid,
          description: describe(this.ctx.settings.storeName, priced),
          totalFen,
          currency: this.ctx.settings.currency,
          attach,
          payerIp,
          expiresAt: new Date(now.getTime() + this.ctx.settings.orderTtlMs).toISOString(),
          api: this.ctx.gateway.api,
          at: iso,
        },
        items,
        now,
      );
    });
    if (order) this.ctx.metrics.inc('minipay_orders_created_total');
    return order;
  }

  /** Drops idempotency keys past their 24 hours. */
  purgeKeys(): Promise<number> {
    return this.keys.purge(this.ctx.clock());
  }

  /**
   * CREATED → PENDING (or FAILED), and the key completed with the answer in the same
   * transaction; a PENDING order (a resumed key) just gets fresh params.
   */
  private async prepay(order: OrderRow, complete: CompleteKey): Promise<CheckoutAnswer> {
    if (order.status !== 'CREATED') return this.answer(this.ctx.db, order);
    try {
      crashPoint('checkout-before-prepay');
      const { value: prepay, record } = await this.prepayOnce(order, loggedLater);
      crashPoint('checkout-after-prepay');
      const now = this.ctx.clock();
      return await this.settle(order.id, complete, 'PENDING', now, record, {
        prepay_id: prepay.prepayId,
        prepay_expires_at: prepay.prepayExpiresAt.toISOString(),
        next_query_at: new Date(now.getTime() + FIRST_QUERY_MS).toISOString(),
      });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // The order stays CREATED: the same key resumes it with the same out_trade_no.
      if (err.unverified) throw unverifiedPrepay(err);
      if (err.kind === 'ambiguous' || err.kind === 'invalid') throw wechatUnavailable();
      if (err.kind === 'config') {
        this.ctx.logger.error({ err, code: err.code }, 'unifiedorder refused the merchant setup');
      }
      this.ctx.metrics.inc('minipay_orders_failed_total', { code: err.code });
      return this.settle(order.id, complete, 'FAILED', this.ctx.clock(), null, {
        failure_code: err.code,
        failure_message: err.message.slice(0, 500),
      });
    }
  }

  /**
   * One transaction: the gateway call's row, CREATED → `to` with its event, and the key
   * completed with the answer (someone else's move is answered as the order now stands).
   */
  private settle(
    orderId: string,
    complete: CompleteKey,
    to: 'PENDING' | 'FAILED',
    now: Date,
    record: GatewayCallRow | null,
    set: Updateable<OrdersTable>,
  ): Promise<CheckoutAnswer> {
    return this.transact(async (trx) => {
      if (record) await writeGatewayCall(trx, record);
      const done = await transition(trx, orderId, ['CREATED'], to, now, set);
      const body = done
        ? await this.answer(trx, done.order, done.view)
        : await this.answer(trx, (await findOrder(trx, orderId))!);
      await complete(body, trx);
      return body;
    });
  }

  /** unifiedorder, retried with the same out_trade_no while WeChat's answer is ambiguous. */
  async requestPrepay(order: OrderRow): Promise<PrepayResult> {
    return this.prepayOnce(order, logged);
  }

  /** `log`: how each attempt is recorded (`loggedLater` leaves a success's row to the caller). */
  private async prepayOnce<R>(
    order: OrderRow,
    log: (
      ctx: PaymentsContext,
      orderId: string,
      operation: string,
      call: () => Promise<PrepayResult>,
      summarize: (r: PrepayResult) => Record<string, unknown>,
    ) => Promise<R>,
  ): Promise<R> {
    const { settings } = this.ctx;
    const gateway = this.ctx.gateway.forApi(order.wechatpay_api);
    const prepay = () =>
      log(
        this.ctx,
        order.id,
        'unifiedorder',
        () =>
          gateway.prepay({
            outTradeNo: order.out_trade_no,
            description: order.description,
            totalFen: order.total_fen,
            payerOpenid: order.openid,
            payerIp: order.payer_ip,
            notifyUrl: notifyUrlFor(settings, order.wechatpay_api),
            ...(order.attach !== null && { attach: order.attach }),
            expiresAt: new Date(order.expires_at),
          }),
        (r) => ({ prepayExpiresAt: r.prepayExpiresAt.toISOString() }),
      );
    return retrying(
      prepay,
      { attempts: settings.prepayAttempts, delayMs: settings.retryDelayMs },
      (err) => err instanceof GatewayError && err.retryable,
    );
  }

  /** `view`: the order's view when the caller has it already (no second read). */
  private async answer(db: Db, order: OrderRow, known?: Order): Promise<CheckoutAnswer> {
    const view = known ?? (await loadOrderView(db, order));
    const payment =
      order.status === 'PENDING' && order.prepay_id
        ? this.ctx.gateway.forApi(order.wechatpay_api).paymentParams(order.prepay_id)
        : null;
    return { order: view, payment };
  }
}

/** The lines at catalogue prices; a product gone or inactive is refused. */
async function priceLines(db: Db, lines: { productId: string; quantity: number }[]) {
  const ids = lines.map((l) => l.productId);
  const products = await db.selectFrom('products').selectAll().where('id', 'in', ids).execute();
  return lines.map((line) => {
    const p = products.find((x) => x.id === line.productId);
    if (p === undefined || p.active !== 1) {
      throw new DomainError(
        422,
        'PRODUCT_UNAVAILABLE',
        `product "${line.productId}" is not available; refresh the product list`,
      );
    }
    return {
      ...line,
      name: p.name,
      unitPriceFen: p.price_fen,
      amountFen: p.price_fen * line.quantity,
      /** The product has a stock (null: unlimited). */
      limited: p.stock !== null,
    };
  });
}

/**
 * Takes each limited line's quantity from its product's stock, one conditional UPDATE per
 * line that never goes below zero, in the order's transaction: a refusal takes nothing and
 * writes no order. Given back by the order's move to CLOSED or FAILED (orders-repo.ts).
 * Products in id order, so that two PostgreSQL checkouts lock them in the same order.
 */
async function reserveStock(
  trx: Db,
  lines: { productId: string; name: string; quantity: number; limited: boolean }[],
  at: string,
): Promise<void> {
  const limited = lines.filter((l) => l.limited);
  limited.sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  for (const line of limited) {
    const taken = await trx
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '-', line.quantity), updated_at: at }))
      .where('id', '=', line.productId)
      .where('stock', '>=', line.quantity)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) continue;
    const left = await trx
      .selectFrom('products')
      .select('stock')
      .where('id', '=', line.productId)
      .executeTakeFirst();
    throw outOfStock(line, left?.stock ?? 0);
  }
}

function totalTooLarge(totalFen: number) {
  return new DomainError(
    422,
    'TOTAL_TOO_LARGE',
    `the order comes to ¥${fenToYuan(totalFen)}; one WeChat Pay payment carries at most ¥${fenToYuan(MAX_TOTAL_FEE)}: order fewer`,
  );
}

function outOfStock(line: { productId: string; name: string; quantity: number }, left: number) {
  return new DomainError(
    409,
    'OUT_OF_STOCK',
    left > 0
      ? `only ${left} of "${line.name}" (${line.productId}) left, ${line.quantity} asked; order fewer`
      : `"${line.name}" (${line.productId}) is sold out`,
  );
}

export function unverifiedPrepay(err: GatewayError): DomainError {
  return wechatUnverified(
    'The prepay answer',
    err.code,
    'retry with the same Idempotency-Key once it is fixed',
  );
}

/** When the sweep first asks WeChat about a PENDING order whose notify has not come. */
export const FIRST_QUERY_MS = 60_000;

function normalizeLines(input: CheckoutInput): { productId: string; quantity: number }[] {
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length > MAX_LINES) {
    throw validation(`items must list 1 to ${MAX_LINES} products`);
  }
  const merged = new Map<string, number>();
  for (const item of input.items) {
    if (typeof item.productId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(item.productId)) {
      throw validation('every item needs a productId from GET /api/v1/products');
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw validation(`quantity must be a whole number from 1 to ${MAX_QUANTITY}`);
    }
    merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
  }
  const lines = [...merged].map(([productId, quantity]) => ({ productId, quantity }));
  if (lines.some((l) => l.quantity > MAX_QUANTITY)) {
    throw validation(`at most ${MAX_QUANTITY} of one product per order`);
  }
  return lines;
}

/** `attach` as WeChat can carry it back (the protocol layer's rule), else a 400. */
function checkAttach(attach: string | null | undefined): string | null {
  if (attach === undefined || attach === null) return null;
  const problem = attachProblem(attach);
  if (problem) throw validation(problem);
  return attach;
}

/**
 * WeChat's `body`, e.g. "minipay - Jasmine tea and 2 more": at most 127 bytes of UTF-8 (42
 * Chinese characters), shortened between characters with an ellipsis when longer.
 */
export function describe(store: string, lines: { name: string; quantity: number }[]): string {
  const first = lines[0]!;
  const what =
    lines.length > 1
      ? `${first.name} and ${lines.length - 1} more`
      : `${first.name}${first.quantity > 1 ? ` x${first.quantity}` : ''}`;
  return fitUtf8(`${store} - ${what}`, TEXT_LIMITS.body);
}
