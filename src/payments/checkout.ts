/**
 * Checkout: prices from the catalogue only, the order written CREATED, then unifiedorder
 * (retried with the same out_trade_no when WeChat's answer is ambiguous), then PENDING with
 * the prepay_id, or FAILED with WeChat's reason. Guarded by the caller's Idempotency-Key.
 */
import { outTradeNo } from '../wechatpay/ids.js';
import { type PaymentsContext, sleep } from './context.js';
import { DomainError, validation, wechatUnavailable } from './errors.js';
import { GatewayError, type PaymentParams } from './gateway.js';
import { logged } from './gateway-log.js';
import { checkKey, IdempotencyKeys, requestHash } from './idempotency.js';
import { newId } from './ids.js';
import type { SessionUser } from './login-service.js';
import { type OrderRow, type OrderView, orderView } from './order-view.js';
import { appendEvent, findOrder, loadOrderView, transition } from './orders-repo.js';

export const MAX_LINES = 20;
export const MAX_QUANTITY = 99;
/** WeChat's `attach` holds 127 bytes. */
export const MAX_ATTACH_BYTES = 127;

export interface CheckoutInput {
  items: { productId: string; quantity: number }[];
  attach?: string | null;
}

export interface CheckoutAnswer {
  order: OrderView;
  payment: PaymentParams | null;
}

export class Checkout {
  private readonly keys: IdempotencyKeys;

  constructor(private readonly ctx: PaymentsContext) {
    this.keys = new IdempotencyKeys(ctx.db);
  }

  /** Resolves to the HTTP status and body (201 on success, the stored answer on a replay). */
  async checkout(
    user: SessionUser,
    input: CheckoutInput,
    idempotencyKey: string | undefined,
    payerIp: string,
  ): Promise<{ status: number; body: CheckoutAnswer }> {
    const key = checkKey(idempotencyKey);
    const lines = normalizeLines(input);
    const attach = checkAttach(input.attach);
    const scope = `user:${user.id}:orders`;
    const hash = requestHash({ lines, attach });
    const claim = await this.keys.claim(scope, key, hash, this.ctx.clock());
    if (claim.kind === 'replay')
      return { status: claim.status, body: claim.body as CheckoutAnswer };
    let orderId: string | null = claim.kind === 'resume' ? claim.resourceId : null;
    try {
      if (!orderId) {
        orderId = await this.createOrder(user, lines, attach, payerIp);
        await this.keys.attach(scope, key, orderId);
      }
      const body = await this.prepay(orderId);
      await this.keys.complete(scope, key, 201, body);
      return { status: 201, body };
    } catch (err) {
      await this.keys.release(scope, key, orderId).catch((e: unknown) => {
        this.ctx.logger.error({ err: e }, 'could not release an idempotency key');
      });
      throw err;
    }
  }

  private async createOrder(
    user: SessionUser,
    lines: { productId: string; quantity: number }[],
    attach: string | null,
    payerIp: string,
  ): Promise<string> {
    const { db } = this.ctx;
    const ids = lines.map((l) => l.productId);
    const products = await db.selectFrom('products').selectAll().where('id', 'in', ids).execute();
    const priced = lines.map((line) => {
      const p = products.find((x) => x.id === line.productId);
      if (p === undefined || p.active !== 1 || (p.stock !== null && p.stock < line.quantity)) {
        throw new DomainError(
          422,
          'PRODUCT_UNAVAILABLE',
          `product "${line.productId}" is not available${p?.stock != null && p.active === 1 ? ` in quantity ${line.quantity}` : ''}; refresh the product list`,
        );
      }
      return {
        ...line,
        name: p.name,
        unitPriceFen: p.price_fen,
        amountFen: p.price_fen * line.quantity,
      };
    });
    const totalFen = priced.reduce((sum, l) => sum + l.amountFen, 0);
    const now = this.ctx.clock();
    const iso = now.toISOString();
    const id = newId('ord');
    const description = describe(this.ctx.settings.storeName, priced);
    const items = priced.map((l, i) => ({
      order_id: id,
      line_no: i + 1,
      product_id: l.productId,
      name: l.name,
      unit_price_fen: l.unitPriceFen,
      quantity: l.quantity,
      amount_fen: l.amountFen,
    }));
    await db.transaction().execute(async (trx) => {
      // RETURNING and the item rows just written give the event its view: no reads back.
      const order = await trx
        .insertInto('orders')
        .values({
          id,
          out_trade_no: outTradeNo('MP', now),
          user_id: user.id,
          openid: user.openid,
          status: 'CREATED',
          description,
          total_fen: totalFen,
          currency: this.ctx.settings.currency,
          attach,
          payer_ip: payerIp,
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
          expires_at: new Date(now.getTime() + this.ctx.settings.orderTtlMs).toISOString(),
          version: 0,
          created_at: iso,
          updated_at: iso,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx.insertInto('order_items').values(items).execute();
      await appendEvent(trx, id, 'order.created', { order: orderView(order, items) }, now);
    });
    this.ctx.metrics.inc('minipay_orders_created_total');
    return id;
  }

  /** Drops idempotency keys past their 24 hours. */
  purgeKeys(): Promise<number> {
    return this.keys.purge(this.ctx.clock());
  }

  /** CREATED → PENDING (or FAILED); a PENDING order (a resumed key) just gets fresh params. */
  private async prepay(orderId: string): Promise<CheckoutAnswer> {
    const order = (await findOrder(this.ctx.db, orderId))!;
    if (order.status !== 'CREATED') return this.answer(order);
    try {
      const prepay = await this.requestPrepay(order);
      const now = this.ctx.clock();
      const done = await transition(this.ctx.db, order.id, ['CREATED'], 'PENDING', now, {
        prepay_id: prepay.prepayId,
        prepay_expires_at: prepay.prepayExpiresAt.toISOString(),
        next_query_at: new Date(now.getTime() + FIRST_QUERY_MS).toISOString(),
      });
      if (done) return this.answer(done.order, done.view);
      return this.answer((await findOrder(this.ctx.db, order.id))!);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.kind === 'ambiguous' || err.kind === 'invalid') throw wechatUnavailable();
      if (err.kind === 'config') {
        this.ctx.logger.error({ code: err.code }, 'unifiedorder refused the merchant setup');
      }
      const failed = await transition(
        this.ctx.db,
        order.id,
        ['CREATED'],
        'FAILED',
        this.ctx.clock(),
        {
          failure_code: err.code,
          failure_message: err.message.slice(0, 500),
        },
      );
      this.ctx.metrics.inc('minipay_orders_failed_total', { code: err.code });
      return this.answer(failed?.order ?? (await findOrder(this.ctx.db, order.id))!);
    }
  }

  /** unifiedorder, retried with the same out_trade_no while WeChat's answer is ambiguous. */
  async requestPrepay(order: OrderRow) {
    const { settings, gateway } = this.ctx;
    for (let attempt = 1; ; attempt++) {
      try {
        return await logged(
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
  private async answer(order: OrderRow, known?: OrderView): Promise<CheckoutAnswer> {
    const view = known ?? (await loadOrderView(this.ctx.db, order));
    const payment =
      order.status === 'PENDING' && order.prepay_id
        ? this.ctx.gateway.paymentParams(order.prepay_id)
        : null;
    return { order: view, payment };
  }
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

function checkAttach(attach: string | null | undefined): string | null {
  if (attach === undefined || attach === null) return null;
  if (Buffer.byteLength(attach) > MAX_ATTACH_BYTES) {
    throw validation(`attach must be at most ${MAX_ATTACH_BYTES} bytes (WeChat's limit)`);
  }
  return attach;
}

/** WeChat's `body`: at most 127 characters, e.g. "minipay - Jasmine tea and 2 more". */
function describe(store: string, lines: { name: string; quantity: number }[]): string {
  const first = lines[0]!;
  const what =
    lines.length > 1
      ? `${first.name} and ${lines.length - 1} more`
      : `${first.name}${first.quantity > 1 ? ` x${first.quantity}` : ''}`;
  const text = `${store} - ${what}`;
  return text.length > 127 ? `${text.slice(0, 126)}…` : text;
}
