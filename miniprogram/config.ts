/**
 * Where the mini program finds minipay. Edit before opening the project in WeChat DevTools
 * (see README.md).
 */
export interface ShopConfig {
  /** The minipay server. Live: your HTTPS domain, listed as a request domain of the app. */
  baseUrl: string;
  /**
   * Demo only: the sandbox that plays WeChat for a demo server (`minipay start`), and the
   * AppID the server signs for. null against a live server: real wx.login and
   * wx.requestPayment are used.
   */
  sandbox: { url: string; appId: string } | null;
}

// A demo server on this computer (`minipay start`, default port 8080). Copy the two URLs from
// its banner: "Mini program API" (…/api/v1 may be left on) and "Sandbox (WeChat)" (a new port
// on every start).
export const config: ShopConfig = {
  baseUrl: 'http://127.0.0.1:8080',
  sandbox: { url: 'http://127.0.0.1:PORT-FROM-THE-BANNER', appId: 'wx5a5db0c000000001' },
};
