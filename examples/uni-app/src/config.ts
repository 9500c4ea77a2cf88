/**
 * Where the app finds minipay, fixed at build time from the environment (or a `.env` file,
 * see README.md):
 * - VITE_MINIPAY_URL: the minipay server; default: a demo server on this computer,
 *   http://127.0.0.1:8080. On H5 the app calls its own origin and the dev server forwards
 *   /api and /demo/sandbox there (in production, serve the H5 build from the server's host).
 * - VITE_MINIPAY_MODE: `live` against a server with real merchant credentials (real
 *   uni.login and payment sheet). Otherwise a demo server's sandbox plays WeChat: it is
 *   reached through the server's /demo forwarding, and signs for the demo AppID.
 */
export interface ShopConfig {
  baseUrl: string;
  sandbox: { url: string; appId: string } | null;
}

const DEMO_APP_ID = 'wx5a5db0c000000001';

function serverUrl(): string {
  // #ifdef H5
  return window.location.origin;
  // #endif
  // #ifndef H5
  const configured = import.meta.env.VITE_MINIPAY_URL as string | undefined;
  return (configured || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  // #endif
}

const baseUrl = serverUrl();

export const config: ShopConfig = {
  baseUrl,
  sandbox:
    import.meta.env.VITE_MINIPAY_MODE === 'live'
      ? null
      : { url: `${baseUrl}/demo`, appId: DEMO_APP_ID },
};
