/**
 * Checkout: prices from the catalogue only, the stock taken and the order written CREATED in
 * one transaction, then unifiedorder (retried with the same out_trade_no when WeChat's answer
 * is ambiguous), then PENDING with the prepay_id, or FAILED with WeChat's reason. Guarded by
 * the caller's Idempotency-Key.
 */

import type { Updateable } from 'kysely';
import type { CheckoutAnswer, Order } from '../../contract/index.js';
import type { Transactor } from '../../store/group-commit.js';
import { preparedQuery } from '../../store/prepared-query.js';
import type { OrdersTable } from '../../store/schema.js';
import { fenToYuan, MAX_TOTAL_FEE } from '../../wechatpay/amounts.js';
import { attachProblem } from '../../wechatpay/attach.js';
import { outTradeNo } from '../../wechatpay/ids.js';
import { fitUtf8, TEXT_LIMITS } from '../../wechatpay/limits.js';
import { type PaymentsContext, sleep, transactorOf } from '../context.js';
import { GatewayError, type PrepayResult } from '../gateway/gateway.js';
import {
  type GatewayCallRow,
  logged,
  loggedLater,
  writeGatewayCall,
} from '../gateway/gateway-log.js';
import { checkKey, IdempotencyKeys, requestHash } from '../idempotency/idempotency-repo.js';
import { crashPoint } from '../lib/crash-points.js';
import { DomainError, validation, wechatUnavailable } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { SessionUser } from '../login/login-service.js';
import { type OrderRow, orderView } from '../orders/order-view.js';
import {
  appendEvent,
  type Db,
  findOrder,
  loadOrderView,
  transition,
} from '../orders/orders-repo.js';

export const MAX_LINES = 20;
export const MAX_QUANTITY = 99;

export interface CheckoutInput {
  items: { productId: string; quantity: number }[];
  attach?: string | null;
}

/** The caller's Idempotency-Key: its scope, the key and the request's hash. */
interface KeyRef {
  scope: string;
  key: string;
  hash: string;
}

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
    // The common case, a key never seen: claimed in the transaction that writes the order (a
    // refusal there, e.g. PRODUCT_UNAVAILABLE, rolls the claim back with it).
    let order = await this.createOrder(user, lines, attach, payerIp, ref, 'claim');
    let orderId = order?.id ?? null;
    if (order === null) {
      // The key exists: a replay, a 409/422 (the key is not ours to release), or ours again.
      const claim = await this.keys.claim(ref.scope, ref.key, ref.hash, this.ctx.clock());
      if (claim.kind === 'replay') {
        return { status: claim.status, body: claim.body as CheckoutAnswer };
      }
      if (claim.kind === 'resume') orderId = claim.resourceId;
    }
    try {
      if (orderId === null) {
        order = (await this.createOrder(user, lines, attach, payerIp, ref, 'attach'))!;
        orderId = order.id;
      }
      order ??= (await findOrder(this.ctx.db, orderId))!;
      const body = await this.prepay(order, ref);
      return { status: 201, body };
    } catch (err) {
      await this.keys.release(ref.scope, ref.key, orderId).catch((e: unknown) => {
        this.ctx.logger.error({ err: e }, 'could not release an idempotency key');
      });
      throw err;
    }
  }

  /**
   * Writes the order CREATED with its items and `order.created`, and in the same transaction
   * claims the key for it (`claim`; resolves null, writing nothing, when the key exists) or
   * attaches it to the key the caller already holds (`attach`).
   */
  private async createOrder(
    user: SessionUser,
    lines: { productId: string; quantity: number }[],
    attach: string | null,
    payerIp: string,
    ref: KeyRef,
    keyStep: 'claim' | 'attach',
  ): Promise<OrderRow | null> {
    const now = this.ctx.clock();
    const iso = now.toISOString();
    const id = newId('ord');
    const order = await this.transact(async (trx) => {
      if (keyStep === 'attach') await this.keys.attach(ref.scope, ref.key, id, trx);
      else if (!(await this.keys.claimNew(trx, ref.scope, ref.key, ref.hash, now, id))) {
        return null;
      }
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
      // RETURNING and the item rows just written give the event its view: no reads back.
      const [order] = await insertOrder(trx, {
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
        at: iso,
      });
      await trx.insertInto('order_items').values(items).execute();
      await appendEvent(trx, id, 'order.created', { order: orderView(order!, items) }, now);
      return order!;
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
  private async prepay(order: OrderRow, ref: KeyRef): Promise<CheckoutAnswer> {
    if (order.status !== 'CREATED') {
      const body = await this.answer(this.ctx.db, order);
      await this.keys.complete(ref.scope, ref.key, 201, body);
      return body;
    }
    try {
      crashPoint('checkout-before-prepay');
      const { value: prepay, record } = await this.prepayOnce(order, loggedLater);
      crashPoint('checkout-after-prepay');
      const now = this.ctx.clock();
      return await this.settle(order.id, ref, 'PENDING', now, record, {
        prepay_id: prepay.prepayId,
        prepay_expires_at: prepay.prepayExpiresAt.toISOString(),
        next_query_at: new Date(now.getTime() + FIRST_QUERY_MS).toISOString(),
      });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.kind === 'ambiguous' || err.kind === 'invalid') throw wechatUnavailable();
      if (err.kind === 'config') {
        this.ctx.logger.error({ code: err.code }, 'unifiedorder refused the merchant setup');
      }
      this.ctx.metrics.inc('minipay_orders_failed_total', { code: err.code });
      return this.settle(order.id, ref, 'FAILED', this.ctx.clock(), null, {
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
    ref: KeyRef,
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
      await this.keys.complete(ref.scope, ref.key, 201, body, trx);
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
    const { settings, gateway } = this.ctx;
    for (let attempt = 1; ; attempt++) {
      try {
        return await log(
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
              notifyUrl: settings.notifyUrl,
              ...(order.attach !== null && { attach: order.attach }),
              expiresAt: new Date(order.expires_at),
            }),
          (r) => ({ prepayExpiresAt: r.prepayExpiresAt.toISOString() }),
        );
      } catch (err) {
        const again =
          err instanceof GatewayError && err.retryable && attempt < settings.prepayAttempts;
        if (!again) throw err;
        await sleep(settings.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /** `view`: the order's view when the caller has it already (no second read). */
  private async answer(db: Db, order: OrderRow, known?: Order): Promise<CheckoutAnswer> {
    const view = known ?? (await loadOrderView(db, order));
    const payment =
      order.status === 'PENDING' && order.prepay_id
        ? this.ctx.gateway.paymentParams(order.prepay_id)
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

type NewOrder = {
  id: string;
  outTradeNo: string;
  userId: string;
  openid: string;
  description: string;
  totalFen: number;
  currency: string;
  attach: string | null;
  payerIp: string;
  expiresAt: string;
  at: string;
};

/** A new CREATED order, as written (compiled once: the insert every checkout makes). */
const insertOrder = preparedQuery<NewOrder, OrderRow>((db, p) =>
  db
    .insertInto('orders')
    .values({
      id: p('id'),
      out_trade_no: p('outTradeNo'),
      user_id: p('userId'),
      openid: p('openid'),
      status: 'CREATED',
      description: p('description'),
      total_fen: p('totalFen'),
      currency: p('currency'),
      attach: p('attach'),
      payer_ip: p('payerIp'),
      prepay_id: null,
      prepay_expires_at: null,
      transaction_id: null,
      paid_at: null,
      closed_at: null,
      refunded_fen: 0,
      failure_code: null,
      failure_message: null,
      refund_required: 0,
      query_attempts: 0,
      next_query_at: null,
      expires_at: p('expiresAt'),
      version: 0,
      created_at: p('at'),
      updated_at: p('at'),
    })
    .returningAll(),
);

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
