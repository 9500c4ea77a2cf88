/**
 * TypeBox schemas of the sandbox's own JSON API (`/sandbox/v1`, docs/sandbox.md). Fastify
 * validates every body, path and query string with them before a handler runs, as the
 * merchant server does with its own; each field's `description` completes the refusal
 * "<field> must be …" (api-errors.ts). Unknown fields are refused.
 */
import { type Static, Type } from '@fastify/type-provider-typebox';
import { REFUND_OUTCOMES } from '../faults.js';

/** Longest clock jump in one call: 400 days (enough to pass the 1-year refund window). */
export const MAX_ADVANCE_MS = 400 * 24 * 3600 * 1000;

function text(maxLength: number, rule = `a non-empty string of at most ${maxLength} characters`) {
  return Type.String({ minLength: 1, maxLength, description: rule });
}

function matching(pattern: string, maxLength: number, rule: string) {
  return Type.String({ minLength: 1, maxLength, pattern, description: rule });
}

function wholeNumber(minimum: number, maximum: number) {
  return Type.Integer({
    minimum,
    maximum,
    description: `a whole number from ${minimum} to ${maximum}`,
  });
}

const outcome = Type.Enum([...REFUND_OUTCOMES], {
  description: `one of ${REFUND_OUTCOMES.join(', ')}`,
});

function body<T extends Parameters<typeof Type.Object>[0]>(properties: T) {
  return Type.Object(properties, { additionalProperties: false });
}

export const LoginCodeBody = body({
  openid: Type.Optional(matching('^[A-Za-z0-9_-]+$', 128, '1 to 128 letters, digits, _ or -')),
});

/** The `wx.requestPayment` parameters, the payer, and how the payment should end. */
export const PayBody = body({
  openid: text(256),
  appId: text(256),
  timeStamp: text(256),
  nonceStr: text(256),
  package: text(256),
  // Not an enum here: a wrong sign type is WeChat's refusal (INVALID_SIGN_TYPE), not ours.
  signType: text(256),
  paySign: text(512),
  result: Type.Optional(Type.Enum(['SUCCESS', 'PAYERROR'], { description: 'SUCCESS or PAYERROR' })),
  notify: Type.Optional(Type.Boolean({ description: 'true or false' })),
  bankType: Type.Optional(
    matching('^[A-Z0-9_]+$', 32, 'up to 32 of A-Z 0-9 _ (e.g. OTHERS, CFT, ICBC_DEBIT)'),
  ),
});

/** Fault settings are checked by faults.ts, which the programmatic API shares. */
export const FaultsBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'a JSON object of fault settings',
});

export const NoBody = body({});

export const PortalRefundBody = body({
  refundFen: wholeNumber(1, 10_000_000_000),
  outRefundNo: Type.Optional(
    matching('^[0-9A-Za-z_\\-|*@]+$', 64, '1 to 64 of 0-9 a-z A-Z _ - | * @'),
  ),
  refundDesc: Type.Optional(text(80)),
  notifyUrl: Type.Optional(
    matching('^https?://[^?]+$', 256, 'an http(s) URL without a query string'),
  ),
  outcome: Type.Optional(outcome),
  delayMs: Type.Optional(wholeNumber(0, 24 * 3600 * 1000)),
});

export const ProbeBody = body({
  url: matching('^https?://[^?]+$', 256, 'an http(s) URL without a query string'),
});

export const SettleBody = body({ status: Type.Optional(outcome) });

export const ClockBody = body({ advanceMs: wholeNumber(0, MAX_ADVANCE_MS) });

export const NotificationsQuery = Type.Object({
  outTradeNo: Type.Optional(Type.String({ description: 'one out_trade_no' })),
});

export const TradeParams = Type.Object({ outTradeNo: Type.String() });
export const RefundParams = Type.Object({ outRefundNo: Type.String() });
export const PrepayParams = Type.Object({ prepayId: Type.String() });

export type PayBody = Static<typeof PayBody>;

const openid = matching('^[A-Za-z0-9_-]+$', 128, '1 to 128 letters, digits, _ or -');
const outTradeNo = matching(
  '^[0-9A-Za-z_\\-|*]+$',
  32,
  'an out_trade_no (1 to 32 of 0-9 a-z A-Z _ - | *)',
);

/** The user confirms receipt of one order (by out_trade_no or transaction_id). */
export const ConfirmReceiptBody = body({
  outTradeNo: Type.Optional(outTradeNo),
  transactionId: Type.Optional(matching('^[0-9A-Za-z_-]+$', 64, 'a transaction_id')),
  method: Type.Optional(
    Type.Enum(['user', 'auto'], { description: 'user (the buyer confirms) or auto (WeChat does)' }),
  ),
});

/** The push configuration of the mini program admin (开发管理 → 消息推送). */
export const PushConfigBody = body({
  url: matching('^https?://[^?#]+$', 512, 'an http(s) URL without a query string'),
  token: matching('^[A-Za-z0-9]+$', 32, '3 to 32 letters and digits'),
  encodingAesKey: Type.Optional(
    matching('^[A-Za-z0-9]{43}$', 43, '43 letters and digits (safe mode); absent for plain mode'),
  ),
  format: Type.Enum(['json', 'xml'], { description: 'json or xml' }),
});

/** A reminder WeChat pushes on its own. */
export const PushBody = body({
  event: Type.Enum(['trade_manage_remind_access_api', 'trade_manage_remind_shipping'], {
    description: 'trade_manage_remind_access_api or trade_manage_remind_shipping',
  }),
  outTradeNo: Type.Optional(outTradeNo),
});

export const TradeManagedBody = body({ managed: Type.Boolean({ description: 'true or false' }) });

export const SubscriptionsBody = body({
  openid,
  templateIds: Type.Array(matching('^[A-Za-z0-9_-]+$', 128, 'a template id'), {
    minItems: 1,
    maxItems: 3,
    description: '1 to 3 template ids (wx.requestSubscribeMessage takes at most 3)',
  }),
});

export const MessagesQuery = Type.Object({ openid: Type.Optional(openid) });

export const PhoneCodeBody = body({
  openid,
  phoneNumber: Type.Optional(matching('^[0-9]{5,20}$', 20, '5 to 20 digits')),
});
