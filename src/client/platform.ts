/**
 * What the client library needs from the mini program platform. Adapters build it from the
 * injected `wx`, `Taro` or `uni` object (./adapters.ts); tests build it from a script.
 */
import type { PaySignType } from '../contract/statuses.js';

export type HttpMethod = 'GET' | 'POST';

export interface PlatformRequest {
  url: string;
  method: HttpMethod;
  header: Record<string, string>;
  /** A JSON-serialisable body (POST only). */
  data?: unknown;
  /** Give up after this many ms (the platform rejects with a `request:fail` errMsg). */
  timeoutMs: number;
}

export interface PlatformResponse {
  statusCode: number;
  /** The parsed JSON body (a string when the body was not JSON). */
  data: unknown;
  header: Record<string, string>;
}

/** `wx.uploadFile`: a local file (a temporary path) sent as multipart/form-data under `name`. */
export interface PlatformUpload {
  url: string;
  filePath: string;
  name: string;
  header: Record<string, string>;
  timeoutMs: number;
}

/** Exactly what `wx.requestPayment` takes: the server's signed parameters without `appId`. */
export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: PaySignType;
  paySign: string;
}

/** What `wx.openBusinessView` takes. */
export interface BusinessView {
  businessType: string;
  extraData: Record<string, string>;
}

export interface Platform {
  /** `wx.login`: a one-time code; rejects with a PlatformCallError. */
  login(): Promise<string>;
  /** `wx.requestPayment`: resolves on `requestPayment:ok`, rejects with a PlatformCallError. */
  requestPayment(params: RequestPaymentParams): Promise<void>;
  /** `wx.request`: resolves with any HTTP answer, rejects (PlatformCallError) with none. */
  request(request: PlatformRequest): Promise<PlatformResponse>;
  /**
   * `wx.openBusinessView`: opens one of WeChat's own pages (the buyer's receipt confirmation,
   * `weappOrderConfirm`); resolves when the user comes back. Optional: `confirmReceipt` needs it.
   */
  openBusinessView?(view: BusinessView): Promise<void>;
  /**
   * `wx.requestSubscribeMessage`: asks the user to accept these templates (at most 3); resolves
   * with each template's answer (`accept`, `reject`, `ban`, `filter`). Optional.
   */
  requestSubscribeMessage?(templateIds: string[]): Promise<Record<string, string>>;
  /**
   * `wx.uploadFile`: resolves with any HTTP answer (its body parsed as JSON when it is JSON),
   * rejects (PlatformCallError) with none. Optional: `uploadAvatar` needs it.
   */
  uploadFile?(upload: PlatformUpload): Promise<PlatformResponse>;
  /** Key-value storage that survives restarts of the mini program. */
  storage: {
    get(key: string): string | undefined;
    set(key: string, value: string): void;
    remove(key: string): void;
  };
}
