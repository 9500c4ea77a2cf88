/**
 * The domain's WechatLogin over the protocol layer's code2Session: WeChat's "bad code" answers
 * become LoginCodeRejected (the user should call wx.login again); anything else propagates as
 * "WeChat unavailable".
 */

import { type Code2SessionOptions, code2Session, WechatPayError } from '../../wechatpay/index.js';
import { LoginCodeRejected, type WechatLogin } from './login-service.js';

export function wechatLogin(options: Code2SessionOptions): WechatLogin {
  return {
    async code2Session(code) {
      try {
        return await code2Session(options, code);
      } catch (err) {
        if (err instanceof WechatPayError && err.kind === 'rejected') {
          throw new LoginCodeRejected(err.message);
        }
        throw err;
      }
    },
  };
}
