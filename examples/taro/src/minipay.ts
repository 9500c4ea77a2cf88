/**
 * The shop's one minipay client, on Taro's API (fromTaro). Against a demo server the sandbox
 * plays wx.login and the payment sheet: the sandbox's cashier page on H5, a modal in the mini
 * program. See config.ts.
 */
import Taro from '@tarojs/taro';
import { createMinipayClient, fromTaro, type Platform, sandboxed } from 'minipay/client';
import { openCashier } from './cashier-sheet';
import { config } from './config';

/** The mini program's stand-in for the sandbox payment sheet: pay or cancel. */
async function askToPay(): Promise<'pay' | 'cancel'> {
  const res = await Taro.showModal({
    title: 'Sandbox payment',
    content: 'Pay this order in the minipay sandbox? No real money moves.',
    confirmText: 'Pay',
    cancelText: 'Cancel',
  });
  return res.confirm ? 'pay' : 'cancel';
}

function platform(): Platform {
  // Each API by name: Taro's H5 build links `Taro.request` and the rest as named imports, so
  // the bare Taro object has none of them there. In a mini program both ways work.
  const taro = fromTaro({
    login: Taro.login,
    request: Taro.request,
    requestPayment: Taro.requestPayment,
    getStorageSync: Taro.getStorageSync,
    setStorageSync: Taro.setStorageSync,
    removeStorageSync: Taro.removeStorageSync,
  });
  if (!config.sandbox) return taro;
  const sheet = process.env.TARO_ENV === 'h5' ? { cashier: openCashier } : { payer: askToPay };
  return sandboxed(taro, { sandboxUrl: config.sandbox.url, appId: config.sandbox.appId, ...sheet });
}

export const minipay = createMinipayClient({ baseUrl: config.baseUrl, platform: platform() });
