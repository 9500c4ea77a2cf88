/**
 * APIv3 notifications (支付成功回调通知, 退款结果回调通知; docs/wechat-rules.md): WeChat POSTs
 * signed JSON whose `resource` is encrypted with the APIv3 key, and retries until the merchant
 * answers 200 or 204.
 *
 * Reading one, each step refusing with `WechatPayError('invalid')`, never a partial result:
 * size (`TOO_LARGE`) → headers and signature over the raw body (verify.ts: missing, repeated,
 * stale or future, probe, unknown serial, bad signature) → JSON (`NOT_JSON`, `MALFORMED`) →
 * the event type the caller expects (`WRONG_EVENT`) → decrypt and authenticate `resource`
 * (`BAD_CIPHERTEXT`) → the plaintext typed, and `mchid` (and `appid`) the merchant's
 * (`WRONG_MERCHANT`). Whether the amount matches the order, and duplicates, are the caller's.
 */
import { WechatPayError } from '../errors.js';
import { type ApiV3Key, decryptResource, encryptResource } from './aead.js';
import { invalid } from './errors.js';
import { Fields, formatRfc3339, type Json, parseJsonObject } from './fields.js';
import { type Signer, signWechatpayHeaders, type WechatpayHeaders } from './sign.js';
import { readTransaction, type V3Transaction } from './transactions.js';
import {
  type SignedMessage,
  type Verification,
  type Verifier,
  verifySignedMessage,
} from './verify.js';

export interface ReadNotificationOptions {
  verifier: Verifier;
  apiV3Key: ApiV3Key;
  /** Default 64 KiB (a notification is 1–2 KB). */
  maxBytes?: number;
  now?: () => number;
  toleranceSeconds?: number;
}

/** A verified, decrypted notification of any event type. */
export interface V3Notification {
  id: string;
  createTime: Date;
  eventType: string;
  resourceType: string;
  summary?: string;
  originalType: string;
  /** The decrypted resource. */
  plaintext: Json;
  /** Which key verified it. */
  verification: Verification;
}

const MAX_BYTES = 64 * 1024;

/** The body's size in bytes, not counted when it is certainly under `max` (3 bytes a unit). */
function byteSize(body: string | Buffer, max: number): number {
  if (typeof body !== 'string') return body?.length ?? 0;
  return body.length * 3 <= max ? body.length : Buffer.byteLength(body);
}

/** Verifies and decrypts a notification; `eventTypes` are the ones the caller accepts. */
export function readNotification(
  message: SignedMessage,
  options: ReadNotificationOptions & { eventTypes: readonly string[]; what?: string },
): Promise<V3Notification> {
  return openNotification(message, options, options.eventTypes, options.what ?? 'the notification');
}

/** The steps of every notification, in the order of the top of this file. */
async function openNotification(
  message: SignedMessage,
  options: ReadNotificationOptions,
  eventTypes: readonly string[],
  what: string,
): Promise<V3Notification> {
  const max = options.maxBytes ?? MAX_BYTES;
  const size = byteSize(message.body, max);
  if (size > max) throw invalid('TOO_LARGE', `${what} is ${size} bytes; at most ${max} are read`);
  const verification = await verifySignedMessage(message, options, what);
  const f = Fields.of(parseJsonObject(message.body, what), what);
  const eventType = f.string('event_type');
  if (!eventTypes.includes(eventType)) {
    throw invalid(
      'WRONG_EVENT',
      `${what} is a ${eventType} event; this endpoint takes ${eventTypes.join(', ')} (check the notify_url of each API)`,
    );
  }
  const resource = f.object('resource');
  const plaintext = decryptResource(options.apiV3Key, resource.json, `${what} resource`);
  return {
    id: f.string('id'),
    createTime: f.time('create_time'),
    eventType,
    resourceType: f.string('resource_type'),
    summary: f.optionalString('summary'),
    originalType: resource.string('original_type'),
    plaintext: parseJsonObject(plaintext, `${what} resource`),
    verification,
  };
}

const PAYMENT_EVENTS = ['TRANSACTION.SUCCESS'];

export interface V3PaymentNotification extends V3Notification {
  transaction: V3Transaction;
}

/**
 * A payment notification (`TRANSACTION.SUCCESS`: WeChat notifies only successful payments):
 * the trade, checked to be this merchant's (and this AppID's, when given) and paid.
 */
export async function readPaymentNotification(
  message: SignedMessage,
  options: ReadNotificationOptions & { mchId: string; appId?: string },
): Promise<V3PaymentNotification> {
  const what = 'the payment notification';
  const n = await openNotification(message, options, PAYMENT_EVENTS, what);
  if (n.originalType !== 'transaction') {
    throw invalid('MALFORMED', `${what}: original_type is ${n.originalType}, not transaction`);
  }
  const transaction = readTransaction(n.plaintext, `${what} resource`, options.mchId);
  if (transaction.tradeState !== 'SUCCESS') {
    throw invalid(
      'MALFORMED',
      `${what}: a TRANSACTION.SUCCESS event whose trade_state is ${transaction.tradeState}`,
    );
  }
  if (options.appId !== undefined && transaction.appId !== options.appId) {
    throw invalid(
      'WRONG_MERCHANT',
      `${what} is for appid ${transaction.appId}, not ${options.appId}: not trusted`,
    );
  }
  // Field by field: with `{ ...n, transaction }` V8 kept each result in the old generation,
  // which then grew by every notification read until a full collection.
  return {
    id: n.id,
    createTime: n.createTime,
    eventType: n.eventType,
    resourceType: n.resourceType,
    summary: n.summary,
    originalType: n.originalType,
    plaintext: n.plaintext,
    verification: n.verification,
    transaction,
  };
}

export type V3RefundNotifyStatus = 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
const REFUND_STATUSES: readonly V3RefundNotifyStatus[] = ['SUCCESS', 'ABNORMAL', 'CLOSED'];
const REFUND_EVENTS = REFUND_STATUSES.map((s) => `REFUND.${s}`);

/** The resource of a refund notification. Amounts in fen. */
export interface V3RefundResult {
  mchId: string;
  transactionId: string;
  outTradeNo: string;
  refundId: string;
  outRefundNo: string;
  refundStatus: V3RefundNotifyStatus;
  successTime?: Date;
  userReceivedAccount?: string;
  amount: { total: number; refund: number; payerTotal?: number; payerRefund?: number };
  raw: Json;
}

export interface V3RefundNotification extends V3Notification {
  refund: V3RefundResult;
}

/** A refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`). */
export async function readRefundNotification(
  message: SignedMessage,
  options: ReadNotificationOptions & { mchId: string },
): Promise<V3RefundNotification> {
  const what = 'the refund notification';
  const n = await openNotification(message, options, REFUND_EVENTS, what);
  if (n.originalType !== 'refund') {
    throw invalid('MALFORMED', `${what}: original_type is ${n.originalType}, not refund`);
  }
  const at = `${what} resource`;
  const f = Fields.of(n.plaintext, at);
  const a = f.object('amount');
  const refundStatus = f.oneOf('refund_status', REFUND_STATUSES);
  const refund: V3RefundResult = {
    mchId: f.string('mchid'),
    transactionId: f.string('transaction_id'),
    outTradeNo: f.string('out_trade_no'),
    refundId: f.string('refund_id'),
    outRefundNo: f.string('out_refund_no'),
    refundStatus,
    successTime:
      refundStatus === 'SUCCESS' ? f.time('success_time') : f.optionalTime('success_time'),
    userReceivedAccount: f.optionalString('user_received_account'),
    amount: {
      total: a.fen('total'),
      refund: a.fen('refund'),
      payerTotal: a.optionalFen('payer_total'),
      payerRefund: a.optionalFen('payer_refund'),
    },
    raw: f.json,
  };
  if (n.eventType !== `REFUND.${refundStatus}`) {
    throw invalid(
      'MALFORMED',
      `${what}: a ${n.eventType} event whose refund_status is ${refundStatus}`,
    );
  }
  if (refund.mchId !== options.mchId) {
    throw invalid(
      'WRONG_MERCHANT',
      `${what} is for mchid ${refund.mchId}, not ${options.mchId}: not trusted`,
    );
  }
  return {
    id: n.id,
    createTime: n.createTime,
    eventType: n.eventType,
    resourceType: n.resourceType,
    summary: n.summary,
    originalType: n.originalType,
    plaintext: n.plaintext,
    verification: n.verification,
    refund,
  };
}

/**
 * The reply to a notification: 204 when it was handled; otherwise a failure WeChat retries,
 * 401 for one that failed verification, 500 for one the merchant could not handle now.
 */
export function notificationReply(error?: unknown): { status: number; body: string } {
  if (error === undefined) return { status: 204, body: '' };
  const refused = error instanceof WechatPayError && error.kind === 'invalid';
  return {
    status: refused ? 401 : 500,
    body: JSON.stringify({
      code: 'FAIL',
      message: refused ? (error as WechatPayError).code : 'retry later',
    }),
  };
}

/** Whether WeChat counts a reply as received: 200 or 204 (any body). */
export function isNotificationAcknowledged(status: number): boolean {
  return status === 200 || status === 204;
}

export interface BuildNotificationInput {
  eventType: string;
  /** The resource before encryption (a `Transaction`, a refund result, …), as JSON. */
  resource: Json;
  /** `transaction` or `refund`. */
  originalType: string;
  summary?: string;
  /** Default `EV-` and 18 digits. */
  id?: string;
  createTime?: Date;
  /** Default: `originalType` (WeChat has been seen sending that, or ''). */
  associatedData?: string;
}

/** A notification as WeChat sends it: the body and its signed headers (for simulators). */
export function buildNotification(
  input: BuildNotificationInput,
  options: { apiV3Key: ApiV3Key; signer: Signer; timestamp?: string; nonce?: string },
): { headers: WechatpayHeaders & { 'Content-Type': string }; body: string } {
  const body = JSON.stringify({
    id: input.id ?? `EV-${String(Date.now()).padEnd(18, '0')}`,
    create_time: formatRfc3339(input.createTime ?? new Date()),
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary ?? '',
    resource: {
      original_type: input.originalType,
      ...encryptResource(options.apiV3Key, JSON.stringify(input.resource), {
        associatedData: input.associatedData ?? input.originalType,
      }),
    },
  });
  return {
    headers: {
      ...signWechatpayHeaders(options.signer, body, options),
      'Content-Type': 'application/json',
    },
    body,
  };
}
