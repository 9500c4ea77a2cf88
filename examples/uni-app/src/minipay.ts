/**
 * The shop's one minipay client, on uni-app's API (fromUni: provider `weixin` to log in,
 * `wxpay` to pay). Against a demo server the sandbox plays uni.login and the payment sheet:
 * the sandbox's cashier page on H5, a modal in the mini program. See config.ts.
 */
import { createMinipayClient, fromUni, type Platform, sandboxed } from 'minipay/client';
import { openCashier } from './cashier-sheet';
import { config } from './config';

/** The mini program's stand-in for the sandbox payment sheet: pay or cancel. */
function askToPay(): Promise<'pay' | 'cancel'> {
  return new Promise((resolve) => {
    uni.showModal({
      title: 'Sandbox payment',
      content: 'Pay this order in the minipay sandbox? No real money moves.',
      confirmText: 'Pay',
      cancelText: 'Cancel',
      success: (res) => resolve(res.confirm ? 'pay' : 'cancel'),
      fail: () => resolve('cancel'),
    });
  });
}

/** What plays the payment sheet: the cashier page in a browser, a modal in the mini program. */
function sheet(): Pick<Parameters<typeof sandboxed>[1], 'payer' | 'cashier'> {
  // #ifdef H5
  return { cashier: openCashier };
  // #endif
  // #ifndef H5
  return { payer: askToPay };
  // #endif
}

function platform(): Platform {
  // Each API by name: uni-app's H5 build links `uni.request` and the rest as named imports, so
  // the bare `uni` object lacks them there. In a mini program both ways work.
  const native = fromUni({
    login: uni.login,
    request: uni.request,
    requestPayment: uni.requestPayment,
    getStorageSync: uni.getStorageSync,
    setStorageSync: uni.setStorageSync,
    removeStorageSync: uni.removeStorageSync,
  });
  if (!config.sandbox) return native;
  return sandboxed(native, {
    sandboxUrl: config.sandbox.url,
    appId: config.sandbox.appId,
    ...sheet(),
  });
}

export const minipay = createMinipayClient({ baseUrl: config.baseUrl, platform: platform() });
