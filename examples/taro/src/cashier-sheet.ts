/**
 * H5 only: the sandbox's cashier page, in a frame over the app, stands in for WeChat's payment
 * sheet. It pays (or not) by itself and posts the errMsg `requestPayment` would give.
 */
const CASHIER_MESSAGE = 'minipay-sandbox:requestPayment';

export function openCashier(url: string): Promise<string> {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.id = 'minipay-cashier';
    frame.title = 'WeChat Pay (sandbox)';
    frame.src = url;
    frame.style.cssText =
      'position:fixed;inset:0;width:100%;height:100%;border:0;z-index:10000;background:#fff';
    const origin = new URL(url, window.location.href).origin;
    const listen = (event: MessageEvent) => {
      const data = event.data as { type?: unknown; errMsg?: unknown } | null;
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      if (data?.type !== CASHIER_MESSAGE || typeof data.errMsg !== 'string') return;
      window.removeEventListener('message', listen);
      frame.remove();
      resolve(data.errMsg);
    };
    window.addEventListener('message', listen);
    document.body.appendChild(frame);
  });
}
