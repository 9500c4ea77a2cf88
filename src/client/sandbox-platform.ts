/**
 * Runs a real mini program (or a Taro / uni-app build) against minipay's sandbox instead of
 * WeChat: `login` and `requestPayment` go to the sandbox's user-side endpoints over the
 * platform's own `request`; everything else is the platform's. Real `wx.login` codes only work
 * with WeChat, and a sandbox prepay_id only works with the sandbox, so a demo needs both sides
 * played by the sandbox.
 *
 * ```ts
 * const platform = sandboxed(fromWx(wx), { sandboxUrl, appId, payer: askWithModal });
 * ```
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
      const choice = (await options.payer?.(params)) ?? 'pay';
      if (choice === 'cancel') throw new PlatformCallError(PAYMENT_CANCEL_ERRMSG);
      const openid = platform.storage.get(SANDBOX_OPENID_KEY);
      if (!openid) throw new PlatformCallError('requestPayment:fail log in first');
      const res = await post(
        '/sandbox/v1/pay',
        { openid, appId: options.appId, ...params },
        'requestPayment',
      );
      const { tradeState } = res.data as { tradeState?: string };
      if (tradeState === 'PAYERROR') {
        throw new PlatformCallError('requestPayment:fail the bank refused the payment');
      }
    },
  };
}
