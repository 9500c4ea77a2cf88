/**
 * The merchant identity the sandbox plays WeChat for: one mini program (AppID + AppSecret)
 * bound to one merchant (mch_id, APIv2 key and APIv3 key).
 */

/** The secrets a mini program merchant gets from WeChat (the v3 RSA keys are in v3-platform.ts). */
export interface Credentials {
  /** Mini program AppID, `wx` + 16 hex digits. */
  appId: string;
  /** Mini program AppSecret (jscode2session `secret`). */
  appSecret: string;
  /** WeChat Pay merchant number (商户号). */
  mchId: string;
  /** WeChat Pay APIv2 key (32 characters), signs every v2 message. */
  mchKey: string;
  /** WeChat Pay APIv3 key (32 characters), encrypts v3 notification resources and certificates. */
  apiV3Key: string;
}

/**
 * Credentials the sandbox uses when given none. Public on purpose: they only ever work
 * against a sandbox, and a merchant server in demo mode uses the same values.
 */
export const DEMO_CREDENTIALS: Readonly<Credentials> = Object.freeze({
  appId: 'wx5a5db0c000000001',
  appSecret: 'minipaysandboxdemoappsecret00001',
  mchId: '1900000109',
  mchKey: 'minipaysandboxdemomchkey00000001',
  apiV3Key: 'minipaysandboxdemoapiv3key000001',
});

const APP_ID = /^wx[0-9a-f]{16}$/;
const MCH_ID = /^[0-9]{8,10}$/;
const MCH_KEY = /^[0-9A-Za-z]{32}$/;
const APP_SECRET = /^[0-9A-Za-z]{16,64}$/;

/** Merges `overrides` into the demo credentials; throws a message naming the bad value. */
export function resolveCredentials(overrides: Partial<Credentials> = {}): Credentials {
  const c: Credentials = { ...DEMO_CREDENTIALS };
  for (const [name, value] of Object.entries(overrides) as [keyof Credentials, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEMO_CREDENTIALS)) throw new TypeError(`unknown credential "${name}"`);
    if (typeof value !== 'string') throw new TypeError(`credential ${name} must be a string`);
    c[name] = value;
  }
  check(APP_ID, c.appId, 'appId must be "wx" followed by 16 lower-case hex digits');
  check(APP_SECRET, c.appSecret, 'appSecret must be 16 to 64 letters or digits');
  check(MCH_ID, c.mchId, 'mchId must be 8 to 10 digits');
  check(MCH_KEY, c.mchKey, 'mchKey (the APIv2 key) must be exactly 32 letters or digits');
  check(MCH_KEY, c.apiV3Key, 'apiV3Key (the APIv3 key) must be exactly 32 letters or digits');
  return c;
}

function check(pattern: RegExp, value: string, message: string): void {
  if (!pattern.test(value)) throw new TypeError(message);
}
