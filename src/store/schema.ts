import type { Generated } from 'kysely';
import type { OrderStatus } from '../contract/statuses.js';

/**
 * The database schema as Kysely sees it. Portable across SQLite and PostgreSQL: ids and times
 * are text (times ISO-8601 UTC, so they sort), money is integer fen, flags are 0/1 integers,
 * JSON is text.
 */

export interface UsersTable {
  id: string;
  openid: string;
  unionid: string | null;
  /** WeChat's session_key: kept for decrypting user data later, never sent anywhere. */
  session_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  /** sha256 of the token, hex; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface ProductsTable {
  id: string;
  name: string;
  description: string;
  price_fen: number;
  image_url: string | null;
  active: number;
  stock: number | null;
  /** 1: delivered virtually (a code, a membership): shipped at PAID without the merchant. */
  virtual: Generated<number>;
  created_at: string;
  updated_at: string;
}

export type { OrderStatus };

export interface OrdersTable {
  id: string;
  out_trade_no: string;
  user_id: string;
  openid: string;
  status: OrderStatus;
  description: string;
  total_fen: number;
  currency: string;
  attach: string | null;
  payer_ip: string;
  prepay_id: string | null;
  prepay_expires_at: string | null;
  transaction_id: string | null;
  paid_at: string | null;
  closed_at: string | null;
  refunded_fen: number;
  failure_code: string | null;
  failure_message: string | null;
  /** Set when money arrived for an order we had closed: it must be refunded. */
  refund_required: number;
  /**
   * When WeChat is next asked about the order and how often it was so far: the pending sweep
   * (PENDING) and the close job (CLOSING).
   */
  query_attempts: number;
  next_query_at: string | null;
  /** Why the order is being closed or was closed: cancelled, expired, admin, closed_by_wechat. */
  close_reason: string | null;
  /** The WeChat Pay API the order was made with (and is queried, closed, refunded with). */
  wechatpay_api: WechatPayApiName;
  expires_at: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export type WechatPayApiName = 'v2' | 'v3';

/** Platform certificates downloaded from WeChat (certificate mode), shared by every instance. */
/** The shared slot of platform-certificate downloads for unknown serials (one row). */
export interface WechatpayCertificateDownloadsTable {
  id: string;
  /** When an instance last took the slot (ISO 8601). */
  last_at: string;
}

export interface WechatpayCertificatesTable {
  serial_no: string;
  pem: string;
  effective_time: string;
  expire_time: string;
  /** When the download that brought it was made: the shared refresh's rate limit. */
  downloaded_at: string;
}

export interface OrderItemsTable {
  order_id: string;
  line_no: number;
  product_id: string;
  name: string;
  unit_price_fen: number;
  quantity: number;
  amount_fen: number;
  /** Units this line took from the product's stock at checkout (0: unlimited, or older rows). */
  stock_reserved: Generated<number>;
}

export interface IdempotencyKeysTable {
  /** Who the key belongs to, e.g. `user:<id>:orders` or `admin:refunds`. */
  scope: string;
  key: string;
  request_hash: string;
  /** in_progress, done or retryable (the first attempt failed after creating `resource_id`). */
  state: string;
  resource_id: string | null;
  response_status: number | null;
  response_body: string | null;
  locked_until: string | null;
  created_at: string;
  expires_at: string;
}

/**
 * The transactional outbox: one row per transition, written in the same transaction. Its name
 * is historical: reconciliation events live here too, with no order.
 */
export interface OrderEventsTable {
  id: string;
  /** Insertion order (for the outbox cursor); assigned by the store. */
  seq: Generated<number>;
  /** The order the event is about; null for the reconciliation events. */
  order_id: string | null;
  type: string;
  payload: string;
  created_at: string;
  /** When the relay handed it to the webhook deliveries and subscribers; null until then. */
  dispatched_at: string | null;
}

export interface NotificationsTable {
  id: string;
  kind: string;
  /** Stable identity of the message (payment: transaction_id, else out_trade_no + nonce). */
  identity: string;
  order_id: string | null;
  out_trade_no: string | null;
  outcome: string;
  detail: string | null;
  received_count: number;
  created_at: string;
  updated_at: string;
}

export interface AnomaliesTable {
  id: string;
  kind: string;
  order_id: string | null;
  out_trade_no: string | null;
  /** De-duplicates the same anomaly reported again (e.g. WeChat retrying a notify). */
  dedupe_key: string;
  detail: string;
  status: string;
  created_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

export interface GatewayCallsTable {
  id: string;
  order_id: string | null;
  operation: string;
  outcome: string;
  detail: string | null;
  duration_ms: number;
  created_at: string;
}

export interface RefundsTable {
  id: string;
  order_id: string;
  out_refund_no: string;
  refund_id: string | null;
  amount_fen: number;
  reason: string | null;
  status: string;
  source: string;
  failure_code: string | null;
  failure_message: string | null;
  created_at: string;
  updated_at: string;
  succeeded_at: string | null;
  /** The refund follow-up: how many refundqueries so far and when the next one is due. */
  query_attempts: number;
  next_query_at: string | null;
  /** A PENDING refund WeChat refused for now (NOTENOUGH, FREQUENCY_LIMITED): its err_code, words. */
  retry_code: string | null;
  retry_message: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  event_type: string;
  url: string;
  status: string;
  attempts: number;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  /** Start of the retry window (the first attempt, or the last replay). */
  first_attempt_at: string | null;
}

/** How a paid order is delivered, and its report to WeChat (小程序发货信息管理服务). */
export interface ShipmentsTable {
  id: string;
  order_id: string;
  /** virtual: reported at PAID; physical: when the merchant ships it. */
  kind: string;
  /** AWAITING_SHIPMENT, UPLOADING, UPLOADED, FAILED (contract/statuses.ts). */
  status: string;
  /** express, same-city, virtual or pick-up; null until shipped. */
  logistics_type: string | null;
  /** JSON: the parcels, `[{trackingNo?, expressCompany?, itemDesc}]`. */
  parcels: string;
  /** The `upload_time` sent, kept so a retry sends the same info (docs/miniprogram-api.md). */
  upload_time: string | null;
  attempts: number;
  next_attempt_at: string | null;
  /** WeChat's errcode (or minipay's code) and message of the last failed attempt. */
  last_error_code: string | null;
  last_error: string | null;
  uploaded_at: string | null;
  receipt_confirmed_at: string | null;
  settled_at: string | null;
  /** When the one correction WeChat allows was made (or found spent); null before. */
  corrected_at: string | null;
  /** When WeChat took the one receipt reminder it allows (or said it was spent); null before. */
  receipt_reminded_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** The mini program access_token all instances share (one row per AppID). */
export interface MiniprogramTokensTable {
  app_id: string;
  token: string | null;
  expires_at: string | null;
  lease_holder: string | null;
  lease_until: string | null;
  /** The Beijing day the counts are of, `YYYY-MM-DD`. */
  quota_day: string;
  normal_calls: number;
  forced_calls: number;
  last_forced_at: string | null;
}

/**
 * What minipay last learned from WeChat's platform about the mini program, shared by every
 * instance: `is_trade_managed` (docs/shipping.md). `value` is JSON.
 */
export interface PlatformFactsTable {
  key: string;
  value: string;
  checked_at: string;
}

/** A push WeChat sent to `/wechat/v1/events`, once per content (docs/shipping.md). */
export interface WechatPushesTable {
  id: string;
  /** sha256 of the message as sent (its ciphertext in safe mode): a repeat is found by it. */
  dedupe_key: string;
  /** `Event` (or `MsgType` for a message that is not an event). */
  event: string;
  transaction_id: string | null;
  order_id: string | null;
  /** applied, recorded (nothing to do), unknown_order. */
  outcome: string;
  /** The message, decrypted. */
  message: string;
  /** WeChat's `timestamp`, ISO. */
  sent_at: string;
  received_at: string;
}

/** What a user filled in (nickname, avatar) and gave (the phone number, with consent). */
export interface UserProfilesTable {
  user_id: string;
  nickname: string | null;
  avatar_url: string | null;
  /** From getPhoneNumber, only after the user tapped the button; shown masked everywhere. */
  phone: string | null;
  phone_country_code: string | null;
  phone_granted_at: string | null;
  updated_at: string;
}

/** An avatar a user uploaded (`POST /api/v1/me/avatar`); the type read from its bytes. */
export interface UserAvatarsTable {
  id: string;
  user_id: string;
  /** image/png, image/jpeg or image/webp. */
  content_type: string;
  data: Buffer;
  size: number;
  sha256: string;
  created_at: string;
}

/** A subscribe message sent for an event (payment, refund), once, with WeChat's answer. */
export interface SubscribeMessagesTable {
  id: string;
  event_id: string;
  order_id: string;
  /** paid or refunded. */
  kind: string;
  template_id: string;
  openid: string;
  /**
   * pending (an attempt is due at `next_attempt_at`), sent, refused (WeChat's final answer: the
   * user did not subscribe, bad data), failed (gave up, or the setup is wrong).
   */
  outcome: string;
  /** WeChat's errcode or minipay's code when not sent (while pending: of the last attempt). */
  code: string | null;
  detail: string | null;
  created_at: string;
  /** JSON: the `SubscribeMessage` as built when the event came; null on rows before 0014. */
  message: string | null;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  updated_at: string | null;
}

/** One Beijing day's reconciliation (src/payments/reconciliation). */
export interface ReconciliationRunsTable {
  /** `yyyy-MM-dd`, Beijing. */
  day: string;
  /** running, matched, differences or failed. */
  status: string;
  /** JSON: the bill's and the ledger's totals (`RunTotals`); null until a run finished. */
  totals: string | null;
  /** Differences found (repaired ones included) and how many of them were repaired. */
  differences: number;
  repaired: number;
  bill_sha256: string | null;
  fund_flow_sha256: string | null;
  /** Why the last attempt failed (failed runs). */
  error: string | null;
  attempts: number;
  /** Failed attempts in a row (the daily job stops retrying a day after a few). */
  failures: number;
  started_at: string;
  finished_at: string | null;
}

/** One difference a day's reconciliation found. */
export interface ReconciliationItemsTable {
  id: string;
  day: string;
  kind: string;
  /** out_trade_no of a payment, out_refund_no of a refund. */
  key: string;
  /** open, or repaired (reconciliation made the order PAID). */
  status: string;
  order_id: string | null;
  out_trade_no: string | null;
  detail: string;
  /** JSON: the bill's row and the ledger's entry, as matched. */
  bill: string | null;
  ledger: string | null;
  created_at: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  products: ProductsTable;
  orders: OrdersTable;
  wechatpay_certificates: WechatpayCertificatesTable;
  wechatpay_certificate_downloads: WechatpayCertificateDownloadsTable;
  order_items: OrderItemsTable;
  idempotency_keys: IdempotencyKeysTable;
  order_events: OrderEventsTable;
  notifications: NotificationsTable;
  anomalies: AnomaliesTable;
  gateway_calls: GatewayCallsTable;
  refunds: RefundsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  shipments: ShipmentsTable;
  miniprogram_tokens: MiniprogramTokensTable;
  platform_facts: PlatformFactsTable;
  wechat_pushes: WechatPushesTable;
  subscribe_messages: SubscribeMessagesTable;
  user_profiles: UserProfilesTable;
  user_avatars: UserAvatarsTable;
  reconciliation_runs: ReconciliationRunsTable;
  reconciliation_items: ReconciliationItemsTable;
}
