/**
 * A `wx` for Node tests and the browser demo, backed by minipay's sandbox: `login` asks the
 * sandbox for a one-time code (POST /sandbox/v1/login-code), `requestPayment` pays as the
 * user (POST /sandbox/v1/pay, which checks paySign as WeChat does), `openBusinessView`
 * (`weappOrderConfirm`) confirms receipt as the buyer (POST /sandbox/v1/confirm-receipt),
 * `request` and `uploadFile` use fetch (`uploadFile` reads files with `readFile`) and storage
 * is in memory. It implements the parts of `wx` that `fromWx` uses:
 *
 * ```ts
 * const wx = createSandboxWx({ sandboxUrl: sandbox.url, appId: sandbox.credentials.appId });
 * const client = createMinipayClient({ baseUrl, platform: fromWx(wx) });
 * ```
 */
import type { WxApi } from './adapters.js';
import type { RequestPaymentParams } from './platform.js';

/** What the user does on the payment sheet. */
export type PayerChoice =
  /** Pays (the default). */
  | 'pay'
  /** Closes the sheet: `requestPayment:fail cancel`, nothing reaches WeChat. */
  | 'cancel'
  /**
   * Pays with a sandbox outcome: `PAYERROR` fails the payment (the bank refused; the order stays
   * payable); `notify: false` pays without a notification.
   */
  | { result?: 'SUCCESS' | 'PAYERROR'; notify?: boolean };

export interface SandboxWxOptions {
  /** The sandbox's base URL (`sandbox.url`). */
  sandboxUrl: string;
  /** This mini program's AppID: WeChat's client adds it to the signed fields by itself. */
  appId: string;
  /** The user; when absent the first `login` makes a new one and keeps it. */
  openid?: string;
  /** Decides each payment as the user would; default: always pay. */
  payer?: (params: RequestPaymentParams) => PayerChoice | Promise<PayerChoice>;
  /** In WeChat's receipt page: confirm (the default) or go back without confirming. */
  receipt?: () => 'confirm' | 'cancel' | Promise<'confirm' | 'cancel'>;
  /** The fetch used by `wx.request` (wrap it to simulate a bad network); default global fetch. */
  fetch?: typeof fetch;
  /**
   * The bytes behind a temporary file path (what `chooseAvatar` gave), for `wx.uploadFile`;
   * without it uploads fail as on a phone without the file.
   */
  readFile?: (filePath: string) => Promise<Uint8Array>;
}

export interface SandboxWx extends WxApi {
  /** The user this "phone" is logged in as (after the first login, or as configured). */
  readonly openid: string | undefined;
  /** The in-memory storage behind get/set/removeStorageSync. */
  readonly storage: Map<string, string>;
}

interface Callbacks<T> {
  success?: (res: T) => void;
  fail?: (err: { errMsg: string }) => void;
  complete?: (res: T | { errMsg: string }) => void;
}

/** The fields of wx.request's success result that a shim can honestly fill. */
interface RequestResult {
  statusCode: number;
  data: string | Record<string, unknown>;
  header: Record<string, string>;
  errMsg: string;
}

interface RequestOptions extends Callbacks<RequestResult> {
  url: string;
  method?: string;
  header?: Record<string, string>;
  data?: unknown;
  timeout?: number;
  dataType?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function createSandboxWx(options: SandboxWxOptions): SandboxWx {
  const sandboxUrl = options.sandboxUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const storage = new Map<string, string>();
  let openid = options.openid;

  const sandboxPost = async (path: string, body: unknown) => {
    const res = await fetch(sandboxUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const data = (await res.json()) as Record<string, unknown> & {
      error?: { code: string; message: string };
    };
    if (!res.ok) throw new Error(`${data.error?.code ?? res.status}: ${data.error?.message}`);
    return data;
  };

  const settle = <T>(cb: Callbacks<T>, work: () => Promise<T>, api: string) => {
    work().then(
      (res) => {
        cb.success?.(res);
        cb.complete?.(res);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const errMsg = message.startsWith(`${api}:fail`) ? message : `${api}:fail ${message}`;
        cb.fail?.({ errMsg });
        cb.complete?.({ errMsg });
      },
    );
  };

  const login = (cb: Callbacks<{ code: string; errMsg: string }>) =>
    settle(
      cb,
      async () => {
        const issued = await sandboxPost('/sandbox/v1/login-code', openid ? { openid } : {});
        openid = String(issued.openid);
        return { code: String(issued.code), errMsg: 'login:ok' };
      },
      'login',
    );

  const requestPayment = (cb: RequestPaymentParams & Callbacks<{ errMsg: string }>) =>
    settle(
      cb,
      async () => {
        const params: RequestPaymentParams = {
          timeStamp: cb.timeStamp,
          nonceStr: cb.nonceStr,
          package: cb.package,
          signType: cb.signType,
          paySign: cb.paySign,
        };
        const choice = (await options.payer?.(params)) ?? 'pay';
        if (choice === 'cancel') throw new Error('requestPayment:fail cancel');
        if (!openid) throw new Error('no user is logged in on this wx: call wx.login first');
        const outcome = choice === 'pay' ? {} : choice;
        await sandboxPost('/sandbox/v1/pay', {
          openid,
          appId: options.appId,
          ...params,
          ...outcome,
        });
        return { errMsg: 'requestPayment:ok' };
      },
      'requestPayment',
    );

  const openBusinessView = (
    cb: { businessType: string; extraData: Record<string, string> } & Callbacks<{ errMsg: string }>,
  ) =>
    settle(
      cb,
      async () => {
        if (cb.businessType !== 'weappOrderConfirm') {
          throw new Error(`the sandbox plays weappOrderConfirm only, not ${cb.businessType}`);
        }
        if ((await options.receipt?.()) === 'cancel')
          throw new Error('openBusinessView:fail cancel');
        const { transaction_id: transactionId, merchant_trade_no: outTradeNo } = cb.extraData;
        await sandboxPost(
          '/sandbox/v1/confirm-receipt',
          transactionId ? { transactionId } : { outTradeNo },
        );
        return { errMsg: 'openBusinessView:ok' };
      },
      'openBusinessView',
    );

  /** The user accepts every template offered (the sandbox records one message each). */
  const requestSubscribeMessage = (cb: { tmplIds: string[] } & Callbacks<Record<string, string>>) =>
    settle(
      cb,
      async () => {
        if (!openid) throw new Error('no user is logged in on this wx: call wx.login first');
        await sandboxPost('/sandbox/v1/subscriptions', { openid, templateIds: cb.tmplIds });
        return {
          errMsg: 'requestSubscribeMessage:ok',
          ...Object.fromEntries(cb.tmplIds.map((id) => [id, 'accept'])),
        };
      },
      'requestSubscribeMessage',
    );

  /** `wx.uploadFile`: multipart/form-data, the file under `name`; `data` is the answer's text. */
  const uploadFile = (
    cb: {
      url: string;
      filePath: string;
      name: string;
      header?: Record<string, string>;
      timeout?: number;
    } & Callbacks<{ statusCode: number; data: string; errMsg: string }>,
  ) => {
    settle(
      cb,
      async () => {
        if (!options.readFile) throw new Error(`no such file ${cb.filePath}`);
        const form = new FormData();
        const bytes = await options.readFile(cb.filePath);
        form.append(
          cb.name,
          new Blob([bytes as Uint8Array<ArrayBuffer>]),
          cb.filePath.split('/').pop(),
        );
        const res = await doFetch(cb.url, {
          method: 'POST',
          headers: cb.header,
          body: form,
          signal: AbortSignal.timeout(cb.timeout ?? DEFAULT_TIMEOUT_MS),
        });
        return { statusCode: res.status, data: await res.text(), errMsg: 'uploadFile:ok' };
      },
      'uploadFile',
    );
    return { abort: () => undefined };
  };

  const request = (cb: RequestOptions) => {
    settle(cb, () => fetchAsWx(doFetch, cb), 'request');
    return { abort: () => undefined };
  };

  const shim = {
    login,
    requestPayment,
    openBusinessView,
    requestSubscribeMessage,
    request,
    uploadFile,
    getStorageSync: (key: string) => storage.get(key) ?? '',
    setStorageSync: (key: string, value: unknown) => {
      storage.set(key, String(value));
    },
    removeStorageSync: (key: string) => {
      storage.delete(key);
    },
    storage,
    get openid() {
      return openid;
    },
  };
  return shim as unknown as SandboxWx;
}

/** `wx.request` over fetch: JSON bodies, GET data as a query, any HTTP status is a success. */
async function fetchAsWx(doFetch: typeof fetch, cb: RequestOptions): Promise<RequestResult> {
  const method = (cb.method ?? 'GET').toUpperCase();
  const header: Record<string, string> = { ...cb.header };
  let url = cb.url;
  let body: string | undefined;
  if (cb.data !== undefined && method === 'GET') {
    const query = new URLSearchParams(cb.data as Record<string, string>).toString();
    if (query) url += (url.includes('?') ? '&' : '?') + query;
  } else if (cb.data !== undefined) {
    body = typeof cb.data === 'string' ? cb.data : JSON.stringify(cb.data);
    if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) {
      header['content-type'] = 'application/json';
    }
  }
  let res: Response;
  try {
    res = await doFetch(url, {
      method,
      headers: header,
      body,
      signal: AbortSignal.timeout(cb.timeout ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new Error(name === 'TimeoutError' ? 'timeout' : (err as Error).message);
  }
  const text = await res.text();
  let data: string | Record<string, unknown> = text;
  if (cb.dataType !== 'text') {
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch {
      data = text;
    }
  }
  return {
    statusCode: res.status,
    data,
    header: Object.fromEntries(res.headers.entries()),
    errMsg: 'request:ok',
  };
}
