import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { SETTING_VARIABLES, settingAdvice } from '../../src/app/setting-advice.js';
import { V3_VARIABLES } from '../../src/app/wechatpay-v3-config.js';
import { toGatewayError } from '../../src/payments/gateway/wechatpay-v2-gateway.js';
import {
  errCodeError,
  returnFailError,
  WECHATPAY_SETTINGS,
  WechatPayError,
} from '../../src/wechatpay/index.js';
import { errorFromAnswer } from '../../src/wechatpay/v3/index.js';

const LIVE = {
  MINIPAY_APPID: 'wx0123456789abcdef',
  MINIPAY_APPSECRET: 'appsecret0123456789abcdef',
  MINIPAY_MCHID: '1900000109',
  MINIPAY_MCH_KEY: 'k'.repeat(32),
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('setting advice: protocol settings → environment variables', () => {
  test('every protocol setting is mapped, to variables the configuration really reads', () => {
    assert.deepEqual(Object.keys(SETTING_VARIABLES).sort(), [...WECHATPAY_SETTINGS].sort());
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const variable of Object.values(SETTING_VARIABLES).flat()) {
      // The APIv3 variables (WeChat Pay's public key among them) are read on APIv3 only.
      const v3 =
        V3_VARIABLES.includes(variable as never) ||
        variable.startsWith('MINIPAY_WECHATPAY_PUBLIC_KEY_');
      const api = v3 ? 'v3' : 'v2';
      const refused = problems({
        ...LIVE,
        MINIPAY_WECHATPAY_API: api,
        [variable]: 'not a valid value',
      });
      assert.ok(
        refused.some((p) => p.startsWith(variable)),
        `${variable} is read and checked by loadConfig: ${refused.join('; ')}`,
      );
      assert.match(
        docs,
        new RegExp(`\\| \`${variable}\` `),
        `docs/configuration.md lists ${variable}`,
      );
    }
  });

  test('errors of the merchant setup become the variables to check', () => {
    assert.equal(
      settingAdvice(errCodeError('/pay/orderquery', 'SIGNERROR')),
      'check MINIPAY_MCH_KEY and MINIPAY_SIGN_TYPE',
    );
    assert.equal(
      settingAdvice(errCodeError('/pay/unifiedorder', 'APPID_MCHID_NOT_MATCH')),
      'check MINIPAY_APPID and MINIPAY_MCHID',
    );
    const login = new WechatPayError('config', '40125', 'code2Session: 40125', {
      settings: ['appSecret'],
    });
    assert.equal(settingAdvice(login), 'check MINIPAY_APPSECRET');
  });

  test('the domain’s wrapper is seen through (the WechatPayError is its cause)', () => {
    const wrapped = new Error('unifiedorder refused', {
      cause: errCodeError('/pay/unifiedorder', 'MCHID_NOT_EXIST'),
    });
    assert.equal(settingAdvice(wrapped), 'check MINIPAY_MCHID');
  });

  test('a setting minipay has no variable for is said plainly', () => {
    assert.equal(
      settingAdvice(returnFailError('/secapi/pay/refund', '证书错误')),
      'check MINIPAY_APPID and MINIPAY_MCHID, and the merchant API client certificate, which minipay cannot be given yet',
    );
  });

  test('errors that blame no setting give no advice', () => {
    assert.equal(settingAdvice(errCodeError('/pay/closeorder', 'ORDERPAID')), undefined);
    assert.equal(settingAdvice(new Error('boom')), undefined);
    assert.equal(settingAdvice('not an error'), undefined);
  });
});

describe('APIv3 refusals name the APIv3 variables', () => {
  test('SIGN_ERROR: the private key and its serial; APPID_MCHID_NOT_MATCH: the ids', () => {
    const sign = errorFromAnswer(
      'POST /v3/pay/transactions/jsapi',
      401,
      { code: 'SIGN_ERROR', message: '签名错误' },
      { verified: true },
    );
    assert.equal(
      settingAdvice(toGatewayError(sign)),
      'check MINIPAY_MCH_PRIVATE_KEY_FILE and MINIPAY_MCH_CERT_SERIAL',
    );
    const ids = errorFromAnswer('x', 400, { code: 'APPID_MCHID_NOT_MATCH' }, {});
    assert.equal(settingAdvice(ids), 'check MINIPAY_APPID and MINIPAY_MCHID');
    const business = errorFromAnswer('x', 403, { code: 'ORDERPAID' }, {});
    assert.equal(settingAdvice(business), undefined);
  });
});
