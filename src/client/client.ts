/**
 * The minipay client for mini programs: log in, list products, check out, pay, confirm with
 * the server, cancel, list orders. It does the payment flow the safe way:
 * - one Idempotency-Key per checkout, reused when a network error forces a retry, so a lost
 *   answer never makes a second order;
 * - `requestPayment` gets exactly the server's signed parameters;
 * - after the user's "success" the server is asked (`?sync=1`, which queries WeChat): only
 *   the server ever says an order is PAID.
 */
import {
  type Checkout,
  type CheckoutItem,
  type Me,
  type Order,
  type OrderPage,
  type OrderShipping,
  PAID_STATUSES,
  type PaymentParams,
  type Product,
  type Session,
} from './api-types.js';
import { isUserCancel, MinipayError, PlatformCallError } from './errors.js';
import { newIdempotencyKey } from './idempotency-key.js';
import type { Platform } from './platform.js';
import { type RetryPolicy, retryPolicy } from './retry.js';
import { Transport } from './transport.js';

export interface MinipayClientOptions {
  /**
   * The minipay server, e.g. `https://pay.example.com`; the "Mini program API" URL that
   * `minipay start` prints (`…/api/v1`) works too.
   */
  baseUrl: string;
  /** `fromWx(wx)`, `fromTaro(Taro)`, `fromUni(uni)` or your own. */
  platform: Platform;
  /** Retries of network errors and busy answers; default 3 tries, 300 ms doubling to 3 s. */
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout; default 15000 ms. */
  timeoutMs?: number;
  /** How `confirm` polls while the order is still PENDING; default 5 tries, 1000 ms apart. */
  confirm?: { attempts?: number; intervalMs?: number };
  /** For tests: how to wait, and the jitter source. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** How a payment ended, as far as the server knows. */
export interface PayResult {
  /**
   * `paid`: the server has the payment. `cancelled`: the user closed the payment sheet.
   * `failed`: the payment or the order failed (see `error`). `pending`: the server does not
   * know yet (e.g. the user is still entering a password); ask again with `confirm`.
   */
  status: 'paid' | 'cancelled' | 'failed' | 'pending';
  /** The order as the server last reported it. */
  order: Order;
  error?: MinipayError;
}

export interface CheckoutOptions {
  /** Merchant data kept with the order (at most 127 characters). */
  attach?: string;
  /**
   * Reuse a key from an earlier attempt that ended in a network error, so that retrying the
   * same checkout can never create a second order. A new key is made when absent.
   */
  idempotencyKey?: string;
}

export interface MinipayClient {
  /** Logs in with a fresh `wx.login` code (other calls do this by themselves when needed). */
  login(): Promise<Session>;
  /**
   * Ends the session on the server and forgets it here (here even when the server cannot be
   * reached).
   */
  logout(): Promise<void>;
  listProducts(): Promise<Product[]>;
  /** Creates an order priced by the server; `payment` is null when the order FAILED. */
  checkout(items: CheckoutItem[], options?: CheckoutOptions): Promise<Checkout>;
  /** Opens the payment sheet with the server's parameters, then confirms with the server. */
  pay(target: Order | Checkout): Promise<PayResult>;
  /** Asks the server (which asks WeChat) until the order is no longer PENDING, briefly. */
  confirm(order: Order | string): Promise<PayResult>;
  /** Closes an unpaid order; the answer is PAID instead if the payment won the race. */
  cancel(order: Order | string): Promise<Order>;
  /** The user's orders, newest first. */
  orders(options?: { limit?: number; cursor?: string }): Promise<OrderPage>;
  /** One of the user's orders as stored (no WeChat query). */
  order(id: string): Promise<Order>;
  /** A paid order's delivery (preparing, shipped, received); null before payment. */
  shipping(order: Order | string): Promise<OrderShipping | null>;
  /**
   * Lets the buyer confirm receipt in WeChat's own page (`wx.openBusinessView`,
   * `weappOrderConfirm`), then asks the server until WeChat's settlement has reached it, briefly.
   * Resolves with the delivery as the server then knows it (`stage: 'received'` once confirmed).
   */
  confirmReceipt(order: Order | string): Promise<OrderShipping | null>;
  /** The signed-in user: nickname, avatar, the phone number masked. */
  me(): Promise<Me>;
  /** Saves what the user filled in with `<input type="nickname">` and the chooseAvatar button. */
  updateProfile(profile: { nickname?: string; avatarUrl?: string }): Promise<Me>;
  /**
   * Uploads the avatar the user chose with `<button open-type="chooseAvatar">` (its temporary
   * `avatarUrl`) with `wx.uploadFile`; the server keeps it (PNG, JPEG or WebP, at most 1 MiB)
   * and the answer's `avatarUrl` is where it is served.
   */
  uploadAvatar(tempFilePath: string): Promise<Me>;
  /** The code of `<button open-type="getPhoneNumber">` (the user consented): the server asks WeChat. */
  sharePhoneNumber(code: string): Promise<Me>;
  /**
   * At checkout: asks the user to accept the server's subscribe message templates
   * (`wx.requestSubscribeMessage`); resolves with the ids the user accepted. Never fails: a
   * refusal, or a platform without it, just means no messages.
   */
  subscribeToUpdates(): Promise<string[]>;
}

const MAX_LINES = 20;
const MAX_QUANTITY = 99;
const MAX_ATTACH = 127;

export function createMinipayClient(options: MinipayClientOptions): MinipayClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const transport = new Transport({
    baseUrl,
    platform: options.platform,
    retry: retryPolicy(options.retry),
    timeoutMs: options.timeoutMs ?? 15_000,
    sleep,
    random: options.random ?? Math.random,
  });
  const profileOf = (data: { user?: Me }) => withAvatarUrl(userOf(data), baseUrl);
  const confirmAttempts = options.confirm?.attempts ?? 5;
  const confirmIntervalMs = options.confirm?.intervalMs ?? 1000;
  if (!Number.isInteger(confirmAttempts) || confirmAttempts < 1 || confirmAttempts > 30) {
    throw new RangeError('confirm.attempts must be a whole number from 1 to 30');
  }

  const getOrder = async (id: string, sync: boolean): Promise<Order> => {
    const path = `/api/v1/orders/${encodeURIComponent(id)}${sync ? '?sync=1' : ''}`;
    return orderOf(await transport.authed({ method: 'GET', path }));
  };

  const confirm = async (target: Order | string): Promise<PayResult> => {
    let order = typeof target === 'string' ? undefined : target;
    const id = typeof target === 'string' ? target : target.id;
    for (let attempt = 1; ; attempt++) {
      try {
        order = await getOrder(id, true);
      } catch (err) {
        // The payment may have gone through: report "not known yet", never a failure.
        if (err instanceof MinipayError && order) return { status: 'pending', order, error: err };
        throw err;
      }
      if (!isUndecided(order) || attempt >= confirmAttempts) return resultOf(order);
      await sleep(confirmIntervalMs);
    }
  };

  const getShipping = async (target: Order | string): Promise<OrderShipping | null> => {
    const id = typeof target === 'string' ? target : target.id;
    const path = `/api/v1/orders/${encodeURIComponent(id)}/shipping`;
    const data = await transport.authed<{ shipping?: OrderShipping | null }>({
      method: 'GET',
      path,
    });
    if (data.shipping === undefined) throw shapeError('shipping');
    return data.shipping;
  };

  const paymentFor = async (order: Order): Promise<Checkout> => {
    const path = `/api/v1/orders/${encodeURIComponent(order.id)}/payment`;
    return checkoutOf(await transport.authed({ method: 'POST', path, body: {} }));
  };

  const pay = async (target: Order | Checkout): Promise<PayResult> => {
    let { order, payment } = 'order' in target ? target : { order: target, payment: null };
    if (!isUndecided(order)) return resultOf(order);
    if (!payment) {
      try {
        ({ order, payment } = await paymentFor(order));
      } catch (err) {
        if (err instanceof MinipayError && err.code === 'ORDER_NOT_PENDING') return confirm(order);
        throw err;
      }
      if (!payment) return resultOf(order);
    }
    try {
      await options.platform.requestPayment(paymentArgs(payment));
    } catch (err) {
      if (!(err instanceof PlatformCallError)) throw err;
      if (isUserCancel(err.errMsg)) return { status: 'cancelled', order };
      // Not proof of anything either way: ask the server once before calling it a failure.
      const checked = await confirmOnce(order);
      if (checked.status !== 'pending') return checked;
      const error = new MinipayError(
        'PAYMENT_FAILED',
        `the payment did not go through (${err.errMsg}); the order is still open, try again`,
        { errMsg: err.errMsg, cause: err },
      );
      return { status: 'failed', order: checked.order, error };
    }
    return confirm(order);
  };

  const confirmOnce = async (order: Order): Promise<PayResult> => {
    try {
      return resultOf(await getOrder(order.id, true));
    } catch (err) {
      if (err instanceof MinipayError) return { status: 'pending', order, error: err };
      throw err;
    }
  };

  return {
    login: () => transport.login(),
    logout: () => transport.logout(),
    listProducts: async () => {
      const data = await transport.anonymous<{ products?: Product[] }>({
        method: 'GET',
        path: '/api/v1/products',
      });
      if (!Array.isArray(data.products)) throw shapeError('products');
      return data.products;
    },
    checkout: async (items, checkoutOptions = {}) => {
      const body = checkoutBody(items, checkoutOptions.attach);
      const key = checkKey(checkoutOptions.idempotencyKey) ?? newIdempotencyKey();
      return checkoutOf(
        await transport.authed({
          method: 'POST',
          path: '/api/v1/orders',
          body,
          header: { 'Idempotency-Key': key },
        }),
      );
    },
    pay,
    confirm,
    cancel: async (target) => {
      const id = typeof target === 'string' ? target : target.id;
      const path = `/api/v1/orders/${encodeURIComponent(id)}/cancel`;
      return orderOf(await transport.authed({ method: 'POST', path, body: {} }));
    },
    orders: async (query = {}) => {
      const params: string[] = [];
      if (query.limit !== undefined) params.push(`limit=${encodeURIComponent(query.limit)}`);
      if (query.cursor !== undefined) params.push(`cursor=${encodeURIComponent(query.cursor)}`);
      const path = `/api/v1/orders${params.length ? `?${params.join('&')}` : ''}`;
      const data = await transport.authed<{ orders?: Order[]; nextCursor?: string | null }>({
        method: 'GET',
        path,
      });
      if (!Array.isArray(data.orders)) throw shapeError('orders');
      return { orders: data.orders, nextCursor: data.nextCursor ?? null };
    },
    order: (id) => getOrder(id, false),
    shipping: getShipping,
    me: async () => profileOf(await transport.authed({ method: 'GET', path: '/api/v1/me' })),
    uploadAvatar: async (tempFilePath) => {
      if (typeof tempFilePath !== 'string' || tempFilePath === '') {
        throw new MinipayError('VALIDATION_FAILED', 'uploadAvatar takes the chosen avatar’s path');
      }
      const upload = { filePath: tempFilePath, name: 'file' };
      return profileOf(
        await transport.authed({ method: 'POST', path: '/api/v1/me/avatar', upload }),
      );
    },
    updateProfile: async (profile) =>
      // wx.request has no PATCH: the server takes the same update as POST.
      profileOf(await transport.authed({ method: 'POST', path: '/api/v1/me', body: profile })),
    sharePhoneNumber: async (code) =>
      profileOf(
        await transport.authed({ method: 'POST', path: '/api/v1/me/phone', body: { code } }),
      ),
    subscribeToUpdates: async () => {
      if (!options.platform.requestSubscribeMessage) return [];
      try {
        const templates = await transport.authed<{
          paid?: string | null;
          refunded?: string | null;
        }>({ method: 'GET', path: '/api/v1/subscribe-templates' });
        const ids = [templates.paid, templates.refunded].filter((id): id is string => !!id);
        if (ids.length === 0) return [];
        const answers = await options.platform.requestSubscribeMessage(ids);
        return ids.filter((id) => answers[id] === 'accept');
      } catch {
        return [];
      }
    },
    confirmReceipt: async (target) => {
      const shipping = await getShipping(target);
      const view = shipping?.confirmReceipt;
      if (!view) return shipping;
      if (!options.platform.openBusinessView) {
        throw new MinipayError(
          'UNSUPPORTED',
          'this platform has no openBusinessView: the buyer confirms receipt in WeChat (订单中心)',
        );
      }
      try {
        await options.platform.openBusinessView(view);
      } catch (err) {
        if (!(err instanceof PlatformCallError)) throw err;
        if (err.errMsg.trim() === 'openBusinessView:fail cancel') return shipping;
        throw new MinipayError(
          'CONFIRM_RECEIPT_FAILED',
          `WeChat's page did not open (${err.errMsg})`,
          {
            errMsg: err.errMsg,
            cause: err,
          },
        );
      }
      let latest: OrderShipping | null = shipping;
      for (let attempt = 1; attempt <= confirmAttempts; attempt++) {
        latest = await getShipping(target);
        if (latest?.stage === 'received') break;
        if (attempt < confirmAttempts) await sleep(confirmIntervalMs);
      }
      return latest;
    },
  };
}

function userOf(data: { user?: Me }): Me {
  if (!data.user || typeof data.user.id !== 'string') throw shapeError('user');
  return data.user;
}

/** An avatar the server keeps has a path (`/api/v1/avatars/…`): an `<image>` needs the URL. */
function withAvatarUrl(user: Me, baseUrl: string): Me {
  const url = user.avatarUrl;
  return url?.startsWith('/') ? { ...user, avatarUrl: baseUrl + url } : user;
}

/** PENDING (or still CREATED): the payment is not decided yet. */
function isUndecided(order: Order): boolean {
  return order.status === 'PENDING' || order.status === 'CREATED';
}

/** What the server's order says about the payment. */
export function resultOf(order: Order): PayResult {
  if (PAID_STATUSES.includes(order.status)) return { status: 'paid', order };
  if (isUndecided(order)) return { status: 'pending', order };
  const error =
    order.status === 'FAILED'
      ? new MinipayError(
          order.failure?.code ?? 'ORDER_FAILED',
          order.failure?.message ?? 'WeChat refused the order',
        )
      : new MinipayError(
          'NOT_PAYABLE',
          order.status === 'CLOSING'
            ? 'the order is being cancelled; place a new order to buy again'
            : 'the order is closed; place a new order to buy again',
        );
  return { status: 'failed', order, error };
}

/** `wx.requestPayment`'s arguments: the server's signed fields, unchanged, without appId. */
function paymentArgs(payment: PaymentParams) {
  return {
    timeStamp: payment.timeStamp,
    nonceStr: payment.nonceStr,
    package: payment.package,
    signType: payment.signType,
    paySign: payment.paySign,
  };
}

/** The server's root; the API URL `minipay start` prints (…/api/v1) is taken as well. */
function checkBaseUrl(baseUrl: string): string {
  if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(baseUrl)) {
    throw new RangeError(`baseUrl must be an http(s) URL such as https://pay.example.com`);
  }
  return baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

function checkoutBody(items: CheckoutItem[], attach: string | undefined) {
  const invalid = (message: string) => new MinipayError('VALIDATION_FAILED', message);
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_LINES) {
    throw invalid(`a checkout needs 1 to ${MAX_LINES} lines`);
  }
  const lines = items.map((item, i) => {
    if (typeof item?.productId !== 'string' || item.productId === '') {
      throw invalid(`line ${i + 1}: productId must be a product's id`);
    }
    const q = item.quantity;
    if (!Number.isInteger(q) || q < 1 || q > MAX_QUANTITY) {
      throw invalid(`line ${i + 1}: quantity must be a whole number from 1 to ${MAX_QUANTITY}`);
    }
    return { productId: item.productId, quantity: q };
  });
  if (attach !== undefined && (typeof attach !== 'string' || attach.length > MAX_ATTACH)) {
    throw invalid(`attach must be a string of at most ${MAX_ATTACH} characters`);
  }
  return attach === undefined ? { items: lines } : { items: lines, attach };
}

/** The server takes keys of 1 to 255 characters. */
function checkKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new MinipayError(
      'VALIDATION_FAILED',
      'idempotencyKey must be 1 to 255 printable ASCII characters (use newIdempotencyKey())',
    );
  }
  return key;
}

function shapeError(field: string): MinipayError {
  return new MinipayError(
    'BAD_RESPONSE',
    `the server's answer has no "${field}": is baseUrl a minipay server?`,
  );
}

function orderOf(data: unknown): Order {
  const order = (data as { order?: Order }).order;
  if (typeof order?.id !== 'string' || typeof order.status !== 'string') {
    throw shapeError('order');
  }
  return order;
}

function checkoutOf(data: unknown): Checkout {
  const payment = (data as { payment?: PaymentParams | null }).payment ?? null;
  if (payment !== null && typeof payment.paySign !== 'string') throw shapeError('payment');
  return { order: orderOf(data), payment };
}
