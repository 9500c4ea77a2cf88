/**
 * The keys given, checked offline before any call: the APIv2 key. APIv3's pieces are checked
 * when the configuration is read (src/app/wechatpay-v3-config.ts), against WeChat in
 * wechat-v3-checks.ts.
 */
import { type Check, fail, pass } from './check.js';

const V2_KEY = /^[0-9A-Za-z]{32}$/;

export const v2KeyCheck: Check = {
  name: 'APIv2 key',
  // On APIv3 alone there is none; the APIv3 keys are checked when the configuration is read.
  applies: ({ merchant }) => merchant.mchKey !== undefined,
  async run({ merchant }) {
    const key = merchant.mchKey!;
    const { length } = key;
    if (!V2_KEY.test(key)) {
      return fail(
        `MINIPAY_MCH_KEY has ${length} characters; an APIv2 key is 32 letters and digits: copy it again from the merchant platform (账户中心 → API安全 → APIv2密钥)`,
      );
    }
    return pass('32 letters and digits (whether WeChat Pay accepts it is the next check)');
  },
};

/** Offline key checks, in the order printed. */
export const keyChecks: Check[] = [v2KeyCheck];
