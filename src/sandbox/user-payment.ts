/**
 * The payer's side of `wx.requestPayment`: what WeChat checks before it lets a user pay a
 * prepay_id, and what paying does to the trade.
 *
 * The paySign check is the real one: the five signed fields (`appId`, `timeStamp`, `nonceStr`,
 * `package`, `signType`) are verified with the merchant's key and the trade's sign type, or
 * for an APIv3 trade (`signType: RSA`) the four of v3 with the merchant's public key, so a
 * wrong key, a changed package or a wrong appId are all refused.
 *
 * A mini program payment either succeeds or fails on the user's phone; the trade itself never
 * reads USERPAYING or PAYERROR (WeChat documents those for payment codes only): a failed
 * payment leaves it NOTPAY, payable again.
 */
import { type SignType, verifyV2 } from '../wechatpay/index.js';
import { verifyRequestPaymentV3 } from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import { transactionId } from './identifiers.js';
import type { TradeRow } from './state/trade-store.js';
import { currentTradeState } from './trades.js';
import { V3_SIGN_TYPE } from './v3-trades.js';

/** What the cashier (or a test) sends: the `wx.requestPayment` parameters plus the payer. */
export interface UserPaymentRequest {
  openid: string;
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
  /** How the payment ends: SUCCESS (default) or PAYERROR (the bank refused; the trade stays NOTPAY). */
  result?: 'SUCCESS' | 'PAYERROR';
  /** false: the payment succeeds but its notification is never sent. */
  notify?: boolean;
  /** `bank_type` of the payment, default OTHERS. */
  bankType?: string;
}

/** Why WeChat refused to let the user pay; `status` is the sandbox's HTTP status for it. */
export class UserPaymentError extends Error {
  override readonly name = 'UserPaymentError';
  constructor(
    readonly status: 400 | 402 | 403 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UserPaymentResult {
  outTradeNo: string;
  tradeState: 'SUCCESS';
  transactionId: string;
}

const SIGNED_FIELDS = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const;
const SIGN_TYPES = ['MD5', 'HMAC-SHA256', V3_SIGN_TYPE];
const PACKAGE_PREFIX = 'prepay_id=';
const BANK_TYPE = /^[A-Z0-9_]{1,32}$/;

/** Checks the parameters like WeChat's client would and pays; `onPaid` schedules the notify. */
export function payAsUser(
  core: SandboxCore,
  request: UserPaymentRequest,
  onPaid: (trade: TradeRow, notify: boolean) => void,
): UserPaymentResult {
  for (const name of ['openid', ...SIGNED_FIELDS] as const) {
    if (typeof request[name] !== 'string' || request[name] === '') {
      throw new UserPaymentError(
        400,
        'VALIDATION_FAILED',
        `${name} is missing: pass every wx.requestPayment parameter and the payer's openid`,
      );
    }
  }
  if (!SIGN_TYPES.includes(request.signType)) {
    throw new UserPaymentError(
      400,
      'INVALID_SIGN_TYPE',
      `signType must be MD5 or HMAC-SHA256 (APIv2 prepays) or RSA (APIv3 prepays); got ${JSON.stringify(request.signType.slice(0, 16))}`,
    );
  }
  if (request.appId !== core.credentials.appId) {
    throw new UserPaymentError(
      400,
      'APPID_MISMATCH',
      `appId ${JSON.stringify(request.appId.slice(0, 32))} is not this mini program (${core.credentials.appId}); sign the parameters with the AppID the prepay was made for`,
    );
  }
  if (!paySignVerifies(core, request)) {
    throw new UserPaymentError(
      400,
      'PAYSIGN_INVALID',
      request.signType === 'RSA'
        ? 'paySign does not verify: sign appId\\ntimeStamp\\nnonceStr\\npackage\\n with the merchant API private key (SHA256-RSA), and change nothing after signing'
        : 'paySign does not verify: sign appId, timeStamp, nonceStr, package and signType with the merchant API key, and change nothing after signing',
    );
  }
  if (!request.package.startsWith(PACKAGE_PREFIX)) {
    throw new UserPaymentError(
      400,
      'PACKAGE_INVALID',
      'package must be "prepay_id=" followed by the prepay_id from unifiedorder',
    );
  }
  const prepay = core.state.trades.prepay(request.package.slice(PACKAGE_PREFIX.length));
  if (!prepay || prepay.mch_id !== core.credentials.mchId) {
    throw new UserPaymentError(
      404,
      'PREPAY_NOT_FOUND',
      'no such prepay_id: call unifiedorder first and pass its prepay_id',
    );
  }
  const trade = core.state.trades.get(prepay.mch_id, prepay.out_trade_no)!;
  if (trade.sign_type !== request.signType) {
    throw new UserPaymentError(
      400,
      'SIGN_TYPE_MISMATCH',
      `signType must be the one unifiedorder was signed with (${trade.sign_type})`,
    );
  }
  if (request.openid !== trade.openid) {
    throw new UserPaymentError(
      403,
      'OPENID_MISMATCH',
      'this prepay was made for another user (the openid given to unifiedorder)',
    );
  }
  const state = currentTradeState(core, trade);
  if (state === 'SUCCESS' || state === 'REFUND') {
    throw new UserPaymentError(409, 'ORDER_PAID', 'this order is already paid');
  }
  if (state === 'CLOSED') {
    throw new UserPaymentError(
      409,
      'ORDER_CLOSED',
      'this order is closed (by closeorder or its time_expire); make a new order',
    );
  }
  const now = core.clock.now();
  if (now >= prepay.expires_at) {
    throw new UserPaymentError(
      409,
      'PREPAY_EXPIRED',
      'this prepay_id has expired (2 hours); call unifiedorder again with the same parameters for a fresh one',
    );
  }
  const result = request.result ?? 'SUCCESS';
  if (result === 'PAYERROR') {
    throw new UserPaymentError(
      402,
      'PAYMENT_FAILED',
      'the bank refused the payment (result PAYERROR); the trade stays NOTPAY and can be paid again',
    );
  }
  if (result !== 'SUCCESS') {
    throw new UserPaymentError(400, 'VALIDATION_FAILED', 'result must be SUCCESS or PAYERROR');
  }
  return complete(core, trade, request.notify !== false, onPaid, request.bankType);
}

/** v2: the merchant key with the sign type; v3 (RSA): the merchant's public key. */
function paySignVerifies(core: SandboxCore, request: UserPaymentRequest): boolean {
  if (request.signType === V3_SIGN_TYPE) {
    return verifyRequestPaymentV3(
      {
        appId: request.appId,
        timeStamp: request.timeStamp,
        nonceStr: request.nonceStr,
        package: request.package,
        signType: 'RSA',
        paySign: request.paySign,
      },
      core.v3.merchantKey,
    );
  }
  const signed = {
    appId: request.appId,
    timeStamp: request.timeStamp,
    nonceStr: request.nonceStr,
    package: request.package,
    signType: request.signType,
    sign: request.paySign,
  };
  return verifyV2(signed, core.credentials.mchKey, request.signType as SignType);
}

function complete(
  core: SandboxCore,
  trade: TradeRow,
  notify: boolean,
  onPaid: (trade: TradeRow, notify: boolean) => void,
  bankType = 'OTHERS',
): UserPaymentResult {
  if (!BANK_TYPE.test(bankType)) {
    throw new UserPaymentError(
      400,
      'VALIDATION_FAILED',
      'bankType must be up to 32 of A-Z 0-9 _ (e.g. OTHERS, CFT, ICBC_DEBIT)',
    );
  }
  const now = core.clock.now();
  const paid = {
    transaction_id: transactionId(now),
    paid_at: now,
    bank_type: bankType,
    is_subscribe: 'N',
  };
  const ok = core.state.tx(() => {
    if (
      !core.state.trades.transition(trade.mch_id, trade.out_trade_no, ['NOTPAY'], 'SUCCESS', paid)
    ) {
      return false;
    }
    onPaid({ ...trade, ...paid, state: 'SUCCESS' }, notify);
    return true;
  });
  if (!ok) throw new UserPaymentError(409, 'ORDER_PAID', 'this order is already paid');
  return {
    outTradeNo: trade.out_trade_no,
    tradeState: 'SUCCESS',
    transactionId: paid.transaction_id,
  };
}
