/**
 * Runs a real mini program (or a Taro / uni-app build) against minipay's sandbox instead of
 * WeChat: `login`, `requestPayment` and `openBusinessView` (the buyer confirming receipt) go to
 * the sandbox's user-side endpoints over the platform's own `request`; everything else is the
 * platform's. Real `wx.login` codes only work
 * with WeChat, and a sandbox prepay_id only works with the sandbox, so a demo needs both sides
 * played by the sandbox.
 *
 * ```ts
 * const platform = sandboxed(fromWx(wx), { sandboxUrl, appId, payer: askWithModal });
 * ```
 *
 * In a browser (an H5 build) the sandbox's own cashier page can be the payment sheet instead:
 * `cashier` shows it (in a frame) and reports what the user did there.
 */
import { PAYMENT_CANCEL_ERRMSG, PlatformCallError } from './errors.js';
import type { Platform, PlatformResponse, RequestPaymentParams } from './platform.js';

export interface SandboxedOptions {
  /** The sandbox's base URL, e.g. `http://127.0.0.1:8091`. */
  sandboxUrl: string;
  /** The mini program's AppID the server signs for (the sandbox demo's by default in demos). */
  appId: string;
  /** Plays the payment sheet: pay or cancel. Default: pay. */
  payer?: (params: RequestPaymentParams) => Promise<'pay' | 'cancel'>;
  /**
   * Shows the sandbox's cashier page at `url` (built here from the payment parameters and the
   * user) and resolves with the errMsg it reports (`requestPayment:ok`, `requestPayment:fail
   * cancel`, ...). The cashier pays by itself, so `payer` is not asked. The page posts that
   * errMsg to its parent frame (see docs/sandbox.md).
   */
  cashier?: (url: string) => Promise<string>;
}

/** Where the sandbox user's openid is kept, so the same "user" comes back after a restart. */
export const SANDBOX_OPENID_KEY = 'minipay.sandbox.openid';

export function sandboxed(platform: Platform, options: SandboxedOptions): Platform {
  const sandboxUrl = options.sandboxUrl.replace(/\/+$/, '');
  const post = async (path: string, data: unknown, api: string): Promise<PlatformResponse> => {
    let res: PlatformResponse;
    try {
      res = await platform.request({
        url: sandboxUrl + path,
        method: 'POST',
        header: { 'Content-Type': 'application/json' },
        data,
        timeoutMs: 15_000,
      });
    } catch (err) {
      const errMsg = err instanceof PlatformCallError ? err.errMsg : String(err);
      throw new PlatformCallError(`${api}:fail ${errMsg}`);
    }
    if (res.statusCode !== 200) {
      const error = (res.data as { error?: { code?: string; message?: string } }).error;
      throw new PlatformCallError(
        `${api}:fail ${error?.code ?? `HTTP ${res.statusCode}`}: ${error?.message ?? 'the sandbox refused'}`,
      );
    }
    return res;
  };

  /** The cashier page pays (or not) by itself and reports the errMsg requestPayment gives. */
  const inCashier = async (
    cashier: (url: string) => Promise<string>,
    params: RequestPaymentParams,
  ): Promise<void> => {
    const openid = platform.storage.get(SANDBOX_OPENID_KEY);
    if (!openid) throw new PlatformCallError('requestPayment:fail log in first');
    const query = queryOf({ appId: options.appId, ...params, openid });
    const errMsg = await cashier(`${sandboxUrl}/sandbox/v1/cashier?${query}`);
    if (errMsg === 'requestPayment:ok') return;
    throw new PlatformCallError(
      errMsg.startsWith('requestPayment:fail') ? errMsg : `requestPayment:fail ${errMsg}`,
    );
  };

  return {
    ...platform,
    login: async () => {
      const openid = platform.storage.get(SANDBOX_OPENID_KEY);
      const res = await post('/sandbox/v1/login-code', openid ? { openid } : {}, 'login');
      const issued = res.data as { code: string; openid: string };
      platform.storage.set(SANDBOX_OPENID_KEY, issued.openid);
      return issued.code;
    },
    requestPayment: async (params) => {
      if (options.cashier) return inCashier(options.cashier, params);
      const choice = (await options.payer?.(params)) ?? 'pay';
      if (choice === 'cancel') throw new PlatformCallError(PAYMENT_CANCEL_ERRMSG);
      const openid = platform.storage.get(SANDBOX_OPENID_KEY);
      if (!openid) throw new PlatformCallError('requestPayment:fail log in first');
      await post('/sandbox/v1/pay', { openid, appId: options.appId, ...params }, 'requestPayment');
    },
    openBusinessView: async (view) => {
      const transactionId = view.extraData.transaction_id;
      if (view.businessType !== 'weappOrderConfirm' || !transactionId) {
        throw new PlatformCallError(
          'openBusinessView:fail the sandbox plays weappOrderConfirm only',
        );
      }
      await post('/sandbox/v1/confirm-receipt', { transactionId }, 'openBusinessView');
    },
  };
}

/** `a=1&b=2` without URLSearchParams, which mini program runtimes lack. */
function queryOf(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}
