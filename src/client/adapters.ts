/// <reference path="../../node_modules/miniprogram-api-typings/types/wx/lib.wx.api.d.ts" />
/**
 * Platform adapters: the native `wx` object, Taro and uni-app. The platform object is passed
 * in (never read from a global), so the same library runs in a mini program, under Taro or
 * uni-app, and in Node tests with a shim. All three share WeChat's callback style
 * (`success` / `fail` with an `errMsg`), which is what these adapters use.
 */
import { PlatformCallError } from './errors.js';
import type {
  BusinessView,
  Platform,
  PlatformRequest,
  PlatformResponse,
  PlatformUpload,
  RequestPaymentParams,
} from './platform.js';

type Fail = (err: { errMsg: string }) => void;

/** The part of `wx` the client uses, typed by miniprogram-api-typings. */
export type WxApi = Pick<
  WechatMiniprogram.Wx,
  'login' | 'request' | 'requestPayment' | 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'
> & {
  openBusinessView?: CallbackApi['openBusinessView'];
  requestSubscribeMessage?: CallbackApi['requestSubscribeMessage'];
  uploadFile?: CallbackApi['uploadFile'];
};

/**
 * The same calls on Taro (`import Taro from '@tarojs/taro'`) or uni-app (`uni`): they take
 * wx's options plus, on uni-app, a `provider`. Method syntax keeps this compatible with their
 * own, slightly different, typings.
 */
export interface CallbackApi {
  login(options: {
    provider?: string;
    success?: (res: { code: string }) => void;
    fail?: Fail;
  }): unknown;
  request(options: {
    url: string;
    method?: WechatMiniprogram.RequestOption['method'];
    header?: Record<string, string>;
    data?: WechatMiniprogram.RequestOption['data'];
    timeout?: number;
    dataType?: string;
    success?: (res: { statusCode: number; data: unknown; header: object }) => void;
    fail?: Fail;
  }): unknown;
  requestPayment(
    options: RequestPaymentParams & { provider?: string; success?: () => void; fail?: Fail },
  ): unknown;
  /** WeChat's own pages (receipt confirmation); absent on platforms without them. */
  openBusinessView?(options: {
    businessType: string;
    extraData: Record<string, string>;
    success?: () => void;
    fail?: Fail;
  }): unknown;
  /** Subscribe message consent; absent on platforms without it. */
  requestSubscribeMessage?(options: {
    tmplIds: string[];
    success?: (res: Record<string, string>) => void;
    fail?: Fail;
  }): unknown;
  /** A local file to the server as multipart/form-data; `data` is the answer's text. */
  uploadFile?(options: {
    url: string;
    filePath: string;
    name: string;
    header?: Record<string, string>;
    timeout?: number;
    success?: (res: { statusCode: number; data: string }) => void;
    fail?: Fail;
  }): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, data: string): unknown;
  removeStorageSync(key: string): unknown;
}

/** The native mini program API: `createMinipayClient({ platform: fromWx(wx), ... })`. */
export function fromWx(wx: WxApi): Platform {
  return fromCallbackApi(wx as unknown as CallbackApi, {});
}

/** Taro: `fromTaro(Taro)` with `import Taro from '@tarojs/taro'`. */
export function fromTaro(taro: CallbackApi): Platform {
  return fromCallbackApi(taro, {});
}

/** uni-app: `fromUni(uni)`; logs in with provider `weixin` and pays with `wxpay`. */
export function fromUni(uni: CallbackApi): Platform {
  return fromCallbackApi(uni, { loginProvider: 'weixin', paymentProvider: 'wxpay' });
}

interface Providers {
  loginProvider?: string;
  paymentProvider?: string;
}

function failed(reject: (e: unknown) => void): Fail {
  return (err) => reject(new PlatformCallError(err?.errMsg ?? 'fail (no errMsg)'));
}

/** What every call needs; login and requestPayment may be left to `sandboxed` (H5 demos). */
const REQUIRED = ['request', 'getStorageSync', 'setStorageSync', 'removeStorageSync'] as const;

function fromCallbackApi(api: CallbackApi, providers: Providers): Platform {
  const missing = REQUIRED.filter((name) => typeof api?.[name] !== 'function');
  if (missing.length > 0) {
    // Taro's and uni-app's H5 builds link each API by name (`Taro.request` becomes an import),
    // so the bare object has none of them there.
    throw new TypeError(
      `the platform object has no ${missing.join(', ')}: pass the APIs by name, e.g. ` +
        'fromTaro({ request: Taro.request, ... }) (docs/client.md)',
    );
  }
  return {
    login: () =>
      new Promise((resolve, reject) => {
        api.login({
          ...(providers.loginProvider ? { provider: providers.loginProvider } : {}),
          success: (res) => resolve(res.code),
          fail: failed(reject),
        });
      }),
    requestPayment: (params) =>
      new Promise((resolve, reject) => {
        api.requestPayment({
          ...(providers.paymentProvider ? { provider: providers.paymentProvider } : {}),
          timeStamp: params.timeStamp,
          nonceStr: params.nonceStr,
          package: params.package,
          signType: params.signType,
          paySign: params.paySign,
          success: () => resolve(),
          fail: failed(reject),
        });
      }),
    request: (request) => callRequest(api, request),
    ...(typeof api.openBusinessView === 'function' && {
      openBusinessView: (view: BusinessView) =>
        new Promise<void>((resolve, reject) => {
          api.openBusinessView!({
            businessType: view.businessType,
            extraData: view.extraData,
            success: () => resolve(),
            fail: failed(reject),
          });
        }),
    }),
    ...(typeof api.requestSubscribeMessage === 'function' && {
      requestSubscribeMessage: (templateIds: string[]) =>
        new Promise<Record<string, string>>((resolve, reject) => {
          api.requestSubscribeMessage!({
            tmplIds: templateIds,
            success: (res) => resolve(res),
            fail: failed(reject),
          });
        }),
    }),
    ...(typeof api.uploadFile === 'function' && {
      uploadFile: (upload: PlatformUpload) => callUploadFile(api, upload),
    }),
    storage: {
      get: (key) => {
        const value = api.getStorageSync(key);
        return typeof value === 'string' && value !== '' ? value : undefined;
      },
      set: (key, value) => {
        api.setStorageSync(key, value);
      },
      remove: (key) => {
        api.removeStorageSync(key);
      },
    },
  };
}

function callRequest(api: CallbackApi, request: PlatformRequest): Promise<PlatformResponse> {
  return new Promise((resolve, reject) => {
    api.request({
      url: request.url,
      method: request.method,
      header: request.header,
      ...(request.data === undefined
        ? {}
        : { data: request.data as WechatMiniprogram.RequestOption['data'] }),
      timeout: request.timeoutMs,
      dataType: 'json',
      success: (res) =>
        resolve({
          statusCode: res.statusCode,
          data: res.data,
          header: (res.header ?? {}) as Record<string, string>,
        }),
      fail: failed(reject),
    });
  });
}

function callUploadFile(api: CallbackApi, upload: PlatformUpload): Promise<PlatformResponse> {
  return new Promise((resolve, reject) => {
    api.uploadFile!({
      url: upload.url,
      filePath: upload.filePath,
      name: upload.name,
      header: upload.header,
      timeout: upload.timeoutMs,
      // wx.uploadFile hands back the body as text, whatever its type.
      success: (res) =>
        resolve({ statusCode: res.statusCode, data: parseJson(res.data), header: {} }),
      fail: failed(reject),
    });
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
