/**
 * The one place where the protocol layer's settings (`WechatPayError.settings`, named after
 * its options: appId, mchId, apiKey, ...) become this application's configuration: the
 * environment variables src/app/config.ts reads (docs/configuration.md). The protocol layer is
 * usable without minipay's server, so it never spells them itself.
 */
import { WechatPayError, type WechatPaySetting } from '../wechatpay/index.js';

/** The variables behind each setting; none where minipay cannot be configured with it. */
export const SETTING_VARIABLES: Readonly<Record<WechatPaySetting, readonly string[]>> = {
  appId: ['MINIPAY_APPID'],
  appSecret: ['MINIPAY_APPSECRET'],
  mchId: ['MINIPAY_MCHID'],
  apiKey: ['MINIPAY_MCH_KEY'],
  signType: ['MINIPAY_SIGN_TYPE'],
  // The client certificate of /secapi/pay/refund: minipay's server has no setting for it yet.
  clientCertificate: [],
  baseUrl: ['MINIPAY_WECHATPAY_BASE_URL'],
  backupBaseUrl: ['MINIPAY_WECHATPAY_BACKUP_BASE_URL'],
  privateKey: ['MINIPAY_MCH_PRIVATE_KEY_FILE'],
  serialNo: ['MINIPAY_MCH_CERT_SERIAL'],
  // Absent both, minipay verifies with the platform certificates it downloads.
  platformKey: ['MINIPAY_WECHATPAY_PUBLIC_KEY_FILE', 'MINIPAY_WECHATPAY_PUBLIC_KEY_ID'],
};

/**
 * What to check for `err` (a `WechatPayError`, or any error caused by one, such as the
 * domain's GatewayError), e.g. "check MINIPAY_MCH_KEY and MINIPAY_SIGN_TYPE"; undefined when
 * no setting explains it.
 */
export function settingAdvice(err: unknown): string | undefined {
  const settings = blamedSettings(err);
  if (settings.length === 0) return undefined;
  const variables = settings.flatMap((s) => SETTING_VARIABLES[s]);
  const parts = variables.length > 0 ? [joinAnd(variables)] : [];
  if (settings.some((s) => SETTING_VARIABLES[s].length === 0)) {
    parts.push('the merchant API client certificate, which minipay cannot be given yet');
  }
  return `check ${parts.join(', and ')}`;
}

/** The settings named by the first WechatPayError in `err`'s cause chain. */
function blamedSettings(err: unknown): readonly WechatPaySetting[] {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof WechatPayError) return e.settings;
  }
  return [];
}

function joinAnd(words: readonly string[]): string {
  return words.length <= 1
    ? words.join('')
    : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
