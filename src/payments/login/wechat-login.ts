/**
 * The domain's WechatLogin over the protocol layer's code2Session: WeChat's "bad code" answers
 * become LoginCodeRejected (the user should call wx.login again); anything else propagates as
 * "WeChat unavailable".
 */

import {
  type Code2SessionOptions,
  code2Session,
  type FailoverEvent,
  loginFailover,
  WechatPayError,
} from '../../wechatpay/index.js';
import { LoginCodeRejected, type WechatLogin } from './login-service.js';

export interface WechatLoginOptions extends Code2SessionOptions {
  /** Called when a login moved to the backup domain (a metric). */
  onFailover?: (event: FailoverEvent) => void;
}

export function wechatLogin(options: WechatLoginOptions): WechatLogin {
  // One failover for every login, so the backup stays first for a while after a failover.
  const callOptions = { ...options, failover: loginFailover(options, options.onFailover) };
  return {
    async code2Session(code) {
      try {
        return await code2Session(callOptions, code);
      } catch (err) {
        if (err instanceof WechatPayError && err.kind === 'rejected') {
          throw new LoginCodeRejected(err.message);
        }
        throw err;
      }
    },
  };
}
