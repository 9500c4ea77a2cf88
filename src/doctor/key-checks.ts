/**
 * The keys and certificates given, checked offline before any call: today the APIv2 key.
 * APIv3's (the merchant private key against its certificate's public key, the platform
 * certificates or public key) belong here as further checks.
 */
import { type Check, fail, pass } from './check.js';

const V2_KEY = /^[0-9A-Za-z]{32}$/;

/** What the v2 checks say of a shop on APIv3 alone (its keys were checked by the configuration). */
export const V3_ONLY =
  'skipped: no APIv2 key, the shop is on APIv3 alone (its keys were checked when the configuration was read; doctor has no APIv3 call yet)';

export const v2KeyCheck: Check = {
  name: 'APIv2 key',
  async run({ merchant }) {
    if (merchant.mchKey === undefined) return pass(V3_ONLY);
    const { length } = merchant.mchKey;
    if (!V2_KEY.test(merchant.mchKey)) {
      return fail(
        `MINIPAY_MCH_KEY has ${length} characters; an APIv2 key is 32 letters and digits: copy it again from the merchant platform (账户中心 → API安全 → APIv2密钥)`,
      );
    }
    return pass('32 letters and digits (whether WeChat Pay accepts it is the next check)');
  },
};

/** Offline key checks, in the order printed. */
export const keyChecks: Check[] = [v2KeyCheck];
