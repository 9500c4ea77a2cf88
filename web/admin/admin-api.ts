/**
 * The console's view of the admin API (docs/http-api.md "Admin API"): a bearer token, JSON in
 * and out, and every failure as an AdminApiError. An endpoint this server does not have yet
 * (Fastify's "no route" 404) is `unavailable`, so a page can say so instead of breaking.
 */
import type {
  AdminOrderAnswer,
  AdminOrderDetail,
  AdminOrderList,
  AdminSession,
  AnomalyAnswer,
  AnomalyList,
  CourierList,
  DailyStats,
  DeliveryAnswer,
  DeliveryList,
  ReconciliationDay,
  ReconciliationList,
  ReconciliationRunAnswer,
  RefundAnswer,
  RefundOnly,
  RemindReceiptAnswer,
  ShipBody,
  ShipmentAnswer,
  ShippingQueue,
  SubscribeMessageList,
  TradeManagement,
  WechatPushList,
  WechatShippingView,
} from '../../src/contract/index.js';

/** The contract's shapes (src/contract), under the names the console's pages use. */
export type {
  AdminOrder,
  AdminSession as Session,
  Anomaly,
  DailyTotals as DayStats,
  Delivery,
  ReconciliationItem,
  ReconciliationRun,
  Refund,
  ShipBody,
  Shipment,
  ShippingQueueEntry,
  SubscribeMessageEntry,
  TimelineEntry,
  TradeManagement,
  WechatPushEntry,
  WechatShippingView,
} from '../../src/contract/index.js';

export class AdminApiError extends Error {
  constructor(
    /** HTTP status, 0 when no answer came. */
    readonly status: number,
    /** The server's error code, or NETWORK_ERROR / BAD_RESPONSE. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }

  /** The server has no such route: the feature is not on this server (yet). */
  get unavailable(): boolean {
    return this.status === 404 && this.code === 'NOT_FOUND' && this.message.startsWith('no route');
  }

  /** No answer, or one that does not say what happened: the request may have taken effect. */
  get ambiguous(): boolean {
    return (
      this.status === 0 ||
      this.status >= 500 ||
      (this.status === 409 && this.code === 'IDEMPOTENCY_IN_PROGRESS')
    );
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
}

export class AdminApi {
  constructor(
    private readonly token: string,
    private readonly base = '',
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    const text = await this.send(method, path, options);
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new AdminApiError(200, 'BAD_RESPONSE', 'HTTP 200: not JSON');
    }
  }

  /** A request whose answer is not JSON (a CSV export): its text; errors as for `call`. */
  async send(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<string> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') query.set(name, String(value));
    }
    const url = `${this.base}/admin/v1${path}${query.size ? `?${query}` : ''}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      ...options.headers,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch {
      throw new AdminApiError(0, 'NETWORK_ERROR', 'no answer from the server');
    }
    const text = await res.text();
    if (res.ok) return text;
    let error: { code?: string; message?: string } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      throw new AdminApiError(res.status, 'BAD_RESPONSE', `HTTP ${res.status}: not JSON`);
    }
    throw new AdminApiError(
      res.status,
      error?.code ?? 'BAD_RESPONSE',
      error?.message ?? `HTTP ${res.status}`,
    );
  }

  session() {
    return this.call<AdminSession>('GET', '/session');
  }

  orders(filters: Record<string, string | number | undefined>) {
    return this.call<AdminOrderList>('GET', '/orders', {
      query: filters,
    });
  }

  order(id: string) {
    return this.call<AdminOrderDetail>('GET', `/orders/${encodeURIComponent(id)}`);
  }

  sync(id: string) {
    return this.call<AdminOrderAnswer>('POST', `/orders/${encodeURIComponent(id)}/sync`);
  }

  close(id: string) {
    return this.call<AdminOrderAnswer>('POST', `/orders/${encodeURIComponent(id)}/close`);
  }

  refund(id: string, body: { amountFen: number; reason?: string }, idempotencyKey: string) {
    return this.call<RefundAnswer>('POST', `/orders/${encodeURIComponent(id)}/refunds`, {
      body,
      headers: { 'idempotency-key': idempotencyKey },
    });
  }

  retryRefund(id: string) {
    return this.call<RefundOnly>('POST', `/refunds/${encodeURIComponent(id)}/retry`);
  }

  giveUpRefund(id: string) {
    return this.call<RefundOnly>('POST', `/refunds/${encodeURIComponent(id)}/give-up`);
  }

  anomalies(query: { status?: string; cursor?: string; limit?: number }) {
    return this.call<AnomalyList>('GET', '/anomalies', {
      query,
    });
  }

  resolveAnomaly(id: string, note: string) {
    return this.call<AnomalyAnswer>('POST', `/anomalies/${encodeURIComponent(id)}/resolve`, {
      body: { note },
    });
  }

  deliveries(query: { status?: string; cursor?: string; limit?: number }) {
    return this.call<DeliveryList>('GET', '/webhooks/deliveries', { query });
  }

  replay(id: string) {
    return this.call<DeliveryAnswer>(
      'POST',
      `/webhooks/deliveries/${encodeURIComponent(id)}/replay`,
    );
  }

  dailyStats(from: string, to: string) {
    return this.call<DailyStats>('GET', '/stats/daily', { query: { from, to } });
  }

  shippingQueue(query: { status?: string; cursor?: string; limit?: number }) {
    return this.call<ShippingQueue>('GET', '/shipping', { query });
  }

  couriers() {
    return this.call<CourierList>('GET', '/shipping/couriers');
  }

  tradeManagement() {
    return this.call<TradeManagement>('GET', '/shipping/trade-management');
  }

  shipment(orderId: string) {
    return this.call<ShipmentAnswer>('GET', `/orders/${encodeURIComponent(orderId)}/shipment`);
  }

  wechatShipping(orderId: string) {
    return this.call<WechatShippingView>(
      'GET',
      `/orders/${encodeURIComponent(orderId)}/shipment/wechat`,
    );
  }

  ship(orderId: string, body: ShipBody) {
    return this.call<ShipmentAnswer>('POST', `/orders/${encodeURIComponent(orderId)}/ship`, {
      body,
    });
  }

  /** WeChat's one correction of the shipping info it has. */
  correctShipment(orderId: string, body: ShipBody) {
    return this.call<ShipmentAnswer>(
      'POST',
      `/orders/${encodeURIComponent(orderId)}/shipment/correct`,
      { body },
    );
  }

  retryShipment(orderId: string) {
    return this.call<ShipmentAnswer>(
      'POST',
      `/orders/${encodeURIComponent(orderId)}/shipment/retry`,
    );
  }

  remindReceipt(orderId: string) {
    return this.call<RemindReceiptAnswer>(
      'POST',
      `/orders/${encodeURIComponent(orderId)}/shipment/remind-receipt`,
    );
  }

  wechatPushes(orderId: string) {
    return this.call<WechatPushList>('GET', `/orders/${encodeURIComponent(orderId)}/wechat-pushes`);
  }

  /** The order's subscribe messages (an order has one per payment or refund event). */
  subscribeMessages(orderId: string) {
    return this.call<SubscribeMessageList>(
      'GET',
      `/orders/${encodeURIComponent(orderId)}/subscribe-messages`,
      { query: { limit: 100 } },
    );
  }

  reconciliations(query: { cursor?: string; limit?: number }) {
    return this.call<ReconciliationList>('GET', '/reconciliations', { query });
  }

  reconciliationDay(date: string, query: { kind?: string; cursor?: string; limit?: number }) {
    return this.call<ReconciliationDay>('GET', `/reconciliations/${encodeURIComponent(date)}`, {
      query,
    });
  }

  reconcile(date: string) {
    return this.call<ReconciliationRunAnswer>(
      'POST',
      `/reconciliations/${encodeURIComponent(date)}/run`,
    );
  }

  reconciliationCsv(date: string, kind?: string) {
    return this.send('GET', `/reconciliations/${encodeURIComponent(date)}/differences.csv`, {
      query: { kind },
    });
  }
}
