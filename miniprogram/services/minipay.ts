/**
 * The shop's one minipay client. With `config.sandbox` set (a demo server), logging in and
 * paying are played by the sandbox, and a modal stands in for WeChat's payment sheet;
 * otherwise the real wx.login and wx.requestPayment are used.
 */
import { config } from '../config';
import { createMinipayClient, fromWx, type Platform, sandboxed } from '../lib/minipay';

/** The sandbox's payment sheet: the user pays or cancels. */
function askToPay(): Promise<'pay' | 'cancel'> {
  return new Promise((resolve) => {
    wx.showModal({
      title: 'Sandbox payment',
      content: 'Pay this order in the minipay sandbox? No real money moves.',
      confirmText: 'Pay',
      cancelText: 'Cancel',
      success: (res) => resolve(res.confirm ? 'pay' : 'cancel'),
      fail: () => resolve('cancel'),
    });
  });
}

function platform(): Platform {
  const native = fromWx(wx);
  if (!config.sandbox) return native;
  return sandboxed(native, {
    sandboxUrl: config.sandbox.url,
    appId: config.sandbox.appId,
    payer: askToPay,
  });
}

export const minipay = createMinipayClient({ baseUrl: config.baseUrl, platform: platform() });
