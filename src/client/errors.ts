/** The errors the client library raises: the server's coded errors and its own. */
import { isRetryableStatus } from './retry.js';

/** Codes the client raises itself; every other code is the server's (docs/http-api.md). */
export type ClientErrorCode =
  /** No answer from the server (offline, timeout, DNS): safe to retry the same call. */
  | 'NETWORK_ERROR'
  /** The server answered something that is not minipay's API (wrong baseUrl, a proxy page). */
  | 'BAD_RESPONSE'
  /** `wx.login` failed, so there is no code to log in with. */
  | 'LOGIN_FAILED'
  /** `wx.requestPayment` failed for a reason other than the user cancelling. */
  | 'PAYMENT_FAILED'
  /** The order cannot be paid (FAILED or no payment parameters). */
  | 'NOT_PAYABLE'
  /** `confirmReceipt` on a platform without `openBusinessView` (an H5 build without a sandbox). */
  | 'UNSUPPORTED'
  /** WeChat's receipt page (`wx.openBusinessView`) did not open. */
  | 'CONFIRM_RECEIPT_FAILED';

/** An error with a stable machine-readable `code`; `message` is for people. */
export class MinipayError extends Error {
  override readonly name = 'MinipayError';
  /** The server's `error.code` (e.g. `ORDER_NOT_PENDING`) or a ClientErrorCode. */
  readonly code: string;
  /** HTTP status of the server's answer; 0 when there was none. */
  readonly status: number;
  /** The server's `x-request-id`, to quote when reporting a problem. */
  readonly requestId: string | undefined;
  /** The platform's `errMsg` when a wx call failed (e.g. `requestPayment:fail ...`). */
  readonly errMsg: string | undefined;
  /** How long the server asked to wait before trying again (its `Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    details: {
      status?: number;
      requestId?: string;
      errMsg?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status ?? 0;
    this.requestId = details.requestId;
    this.errMsg = details.errMsg;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A platform API (wx.login, wx.request, wx.requestPayment) called its `fail` callback. */
export class PlatformCallError extends Error {
  override readonly name = 'PlatformCallError';
  constructor(
    /** The platform's errMsg, e.g. `requestPayment:fail cancel`. */
    readonly errMsg: string,
  ) {
    super(errMsg);
  }
}

/** The errMsg of `wx.requestPayment` when the user closed the payment sheet. */
export const PAYMENT_CANCEL_ERRMSG = 'requestPayment:fail cancel';

/** True when a requestPayment failure means the user cancelled (not an error). */
export function isUserCancel(errMsg: string): boolean {
  return errMsg.trim() === PAYMENT_CANCEL_ERRMSG;
}

/**
 * True when the failed call may be sent again unchanged, and a checkout must be sent again
 * with the SAME Idempotency-Key: there was no answer, the first attempt is still running
 * (`IDEMPOTENCY_IN_PROGRESS`), or the server was busy or failing. Either of those may have
 * made the order, so a new key could make a second one.
 */
export function isSafeToRetry(err: unknown): boolean {
  if (!(err instanceof MinipayError)) return false;
  if (err.code === 'NETWORK_ERROR') return true;
  return err.status > 0 && isRetryableStatus(err.status, err.code);
}
