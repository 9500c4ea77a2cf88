/**
 * The sandbox's APIv3 notifications, built with the protocol layer (`buildNotification`): a
 * `TRANSACTION.SUCCESS` whose resource is the query's `Transaction`, and `REFUND.<status>`
 * with the refund result, each resource encrypted with the APIv3 key (associated data
 * `transaction` / `refund`, as WeChat has been seen to send).
 *
 * The body is made once, when the notification is queued; the signature is made at every
 * attempt (`attemptHeaders`), as WeChat's must be: a retry 24 hours later still has to be
 * inside the merchant's 5-minute window, and after a rotation it is signed with the new key.
 */
import { randomInt } from 'node:crypto';
import {
  buildNotification,
  type Json,
  probeSignature,
  signWechatpayHeaders,
} from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import type { RefundRow } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';
import { refundNotifyResource, V3_REFUND_STATUS } from './v3-refunds.js';
import { transactionJson } from './v3-trades.js';

/** The body of a payment notification for a trade just paid. */
export function v3PaymentNotification(core: SandboxCore, trade: TradeRow): string {
  return body(core, {
    eventType: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    originalType: 'transaction',
    resource: transactionJson(trade, 'SUCCESS'),
  });
}

/** The body of a refund notification for a refund just settled. */
export function v3RefundNotification(core: SandboxCore, refund: RefundRow): string {
  const status = V3_REFUND_STATUS[refund.status];
  return body(core, {
    eventType: `REFUND.${status}`,
    summary: status === 'SUCCESS' ? '退款成功' : status === 'CLOSED' ? '退款关闭' : '退款异常',
    originalType: 'refund',
    resource: refundNotifyResource(refund),
  });
}

function body(
  core: SandboxCore,
  input: { eventType: string; summary: string; originalType: string; resource: Json },
): string {
  return buildNotification(
    { ...input, id: eventId(), createTime: new Date(core.clock.now()) },
    { apiV3Key: core.v3.apiV3Key, signer: core.v3.signer(core.faults.random) },
  ).body;
}

/** The headers of one attempt: signed now, by the key of the mode. */
export function attemptHeaders(core: SandboxCore, body: string): Record<string, string> {
  return {
    ...signWechatpayHeaders(core.v3.signer(core.faults.random), body),
    'content-type': 'application/json',
  };
}

/**
 * A signature probe as WeChat sends one: a well-formed notification whose signature is
 * `WECHATPAY/SIGNTEST/…`. A merchant that verifies refuses it.
 */
export function probeNotification(core: SandboxCore): {
  headers: Record<string, string>;
  body: string;
} {
  const body = v3PaymentNotification(core, probeTrade(core));
  const headers = attemptHeaders(core, body);
  headers['Wechatpay-Signature'] = probeSignature();
  return { headers, body };
}

function probeTrade(core: SandboxCore): TradeRow {
  const now = core.clock.now();
  return {
    mch_id: core.credentials.mchId,
    out_trade_no: `SIGNTEST${now}`,
    appid: core.credentials.appId,
    openid: 'oSIGNTEST',
    body: 'signature probe',
    attach: null,
    device_info: null,
    total_fee: 1,
    fee_type: 'CNY',
    trade_type: 'JSAPI',
    notify_url: '',
    sign_type: 'RSA',
    params: '',
    created_at: now,
    expires_at: null,
    prepay_id: '',
    prepay_expires_at: now,
    state: 'SUCCESS',
    closed_at: null,
    transaction_id: `4200SIGNTEST${now}`,
    paid_at: now,
    bank_type: 'OTHERS',
    is_subscribe: 'N',
  };
}

/** `EV-` and 18 random digits, like WeChat's notification ids. */
function eventId(): string {
  let digits = '';
  for (let i = 0; i < 18; i++) digits += String(randomInt(10));
  return `EV-${digits}`;
}
