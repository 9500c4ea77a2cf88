/**
 * The demo "phone": minipay's client library (src/client, as the real mini program uses it)
 * on a `wx` played by the sandbox. `wx.login` and the network are src/client/sandbox-wx.ts;
 * `wx.requestPayment` opens the sandbox's own cashier page in a sheet and reports what the
 * user chose there, as WeChat's payment sheet does; `wx.openBusinessView` (weappOrderConfirm)
 * confirms receipt as the buyer.
 */
import {
  createMinipayClient,
  fromWx,
  type MinipayClient,
  type RequestPaymentParams,
  type WxApi,
} from '../../src/client/index.js';
import { createSandboxWx } from '../../src/client/sandbox-wx.js';

/** What the server says about the demo (GET /demo/config.json). */
export interface DemoConfig {
  mode: 'demo' | 'live';
  appId?: string;
  /** Path under which the sandbox's user-side endpoints are forwarded (`/demo`). */
  sandboxBase?: string;
}

/** Shows the cashier at `url` and resolves with the errMsg it reports. */
export type OpenCashier = (url: string) => Promise<string>;

/** The message the sandbox cashier posts to its parent frame. */
export const CASHIER_MESSAGE = 'minipay-sandbox:requestPayment';

const OPENID_KEY = 'minipay.demo.openid';

export interface DemoPhone {
  client: MinipayClient;
  /** The sandbox user this phone plays (after the first login). */
  openid(): string | undefined;
  /** Forget the user: the next login makes a new one. */
  reset(): void;
}

export async function loadDemoConfig(): Promise<DemoConfig> {
  const res = await fetch('/demo/config.json');
  if (!res.ok) throw new Error(`GET /demo/config.json: HTTP ${res.status}`);
  return (await res.json()) as DemoConfig;
}

export function createDemoPhone(config: DemoConfig, openCashier: OpenCashier): DemoPhone {
  if (config.mode !== 'demo' || !config.appId || !config.sandboxBase) {
    throw new Error('the demo needs minipay in demo mode (no merchant credentials)');
  }
  const origin = window.location.origin;
  const remembered = window.localStorage.getItem(OPENID_KEY) ?? undefined;
  const sandboxWx = createSandboxWx({
    sandboxUrl: origin + config.sandboxBase,
    appId: config.appId,
    openid: remembered,
  });
  const cashierBase = `${origin}${config.sandboxBase}/sandbox/v1/cashier`;
  const appId = config.appId;

  const requestPayment = (
    options: RequestPaymentParams & {
      success?: (res: { errMsg: string }) => void;
      fail?: (err: { errMsg: string }) => void;
    },
  ) => {
    const openid = sandboxWx.openid;
    if (!openid) {
      options.fail?.({ errMsg: 'requestPayment:fail log in first' });
      return;
    }
    const query = new URLSearchParams({
      appId,
      timeStamp: options.timeStamp,
      nonceStr: options.nonceStr,
      package: options.package,
      signType: options.signType,
      paySign: options.paySign,
      openid,
    });
    openCashier(`${cashierBase}?${query}`).then(
      (errMsg) =>
        errMsg === 'requestPayment:ok'
          ? options.success?.({ errMsg })
          : options.fail?.({
              errMsg: errMsg.startsWith('requestPayment:fail')
                ? errMsg
                : `requestPayment:fail ${errMsg}`,
            }),
      (err: unknown) => options.fail?.({ errMsg: `requestPayment:fail ${String(err)}` }),
    );
  };

  const login: WxApi['login'] = (options) =>
    sandboxWx.login({
      ...options,
      success: (res) => {
        if (sandboxWx.openid) window.localStorage.setItem(OPENID_KEY, sandboxWx.openid);
        options?.success?.(res);
      },
    });

  const wx = {
    login,
    request: sandboxWx.request,
    requestPayment,
    // WeChat's receipt page: the sandbox confirms receipt as the buyer.
    openBusinessView: sandboxWx.openBusinessView,
    getStorageSync: sandboxWx.getStorageSync,
    setStorageSync: sandboxWx.setStorageSync,
    removeStorageSync: sandboxWx.removeStorageSync,
  } as unknown as WxApi;

  const client = createMinipayClient({
    baseUrl: origin,
    platform: fromWx(wx),
    // The sandbox notifies at once: a few quick checks are enough to see PAID.
    confirm: { attempts: 5, intervalMs: 600 },
  });
  return {
    client,
    openid: () => sandboxWx.openid,
    reset() {
      window.localStorage.removeItem(OPENID_KEY);
      void client.logout().finally(() => window.location.reload());
    },
  };
}

/**
 * Waits for the cashier frame's verdict: only a message from this origin (the forwarded
 * sandbox) with the cashier's type counts.
 */
export function cashierVerdict(frame: () => Window | null | undefined): Promise<string> {
  return new Promise((resolve) => {
    const listen = (event: MessageEvent) => {
      const data = event.data as { type?: unknown; errMsg?: unknown } | null;
      if (event.origin !== window.location.origin || event.source !== frame()) return;
      if (!data || data.type !== CASHIER_MESSAGE || typeof data.errMsg !== 'string') return;
      window.removeEventListener('message', listen);
      resolve(data.errMsg);
    };
    window.addEventListener('message', listen);
  });
}
